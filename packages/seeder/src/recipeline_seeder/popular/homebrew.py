"""Homebrew and Homebrew Cask: the public install analytics of formulae.brew.sh.

- formulae: ``GET {homebrew}/analytics/install-on-request/30d.json``
- casks:    ``GET {homebrew}/analytics/cask-install/30d.json``

Both answer ``{"category": ..., "total_items": n, "start_date": ..., "end_date": ...,
"total_count": n, "items": [{"number": 1, "formula"|"cask": "node", "count": "361,041",
"percent": "2.55"}, ...]}``, already sorted by count. ``count`` is a string with thousands
separators. The name is the formula (or cask token) and also the identifier.
"""

from __future__ import annotations

from collections.abc import Iterator

from .common import ApiSource, Row, count, field, skip_row


class _Analytics(ApiSource):
    path = ""
    key = ""

    def rows(self) -> Iterator[Row]:
        url = f"{self.base_url}/{self.path}"
        items = field(self.get_json(url), "items", list, url)
        for i, item in enumerate(items):
            name = item.get(self.key) if isinstance(item, dict) else None
            installs = count(item.get("count")) if isinstance(item, dict) else None
            if not isinstance(name, str) or installs is None:
                skip_row(self.label, f"$.items[{i}]", f"expected {self.key!r} and a numeric 'count'")
                continue
            yield Row(name, name, installs)


class HomebrewSource(_Analytics):
    """Formulae by installs on request over 30 days."""

    ecosystem = "homebrew"
    label = "homebrew:analytics/install-on-request/30d"
    path = "analytics/install-on-request/30d.json"
    key = "formula"


class CaskSource(_Analytics):
    """Casks by installs over 30 days."""

    ecosystem = "cask"
    label = "cask:analytics/cask-install/30d"
    path = "analytics/cask-install/30d.json"
    key = "cask"
