"""What the dashboard reads, normalized: one shape whichever layout (recipeline's or tsuku's) it came from.

The readers turn files into these records; the pure core (``core.py``) turns them into the
``dashboard.json`` document. Nothing here does IO.

The records there are thousands of (``Package``, ``FailureEvent``, ``Run``, ``ReadProblem``) are
named tuples: immutable like the frozen dataclasses used for the rest, but built ~4x faster
(tsuku's corpus at 10x makes ~180,000 of them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from recipeline_schema import format_time


def time_text(value: dt.datetime) -> str:
    """A time as the dashboard writes it: ``format_time`` (``2026-02-08T02:33:27Z``)."""
    return format_time(value)


class ReadProblem(NamedTuple):
    """A data file, or one line of it, that could not be read; shown, never fatal."""

    file: str  # repository-relative, '/'-separated
    line: int | None  # 1-based for JSON Lines files; None when the problem is not one line
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "message": self.message}


class Package(NamedTuple):
    """One queue entry (recipeline's per-ecosystem queues, tsuku's unified or legacy queue)."""

    name: str
    source: str  # <ecosystem>:<identifier>, ecosystem aliases mapped (crates.io -> cargo)
    ecosystem: str
    priority: int
    status: str
    confidence: str = "auto"
    popularity: int | None = None
    failure_count: int = 0
    next_retry_at: dt.datetime | None = None
    last_attempt_at: dt.datetime | None = None
    batch_id: str | None = None
    blocked_by: tuple[str, ...] = ()
    reason: str = ""


class FailureEvent(NamedTuple):
    """One package failure in one batch (and one or more environments).

    ``timestamp`` is its RFC 3339 text in UTC to the second (``2026-02-08T02:33:27Z``): that form
    sorts as the times do, and it is what the dashboard writes, so it is normalized once, when
    read. ``legacy_category`` keeps tsuku's own category name when it was mapped to the taxonomy.
    """

    package: str  # the package id (queue source) when known, else tsuku's bare recipe name
    ecosystem: str
    category: str
    subcategory: str | None
    message: str  # one line, the cause
    timestamp: str  # RFC 3339, UTC, whole seconds, "Z"
    batch_id: str
    environments: tuple[str, ...] = ()
    blocked_by: tuple[str, ...] = ()
    exit_code: int | None = None
    legacy_category: str | None = None
    file: str = ""  # repository-relative failure file it came from
    #: the whole cause (multi-line, noise dropped, capped: ``recipeline_schema.cause.cause_text``);
    #: recipeline's ``Failure.detail``, else its one-line message
    detail: str = ""


class Run(NamedTuple):
    """One batch run (recipeline: one metrics line per batch and ecosystem; tsuku: one object)."""

    batch_id: str
    ecosystem: str  # one ecosystem, or "mixed" for tsuku runs over several
    timestamp: dt.datetime
    total: int
    merged: int
    generated: int = 0
    failed: int | None = None
    blocked: int | None = None
    excluded: int = 0
    skipped: int | None = None
    validated_linux: int | None = None
    validated_macos: int | None = None
    used_disambiguation: int | None = None
    duration_seconds: float = 0.0
    macos_minutes: float | None = None
    linux_minutes: float | None = None
    ecosystems: tuple[str, ...] = ()
    file: str = ""


@dataclass(frozen=True, slots=True)
class Breaker:
    """One ecosystem's circuit breaker as batch-control.json records it."""

    ecosystem: str
    state: str = "closed"
    consecutive_failures: int = 0
    opened_at: dt.datetime | None = None
    half_open_after: dt.datetime | None = None
    last_failure: dt.datetime | None = None
    last_success: dt.datetime | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class BudgetUse:
    """The week's CI minutes; a limit of None means the file names none (tsuku's never do)."""

    week_start: str | None = None
    macos_used: float = 0.0
    linux_used: float = 0.0
    macos_limit: float | None = None
    linux_limit: float | None = None


@dataclass(frozen=True, slots=True)
class Control:
    """batch-control.json: emergency stop, breakers, budget."""

    enabled: bool = True
    reason: str = ""
    incident_url: str = ""
    disabled_by: str = ""
    disabled_at: dt.datetime | None = None
    expected_resume: dt.datetime | None = None
    disabled_ecosystems: tuple[str, ...] = ()
    disabled_reasons: Mapping[str, str] = field(default_factory=dict)
    breakers: tuple[Breaker, ...] = ()
    budget: BudgetUse | None = None


@dataclass(frozen=True, slots=True)
class Curated:
    """One curated disambiguation record."""

    tool: str
    selected: str
    selection_reason: str = "curated"
    high_risk: bool = False
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """One package of a batch manifest (data/batches/<id>.json)."""

    name: str
    package_id: str
    outcome: str
    recipe_path: str | None = None
    reason: str = ""
    #: the version validation installed (the same in every environment, or "env: v, ...")
    installed: str = ""
    latest: str = ""  # the registry's newest, when validation saw it differ


@dataclass(frozen=True, slots=True)
class Manifest:
    """What the run page shows from a batch manifest."""

    batch_id: str
    ecosystem: str
    merged_at: dt.datetime | None
    packages: tuple[BatchOutcome, ...] = ()
    gates: tuple[tuple[str, bool, str], ...] = ()
    pull_request: str | None = None
    auto_merge: bool = False
    rolled_back: bool = False


@dataclass(frozen=True, slots=True)
class BatchRelease:
    """Entries reconcile released from a batch (data/batches/<id>.release.json): its PR was
    closed without merging (``pr_closed``: they became ``failed``), or its run died before it
    merged (``batch_died``: they went back to ``pending``)."""

    batch_id: str
    cause: str
    status: str
    released_at: dt.datetime | None
    packages: tuple[str, ...] = ()
    pull_request: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RepositoryData:
    """Everything read from one repository, and what could not be read."""

    packages: tuple[Package, ...] = ()
    failures: tuple[FailureEvent, ...] = ()
    runs: tuple[Run, ...] = ()
    control: Control | None = None
    disambiguations: tuple[Curated, ...] = ()
    manifests: tuple[Manifest, ...] = ()
    releases: tuple[BatchRelease, ...] = ()
    problems: tuple[ReadProblem, ...] = ()
    #: per raw failure line item, the category as the file spelled it (tsuku's queue-analytics figure)
    raw_categories: Mapping[str, int] = field(default_factory=dict)
    layouts: tuple[str, ...] = ()  # which layouts were recognised: "recipeline", "tsuku"
