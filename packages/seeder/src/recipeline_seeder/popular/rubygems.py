"""RubyGems: the most downloaded gems from the search API, keeping gems that ship executables.

``GET /api/v1/downloads/top.json`` has answered ``410 Gone`` for years (and ``/api/v1/downloads/
all.json`` with it); the v2 version payload (``/api/v2/rubygems/<name>/versions/<v>.json``) has no
``executables`` field. What is left:

1. ``GET {rubygems}/search.json?query=downloads:>N&page=P`` (the search's field syntax, shown on
   the site's advanced search page, not in the API docs) answers a JSON array of gem objects,
   30 a page, an empty array after the last: ``[{"name": "rake", "downloads": 123, "version":
   "13.2.1", "version_downloads": 4, "platform": "ruby", "authors": "...", "info": "...",
   "licenses": ["MIT"], "metadata": {...}, "yanked": false, "sha": "...", "project_uri": "...",
   "gem_uri": "https://.../gems/rake-13.2.1.gem", "homepage_uri": null, ..., "dependencies":
   {...}}]``. The order is relevance, so the gems are re-ranked by ``downloads`` (all time).
2. Each gem's executables come from the gemspec inside its ``.gem`` (``gem_uri``): a plain tar
   whose first member, ``metadata.gz``, is the gzipped YAML gemspec. The first 64 KiB are asked
   with a range request (the whole file under the client's cap when the server ignores ranges or
   the member is longer); ``executables`` is read from the YAML. An empty list is a library.

The queue name is the command: the gem's name when it is one of its executables, else the first
(``rspec-core`` -> ``rspec``); the identifier is the gem.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zlib
from collections.abc import Iterator
from functools import partial
from typing import Any
from urllib.parse import quote

import yaml

from .common import ApiSource, FormatError, Row, count

#: the search's minimum all-time downloads; below it a gem is not worth a weekly look
DOWNLOADS_FLOOR = 1_000_000
#: how much of a ``.gem`` is asked first: ``metadata.gz`` is its first member, a few KiB
HEAD_BYTES = 64 * 1024


class _GemspecLoader(yaml.SafeLoader):
    """YAML's safe loader that reads Ruby's tagged objects (``!ruby/object:Gem::Version``) as
    plain mappings, sequences or scalars."""


def _ruby(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


_GemspecLoader.add_multi_constructor("!ruby/", _ruby)


def gemspec_executables(gem: bytes, where: str) -> list[str] | None:
    """The ``executables`` of the gemspec in ``gem``'s bytes (its start is enough); None when
    ``metadata.gz`` is not complete in them. ``FormatError`` naming ``where`` when it is unreadable."""
    try:
        with tarfile.open(fileobj=io.BytesIO(gem), mode="r:") as tar:
            for member in tar:
                if member.name != "metadata.gz":
                    continue
                if member.offset_data + member.size > len(gem):
                    return None
                raw = gem[member.offset_data : member.offset_data + member.size]
                break
            else:
                return None
    except tarfile.ReadError as exc:
        if len(gem) < HEAD_BYTES:
            raise FormatError(f"{where}: not a .gem (tar) file: {exc}") from None
        return None
    try:
        spec = yaml.load(gzip.decompress(raw).decode("utf-8"), Loader=_GemspecLoader)  # noqa: S506
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise FormatError(f"{where}: metadata.gz: unreadable gemspec: {exc}") from None
    executables = spec.get("executables") if isinstance(spec, dict) else None
    if executables is None:
        return []
    if not isinstance(executables, list) or not all(isinstance(e, str) for e in executables):
        raise FormatError(f"{where}: metadata.gz: at executables: expected a list of strings")
    return executables


class RubyGemsSource(ApiSource):
    """The most downloaded gems that ship executables."""

    ecosystem = "rubygems"
    label = "rubygems:search/downloads"

    def rows(self) -> Iterator[Row]:
        for name, downloads, gem_uri in self._ranked():
            command = self.checked(name, partial(self._command, name, gem_uri))
            if command is not None:
                yield Row(command, name, downloads)

    def _ranked(self) -> list[tuple[str, int, str]]:
        gems: dict[str, tuple[str, int, str]] = {}
        for page in range(1, self.settings.max_pages + 1):
            url = f"{self.base_url}/search.json?query={quote(f'downloads:>{DOWNLOADS_FLOOR}')}&page={page}"
            found = self.get_json(url)
            if not isinstance(found, list):
                raise FormatError(f"{url}: at $: expected an array of gems, got {type(found).__name__}")
            if not found:
                break
            for i, gem in enumerate(found):
                where = f"{url} $[{i}]"
                name = gem.get("name") if isinstance(gem, dict) else None
                if not isinstance(name, str):
                    self.drop(where, "at .name: expected a string")
                    continue
                downloads, gem_uri = count(gem.get("downloads")), gem.get("gem_uri")
                if downloads is None:
                    self.drop(name, f"{where}.downloads: expected a whole number >= 0")
                elif not isinstance(gem_uri, str):
                    self.drop(name, f"{where}.gem_uri: expected a string, got {type(gem_uri).__name__}")
                else:
                    gems.setdefault(name, (name, downloads, gem_uri))
        return sorted(gems.values(), key=lambda g: (-g[1], g[0]))

    def _command(self, name: str, gem_uri: str) -> str | None:
        executables = gemspec_executables(
            self.client.get_range(self.ecosystem, gem_uri, 0, HEAD_BYTES), gem_uri
        )
        if executables is None:  # metadata.gz longer than the head: the whole file, once
            executables = gemspec_executables(self.client.get(self.ecosystem, gem_uri).body, gem_uri)
            if executables is None:
                raise FormatError(f"{gem_uri}: no metadata.gz member (not a .gem file)")
        if not executables:
            self.drop(name, "its gemspec lists no executables (a library)")
            return None
        return name if name in executables else executables[0]
