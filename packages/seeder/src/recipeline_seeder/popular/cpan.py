"""CPAN: MetaCPAN's favourites leaderboard, keeping distributions that install a command.

1. ``GET {cpan}/favorite/leaderboard`` answers ``{"leaderboard": [{"key": "Moose", "doc_count":
   412}, ...], "took": n, "total": n}`` (the 100 most favourited distributions, libraries and
   tools alike). Popularity is the favourite count.
2. Each distribution's executables are found as the generator's CPAN builder finds them:
   ``GET {cpan}/release/<Distribution>`` (the latest release: ``name``, ``author``, ...), then
   ``GET {cpan}/file/_search?q=release:"<name>" AND author:<AUTHOR> AND directory:false AND
   (level:0 OR level:1)&_source=path,mime&size=500`` answering ``{"took": n, "timed_out": false,
   "hits": {"total": {"value": n, "relation": "eq"}, "hits": [{"_index": ..., "_id": ...,
   "_score": 1.0, "_source": {"path": "script/mojo", "mime": "text/x-script.perl"}}]}}``
   (``mime`` absent when MetaCPAN could not tell). MetaCPAN's Elasticsearch 8 client answers a
   ``fields=`` parameter with HTTP 500, so only ``_source`` is asked for. Executables are
   ``script/<x>`` and ``bin/<x>`` (``<x>.PL`` generates ``<x>``) and root files without a ``.``
   that MetaCPAN indexed as Perl scripts (``text/x-script.perl``: ack ships ``ack`` at its root).
3. None: a library, dropped with the reason. The queue name is the command named like the
   distribution (case, ``-`` and a leading ``App-`` ignored: ``Perl-Critic`` -> ``perlcritic``;
   or one the name starts with or that starts with the name: ``App-cpanminus`` -> ``cpanm``,
   ``Mojolicious`` -> ``mojo``, ``Plack`` -> ``plackup``), else the first in path order; the
   identifier is the distribution.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any
from urllib.parse import quote, urlencode

from recipeline_schema.cpan_scripts import DISTRIBUTION_RE, PAUSE_ID_RE, RELEASE_RE, script_names

from .common import ApiSource, FormatError, Row, count, field

SEARCH_SIZE = 500


def release_files(doc: Any, url: str) -> tuple[list[tuple[str, str | None]], bool]:
    """(path, mime) of a ``file/_search`` answer sorted by path, and whether the listing is
    complete (``hits.total`` exact, an integer or ``{"value", "relation": "eq"}``, and all returned)."""
    hits = field(doc, "hits", dict, url)
    listed = field(hits, "hits", list, url, "$.hits")
    files = []
    for i, hit in enumerate(listed):
        source = hit.get("_source") if isinstance(hit, dict) else None
        path = source.get("path") if isinstance(source, dict) else None
        if not isinstance(source, dict) or not isinstance(path, str):
            raise FormatError(f"{url}: at $.hits.hits[{i}]._source.path: expected a string")
        mime = source.get("mime")
        files.append((path, mime if isinstance(mime, str) else None))
    total = hits.get("total")
    if isinstance(total, dict):
        total = total.get("value") if total.get("relation") == "eq" else None
    complete = isinstance(total, int) and not isinstance(total, bool) and total <= len(files)
    return sorted(files), complete


def _plain(text: str) -> str:
    return text.lower().removeprefix("app-").replace("-", "").replace("_", "")


def command_name(distribution: str, scripts: list[str]) -> str:
    """The command a user types for ``distribution`` among its ``scripts`` (not empty)."""
    dist = _plain(distribution)
    for script in scripts:
        if _plain(script) == dist:
            return script
    for script in scripts:
        plain = _plain(script)
        if len(plain) >= 3 and (dist.startswith(plain) or plain.startswith(dist)):
            return script
    return scripts[0]


class CpanSource(ApiSource):
    """MetaCPAN's most favourited distributions that install a command."""

    ecosystem = "cpan"
    label = "cpan:favorite/leaderboard"

    def rows(self) -> Iterator[Row]:
        for dist, favourites in self._board():
            command = self.checked(dist, partial(self._command, dist))
            if command is not None:
                yield Row(command, dist, favourites)

    def _board(self) -> list[tuple[str, int]]:
        url = f"{self.base_url}/favorite/leaderboard"
        board = field(self.get_json(url), "leaderboard", list, url)
        out = []
        for i, item in enumerate(board):
            where = f"{url} $.leaderboard[{i}]"
            dist = item.get("key") if isinstance(item, dict) else None
            favourites = count(item.get("doc_count")) if isinstance(item, dict) else None
            if not isinstance(dist, str) or not DISTRIBUTION_RE.fullmatch(dist):
                self.drop(where, "at .key: expected a distribution name")
            elif favourites is None:
                self.drop(dist, f"{where}.doc_count: expected a whole number >= 0")
            else:
                out.append((dist, favourites))
        # the leaderboard is sorted already; sort again so a reordered answer gives the same queue
        return sorted(out, key=lambda d: (-d[1], d[0]))

    def _command(self, dist: str) -> str | None:
        url = f"{self.base_url}/release/{quote(dist)}"
        release = self.get_json(url)
        name = field(release, "name", str, url)
        author = field(release, "author", str, url)
        if not RELEASE_RE.fullmatch(name) or not PAUSE_ID_RE.fullmatch(author):
            raise FormatError(f"{url}: at $.name or $.author: not a release name and a PAUSE id")
        query = f'release:"{name}" AND author:{author} AND directory:false AND (level:0 OR level:1)'
        search = f"{self.base_url}/file/_search?" + urlencode(
            {"q": query, "_source": "path,mime", "size": SEARCH_SIZE}
        )
        files, complete = release_files(self.get_json(search), search)
        scripts = script_names(files)
        if scripts:
            return command_name(dist, scripts)
        cut = "" if complete else f" (in the first {len(files)} files listed: the listing is cut)"
        self.drop(dist, f"a library: release {name} has no script/, bin/ or root Perl script{cut}")
        return None
