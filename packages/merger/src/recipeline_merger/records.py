"""Pure builders of what a merge records: failure records, the metrics line, the manifest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from recipeline_schema import (
    BatchManifest,
    BatchPlan,
    BatchPullRequest,
    Failure,
    FailureRecord,
    GenerationReport,
    MetricsLine,
    ValidationReport,
)

from .decision import GENERATION, MergeDecision, manifest_packages


def is_macos(environment: str) -> bool:
    return environment.startswith("darwin-")


def failure_records(decision: MergeDecision, *, now: dt.datetime) -> tuple[FailureRecord, ...]:
    """One record per environment that saw failures (``generation`` first); none when none failed."""
    by_environment: dict[str, list[Failure]] = {}
    for package in decision.packages:
        for ef in package.failures:
            by_environment.setdefault(ef.environment, []).append(ef.failure)
    order = sorted(by_environment, key=lambda env: (env != GENERATION, env))
    return tuple(
        FailureRecord(
            schema_version=1,
            ecosystem=decision.ecosystem,
            environment=env,
            batch_id=decision.batch_id,
            updated_at=now,
            failures=tuple(by_environment[env]),
        )
        for env in order
    )


def metrics_line(
    decision: MergeDecision,
    plan: BatchPlan,
    generation: GenerationReport,
    reports: Sequence[ValidationReport],
    *,
    now: dt.datetime,
) -> MetricsLine:
    """The batch's line of data/metrics/batch-runs.jsonl.

    ``duration_seconds`` is the batch's wall time (plan to merge); the minutes are the
    validation reports' measured durations, split by operating system.
    """
    total = len(decision.packages)
    merged = decision.count("merged")
    linux = sum(r.duration_seconds for r in reports if not is_macos(r.environment))
    macos = sum(r.duration_seconds for r in reports if is_macos(r.environment))
    return MetricsLine(
        batch_id=decision.batch_id,
        ecosystem=plan.ecosystem,
        total=total,
        generated=sum(1 for p in generation.packages if p.outcome == "generated"),
        failed=decision.count("failed"),
        blocked=decision.count("blocked"),
        validated_linux=sum(1 for p in decision.packages if any(not is_macos(e) for e in p.passed)),
        validated_macos=sum(1 for p in decision.packages if any(is_macos(e) for e in p.passed)),
        merged=merged,
        excluded=decision.count("excluded"),
        success_rate=round(merged / total, 4) if total else 0.0,
        used_disambiguation=sum(1 for p in generation.packages if p.override),
        duration_seconds=max(0.0, (now - plan.created_at).total_seconds()),
        macos_minutes=round(macos / 60, 2),
        linux_minutes=round(linux / 60, 2),
        timestamp=now,
        skipped=decision.count("skipped"),
    )


def build_manifest(
    plan: BatchPlan,
    decision: MergeDecision,
    *,
    recipe_sha256: Mapping[str, str],
    branch: str,
    failure_file: str | None,
    now: dt.datetime,
    pull_requests: tuple[BatchPullRequest, ...] = (),
) -> BatchManifest:
    """The batch manifest. It travels inside the batch commit, so it cannot name that commit
    (nor the PR opened from it): ``commit`` and ``pull_request`` stay empty; the branch and the
    commit trailer lead to both; ``pull_requests`` names the batch's PRs by their branches."""
    return BatchManifest(
        schema_version=1,
        batch_id=decision.batch_id,
        ecosystem=plan.ecosystem,
        created_at=plan.created_at,
        merged_at=now,
        branch=branch,
        packages=manifest_packages(decision, recipe_sha256),
        gates=decision.gates,
        failure_file=failure_file,
        auto_merge=decision.auto_merge,
        pull_requests=pull_requests,
    )


def released_metrics_line(batch_id: str, ecosystem: str, released: int, *, now: dt.datetime) -> MetricsLine:
    """The metrics line of a batch that died before it merged (reconcile released its entries):
    ``total`` and ``released`` are the entries it had selected, every other count is 0 (nothing
    of it was generated, validated or merged as far as the repository knows), ``success_rate``
    0, the durations and minutes 0 (unknown), ``timestamp`` the release. One line per batch
    with a selection, as for every other batch."""
    return MetricsLine(
        batch_id=batch_id,
        ecosystem=ecosystem,  # type: ignore[arg-type]
        total=released,
        generated=0,
        failed=0,
        blocked=0,
        validated_linux=0,
        validated_macos=0,
        merged=0,
        excluded=0,
        success_rate=0.0,
        used_disambiguation=0,
        duration_seconds=0.0,
        macos_minutes=0.0,
        linux_minutes=0.0,
        timestamp=now,
        released=released,
    )
