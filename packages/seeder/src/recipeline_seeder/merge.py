"""The pure merge of candidates into a queue (ARCHITECTURE §3.1, §4).

Additive and idempotent: only names not yet in the queue are added, as ``pending``; entries
already there are returned as they are (the same objects), whatever their status, backoff or
batch. No clock, filesystem or network: ``now`` and the recipe names are passed in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Iterable

from recipeline_schema import (
    InvalidValueError,
    Queue,
    QueueEntry,
    check_name,
    order_key,
    ordered,
    parse_source,
    utc,
)

from .candidates import Candidate, MergeReport, Rejected, Skipped

#: The longest name ``check_name`` accepts; only used to say "too long" plainly.
MAX_NAME_LENGTH = 128


def merge_candidates(
    queue: Queue,
    candidates: Iterable[Candidate],
    *,
    recipe_names: Collection[str],
    now: dt.datetime,
    limit: int | None = None,
) -> tuple[Queue, MergeReport]:
    """Add the new, valid ``candidates`` to ``queue`` as pending entries.

    Rules, in the order they are checked for each candidate:
    1. rejected: unsafe name, unsafe or unparseable source, a source of another ecosystem,
       priority outside 1-3, negative popularity;
    2. skipped: the name has a recipe in ``recipe_names``; the name (case-insensitive) or the
       source (case-insensitive) is already queued; an earlier candidate of this run has the
       same name or source (the first one wins, so list sources by authority);
    3. the rest is sorted in queue order; with ``limit``, only the first ``limit`` are added and
       the others are skipped as over the limit.

    Returns the new queue (entries in queue order, ``updated_at`` = ``now``) and a report. When
    nothing is added the very same ``queue`` object is returned, so callers can skip the write.
    """
    if limit is not None and limit < 0:
        raise InvalidValueError(f"limit must be >= 0, got {limit!r}")
    now = utc(now)
    queued_names = {e.name.casefold(): e for e in queue.entries}
    queued_sources = {e.source.casefold(): e for e in queue.entries}
    has_recipe = {name.casefold() for name in recipe_names}
    seen_names: dict[str, Candidate] = {}
    seen_sources: dict[str, Candidate] = {}

    accepted: list[tuple[QueueEntry, Candidate]] = []
    skipped: list[Skipped] = []
    rejected: list[Rejected] = []
    for candidate in candidates:
        problem, source = check_candidate(candidate, queue.ecosystem)
        if problem is not None:
            rejected.append(Rejected(candidate, problem))
            continue
        reason = _skip_reason(
            candidate, source, has_recipe, queued_names, queued_sources, seen_names, seen_sources
        )
        if reason is not None:
            skipped.append(Skipped(candidate, reason))
            continue
        seen_names[candidate.name.casefold()] = candidate
        seen_sources[source.casefold()] = candidate
        entry = QueueEntry(
            name=candidate.name,
            source=source,
            priority=candidate.priority,
            status=candidate.status,
            confidence=candidate.confidence,
            popularity=candidate.popularity,
            added_at=now,
            disambiguated_at=now if candidate.disambiguated else None,
            reason=candidate.reason,
        )
        accepted.append((entry, candidate))

    accepted.sort(key=lambda pair: order_key(pair[0]))
    if limit is not None:
        skipped.extend(Skipped(c, f"over the limit of {limit} new entries") for _, c in accepted[limit:])
        accepted = accepted[:limit]
    added = tuple(entry for entry, _ in accepted)
    report = MergeReport(added=added, skipped=tuple(skipped), rejected=tuple(rejected))
    if not added:
        return queue, report
    merged = dataclasses.replace(queue, entries=ordered((*queue.entries, *added)), updated_at=now)
    return merged, report


def check_candidate(candidate: Candidate, ecosystem: str) -> tuple[str | None, str]:
    """``(problem, normalized source)``: ``problem`` is None when the candidate may be queued."""
    problem = name_problem(candidate.name)
    if problem is not None:
        return problem, ""
    try:
        parsed = parse_source(candidate.source)
    except InvalidValueError as exc:
        return str(exc), ""
    if parsed.ecosystem != ecosystem:
        return (
            f"source {candidate.source!r} belongs to ecosystem {parsed.ecosystem!r}, "
            f"not to the {ecosystem} queue"
        ), ""
    if type(candidate.priority) is not int or not 1 <= candidate.priority <= 3:
        return f"priority {candidate.priority!r}: expected 1, 2 or 3", ""
    popularity = candidate.popularity
    if popularity is not None and (type(popularity) is not int or popularity < 0):
        return f"popularity {popularity!r}: expected a whole number >= 0", ""
    return None, str(parsed)


def name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a tool/recipe name (None when it can), in plain words."""
    if not isinstance(name, str):
        return f"name {name!r}: expected a string"
    if not name:
        return "name '': expected a non-empty name"
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in name):
        return f"name {name!r}: contains a control character"
    if any(ch.isspace() for ch in name):
        return f"name {name!r}: contains whitespace"
    if "/" in name or "\\" in name:
        return f"name {name!r}: contains a path separator"
    if ".." in name:
        return f"name {name!r}: contains '..'"
    if len(name) > MAX_NAME_LENGTH:
        return f"name {name[:20]!r}…: longer than {MAX_NAME_LENGTH} characters ({len(name)})"
    try:
        check_name(name)
    except InvalidValueError as exc:
        return str(exc)
    return None


def _skip_reason(
    candidate: Candidate,
    source: str,
    has_recipe: set[str],
    queued_names: dict[str, QueueEntry],
    queued_sources: dict[str, QueueEntry],
    seen_names: dict[str, Candidate],
    seen_sources: dict[str, Candidate],
) -> str | None:
    key = candidate.name.casefold()
    if key in has_recipe:
        return "already has a recipe in recipes/"
    if key in queued_names:
        entry = queued_names[key]
        return f"already queued as {entry.name!r} ({entry.status})"
    if source.casefold() in queued_sources:
        entry = queued_sources[source.casefold()]
        return f"source {source!r} already queued as {entry.name!r} ({entry.status})"
    if key in seen_names:
        return f"duplicate of {seen_names[key].describe()}"
    if source.casefold() in seen_sources:
        return f"source {source!r} duplicates {seen_sources[source.casefold()].describe()}"
    return None
