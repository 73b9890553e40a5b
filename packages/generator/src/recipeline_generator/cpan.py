"""The CPAN builder: a distribution's latest release and its script files -> ``cpan_install``.

Requests (ecosystem ``cpan``) against MetaCPAN's v1 API (base from
``recipeline_schema.api_base_url("cpan")``, ``RECIPELINE_CPAN_URL`` overrides):
1. only for a module identifier (``App::Ack``): ``GET <api>/module/<Module>`` -> its
   ``distribution``;
2. ``GET <api>/release/<Distribution>``: the latest release (``name``, ``author``,
   ``distribution``, ``abstract``, ``main_module``, ``provides``, ``resources``);
3. ``GET <api>/file/_search?q=release:"<name>" AND author:<AUTHOR> AND directory:false AND
   (level:0 OR level:1)&_source=path,mime&size=500``: the release's files at the root and one
   directory deep. Executables are ``script/<x>`` and ``bin/<x>`` (ExtUtils::MakeMaker's
   ``EXE_FILES`` convention; ``<x>.PL`` generates ``<x>``) and root files MetaCPAN indexed as Perl
   scripts (no ``.`` in the name and a ``#!...perl`` line: ``mime`` ``text/x-script.perl``; ack
   ships ``ack`` at its root). MetaCPAN's Elasticsearch 8 client has no ``fields`` parameter and
   answers it with HTTP 500, so only ``_source`` is asked for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from recipeline_schema import Recipe, Step, Verify, check_name, cpan_scripts
from recipeline_schema.cpan_scripts import DISTRIBUTION_RE, PAUSE_ID_RE, RELEASE_RE

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

#: Perl package names with at least one ``::`` (a bare word is read as a distribution).
MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z0-9_]+)+$")
#: Any Perl package name (``Carton`` too), for ``main_module``.
PACKAGE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z0-9_]+)*$")
SEARCH_SIZE = 500
#: The distribution page used when a release names no https homepage or repository.
DIST_PAGE = "https://metacpan.org/dist/{}"


@dataclass(frozen=True, slots=True)
class ReleaseFile:
    """One file of a release's listing: its path and MetaCPAN's ``mime`` (``None`` when absent)."""

    path: str
    mime: str | None


def release_files(doc: Mapping[str, Any], what: str) -> tuple[list[ReleaseFile], bool]:
    """The files of a ``file/_search`` answer, and whether the listing is complete.

    Hits carry ``_source.path`` (a string) and ``_source.mime`` (a string, or absent when MetaCPAN
    could not tell); a hit without a string ``path`` is ``bad_response`` naming the field.
    ``hits.total`` is an integer (Elasticsearch 6) or ``{"value": n, "relation": ...}`` (7 and
    later); a listing is complete when the total is exact and every hit was returned.
    """
    hits = doc.get("hits")
    listed = hits.get("hits") if isinstance(hits, Mapping) else None
    if not isinstance(listed, list):
        raise UpstreamError("bad_response", f"{what}: 'hits.hits' is not an array")
    files = []
    for i, hit in enumerate(listed):
        source = hit.get("_source") if isinstance(hit, Mapping) else None
        path = source.get("path") if isinstance(source, Mapping) else None
        if not isinstance(path, str):
            raise UpstreamError(
                "bad_response", f"{what}: 'hits.hits[{i}]._source.path' is missing or not a string"
            )
        mime = source.get("mime") if isinstance(source, Mapping) else None
        files.append(ReleaseFile(path, mime if isinstance(mime, str) else None))
    total = hits.get("total") if isinstance(hits, Mapping) else None
    if isinstance(total, Mapping):
        exact = total.get("relation") == "eq"
        total = total.get("value") if exact else None
    complete = isinstance(total, int) and not isinstance(total, bool) and total <= len(files)
    return sorted(files, key=lambda f: f.path), complete


def script_names(files: list[ReleaseFile]) -> list[str]:
    """Executable names (``recipeline_schema.cpan_scripts``, the rule the seeder shares)."""
    return cpan_scripts.script_names((f.path, f.mime) for f in files)


class CpanBuilder(ApiBuilder):
    """Builds recipes for ``cpan:<Distribution>`` (or ``cpan:<Module::Name>``) sources."""

    ecosystem = "cpan"
    api_key = "cpan"

    def can_build(self, identifier: str) -> bool:
        """True for a distribution name or a ``Module::Name``."""
        return len(identifier) <= 128 and bool(
            DISTRIBUTION_RE.fullmatch(identifier) or MODULE_RE.fullmatch(identifier)
        )

    def _generate(self, identifier: str, name: str) -> Recipe:
        if not self.can_build(identifier):
            raise InsufficientError(
                "unsupported_source", f"{identifier[:60]!r} is not a CPAN distribution or module name"
            )
        module: str | None = None
        distribution = identifier
        if MODULE_RE.fullmatch(identifier):
            module = identifier
            doc = self._get(f"module/{quote(identifier, safe=':')}", f"module {identifier}")
            distribution = text_field(doc, "distribution")
            if not DISTRIBUTION_RE.fullmatch(distribution):
                raise UpstreamError(
                    "bad_response", f"module {identifier}: 'distribution' is not a distribution name"
                )
        release = self._get(f"release/{quote(distribution)}", f"release of {distribution}")
        dist = text_field(release, "distribution")
        release_name = text_field(release, "name")
        author = text_field(release, "author")
        if not (
            DISTRIBUTION_RE.fullmatch(dist)
            and RELEASE_RE.fullmatch(release_name)
            and PAUSE_ID_RE.fullmatch(author)
        ):
            raise UpstreamError(
                "bad_response", f"release of {distribution}: 'distribution', 'name' or 'author' is malformed"
            )
        raw_provides = release.get("provides")
        if raw_provides is not None and not isinstance(raw_provides, list):
            raise UpstreamError("bad_response", f"release of {distribution}: 'provides' is not an array")
        provides = [p for p in raw_provides or [] if isinstance(p, str)]
        main_module = text_field(release, "main_module")
        if module is None and PACKAGE_RE.fullmatch(main_module) and main_module in provides:
            module = main_module
        if module == dist.replace("-", "::"):
            module = None  # cpanm finds the distribution by that name anyway (tsuku's carton recipe)
        files, complete = self._files(release_name, author)
        names = script_names(files)
        if not names:
            # library_only is a claim: only from a complete listing in which every root file's
            # kind is known (a root file without a mime could be the script)
            unknown = [f.path for f in files if "/" not in f.path and "." not in f.path and f.mime is None]
            if provides and complete and not unknown:
                raise InsufficientError(
                    "library_only",
                    f"release {release_name} has modules but no script/, bin/ or root Perl script files",
                )
            why = "the file listing is cut" if not complete else ("no mime for " + ", ".join(unknown[:3]))
            raise InsufficientError(
                "binary_discovery_failed",
                f"release {release_name} has no script/, bin/ or root Perl script files"
                + (f" ({why})" if provides and (not complete or unknown) else ""),
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

    def _files(self, release_name: str, author: str) -> tuple[list[ReleaseFile], bool]:
        query = f'release:"{release_name}" AND author:{author} AND directory:false AND (level:0 OR level:1)'
        params = urlencode({"q": query, "_source": "path,mime", "size": SEARCH_SIZE})
        what = f"file list of {release_name}"
        return release_files(self._get(f"file/_search?{params}", what), what)
