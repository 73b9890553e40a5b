"""finish: land a merged batch's PR once its checks are green, after the state is recorded.

``merge`` writes every piece of the batch's state and opens its PRs without waiting for
anything. In CI the state is then pushed (``push-state``), and only then does ``finish`` wait,
at most ``timeout`` seconds (``RECIPELINE_CHECKS_TIMEOUT``, default 600: below the merge job's
``timeout-minutes: 30``), for the batch PR's checks when GitHub's auto-merge is not doing it:
green -> squash merge with the batch commit's message (the trailer survives); failed, or not
green in time -> a comment naming the ``checks`` gate, the PR left open, and the next run's
reconcile merges it once its checks are green. A wait that ends, or a job killed while
waiting, therefore loses nothing. The review PR is never landed here: a human merges it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recipeline_schema import BatchManifest, BatchPullRequest, Layout, load

from .errors import MergerError
from .gitrepo import batch_branch
from .pullrequest import Landing, PullRequestPublisher, default_publisher


@dataclass(frozen=True, slots=True)
class FinishResult:
    batch_id: str
    branch: str | None
    landing: Landing | None  # None: nothing to land (no batch PR, or a gate withheld auto-merge)
    note: str

    def to_json(self) -> dict[str, Any]:
        return {"batch_id": self.batch_id, "branch": self.branch, "landing": self.landing, "note": self.note}


def batch_pull_requests(manifest: BatchManifest) -> tuple[BatchPullRequest, ...]:
    """The manifest's PRs; a manifest written before ``pull_requests`` existed has its one
    batch PR named by ``branch`` (all its included recipes, auto-merge as recorded)."""
    if manifest.pull_requests or not manifest.branch:
        return manifest.pull_requests
    recipes = tuple(p.recipe_path for p in manifest.packages if p.outcome == "merged" and p.recipe_path)
    return (
        BatchPullRequest(
            kind="batch",
            branch=manifest.branch,
            title="",
            auto_merge=manifest.auto_merge,
            gates=manifest.gates,
            recipes=recipes,
        ),
    )


def finish(
    root: Path, *, batch_id: str, timeout: float, publisher: PullRequestPublisher | None = None
) -> FinishResult:
    """Land batch ``batch_id``'s PR (see the module doc); reads the manifest, writes nothing."""
    layout = Layout(Path(root))
    path = layout.manifest(batch_id)
    if not path.exists():
        raise MergerError(f"{path}: no manifest for batch {batch_id}; run merge first")
    manifest = load(BatchManifest, path)
    batch = next((pr for pr in batch_pull_requests(manifest) if pr.kind == "batch"), None)
    if batch is None:
        return FinishResult(batch_id, None, None, "the batch has no batch PR (nothing passed every gate)")
    if not batch.auto_merge:
        failed = ", ".join(g.name for g in batch.gates if not g.passed) or "a gate"
        return FinishResult(
            batch_id, batch.branch, None, f"auto-merge withheld ({failed}): a human merges it"
        )
    publisher = publisher or default_publisher(layout)
    landing, note = publisher.land(batch.branch or batch_branch(batch_id), timeout=timeout)
    return FinishResult(batch_id, batch.branch, landing, note)
