"""requeue: failed/blocked entries of one failure category back to ``pending`` after a builder fix.

An entry matches when its **last attempt's** failures (the failures recorded for its package id
in its most recent failure record, by ``updated_at``) include the category (and subcategory,
when given). Older failures do not count: a package that failed for another reason since is
not the fix's to retry. Matching entries become ``pending`` with the backoff cleared and
``failure_count`` reset to 0 (the count was the old builder's), and the reason says why.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recipeline_schema import (
    CATEGORIES,
    TAXONOMY,
    Failure,
    FailureRecord,
    InvalidValueError,
    Layout,
    Queue,
    QueueEntry,
    file_lock,
    format_time,
    load,
    normalize_ecosystem,
    read_jsonl,
    replace_entries,
    save,
)

from .preflight import DEFAULT_LOCK_TIMEOUT

REQUEUE_STATUSES = ("failed", "blocked")


def last_failures(records: Iterable[FailureRecord]) -> dict[str, tuple[Failure, ...]]:
    """Per package id, the failures of its most recent record time (its last attempt)."""
    latest: dict[str, tuple[dt.datetime, list[Failure]]] = {}
    for record in records:
        for failure in record.failures:
            seen = latest.get(failure.package_id)
            if seen is None or record.updated_at > seen[0]:
                latest[failure.package_id] = (record.updated_at, [failure])
            elif record.updated_at == seen[0]:
                seen[1].append(failure)
    return {pid: tuple(failures) for pid, (_, failures) in latest.items()}


def check_category(category: str, subcategory: str | None) -> None:
    spec = TAXONOMY.get(category)
    if spec is None:
        raise InvalidValueError(f"--category {category!r}: expected one of {', '.join(CATEGORIES)}")
    if subcategory is not None and subcategory not in spec.subcategories:
        expected = ", ".join(spec.subcategories) or "none (this category has no subcategories)"
        raise InvalidValueError(f"--subcategory {subcategory!r} of {category}: expected {expected}")


def requeue_queue(
    queue: Queue,
    last: Mapping[str, tuple[Failure, ...]],
    *,
    category: str,
    subcategory: str | None,
    now: dt.datetime,
) -> tuple[Queue, tuple[str, ...]]:
    """The queue with matching failed/blocked entries ``pending``; and their sources."""
    kind = category + (f"/{subcategory}" if subcategory else "")
    changed: list[QueueEntry] = []
    for entry in queue.entries:
        if entry.status not in REQUEUE_STATUSES:
            continue
        failures = last.get(entry.source, ())
        if any(
            f.category == category and (subcategory is None or f.subcategory == subcategory) for f in failures
        ):
            changed.append(
                dataclasses.replace(
                    entry,
                    status="pending",
                    failure_count=0,
                    next_retry_at=None,
                    blocked_by=(),
                    reason=f"requeued at {format_time(now)} after a fix for {kind}",
                )
            )
    if not changed:
        return queue, ()
    return replace_entries(queue, changed, now=now), tuple(e.source for e in changed)


@dataclass(frozen=True, slots=True)
class RequeueResult:
    category: str
    subcategory: str | None
    requeued: Mapping[str, tuple[str, ...]]  # ecosystem -> sources

    def to_json(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "subcategory": self.subcategory,
            "requeued": sum(len(v) for v in self.requeued.values()),
            "by_ecosystem": {k: list(v) for k, v in self.requeued.items()},
        }


def requeue(
    root: Path,
    *,
    category: str,
    subcategory: str | None = None,
    ecosystem: str | None = None,
    now: dt.datetime,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> RequeueResult:
    """Requeue the matching entries of every queue (or of ``ecosystem``'s) from data/failures."""
    check_category(category, subcategory)
    layout = Layout(Path(root))
    eco = normalize_ecosystem(ecosystem) if ecosystem else None
    out: dict[str, tuple[str, ...]] = {}
    with file_lock(layout.lock, timeout=lock_timeout, what="the queues (requeue)"):
        for path in sorted((layout.data / "queues").glob("priority-queue-*.json")):
            queue = load(Queue, path)
            if eco is not None and queue.ecosystem != eco:
                continue
            last = last_failures(_records(layout, queue.ecosystem))
            updated, sources = requeue_queue(queue, last, category=category, subcategory=subcategory, now=now)
            if sources:
                save(updated, path)
                out[queue.ecosystem] = sources
    return RequeueResult(category, subcategory, out)


def _records(layout: Layout, ecosystem: str) -> list[FailureRecord]:
    """Every failure record of ``ecosystem`` (files ``data/failures/<ecosystem>-*.jsonl``)."""
    records: list[FailureRecord] = []
    if layout.failures_dir.is_dir():
        for path in sorted(layout.failures_dir.glob(f"{ecosystem}-*.jsonl")):
            records += read_jsonl(FailureRecord, path)
    return records
