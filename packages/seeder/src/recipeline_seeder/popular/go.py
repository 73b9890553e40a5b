"""Go: the module index, ranked by release activity, keeping modules that build a command.

Go has no public download counts: the proxy serves modules without reporting how often, and
pkg.go.dev's "imported by" has no API. The only public, enumerable feed is the module index,
``GET {go_index}/index?since=<RFC 3339>&limit=N``, which answers newline-delimited JSON objects
``{"Path": "github.com/junegunn/fzf", "Version": "v0.46.0", "Timestamp": "..."}`` in time order.

1. **Popularity** is the number of releases a module published in the window (``window_days``,
   default 30): a module that keeps releasing is maintained and used; the count is public and
   deterministic. Reading: ``since`` is inclusive, so each page starts with the last record of
   the one before; records are counted once per (path, version). The server may answer fewer
   lines than ``limit`` (it caps it; the documented 2000 is a maximum, not a promise), so only a
   page with nothing new ends the feed, or ``max_pages`` (a warning says the window was cut).
   Pseudo-versions are not releases: the three forms of the Go module reference
   (``vX.0.0-yyyymmddhhmmss-abcdefabcdef``, ``vX.Y.Z-pre.0.yyyymmddhhmmss-abcdefabcdef``,
   ``vX.Y.(Z+1)-0.yyyymmddhhmmss-abcdefabcdef``, each maybe ``+incompatible``).
2. **A command?** The module zip of its newest release in the window, ``GET {go}/<escaped
   path>/@v/<version>.zip``, is listed from its central directory (a range request for the last
   48 KiB, then the directory itself when it is longer): a ``main.go`` at the module root makes
   the command the path's last element (without ``/vN``); ``cmd/<name>/main.go`` makes it
   ``<name>`` (the one named like the module when there are several, else the first in order
   that is not a helper such as ``gen-docs``, ``*gen``, ``example*``, ``test*``).
   A module with neither is a library (``.../service/s3``, ``golang.org/x/net``) and is dropped.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from functools import partial
from urllib.parse import quote

from recipeline_schema.http import HttpClient

from ..config import SourceSettings
from .common import ApiSource, FormatError, Row

log = logging.getLogger("recipeline_seeder")

_MAJOR = re.compile(r"^v\d+$")
#: the pseudo-version forms of the Go module reference (x/mod's ``IsPseudoVersion``)
_PSEUDO = re.compile(r"^v\d+\.(0\.0-|\d+\.\d+-([^+]*\.)?0\.)\d{14}-[A-Za-z0-9]+(\+[0-9A-Za-z.-]+)?$")
INDEX_TYPES = ("application/json", "application/x-ndjson", "text/plain")
#: how much of a module zip's end is asked first (its central directory is usually smaller)
TAIL_BYTES = 48 * 1024
#: a central directory longer than this is not read (the module is dropped, with the reason)
MAX_DIRECTORY = 16 * 1024 * 1024


#: names of a module's helper commands (code and docs generators, examples, tests)
_HELPER = re.compile(r"^gen|gen$|generat|example|^docs?$|-docs?$|^test|test$|^internal$")


def is_pseudo_version(version: str) -> bool:
    """True for the three pseudo-version forms (not releases)."""
    return _PSEUDO.match(version) is not None


def tool_name(path: str) -> str:
    """The last element of a module path, skipping a ``/vN`` major-version suffix."""
    parts = [p for p in path.split("/") if p]
    if len(parts) > 1 and _MAJOR.match(parts[-1]):
        parts.pop()
    return parts[-1] if parts else path


def escape_path(path: str) -> str:
    """The proxy's case encoding of a module path: ``A`` -> ``!a``."""
    return re.sub(r"[A-Z]", lambda m: "!" + m.group(0).lower(), path)


def command_of(path: str, version: str, names: list[str]) -> str | None:
    """The command a module builds, from its zip's file names (None: a library)."""
    prefix = f"{path}@{version}/"  # every file of a module zip is under it
    inside = [n[len(prefix) :] for n in names if n.startswith(prefix)]
    if "main.go" in inside:
        return tool_name(path)
    commands = sorted({n.split("/")[1] for n in inside if re.fullmatch(r"cmd/[^/]+/main\.go", n)})
    if not commands:
        return None
    own = tool_name(path)
    if own in commands:
        return own
    # the repository's own helpers (cmd/gen-docs beside cmd/gh) are not the tool
    tools = [c for c in commands if not _HELPER.search(c)]
    return (tools or commands)[0]


class _NeedBytesError(Exception):
    """The zip reader asked for bytes before the tail that was fetched."""

    def __init__(self, start: int) -> None:
        self.start = start


