"""merge: a validated batch directory -> a batch branch and the pipeline's state updates.

Everything that can be refused is decided before the first write. Then, under the writer
lock, each write is atomic and each is skipped when a previous, interrupted merge of the same
batch already made it, so a re-run after a kill completes the batch without recording
anything twice:
1. the failure file (found again by its batch id);
2. the branch ``batch/<id>``: one commit on HEAD with the recipes that need no review, the
   manifest and the failure file, built on a temporary index (replaced when an interrupted
   merge left one); and, when some recipes need review, ``batch/<id>-review`` likewise with
   those recipes (its PR is never auto-merged, so they never hold back the rest);
3. the metrics line (skipped when the file already has the batch's line);
4. the queue (only entries still ``in_progress`` in this batch change);
5. the PR bodies and the PRs (pushed and opened with a token; nothing here waits for checks:
   ``finish`` and reconcile do, after the state is recorded), then the manifest last: its
   existence marks the batch merged, and a second merge of the same batch is refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recipeline_schema import (
    ECOSYSTEMS,
    BatchDir,
    BatchManifest,
    BatchPlan,
    BatchPullRequest,
    BreakerState,
    DataFileError,
    GenerationReport,
    Layout,
    MetricsLine,
    PullRequestRef,
    ValidationReport,
    append_jsonl,
    atomic_write_text,
    decode,
    dumps,
    file_lock,
    format_file_time,
    load,
    read_curated,
    recipe_from_toml,
    save,
    sha256_text,
    write_jsonl,
)

from .breaker import breaker_transition, outcomes_of
from .budget import add_minutes
from .constraints import with_constraints
from .control import stop_reason
from .decision import MergeDecision, PackageDecision, decide
from .errors import AlreadyMergedError, BatchDirError, GitError, QueueMismatchError, StoppedError
from .gitrepo import batch_branch, commit_on_branch, git, paths_in_tree, resolve_commit
from .messages import commit_message, pr_body, pr_title
from .names import NameClaims, claims
from .preflight import DEFAULT_LOCK_TIMEOUT
from .pullrequest import PullRequestPublisher, PullRequestRequest, default_publisher
from .queue_updates import apply_decision
from .recipe_verify import with_verify
from .records import build_manifest, failure_records, metrics_line
from .state import load_control, load_queue

LABELS = ("recipes", "batch")
REVIEW_LABELS = ("recipes", "batch", "needs-review")
_FAILURE_FILE_SLOTS = 60


@dataclass(frozen=True, slots=True)
class MergeResult:
    decision: MergeDecision
    manifest: Path
    branch: str | None
    commit: str | None
    failure_file: Path | None
    pr_body: Path | None
    pull_request: PullRequestRef | None
    notes: tuple[str, ...] = ()
    breaker: str | None = None  # the ecosystem's breaker after this batch (None: not moved again)
    review_branch: str | None = None  # batch/<id>-review, when some recipes need review
    review_commit: str | None = None
    review_pull_request: PullRequestRef | None = None

    def to_json(self) -> dict[str, Any]:
        d = self.decision
        return {
            "batch_id": d.batch_id,
            "ecosystem": d.ecosystem,
            "total": len(d.packages),
            **{o: d.count(o) for o in ("merged", "excluded", "failed", "blocked", "skipped")},
            "branch": self.branch,
            "commit": self.commit,
            "auto_merge": d.auto_merge,
            "gates": {g.name: g.passed for g in d.gates},
            "manifest": str(self.manifest),
            "failure_file": str(self.failure_file) if self.failure_file else None,
            "pr_body": str(self.pr_body) if self.pr_body else None,
            "pull_request": self.pull_request.url if self.pull_request else None,
            "review": len(d.review_recipes),
            "review_branch": self.review_branch,
            "review_commit": self.review_commit,
            "review_pull_request": self.review_pull_request.url if self.review_pull_request else None,
            "breaker": self.breaker,
        }


@dataclass(frozen=True, slots=True)
class BatchInputs:
    """The batch directory's files, read and checked."""

    plan: BatchPlan
    generation: GenerationReport
    reports: tuple[ValidationReport, ...]


