"""The recipe-state vocabulary: each state, and the transitions the records show."""

from __future__ import annotations

import datetime as dt

import pytest

from recipeline_schema import (
    RECIPE_STATES,
    STATE_WORDS,
    BatchManifest,
    BatchPullRequest,
    ManifestPackage,
    PullRequestFact,
    PullRequestRef,
    Release,
    ReleaseRecord,
    RollbackRecord,
    base_state,
    batch_statuses,
    recipe_status,
    state_order,
    state_summary,
)

NOW = dt.datetime(2026, 1, 29, 12, 0, tzinfo=dt.UTC)
BATCH = "2026-01-29-001"
BRANCH = f"batch/{BATCH}"


def _pkg(
    name: str, outcome: str, *, envs: dict[str, str] | None = None, review: bool = False
) -> ManifestPackage:
    committed = outcome == "merged" or review
    return ManifestPackage(
        name=name,
        package_id=f"pypi:{name}",
        resolved_source=f"pypi:{name}",
        outcome=outcome,  # type: ignore[arg-type]
        recipe_path=f"recipes/{name[0]}/{name}.toml" if committed else None,
        environments=envs if envs is not None else ({"linux-x86_64": "pass"} if committed else {}),  # type: ignore[arg-type]
        review=review,
    )


def _manifest(*packages: ManifestPackage) -> BatchManifest:
    batch = tuple(p.recipe_path for p in packages if p.recipe_path and not p.review)
    review = tuple(p.recipe_path for p in packages if p.recipe_path and p.review)
    prs: tuple[BatchPullRequest, ...] = (
        (BatchPullRequest("batch", BRANCH, "t", True, recipes=batch),) if batch else ()
    )
    if review:
        prs += (BatchPullRequest("review", f"{BRANCH}-review", "t", False, recipes=review),)
    return BatchManifest(1, BATCH, "pypi", NOW, NOW, BRANCH if batch else "", packages, pull_requests=prs)


RG = _pkg("rg", "merged")
MANIFEST = _manifest(RG)


def _state(
    pr: PullRequestFact | None,
    *,
    default: frozenset[str] = frozenset(),
    rollback: RollbackRecord | None = None,
    release: ReleaseRecord | None = None,
) -> tuple[str | None, str]:
    s = recipe_status(
        RG, MANIFEST, pull_request=pr, on_default_branch=default, rollback=rollback, release=release
    )
    return s.state, s.words


def test_the_states_are_five_in_order_with_their_words() -> None:
    assert RECIPE_STATES == ("generated", "validated", "on_batch_branch", "pr_open", "on_default_branch")
    assert [STATE_WORDS[s] for s in RECIPE_STATES] == [
        "generated", "validated", "on batch branch", "PR open", "on the default branch",
    ]  # fmt: skip
    assert [state_order(s) for s in (None, *RECIPE_STATES)] == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("package", "state"),
    [
        (_pkg("gone", "failed"), None),  # generation failed: no recipe
        (_pkg("routed", "skipped"), None),
        (_pkg("unvalidated", "excluded"), "generated"),  # generated, no validation result
        (_pkg("broken", "excluded", envs={"linux-x86_64": "fail"}), "generated"),
        (_pkg("needsdep", "blocked", envs={"linux-x86_64": "fail"}), "generated"),
        (_pkg("nodep", "blocked"), None),  # blocked before a recipe was written
        (_pkg("held", "skipped", envs={"linux-x86_64": "pass"}), "validated"),  # passed, name held
        (_pkg("rg", "merged"), "on_batch_branch"),
        (_pkg("risky", "excluded", envs={"linux-x86_64": "pass"}, review=True), "on_batch_branch"),
    ],
)
def test_what_merge_left_each_package_in(package: ManifestPackage, state: str | None) -> None:
    m = _manifest(package)
    s = recipe_status(package, m, pull_request=None, on_default_branch=frozenset())
    assert s.state == state
    assert (
        base_state(
            package.outcome, committed=package.recipe_path is not None, environments=package.environments
        )
        == state
    )
    assert s.words == (STATE_WORDS[state] if state else "no recipe")


