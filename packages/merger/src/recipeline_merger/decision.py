"""The pure core of the merge: a batch's plan, generation and validation -> a decision.

Everything is keyed by the planned package's ``package_id`` (the queue entry's source,
ARCHITECTURE §12.3). Only a real ``pass`` in some environment includes a recipe: a
``skipped`` result and the generation host never count (§12.6).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from recipeline_schema import (
    BatchPlan,
    Ecosystem,
    Failure,
    Gate,
    GeneratedPackage,
    GenerationReport,
    ManifestPackage,
    RecipeResult,
    ValidationReport,
    recipe_path,
)
from recipeline_schema.models import DiscoveredVerify

from .constraints import platform_constraints
from .errors import BatchDirError
from .names import NameClaims
from .recipe_verify import chosen_verify

GENERATION = "generation"
#: Subcategories whose exclusion a human must look at before the batch may auto-merge.
REVIEW_SUBCATEGORIES = frozenset({"unsafe_action"})
GATE_NAMES = ("safety", "validated", "no_review_exclusions", "checks")

#: A package's outcome (the manifest's ``outcome``).
Outcome = Literal["merged", "excluded", "failed", "blocked", "skipped"]
#: A recipe's result in one environment.
EnvironmentOutcome = Literal["pass", "fail", "skipped"]


@dataclass(frozen=True, slots=True)
class EnvironmentFailure:
    """A failure as it happened in one environment (``generation`` for the generator)."""

    environment: str
    failure: Failure


@dataclass(frozen=True, slots=True)
class PackageDecision:
    """What happens to one planned package."""

    name: str
    package_id: str
    resolved_source: str
    outcome: Outcome
    environments: Mapping[str, EnvironmentOutcome] = dataclasses.field(default_factory=dict)
    failures: tuple[EnvironmentFailure, ...] = ()
    blocked_by: tuple[str, ...] = ()
    #: every failure that kept the package out is transient (retry sooner, see backoff)
    transient: bool = False
    reason: str = ""
    batch_recipe: str | None = None  # the recipe's path inside the batch directory
    override: bool = False
    safety_findings: tuple[str, ...] = ()  # findings of reports that refused auto-merge
    #: platform constraints the results justify (merged recipes only), see ``constraints``
    constraints: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    #: needs a human (an unsafe merged recipe, or an exclusion for a review reason): its recipe
    #: goes to the batch's review PR, which is never auto-merged
    review: bool = False
    #: environment -> the version its validation installed; the newest one a validation saw
    installed_versions: Mapping[str, str] = dataclasses.field(default_factory=dict)
    latest_version: str = ""
    #: the verify the validation's version probes found (merged recipes only), see ``recipe_verify``
    verify: DiscoveredVerify | None = None
    #: the recipe name is held elsewhere (``names``): the queue entry becomes ``requires_manual``
    name_held: bool = False

    @property
    def passed(self) -> tuple[str, ...]:
        """Environments where the recipe really passed."""
        return tuple(env for env, outcome in self.environments.items() if outcome == "pass")

    @property
    def safe(self) -> bool:
        return not self.safety_findings

    @property
    def recipe_path(self) -> str:
        """Where the recipe lives in the repository: ``recipes/<first letter>/<name>.toml``."""
        return recipe_path(self.name)


@dataclass(frozen=True, slots=True)
class MergeDecision:
    batch_id: str
    ecosystem: Ecosystem
    tier: int
    packages: tuple[PackageDecision, ...]
    #: the gates of the batch PR (every package that needs no review)
    gates: tuple[Gate, ...]
    #: the gates of the review PR (the packages that need review); empty when there are none
    review_gates: tuple[Gate, ...] = ()

    @property
    def auto_merge(self) -> bool:
        """Whether the batch PR may auto-merge (the review PR never does)."""
        return all(gate.passed for gate in self.gates)

    @property
    def merged(self) -> tuple[PackageDecision, ...]:
        """Every included recipe, in the batch PR or the review PR."""
        return self.with_outcome("merged")

    @property
    def batch_recipes(self) -> tuple[PackageDecision, ...]:
        """The recipes of the batch PR: included and needing no review."""
        return tuple(p for p in self.packages if p.outcome == "merged" and not p.review)

    @property
    def review_recipes(self) -> tuple[PackageDecision, ...]:
        """The recipes of the review PR: unsafe included recipes and exclusions needing review."""
        return tuple(p for p in self.packages if p.review)

    def with_outcome(self, outcome: Outcome) -> tuple[PackageDecision, ...]:
        return tuple(p for p in self.packages if p.outcome == outcome)

    def count(self, outcome: Outcome) -> int:
        return len(self.with_outcome(outcome))


def decide(
    plan: BatchPlan,
    generation: GenerationReport,
    reports: Sequence[ValidationReport],
    *,
    names: NameClaims | None = None,
    checks_passed: bool | None = None,
    checks_on_github: bool = False,
) -> MergeDecision:
    """Decide every planned package's outcome and the auto-merge gates.

    ``names`` says who else holds a recipe name (a recipe on the base commit, another
    ecosystem's open batch or merge, a curated record for another source): a recipe under a held
    name is not committed, the package is ``skipped`` with ``name_held`` set (``names``).
    ``checks_passed`` is the PR checks' verdict, ``None`` when there are none (a local run);
    with ``checks_on_github`` GitHub enforces them when it merges (auto-merge, or the
    publisher's wait-then-merge fallback).
    """
    names = names or NameClaims()
    generated = _check_generation(plan, generation)
    results = _results_by_package(plan, generated, reports)
    packages = tuple(
        _decide_package(generated[planned.package_id], results.get(planned.package_id, ()), generation)
        for planned in plan.packages
    )
    packages = tuple(
        _name_held(p, held)
        if p.outcome == "merged" and (held := names.holder(p.name, p.package_id, p.resolved_source))
        else p
        for p in packages
    )
    packages = tuple(dataclasses.replace(p, review=True) if needs_review(p) else p for p in packages)
    review = [p for p in packages if p.review]
    return MergeDecision(
        batch_id=plan.batch_id,
        ecosystem=plan.ecosystem,
        tier=plan.tier,
        packages=packages,
        gates=gates_for(
            [p for p in packages if not p.review],
            checks_passed=checks_passed,
            checks_on_github=checks_on_github,
            in_review=[p.name for p in review],
        ),
        review_gates=gates_for(review, checks_passed=checks_passed, checks_on_github=checks_on_github)
        if review
        else (),
    )


def needs_review(package: PackageDecision) -> bool:
    """An included recipe that failed the safety analysis somewhere, or a generated recipe
    excluded for a reason a human must judge (``REVIEW_SUBCATEGORIES``): both go to the review
    PR, so they never hold back the rest of the batch (ARCHITECTURE §7)."""
    if package.outcome == "merged":
        return not package.safe
    return package.outcome == "excluded" and package.batch_recipe is not None and _review_exclusion(package)


def _review_exclusion(package: PackageDecision) -> bool:
    return any(f.failure.subcategory in REVIEW_SUBCATEGORIES for f in package.failures)


# --- consistency of the batch directory --------------------------------------------------


def _check_generation(plan: BatchPlan, generation: GenerationReport) -> dict[str, GeneratedPackage]:
    if generation.batch_id != plan.batch_id:
        raise BatchDirError(
            f"generation.json: batch_id is {generation.batch_id!r}, expected {plan.batch_id!r} (the plan's)"
        )
    if not generation.complete:
        raise BatchDirError(
            "generation.json: generation is not complete (an interrupted run); re-run generate"
        )
    planned = [p.package_id for p in plan.packages]
    _no_duplicates("manifest.json: packages", planned)
    by_id: dict[str, GeneratedPackage] = {}
    for gp in generation.packages:
        if gp.package_id in by_id:
            raise BatchDirError(f"generation.json: package {gp.package_id} appears twice")
        by_id[gp.package_id] = gp
    missing = sorted(set(planned) - set(by_id))
    extra = sorted(set(by_id) - set(planned))
    if missing:
        raise BatchDirError(f"generation.json: no outcome for planned packages {missing}; re-run generate")
    if extra:
        raise BatchDirError(f"generation.json: packages {extra} were not planned in manifest.json")
    for planned_pkg in plan.packages:
        if by_id[planned_pkg.package_id].name != planned_pkg.name:
            raise BatchDirError(
                f"generation.json: package {planned_pkg.package_id} is named "
                f"{by_id[planned_pkg.package_id].name!r}, the plan says {planned_pkg.name!r}"
            )
    return by_id


def _results_by_package(
    plan: BatchPlan, generated: Mapping[str, GeneratedPackage], reports: Sequence[ValidationReport]
) -> dict[str, list[tuple[ValidationReport, RecipeResult]]]:
    out: dict[str, list[tuple[ValidationReport, RecipeResult]]] = {}
    environments: set[str] = set()
    for report in reports:
        where = f"results/{report.environment}.json"
        if report.batch_id != plan.batch_id:
            raise BatchDirError(f"{where}: batch_id is {report.batch_id!r}, expected {plan.batch_id!r}")
        if report.environment == GENERATION:
            raise BatchDirError(f"{where}: 'generation' is not a validation environment")
        if report.environment in environments:
            raise BatchDirError(f"{where}: a second report for environment {report.environment}")
        environments.add(report.environment)
        seen: set[str] = set()
        for result in report.results:
            gp = generated.get(result.package_id)
            if gp is None:
                raise BatchDirError(f"{where}: result for {result.package_id}, which the batch did not plan")
            if gp.outcome != "generated":
                raise BatchDirError(
                    f"{where}: result for {result.package_id}, which generation {gp.outcome} (no recipe)"
                )
            if result.package_id in seen:
                raise BatchDirError(f"{where}: two results for {result.package_id}")
            seen.add(result.package_id)
            out.setdefault(result.package_id, []).append((report, result))
    return out


def _no_duplicates(where: str, values: Iterable[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise BatchDirError(f"{where}: {value} appears twice")
        seen.add(value)


# --- one package -------------------------------------------------------------------------


def _decide_package(
    gp: GeneratedPackage,
    results: Sequence[tuple[ValidationReport, RecipeResult]],
    generation: GenerationReport,
) -> PackageDecision:
    base = PackageDecision(
        name=gp.name,
        package_id=gp.package_id,
        resolved_source=gp.resolved_source,
        outcome="failed",
        override=gp.override,
    )
    if gp.outcome == "skipped":
        return dataclasses.replace(base, outcome="skipped", reason=gp.reason or "skipped by routing")
    if gp.outcome == "failed":
        failure = _own(gp.failure, gp.package_id) or Failure.create(
            gp.package_id,
            "deterministic_insufficient",
            None,
            gp.reason or "generation failed without a failure record",
            timestamp=generation.generated_at,
        )
        return _failed(base, (EnvironmentFailure(GENERATION, failure),), outcome="failed")
    return _decide_generated(dataclasses.replace(base, batch_recipe=gp.recipe), results)


def _decide_generated(
    base: PackageDecision, results: Sequence[tuple[ValidationReport, RecipeResult]]
) -> PackageDecision:
    environments = {report.environment: result.outcome for report, result in results}
    installed = {r.environment: res.installed_version for r, res in results if res.installed_version}
    latest = next((res.latest_version for _, res in results if res.latest_version), "")
    base = dataclasses.replace(
        base, installed_versions=dict(sorted(installed.items())), latest_version=latest
    )
    failures = tuple(
        EnvironmentFailure(report.environment, _result_failure(report, result))
        for report, result in results
        if result.outcome == "fail"
    )
    findings = tuple(
        f"{report.environment}: {finding}"
        for report, result in results
        if not result.safety.auto_merge
        for finding in (result.safety.findings or ("refused auto-merge",))
    )
    decided = dataclasses.replace(
        base, environments=dict(sorted(environments.items())), safety_findings=findings
    )
    if decided.passed:
        return dataclasses.replace(
            decided,
            outcome="merged",
            failures=failures,
            reason="passed " + ", ".join(decided.passed),
            constraints=platform_constraints(decided.environments),
            verify=chosen_verify((report.environment, result) for report, result in results),
        )
    if failures:
        return _failed(decided, failures, outcome="excluded")
    skipped = sorted(
        {
            f"{report.environment}: {result.reason}" if result.reason else report.environment
            for report, result in results
        }
    )
    reason = "not validated: " + ("skipped in " + "; ".join(skipped) if skipped else "no validation results")
    # Not the package's fault: it backs off like a transient failure so it rotates out of the
    # head of the queue instead of being re-picked by every batch.
    return dataclasses.replace(decided, outcome="excluded", transient=True, reason=reason)


def _failed(
    base: PackageDecision, failures: tuple[EnvironmentFailure, ...], *, outcome: Outcome
) -> PackageDecision:
    """``blocked`` when every failure is a missing dependency, else ``outcome`` with the causes."""
    kinds = [f.failure for f in failures]
    if all(f.category == "missing_dep" for f in kinds):
        blocked_by = tuple(sorted({name for f in kinds for name in f.blocked_by}))
        return dataclasses.replace(
            base,
            outcome="blocked",
            failures=failures,
            blocked_by=blocked_by,
            reason="missing dependency recipes: " + (", ".join(blocked_by) or "(not named)"),
        )
    return dataclasses.replace(
        base,
        outcome=outcome,
        failures=failures,
        transient=all(f.transient for f in kinds),
        reason="; ".join(sorted({_describe(f) for f in failures})),
    )


def _name_held(p: PackageDecision, holder: str) -> PackageDecision:
    return dataclasses.replace(p, outcome="skipped", reason=holder, name_held=True)


def _result_failure(report: ValidationReport, result: RecipeResult) -> Failure:
    return _own(result.failure, result.package_id) or Failure.create(
        result.package_id,
        "validation_failed",
        None,
        result.reason or f"failed in {report.environment} without a failure record",
        timestamp=report.started_at,
    )


def _own(failure: Failure | None, package_id: str) -> Failure | None:
    """The failure keyed by the planned package's source, whatever the stage wrote."""
    if failure is None or failure.package_id == package_id:
        return failure
    return dataclasses.replace(failure, package_id=package_id)


def _describe(ef: EnvironmentFailure) -> str:
    f = ef.failure
    kind = f.category + (f"/{f.subcategory}" if f.subcategory else "")
    return f"{ef.environment}: {kind}: {f.message}"


# --- gates -------------------------------------------------------------------------------


#: The checks gate's detail when GitHub enforces the checks at merge time.
CHECKS_DEFERRED = "deferred: GitHub merges only once the PR's required checks are green"


def gates_for(
    packages: Sequence[PackageDecision],
    *,
    checks_passed: bool | None,
    checks_on_github: bool = False,
    in_review: Sequence[str] = (),
) -> tuple[Gate, ...]:
    """The four auto-merge gates of ARCHITECTURE §7 over ``packages`` (one PR's), in a fixed order.

    The ``checks`` gate cannot be known when the PR is opened: with ``checks_on_github`` it
    passes as *deferred* (auto-merge waits for the required checks; the fallback polls them
    and comments on the PR when they fail); locally there are no checks and it fails.
    ``in_review`` names the packages moved to the review PR (said in the details).
    """
    included = [p for p in packages if p.outcome == "merged"]
    unsafe = [p for p in included if not p.safe]
    moved = f"; in the review PR: {', '.join(in_review)}" if in_review else ""
    safety = Gate(
        "safety",
        not unsafe,
        "needs review: " + "; ".join(f"{p.name} ({', '.join(p.safety_findings)})" for p in unsafe)
        if unsafe
        else f"all {len(included)} included recipes may auto-merge{moved}",
    )
    unvalidated = [p.name for p in included if not p.passed]
    validated = Gate(
        "validated",
        bool(included) and not unvalidated,
        "no recipe passed any environment"
        if not included
        else (
            f"not passed anywhere: {', '.join(unvalidated)}"
            if unvalidated
            else f"each of {len(included)} recipes passed at least one environment"
        ),
    )
    review = [p.name for p in packages if p.outcome == "excluded" and _review_exclusion(p)]
    exclusions = Gate(
        "no_review_exclusions",
        not review,
        f"excluded for a reason that needs review: {', '.join(review)}"
        if review
        else f"no exclusion needs review{moved}",
    )
    if checks_passed is None and checks_on_github:
        checks = Gate("checks", True, CHECKS_DEFERRED)
    elif checks_passed is None:
        checks = Gate("checks", False, "no PR checks locally")
    else:
        checks = Gate("checks", checks_passed, "PR checks green" if checks_passed else "PR checks failed")
    return (safety, validated, exclusions, checks)


def manifest_packages(
    decision: MergeDecision, recipe_sha256: Mapping[str, str]
) -> tuple[ManifestPackage, ...]:
    """The manifest's package list; ``recipe_sha256`` maps the package ids whose recipe is in
    one of the batch's PRs (every included recipe, and exclusions sent to review) to its hash."""
    return tuple(
        ManifestPackage(
            name=p.name,
            package_id=p.package_id,
            resolved_source=p.resolved_source,
            outcome=p.outcome,
            recipe_path=p.recipe_path if p.package_id in recipe_sha256 else None,
            sha256=recipe_sha256.get(p.package_id),
            environments=dict(p.environments),
            reason=p.reason,
            installed_versions=dict(p.installed_versions),
            latest_version=p.latest_version,
            review=p.review,
        )
        for p in decision.packages
    )