def read_batch_dir(batch_dir: BatchDir) -> BatchInputs:
    """The plan, the generation report and every ``results/*.json`` (named by environment)."""
    plan = load(BatchPlan, batch_dir.plan)
    generation = load(GenerationReport, batch_dir.generation)
    reports = []
    files = sorted(batch_dir.results_dir.glob("*.json")) if batch_dir.results_dir.is_dir() else []
    for path in files:
        report = load(ValidationReport, path)
        if report.environment != path.stem:
            raise DataFileError(path, "$.environment", f"{path.stem!r} (the file's name)", report.environment)
        reports.append(report)
    return BatchInputs(plan, generation, tuple(reports))


def merge(
    root: Path,
    batch_dir: Path,
    *,
    now: dt.datetime,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    publisher: PullRequestPublisher | None = None,
) -> MergeResult:
    """Merge the batch in ``batch_dir`` into the repository at ``root`` (see the module doc)."""
    layout = Layout(Path(root))
    bdir = BatchDir(Path(batch_dir))
    inputs = read_batch_dir(bdir)
    plan = inputs.plan
    _refuse_merged(layout, plan.batch_id)
    reason = stop_reason(load_control(layout, now=now), plan.ecosystem)
    if reason is not None:
        raise StoppedError(f"{layout.control}: {reason}")
    with file_lock(layout.lock, timeout=lock_timeout, what=f"batch {plan.batch_id} (merge)"):
        _refuse_merged(layout, plan.batch_id)
        # decided under the lock: the other queues' claims on names cannot change meanwhile
        base = _base_commit(layout.root)
        publisher = publisher or default_publisher(layout)
        decision = decide(
            plan,
            inputs.generation,
            inputs.reports,
            names=_name_claims(layout, plan.ecosystem, base),
            checks_on_github=publisher.remote,
        )
        # the recipe as merged: the generator's text with the platform constraints its results justify
        # and the verify the validation found the tool answers (only [verify] is rewritten)
        proposed = (*decision.batch_recipes, *decision.review_recipes)
        recipes = {
            p.package_id: with_verify(with_constraints(_read_recipe(bdir, p), p.constraints), p.verify)
            for p in proposed
        }
        pulls = _pull_requests(decision)

        queue = load_queue(layout, plan.ecosystem)
        if queue is None:
            raise QueueMismatchError(f"{layout.queue(plan.ecosystem)}: no queue holds batch {plan.batch_id}")
        updated_queue = apply_decision(queue, decision, now=now)

        failure_path = _write_failures(layout, decision, plan, now=now)
        failure_rel = _relative(layout, failure_path) if failure_path else None
        manifest = build_manifest(
            plan,
            decision,
            recipe_sha256={pid: sha256_text(text) for pid, text in recipes.items()},
            branch=batch_branch(plan.batch_id) if decision.batch_recipes else "",
            failure_file=failure_rel,
            now=now,
            pull_requests=tuple(pr for pr, _ in pulls),
        )
        manifest_text = _checked_manifest_text(manifest, layout.manifest(plan.batch_id))

        commits: dict[str, str] = {}
        for pr, packages in pulls:
            # each PR's commit holds its recipes, the manifest and the failure file (identical
            # bytes in both commits and in the state commit, so the squash merges never conflict)
            files = {p.recipe_path: recipes[p.package_id].encode("utf-8") for p in packages}
            files[_relative(layout, layout.manifest(plan.batch_id))] = manifest_text.encode("utf-8")
            if failure_path is not None and failure_rel is not None:
                files[failure_rel] = failure_path.read_bytes()
            message = commit_message(decision, failure_file=failure_rel, review=pr.kind == "review")
            commits[pr.kind] = commit_on_branch(
                layout.root, base=base, branch=pr.branch, files=files, message=message
            )

        breaker_state = None
        if not has_metrics(layout.metrics, plan.batch_id, plan.ecosystem):
            line = metrics_line(decision, plan, inputs.generation, inputs.reports, now=now)
            # The breaker and the budget move before the metrics line; a re-run skips both once
            # the line exists, and skips the control update when the breaker names this batch.
            breaker_state = _update_control(layout, decision, line, now=now)
            append_jsonl([line], layout.metrics)
        if updated_queue is not queue:
            save(updated_queue, layout.queue(plan.ecosystem))

        published: dict[str, PullRequestRef | None] = {}
        bodies: dict[str, Path] = {}
        notes: list[str] = []
        for pr, _ in pulls:
            review = pr.kind == "review"
            body = pr_body(decision, failure_file=failure_rel, review=review)
            bodies[pr.kind] = bdir.path / ("review-pr-body.md" if review else "pr-body.md")
            atomic_write_text(bodies[pr.kind], body)
            request = PullRequestRequest(
                batch_id=plan.batch_id,
                branch=pr.branch,
                base=_current_branch(layout.root),
                title=pr.title,
                body=body,
                squash_message=commit_message(decision, failure_file=failure_rel, review=review),
                labels=REVIEW_LABELS if review else LABELS,
                auto_merge=pr.auto_merge,
                kind=pr.kind,
                gates=pr.gates,
            )
            published[pr.kind] = publisher.publish(request)
            if publisher.note:
                notes.append(publisher.note)
        save(manifest, layout.manifest(plan.batch_id))

    return MergeResult(
        decision=decision,
        manifest=layout.manifest(plan.batch_id),
        branch=batch_branch(plan.batch_id) if "batch" in commits else None,
        commit=commits.get("batch"),
        failure_file=failure_path,
        pr_body=bodies.get("batch"),
        pull_request=published.get("batch"),
        notes=tuple(notes),
        breaker=breaker_state,
        review_branch=batch_branch(plan.batch_id, review=True) if "review" in commits else None,
        review_commit=commits.get("review"),
        review_pull_request=published.get("review"),
    )


