"""Where a batch branch becomes a pull request: a seam for PyGithub, and the local stand-in.

Without a token everything stays in the local repository and the PR body is written next to
the manifest (``data/batches/<id>.pr.md``). A GitHub publisher (PyGithub: open the PR, label
it, enable squash auto-merge with ``squash_message`` so the trailer survives) plugs in behind
``PullRequestPublisher`` in a later release. The token is only ever tested for presence here;
its value is never read into a message, a file or a log.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from recipeline_schema import Layout, PullRequestRef, atomic_write_text

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


class PullRequestPublisher(Protocol):
    def publish(self, request: PullRequestRequest) -> PullRequestRef | None:
        """Open (or find) the PR for ``request``; ``None`` when no PR was opened."""
        ...

    @property
    def note(self) -> str:
        """One line for the operator about what was (not) done, or ``""``."""
        ...


class LocalPublisher:
    """No GitHub: write the PR body to ``data/batches/<id>.pr.md`` for a human to use."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.note = ""

    def publish(self, request: PullRequestRequest) -> PullRequestRef | None:
        path = self.layout.batches_dir / f"{request.batch_id}.pr.md"
        atomic_write_text(path, request.body)
        self.note = f"no {TOKEN_VARIABLE}: PR body for {request.branch} written to {path}"
        return None


class PendingGitHubPublisher:
    """A token is set, but opening PRs through PyGithub is not built yet: say so, open nothing."""

    def __init__(self) -> None:
        self.note = ""

    def publish(self, request: PullRequestRequest) -> PullRequestRef | None:
        self.note = (
            f"{TOKEN_VARIABLE} is set but this release does not open pull requests yet; "
            f"push {request.branch} and open the PR by hand"
        )
        return None


def default_publisher(layout: Layout, environ: Mapping[str, str] | None = None) -> PullRequestPublisher:
    """The publisher for this environment: local without a token."""
    env = os.environ if environ is None else environ
    return PendingGitHubPublisher() if env.get(TOKEN_VARIABLE) else LocalPublisher(layout)
