"""crates.io and MetaCPAN as local servers answering in the registries' real shapes (not collected).

The shapes are the ones crates.io's own API snapshot tests record (a list row is the same
``EncodableCrate`` as ``/crates/<name>``'s ``crate``; ``/crates/<name>/<version>`` answers
``{"version": {...}}`` with ``bin_names``/``has_lib`` null for versions published before targets
were analysed; a missing version is 404 with ``{"errors": [{"detail": ...}]}``; ``.../download``
is a 302 to the static host) and the ones MetaCPAN's Elasticsearch 8 search sends (``_source``
hits, ``hits.total`` as ``{"value", "relation"}``, HTTP 500 for a ``fields`` parameter), as the
generator's tests serve them. Written for these tests; no registry file is copied.
"""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

CATEGORY_QUERY = {"category": "command-line-utilities", "sort": "downloads"}


def crate_file(name: str, num: str, files: dict[str, str]) -> bytes:
    """A ``.crate`` as ``cargo package`` writes it: a gzipped tar of ``<name>-<num>/...``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name}-{num}/{path}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@dataclass(frozen=True)
class Crate:
    """One crate of the category: its downloads, default version, and that version's targets:
    ``bins`` None is a version crates.io never analysed (``bin_names: null``), whose ``.crate``
    holds ``files``."""

    name: str
    downloads: int
    num: str
    bins: list[str] | None
    has_lib: bool = False
    files: dict[str, str] = field(default_factory=dict)


def crate_row(c: Crate) -> dict[str, Any]:
    """A ``/crates`` list row as crates.io sends it."""
    api = f"/api/v1/crates/{c.name}"
    return {
        "badges": [],
        "categories": None,
        "created_at": "2019-03-02T10:11:12.000000+00:00",
        "default_version": c.num,
        "description": f"{c.name}, a crate",
        "documentation": None,
        "downloads": c.downloads,
        "exact_match": False,
        "homepage": None,
        "id": c.name,
        "keywords": None,
        "links": {
            "owner_team": f"{api}/owner_team",
            "owner_user": f"{api}/owner_user",
            "owners": f"{api}/owners",
            "reverse_dependencies": f"{api}/reverse_dependencies",
            "version_downloads": f"{api}/downloads",
            "versions": None,
        },
        "max_stable_version": c.num,
        "max_version": c.num,
        "name": c.name,
        "newest_version": c.num,
        "num_versions": 12,
        "recent_downloads": c.downloads // 10,
        "repository": f"https://github.com/example/{c.name}",
        "updated_at": "2026-10-01T08:00:00.000000+00:00",
        "versions": None,
        "yanked": False,
    }


def version_doc(c: Crate) -> dict[str, Any]:
    """``/crates/<name>/<version>`` as crates.io sends it."""
    api = f"/api/v1/crates/{c.name}/{c.num}"
    return {
        "version": {
            "audit_actions": [],
            "bin_names": c.bins,
            "checksum": "0" * 64,
            "crate": c.name,
            "crate_size": 81_234,
            "created_at": "2026-10-01T08:00:00.000000+00:00",
            "dl_path": f"{api}/download",
            "downloads": c.downloads // 20,
            "edition": None if c.bins is None else "2021",
            "features": {},
            "has_lib": None if c.bins is None else c.has_lib,
            "id": 1234,
            "lib_links": None,
            "license": "MIT OR Apache-2.0",
            "links": {
                "authors": f"{api}/authors",
                "dependencies": f"{api}/dependencies",
                "version_downloads": f"{api}/downloads",
            },
            "num": c.num,
            "published_by": None,
            "readme_path": f"{api}/readme",
            "rust_version": None,
            "updated_at": "2026-10-01T08:00:00.000000+00:00",
            "yank_message": None,
            "yanked": False,
        }
    }


def serve_crates(server: HTTPServer, crates: list[Crate], *, per_page: int | None) -> None:
    """The category list by downloads, ``per_page`` a page (None: no list), and each crate's
    version and ``.crate``."""
    ranked = sorted(crates, key=lambda c: -c.downloads)
    size = per_page or 1
    pages = [ranked[i : i + size] for i in range(0, len(ranked), size)] or [[]]
    for n, chunk in enumerate(pages if per_page else [], start=1):
        last = n == len(pages)
        query = f"?category=command-line-utilities&sort=downloads&page={n + 1}&per_page={per_page}"
        server.expect_request(
            "/api/v1/crates", query_string={**CATEGORY_QUERY, "page": str(n), "per_page": str(per_page)}
        ).respond_with_json(
            {
                "crates": [crate_row(c) for c in chunk],
                "meta": {"next_page": None if last else query, "prev_page": None, "total": len(ranked)},
            }
        )
    for c in crates:
        api = f"/api/v1/crates/{c.name}/{c.num}"
        server.expect_request(api).respond_with_json(version_doc(c))
        if c.bins is None:
            static = f"/static/crates/{c.name}/{c.name}-{c.num}.crate"
            server.expect_request(f"{api}/download").respond_with_data(
                "", status=302, headers={"Location": server.url_for(static)}
            )
            server.expect_request(static).respond_with_data(
                crate_file(c.name, c.num, c.files), content_type="application/gzip"
            )


def missing_version(crate: str, num: str) -> Response:
    """crates.io's 404 for a version that does not exist."""
    body = {"errors": [{"detail": f"crate `{crate}` does not have a version `{num}`"}]}
    return Response(json.dumps(body), 404, content_type="application/json")


