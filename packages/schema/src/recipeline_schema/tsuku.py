"""tsuku compatibility, one home: its category names, ``[tag]``s and message markers, its queue
formats and its batch-control.json. Pure (no files, no clock: ``now`` is passed in).

tsuku's records carry no subcategory and long CLI output as the message; its CLI prints
``deterministic generation failed: [<tag>] <message>`` on exit 9. The generator's tsuku backend
(a live tsuku exit) and the dashboard (tsuku's recorded failures) classify with these rules, so
both give one tsuku failure one category. The cause line is ``cause.cause_line`` (the same for
every tool); exit codes and tsuku's category names are in ``taxonomy`` (``EXIT_CODES``,
``map_legacy``). Message markers are used only because tsuku's records have nothing better:
recipeline's own records always carry structured subcategories (ARCHITECTURE §3.3).

tsuku keeps two queue formats (see ``../shared/fixtures/README.md``):

- the unified ``data/queues/priority-queue.json``: ``{"schema_version": 1, "updated_at": ...,
  "entries": [{"name", "source", "priority", "status", "confidence", "disambiguated_at",
  "failure_count", "next_retry_at"}]}``, every ecosystem in one file, sources with aliases
  (``crates.io:``) and some that recipeline cannot build (``github:``, ``manual:``, ``nix:``);
- the legacy ``data/queues/priority-queue-homebrew.json``: ``{"packages": [{"id":
  "homebrew:gh", "source": "homebrew", "name": "gh", "tier": 1, "status", "added_at"}]}``.

``convert_tsuku`` (the seeder's ``import-tsuku``) keeps statuses and retry state. Values no
pipeline could have meant are repaired and each repair is reported (a ``next_retry_at`` before
2000 — tsuku's float overflow wrote 1734 — is reset to none, so the entry is eligible again
instead of retried forever or never: ``plausible_retry``). Entries that cannot be mapped (unknown
ecosystem, unsafe name or source, unknown status) are reported with a reason and left out. The
unified file is read first; a legacy entry whose name or source is already mapped is a duplicate
(reported, not imported). The dashboard reads the same files leniently (``legacy_source``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .controlrules import COOLDOWN, HARD_POINTS
from .ecosystems import ECOSYSTEMS, check_name, normalize_ecosystem, parse_source
from .errors import InvalidValueError
from .ids import check_batch_id
from .taxonomy import EXIT_CODES, TAXONOMY, map_legacy
from .timefmt import format_time, parse_time_lenient, utc

if TYPE_CHECKING:  # the contracts cost ~0.1 s at import: the dashboard reads tsuku's files without them
    from .models import QueueEntry

#: Failure categories found in tsuku's data (its own names and this taxonomy's).
TSUKU_CATEGORIES: frozenset[str] = frozenset(
    {
        "install_failed",
        "validation_failed",
        "verify_failed",
        "generation_failed",
        "deterministic",
        "deterministic_insufficient",
        "network_error",
        "timeout",
        "api_error",
        "missing_dep",
        "recipe_not_found",
    }
)

#: tsuku's bracketed tags -> (category, subcategory) of this taxonomy.
TAGS: Mapping[str, tuple[str, str | None]] = {
    "no_bottles": ("deterministic_insufficient", "no_bottle"),
    "no_bottle": ("deterministic_insufficient", "no_bottle"),
    "build_from_source": ("deterministic_insufficient", "no_bottle"),
    "complex_archive": ("deterministic_insufficient", "archive_extraction_failed"),
    "archive_extraction_failed": ("deterministic_insufficient", "archive_extraction_failed"),
    "no_binaries": ("deterministic_insufficient", "binary_discovery_failed"),
    "binary_discovery_failed": ("deterministic_insufficient", "binary_discovery_failed"),
    "library_only": ("deterministic_insufficient", "library_only"),
    "requires_llm": ("deterministic_insufficient", "requires_llm"),
    "missing_dep": ("missing_dep", None),
    "api_error": ("api_error", "upstream_unavailable"),
    "rate_limited": ("api_error", "rate_limited"),
    "timeout": ("api_error", "timeout"),
    "validation_failed": ("validation_failed", None),
    "verify_failed": ("validation_failed", "verify_pattern_mismatch"),
    "install_failed": ("validation_failed", "install_failed"),
}
TAG = re.compile(r"\[([a-z_]+)\]")

#: (marker in tsuku's message, subcategory), in order: the first valid for the category wins.
MARKERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"requires llm", re.I), "requires_llm"),
    (re.compile(r"no bottle|bottle not found", re.I), "no_bottle"),
    (re.compile(r"no (binaries|executables)", re.I), "binary_discovery_failed"),
    (re.compile(r"library[- ]only|only libraries", re.I), "library_only"),
    (re.compile(r"rate limit|status 429\b", re.I), "rate_limited"),
    (re.compile(r"status 5\d\d\b|unavailable", re.I), "upstream_unavailable"),
    (re.compile(r"timed? ?out|deadline exceeded", re.I), "timeout"),
    (re.compile(r"version pattern|verify", re.I), "verify_pattern_mismatch"),
    (re.compile(r"not found", re.I), "not_found"),
    (re.compile(r"installation failed|install(ing)? failed|expected executable", re.I), "install_failed"),
)


def classify_exit(code: int, line: str) -> tuple[str, str | None]:
    """(category, subcategory) of a non-zero exit of ``tsuku create``, from the exit code and
    the ``[tag]`` of its cause line (exit 9; its "requires LLM" guard prints no tag)."""
    if code == 9:
        tag = TAG.search(line)
        if tag and tag.group(1) in TAGS:
            return TAGS[tag.group(1)]
        if MARKERS[0][0].search(line):
            return "deterministic_insufficient", "requires_llm"
        return "deterministic_insufficient", None
    if code in EXIT_CODES:
        return EXIT_CODES[code]
    if code == 2:
        return "deterministic_insufficient", "unsupported_source"  # tsuku refused the source or flags
    if code == 4:
        return "api_error", "not_found"  # version not found
    return "deterministic_insufficient", None


def classify_record(
    category: str,
    subcategory: str | None,
    *,
    exit_code: int | None = None,
    blocked_by: tuple[str, ...] = (),
    message: str = "",
) -> tuple[str, str | None]:
    """(category, subcategory) of this taxonomy for a recorded tsuku failure.

    A taxonomy category with a valid subcategory is kept. Otherwise ``map_legacy`` maps tsuku's
    name, and a subcategory is derived where tsuku left none: its ``[tag]``, a message marker,
    then the exit code.
    """
    spec = TAXONOMY.get(category)
    if spec is not None and subcategory is not None and subcategory in spec.subcategories:
        return category, subcategory
    cat, sub = map_legacy(category, exit_code=exit_code, blocked_by=blocked_by)
    return cat, sub if sub is not None else derive_subcategory(cat, message, exit_code)


def derive_subcategory(category: str, message: str, exit_code: int | None) -> str | None:
    """A subcategory of ``category`` for a tsuku record that has none, or None."""
    allowed = TAXONOMY[category].subcategories
    if not allowed:
        return None
    for tag in TAG.findall(message):
        sub = TAGS.get(tag, ("", None))[1]
        if sub in allowed:
            return sub
    for pattern, sub in MARKERS:
        if sub in allowed and pattern.search(message):
            return sub
    if exit_code is not None and exit_code in EXIT_CODES:
        ecat, esub = EXIT_CODES[exit_code]
        if ecat == category:
            return esub
    return None


# --- queues ------------------------------------------------------------------------------------

#: A retry time before this is impossible for a pipeline built in the 2020s (overflowed backoff).
EARLIEST_PLAUSIBLE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
#: ... and one further ahead than this is as impossible (backoff is capped far below it).
LATEST_AHEAD = dt.timedelta(days=366)


def plausible_retry(when: dt.datetime, now: dt.datetime) -> bool:
    """Whether a recorded retry time could have been meant: tsuku's overflowed backoff wrote
    years like 1734 (and no backoff reaches a year ahead)."""
    return EARLIEST_PLAUSIBLE <= when <= now + LATEST_AHEAD


def legacy_source(raw: Mapping[str, Any]) -> str | None:
    """The source of an entry of tsuku's legacy per-ecosystem file: its ``id``
    (``homebrew:gh``), else ``<source>:<name>``; ``None`` without either."""
    ident, eco, name = raw.get("id"), raw.get("source"), raw.get("name")
    if isinstance(ident, str) and ":" in ident:
        return ident
    return f"{eco}:{name}" if isinstance(eco, str) and isinstance(name, str) else None


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
        from .models import CONFIDENCES, QUEUE_STATUSES, QueueEntry

        if status not in QUEUE_STATUSES:
            return leave_out(f"status {status!r}: expected one of {list(QUEUE_STATUSES)}")
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
            entry = dataclasses.replace(entry, status="pending")
        seen.update((name.casefold(), canonical.casefold()))
        self.entries.setdefault(eco, []).append(entry)
        return None


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
        if when is not None and not plausible_retry(when, self.builder.now):
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
            builder.add(where, raw, source=legacy_source(raw), priority=raw.get("tier", 3))
    return TsukuImport(
        entries={eco: tuple(entries) for eco, entries in sorted(builder.entries.items())},
        unmapped=tuple(builder.unmapped),
        duplicates=tuple(builder.duplicates),
        repairs=tuple(builder.repairs),
    )


# --- batch-control.json ------------------------------------------------------------------------
# tsuku writes empty strings for unset times, its breakers as ``{"state", "failures",
# "last_failure", "opens_at"}`` keyed by its own ecosystem names (``crates.io``, ``github``,
# ``default``), and a budget without limits. ``control_json_from_tsuku`` maps it into the JSON of
# ARCHITECTURE §3.5: ``""`` times unset; a breaker's ``failures`` -> ``consecutive_failures`` (and
# weighted points), ``opens_at`` (when it half-opens) -> ``half_open_after``, ``opened_at`` one
# cool-down earlier; ``half-open`` spelled either way; ``default`` (tsuku's template) dropped.


def looks_like_tsuku_control(data: Any) -> bool:
    """Whether ``data`` has tsuku's marks: empty-string times or breakers with ``failures``."""
    if not isinstance(data, dict):
        return False
    if any(data.get(k) == "" for k in ("disabled_at", "expected_resume")):
        return True
    breakers = data.get("circuit_breaker")
    return isinstance(breakers, dict) and any(
        isinstance(b, dict) and ("failures" in b or "opens_at" in b) for b in breakers.values()
    )


