"""One vocabulary for where a batch's recipe is, derived from what the batch records say.

A recipe of a batch moves through five states, in this order (``RECIPE_STATES``; the words
people read are ``STATE_WORDS``):

1. ``generated`` ("generated"): the generator wrote it; no environment passed it (yet);
2. ``validated`` ("validated"): it passed a validation, and is on no branch that may land
   (not committed, its PR was closed without merging, or its batch was rolled back);
3. ``on_batch_branch`` ("on batch branch"): committed on ``batch/<id>`` (or the review branch
   ``batch/<id>-review``); no PR is known to be open (locally without a token there is none);
4. ``pr_open`` ("PR open"): the PR of its branch is open;
5. ``on_default_branch`` ("on the default branch"): the default branch holds it (its PR was
   merged, or the branch was merged by hand).

A package without a recipe (generation failed, routing skipped it) has no state: ``None``,
"no recipe". The manifest's outcome ``merged`` (and the metrics line's ``merged`` count, kept
for compatibility with tsuku's ``batch-runs.jsonl``) only says the recipe was committed on the
batch branch: state 3, not 5.

``recipe_status`` is pure: the caller says what it knows of the PR (``PullRequestFact``) and of
the default branch (the recipe paths it holds); the records (``BatchManifest``, its
``RollbackRecord``, its ``ReleaseRecord``) say the rest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the records are only read: importing this module costs no models
    from .models import BatchManifest, ManifestPackage, ReleaseRecord, RollbackRecord

RecipeState = Literal["generated", "validated", "on_batch_branch", "pr_open", "on_default_branch"]

#: The states in the order a recipe reaches them.
RECIPE_STATES: tuple[RecipeState, ...] = (
    "generated",
    "validated",
    "on_batch_branch",
    "pr_open",
    "on_default_branch",
)

#: The words for people, the same in ``status``, the dashboard and the PR body.
STATE_WORDS: Mapping[RecipeState, str] = {
    "generated": "generated",
    "validated": "validated",
    "on_batch_branch": "on batch branch",
    "pr_open": "PR open",
    "on_default_branch": "on the default branch",
}

#: The words for a package that has no recipe at all.
NO_RECIPE_WORDS = "no recipe"

#: What is known of the PR of a batch branch: ``none`` no PR was opened (no token: its body
#: was written next to the manifest), ``open``, ``merged``, ``closed`` without merging.
PullRequestFate = Literal["none", "open", "merged", "closed"]


@dataclass(frozen=True, slots=True)
class PullRequestFact:
    fate: PullRequestFate
    number: int | None = None
    url: str = ""

    @property
    def label(self) -> str:
        """``PR #12``, or ``PR`` when its number is not known."""
        return f"PR #{self.number}" if self.number is not None else "PR"


@dataclass(frozen=True, slots=True)
class RecipeStatus:
    """Where one package's recipe is; ``state`` ``None``: it has no recipe."""

    name: str
    package_id: str
    state: RecipeState | None
    branch: str = ""  # the batch branch that holds (or held) it
    pull_request: PullRequestFact | None = None  # what is known of that branch's PR
    note: str = ""  # why it is not further: "no PR", "PR #12 closed without merging", "rolled back: ..."

    @property
    def words(self) -> str:
        """The state in people's words, with the PR's number and the note: ``PR #12 open``,
        ``on batch branch, no PR``, ``validated, rolled back: broke installs``."""
        if self.state is None:
            base = NO_RECIPE_WORDS
        elif self.state == "pr_open" and self.pull_request is not None:
            base = f"{self.pull_request.label} open"
        else:
            base = STATE_WORDS[self.state]
        return f"{base}, {self.note}" if self.note else base


def state_order(state: RecipeState | None) -> int:
    """0 for no recipe, 1 for ``generated`` .. 5 for ``on_default_branch``."""
    return 0 if state is None else RECIPE_STATES.index(state) + 1


def base_state(outcome: str, *, committed: bool, environments: Mapping[str, str]) -> RecipeState | None:
    """The state the merge stage left a package in: ``on_batch_branch`` when its recipe was
    committed (an included recipe, or one sent to the review PR), else ``validated`` when an
    environment passed it, ``generated`` when a recipe was validated (or excluded unvalidated),
    ``None`` when there is no recipe (generation failed or routing skipped it)."""
    if committed:
        return "on_batch_branch"
    if "pass" in environments.values():
        return "validated"
    if environments or outcome == "excluded":  # excluded: a recipe that failed or was not validated
        return "generated"
    return None


