"""The pure dashboard: queues, failure records and metrics in, the ``dashboard.json`` document out.

No clock, filesystem or network: ``now`` and what the readers found (including the problems
they met) are passed in. The same inputs, in any order, give the same document.
"""

from __future__ import annotations

import datetime as dt
import typing
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from recipeline_schema import (
    CATEGORIES,
    FailureRecord,
    MetricsLine,
    Queue,
    QueueEntry,
    format_time,
    order_key,
    to_json,
)

#: How many failures ``recent_failures`` shows.
RECENT_FAILURES = 20
#: How many read problems ``errors.items`` lists (``errors.count`` counts them all).
MAX_LISTED_ERRORS = 100
#: Key for failures whose record carries no subcategory (tsuku's never do).
NO_SUBCATEGORY = "unspecified"

#: Every queue status of the contract, so ``by_status`` shows zeros too.
STATUSES: tuple[str, ...] = typing.get_args(typing.get_type_hints(QueueEntry)["status"])
TIERS: tuple[int, ...] = (1, 2, 3)

Document = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ReadProblem:
    """A data file, or one line of it, that could not be read; shown, never fatal."""

    file: str  # repository-relative, '/'-separated
    line: int | None  # 1-based for JSON Lines files; None when the whole file is unusable
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "message": self.message}


@dataclass(frozen=True, slots=True)
class _FailureRow:
    """One package failure with the context of its record, as ``recent_failures`` shows it."""

    record: FailureRecord
    index: int

    def sort_key(self) -> tuple[dt.datetime, str, str, str, str, str, str, str]:
        """Time first; the rest only makes the order total, so input order never shows."""
        f, r = self.record.failures[self.index], self.record
        return (
            f.timestamp,
            r.batch_id,
            r.ecosystem,
            r.environment,
            f.package_id,
            f.category,
            f.subcategory or "",
            f.message,
        )

    def to_json(self) -> dict[str, Any]:
        failure = self.record.failures[self.index]
        return {
            "package": failure.package_id,
            "ecosystem": self.record.ecosystem,
            "category": failure.category,
            "subcategory": failure.subcategory,
            "message": failure.message,
            "timestamp": format_time(failure.timestamp),
            "batch_id": self.record.batch_id,
            "environment": self.record.environment,
        }


def build_dashboard(
    queues: Sequence[Queue],
    failure_records: Sequence[FailureRecord],
    metrics: Sequence[MetricsLine],
    now: dt.datetime,
    *,
    problems: Sequence[ReadProblem] = (),
) -> Document:
    """The ``dashboard.json`` document (ARCHITECTURE §8, issue-2 scope)."""
    return {
        "generated_at": format_time(now),
        "queue": queue_section(queues),
        "failures": failures_section(failure_records),
        "recent_failures": recent_failures(failure_records),
        "runs": runs_section(metrics),
        "errors": errors_section(problems),
    }


def queue_section(queues: Iterable[Queue]) -> Document:
    """Totals by status, ecosystem and tier, and every package listed under its status."""
    entries = [(queue.ecosystem, entry) for queue in queues for entry in queue.entries]
    by_ecosystem: dict[str, Counter[str]] = {}
    for ecosystem, entry in entries:
        by_ecosystem.setdefault(ecosystem, Counter())[entry.status] += 1
    packages: dict[str, list[Document]] = {status: [] for status in STATUSES}
    # across ecosystems, the queue order, then the source, so ties never depend on file order
    for _, entry in sorted(entries, key=lambda pair: (order_key(pair[1]), pair[1].source)):
        packages.setdefault(entry.status, []).append(_package(entry))
    return {
        "total": len(entries),
        "by_status": _status_counts(Counter(entry.status for _, entry in entries)),
        "by_ecosystem": {
            eco: {"total": sum(counts.values()), "by_status": _status_counts(counts)}
            for eco, counts in by_ecosystem.items()
        },
        "by_tier": {str(t): n for t, n in _counts((e.priority for _, e in entries), TIERS).items()},
        "packages": packages,
    }


def _package(entry: QueueEntry) -> Document:
    return {
        "name": entry.name,
        "source": entry.source,
        "priority": entry.priority,
        "failure_count": entry.failure_count,
        "next_retry_at": None if entry.next_retry_at is None else format_time(entry.next_retry_at),
    }


def _status_counts(counts: Counter[str]) -> dict[str, int]:
    return _counts(counts.elements(), STATUSES)


def _counts(values: Iterable[Any], known: Iterable[Any]) -> dict[Any, int]:
    """Counts of ``values`` with every ``known`` key present (zeros included)."""
    out: dict[Any, int] = dict.fromkeys(known, 0)
    for value in values:
        out[value] = out.get(value, 0) + 1
    return out


def failures_section(records: Iterable[FailureRecord]) -> Document:
    """Failure counts by category (every category, zeros included), subcategory and ecosystem."""
    by_subcategory: dict[str, Counter[str]] = {}
    by_ecosystem: Counter[str] = Counter()
    categories: list[str] = []
    for record in records:
        for failure in record.failures:
            categories.append(failure.category)
            sub = failure.subcategory or NO_SUBCATEGORY
            by_subcategory.setdefault(failure.category, Counter())[sub] += 1
            by_ecosystem[record.ecosystem] += 1
    return {
        "total": len(categories),
        "by_category": _counts(categories, CATEGORIES),
        "by_subcategory": {cat: dict(counts) for cat, counts in by_subcategory.items()},
        "by_ecosystem": dict(by_ecosystem),
    }


def recent_failures(records: Iterable[FailureRecord], limit: int = RECENT_FAILURES) -> list[Document]:
    """The newest ``limit`` package failures over every record, newest first."""
    rows = [_FailureRow(record, i) for record in records for i in range(len(record.failures))]
    rows.sort(key=_FailureRow.sort_key, reverse=True)
    return [row.to_json() for row in rows[:limit]]


def runs_section(metrics: Iterable[MetricsLine]) -> list[Document]:
    """Every batch metrics line, newest first."""
    lines = sorted(metrics, key=lambda m: (m.timestamp, m.batch_id, m.ecosystem), reverse=True)
    return [to_json(line) for line in lines]


def errors_section(problems: Iterable[ReadProblem]) -> Document:
    """Read problems: counted, counted per file, and listed by file and line.

    Only the first ``MAX_LISTED_ERRORS`` are listed (a foreign data layout can have thousands);
    ``by_file`` still names every file that had a problem.
    """
    ordered = sorted(problems, key=lambda p: (p.file, p.line or 0, p.message))
    return {
        "count": len(ordered),
        "by_file": dict(Counter(p.file for p in ordered)),
        "items": [p.to_json() for p in ordered[:MAX_LISTED_ERRORS]],
    }
