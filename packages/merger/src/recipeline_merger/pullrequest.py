"""Where a batch branch becomes a pull request: the seam, the local stand-in, the choice.

Without a token everything stays in the local repository and the PR body is written next to
the manifest (``data/batches/<id>.pr.md``). With a token, ``GitHubPublisher`` (``ghpublisher``)
pushes the branch and opens the PR through PyGithub. The token is ``RECIPELINE_PR_TOKEN`` (a
GitHub App installation token or a fine-grained PAT) or else ``GITHUB_TOKEN``; inside GitHub
Actions the fallback earns a warning, because PRs opened with the workflow's own token start no
workflows, so their required checks never run. The token is only tested for presence here;
its value is never read into a message, a file or a log.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from recipeline_schema import Gate, Layout, PullRequestRef, atomic_write_text

from .errors import MergerError
from .gitrepo import delete_branch_everywhere

TOKEN_VARIABLE = "GITHUB_TOKEN"  # noqa: S105 - the variable's name, not a secret
#: The token PRs are opened with when set (App installation token or fine-grained PAT).
PR_TOKEN_VARIABLE = "RECIPELINE_PR_TOKEN"  # noqa: S105 - the variable's name, not a secret
#: What a batch PR's landing can come to (``land``): merged now, left to GitHub's auto-merge,
#: checks still pending, checks failed, the PR not open, or no PR at all (local, or none found).
Landing = Literal["merged", "auto-merge", "pending", "failed", "closed", "none"]


@dataclass(frozen=True, slots=True)
class PullRequestState:
    """The newest PR of a head branch, as GitHub says."""

    number: int
    url: str
    branch: str
    state: Literal["open", "closed", "merged"]
    auto_merge: bool = False  # GitHub's auto-merge is enabled on it


#: How long ``finish`` waits for a batch PR's checks by default: below the merge job's
#: ``timeout-minutes: 30`` with room for the steps before and after it.
DEFAULT_CHECKS_TIMEOUT = 600.0
CHECKS_TIMEOUT_VARIABLE = "RECIPELINE_CHECKS_TIMEOUT"


def checks_timeout(environ: Mapping[str, str]) -> float:
    """``RECIPELINE_CHECKS_TIMEOUT`` seconds, else ``DEFAULT_CHECKS_TIMEOUT``."""
    raw = environ.get(CHECKS_TIMEOUT_VARIABLE)
    if not raw:
        return DEFAULT_CHECKS_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        raise MergerError(f"{CHECKS_TIMEOUT_VARIABLE} is {raw!r}: expected seconds") from None
    if not value >= 0:
        raise MergerError(f"{CHECKS_TIMEOUT_VARIABLE} is {raw!r}: expected seconds >= 0")
    return value


def token_of(environ: Mapping[str, str]) -> str | None:
    """The token PRs are opened with: ``RECIPELINE_PR_TOKEN``, else ``GITHUB_TOKEN``, else none."""
    return environ.get(PR_TOKEN_VARIABLE) or environ.get(TOKEN_VARIABLE) or None


def token_warning(environ: Mapping[str, str]) -> str | None:
    """The warning for a run inside GitHub Actions that falls back to the workflow's token."""
    if environ.get("GITHUB_ACTIONS") != "true" or environ.get(PR_TOKEN_VARIABLE):
        return None
    if not environ.get(TOKEN_VARIABLE):
        return None
    return (
        f"{PR_TOKEN_VARIABLE} is not set: batch PRs are opened with the workflow's {TOKEN_VARIABLE}, "
        "and PRs opened with it start no workflows, so required checks never run and auto-merge "
        "never merges; set the secret to a GitHub App installation token or a fine-grained PAT"
    )


@dataclass(frozen=True, slots=True)
class PullRequestRequest:
    """Everything a PR for one batch needs."""

    batch_id: str
    branch: str
    base: str
    title: str
    body: str
    squash_message: str  # the batch commit's message: keeps the batch_id trailer (§12.7)
    labels: tuple[str, ...]
    auto_merge: bool
    kind: str = "batch"  # "batch", "review" or "rollback": names the local body file
    gates: tuple[Gate, ...] = ()  # the verdicts; a failed gate is named in a PR comment


class PullRequestPublisher(Protocol):
    #: True when the PR's checks are enforced by GitHub when it merges (the ``checks`` gate)
    remote: bool

    def publish(self, request: PullRequestRequest) -> PullRequestRef | None:
        """Open (or find) the PR for ``request``; ``None`` when no PR was opened."""
        ...

    @property
    def note(self) -> str:
        """One line for the operator about what was (not) done, or ``""``."""
        ...

    def open_batches(self, ecosystem: str) -> tuple[str, ...]:
        """Batch PRs of ``ecosystem`` still open (``"#12 batch/2026-01-29-001"``): preflight waits."""
        ...

    def pull_request_state(self, branch: str) -> PullRequestState | None:
        """The newest PR whose head is ``branch``; ``None`` when there is none (or no GitHub)."""
        ...

    def land(self, branch: str, *, timeout: float) -> tuple[Landing, str]:
        """Merge ``branch``'s open PR (squash, its commit's message) once its checks are green,
        waiting at most ``timeout`` seconds; what happened and a line saying so. A PR with
        GitHub's auto-merge enabled is left to GitHub; one whose checks failed or did not turn
        green in time gets a comment naming the ``checks`` gate and stays open."""
        ...

    def close(self, branch: str, comment: str) -> PullRequestState | None:
        """Close ``branch``'s open PR without merging, after ``comment``; the PR, or ``None``."""
        ...

    def delete_branch(self, branch: str) -> bool:
        """Delete ``branch`` wherever the batch pushed it; whether there was one to delete."""
        ...


class LocalPublisher:
    """No GitHub: write the PR body to ``data/batches/<id>.pr.md`` for a human to use."""

    remote = False

    def __init__(self, layout: Layout, *, git_remote: str = "origin") -> None:
        self.layout = layout
        self.git_remote = git_remote
        self.note = ""

    def publish(self, request: PullRequestRequest) -> PullRequestRef | None:
        suffix = ".pr.md" if request.kind == "batch" else f".{request.kind}.pr.md"
        path = self.layout.batches_dir / f"{request.batch_id}{suffix}"
        atomic_write_text(path, request.body)
        self.note = f"no {TOKEN_VARIABLE}: PR body for {request.branch} written to {path}"
        return None

    def open_batches(self, ecosystem: str) -> tuple[str, ...]:
        """Locally there are no PRs: a ``batch/<id>`` branch is the operator's to merge or drop."""
        return ()

    def pull_request_state(self, branch: str) -> PullRequestState | None:
        return None  # no PRs: reconcile reads the branches instead

    def land(self, branch: str, *, timeout: float) -> tuple[Landing, str]:
        return "none", f"no token: {branch} is merged by a human (locally there are no checks)"

    def close(self, branch: str, comment: str) -> PullRequestState | None:
        return None

    def delete_branch(self, branch: str) -> bool:
        """The local branch, and the remote's (``origin``) when the batch pushed it there."""
        return delete_branch_everywhere(self.layout.root, branch, remote=self.git_remote)


def default_publisher(layout: Layout, environ: Mapping[str, str] | None = None) -> PullRequestPublisher:
    """The publisher for this environment: GitHub with a token, local without."""
    env = os.environ if environ is None else environ
    if not token_of(env):
        return LocalPublisher(layout, git_remote=env.get("RECIPELINE_GIT_REMOTE") or "origin")
    from .ghpublisher import GitHubPublisher  # PyGithub is only imported when it is used

    return GitHubPublisher.from_environment(layout.root, env)
