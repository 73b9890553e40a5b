"""Validate recipes: static checks, then the native sandbox, one ``RecipeResult`` each.

``validate_recipe`` handles one recipe text; ``validate_batch`` reads a batch directory's
generation report, validates its generated recipes in parallel (each in its own prefix) and
writes ``results/<environment>.json``.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from recipeline_schema import (
    BatchDir,
    Environment,
    Failure,
    GeneratedPackage,
    GenerationReport,
    RecipeResult,
    SafetyVerdict,
    SchemaError,
    ValidationReport,
    current_time,
    load,
    parse_environment,
    save,
)
from recipeline_schema.retry import producer

from . import sandbox, workdirs
from .checks import check_recipe
from .errors import BatchInputError
from .native import NativeOptions, run_native
from .outcome import SandboxOutcome
from .plan import applicable_steps, native_plan
from .tsuku import TsukuOptions, run_tsuku
from .verify import verify_spec

Clock = Callable[[], dt.datetime]
#: What this stage's failures name as their producer (a new version releases the entries they parked).
PRODUCER = producer("recipeline-validator")


def utc_now() -> dt.datetime:
    return current_time()


@dataclass(frozen=True, slots=True)
class RecipeInput:
    """One recipe to validate: its text (or why it could not be read) and its queue identity."""

    name: str
    package_id: str
    text: str | None
    file: str
    read_error: str = ""


@dataclass(frozen=True, slots=True)
class RunSettings:
    """How a validation run works: backend options, workers, where prefixes go, the clock."""

    native: NativeOptions
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    work_root: Path | None = None
    keep_prefixes: bool = False
    macos_requires_linux: bool = True
    #: "auto": macOS validates only recipes that passed some Linux environment; "linux": every
    #: environment does (e.g. a second Linux family); "none": validate everything.
    only_passed_on: str = "auto"
    now: Clock = utc_now
    tsuku: TsukuOptions | None = None  # set: backend tsuku instead of native
    #: follow a generation still running: validate each recipe as soon as generation.json lists
    #: it, until the report is complete (or has not changed for ``follow_idle`` seconds)
    follow: bool = False
    follow_poll: float = 0.2
    follow_idle: float = 900.0
    #: validate only these package ids (a budget sample); the others are recorded as skipped
    #: with ``only_reason``, never as passed
    only: frozenset[str] | None = None
    only_reason: str = "not in this run's sample"
    #: called with each result as its validation finishes (from worker threads)
    progress: Callable[[RecipeResult], None] | None = None

    @property
    def backend(self) -> str:
        return "tsuku" if self.tsuku is not None else "native"

    @property
    def isolation(self) -> str:
        if self.tsuku is not None:
            return "tsuku --sandbox (tsuku's own container sandbox)"
        return f"{self.native.isolation.description}; {sandbox.describe(self.native.limits)}"


def validate_recipe(item: RecipeInput, env: Environment, settings: RunSettings) -> RecipeResult:
    """Check, plan, install and verify one recipe; every outcome is a result, never an exception."""
    started = time.monotonic()

    def result(
        outcome: str,
        safety: SafetyVerdict,
        failure: Failure | None = None,
        reason: str = "",
        ran: SandboxOutcome | None = None,
    ) -> RecipeResult:
        return RecipeResult(
            name=item.name,
            package_id=item.package_id,
            outcome=outcome,  # type: ignore[arg-type]  # one of pass/fail/skipped by construction
            duration_seconds=round(time.monotonic() - started, 3),
            safety=safety,
            failure=failure,
            reason=reason,
            installed_version=ran.installed_version if ran else "",
            latest_version=ran.latest_version if ran else "",
            toolchain=dict(ran.toolchain) if ran else {},
            verify=ran.verify if ran and outcome == "pass" else None,
        )

    def failure(
        category: str,
        subcategory: str | None,
        message: str,
        blocked_by: tuple[str, ...] = (),
        exit_code: int | None = None,
        output: str = "",
    ) -> Failure:
        return Failure.create(
            item.package_id,
            category,
            subcategory,
            message,
            timestamp=settings.now(),
            blocked_by=blocked_by,
            exit_code=exit_code,
            producer=PRODUCER,
            output=output,
        )

    if item.text is None:
        unread = SafetyVerdict(auto_merge=False, findings=("recipe file could not be read",))
        return result("fail", unread, failure("validation_failed", "schema_invalid", item.read_error))
    check = check_recipe(item.text, item.file)
    if not check.ok or check.recipe is None:
        return result("fail", check.safety, failure("validation_failed", "schema_invalid", check.message))
    plan = native_plan(check.recipe, env, settings.native.runnable(), settings.native.unavailable())
    if settings.tsuku is not None:  # tsuku runs every action: only "nothing applies" skips
        if not applicable_steps(check.recipe, env):
            return result("skipped", check.safety, reason=f"no step of the recipe applies to {env.id}")
    elif plan.skip_reason:
        return result("skipped", check.safety, reason=plan.skip_reason)
    try:
        claimed = workdirs.ClaimedPrefix(item.name, settings.work_root)
    except OSError as exc:
        where = settings.work_root or tempfile.gettempdir()
        message = f"cannot create a sandbox prefix in {where}: {exc.strerror or exc}"
        return result("fail", check.safety, failure("validation_failed", "install_failed", message))
    prefix = claimed.path
    try:
        if settings.tsuku is not None:
            outcome = run_tsuku(item.text, check.recipe.name, env, prefix=prefix, options=settings.tsuku)
        else:
            outcome = run_native(plan, verify_spec(check.document), prefix=prefix, options=settings.native)
    except OSError as exc:  # the prefix itself broke (disk full, permissions): still one result
        outcome = SandboxOutcome(False, f"sandbox error: {exc}", subcategory="install_failed")
    finally:
        claimed.release(keep=settings.keep_prefixes)
    if outcome.skipped:
        return result("skipped", check.safety, reason=outcome.message, ran=outcome)
    if outcome.passed:
        return result("pass", check.safety, reason=outcome.message, ran=outcome)
    return result(
        "fail",
        check.safety,
        failure(
            outcome.category,
            outcome.subcategory,
            outcome.message,
            outcome.blocked_by,
            outcome.exit_code,
            output=outcome.output,
        ),
        ran=outcome,
    )


def validate_all(items: Sequence[RecipeInput], env: Environment, settings: RunSettings) -> list[RecipeResult]:
    """Validate ``items`` in parallel; results in the order of ``items``."""
    if not items:
        return []
    workers = max(1, min(settings.workers, len(items)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="validate") as pool:
        return list(pool.map(lambda item: _guarded(item, env, settings), items))


def _guarded(item: RecipeInput, env: Environment, settings: RunSettings) -> RecipeResult:
    """One recipe's unexpected error (a validator bug) becomes its failure, not the batch's."""
    started = time.monotonic()
    try:
        return validate_recipe(item, env, settings)
    except Exception as exc:  # the boundary that keeps one recipe from sinking the others
        message = f"validator error: {type(exc).__name__}: {exc}"
        return RecipeResult(
            name=item.name,
            package_id=item.package_id,
            outcome="fail",
            duration_seconds=round(time.monotonic() - started, 3),
            safety=SafetyVerdict(auto_merge=False, findings=("not analysed: validator error",)),
            failure=Failure.create(
                item.package_id,
                "validation_failed",
                "install_failed",
                message,
                timestamp=settings.now(),
                producer=PRODUCER,
            ),
        )


# --- batch directory ---------------------------------------------------------------------------


def batch_inputs(batch: BatchDir, report: GenerationReport) -> list[RecipeInput]:
    """The generated packages of ``report`` with their recipe texts (read errors kept as data)."""
    return [_read_input(batch, package) for package in report.packages if package.outcome == "generated"]


def batch_toolchains(batch_dir: Path, env: Environment) -> list[str]:
    """The toolchains (``python``, ``node``, ``rust``, ...) the batch's recipes need in ``env``.

    What a distribution's image must provide before ``validate`` runs there; recipes that do
    not parse or whose actions have no native runner add nothing (they fail or skip anyway).
    """
    from .native import RUNNERS

    batch = BatchDir(batch_dir)
    report = load(GenerationReport, batch.generation)
    needed: set[str] = set()
    for item in batch_inputs(batch, report):
        check = check_recipe(item.text, item.file) if item.text is not None else None
        if check is None or check.recipe is None:
            continue
        for _, step in applicable_steps(check.recipe, env):
            if step.action in RUNNERS:
                needed.update(RUNNERS[step.action].needs)
    return sorted(needed)


def _read_input(batch: BatchDir, package: GeneratedPackage) -> RecipeInput:
    root = batch.path.resolve()
    try:
        path = (
            (batch.path / package.recipe).resolve()
            if package.recipe
            else batch.recipe(package.name).resolve()
        )
    except SchemaError as exc:
        return RecipeInput(package.name, package.package_id, None, str(batch.recipes), str(exc))
    if not path.is_relative_to(root):
        return RecipeInput(
            package.name,
            package.package_id,
            None,
            str(path),
            f"{batch.generation}: recipe path {package.recipe!r} of {package.name} "
            "leaves the batch directory",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return RecipeInput(
            package.name, package.package_id, None, str(path), f"{path}: cannot read recipe: {exc}"
        )
    return RecipeInput(package.name, package.package_id, text, str(path))


def validate_batch(batch_dir: Path, environment: str, settings: RunSettings) -> ValidationReport:
    """Validate a batch directory for ``environment`` and write ``results/<environment>.json``.

    Without ``settings.follow`` the generation report must be complete. With it, validation
    starts on the first generated recipes while the generator is still writing the next ones
    (ARCHITECTURE §10: generation of package n+1 overlaps validation of package n).
    """
    batch = BatchDir(batch_dir)
    env = parse_environment(environment)
    started_at = settings.now()
    started = time.monotonic()
    gated = settings.only_passed_on == "linux" or (
        settings.only_passed_on == "auto" and env.os == "darwin" and settings.macos_requires_linux
    )
    linux = [r for r in read_linux_results(batch) if r.environment != env.id] if gated else []
    workers = max(1, settings.workers)
    futures: dict[str, Future[RecipeResult]] = {}
    held: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="validate") as pool:

        def announce(done: Future[RecipeResult]) -> None:
            if settings.progress is not None:
                settings.progress(done.result())

        def submit(report: GenerationReport) -> list[RecipeInput]:
            inputs = batch_inputs(batch, report)
            for item in inputs:
                if item.name in futures or item.name in held:
                    continue
                reason = linux_gate([item.name], linux, env.id).get(item.name) if gated else None
                if reason is None and settings.only is not None and item.package_id not in settings.only:
                    reason = settings.only_reason
                if reason is not None:
                    held[item.name] = reason
                else:
                    futures[item.name] = pool.submit(_guarded, item, env, settings)
                    futures[item.name].add_done_callback(announce)
            return inputs

        report = _read_generation(batch, settings, submit)
        inputs = submit(report)
        results = [
            _held_result(i, held[i.name]) if i.name in held else futures[i.name].result() for i in inputs
        ]
    validation = ValidationReport(
        schema_version=1,
        batch_id=report.batch_id,
        environment=env.id,
        backend=settings.backend,  # type: ignore[arg-type]  # "native" or "tsuku" by construction
        isolation=settings.isolation,
        started_at=started_at,
        duration_seconds=round(time.monotonic() - started, 3),
        results=tuple(results),
    )
    save(validation, batch.results(env.id))
    return validation


def _read_generation(
    batch: BatchDir, settings: RunSettings, submit: Callable[[GenerationReport], object]
) -> GenerationReport:
    """The complete generation report; while following, hand each partial one to ``submit``."""
    last_change = time.monotonic()
    seen: tuple[int, bool] | None = None
    while True:
        report: GenerationReport | None = None
        if batch.generation.exists() or not settings.follow:
            try:
                report = load(GenerationReport, batch.generation)
            except SchemaError as exc:
                raise BatchInputError(str(exc)) from None
        if report is not None and report.complete:
            return report
        if not settings.follow:
            raise BatchInputError(
                f"{batch.generation}: generation is not complete (an interrupted run?): "
                "run generate again, or validate with --follow beside it"
            )
        if report is not None and (len(report.packages), report.complete) != seen:
            seen = (len(report.packages), report.complete)
            last_change = time.monotonic()
            submit(report)
        if time.monotonic() - last_change > settings.follow_idle:
            raise BatchInputError(
                f"{batch.generation}: no progress for {settings.follow_idle:g} s while following "
                "the generator (did it stop?)"
            )
        time.sleep(settings.follow_poll)


# --- progressive validation (ARCHITECTURE §6.4) -----------------------------------------------


def linux_gate(
    names: Sequence[str], linux_reports: Sequence[ValidationReport], environment: str = "macOS"
) -> dict[str, str]:
    """Recipes ``environment`` must not validate, with why: those that passed no Linux environment."""
    passed = {r.name for report in linux_reports for r in report.results if r.outcome == "pass"}
    tried = ", ".join(sorted(report.environment for report in linux_reports)) or "none"
    where = "macOS" if environment.startswith("darwin") else environment
    return {
        name: f"held back from {where}: did not pass in any Linux environment (Linux results: {tried})"
        for name in names
        if name not in passed
    }


def read_linux_results(batch: BatchDir) -> list[ValidationReport]:
    """Every ``results/linux-*.json`` of the batch; a broken one stops the run with its name."""
    reports = []
    for path in sorted(batch.results_dir.glob("linux-*.json")):
        try:
            reports.append(load(ValidationReport, path))
        except SchemaError as exc:
            raise BatchInputError(str(exc)) from None
    return reports


def _held_result(item: RecipeInput, reason: str) -> RecipeResult:
    check = check_recipe(item.text, item.file) if item.text is not None else None
    safety = check.safety if check else SafetyVerdict(False, ("recipe file could not be read",))
    return RecipeResult(item.name, item.package_id, "skipped", 0.0, safety, None, reason)