def _pull_requests(decision: MergeDecision) -> list[tuple[BatchPullRequest, tuple[PackageDecision, ...]]]:
    """The batch's PRs and their packages: the batch PR (the recipes that need no review; it
    may auto-merge) and the review PR (never auto-merged); each only when it has recipes."""
    out = []
    for review, packages in ((False, decision.batch_recipes), (True, decision.review_recipes)):
        if not packages:
            continue
        pr = BatchPullRequest(
            kind="review" if review else "batch",
            branch=batch_branch(decision.batch_id, review=review),
            title=pr_title(decision, review=review),
            auto_merge=False if review else decision.auto_merge,
            gates=decision.review_gates if review else decision.gates,
            recipes=tuple(p.recipe_path for p in packages),
        )
        out.append((pr, packages))
    return out


def _update_control(layout: Layout, decision: MergeDecision, line: MetricsLine, *, now: dt.datetime) -> str:
    """Move the ecosystem's breaker by the batch's outcomes and add its measured minutes."""
    control = load_control(layout, now=now)
    eco = decision.ecosystem
    current = control.circuit_breaker.get(eco) or BreakerState()
    if current.last_batch == decision.batch_id:
        return current.state  # an interrupted merge of this batch moved it already
    breaker = dataclasses.replace(
        breaker_transition(current, outcomes_of(decision.packages), now), last_batch=decision.batch_id
    )
    budget = add_minutes(control.budget, linux=line.linux_minutes, macos=line.macos_minutes, now=now)
    save(
        dataclasses.replace(
            control, circuit_breaker={**control.circuit_breaker, eco: breaker}, budget=budget
        ),
        layout.control,
    )
    return breaker.state


def _name_claims(layout: Layout, ecosystem: str, base: str) -> NameClaims:
    """Who else holds recipe names: the base commit's recipes, the other queues, the curated file."""
    others = (load_queue(layout, eco) for eco in ECOSYSTEMS if eco != ecosystem)
    return claims(
        ecosystem,
        (q for q in others if q is not None),
        recipes=paths_in_tree(layout.root, base, "recipes"),
        curated=read_curated(layout.curated),
    )


