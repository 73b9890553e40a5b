"""Pure rules for tsuku's data: ecosystem aliases, file names, categories, messages.

tsuku's records carry no subcategory and long CLI output as message. These functions derive
what this project's taxonomy needs from what tsuku wrote, and keep tsuku's own category name
beside it. Message markers are used here only because tsuku's records have nothing better;
recipeline's own records always carry structured subcategories (ARCHITECTURE §3.3).
"""

from __future__ import annotations

import re
from functools import cache

from recipeline_schema import EXIT_CODES, TAXONOMY, InvalidValueError, map_legacy, normalize_ecosystem

#: Known tsuku failure categories (its own names and this taxonomy's).
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

#: tsuku's bracketed tags ("deterministic generation failed: [no_bottles] ...") -> subcategory.
_TAGS: dict[str, str] = {
    "no_bottles": "no_bottle",
    "complex_archive": "archive_extraction_failed",
    "no_binaries": "binary_discovery_failed",
    "verify_failed": "verify_pattern_mismatch",
    "install_failed": "install_failed",
    "rate_limited": "rate_limited",
    "timeout": "timeout",
}
_TAG = re.compile(r"\[([a-z_]+)\]")

#: (marker in tsuku's message, subcategory); first match valid for the category wins.
_MARKERS: tuple[tuple[re.Pattern[str], str], ...] = (
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

_ANY_MARKER = re.compile("|".join(f"(?:{p.pattern})" for p, _ in _MARKERS), re.I)

#: per marker, lowercase texts one of which every match contains: for an ASCII message a
#: marker whose texts are all absent cannot match, so its regex is not run (``in`` is ~20x
#: cheaper than a case-insensitive search)
_MARKER_TEXTS: tuple[tuple[str, ...], ...] = (
    ("requires llm",),
    ("no bottle", "bottle not found"),
    ("no binaries", "no executables"),
    ("library", "only libraries"),
    ("rate limit", "status 429"),
    ("status 5", "unavailable"),
    ("out", "deadline exceeded"),
    ("version pattern", "verify"),
    ("not found",),
    ("installation failed", "install", "expected executable"),
)

#: (marker, subcategory, its texts), zipped once
_MARKER_RULES: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...] = tuple(
    (pattern, sub, texts) for (pattern, sub), texts in zip(_MARKERS, _MARKER_TEXTS, strict=True)
)

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


def classify(
    category: str,
    subcategory: str | None,
    *,
    exit_code: int | None = None,
    blocked_by: tuple[str, ...] = (),
    message: str = "",
) -> tuple[str, str | None]:
    """``(category, subcategory)`` in this project's taxonomy for a tsuku record.

    A taxonomy category with a valid subcategory is kept. Otherwise ``map_legacy`` maps tsuku's
    name and a subcategory is derived where tsuku left none: bracketed tag, message marker,
    then exit code.
    """
    spec = TAXONOMY.get(category)
    if spec is not None and subcategory is not None and subcategory in spec.subcategories:
        return category, subcategory
    cat, sub = map_legacy(category, exit_code=exit_code, blocked_by=blocked_by)
    if sub is None:
        sub = derive_subcategory(cat, message, exit_code)
    return cat, sub


def derive_subcategory(category: str, message: str, exit_code: int | None) -> str | None:
    """A subcategory of ``category`` from a tsuku record that has none, or None."""
    allowed = TAXONOMY[category].subcategories
    if not allowed:
        return None
    if "[" in message:
        for tag in _TAG.findall(message):
            sub = _TAGS.get(tag)
            if sub in allowed:
                return sub
    if message.isascii():
        lower = message.lower()
        for pattern, sub, texts in _MARKER_RULES:
            if sub in allowed:
                for text in texts:
                    if text in lower:  # the marker may match: its regex decides
                        if pattern.search(message):
                            return sub
                        break
    elif _ANY_MARKER.search(message):  # one search rejects most messages; then the ordered rules
        for pattern, sub in _MARKERS:
            if sub in allowed and pattern.search(message):
                return sub
    if exit_code is not None and exit_code in EXIT_CODES:
        ecat, esub = EXIT_CODES[exit_code]
        if ecat == category:
            return esub
    return None
