"""Pure rules for tsuku's data the dashboard needs: ecosystem aliases, file names, messages.

tsuku's categories, tags and message markers, and the classification of its records, are
``recipeline_schema.tsuku`` (one home, shared with the generator's tsuku backend).
"""

from __future__ import annotations

import re
from functools import cache

from recipeline_schema import InvalidValueError, normalize_ecosystem

#: Lines of tsuku's CLI output that never state a cause (banners, telemetry notice, progress).
_NOISE = re.compile(
    r"^(warning: skipping recipe review|tsuku collects anonymous usage|no personal information"
    r"|to opt out|or export tsuku_no_telemetry|suggestion:|available ecosystems:"
    r"|remove --deterministic-only)",
    re.I,
)
#: a line that states a cause, matched on the lowercased line (a case-insensitive search of
#: this alternation costs about twice as much as ``lower()`` and a case-sensitive one)
_CAUSE = re.compile(r"\b(?:error|failed)\b|not found|requires llm|\bstatus \d{3}\b")


def _has_cause_word(lower: str) -> bool:
    """Every match of ``_CAUSE`` holds one of these words: a text without any has no line that
    states a cause, which substring searches tell far faster than the regex."""
    return "error" in lower or "failed" in lower or "found" in lower or "llm" in lower or "status" in lower


MESSAGE_LIMIT = 500


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


def one_line_message(raw: str) -> str:
    """The line of tsuku's CLI output that states the cause, whitespace collapsed, at most 500 chars.

    Banners and notices are dropped; the last line that reads as a cause wins (the CLI prints
    progress first and the error last); otherwise the last line left.
    """
    if "❌" in raw or "✅" in raw:  # status glyphs: not in every font, and they mean words
        raw = raw.replace("❌", "failed:").replace("✅", "ok:")
    if "\n" not in raw and len(raw) <= MESSAGE_LIMIT and not _NOISE.match(raw):
        text = " ".join(raw.split())  # already one line: the common case, kept cheap
        if text:
            return text
    last = " ".join(raw.rpartition("\n")[2].split())
    if last and _states_cause(last) and not _NOISE.match(last):
        return _cut(last)  # the CLI's last line states the cause: the usual multi-line case
    fallback = ""
    lower = raw.lower()
    causes = _has_cause_word(lower)  # else only the last line left is wanted
    for line in reversed(raw.splitlines()):
        line = " ".join(line.split())
        if not line:
            continue
        if causes and _states_cause(line):  # a line of rule characters never reads as a cause
            if not _NOISE.match(line):
                return _cut(line)
        elif not fallback and not _NOISE.match(line) and set(line) - _RULE:
            fallback = line
            if not causes:
                break
    if fallback:
        return _cut(fallback)
    return "(no message recorded)" if not raw.strip() else "(only the CLI's banner was recorded)"


_RULE = set("=-*#~._ ")


def _states_cause(line: str) -> bool:
    """``line`` (whitespace collapsed) reads as a cause: an error, a failure, a status, ..."""
    lower = line.lower()
    return _has_cause_word(lower) and _CAUSE.search(lower) is not None


def _cut(text: str) -> str:
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"
