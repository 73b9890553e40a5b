"""Pure batch selection for preflight: queue + now + live batches -> entries, id and plan."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from recipeline_schema import (
    BatchPlan,
    PlannedPackage,
    Queue,
    QueueEntry,
    format_time,
    mark_in_progress,
    next_batch_id,
    select_batch,
)


@dataclass(frozen=True, slots=True)
class Selection:
    """What preflight decided: an empty selection has no id, no queue and no plan."""

    batch_id: str | None
    entries: tuple[QueueEntry, ...]
    queue: Queue | None  # the queue with the selection marked in_progress
    plan: BatchPlan | None
    reason: str = ""


def select(
    queue: Queue,
    *,
    now: dt.datetime,
    size: int,
    tier: int,
    live_batches: Collection[str],
    existing_ids: Iterable[str],
    picked: tuple[QueueEntry, ...] | None = None,
) -> Selection:
    """Select up to ``size`` entries of tier <= ``tier`` and allocate the batch id for ``now``.

    ``live_batches`` are the batches still under way (an ``in_progress`` entry of any other
    batch is stale and may be picked again); ``existing_ids`` every batch id already used.
    ``picked`` replaces the selection by queue order (a half-open breaker's probe).
    """
    if picked is None:
        picked = select_batch(queue, now=now, size=size, tier=tier, live_batches=live_batches)
    if not picked:
        return Selection(None, (), None, None, empty_reason(queue, now=now, tier=tier, live=live_batches))
    batch_id = next_batch_id(now.astimezone(dt.UTC).date(), existing_ids)
    marked = mark_in_progress(queue, picked, batch_id=batch_id, now=now)
    plan = BatchPlan(
        schema_version=1,
        batch_id=batch_id,
        ecosystem=queue.ecosystem,
        created_at=now,
        tier=tier,
        packages=tuple(PlannedPackage(name=e.name, package_id=e.source) for e in picked),
    )
    return Selection(batch_id, picked, marked, plan)


def empty_reason(queue: Queue, *, now: dt.datetime, tier: int, live: Collection[str]) -> str:
    """One line saying why nothing of ``queue`` can be selected now (what the entries wait for)."""
    if not queue.entries:
        return f"the {queue.ecosystem} queue has no entries"
    waiting: list[dt.datetime] = []
    counts: Counter[str] = Counter()
    for entry in queue.entries:
        if entry.priority > tier:
            counts["above tier"] += 1
        elif entry.status in ("pending", "failed") and entry.next_retry_at is not None:
            counts[f"{entry.status} waiting for retry"] += 1
            waiting.append(entry.next_retry_at)
        elif entry.status == "in_progress" and entry.batch_id in live:
            counts["in_progress in a live batch"] += 1
        else:
            counts[entry.status] += 1
    parts = [f"{n} {what}" for what, n in sorted(counts.items())]
    soonest = f"; next retry at {format_time(min(waiting))}" if waiting else ""
    return f"no eligible entry of tier <= {tier} in the {queue.ecosystem} queue ({', '.join(parts)}){soonest}"