def _time_text(value: Any) -> str | None:
    parsed = parse_time_lenient(value) if value not in (None, "") else None
    return format_time(parsed) if parsed is not None else None


def _breaker(raw: Mapping[str, Any]) -> dict[str, Any]:
    state = str(raw.get("state", "closed")).replace("-", "_")
    failures = raw.get("consecutive_failures", raw.get("failures", 0))
    count = failures if isinstance(failures, int) and failures >= 0 else 0
    out: dict[str, Any] = {
        "state": state if state in ("closed", "open", "half_open") else "closed",
        "consecutive_failures": count,
        "failure_points": count * HARD_POINTS,
        "last_failure": _time_text(raw.get("last_failure")),
        "last_success": _time_text(raw.get("last_success")),
    }
    half_open = parse_time_lenient(raw.get("half_open_after") or raw.get("opens_at") or "")
    if half_open is not None:
        out["half_open_after"] = format_time(half_open)
        out["opened_at"] = format_time(half_open - COOLDOWN)
    if out["state"] == "open" and half_open is None:
        out["state"] = "half_open"  # an open breaker with no re-try time would never recover
    return {k: v for k, v in out.items() if v is not None}


def _ecosystem(name: Any, *, known_only: bool) -> str | None:
    try:
        return normalize_ecosystem(str(name))
    except InvalidValueError:
        return None if known_only or name == "default" else str(name).strip().lower()


