"""Pure rules for tsuku's data the dashboard needs: ecosystem aliases and file names.

tsuku's categories, tags and message markers, and the classification of its records, are
``recipeline_schema.tsuku`` (one home, shared with the generator's tsuku backend); which line of
a message states the cause is ``recipeline_schema.cause`` (every stage's rule).
"""

from __future__ import annotations

from functools import cache

from recipeline_schema import InvalidValueError, normalize_ecosystem


@cache
def canonical_ecosystem(name: str) -> str:
    """This project's ecosystem id for ``name`` (aliases mapped); an unknown one lowercased as is."""
    try:
        return normalize_ecosystem(name)
    except InvalidValueError:
        return name.strip().lower()


def canonical_source(source: str) -> tuple[str, str]:
    """``(source, ecosystem)`` with the ecosystem prefix mapped (``crates.io:x`` -> ``cargo:x``).

    A source without ``:`` (tsuku's test data has bare names) keeps its text; its ecosystem is "".
    """
    eco, sep, ident = source.partition(":")
    if not sep:
        return source, ""
    canonical = canonical_ecosystem(eco)
    return f"{canonical}:{ident}", canonical


def parse_failure_filename(basename: str) -> tuple[str, str]:
    """``(ecosystem, batch id)`` from ``homebrew-2026-02-08T02-33-27Z.jsonl`` (as tsuku derives them).

    The batch id is the file stem when a timestamp follows the first ``-``, else ""; tsuku's
    per-recipe files (``batch-<time>.jsonl``) give ecosystem "batch", which callers replace.
    """
    stem = basename.removesuffix(".jsonl")
    eco, sep, rest = stem.partition("-")
    if not sep:
        return stem, ""
    return eco, stem if rest[:4].isdigit() else ""
