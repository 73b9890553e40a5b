"""The failure taxonomy of ARCHITECTURE §3.3, as data, and the mappings from tsuku's names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Category = Literal["deterministic_insufficient", "validation_failed", "missing_dep", "api_error"]


@dataclass(frozen=True, slots=True)
class CategorySpec:
    name: str
    subcategories: tuple[str, ...]
    transient: bool
    #: subcategories that are not transient although the category is
    permanent_subcategories: tuple[str, ...] = ()


TAXONOMY: dict[str, CategorySpec] = {
    spec.name: spec
    for spec in (
        CategorySpec(
            "deterministic_insufficient",
            (
                "no_bottle",
                "archive_extraction_failed",
                "binary_discovery_failed",
                "requires_llm",
                "library_only",
                "unsupported_source",
                "installs_itself",
            ),
            transient=False,
        ),
        CategorySpec(
            "validation_failed",
            (
                "verify_pattern_mismatch",
                "verify_timeout",
                "install_failed",
                "schema_invalid",
                "unsafe_action",
                "resource_limit",
                "undeclared_dependency",
                "name_conflict",
            ),
            transient=False,
        ),
        CategorySpec("missing_dep", (), transient=False),
        CategorySpec(
            "api_error",
            # request_rejected: a 5xx that persisted across retries for this package while the
            # same registry answered other packages of the batch: the request, not the registry,
            # is wrong (not an outage; permanent, a hard failure for the breaker)
            (
                "rate_limited",
                "upstream_unavailable",
                "timeout",
                "not_found",
                "bad_response",
                "request_rejected",
            ),
            transient=True,
            permanent_subcategories=("not_found", "request_rejected"),
        ),
    )
}
CATEGORIES: tuple[str, ...] = tuple(TAXONOMY)


def is_valid(category: str, subcategory: str | None) -> bool:
    """True when ``subcategory`` (or ``None``) belongs to ``category``."""
    spec = TAXONOMY.get(category)
    return spec is not None and (subcategory is None or subcategory in spec.subcategories)


def is_transient(category: str, subcategory: str | None) -> bool:
    spec = TAXONOMY[category]
    return spec.transient and subcategory not in spec.permanent_subcategories


#: tsuku CLI exit codes -> (category, subcategory).
EXIT_CODES: dict[int, tuple[str, str | None]] = {
    3: ("api_error", "not_found"),
    5: ("api_error", "upstream_unavailable"),
    6: ("validation_failed", "install_failed"),
    7: ("validation_failed", "verify_pattern_mismatch"),
    8: ("missing_dep", None),
    9: ("deterministic_insufficient", None),
    124: ("validation_failed", "verify_timeout"),
}

#: tsuku's legacy category names -> (category, subcategory derived when tsuku left none).
LEGACY_CATEGORIES: dict[str, tuple[str, str | None]] = {
    "install_failed": ("validation_failed", "install_failed"),
    "validation_failed": ("validation_failed", None),
    "verify_failed": ("validation_failed", "verify_pattern_mismatch"),
    "generation_failed": ("deterministic_insufficient", None),
    "deterministic": ("deterministic_insufficient", None),
    "deterministic_insufficient": ("deterministic_insufficient", None),
    "network_error": ("api_error", "upstream_unavailable"),
    "timeout": ("api_error", "timeout"),
    "api_error": ("api_error", None),
    "missing_dep": ("missing_dep", None),
}


#: Every category name found in tsuku's data that ``map_legacy`` maps by name.
LEGACY_CATEGORY_NAMES: frozenset[str] = frozenset({*LEGACY_CATEGORIES, "recipe_not_found"})


def map_legacy(
    category: str, *, exit_code: int | None = None, blocked_by: tuple[str, ...] = ()
) -> tuple[str, str | None]:
    """Map a tsuku category (and its context) to this taxonomy.

    ``recipe_not_found`` is ``missing_dep`` when dependencies are named, otherwise
    ``api_error/not_found``. An exit code refines a subcategory that the name left open.
    """
    if category == "recipe_not_found":
        return ("missing_dep", None) if blocked_by else ("api_error", "not_found")
    if category in TAXONOMY and category not in LEGACY_CATEGORIES:
        return category, None
    mapped = LEGACY_CATEGORIES.get(category)
    if mapped is None:
        if exit_code is not None and exit_code in EXIT_CODES:
            return EXIT_CODES[exit_code]
        return "deterministic_insufficient", None
    cat, sub = mapped
    if sub is None and exit_code in EXIT_CODES:
        ecat, esub = EXIT_CODES[exit_code]
        if ecat == cat:
            sub = esub
    return cat, sub
