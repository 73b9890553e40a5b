"""The CPAN builder: a distribution's latest release and its script files -> ``cpan_install``.

Requests (ecosystem ``cpan``) against MetaCPAN's v1 API (base from
``recipeline_schema.api_base_url("cpan")``, ``RECIPELINE_CPAN_URL`` overrides):
1. only for a module identifier (``App::Ack``): ``GET <api>/module/<Module>`` -> its
   ``distribution``;
2. ``GET <api>/release/<Distribution>``: the latest release (``name``, ``author``,
   ``distribution``, ``abstract``, ``main_module``, ``provides``, ``resources``);
3. ``GET <api>/file/_search?q=release:"<name>" AND author:<AUTHOR> AND directory:false AND
   level:1&fields=path&size=500``: the release's files one directory deep (MetaCPAN's documented
   GET search), of which ``script/<x>`` and ``bin/<x>`` are the executables (ExtUtils::MakeMaker's
   ``EXE_FILES`` convention; ``<x>.PL`` generates ``<x>``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from recipeline_schema import Recipe, Step, Verify, check_name

from .builder_support import (
    ApiBuilder,
    InsufficientError,
    UpstreamError,
    describe,
    first_https,
    safe_executables,
    text_field,
)
from .recipes import verify_executable

#: CPAN distribution names (``Perl-Critic``, ``ack``, ``libwww-perl``).
DISTRIBUTION_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(?:[-.][A-Za-z0-9_]+)*$")
#: Perl package names with at least one ``::`` (a bare word is read as a distribution).
MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z0-9_]+)+$")
#: Any Perl package name (``Carton`` too), for ``main_module``.
PACKAGE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z0-9_]+)*$")
PAUSE_ID_RE = re.compile(r"^[A-Z][A-Z0-9-]{0,63}$")
RELEASE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$")
#: Where a release keeps its executables, one level deep.
_SCRIPT_PATH = re.compile(r"^(?:script|bin)/([^/]+)$")
_NOT_EXECUTABLES = (".bat", ".cmd", ".exe", ".pod", ".md", ".txt")
SEARCH_SIZE = 500
#: The distribution page used when a release names no https homepage or repository.
DIST_PAGE = "https://metacpan.org/dist/{}"


def _field(hit: Any, key: str) -> str | None:
    """A field of a search hit: ``fields.<key>`` (a string or a one-element list) or ``_source.<key>``."""
    if not isinstance(hit, Mapping):
        return None
    for section in ("fields", "_source"):
        data = hit.get(section)
        if isinstance(data, Mapping):
            value = data.get(key)
            if isinstance(value, list) and len(value) == 1:
                value = value[0]
            if isinstance(value, str):
                return value
    return None


def script_names(paths: list[str]) -> list[str]:
    """Executable names from release file paths: ``script/x``/``bin/x``, ``x.PL`` -> ``x``."""
    names = []
    for path in paths:
        m = _SCRIPT_PATH.match(path)
        if m is None:
            continue
        name = m.group(1)
        if name.endswith(".PL"):
            name = name[:-3]
        if not name or name.startswith(".") or name.lower().endswith(_NOT_EXECUTABLES):
            continue
        names.append(name)
    return names


class CpanBuilder(ApiBuilder):
    """Builds recipes for ``cpan:<Distribution>`` (or ``cpan:<Module::Name>``) sources."""

    ecosystem = "cpan"
    api_key = "cpan"

    def can_build(self, identifier: str) -> bool:
        """True for a distribution name or a ``Module::Name``."""
        return len(identifier) <= 128 and bool(
            DISTRIBUTION_RE.match(identifier) or MODULE_RE.match(identifier)
        )

    def _generate(self, identifier: str, name: str) -> Recipe:
        if not self.can_build(identifier):
            raise InsufficientError(
                "unsupported_source", f"{identifier[:60]!r} is not a CPAN distribution or module name"
            )
        module: str | None = None
        distribution = identifier
        if MODULE_RE.match(identifier):
            module = identifier
            doc = self._get(f"module/{quote(identifier, safe=':')}", f"module {identifier}")
            distribution = text_field(doc, "distribution")
            if not DISTRIBUTION_RE.match(distribution):
                raise UpstreamError(
                    "bad_response", f"module {identifier}: 'distribution' is not a distribution name"
                )
        release = self._get(f"release/{quote(distribution)}", f"release of {distribution}")
        dist = text_field(release, "distribution")
        release_name = text_field(release, "name")
        author = text_field(release, "author")
        if not (DISTRIBUTION_RE.match(dist) and RELEASE_RE.match(release_name) and PAUSE_ID_RE.match(author)):
            raise UpstreamError(
                "bad_response", f"release of {distribution}: 'distribution', 'name' or 'author' is malformed"
            )
        provides = [p for p in release.get("provides") or [] if isinstance(p, str)]
        main_module = text_field(release, "main_module")
        if module is None and PACKAGE_RE.match(main_module) and main_module in provides:
            module = main_module
        if module == dist.replace("-", "::"):
            module = None  # cpanm finds the distribution by that name anyway (tsuku's carton recipe)
        names = script_names(self._paths(release_name, author))
        if not names:
            if provides:
                raise InsufficientError(
                    "library_only", f"release {release_name} has modules but no script/ or bin/ files"
                )
            raise InsufficientError(
                "binary_discovery_failed", f"release {release_name} has no script/ or bin/ files"
            )
        executables = safe_executables(names, f"release {release_name}")
        resources = release.get("resources")
        resources = resources if isinstance(resources, Mapping) else {}
        repository = resources.get("repository")
        repo_web = text_field(repository, "web") if isinstance(repository, Mapping) else ""
        homepage = first_https([text_field(resources, "homepage"), repo_web]) or DIST_PAGE.format(dist)
        check_name(name)
        exe = verify_executable(executables, tool=name, project=dist)
        params: dict[str, Any] = {"distribution": dist}
        if module is not None:
            params["module"] = module
        params["executables"] = executables
        return Recipe(
            name=name,
            description=describe(
                text_field(release, "abstract"), f"Command-line tools of the CPAN distribution {dist}"
            ),
            homepage=homepage,
            steps=(Step("cpan_install", params),),
            verify=Verify(command=f"{exe} --version", pattern="{version}"),
        )

    def _paths(self, release_name: str, author: str) -> list[str]:
        query = f'release:"{release_name}" AND author:{author} AND directory:false AND level:1'
        params = urlencode({"q": query, "fields": "path", "size": SEARCH_SIZE})
        doc = self._get(f"file/_search?{params}", f"file list of {release_name}")
        hits = doc.get("hits")
        hits = hits.get("hits") if isinstance(hits, Mapping) else None
        if not isinstance(hits, list):
            raise UpstreamError("bad_response", f"file list of {release_name}: 'hits.hits' is not an array")
        return sorted(path for path in (_field(hit, "path") for hit in hits) if path is not None)
