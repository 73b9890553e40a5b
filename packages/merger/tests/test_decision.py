"""The pure merge decision: every outcome, the gates, and refusals of inconsistent batches."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from recipeline_merger import GATE_NAMES, BatchDirError, MergeDecision, PackageDecision, decide
from recipeline_merger.decision import manifest_packages
from recipeline_merger.names import NameClaims, claims
from recipeline_schema import BatchPlan, Disambiguation, GenerationReport, Queue, QueueEntry, ValidationReport

if TYPE_CHECKING:
    from .conftest import Make

PACKAGES = [
    ("ripgrep", "cargo:ripgrep"),
    ("fd", "cargo:fd-find"),
    ("bat", "cargo:bat"),
    ("broken", "cargo:broken"),
    ("magick", "cargo:magick"),
    ("hub", "cargo:hub"),
    ("ghost", "cargo:ghost"),
    ("skippy", "cargo:skippy"),
    ("needsdep", "cargo:needsdep"),
]

#: The plan, the generation report and the validation reports of one batch.
Batch = tuple[BatchPlan, GenerationReport, list[ValidationReport]]


@pytest.fixture
def batch(make: Make) -> Batch:
    """A batch with one package for every outcome, validated on Linux, Alpine and macOS."""
    f = make.failure
    plan = make.plan(PACKAGES)
    generation = make.generation(
        [
            make.generated("ripgrep", "cargo:ripgrep", override=True, resolved="cargo:ripgrep"),
            make.generated("fd", "cargo:fd-find"),
            make.generated("bat", "cargo:bat"),
            make.generated(
                "broken",
                "cargo:broken",
                "failed",
                failure=f("cargo:broken", "deterministic_insufficient", "binary_discovery_failed", "no bin"),
            ),
            make.generated(
                "magick",
                "cargo:magick",
                "failed",
                failure=f(
                    "cargo:magick", "missing_dep", None, "needs libs", blocked_by=("libpng", "libjpeg")
                ),
            ),
            make.generated("hub", "cargo:hub", "skipped", reason="github:mislav/hub needs an LLM builder"),
            make.generated("ghost", "cargo:ghost"),
            make.generated("skippy", "cargo:skippy"),
            make.generated("needsdep", "cargo:needsdep"),
        ]
    )
    r = make.result
    linux = make.report(
        make.linux,
        [
            r("ripgrep", "cargo:ripgrep"),
            r("fd", "cargo:fd-find", "fail", failure=f("cargo:fd-find", message="cargo install failed")),
            r("bat", "cargo:bat"),
            r("skippy", "cargo:skippy", "skipped", reason="action homebrew not supported by native"),
            r(
                "needsdep",
                "cargo:needsdep",
                "fail",
                failure=f("cargo:needsdep", "missing_dep", None, "needs zlib", blocked_by=("zlib",)),
            ),
        ],
    )
    alpine = make.report(
        make.alpine,
        [
            r(
                "fd",
                "cargo:fd-find",
                "fail",
                failure=f("cargo:fd-find", "validation_failed", "verify_timeout", "hung"),
            ),
            r("bat", "cargo:bat", "fail", failure=f("cargo:bat", message="musl link error")),
            r("skippy", "cargo:skippy", "skipped"),
        ],
    )
    mac = make.report(make.mac, [r("ripgrep", "cargo:ripgrep")], duration=300.0)
    return plan, generation, [linux, alpine, mac]


def by_name(decision: MergeDecision) -> dict[str, PackageDecision]:
    return {p.name: p for p in decision.packages}


def test_every_outcome(batch: Batch, make: Make) -> None:
    d = by_name(decide(*batch))
    assert {n: p.outcome for n, p in d.items()} == {
        "ripgrep": "merged",
        "fd": "excluded",
        "bat": "merged",
        "broken": "failed",
        "magick": "blocked",
        "hub": "skipped",
        "ghost": "excluded",
        "skippy": "excluded",
        "needsdep": "blocked",
    }
    assert d["ripgrep"].passed == (make.mac, make.linux)
    assert d["ripgrep"].recipe_path == "recipes/r/ripgrep.toml"
    assert d["bat"].environments == {make.alpine: "fail", make.linux: "pass"}
    assert [ef.environment for ef in d["bat"].failures] == [make.alpine]  # recorded though merged
    assert {ef.environment for ef in d["fd"].failures} == {make.linux, make.alpine}
    assert "verify_timeout" in d["fd"].reason and not d["fd"].transient
    assert [ef.environment for ef in d["broken"].failures] == ["generation"]
    assert d["magick"].blocked_by == ("libjpeg", "libpng")
    assert d["needsdep"].blocked_by == ("zlib",)
    assert d["hub"].reason == "github:mislav/hub needs an LLM builder"


def test_the_manifest_says_which_version_each_environment_installed(make: Make) -> None:
    """Installed vs latest reaches the manifest (the dashboard's run page shows the skew)."""
    plan = make.plan([("eslint", "npm:eslint")])
    generation = make.generation([make.generated("eslint", "npm:eslint")])
    linux = make.report(
        make.linux, [make.result("eslint", "npm:eslint", installed_version="8.57.1", latest_version="9.4.0")]
    )
    mac = make.report(make.mac, [make.result("eslint", "npm:eslint", installed_version="9.4.0")])
    (package,) = manifest_packages(decide(plan, generation, [linux, mac]), {"npm:eslint": "0" * 64})
    assert package.installed_versions == {make.linux: "8.57.1", make.mac: "9.4.0"}
    assert package.latest_version == "9.4.0"


def test_skipped_results_and_no_results_never_count_as_a_pass(batch: Batch) -> None:
    d = by_name(decide(*batch))
    assert d["skippy"].passed == () and d["skippy"].failures == ()
    assert "not validated: skipped in" in d["skippy"].reason
    assert "action homebrew not supported by native" in d["skippy"].reason
    assert d["ghost"].environments == {} and d["ghost"].reason == "not validated: no validation results"
    assert d["ghost"].transient and d["skippy"].transient  # not the package's fault: slow backoff


def test_gates_locally_hold_except_checks(batch: Batch) -> None:
    decision = decide(*batch)
    gates = {g.name: g for g in decision.gates}
    assert tuple(gates) == GATE_NAMES
    assert gates["safety"].passed and gates["validated"].passed and gates["no_review_exclusions"].passed
    assert not gates["checks"].passed and gates["checks"].detail == "no PR checks locally"
    assert not decision.auto_merge


def test_green_checks_allow_auto_merge(batch: Batch) -> None:
    assert decide(*batch, checks_passed=True).auto_merge


def test_an_unsafe_verdict_in_any_report_fails_the_safety_gate(make: Make) -> None:
    plan = make.plan([("pipx", "cargo:pipx")])
    generation = make.generation([make.generated("pipx", "cargo:pipx")])
    reports = [
        make.report(make.linux, [make.result("pipx", "cargo:pipx")]),
        make.report(
            make.mac, [make.result("pipx", "cargo:pipx", safe=False, findings=("steps[1] run_command",))]
        ),
    ]
    decision = decide(plan, generation, reports, checks_passed=True)
    (pipx,) = decision.merged
    assert pipx.review and decision.review_recipes == (pipx,) and decision.batch_recipes == ()
    # the review PR's safety gate fails and names the finding; the review PR never auto-merges
    safety = decision.review_gates[0]
    assert not safety.passed and safety.detail == f"needs review: pipx ({make.mac}: steps[1] run_command)"
    # nothing is left for the batch PR: its validated gate says so
    gates = {g.name: g for g in decision.gates}
    assert gates["safety"].passed and gates["safety"].detail.endswith("in the review PR: pipx")
    assert not gates["validated"].passed and not decision.auto_merge


def test_an_exclusion_for_unsafe_action_needs_review(make: Make) -> None:
    plan = make.plan([("ok", "cargo:ok"), ("evil", "cargo:evil")])
    generation = make.generation([make.generated("ok", "cargo:ok"), make.generated("evil", "cargo:evil")])
    unsafe = make.failure("cargo:evil", "validation_failed", "unsafe_action", "run_command in steps[0]")
    reports = [
        make.report(
            make.linux,
            [make.result("ok", "cargo:ok"), make.result("evil", "cargo:evil", "fail", failure=unsafe)],
        )
    ]
    decision = decide(plan, generation, reports, checks_passed=True)
    d = by_name(decision)
    assert d["evil"].review and d["evil"].outcome == "excluded" and not d["ok"].review
    # one exclusion never holds back the rest: the batch PR (ok) may auto-merge
    assert decision.auto_merge and [p.name for p in decision.batch_recipes] == ["ok"]
    review = {g.name: g for g in decision.review_gates}
    assert not review["no_review_exclusions"].passed
    assert review["no_review_exclusions"].detail == "excluded for a reason that needs review: evil"
    assert not review["validated"].passed  # its recipe passed nowhere: a human decides


def test_a_batch_without_review_has_no_review_gates(batch: Batch) -> None:
    decision = decide(*batch, checks_passed=True)
    assert decision.review_recipes == () and decision.review_gates == ()
    assert decision.batch_recipes == decision.merged


def test_nothing_included_fails_the_validated_gate(make: Make) -> None:
    plan = make.plan([("fd", "cargo:fd-find")])
    generation = make.generation([make.generated("fd", "cargo:fd-find")])
    reports = [
        make.report(
            make.linux, [make.result("fd", "cargo:fd-find", "fail", failure=make.failure("cargo:fd-find"))]
        )
    ]
    decision = decide(plan, generation, reports, checks_passed=True)
    validated = decision.gates[1]
    assert (
        not decision.merged
        and not validated.passed
        and validated.detail == "no recipe passed any environment"
    )


def test_transient_failures_are_marked_and_api_not_found_is_not(make: Make) -> None:
    plan = make.plan([("a", "cargo:a"), ("b", "cargo:b")])
    generation = make.generation(
        [
            make.generated(
                "a", "cargo:a", "failed", failure=make.failure("cargo:a", "api_error", "rate_limited", "429")
            ),
            make.generated(
                "b", "cargo:b", "failed", failure=make.failure("cargo:b", "api_error", "not_found", "404")
            ),
        ]
    )
    d = by_name(decide(plan, generation, []))
    assert d["a"].outcome == d["b"].outcome == "failed"
    assert d["a"].transient and not d["b"].transient


def test_failures_are_keyed_by_the_planned_source_not_the_name(make: Make) -> None:
    # the validator keyed the failure by the name; the record must carry the entry's source (§12.3)
    plan = make.plan([("hub", "cargo:github-hub")])
    generation = make.generation([make.generated("hub", "cargo:github-hub")])
    wrong_key = make.failure("cargo:hub", message="boom")
    reports = [make.report(make.linux, [make.result("hub", "cargo:github-hub", "fail", failure=wrong_key)])]
    (package,) = decide(plan, generation, reports).packages
    assert package.package_id == "cargo:github-hub"
    assert [ef.failure.package_id for ef in package.failures] == ["cargo:github-hub"]


def test_a_fail_without_a_failure_record_still_records_one(make: Make) -> None:
    plan = make.plan([("x", "cargo:x")])
    generation = make.generation([make.generated("x", "cargo:x")])
    reports = [
        make.report(make.linux, [make.result("x", "cargo:x", "fail", reason="verify printed nothing")])
    ]
    (package,) = decide(plan, generation, reports).packages
    (ef,) = package.failures
    assert package.outcome == "excluded"
    assert (ef.failure.category, ef.failure.message) == ("validation_failed", "verify printed nothing")


def test_a_recipe_already_on_the_base_commit_is_not_overwritten(make: Make) -> None:
    plan = make.plan([("ripgrep", "cargo:ripgrep")])
    generation = make.generation([make.generated("ripgrep", "cargo:ripgrep")])
    reports = [make.report(make.linux, [make.result("ripgrep", "cargo:ripgrep")])]
    names = NameClaims(recipes={"recipes/r/ripgrep.toml"})
    (package,) = decide(plan, generation, reports, names=names).packages
    assert package.outcome == "skipped" and package.name_held
    assert package.reason == "recipes/r/ripgrep.toml already exists on the default branch; not overwritten"


def _claims(*queues: Queue, curated: tuple[Disambiguation, ...] = ()) -> NameClaims:
    return claims("cargo", queues, recipes=(), curated=curated)


def _queue(ecosystem: str, *entries: QueueEntry) -> Queue:
    return Queue(1, ecosystem, dt.datetime(2026, 1, 29, tzinfo=dt.UTC), entries)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "held"),
    [
        ("in_progress", True),
        ("success", True),
        ("pending", False),
        ("failed", False),
        ("requires_manual", False),
    ],
)
def test_a_name_another_ecosystem_proposes_or_merged_is_held(make: Make, status: str, held: bool) -> None:
    """npm's entry for the same name in an open batch (in_progress) or merged (success) holds it;
    one still waiting does not (the first to reach a PR takes the name)."""
    plan = make.plan([("fd", "cargo:fd-find")])
    generation = make.generation([make.generated("fd", "cargo:fd-find")])
    reports = [make.report(make.linux, [make.result("fd", "cargo:fd-find")])]
    npm = _queue("npm", QueueEntry(name="FD", source="npm:fd", priority=1, status=status))  # type: ignore[arg-type]
    own = _queue("cargo", QueueEntry(name="fd", source="cargo:other-fd", priority=1, status="in_progress"))
    (package,) = decide(plan, generation, reports, names=_claims(npm, own)).packages
    assert (package.outcome == "skipped", package.name_held) == (held, held)
    if held:
        assert (
            package.reason
            == f"'fd' is also proposed or merged as npm:fd ({status}); add a curated disambiguation to choose"
        )


