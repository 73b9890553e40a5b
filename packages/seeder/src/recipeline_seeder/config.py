"""Tunable settings of the popularity sources: tier thresholds and how much to fetch.

The defaults live in ``DEFAULT_SETTINGS`` (documented in the README, one row per source); an
operator overrides any of them with a JSON file (``--config PATH``, by default
``data/seeds/seeder-config.json`` when it exists)::

    {"cargo": {"tier1": 5000000, "tier2": 500000, "max_candidates": 300}}

Tiers: popularity >= ``tier1`` is priority 1, >= ``tier2`` priority 2, anything else 3; an unknown
popularity is priority 3. Thresholds are in the source's own unit (``unit``), never compared
across sources.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """One popularity source's thresholds (in ``unit``) and fetch bounds."""

    unit: str
    tier1: int
    tier2: int
    #: stop after this many candidates (pages are fetched until then)
    max_candidates: int = 500
    #: page size asked of paginated APIs
    page_size: int = 100
    #: at most this many ranked packages are examined by sources that check each one (PyPI)
    scan_limit: int = 1000
    #: how far back a time-window source reads (Go's module index)
    window_days: int = 30
    #: at most this many pages of a feed read page by page (Go's module index)
    max_pages: int = 20

    def priority(self, popularity: int | None) -> int:
        """1, 2 or 3 from ``popularity`` (3 when unknown)."""
        if popularity is None:
            return 3
        if popularity >= self.tier1:
            return 1
        if popularity >= self.tier2:
            return 2
        return 3


#: Defaults, by ecosystem. Units differ, so thresholds are only ever compared within a row.
DEFAULT_SETTINGS: Mapping[str, SourceSettings] = {
    "homebrew": SourceSettings("installs on request, 30 days", tier1=100_000, tier2=10_000),
    "cask": SourceSettings("cask installs, 30 days", tier1=50_000, tier2=5_000),
    "cargo": SourceSettings("all-time downloads", tier1=10_000_000, tier2=1_000_000),
    "npm": SourceSettings("downloads, last week", tier1=1_000_000, tier2=10_000, page_size=250),
    "pypi": SourceSettings(
        "downloads, last 30 days", tier1=10_000_000, tier2=1_000_000, max_candidates=200, scan_limit=400
    ),
    "rubygems": SourceSettings("downloads of the top version", tier1=50_000_000, tier2=5_000_000),
    # 30 days of the index are ~400,000 lines today (~13,000 a day): 250 pages of 2,000 cover them
    "go": SourceSettings(
        "releases published in the index window",
        tier1=50,
        tier2=10,
        page_size=2000,
        max_pages=250,
        scan_limit=300,
    ),
    "cpan": SourceSettings("MetaCPAN favourites", tier1=100, tier2=20),
}

#: The configuration file's name under ``data/seeds/``.
CONFIG_FILE = "seeder-config.json"

_INT_FIELDS = ("tier1", "tier2", "max_candidates", "page_size", "scan_limit", "window_days", "max_pages")


def load_settings(path: Path | None) -> dict[str, SourceSettings]:
    """The defaults with ``path``'s overrides applied (``path`` None or missing: the defaults)."""
    settings = dict(DEFAULT_SETTINGS)
    if path is None or not path.exists():
        return settings
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(path, "$", "a readable JSON object", str(exc)) from None
    return apply_overrides(settings, data, path)


def apply_overrides(
    settings: dict[str, SourceSettings], data: Any, path: Path | str
) -> dict[str, SourceSettings]:
    """``settings`` with the overrides of ``data`` (a decoded config file) applied; strict."""
    if not isinstance(data, dict):
        raise ConfigError(path, "$", "an object keyed by ecosystem", type(data).__name__)
    out = dict(settings)
    for eco, fields in data.items():
        if eco.startswith("_"):  # "_comment" keys document the file
            continue
        if eco not in out:
            raise ConfigError(path, f"$.{eco}", f"one of {sorted(out)}", eco)
        if not isinstance(fields, dict):
            raise ConfigError(path, f"$.{eco}", "an object", type(fields).__name__)
        changes: dict[str, Any] = {}
        for key, value in fields.items():
            minimum = 0 if key.startswith("tier") else 1
            text_ok = key == "unit" and isinstance(value, str)
            if text_ok or (key in _INT_FIELDS and type(value) is int and value >= minimum):
                changes[key] = value
            else:
                raise ConfigError(
                    path, f"$.{eco}.{key}", f"one of {['unit', *_INT_FIELDS]} with a whole number >= 0", value
                )
        merged = dataclasses.replace(out[eco], **changes)
        if merged.tier1 < merged.tier2:
            raise ConfigError(path, f"$.{eco}.tier1", f"a threshold >= tier2 ({merged.tier2})", merged.tier1)
        out[eco] = merged
    return out
