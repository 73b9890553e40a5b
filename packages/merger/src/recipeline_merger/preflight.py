"""preflight: the control plane's gate before a batch (IO around the pure selection).

Write order, so a kill at any point leaves a state the next run recovers (ARCHITECTURE §11):
1. the batch directory is created (it reserves the id; without a plan it is not a live batch);
2. the queue is saved with the selection ``in_progress`` (stale, hence re-selectable, until 3);
3. the plan is written, which makes the batch live.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recipeline_schema import BatchDir, Layout, file_lock, normalize_ecosystem, save

from .control import stop_reason
from .errors import MergerError, QueueMismatchError, StoppedError
from .gitrepo import batch_branches
from .selection import select
from .state import live_batches, load_control, load_queue, used_batch_ids

DEFAULT_LOCK_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class PreflightResult:
    batch_id: str | None
    batch_dir: Path | None
    selected: int
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "batch_dir": str(self.batch_dir) if self.batch_dir else None,
            "selected": self.selected,
            "reason": self.reason,
        }


def preflight(
    root: Path,
    *,
    ecosystem: str,
    batch_size: int,
    now: dt.datetime,
    tier: int = 3,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> PreflightResult:
    """Honour the emergency stop, select a batch, mark it ``in_progress`` and write its plan.

    An empty selection writes nothing. Raises ``StoppedError`` when batch-control.json stops
    the pipeline or the ecosystem, ``LockTimeoutError`` when another writer holds the lock.
    """
    layout = Layout(Path(root))
    eco = normalize_ecosystem(ecosystem)
    reason = stop_reason(load_control(layout, now=now), eco)
    if reason is not None:
        raise StoppedError(f"{layout.control}: {reason}")
    with file_lock(layout.lock, timeout=lock_timeout, what=f"the {eco} queue (preflight)"):
        queue = load_queue(layout, eco)
        if queue is None:
            return PreflightResult(None, None, 0, f"no {eco} queue at {layout.queue(eco)}: seed it first")
        if queue.ecosystem != eco:
            raise QueueMismatchError(
                f"{layout.queue(eco)}: ecosystem is {queue.ecosystem!r}, expected {eco!r}"
            )
        selection = select(
            queue,
            now=now,
            size=batch_size,
            tier=tier,
            live_batches=live_batches(layout),
            existing_ids=used_batch_ids(layout) | batch_branches(layout.root),
        )
        if selection.batch_id is None or selection.queue is None or selection.plan is None:
            return PreflightResult(None, None, 0, selection.reason)
        batch_dir = BatchDir(layout.batch_dir(selection.batch_id))
        try:
            batch_dir.path.mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            raise MergerError(
                f"{batch_dir.path} exists already; batch id {selection.batch_id} is taken"
            ) from None
        save(selection.queue, layout.queue(eco))
        save(selection.plan, batch_dir.plan)
    return PreflightResult(selection.batch_id, batch_dir.path, len(selection.entries))
