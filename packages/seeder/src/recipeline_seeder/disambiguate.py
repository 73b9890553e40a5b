"""Which ecosystem a name belongs to, decided at seeding time (ARCHITECTURE §3.6). Pure.

For each candidate of the ecosystem ``E`` being seeded:

1. A curated record for its name (``data/disambiguations/curated.jsonl``, either form) decides:
   when it selects a source of ``E`` the candidate takes that source, ``confidence: curated``;
   when it selects another ecosystem (or ``github:``), the candidate is skipped with the reason.
2. Otherwise, when the name is already queued in another ecosystem, the two are compared only
   if their popularity is counted in the same unit (``SAME_UNIT``: Homebrew formulae and casks
   share the 30-day install analytics) and both are known: a gap of ``GAP_FACTOR`` or more
   decides (the candidate is kept, or skipped when the other one is that much more popular).
   In every other case — and always across units (crates.io downloads vs Homebrew installs are
   not comparable) — the candidate is queued as ``requires_manual`` with a reason naming the
   other source, for an operator to add a curated record. The entry already queued elsewhere is
   never changed: the seeder does not rewrite statuses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from recipeline_schema import Disambiguation, InvalidValueError, QueueEntry, parse_source

from .candidates import Candidate, Skipped

#: Ecosystems whose popularity numbers share a unit (and only those may be compared).
SAME_UNIT: Mapping[str, str] = {
    "homebrew": "homebrew installs, 30 days",
    "cask": "homebrew installs, 30 days",
}
#: How many times more popular one side must be for the gap rule to decide.
GAP_FACTOR = 10


@dataclass(frozen=True, slots=True)
class Disambiguated:
    """The candidates to merge (sources and statuses decided) and those skipped here."""

    candidates: tuple[Candidate, ...]
    skipped: tuple[Skipped, ...]


def curated_index(records: Iterable[Disambiguation]) -> dict[str, Disambiguation]:
    """Curated records by tool name, case-insensitively; a later record wins."""
    return {r.tool.casefold(): r for r in records}


def elsewhere_index(ecosystem: str, entries: Iterable[QueueEntry]) -> dict[str, tuple[QueueEntry, ...]]:
    """Entries of *other* ecosystems' queues by name (case-insensitive); ``ecosystem``'s are left out."""
    out: dict[str, list[QueueEntry]] = {}
    for entry in entries:
        if _ecosystem_of(entry.source) != ecosystem:
            out.setdefault(entry.name.casefold(), []).append(entry)
    return {k: tuple(v) for k, v in out.items()}


def disambiguate(
    candidates: Iterable[Candidate],
    ecosystem: str,
    *,
    curated: Mapping[str, Disambiguation],
    elsewhere: Mapping[str, Sequence[QueueEntry]],
) -> Disambiguated:
    """Apply the curated records and the cross-ecosystem rule to ``candidates`` (see module doc)."""
    kept: list[Candidate] = []
    skipped: list[Skipped] = []
    for candidate in candidates:
        key = candidate.name.casefold()
        record = curated.get(key)
        if record is not None:
            chosen = _ecosystem_of(record.selected)
            if chosen == ecosystem:
                kept.append(
                    dataclasses.replace(
                        candidate, source=record.selected, confidence="curated", disambiguated=True
                    )
                )
            else:
                skipped.append(
                    Skipped(candidate, f"curated disambiguation selects {record.selected!r} for this name")
                )
            continue
        others = [e for e in elsewhere.get(key, ()) if _ecosystem_of(e.source) != ecosystem]
        if not others:
            kept.append(candidate)
            continue
        verdict = _gap_verdict(candidate, ecosystem, others)
        if verdict == "keep":
            kept.append(dataclasses.replace(candidate, disambiguated=True))
        elif verdict == "skip":
            best = max(others, key=lambda e: e.popularity or 0)
            skipped.append(
                Skipped(candidate, f"{best.source} is {GAP_FACTOR}x more popular in the same unit")
            )
        else:
            names = ", ".join(sorted(e.source for e in others))
            kept.append(
                dataclasses.replace(
                    candidate,
                    status="requires_manual",
                    disambiguated=True,
                    reason=f"also queued as {names}; popularity not comparable, add a curated disambiguation",
                )
            )
    return Disambiguated(tuple(kept), tuple(skipped))


def _gap_verdict(candidate: Candidate, ecosystem: str, others: Sequence[QueueEntry]) -> str:
    unit = SAME_UNIT.get(ecosystem)
    mine = candidate.popularity
    if unit is None or mine is None:
        return "manual"
    theirs = []
    for other in others:
        if SAME_UNIT.get(_ecosystem_of(other.source) or "") != unit or other.popularity is None:
            return "manual"
        theirs.append(other.popularity)
    if mine > 0 and mine >= GAP_FACTOR * max(theirs):
        return "keep"
    if max(theirs) > 0 and max(theirs) >= GAP_FACTOR * mine:
        return "skip"
    return "manual"


def _ecosystem_of(source: str) -> str | None:
    try:
        return parse_source(source).ecosystem
    except InvalidValueError:
        return None
