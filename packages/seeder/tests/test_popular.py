"""Each popularity source against a local server speaking its API's documented format."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

import pytest
from pytest_httpserver import HTTPServer
from seeder_formats import gem_file, module_zip, serve_ranged
from seeder_pypi_brew import File, bottle, formula_json, sha256, simple_page, wheel
from seeder_registries import CATEGORY_QUERY, Crate, Dist, crate_row, serve_crates, serve_metacpan
from werkzeug import Request, Response

from recipeline_schema.http import HttpClient
from recipeline_seeder import SourceError
from recipeline_seeder.config import DEFAULT_SETTINGS, SourceSettings
from recipeline_seeder.popular import (
    ApiSource,
    CargoSource,
    CaskSource,
    CpanSource,
    GoSource,
    HomebrewSource,
    NpmSource,
    PypiSource,
    RubyGemsSource,
)
from recipeline_seeder.popular.go import tool_name
from recipeline_seeder.popular.npm import downloads_base_url

NOW = dt.datetime(2026, 2, 15, 10, 0, 0, tzinfo=dt.UTC)
SIMPLE = "application/vnd.pypi.simple.v1+json"


class Sleeps(Protocol):
    sleeps: list[float]


def settings(eco: str, *, page_size: int | None = None, max_candidates: int | None = None) -> SourceSettings:
    base = DEFAULT_SETTINGS[eco]
    return replace(
        base,
        page_size=base.page_size if page_size is None else page_size,
        max_candidates=base.max_candidates if max_candidates is None else max_candidates,
    )


# --- one happy scenario per source: (build the source, serve its API, expected rows) ---------


def homebrew(server: HTTPServer, client: HttpClient) -> ApiSource:
    server.expect_request("/api/analytics/install-on-request/30d.json").respond_with_json(
        {
            "category": "install_on_request",
            "total_items": 5,
            "items": [
                {"number": 1, "formula": "node", "count": "361,041", "percent": "2.55"},
                {"number": 2, "formula": "python@3.13", "count": "300,000", "percent": "2"},
                {"number": 3, "formula": "jq", "count": "20,000", "percent": "1"},
                {"number": 4, "formula": "broken"},
                {"number": 5, "formula": "tree", "count": "9,999", "percent": "0.1"},
            ],
        }
    )
    ghcr = server.url_for("/ghcr").rstrip("/")
    for name, bins in [("node", ("node", "npm")), ("jq", ("jq",)), ("tree", ("tree",))]:
        data = bottle(name, "1.0", bins=bins, share_bytes=1000)
        server.expect_request(f"/api/formula/{name}.json").respond_with_json(
            formula_json(name, "1.0", ghcr, sha256(data))
        )
        serve_ranged(
            server,
            f"/ghcr/v2/homebrew/core/{name}/blobs/sha256:{sha256(data)}",
            data,
            content_type="application/octet-stream",
        )
    return HomebrewSource(client, server.url_for("/api"), settings("homebrew"), ghcr_url=ghcr)


def cask(server: HTTPServer, client: HttpClient) -> ApiSource:
    server.expect_request("/api/analytics/cask-install/30d.json").respond_with_json(
        {
            "items": [
                {"number": 1, "cask": "iterm2", "count": "60,000"},
                {"cask": "rectangle", "count": "6,000"},
            ]
        }
    )
    return CaskSource(client, server.url_for("/api"), settings("cask"))


def cargo(server: HTTPServer, client: HttpClient) -> ApiSource:
    crates = [
        Crate("ripgrep", 20_000_000, "14.1.1", ["rg"]),
        Crate("fd-find", 2_000_000, "10.2.0", ["fd"]),
    ]
    serve_crates(server, crates, per_page=None)
    # a row without downloads, then page 2 holding the rest (the real list's meta.next_page)
    bad = crate_row(Crate("bat", 0, "0.24.0", ["bat"])) | {"downloads": None}
    server.expect_request(
        "/api/v1/crates", query_string={**CATEGORY_QUERY, "page": "1", "per_page": "2"}
    ).respond_with_json(
        {
            "crates": [crate_row(crates[0]), bad],
            "meta": {"next_page": "?page=2", "prev_page": None, "total": 3},
        }
    )
    server.expect_request(
        "/api/v1/crates", query_string={**CATEGORY_QUERY, "page": "2", "per_page": "2"}
    ).respond_with_json(
        {"crates": [crate_row(crates[1])], "meta": {"next_page": None, "prev_page": "?page=1", "total": 3}}
    )
    return CargoSource(client, server.url_for("/api/v1"), settings("cargo", page_size=2))


def npm(server: HTTPServer, client: HttpClient) -> ApiSource:
    def page(start: int, objects: list[dict[str, object]]) -> None:
        server.expect_request(
            "/registry/-/v1/search", query_string={"text": "keywords:cli", "size": "2", "from": str(start)}
        ).respond_with_json({"objects": objects, "total": 4, "time": "Sun Feb 15 2026"})

    score = {"final": 1, "detail": {"popularity": 1, "quality": 1, "maintenance": 1}}
    # a mirror's search: no downloads in the objects, so the downloads API ranks them
    page(0, [{"package": {"name": "eslint"}, "score": score}, {"package": {"name": "@angular/cli"}}])
    page(2, [{"package": {"name": "prettier"}}, {"package": {"name": "tiny-tool"}}])
    server.expect_request("/dl/downloads/point/last-week/eslint,prettier,tiny-tool").respond_with_json(
        {
            "eslint": {"downloads": 40_000_000, "package": "eslint"},
            "prettier": {"downloads": 50_000, "package": "prettier"},
            "tiny-tool": None,
        }
    )
    for name, bin_field in [
        ("eslint", {"eslint": "bin/eslint.js"}),
        ("@angular/cli", {"ng": "bin/ng.js"}),
        ("prettier", "./bin/prettier.cjs"),
        ("tiny-tool", {"tiny-tool": "cli.js"}),
    ]:
        server.expect_request(f"/registry/{name}/latest").respond_with_json(
            {"name": name, "version": "1.0.0", "bin": bin_field}
        )
    return NpmSource(
        client,
        server.url_for("/registry/"),
        settings("npm", page_size=2),
        downloads_url=server.url_for("/dl"),
    )


def pypi(server: HTTPServer, client: HttpClient) -> ApiSource:
    server.expect_request("/top/top-pypi-packages.min.json").respond_with_json(
        {
            "last_update": "2026-02-01 00:00:00",
            "rows": [
                {"download_count": 900_000_000, "project": "boto3"},
                {"download_count": 40_000_000, "project": "black"},
                {"download_count": 30_000_000, "project": "sdist-only"},
                {"download_count": 20_000_000, "project": "gone"},
                {"project": "no-count"},
            ],
        }
    )
    files = server.url_for("/files").rstrip("/")
    releases: list[tuple[str, dict[str, tuple[str, ...]]]] = [
        ("boto3", {"1.0": ()}),
        ("black", {"23.0": ("black",), "24.0": ("black", "blackd")}),
    ]
    for project, versions in releases:
        listed = [
            File(f"{project}-{v}-py3-none-any.whl", wheel(project, v, console=c, padding=70_000))
            for v, c in versions.items()
        ]
        page = simple_page(project, files, listed)
        server.expect_request(f"/simple/{project}/").respond_with_data(json.dumps(page), content_type=SIMPLE)
        for f, entry in zip(listed, page["files"], strict=True):
            path = entry["url"].removeprefix(server.url_for("").rstrip("/"))
            serve_ranged(server, path, f.data, content_type="binary/octet-stream")
    page = simple_page("sdist-only", files, [File("sdist_only-1.0.tar.gz", b"sdist")])
    server.expect_request("/simple/sdist-only/").respond_with_data(json.dumps(page), content_type=SIMPLE)
    server.expect_request("/simple/gone/").respond_with_data(
        "Not Found", status=404, content_type="text/html"
    )
    return PypiSource(client, server.url_for("/top"), settings("pypi"), index_url=server.url_for("/simple/"))


def rubygems(server: HTTPServer, client: HttpClient) -> ApiSource:
    base = server.url_for("").rstrip("/")

    def gem(name: str, downloads: object) -> dict[str, object]:
        return {
            "name": name,
            "downloads": downloads,
            "version": "1.0",
            "platform": "ruby",
            "gem_uri": f"{base}/gems/{name}-1.0.gem",
            "homepage_uri": None,
        }

    query = {"query": "downloads:>1000000"}
    server.expect_request("/api/v1/search.json", query_string={**query, "page": "1"}).respond_with_json(
        [gem("rubocop", 1_000), gem("rake", 90_000_000), gem("nokogiri", 80_000_000), {"downloads": 5}]
    )
    server.expect_request("/api/v1/search.json", query_string={**query, "page": "2"}).respond_with_json([])
    for name, bins in [("rake", ["rake"]), ("nokogiri", []), ("rubocop", ["rubocop"])]:
        serve_ranged(
            server,
            f"/gems/{name}-1.0.gem",
            gem_file(name, "1.0", bins),
            content_type="application/octet-stream",
        )
    return RubyGemsSource(client, server.url_for("/api/v1"), settings("rubygems"))


def go(server: HTTPServer, client: HttpClient) -> ApiSource:
    def line(path: str, version: str, stamp: str) -> str:
        return json.dumps({"Path": path, "Version": version, "Timestamp": stamp})

    first = [
        line("github.com/junegunn/fzf", "v0.46.0", "2026-01-20T00:00:01Z"),
        line("github.com/junegunn/fzf", "v0.46.1", "2026-01-21T00:00:01Z"),
        line("github.com/x/lib", "v0.0.0-20260101000000-abcdefabcdef", "2026-01-22T00:00:01Z"),
    ]
    # since is inclusive: the next page starts with the last record of this one
    second = [
        first[-1],
        line("github.com/junegunn/fzf", "v0.47.0", "2026-01-23T00:00:01Z"),
        line("github.com/cli/cli/v2", "v2.40.0", "2026-01-24T00:00:01Z"),
    ]
    server.expect_request(
        "/index", query_string={"since": "2026-01-16T10:00:00Z", "limit": "3"}
    ).respond_with_data("\n".join(first) + "\n", content_type="application/json")
    server.expect_request(
        "/index", query_string={"since": "2026-01-22T00:00:01Z", "limit": "3"}
    ).respond_with_data("\n".join(second) + "\n", content_type="application/json")
    server.expect_request(
        "/index", query_string={"since": "2026-01-24T00:00:01Z", "limit": "3"}
    ).respond_with_data(second[-1] + "\n", content_type="application/json")
    for path, version, files in [
        ("github.com/junegunn/fzf", "v0.47.0", ["main.go"]),
        ("github.com/cli/cli/v2", "v2.40.0", ["cmd/gh/main.go"]),
    ]:
        serve_ranged(
            server,
            f"/proxy/{path}/@v/{version}.zip",
            module_zip(path, version, files),
            content_type="application/zip",
        )
    return GoSource(
        client, server.url_for("/"), settings("go", page_size=3), now=NOW, proxy_url=server.url_for("/proxy")
    )


def cpan(server: HTTPServer, client: HttpClient) -> ApiSource:
    serve_metacpan(
        server,
        [
            Dist("Try-Tiny", 500, ["Changes", "Makefile.PL", "lib/Try/Tiny.pm"]),
            Dist("App-cpanminus", 400, ["Makefile.PL", "bin/cpanm", "lib/App/cpanminus.pm"]),
            Dist("ack", 150, ["Makefile.PL", "ack", "lib/App/Ack.pm"], perl_scripts=("ack",)),
        ],
        extra=({"key": "App-", "doc_count": 1},),
    )
    return CpanSource(client, server.url_for("/v1"), settings("cpan"))


@dataclass(frozen=True)
class Scenario:
    build: Callable[[HTTPServer, HttpClient], ApiSource]
    #: (name, source, priority, popularity) in the order the source gives them
    expected: list[tuple[str, str, int, int | None]]
    #: the first request the source makes (for the fault tests)
    first_path: str


SCENARIOS = {
    "homebrew": Scenario(
        homebrew,
        [
            ("node", "homebrew:node", 1, 361_041),
            ("jq", "homebrew:jq", 2, 20_000),
            ("tree", "homebrew:tree", 3, 9_999),
        ],
        "/api/analytics/install-on-request/30d.json",
    ),
    "cask": Scenario(
        cask,
        [("iterm2", "cask:iterm2", 1, 60_000), ("rectangle", "cask:rectangle", 2, 6_000)],
        "/api/analytics/cask-install/30d.json",
    ),
    "cargo": Scenario(
        cargo,
        [("rg", "cargo:ripgrep", 1, 20_000_000), ("fd", "cargo:fd-find", 2, 2_000_000)],
        "/api/v1/crates",
    ),
    "npm": Scenario(
        npm,
        [
            ("eslint", "npm:eslint", 1, 40_000_000),
            ("prettier", "npm:prettier", 2, 50_000),
            ("ng", "npm:@angular/cli", 3, None),
            ("tiny-tool", "npm:tiny-tool", 3, None),
        ],
        "/registry/-/v1/search",
    ),
    "pypi": Scenario(pypi, [("black", "pypi:black", 1, 40_000_000)], "/top/top-pypi-packages.min.json"),
    "rubygems": Scenario(
        rubygems,
        [("rake", "rubygems:rake", 1, 90_000_000), ("rubocop", "rubygems:rubocop", 3, 1_000)],
        "/api/v1/search.json",
    ),
    "go": Scenario(
        go,
        [("fzf", "go:github.com/junegunn/fzf", 3, 3), ("gh", "go:github.com/cli/cli/v2", 3, 1)],
        "/index",
    ),
    "cpan": Scenario(
        cpan,
        [("cpanm", "cpan:App-cpanminus", 1, 400), ("ack", "cpan:ack", 1, 150)],
        "/v1/favorite/leaderboard",
    ),
}


@pytest.mark.parametrize("eco", sorted(SCENARIOS))
def test_each_source_reads_its_documented_format(
    eco: str, httpserver: HTTPServer, client: HttpClient
) -> None:
    scenario = SCENARIOS[eco]
    source = scenario.build(httpserver, client)
    got = [(c.name, c.source, c.priority, c.popularity) for c in source.fetch()]
    assert got == scenario.expected
    assert all(c.origin == source.name for c in source.fetch())


@pytest.mark.parametrize("eco", sorted(SCENARIOS))
def test_requests_name_the_project(eco: str, httpserver: HTTPServer, client: HttpClient) -> None:
    SCENARIOS[eco].build(httpserver, client).fetch()
    agents = {req.headers.get("User-Agent", "") for req, _ in httpserver.log}
    assert agents and all(agent.startswith("recipeline/") for agent in agents)


def test_max_candidates_stops_paging(httpserver: HTTPServer, client: HttpClient) -> None:
    source = cargo(httpserver, client)
    source.settings = settings("cargo", page_size=2, max_candidates=1)
    assert [c.name for c in source.fetch()] == ["rg"]
    pages = [req.args["page"] for req, _ in httpserver.log if req.path == "/api/v1/crates"]
    assert pages == ["1"]  # page 2 never asked


# --- faults, the same for every source: the first request misbehaves ----------------------


def _fault_first(httpserver: HTTPServer, path: str, response: Response) -> None:
    # a one-shot handler is matched before the permanent ones the scenario registered
    httpserver.expect_oneshot_request(path).respond_with_response(response)


@pytest.mark.parametrize("eco", sorted(SCENARIOS))
def test_429_with_retry_after_is_waited_out(
    eco: str, httpserver: HTTPServer, client: HttpClient, fake_time: Sleeps
) -> None:
    scenario = SCENARIOS[eco]
    _fault_first(httpserver, scenario.first_path, Response("slow down", 429, headers={"Retry-After": "7"}))
    source = scenario.build(httpserver, client)
    assert [c.name for c in source.fetch()] == [e[0] for e in scenario.expected]
    assert 7.0 in fake_time.sleeps


@pytest.mark.parametrize("eco", sorted(SCENARIOS))
def test_one_500_is_retried(eco: str, httpserver: HTTPServer, client: HttpClient, fake_time: Sleeps) -> None:
    scenario = SCENARIOS[eco]
    _fault_first(httpserver, scenario.first_path, Response("oops", 500))
    assert [c.name for c in scenario.build(httpserver, client).fetch()] == [e[0] for e in scenario.expected]
    assert fake_time.sleeps  # backed off before the retry


def _always(httpserver: HTTPServer, path: str, response: Response) -> None:
    for _ in range(6):
        httpserver.expect_oneshot_request(path).respond_with_response(response)


FAULTS: dict[str, tuple[Callable[[], Response], str]] = {
    "500 every time": (lambda: Response("down", 500), "api_error/upstream_unavailable"),
    "429 with a long Retry-After": (
        lambda: Response("later", 429, headers={"Retry-After": "3600"}),
        "api_error/rate_limited",
    ),
    "truncated JSON": (
        lambda: Response('{"items": [{"formula": "no', 200, content_type="application/json"),
        "api_error/bad_response",
    ),
    "wrong content type": (
        lambda: Response("<html>maintenance</html>", 200, content_type="text/html"),
        "api_error/bad_response",
    ),
    "body over the size cap": (
        lambda: Response("[" + " " * 70_000 + "]", 200, content_type="application/json"),
        "api_error/bad_response",
    ),
    "a JSON array instead of an object": (
        lambda: Response("[1, 2]", 200, content_type="application/json"),
        "api_error/bad_response",
    ),
}


#: the Go index is JSON lines, not one JSON document: its bad-body case has its own test
JSON_DOCUMENT_FAULTS = ("truncated JSON", "a JSON array instead of an object")


@pytest.mark.parametrize(
    ("eco", "fault"),
    [
        (e, f)
        for e in sorted(SCENARIOS)
        for f in sorted(FAULTS)
        if not (e == "go" and f in JSON_DOCUMENT_FAULTS)
        # RubyGems' search answers an array: an array of non-objects is bad items (dropped)
        and not (e == "rubygems" and f == "a JSON array instead of an object")
    ],
)
def test_faults_fail_the_source_with_an_api_error(
    eco: str, fault: str, httpserver: HTTPServer, client: HttpClient
) -> None:
    make, expected = FAULTS[fault]
    scenario = SCENARIOS[eco]
    _always(httpserver, scenario.first_path, make())
    source = scenario.build(httpserver, client)
    with pytest.raises(SourceError, match=expected) as info:
        source.fetch()
    assert "GET http://" in str(info.value)  # names the request that failed


def test_rubygems_search_answering_an_object_fails(httpserver: HTTPServer, client: HttpClient) -> None:
    _always(
        httpserver, "/api/v1/search.json", Response('{"error": "x"}', 200, content_type="application/json")
    )
    with pytest.raises(SourceError, match=r"search.json.*at \$: expected an array of gems, got dict"):
        rubygems(httpserver, client).fetch()


def test_go_index_with_a_bad_line_fails(httpserver: HTTPServer, client: HttpClient) -> None:
    httpserver.expect_request("/index").respond_with_data(
        '{"Path": "x", "Vers\n', content_type="application/json"
    )
    with pytest.raises(SourceError, match=r"bad_response.*line 1"):
        GoSource(
            client, httpserver.url_for("/"), settings("go"), now=NOW, proxy_url=httpserver.url_for("/p")
        ).fetch()


@pytest.mark.parametrize("eco", ["homebrew", "cargo"])
def test_a_server_that_hangs_is_a_timeout(eco: str, httpserver: HTTPServer, client: HttpClient) -> None:
    def hang(_request: Request) -> Response:
        time.sleep(1.0)
        return Response("{}", 200, content_type="application/json")

    scenario = SCENARIOS[eco]
    httpserver.expect_request(scenario.first_path).respond_with_handler(hang)
    with pytest.raises(SourceError, match="api_error/timeout"):
        scenario.build(httpserver, client).fetch()


def test_npm_downloads_failure_keeps_the_search(httpserver: HTTPServer, client: HttpClient) -> None:
    _always(httpserver, "/dl/downloads/point/last-week/eslint,prettier,tiny-tool", Response("no", 500))
    got = npm(httpserver, client).fetch()
    assert [(c.name, c.priority, c.popularity) for c in got] == [
        ("eslint", 3, None),
        ("ng", 3, None),
        ("prettier", 3, None),
        ("tiny-tool", 3, None),
    ]


def test_npm_downloads_api_location() -> None:
    assert downloads_base_url("https://registry.example.org/", {}) == "https://api.example.org"
    assert downloads_base_url("http://127.0.0.1:4873/", {}) is None
    env = {"RECIPELINE_NPM_DOWNLOADS_URL": "http://127.0.0.1:9/dl/"}
    assert downloads_base_url("http://127.0.0.1:4873/", env) == "http://127.0.0.1:9/dl"


def test_go_tool_names() -> None:
    assert tool_name("github.com/junegunn/fzf") == "fzf"
    assert tool_name("github.com/cli/cli/v2") == "cli"
    assert tool_name("golang.org/x/tools/cmd/goimports") == "goimports"
