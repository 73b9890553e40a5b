"""RubyGems: the most downloaded gem versions, keeping gems that ship executables.

1. ``GET {rubygems}/downloads/top.json`` answers ``{"gems": [[{"full_name": "rake-13.0.6",
   "number": "13.0.6", "platform": "ruby", ...}, 1234567], ...]}`` (version attributes and the
   download count). The gem name is ``full_name`` without ``-<number>`` and any platform suffix.
2. For each gem, ``GET {rubygems_v2}/rubygems/<name>/versions/<number>.json`` (the version's
   payload) is read for its ``executables`` list: a gem with an empty list is dropped (a library);
   a payload without the field keeps the gem (unknown; the generator decides from the gem).

RubyGems allows 10 requests a minute by default, so ``max_candidates`` bounds the second step.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from recipeline_schema.http import HttpClient

from ..config import SourceSettings
from .common import ApiSource, Row, count, field, skip_row


class RubyGemsSource(ApiSource):
    """Top downloaded gems that ship executables."""

    ecosystem = "rubygems"
    label = "rubygems:downloads/top"

    def __init__(self, client: HttpClient, base_url: str, settings: SourceSettings, *, v2_url: str) -> None:
        super().__init__(client, base_url, settings)
        self.v2_url = v2_url.rstrip("/")

    def rows(self) -> Iterator[Row]:
        url = f"{self.base_url}/downloads/top.json"
        top = field(self.get_json(url), "gems", list, url)
        seen: set[str] = set()
        for i, pair in enumerate(top):
            gem = _gem(pair)
            if gem is None:
                skip_row(self.label, f"$.gems[{i}]", "expected [{full_name, number}, downloads]")
                continue
            name, number, downloads = gem
            if name in seen:
                continue
            seen.add(name)
            if self._ships_executables(name, number):
                yield Row(name, name, downloads)

    def _ships_executables(self, name: str, number: str) -> bool:
        url = f"{self.v2_url}/rubygems/{quote(name, safe='')}/versions/{quote(number, safe='')}.json"
        payload = self.get_json(url)
        executables = payload.get("executables") if isinstance(payload, dict) else None
        if isinstance(executables, list) and not executables:
            skip_row(self.label, name, "ships no executables (a library)")
            return False
        return True


def _gem(pair: object) -> tuple[str, str, int] | None:
    if not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[0], dict):
        return None
    attrs, downloads = pair[0], count(pair[1])
    full_name, number = attrs.get("full_name"), attrs.get("number")
    if not isinstance(full_name, str) or not isinstance(number, str) or downloads is None:
        return None
    name = attrs.get("name")
    if not isinstance(name, str):
        marker = f"-{number}"
        if marker not in full_name:
            return None
        name = full_name[: full_name.rindex(marker)]
    return name, number, downloads
