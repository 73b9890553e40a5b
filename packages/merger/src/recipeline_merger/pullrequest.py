"""Where a batch branch becomes a pull request: the seam, the local stand-in, the choice.

Without a token everything stays in the local repository and the PR body is written next to
the manifest (``data/batches/<id>.pr.md``). With ``GITHUB_TOKEN`` set, ``GitHubPublisher``
(``ghpublisher``) pushes the branch and opens the PR through PyGithub. The token is only
tested for presence here; its value is never read into a message, a file or a log.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from recipeline_schema import Gate, Layout, PullRequestRef, atomic_write_text

TOKEN_VARIABLE = "GITHUB_TOKEN"  # noqa: S105 - the variable's name, not a secret


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


class LocalPublisher:
    """No GitHub: write the PR body to ``data/batches/<id>.pr.md`` for a human to use."""

    remote = False

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
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


def default_publisher(layout: Layout, environ: Mapping[str, str] | None = None) -> PullRequestPublisher:
    """The publisher for this environment: GitHub with a token, local without."""
    env = os.environ if environ is None else environ
    if not env.get(TOKEN_VARIABLE):
        return LocalPublisher(layout)
    from .ghpublisher import GitHubPublisher  # PyGithub is only imported when it is used

    return GitHubPublisher.from_environment(layout.root, env)
