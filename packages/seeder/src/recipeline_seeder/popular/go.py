"""Go: the module index (``index.golang.org``), ranked by release activity.

Go has no public download counts: the proxy serves modules without reporting how often, and
pkg.go.dev's "imported by" has no API. The only public, enumerable feed is the module index,
``GET {go_index}/index?since=<RFC 3339>&limit=N``, which answers newline-delimited JSON objects
``{"Path": "github.com/junegunn/fzf", "Version": "v0.46.0", "Timestamp": "..."}`` in time order.

The signal chosen is **the number of versions a module published in the window read** (settings
``window_days``, default 30, and ``max_pages``, default 20): a module that keeps releasing is
maintained and used, and the count is deterministic and cheap. It is a weak signal, so the
default thresholds leave most modules at priority 3. Pseudo-versions (``v0.0.0-2024...``) are not
releases and do not count. Pages continue from the last ``Timestamp`` read.

The tool name is the module path's last element, without a major-version suffix
(``github.com/x/tool/v2`` -> ``tool``); the identifier is the module path.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Iterator
from urllib.parse import quote

from recipeline_schema.http import HttpClient

from ..config import SourceSettings
from .common import ApiSource, FormatError, Row, skip_row

_MAJOR = re.compile(r"^v\d+$")
_PSEUDO = re.compile(r"-(\d+\.)?0\.\d{14}-[0-9a-f]{12}$|^v0\.0\.0-\d{14}-")
INDEX_TYPES = ("application/json", "application/x-ndjson", "text/plain")


def tool_name(path: str) -> str:
    """The last element of a module path, skipping a ``/vN`` major-version suffix."""
    parts = [p for p in path.split("/") if p]
    if len(parts) > 1 and _MAJOR.match(parts[-1]):
        parts.pop()
    return parts[-1] if parts else path


class GoSource(ApiSource):
    """Go modules by the number of versions they published recently."""

    ecosystem = "go"
    label = "go:index/release-activity"

    def __init__(
        self,
        client: HttpClient,
        base_url: str,
        settings: SourceSettings,
        *,
        now: dt.datetime,
    ) -> None:
        super().__init__(client, base_url, settings)
        self.since = now - dt.timedelta(days=settings.window_days)
        self.max_pages = settings.max_pages

    def rows(self) -> Iterator[Row]:
        releases: Counter[str] = Counter()
        since = self.since.strftime("%Y-%m-%dT%H:%M:%SZ")
        limit = self.settings.page_size
        for _page in range(self.max_pages):
            url = f"{self.base_url}/index?since={quote(since, safe='')}&limit={limit}"
            resp = self.client.get(self.ecosystem, url)
            if resp.media_type not in INDEX_TYPES:
                raise FormatError(
                    f"{url}: content type {resp.media_type!r}, expected one of {list(INDEX_TYPES)}"
                )
            lines = [line for line in resp.body.decode("utf-8", "replace").split("\n") if line.strip()]
            last = since
            for number, line in enumerate(lines, start=1):
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise FormatError(f"{url}: line {number}: invalid JSON: {exc.msg}") from None
                if not isinstance(record, dict):
                    record = {}
                path, version, stamp = record.get("Path"), record.get("Version"), record.get("Timestamp")
                if not (isinstance(path, str) and isinstance(version, str) and isinstance(stamp, str)):
                    skip_row(self.label, f"{url} line {number}", "expected Path, Version and Timestamp")
                    continue
                last = stamp
                if not _PSEUDO.search(version):
                    releases[path] += 1
            if len(lines) < limit or last == since:
                break
            since = last
        ranked = sorted(releases.items(), key=lambda kv: (-kv[1], kv[0]))
        for path, n in ranked:
            yield Row(tool_name(path), path, n)
