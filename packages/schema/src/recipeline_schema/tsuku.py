"""tsuku compatibility: its category names, its ``[tag]``s and message markers, one home. Pure.

tsuku's records carry no subcategory and long CLI output as the message; its CLI prints
``deterministic generation failed: [<tag>] <message>`` on exit 9. The generator's tsuku backend
(a live tsuku exit) and the dashboard (tsuku's recorded failures) classify with these rules, so
both give one tsuku failure one category. The cause line is ``cause.cause_line`` (the same for
every tool); exit codes and tsuku's category names are in ``taxonomy`` (``EXIT_CODES``,
``map_legacy``). Message markers are used only because tsuku's records have nothing better:
recipeline's own records always carry structured subcategories (ARCHITECTURE §3.3).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .taxonomy import EXIT_CODES, TAXONOMY, map_legacy

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
