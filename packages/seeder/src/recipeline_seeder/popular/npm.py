"""npm: the registry's search for ``keywords:cli`` ranked by popularity, plus weekly downloads.

1. ``GET {registry}-/v1/search?text=keywords:cli&popularity=1.0&quality=0.0&maintenance=0.0
   &size=S&from=F`` (the registry is npm's own ``registry`` setting) answers ``{"objects":
   [{"package": {"name": "eslint", ...}, "score": {...}}], "total": n, "time": ...}``; pages
   are read until ``max_candidates`` names, an empty page or ``from >= total``.
2. Weekly downloads come from the *downloads API*, which lives on another host than the
   registry: ``GET {downloads}/downloads/point/last-week/a,b,c`` (bulk, at most 128 unscoped
   names) answers ``{"a": {"downloads": n, "package": "a", ...}, "b": null}``; a single name
   answers ``{"downloads": n, "package": "a", ...}``.

Scoped packages (``@scope/name``) are skipped: their tool name is not the package name and the
bulk downloads API does not take them; list them in a seed list with the tool's name instead.
When the downloads API is not configured (see ``downloads_base_url``) or fails, candidates keep
the search order with an unknown popularity (priority 3), and a warning says so.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from urllib.parse import quote, urlsplit

from recipeline_schema.http import ApiError, HttpClient

from ..config import SourceSettings
from .common import ApiSource, Row, count, field, skip_row

log = logging.getLogger("recipeline_seeder")

#: the downloads API's bulk limit
BULK = 128
DOWNLOADS_ENV = "RECIPELINE_NPM_DOWNLOADS_URL"


def downloads_base_url(registry: str, environ: Mapping[str, str]) -> str | None:
    """Where the downloads API is: ``RECIPELINE_NPM_DOWNLOADS_URL``, else derived from the registry.

    The public registry's host is ``registry.<domain>`` and its downloads API ``api.<domain>``; a
    registry whose host has no ``registry.`` label (a mirror, a proxy) gives None: set the variable.
    """
    configured = environ.get(DOWNLOADS_ENV, "").strip()
    if configured:
        return configured.rstrip("/")
    parts = urlsplit(registry)
    host = parts.hostname or ""
    if not host.startswith("registry."):
        return None
    return f"{parts.scheme}://api.{host.removeprefix('registry.')}"


class NpmSource(ApiSource):
    """npm packages with the ``cli`` keyword, by popularity, with last week's downloads."""

    ecosystem = "npm"
    label = "npm:search/keywords:cli"

    def __init__(
        self, client: HttpClient, base_url: str, settings: SourceSettings, *, downloads_url: str | None
    ) -> None:
        super().__init__(client, base_url, settings)
        self.downloads_url = downloads_url.rstrip("/") if downloads_url else None

    def rows(self) -> Iterator[Row]:
        names = self._search()
        weekly = self._weekly(names)
        for name in names:
            yield Row(name, name, weekly.get(name))

    def _search(self) -> list[str]:
        names: list[str] = []
        size = min(self.settings.page_size, 250)  # the search API's maximum
        start = 0
        while len(names) < self.settings.max_candidates:
            url = (
                f"{self.base_url}/-/v1/search?text=keywords:cli&popularity=1.0&quality=0.0"
                f"&maintenance=0.0&size={size}&from={start}"
            )
            data = self.get_json(url)
            objects = field(data, "objects", list, url)
            for i, obj in enumerate(objects):
                package = obj.get("package") if isinstance(obj, dict) else None
                name = package.get("name") if isinstance(package, dict) else None
                if not isinstance(name, str):
                    skip_row(self.label, f"{url} $.objects[{i}]", "expected package.name")
                elif name.startswith("@"):
                    skip_row(self.label, name, "scoped package: its tool name is not the package name")
                elif name not in names:
                    names.append(name)
            start += len(objects)
            total = data.get("total")
            if not objects or (isinstance(total, int) and start >= total):
                break
        return names[: self.settings.max_candidates]

    def _weekly(self, names: list[str]) -> dict[str, int]:
        if not names:
            return {}
        if self.downloads_url is None:
            log.warning(
                "%s: no downloads API (set %s): popularity unknown, every package is priority 3",
                self.label,
                DOWNLOADS_ENV,
            )
            return {}
        out: dict[str, int] = {}
        try:
            for i in range(0, len(names), BULK):
                chunk = names[i : i + BULK]
                url = f"{self.downloads_url}/downloads/point/last-week/{quote(','.join(chunk), safe=',')}"
                data = self.get_json(url)
                if not isinstance(data, dict):
                    continue
                if len(chunk) == 1 and "downloads" in data:
                    data = {chunk[0]: data}
                for name in chunk:
                    point = data.get(name)
                    weekly = count(point.get("downloads")) if isinstance(point, dict) else None
                    if weekly is not None:
                        out[name] = weekly
        except ApiError as exc:
            log.warning("%s: downloads API failed, popularity unknown for the rest: %s", self.label, exc)
        return out