def test_a_curated_record_routes_a_held_name(make: Make) -> None:
    plan = make.plan([("fd", "cargo:fd-find")])
    generation = make.generation([make.generated("fd", "cargo:fd-find")])
    reports = [make.report(make.linux, [make.result("fd", "cargo:fd-find")])]
    npm = _queue("npm", QueueEntry(name="fd", source="npm:fd", priority=1, status="in_progress"))
    ours = Disambiguation(tool="fd", selected="cargo:fd-find", alternatives=("npm:fd",), selection_reason="x")
    theirs = dataclasses.replace(ours, selected="npm:fd", alternatives=("cargo:fd-find",))
    (package,) = decide(plan, generation, reports, names=_claims(npm, curated=(ours,))).packages
    assert package.outcome == "merged"
    (package,) = decide(plan, generation, reports, names=_claims(curated=(theirs,))).packages
    assert package.name_held and package.reason == "the curated disambiguation selects npm:fd for 'fd'"


def test_a_package_the_curated_record_routed_is_not_held_by_that_record(make: Make) -> None:
    """The PyPI queue's entry for tinynpm, routed by its curated record to npm:tinynpm, builds
    from the source the record selects: the record frees the name, it does not hold it."""
    plan = make.plan([("tinynpm", "pypi:tinynpm")], ecosystem="pypi")
    generation = make.generation([make.generated("tinynpm", "pypi:tinynpm", resolved="npm:tinynpm")])
    reports = [make.report(make.linux, [make.result("tinynpm", "pypi:tinynpm")])]
    record = Disambiguation(tool="tinynpm", selected="npm:tinynpm")
    names = claims("pypi", (), recipes=(), curated=(record,))
    (package,) = decide(plan, generation, reports, names=names).packages
    assert (package.outcome, package.name_held) == ("merged", False)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda m, p, g, r: (p, m.generation(g.packages[:-1]), r), "no outcome for planned packages"),
        (lambda m, p, g, r: (p, m.generation(g.packages, batch_id="2026-01-29-002"), r), "batch_id is"),
        (
            lambda m, p, g, r: (p, g, [*r, m.report(m.linux, [])]),
            "a second report for environment linux-debian-glibc-x86_64",
        ),
        (
            lambda m, p, g, r: (p, g, [m.report("generation", [])]),
            "'generation' is not a validation environment",
        ),
        (
            lambda m, p, g, r: (p, g, [m.report(m.linux, [m.result("broken", "cargo:broken")])]),
            "which generation failed",
        ),
        (
            lambda m, p, g, r: (p, g, [m.report(m.linux, [m.result("zzz", "cargo:zzz")])]),
            "which the batch did not plan",
        ),
        (
            lambda m, p, g, r: (p, g, [m.report(m.linux, [m.result("bat", "cargo:bat")] * 2)]),
            "two results for cargo:bat",
        ),
        (
            lambda m, p, g, r: (p, dataclasses.replace(g, complete=False), r),
            "generation is not complete",
        ),
    ],
)
def test_inconsistent_batch_directories_are_refused(
    batch: Batch,
    make: Make,
    mutate: Callable[[Make, BatchPlan, GenerationReport, list[ValidationReport]], Batch],
    message: str,
) -> None:
    plan, generation, reports = batch
    with pytest.raises(BatchDirError, match=message):
        decide(*mutate(make, plan, generation, reports))
