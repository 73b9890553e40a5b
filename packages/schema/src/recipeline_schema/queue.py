"""Pure rules of the queue contract (ARCHITECTURE §3.1): order, eligibility, selection, ids."""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
from collections.abc import Collection, Iterable

from .errors import InvalidValueError
from .ids import _BATCH_ID, check_batch_id
from .models import Queue, QueueEntry

_SOURCE = operator.attrgetter("source")


def order_key(entry: QueueEntry) -> tuple[int, int, str, str]:
    """Priority, then popularity descending, then name (case-insensitive, then exact)."""
    return (entry.priority, -(entry.popularity or 0), entry.name.lower(), entry.name)


def ordered(entries: Iterable[QueueEntry]) -> tuple[QueueEntry, ...]:
    """The entries in queue order (``order_key``; equal keys keep their order)."""
    return tuple(sorted(entries, key=order_key))


def is_eligible(
    entry: QueueEntry,
    *,
    now: dt.datetime,
    tier: int = 3,
    live_batches: Collection[str] | None = None,
) -> bool:
    """Whether selection may pick ``entry`` now.

    pending and failed entries are eligible once ``next_retry_at`` has passed; an
    ``in_progress`` entry only when ``live_batches`` is given and its batch is not in it
    (its batch vanished). An entry that ``waits_for`` another version of a stage is not
    eligible at all (``retry.release_waiting`` frees it). Every other status is not the
    batch's to touch.
    """
    if entry.priority > tier or entry.waits_for:
        return False
    if entry.next_retry_at is not None and entry.next_retry_at > now:
        return False
    if entry.status in ("pending", "failed"):
        return True
    if entry.status == "in_progress" and live_batches is not None:
        return entry.batch_id not in live_batches
    return False


def select_batch(
    queue: Queue,
    *,
    now: dt.datetime,
    size: int,
    tier: int = 3,
    live_batches: Collection[str] | None = None,
) -> tuple[QueueEntry, ...]:
    """The first ``size`` eligible entries in queue order."""
    if size < 0:
        raise InvalidValueError(f"batch size must be >= 0, got {size!r}")
    picked: list[QueueEntry] = []
    for entry in ordered(queue.entries):
        if len(picked) >= size:
            break
        if is_eligible(entry, now=now, tier=tier, live_batches=live_batches):
            picked.append(entry)
    return tuple(picked)


def replace_entries(queue: Queue, changed: Iterable[QueueEntry], *, now: dt.datetime) -> Queue:
    """A new queue with entries replaced by source (the key), in queue order.

    When no replacement changes its entry's order key (a status change, as in marking a batch
    in progress), the entries keep their places and the queue is not sorted again.
    """
    by_source = {e.source: e for e in changed}
    old = {e.source: e for e in queue.entries if e.source in by_source}
    resort = any(order_key(new) != order_key(old[src]) for src, new in by_source.items() if src in old)
    # each entry, or its replacement: dict.pop(source, entry) mapped in C over the whole queue
    entries = tuple(map(by_source.pop, map(_SOURCE, queue.entries), queue.entries))
    if by_source:
        raise InvalidValueError(f"entries not in the {queue.ecosystem} queue: {sorted(by_source)}")
    return dataclasses.replace(queue, entries=ordered(entries) if resort else entries, updated_at=now)


def mark_in_progress(
    queue: Queue, selected: Iterable[QueueEntry], *, batch_id: str, now: dt.datetime
) -> Queue:
    """Mark the selected entries ``in_progress`` in batch ``batch_id``."""
    check_batch_id(batch_id)
    changed = [
        dataclasses.replace(e, status="in_progress", batch_id=batch_id, last_attempt_at=now) for e in selected
    ]
    return replace_entries(queue, changed, now=now)


def next_batch_id(day: dt.date, existing: Iterable[str]) -> str:
    """``YYYY-MM-DD-NNN``: one more than the highest sequence of ``day`` among ``existing``."""
    prefix = day.isoformat() + "-"
    used = [int(b[len(prefix) :]) for b in existing if b.startswith(prefix) and _BATCH_ID.fullmatch(b)]
    seq = max(used, default=0) + 1
    if seq > 999:
        raise InvalidValueError(f"more than 999 batches on {day.isoformat()}")
    return f"{prefix}{seq:03d}"