class _Window(io.RawIOBase):
    """A read-only file of ``size`` bytes of which only ``data`` at ``offset`` is known."""

    def __init__(self, data: bytes, offset: int, size: int) -> None:
        self.data, self.offset, self.size, self.pos = data, offset, size, 0

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def seek(self, pos: int, whence: int = 0) -> int:
        self.pos = {0: pos, 1: self.pos + pos, 2: self.size + pos}[whence]
        return self.pos

    def tell(self) -> int:
        return self.pos

    def read(self, n: int = -1) -> bytes:
        if self.pos < self.offset:
            raise _NeedBytesError(self.pos)
        end = self.size if n is None or n < 0 else min(self.pos + n, self.size)
        chunk = self.data[self.pos - self.offset : end - self.offset]
        self.pos += len(chunk)
        return chunk


class GoSource(ApiSource):
    """Go modules that build a command, by the number of releases they published recently."""

    ecosystem = "go"
    label = "go:index/release-activity"

    def __init__(
        self,
        client: HttpClient,
        base_url: str,
        settings: SourceSettings,
        *,
        now: dt.datetime,
        proxy_url: str,
    ) -> None:
        super().__init__(client, base_url, settings)
        self.since = now - dt.timedelta(days=settings.window_days)
        self.max_pages = settings.max_pages
        self.proxy_url = proxy_url.rstrip("/")

    def rows(self) -> Iterator[Row]:
        releases = self._releases()
        counts = Counter({path: len(versions) for path, versions in releases.items()})
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        for path, n in ranked[: self.settings.scan_limit]:
            newest = releases[path][-1]
            command = self.checked(path, partial(self._command, path, newest))
            if command is not None:
                yield Row(command, path, n)

    def _releases(self) -> dict[str, list[str]]:
        """Release versions per module path in the window, in index (time) order, each once."""
        seen: set[tuple[str, str]] = set()
        releases: dict[str, list[str]] = {}
        since = self.since.strftime("%Y-%m-%dT%H:%M:%SZ")
        limit = self.settings.page_size
        for _page in range(self.max_pages):
            url = f"{self.base_url}/index?since={quote(since, safe='')}&limit={limit}"
            resp = self.client.get(self.ecosystem, url)
            if resp.media_type not in INDEX_TYPES:
                raise FormatError(
                    f"{url}: content type {resp.media_type!r}, expected one of {list(INDEX_TYPES)}"
                )
            new = 0
            last = since
            for number, line in enumerate(resp.body.decode("utf-8", "replace").splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise FormatError(f"{url}: line {number}: invalid JSON: {exc.msg}") from None
                fields = [
                    record.get(k) if isinstance(record, dict) else None
                    for k in ("Path", "Version", "Timestamp")
                ]
                path, version, stamp = fields
                if not (isinstance(path, str) and isinstance(version, str) and isinstance(stamp, str)):
                    missing = [
                        k
                        for k, v in zip(("Path", "Version", "Timestamp"), fields, strict=True)
                        if not isinstance(v, str)
                    ]
                    self.drop(f"{url} line {number}", f"expected strings at {', '.join(missing)}")
                    continue
                last = max(last, stamp)
                if (path, version) in seen:
                    continue
                seen.add((path, version))
                new += 1
                if not is_pseudo_version(version):
                    releases.setdefault(path, []).append(version)
            if new == 0 or last == since:
                return releases
            since = last
        log.warning(
            "%s: %d pages read and the index goes on after %s: the window was cut (raise max_pages)",
            self.label,
            self.max_pages,
            since,
        )
        return releases

    def _command(self, path: str, version: str) -> str | None:
        url = f"{self.proxy_url}/{quote(escape_path(path))}/@v/{quote(version)}.zip"
        tail = self.client.get_tail(self.ecosystem, url, TAIL_BYTES)
        names = self._listing(url, tail.data, tail.offset, tail.size)
        command = command_of(path, version, names)
        if command is None:
            self.drop(path, f"no main.go at the module root or under cmd/<name>/ in {version} (a library)")
        return command

    def _listing(self, url: str, data: bytes, offset: int, size: int) -> list[str]:
        try:
            try:
                with zipfile.ZipFile(_Window(data, offset, size)) as zf:
                    return zf.namelist()
            except _NeedBytesError as need:
                if size - need.start > MAX_DIRECTORY:
                    raise FormatError(
                        f"{url}: the zip's central directory is over {MAX_DIRECTORY} bytes"
                    ) from None
                more = self.client.get_range(self.ecosystem, url, need.start, size - need.start)
                with zipfile.ZipFile(_Window(more, need.start, size)) as zf:
                    return zf.namelist()
        except (zipfile.BadZipFile, _NeedBytesError, ValueError) as exc:
            raise FormatError(f"{url}: not a readable module zip: {exc}") from None
