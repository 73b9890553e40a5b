"""The ``generate`` stage over a batch directory: plan in, recipes and generation report out."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from recipeline_schema import (
    BatchDir,
    BatchPlan,
    Disambiguation,
    Failure,
    GeneratedPackage,
    GenerationReport,
    InvalidValueError,
    Layout,
    PlannedPackage,
    atomic_write_text,
    check_name,
    curated_by_tool,
    load,
    read_curated,
    recipe_to_toml,
    save,
)

from .builder import BuilderRegistry
from .recipe_index import UsesRecipeIndex, read_recipe_index
from .routing import route


def generate_package(
    planned: PlannedPackage,
    curated: Mapping[str, Disambiguation],
    builders: BuilderRegistry,
    batch: BatchDir,
) -> GeneratedPackage:
    """Route, build and write one planned package; the outcome is never an exception."""
    target = route(planned, curated, builders)
    skipped = GeneratedPackage(
        name=planned.name,
        package_id=planned.package_id,
        resolved_source=target.resolved_source,
        outcome="skipped",
        override=target.override,
        reason=target.skip,
    )
    path = batch.recipe(planned.name)
    if target.source is None:
        _remove_stale(path)
        return skipped
    builder = builders.get(target.source.ecosystem)
    assert builder is not None  # route() checked it
    result = builder.generate(target.source.identifier, name=planned.name)
    if isinstance(result, Failure):
        _remove_stale(path)
        # one key everywhere (ARCHITECTURE §3.1): the queue entry's source, even after an override
        failure = dataclasses.replace(result, package_id=planned.package_id)
        return dataclasses.replace(skipped, outcome="failed", reason=failure.message, failure=failure)
    atomic_write_text(path, recipe_to_toml(result))
    return dataclasses.replace(skipped, outcome="generated", recipe=path.relative_to(batch.path).as_posix())


def _remove_stale(path: Path) -> None:
    """A re-run must not leave the recipe of an earlier run beside a failed outcome."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _unusable_name(planned: PlannedPackage) -> str | None:
    try:
        check_name(planned.name)
    except InvalidValueError as exc:
        return f"name cannot be a recipe file: {exc}"
    return None


def generate_batch(
    batch_dir: Path,
    repo: Path,
    builders: BuilderRegistry,
    *,
    now: Callable[[], dt.datetime],
    monotonic: Callable[[], float] = time.monotonic,
    progress: Callable[[GeneratedPackage], None] = lambda _p: None,
) -> GenerationReport:
    """Generate every package of the batch plan and write ``generation.json``; return the report.

    One ``GeneratedPackage`` per planned package, in plan order. A name seen twice (case-
    insensitively: recipe files must not collide on macOS) is skipped after its first occurrence.
    After each package the report so far is written with ``complete`` false, so a validator
    following the batch (``validate --follow``) starts on the first recipes while the rest are
    generated; the last write has ``complete`` true.
    """
    started = monotonic()
    batch = BatchDir(batch_dir)
    plan = load(BatchPlan, batch.plan)
    curated = curated_by_tool(read_curated(Layout(repo).curated))
    # dependency checks (Homebrew's missing_dep) compare against the recipes the repository has
    recipes = read_recipe_index(Layout(repo).recipes_dir)
    for ecosystem in builders.ecosystems:
        builder: object = builders.get(ecosystem)  # an optional capability beyond the Builder protocol
        if isinstance(builder, UsesRecipeIndex):
            builder.use_recipes(recipes)
    seen: set[str] = set()
    packages = []
    for planned in plan.packages:
        reason = _unusable_name(planned)
        if reason is None and planned.name.lower() in seen:
            reason = "duplicate name in the batch plan (an earlier entry has it)"
        if reason is not None:
            result = GeneratedPackage(
                planned.name, planned.package_id, planned.package_id, "skipped", reason=reason
            )
        else:
            seen.add(planned.name.lower())
            result = generate_package(planned, curated, builders, batch)
        progress(result)
        packages.append(result)
        if len(packages) < len(plan.packages):
            save(_report(plan, packages, now(), monotonic() - started, complete=False), batch.generation)
    report = _report(plan, packages, now(), monotonic() - started, complete=True)
    save(report, batch.generation)
    return report


def _report(
    plan: BatchPlan, packages: list[GeneratedPackage], when: dt.datetime, seconds: float, *, complete: bool
) -> GenerationReport:
    return GenerationReport(
        schema_version=1,
        batch_id=plan.batch_id,
        generated_at=when,
        duration_seconds=round(max(0.0, seconds), 3),
        packages=tuple(packages),
        complete=complete,
    )