def control_json_from_tsuku(
    data: Mapping[str, Any], *, week: dt.date | None, known_only: bool = True
) -> dict[str, Any]:
    """tsuku's control file as recipeline's JSON (``BatchControl``'s form; ``decode`` checks it).

    ``week`` is the budget's week when tsuku left it empty (``None``: left out). Breakers and
    stops of names that are no recipeline ecosystem (``github``) are dropped, or with
    ``known_only=False`` (the dashboard shows what tsuku shows) kept under their own name.
    """
    breakers: dict[str, Any] = {}
    for name, raw in (data.get("circuit_breaker") or {}).items():
        eco = _ecosystem(name, known_only=known_only)
        if eco is not None and isinstance(raw, dict):
            breakers[eco] = _breaker(raw)
    raw_budget = data.get("budget")
    budget_raw: Mapping[str, Any] = raw_budget if isinstance(raw_budget, dict) else {}
    budget: dict[str, Any] = {}
    if budget_raw.get("week_start") or week is not None:
        budget["week_start"] = budget_raw.get("week_start") or week.isoformat()  # type: ignore[union-attr]
    for key in ("macos_minutes_used", "linux_minutes_used", "macos_minutes_limit", "linux_minutes_limit"):
        if isinstance(budget_raw.get(key), int | float):
            budget[key] = budget_raw[key]
    disabled = {_ecosystem(name, known_only=known_only) for name in data.get("disabled_ecosystems") or ()}
    converted: dict[str, Any] = {
        "enabled": bool(data.get("enabled", True)),
        "disabled_ecosystems": sorted(e for e in disabled if e),
        "reason": str(data.get("reason") or ""),
        "incident_url": str(data.get("incident_url") or ""),
        "disabled_by": str(data.get("disabled_by") or ""),
        "circuit_breaker": breakers,
        "budget": budget,
    }
    for key in ("disabled_at", "expected_resume"):
        if (value := _time_text(data.get(key))) is not None:
            converted[key] = value
    return converted
