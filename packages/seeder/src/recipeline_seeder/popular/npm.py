"""npm: the registry's search for ``keywords:cli``, ranked by weekly downloads, checked for ``bin``.

1. ``GET {registry}-/v1/search?text=keywords:cli&size=S&from=F`` (the registry is npm's own
   ``registry`` setting) answers ``{"objects": [{"downloads": {"monthly": n, "weekly": n},
   "dependents": "12", "updated": "...", "searchScore": x, "package": {"name": "eslint", ...},
   "score": {"final": 1, "detail": {"popularity": 1, "quality": 1, "maintenance": 1}},
   "flags": {...}}], "total": n, "time": ...}``; pages are read until ``max_candidates`` names,
   an empty page or ``from >= total``. The scores no longer separate anything (every detail is
   1), so the order of the answer is relevance; the candidates are **ranked by
   ``downloads.weekly``**, which each object carries.
2. Objects without ``downloads`` (an older registry or a mirror's search) get their weekly count
   from the *downloads API* on another host: ``GET {downloads}/downloads/point/last-week/a,b,c``
   (bulk, at most 128 unscoped names) answers ``{"a": {"downloads": n, ...}, "b": null}``; a
   single name answers ``{"downloads": n, "package": "a", ...}``. When that API is not configured
   (see ``downloads_base_url``) or fails, those packages keep an unknown popularity.
3. Each candidate's newest manifest, ``GET {registry}<name>/latest``, is read for ``bin``: an
   object ``{"ng": "bin/ng.js"}`` names the commands; a string (``"./bin/prettier.cjs"``, as
   published) installs one command named after the package without its scope; none, or an
   empty object, is a library and is dropped. The queue name is the command: the package's own
   (unscoped) name when it is one of them, else the first one (``@angular/cli`` -> ``ng``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from urllib.parse import quote, urlsplit

from recipeline_schema.http import ApiError, HttpClient

from ..config import SourceSettings
from .common import ApiSource, FormatError, Row, count, field

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


def command_name(package: str, bin_field: object, where: str) -> str | None:
    """The command a package installs, from its manifest's ``bin`` (None: it installs none).

    ``FormatError`` naming ``where`` when ``bin`` is neither an object of strings nor a string.
    """
    own = package.rsplit("/", 1)[-1]
    if bin_field is None:
        return None
    if isinstance(bin_field, str):
        return own if bin_field.strip() else None
    if not isinstance(bin_field, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in bin_field.items()
    ):
        raise FormatError(f"{where}: at $.bin: expected an object of command -> path or a string")
    if not bin_field:
        return None
    return own if own in bin_field else next(iter(bin_field))


@dataclass(frozen=True, slots=True)
class _Hit:
    name: str
    weekly: int | None


class NpmSource(ApiSource):
    """npm packages with the ``cli`` keyword that install a command, by last week's downloads."""

    ecosystem = "npm"
    label = "npm:search/keywords:cli"

    def __init__(
        self, client: HttpClient, base_url: str, settings: SourceSettings, *, downloads_url: str | None
    ) -> None:
        super().__init__(client, base_url, settings)
        self.downloads_url = downloads_url.rstrip("/") if downloads_url else None

    def rows(self) -> Iterator[Row]:
        hits = self._search()
        weekly = self._weekly([h.name for h in hits if h.weekly is None and not h.name.startswith("@")])
        ranked = sorted(
            ((h.name, h.weekly if h.weekly is not None else weekly.get(h.name)) for h in hits),
            key=lambda nw: (nw[1] is None, -(nw[1] or 0)),  # stable: unknowns keep search order
        )
        for package, downloads in ranked:
            command = self.checked(package, partial(self._command, package))
            if command is None:
                continue
            yield Row(command, package, downloads)

    def _command(self, package: str) -> str | None:
        url = f"{self.base_url}/{quote(package, safe='@')}/latest"
        manifest = self.get_json(url)
        if not isinstance(manifest, dict):
            raise FormatError(f"{url}: at $: expected an object, got {type(manifest).__name__}")
        command = command_name(package, manifest.get("bin"), url)
        if command is None:
            self.drop(package, "its newest manifest has no 'bin' (a library)")
        return command

    def _search(self) -> list[_Hit]:
        hits: dict[str, _Hit] = {}
        size = min(self.settings.page_size, 250)  # the search API's maximum
        start = 0
        while len(hits) < self.settings.max_candidates:
            url = f"{self.base_url}/-/v1/search?text=keywords:cli&size={size}&from={start}"
            data = self.get_json(url)
            objects = field(data, "objects", list, url)
            for i, obj in enumerate(objects):
                package = obj.get("package") if isinstance(obj, dict) else None
                name = package.get("name") if isinstance(package, dict) else None
                if not isinstance(name, str):
                    self.drop(f"{url} $.objects[{i}]", "expected $.objects[i].package.name, a string")
                    continue
                downloads = obj.get("downloads")
                weekly = count(downloads.get("weekly")) if isinstance(downloads, dict) else None
                if downloads is not None and weekly is None:
                    log.info("%s: %s: $.objects[%d].downloads.weekly is not a count", self.label, name, i)
                hits.setdefault(name, _Hit(name, weekly))
            start += len(objects)
            total = data.get("total")
            if not objects or (isinstance(total, int) and start >= total):
                break
        return list(hits.values())[: self.settings.max_candidates]

    def _weekly(self, names: list[str]) -> dict[str, int]:
        if not names:
            return {}
        if self.downloads_url is None:
            log.warning(
                "%s: %d packages without downloads in the search and no downloads API (set %s): "
                "their popularity is unknown (priority 3)",
                self.label,
                len(names),
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