# --- MetaCPAN ---------------------------------------------------------------------------------

#: MetaCPAN's ``mime`` by extension (Plack::MIME); a file without ``.`` starting ``#!...perl`` is
#: ``text/x-script.perl``, other extension-less files get none (the key is absent).
_MIMES = {".pm": "application/x-perl", ".pl": "text/x-script.perl", ".json": "application/json"}


@dataclass(frozen=True)
class Dist:
    """One leaderboard distribution: favourites, author, the files of its latest release at the
    root and one level deep, and which extension-less files begin with a ``#!...perl`` line."""

    name: str
    favourites: int
    files: list[str]
    perl_scripts: tuple[str, ...] = ()
    author: str = "EXAMPLE"
    version: str = "1.0"


def _mime(path: str, scripts: tuple[str, ...]) -> str | None:
    base = path.rsplit("/", 1)[-1]
    if "." not in base:
        return "text/x-script.perl" if path in scripts else None
    return _MIMES.get("." + base.rsplit(".", 1)[-1].lower(), "text/plain")


def release_doc(d: Dist) -> dict[str, Any]:
    """``/v1/release/<Distribution>``: the latest release document."""
    return {
        "name": f"{d.name}-{d.version}",
        "distribution": d.name,
        "author": d.author,
        "version": d.version,
        "abstract": f"{d.name} does things",
        "main_module": d.name.replace("-", "::"),
        "provides": [d.name.replace("-", "::")],
        "resources": {"repository": {"web": f"https://github.com/example/{d.name}"}},
        "status": "latest",
        "maturity": "released",
    }


def serve_metacpan(
    server: HTTPServer, dists: list[Dist], *, extra: tuple[dict[str, Any], ...] = ()
) -> list[str]:
    """The leaderboard (plus ``extra`` raw items), each release, and the file search; returns the
    list the search queries are appended to."""
    board = [{"key": d.name, "doc_count": d.favourites} for d in dists] + list(extra)
    server.expect_request("/v1/favorite/leaderboard").respond_with_json(
        {"leaderboard": board, "took": 41, "total": len(board)}
    )
    by_release = {(f"{d.name}-{d.version}", d.author): d for d in dists}
    for d in dists:
        server.expect_request(f"/v1/release/{d.name}").respond_with_json(release_doc(d))
    queries: list[str] = []

    def search(request: Request) -> Response:
        if "fields" in request.args:
            body = {"code": 500, "message": "Internal Server Error"}
            return Response(json.dumps(body), 500, content_type="application/json")
        query = request.args.get("q", "")
        queries.append(query)
        listed: list[str] = []
        scripts: tuple[str, ...] = ()
        for (release, author), d in by_release.items():
            wanted = f'release:"{release}" AND author:{author} AND directory:false AND (level:0 OR level:1)'
            if query == wanted:
                listed = d.files
                scripts = d.perl_scripts
        keys = request.args.get("_source", "").split(",")
        hits = []
        for path in listed:
            full = {"path": path, "mime": _mime(path, scripts)}
            source = {k: full[k] for k in keys if full.get(k) is not None}
            hits.append({"_index": "cpan_v1_01", "_id": f"id-{path}", "_score": 1.0, "_source": source})
        answer = {
            "took": 3,
            "timed_out": False,
            "hits": {"total": {"value": len(hits), "relation": "eq"}, "hits": hits},
        }
        return Response(json.dumps(answer), 200, content_type="application/json")

    server.expect_request("/v1/file/_search").respond_with_handler(search)
    return queries
