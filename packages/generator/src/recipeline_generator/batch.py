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
    normalize_ecosystem,
    one_line,
    read_curated,
    recipe_to_toml,
    save,
)
from recipeline_schema.retry import producer

from .builder import BuilderRegistry
from .builder_support import take_server_error
from .recipe_index import UsesRecipeIndex, read_recipe_index
from .routing import route

#: Failures of a package whose request the registry kept refusing while it answered others.
REJECTED = "request_rejected"


#: What the built-in builders' failures name as their producer (``recipeline_schema.retry``); a
#: builder with its own ``producer`` attribute (the tsuku backend: "") overrides it.
PRODUCER = producer("recipeline-generator")


def generate_package(
    planned: PlannedPackage,
    curated: Mapping[str, Disambiguation],
    builders: BuilderRegistry,
    batch: BatchDir,
    server_errors: dict[str, int] | None = None,
) -> GeneratedPackage:
    """Route, build and write one planned package; the outcome is never an exception.

    When the builder's failure came from a persistent 5xx, its status goes into
    ``server_errors[<name>]`` (what ``reclassify_rejected`` needs after the batch).
    """
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
    take_server_error()
    result = builder.generate(target.source.identifier, name=planned.name)
    status = take_server_error()
    if isinstance(result, Failure):
        if status is not None and server_errors is not None:
            server_errors[planned.name] = status
        _remove_stale(path)
        # one key everywhere (ARCHITECTURE §3.1): the queue entry's source, even after an override
        # and the stage that decided it, so a permanent failure waits for another version of it
        producer = result.producer or getattr(builder, "producer", PRODUCER)
        failure = dataclasses.replace(result, package_id=planned.package_id, producer=producer)
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
    server_errors: dict[str, int] = {}
    packages: list[GeneratedPackage] = []
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
            result = generate_package(planned, curated, builders, batch, server_errors)
        progress(result)
        packages.append(result)
        if len(packages) < len(plan.packages):
            save(_report(plan, packages, now(), monotonic() - started, complete=False), batch.generation)
    packages = reclassify_rejected(packages, server_errors)
    report = _report(plan, packages, now(), monotonic() - started, complete=True)
    save(report, batch.generation)
    return report


def _ecosystem(package: GeneratedPackage) -> str:
    """The registry the package was asked of (aliases such as ``crates.io`` mapped)."""
    prefix = package.resolved_source.partition(":")[0]
    try:
        return normalize_ecosystem(prefix)
    except InvalidValueError:
        return prefix


def _registry_answered(package: GeneratedPackage) -> bool:
    """The registry answered this package's requests: generated, or failed for another reason than
    a transient ``api_error`` (``not_found``, ``bad_response``, no binaries, ... are answers)."""
    if package.outcome == "generated":
        return True
    failure = package.failure
    return (
        package.outcome == "failed"
        and failure is not None
        and not (failure.category == "api_error" and failure.transient)
    )


def reclassify_rejected(
    packages: list[GeneratedPackage], server_errors: Mapping[str, int]
) -> list[GeneratedPackage]:
    """Tell "this request is wrong" from "the registry is down", per ecosystem of the batch.

    A package that failed ``api_error/upstream_unavailable`` because of a 5xx that persisted across
    the client's retries (its status in ``server_errors``, by name) becomes
    ``api_error/request_rejected`` (permanent: a hard failure for the breaker, backoff for the
    entry) when another package of the same ecosystem in this batch got answers from the registry.
    When none did, the 5xx answers stay ``upstream_unavailable`` (transient: an outage). Pure.
    """
    answered = {_ecosystem(p) for p in packages if _registry_answered(p)}
    out = []
    for package in packages:
        failure = package.failure
        status = server_errors.get(package.name)
        if (
            failure is not None
            and status is not None
            and (failure.category, failure.subcategory) == ("api_error", "upstream_unavailable")
            and _ecosystem(package) in answered
        ):
            message = one_line(
                f"{failure.message}; the registry answered other {_ecosystem(package)} packages "
                "of the batch, so this request is refused, not the registry down"
            )
            failure = dataclasses.replace(failure, subcategory=REJECTED, transient=False, message=message)
            package = dataclasses.replace(package, failure=failure, reason=message)
        out.append(package)
    return out


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
