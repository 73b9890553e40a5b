"""The weekly macOS sweep: re-validate recently merged recipes, record regressions as failures.

``sweep_plan`` turns the manifests of batches merged in the last days into one directory per
batch (``<out>/<batch_id>/``, the batch directory contract: ``generation.json`` + recipes), with
the recipes as they are now on the default branch. The validator runs on each unchanged. Then
``sweep_record`` reads their results and writes the failures as failure records of the
original batch, environment by environment, so the dashboard shows a macOS regression like
any other failure. Recipes that are gone (rolled back) are left out.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

from recipeline_schema import (
    BatchDir,
    BatchManifest,
    FailureRecord,
    GeneratedPackage,
    GenerationReport,
    Layout,
    SchemaError,
    ValidationReport,
    append_jsonl,
    atomic_write_text,
    file_lock,
    load,
    save,
)

from .errors import MergerError


@dataclass(frozen=True, slots=True)
class SweepPlan:
    batches: tuple[str, ...]
    recipes: int

    def to_json(self) -> dict[str, object]:
        return {"batches": list(self.batches), "recipes": self.recipes}


def recent_manifests(layout: Layout, *, since: dt.datetime) -> list[BatchManifest]:
    """Manifests of batches merged at or after ``since`` (rollback records are not manifests)."""
    out = []
    for path in sorted(layout.batches_dir.glob("*-[0-9][0-9][0-9].json")):
        try:
            manifest = load(BatchManifest, path)
        except SchemaError as exc:
            raise MergerError(str(exc)) from None
        if manifest.merged_at >= since:
            out.append(manifest)
    return out


def sweep_plan(root: Path, out: Path, *, days: int, now: dt.datetime) -> SweepPlan:
    """Write one batch directory per recently merged batch under ``out``."""
    layout = Layout(root)
    batches, recipes = [], 0
    for manifest in recent_manifests(layout, since=now - dt.timedelta(days=days)):
        batch = BatchDir(out / manifest.batch_id)
        packages = []
        for package in manifest.packages:
            path = layout.root / package.recipe_path if package.recipe_path else None
            if package.outcome != "merged" or path is None or not path.is_file():
                continue
            atomic_write_text(batch.recipe(package.name), path.read_text(encoding="utf-8"))
            recipe = batch.recipe(package.name).relative_to(batch.path).as_posix()
            packages.append(
                GeneratedPackage(
                    package.name, package.package_id, package.resolved_source, "generated", recipe
                )
            )
        if packages:
            save(GenerationReport(1, manifest.batch_id, now, 0.0, tuple(packages)), batch.generation)
            batches.append(manifest.batch_id)
            recipes += len(packages)
    return SweepPlan(tuple(batches), recipes)


def regression_records(
    reports: list[tuple[str, ValidationReport]], *, now: dt.datetime
) -> dict[str, list[FailureRecord]]:
    """Failure records by ecosystem: one per (batch, environment) that has failures."""
    out: dict[str, list[FailureRecord]] = defaultdict(list)
    for ecosystem, report in reports:
        failures = tuple(
            replace(r.failure, message=f"macOS sweep regression: {r.failure.message}"[:500])
            for r in report.results
            if r.outcome == "fail" and r.failure is not None
        )
        if failures:
            record = FailureRecord(1, ecosystem, report.environment, report.batch_id, now, failures)  # type: ignore[arg-type]
            out[ecosystem].append(record)
    return dict(out)


def sweep_record(root: Path, sweep: Path, *, now: dt.datetime, lock_timeout: float = 10.0) -> dict[str, int]:
    """Record the failures of every ``<sweep>/**/results/*.json``; returns failures per ecosystem."""
    layout = Layout(root)
    reports: list[tuple[str, ValidationReport]] = []
    for path in sorted(sweep.glob("**/results/*.json")):
        try:
            report = load(ValidationReport, path)
            manifest = load(BatchManifest, layout.manifest(report.batch_id))
        except SchemaError as exc:
            raise MergerError(str(exc)) from None
        reports.append((manifest.ecosystem, report))
    records = regression_records(reports, now=now)
    with file_lock(layout.lock, timeout=lock_timeout, what="data/failures (macOS sweep)"):
        for ecosystem, lines in records.items():
            path = layout.failure_file(ecosystem, now)
            if path.exists():
                raise MergerError(f"{path}: exists already; sweep results are recorded once")
            append_jsonl(lines, path)
    return {eco: sum(len(r.failures) for r in lines) for eco, lines in records.items()}