def recipe_status(
    package: ManifestPackage,
    manifest: BatchManifest,
    *,
    pull_request: PullRequestFact | None,
    on_default_branch: Collection[str],
    rollback: RollbackRecord | None = None,
    release: ReleaseRecord | None = None,
) -> RecipeStatus:
    """The state of ``package`` (one of ``manifest.packages``).

    ``pull_request``: what is known of the PR of the branch holding it (``None``: not known);
    ``on_default_branch``: the recipe paths the default branch holds. In order: a rolled-back
    batch's recipes are ``validated`` (rolled back); a recipe on the default branch, or whose
    PR was merged, is ``on_default_branch``; one whose PR was closed unmerged (GitHub says so,
    or reconcile released it) is ``validated``; an open PR makes it ``pr_open``; else it is
    ``on_batch_branch`` (with the note ``no PR`` when none was opened). A package not committed
    gets its ``base_state`` and no note (the manifest's ``reason`` says why)."""
    committed = package.recipe_path is not None
    state = base_state(package.outcome, committed=committed, environments=package.environments)
    if not committed:  # the manifest's reason says why it went no further
        return RecipeStatus(package.name, package.package_id, state)
    branch = _branch_of(package, manifest)

    def status(state: RecipeState, note: str = "") -> RecipeStatus:
        return RecipeStatus(package.name, package.package_id, state, branch, pull_request, note)

    if rollback is not None:
        return status("validated", f"rolled back: {rollback.reason}" if rollback.reason else "rolled back")
    if package.recipe_path in on_default_branch:
        return status("on_default_branch")
    if pull_request is not None and pull_request.fate == "merged":
        return status("on_default_branch")
    if pull_request is not None and pull_request.fate == "closed":
        return status("validated", f"{pull_request.label} closed without merging")
    closed = _released_closed(package, release)
    if closed is not None:
        return status("validated", closed)
    if pull_request is not None and pull_request.fate == "open":
        return status("pr_open")
    if pull_request is not None and pull_request.fate == "none":
        return status("on_batch_branch", "no PR")
    return status("on_batch_branch")


def batch_statuses(
    manifest: BatchManifest,
    *,
    pull_requests: Mapping[str, PullRequestFact],
    on_default_branch: Collection[str],
    rollback: RollbackRecord | None = None,
    release: ReleaseRecord | None = None,
) -> tuple[RecipeStatus, ...]:
    """``recipe_status`` of every package of ``manifest``; ``pull_requests`` maps a batch
    branch (``batch/<id>``, ``batch/<id>-review``) to what is known of its PR."""
    return tuple(
        recipe_status(
            p,
            manifest,
            pull_request=pull_requests.get(_branch_of(p, manifest)),
            on_default_branch=on_default_branch,
            rollback=rollback,
            release=release,
        )
        for p in manifest.packages
    )


def state_summary(statuses: Iterable[RecipeStatus]) -> str:
    """One line for a batch, furthest state first: ``3/3 on batch branch, no PR``,
    ``3/3 in PR #12 open``, ``2/3 on the default branch; 1/3 generated``. Packages without
    a recipe are left out (``0/3 with a recipe`` when none has one)."""
    items = list(statuses)
    total = len(items)
    groups = Counter((state_order(s.state), s.words) for s in items if s.state is not None)
    if not groups:
        return f"0/{total} with a recipe"
    parts = []
    for (order, words), n in sorted(groups.items(), key=lambda kv: (-kv[0][0], kv[0][1])):
        prefix = "in " if order == state_order("pr_open") else ""
        parts.append(f"{n}/{total} {prefix}{words}")
    return "; ".join(parts)


def _branch_of(package: ManifestPackage, manifest: BatchManifest) -> str:
    """The branch holding a committed recipe: the manifest's PR whose recipes name it, else the
    review branch for a review recipe, else the batch branch."""
    for pr in manifest.pull_requests:
        if package.recipe_path in pr.recipes:
            return pr.branch
    branch = manifest.branch or f"batch/{manifest.batch_id}"
    return f"batch/{manifest.batch_id}-review" if package.review else branch


def _released_closed(package: ManifestPackage, release: ReleaseRecord | None) -> str | None:
    """The note of a release that failed ``package`` because its PR was closed unmerged."""
    for r in release.releases if release is not None else ():
        if r.cause == "pr_closed" and package.package_id in r.packages:
            what = f"PR #{r.pull_request.number}" if r.pull_request else "PR"
            return f"{what} closed without merging"
    return None