def _refuse_merged(layout: Layout, batch_id: str) -> None:
    path = layout.manifest(batch_id)
    if path.exists():
        raise AlreadyMergedError(
            f"batch {batch_id} was merged already ({path} exists); merging it again would record "
            "its failures and metrics twice"
        )


def _base_commit(root: Path) -> str:
    """HEAD of the repository whose top level is ``root``."""
    top = Path(git(root, "rev-parse", "--show-toplevel").strip())
    if top.resolve() != root.resolve():
        raise GitError(f"{root} is inside the git repository {top}; --repo must be its top level")
    return resolve_commit(root, "HEAD")


def _current_branch(root: Path) -> str:
    try:
        return git(root, "symbolic-ref", "-q", "--short", "HEAD").strip()
    except GitError:
        return "main"  # a detached HEAD (CI checkouts): the PR targets the default branch


def _read_recipe(bdir: BatchDir, package: PackageDecision) -> str:
    """The recipe text the generator wrote for ``package``, checked to be a recipe of that name."""
    path = bdir.path / package.batch_recipe if package.batch_recipe else bdir.recipe(package.name)
    if not path.resolve().is_relative_to(bdir.path.resolve()):
        raise BatchDirError(
            f"generation.json: recipe of {package.package_id} ({path}) is outside {bdir.path}"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BatchDirError(f"{path}: the recipe of {package.package_id} is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchDirError(f"{path}: cannot read the recipe of {package.package_id}: {exc}") from None
    recipe = recipe_from_toml(text, str(path))
    if recipe.name != package.name:
        raise BatchDirError(
            f"{path}: metadata.name is {recipe.name!r}, expected {package.name!r} (the queue entry's name)"
        )
    return text


def _write_failures(
    layout: Layout, decision: MergeDecision, plan: BatchPlan, *, now: dt.datetime
) -> Path | None:
    """Write the batch's failure file unless an interrupted merge did; its path, or ``None``."""
    records = failure_records(decision, now=now)
    if not records:
        return None
    existing = _find_failure_file(layout, plan)
    if existing is not None:
        return existing
    # File names have one-second resolution: a batch of the same ecosystem merged in the same
    # second already took the name, so take the next free second instead of overwriting it.
    for offset in range(_FAILURE_FILE_SLOTS):
        path = layout.failure_file(plan.ecosystem, now + dt.timedelta(seconds=offset))
        if not path.exists():
            write_jsonl(records, path)
            return path
    raise BatchDirError(f"{layout.failures_dir}: no free failure file name within a minute of {now}")


def _find_failure_file(layout: Layout, plan: BatchPlan) -> Path | None:
    """The failure file an earlier merge of this batch wrote (named at or after the plan's time)."""
    if not layout.failures_dir.is_dir():
        return None
    prefix = f"{plan.ecosystem}-"
    since = format_file_time(plan.created_at)
    for path in sorted(layout.failures_dir.glob(f"{prefix}*.jsonl")):
        if path.name[len(prefix) : -len(".jsonl")] < since:
            continue
        first = path.read_text(encoding="utf-8").split("\n", 1)[0]
        try:
            if json.loads(first).get("batch_id") == plan.batch_id:
                return path
        except (ValueError, AttributeError):
            continue  # not ours to judge; the dashboard reports malformed files
    return None


def has_metrics(path: Path, batch_id: str, ecosystem: str) -> bool:
    """Whether batch-runs.jsonl already holds this batch's line (lines it cannot read are skipped)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    for line in text.splitlines():
        if batch_id not in line:
            continue
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and data.get("batch_id") == batch_id and data.get("ecosystem") == ecosystem:
            return True
    return False


def _checked_manifest_text(manifest: BatchManifest, path: Path) -> str:
    """The manifest's bytes exactly as ``save`` writes them, validated against its schema."""
    text = dumps(manifest)
    decode(BatchManifest, json.loads(text), path)
    return text


def _relative(layout: Layout, path: Path) -> str:
    return path.relative_to(layout.root).as_posix()