def test_a_review_recipe_is_on_the_review_branch() -> None:
    risky = _pkg("risky", "excluded", envs={"linux-x86_64": "pass"}, review=True)
    states = batch_statuses(
        _manifest(RG, risky),
        pull_requests={BRANCH: PullRequestFact("open", 12), f"{BRANCH}-review": PullRequestFact("open", 13)},
        on_default_branch=frozenset(),
    )
    assert [(s.branch, s.words) for s in states] == [
        (BRANCH, "PR #12 open"),
        (f"{BRANCH}-review", "PR #13 open"),
    ]


def test_no_token_no_pr_the_recipe_stays_on_the_batch_branch() -> None:
    assert _state(PullRequestFact("none")) == ("on_batch_branch", "on batch branch, no PR")
    assert _state(None) == ("on_batch_branch", "on batch branch")  # nothing known of a PR


def test_an_open_pr() -> None:
    assert _state(PullRequestFact("open", 12, "https://x/pull/12")) == ("pr_open", "PR #12 open")
    assert _state(PullRequestFact("open")) == ("pr_open", "PR open")


def test_a_merged_pr_puts_it_on_the_default_branch_before_the_clone_knows() -> None:
    assert _state(PullRequestFact("merged", 12)) == ("on_default_branch", "on the default branch")


def test_on_the_default_branch_without_a_pr() -> None:
    """Merged by hand (no token): the default branch's tree is the truth."""
    assert _state(PullRequestFact("none"), default=frozenset({RG.recipe_path or ""})) == (
        "on_default_branch",
        "on the default branch",
    )
    # another recipe on the default branch does not move this one
    assert _state(PullRequestFact("none"), default=frozenset({"recipes/f/fd.toml"}))[0] == "on_batch_branch"


def test_a_closed_pr_falls_back_to_validated() -> None:
    assert _state(PullRequestFact("closed", 12)) == ("validated", "validated, PR #12 closed without merging")


def test_a_release_record_says_the_pr_was_closed_when_github_is_not_asked() -> None:
    release = ReleaseRecord(1, BATCH, "pypi", (
        Release(NOW, "pr_closed", "failed", ("pypi:rg",), BRANCH, PullRequestRef(12, "u"), "closed"),
    ))  # fmt: skip
    assert _state(None, release=release) == ("validated", "validated, PR #12 closed without merging")
    other = ReleaseRecord(1, BATCH, "pypi", (Release(NOW, "pr_closed", "failed", ("pypi:fd",), BRANCH),))
    assert _state(None, release=other)[0] == "on_batch_branch"  # another package's release
    died = ReleaseRecord(1, BATCH, "pypi", (Release(NOW, "batch_died", "pending", ("pypi:rg",), BRANCH),))
    assert _state(None, release=died)[0] == "on_batch_branch"


def test_a_rollback_takes_it_off_the_default_branch() -> None:
    rollback = RollbackRecord(1, BATCH, NOW, "broke installs", (RG.recipe_path or "",), ("pypi:rg",))
    on_default = frozenset({RG.recipe_path or ""})
    # the revert is not merged yet: the default branch still holds it, the rollback decides
    assert _state(PullRequestFact("merged", 12), default=on_default, rollback=rollback) == (
        "validated",
        "validated, rolled back: broke installs",
    )


def test_the_batch_summary_counts_recipes_by_state_furthest_first() -> None:
    fd, gone = _pkg("fd", "merged"), _pkg("gone", "failed")
    m = _manifest(RG, fd, gone)
    none = batch_statuses(m, pull_requests={BRANCH: PullRequestFact("none")}, on_default_branch=frozenset())
    assert state_summary(none) == "2/3 on batch branch, no PR"
    opened = batch_statuses(
        m, pull_requests={BRANCH: PullRequestFact("open", 12)}, on_default_branch=frozenset()
    )
    assert state_summary(opened) == "2/3 in PR #12 open"
    landed = batch_statuses(
        m,
        pull_requests={BRANCH: PullRequestFact("open", 12)},
        on_default_branch=frozenset({RG.recipe_path or ""}),
    )
    assert state_summary(landed) == "1/3 on the default branch; 1/3 in PR #12 open"
    assert state_summary(batch_statuses(_manifest(gone), pull_requests={}, on_default_branch=())) == (
        "0/1 with a recipe"
    )
