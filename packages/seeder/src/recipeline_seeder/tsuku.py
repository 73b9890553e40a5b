"""Convert tsuku's queues into recipeline's per-ecosystem queues (pure; no files, no clock).

tsuku keeps two formats (see ``../shared/fixtures/README.md``):

- the unified ``data/queues/priority-queue.json``: ``{"schema_version": 1, "updated_at": ...,
  "entries": [{"name", "source", "priority", "status", "confidence", "disambiguated_at",
  "failure_count", "next_retry_at"}]}``, every ecosystem in one file, sources with aliases
  (``crates.io:``) and some that recipeline cannot build (``github:``, ``manual:``, ``nix:``);
- the legacy ``data/queues/priority-queue-homebrew.json``: ``{"packages": [{"id":
  "homebrew:gh", "source": "homebrew", "name": "gh", "tier": 1, "status", "added_at"}]}``.

Statuses and retry state are kept. Values no pipeline could have meant are repaired and each
repair is reported (a ``next_retry_at`` before 2000 — tsuku's float overflow wrote 1734 — is
reset to none, so the entry is eligible again instead of retried forever or never). Entries that
cannot be mapped (unknown ecosystem, unsafe name or source, unknown status) are reported with a
reason and left out. The unified file is read first; a legacy entry whose name or source is
already mapped is a duplicate (reported, not imported).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from recipeline_schema import (
    CONFIDENCES,
    ECOSYSTEMS,
    QUEUE_STATUSES,
    InvalidValueError,
    QueueEntry,
    check_batch_id,
    check_name,
    parse_source,
    parse_time_lenient,
    utc,
)

#: recipeline's queue statuses (ARCHITECTURE §3.1); tsuku uses a subset of them.
STATUSES = QUEUE_STATUSES
#: A retry time before this is impossible for a pipeline built in the 2020s (overflowed backoff).
EARLIEST_PLAUSIBLE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
#: ... and one further ahead than this is as impossible (backoff is capped far below it).
LATEST_AHEAD = dt.timedelta(days=366)


@dataclass(frozen=True, slots=True)
class Unmapped:
    """An entry left out, where it was, and why."""

    where: str
    name: str
    source: str
    reason: str


@dataclass(frozen=True, slots=True)
class Repair:
    """A value changed because it was impossible; ``old`` as it was written."""

    where: str
    name: str
    field: str
    old: str
    new: str
    reason: str


@dataclass(frozen=True, slots=True)
class TsukuImport:
    """Entries per recipeline ecosystem (file order), and what was left out or repaired."""

    entries: Mapping[str, tuple[QueueEntry, ...]]
    unmapped: tuple[Unmapped, ...] = ()
    duplicates: tuple[Unmapped, ...] = ()
    repairs: tuple[Repair, ...] = ()


@dataclass
class _Builder:
    now: dt.datetime
    entries: dict[str, list[QueueEntry]] = field(default_factory=dict)
    keys: dict[str, set[str]] = field(default_factory=dict)
    unmapped: list[Unmapped] = field(default_factory=list)
    duplicates: list[Unmapped] = field(default_factory=list)
    repairs: list[Repair] = field(default_factory=list)

    def add(self, where: str, raw: dict[str, Any], *, source: Any, priority: Any) -> None:
        name = raw.get("name")
        shown_name = name if isinstance(name, str) else repr(name)
        shown_source = source if isinstance(source, str) else repr(source)

        def leave_out(reason: str) -> None:
            self.unmapped.append(Unmapped(where, shown_name, shown_source, reason))

        if not isinstance(name, str) or not isinstance(source, str):
            return leave_out("expected 'name' and 'source' strings")
        try:
            check_name(name)
            parsed = parse_source(source)
        except InvalidValueError as exc:
            return leave_out(str(exc))
        if parsed.ecosystem not in ECOSYSTEMS:
            return leave_out(
                f"ecosystem {parsed.ecosystem!r} has no recipeline queue (expected one of {list(ECOSYSTEMS)})"
            )
        status = raw.get("status", "pending")
        if status not in STATUSES:
            return leave_out(f"status {status!r}: expected one of {list(STATUSES)}")
        eco, canonical = parsed.ecosystem, str(parsed)
        seen = self.keys.setdefault(eco, set())
        if name.casefold() in seen or canonical.casefold() in seen:
            self.duplicates.append(
                Unmapped(where, name, source, f"{eco} already has {name!r} or {canonical!r}")
            )
            return None
        fix = _Fixer(self, where, name)
        entry = QueueEntry(
            name=name,
            source=canonical,
            priority=fix.priority(priority),
            status=status,
            confidence=fix.choice("confidence", raw.get("confidence", "auto"), CONFIDENCES, "auto"),
            popularity=fix.count("popularity", raw.get("popularity"), None),
            added_at=fix.time("added_at", raw.get("added_at")),
            disambiguated_at=fix.time("disambiguated_at", raw.get("disambiguated_at")),
            failure_count=fix.count("failure_count", raw.get("failure_count", 0), 0) or 0,
            next_retry_at=fix.retry(raw.get("next_retry_at")),
            last_attempt_at=fix.time("last_attempt_at", raw.get("last_attempt_at")),
            batch_id=fix.batch_id(raw.get("batch_id")),
            blocked_by=fix.names("blocked_by", raw.get("blocked_by")),
            reason=raw["reason"] if isinstance(raw.get("reason"), str) else "",
        )
        if entry.status == "in_progress" and entry.batch_id is None:
            fix.note(
                "status", "in_progress", "pending", "in progress without a batch id: no batch can finish it"
            )
            entry = QueueEntry(**{**_fields(entry), "status": "pending"})
        seen.update((name.casefold(), canonical.casefold()))
        self.entries.setdefault(eco, []).append(entry)
        return None


def _fields(entry: QueueEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in entry.__dataclass_fields__}


@dataclass
class _Fixer:
    builder: _Builder
    where: str
    name: str

    def note(self, fld: str, old: Any, new: Any, reason: str) -> None:
        self.builder.repairs.append(Repair(self.where, self.name, fld, str(old), str(new), reason))

    def priority(self, value: Any) -> int:
        if type(value) is int and 1 <= value <= 3:
            return value
        self.note("priority", value, 3, "expected 1, 2 or 3")
        return 3

    def choice(self, fld: str, value: Any, allowed: tuple[str, ...], default: Any) -> Any:
        if value in allowed:
            return value
        self.note(fld, value, default, f"expected one of {list(allowed)}")
        return default

    def count(self, fld: str, value: Any, default: int | None) -> int | None:
        if value is None or (type(value) is int and value >= 0):
            return value if value is not None else default
        self.note(fld, value, default, "expected a whole number >= 0")
        return default

    def time(self, fld: str, value: Any) -> dt.datetime | None:
        if value is None or value == "":
            return None
        parsed = parse_time_lenient(value)
        if parsed is None:
            self.note(fld, value, None, "not a time")
        return parsed

    def retry(self, value: Any) -> dt.datetime | None:
        when = self.time("next_retry_at", value)
        if when is not None and not EARLIEST_PLAUSIBLE <= when <= self.builder.now + LATEST_AHEAD:
            self.note(
                "next_retry_at",
                value,
                None,
                "impossible retry time (overflowed backoff); reset so the entry is eligible again",
            )
            return None
        return when

    def batch_id(self, value: Any) -> str | None:
        if value is None:
            return None
        try:
            return check_batch_id(value)
        except InvalidValueError:
            self.note("batch_id", value, None, "expected YYYY-MM-DD-NNN")
            return None

    def names(self, fld: str, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        good: list[str] = []
        for item in value if isinstance(value, list) else [value]:
            try:
                good.append(check_name(item))
            except InvalidValueError:
                self.note(fld, item, "(dropped)", "not a safe recipe name")
        return tuple(good)


def convert_tsuku(
    unified: Any | None,
    legacy: Any | None,
    *,
    now: dt.datetime,
    unified_name: str = "priority-queue.json",
    legacy_name: str = "priority-queue-homebrew.json",
) -> TsukuImport:
    """Map tsuku's decoded queue files (either may be None) to recipeline entries per ecosystem.

    Raises ``InvalidValueError`` when a file is not the documented shape at its top level.
    """
    builder = _Builder(utc(now))
    if unified is not None:
        items = unified.get("entries") if isinstance(unified, dict) else None
        if not isinstance(items, list):
            raise InvalidValueError(f"{unified_name}: at $.entries: expected an array of queue entries")
        for i, raw in enumerate(items):
            where = f"{unified_name} $.entries[{i}]"
            if not isinstance(raw, dict):
                builder.unmapped.append(Unmapped(where, "?", "?", "expected an object"))
                continue
            builder.add(where, raw, source=raw.get("source"), priority=raw.get("priority", 3))
    if legacy is not None:
        items = legacy.get("packages") if isinstance(legacy, dict) else None
        if not isinstance(items, list):
            raise InvalidValueError(f"{legacy_name}: at $.packages: expected an array of packages")
        for i, raw in enumerate(items):
            where = f"{legacy_name} $.packages[{i}]"
            if not isinstance(raw, dict):
                builder.unmapped.append(Unmapped(where, "?", "?", "expected an object"))
                continue
            ident, eco = raw.get("id"), raw.get("source")
            source = ident if isinstance(ident, str) and ":" in ident else f"{eco}:{raw.get('name')}"
            builder.add(where, raw, source=source, priority=raw.get("tier", 3))
    return TsukuImport(
        entries={eco: tuple(entries) for eco, entries in sorted(builder.entries.items())},
        unmapped=tuple(builder.unmapped),
        duplicates=tuple(builder.duplicates),
        repairs=tuple(builder.repairs),
    )
