"""reconcile: queue statuses from the default branch and from which batches still exist."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recipeline_schema import Layout, Queue, file_lock, load, save

from .gitrepo import batch_branches, paths_in_tree, resolve_commit
from .preflight import DEFAULT_LOCK_TIMEOUT
from .queue_updates import ReconcileCounts, reconcile_queue
from .rollback import rolled_back_batches
from .state import live_batches


@dataclass(frozen=True, slots=True)
class ReconcileResult:
    default_branch: str
    queues: int
    changed_queues: int
    counts: ReconcileCounts

    def to_json(self) -> dict[str, Any]:
        return {
            "default_branch": self.default_branch,
            "queues": self.queues,
            "changed_queues": self.changed_queues,
            "success": self.counts.success,
            "requeued": self.counts.requeued,
            "unblocked": self.counts.unblocked,
        }


def reconcile(
    root: Path,
    *,
    now: dt.datetime,
    default_branch: str = "main",
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> ReconcileResult:
    """Mark entries whose recipe is on ``default_branch`` ``success``; send ``in_progress``
    entries of vanished batches (no directory with a plan, no manifest, no branch) back to
    ``pending``. Every queue file under data/queues/ is reconciled."""
    layout = Layout(Path(root))
    resolve_commit(layout.root, default_branch)
    on_branch = paths_in_tree(layout.root, default_branch, "recipes")
    branches = batch_branches(layout.root)
    total = ReconcileCounts()
    queues = changed = 0
    with file_lock(layout.lock, timeout=lock_timeout, what="the queues (reconcile)"):
        live = live_batches(layout) | branches
        rolled_back = rolled_back_batches(layout)
        for path in sorted((layout.data / "queues").glob("priority-queue-*.json")):
            queue = load(Queue, path)
            queues += 1
            updated, counts = reconcile_queue(
                queue, on_default_branch=on_branch, live_batches=live, now=now, rolled_back=rolled_back
            )
            if updated is not queue:
                save(updated, path)
                changed += 1
                total = total + counts
    return ReconcileResult(default_branch, queues, changed, total)
