"""Each ecosystem's weekly seed, against a local server answering in the registry's real shape,
over a corpus of real popular packages: the command-line tools of the ecosystem mixed with its
popular libraries, with their real executables (or none), written for these tests from the
packages' published metadata. The seed must queue tools only, under the command they install,
ranked by the registry's popularity; the share of tools in its top 50 is printed (``-s``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace

import pytest
from pytest_httpserver import HTTPServer
from seeder_formats import gem_file, module_zip, serve_ranged
from werkzeug import Request, Response

from recipeline_schema.http import HttpClient
from recipeline_seeder import SourceError
from recipeline_seeder.config import DEFAULT_SETTINGS, SourceSettings
from recipeline_seeder.popular import ApiSource, GoSource, NpmSource, RubyGemsSource
from recipeline_seeder.popular.go import is_pseudo_version


@dataclass(frozen=True)
class Package:
    """One corpus entry: identifier, popularity, the command a user types (None: a library)."""

    identifier: str
    popularity: int
    command: str | None


def top50_share(source: ApiSource, corpus: list[Package]) -> tuple[float, list[str]]:
    """The share of tools in the seed's first 50 candidates, and the names queued."""
    truth = {p.identifier: p for p in corpus}
    got = source.fetch()[:50]
    tools = [c for c in got if truth[c.source.split(":", 1)[1]].command is not None]
    return (len(tools) / len(got) if got else 0.0), [c.name for c in got]


def check_seed(source: ApiSource, corpus: list[Package], eco: str) -> None:
    """Every queued candidate is a tool named by its command, in popularity order; share printed."""
    truth = {p.identifier: p for p in corpus}
    got = source.fetch()
    assert got, "the seed queued nothing"
    for c in got:
        pkg = truth[c.source.split(":", 1)[1]]
        assert pkg.command is not None, f"{pkg.identifier} is a library"
        assert c.name == pkg.command, (pkg.identifier, c.name)
        assert c.popularity == pkg.popularity
    pops = [c.popularity or 0 for c in got]
    assert pops == sorted(pops, reverse=True)
    expected = sorted((p for p in corpus if p.command), key=lambda p: (-p.popularity, p.identifier))
    assert [c.source for c in got] == [f"{eco}:{p.identifier}" for p in expected][: len(got)]
    libraries = {p.identifier for p in corpus if p.command is None}
    dropped = {d.name for d in source.dropped}
    assert libraries <= dropped, libraries - dropped
    share, names = top50_share(source, corpus)
    print(f"{eco}: {len(got)} queued of {len(corpus)}; tools in the top 50: {share:.0%}: {names}")
    assert share == 1.0


def settings(eco: str, *, page_size: int | None = None, scan_limit: int | None = None) -> SourceSettings:
    base = DEFAULT_SETTINGS[eco]
    return replace(
        base,
        page_size=base.page_size if page_size is None else page_size,
        scan_limit=base.scan_limit if scan_limit is None else scan_limit,
    )


# --- npm --------------------------------------------------------------------------------------

#: Packages a ``keywords:cli`` search returns near the top, with their weekly downloads (order of
#: magnitude of late 2026) and the command of their newest manifest's ``bin``.
NPM = [
    Package("commander", 190_000_000, None),
    Package("chalk", 300_000_000, None),
    Package("yargs", 110_000_000, None),
    Package("semver", 400_000_000, "semver"),
    Package("mkdirp", 90_000_000, "mkdirp"),
    Package("rimraf", 100_000_000, "rimraf"),
    Package("which", 80_000_000, "node-which"),
    Package("cross-env", 9_000_000, "cross-env"),
    Package("ora", 30_000_000, None),
    Package("inquirer", 35_000_000, None),
    Package("meow", 25_000_000, None),
    Package("cli-table3", 20_000_000, None),
    Package("boxen", 18_000_000, None),
    Package("cac", 12_000_000, None),
    Package("prettier", 60_000_000, "prettier"),
    Package("eslint", 70_000_000, "eslint"),
    Package("nodemon", 8_000_000, "nodemon"),
    Package("concurrently", 9_500_000, "concurrently"),
    Package("npm-check-updates", 700_000, "npm-check-updates"),
    Package("http-server", 2_500_000, "http-server"),
    Package("serve", 3_000_000, "serve"),
    Package("@angular/cli", 4_000_000, "ng"),
    Package("@vue/cli", 300_000, "vue"),
    Package("firebase-tools", 4_500_000, "firebase"),
    Package("vercel", 1_800_000, "vercel"),
    Package("netlify-cli", 500_000, "netlify"),
    Package("figlet", 900_000, "figlet"),
    Package("create-react-app", 150_000, "create-react-app"),
    Package("@nestjs/cli", 2_000_000, "nest"),
    Package("cli-progress", 6_000_000, None),
    Package("@oclif/core", 2_000_000, None),
    Package("update-notifier", 15_000_000, None),
]

#: how the newest manifests publish ``bin``: a string for the package's own command (as
#: prettier publishes it), an object otherwise, no key at all for a library
_NPM_BIN_STRING = {"prettier", "serve", "figlet"}
_NPM_EXTRA_BINS = {"concurrently": ["conc"], "npm-check-updates": ["ncu"], "netlify-cli": ["ntl"]}


def _npm_manifest(p: Package) -> dict[str, object]:
    manifest: dict[str, object] = {
        "name": p.identifier,
        "version": "1.0.0",
        "description": "",
        "main": "index.js",
        "keywords": ["cli"],
        "repository": "owner/repo",
        "dist": {"tarball": "x.tgz", "shasum": "00", "integrity": "sha512-00"},
    }
    if p.command is not None:
        if p.identifier in _NPM_BIN_STRING:
            manifest["bin"] = "./bin/cli.js"
        else:
            bins = [p.command, *_NPM_EXTRA_BINS.get(p.identifier, [])]
            manifest["bin"] = {b: f"bin/{b}.js" for b in bins}
    return manifest


def _npm_object(p: Package, *, with_downloads: bool = True) -> dict[str, object]:
    obj: dict[str, object] = {
        "dependents": "1200",
        "updated": "2026-11-30T10:00:00.000Z",
        "searchScore": 123.4,
        "package": {
            "name": p.identifier,
            "keywords": ["cli"],
            "version": "1.0.0",
            "description": "",
            "sanitized_name": p.identifier,
            "publisher": {"email": "a@example.org", "username": "a"},
            "maintainers": [{"email": "a@example.org", "username": "a"}],
            "license": "MIT",
            "date": "2026-11-30T10:00:00.000Z",
            "links": {"npm": "https://example.org/package/" + p.identifier},
        },
        # every detail is 1 today: the score does not rank anything
        "score": {"final": 1, "detail": {"popularity": 1, "quality": 1, "maintenance": 1}},
        "flags": {"insecure": 0},
    }
    if with_downloads:
        obj["downloads"] = {"monthly": p.popularity * 4, "weekly": p.popularity}
    return obj


def serve_npm(server: HTTPServer, corpus: list[Package], *, page_size: int) -> None:
    """The search (relevance order: the corpus's), paged, and every package's newest manifest."""
    for start in range(0, len(corpus) + 1, page_size):
        page = corpus[start : start + page_size]
        server.expect_request(
            "/registry/-/v1/search",
            query_string={"text": "keywords:cli", "size": str(page_size), "from": str(start)},
        ).respond_with_json({"objects": [_npm_object(p) for p in page], "total": len(corpus), "time": "x"})
    for p in corpus:
        server.expect_request(f"/registry/{p.identifier}/latest").respond_with_json(_npm_manifest(p))


def test_npm_seed_queues_commands_by_weekly_downloads(httpserver: HTTPServer, client: HttpClient) -> None:
    serve_npm(httpserver, NPM, page_size=10)
    source = NpmSource(
        client, httpserver.url_for("/registry/"), settings("npm", page_size=10), downloads_url=None
    )
    check_seed(source, NPM, "npm")
    by_source = {c.source: c for c in source.fetch()}
    assert by_source["npm:@angular/cli"].name == "ng"  # scoped: seeded under its command
    assert by_source["npm:semver"].priority == 1
    assert by_source["npm:npm-check-updates"].priority == 2


def test_npm_one_manifest_failing_drops_that_package_only(httpserver: HTTPServer, client: HttpClient) -> None:
    corpus = [Package("eslint", 70, "eslint"), Package("gone", 60, "gone"), Package("odd", 50, "odd")]
    httpserver.expect_request("/registry/-/v1/search").respond_with_json(
        {"objects": [_npm_object(p) for p in corpus], "total": 3}
    )
    httpserver.expect_request("/registry/eslint/latest").respond_with_json(_npm_manifest(corpus[0]))
    httpserver.expect_request("/registry/gone/latest").respond_with_data("", status=404)
    httpserver.expect_request("/registry/odd/latest").respond_with_json({"name": "odd", "bin": ["odd"]})
    source = NpmSource(client, httpserver.url_for("/registry/"), settings("npm"), downloads_url=None)
    assert [c.name for c in source.fetch()] == ["eslint"]
    reasons = {d.name: d.reason for d in source.dropped}
    assert "HTTP 404" in reasons["gone"]
    expected = "/registry/odd/latest: at $.bin: expected an object of command -> path or a string"
    assert expected in reasons["odd"]


def test_npm_search_without_downloads_uses_the_downloads_api(
    httpserver: HTTPServer, client: HttpClient
) -> None:
    corpus = [Package("eslint", 70, "eslint"), Package("prettier", 90, "prettier")]
    httpserver.expect_request("/registry/-/v1/search").respond_with_json(
        {"objects": [_npm_object(p, with_downloads=False) for p in corpus], "total": 2}
    )
    for p in corpus:
        httpserver.expect_request(f"/registry/{p.identifier}/latest").respond_with_json(_npm_manifest(p))
    httpserver.expect_request("/dl/downloads/point/last-week/eslint,prettier").respond_with_json(
        {
            "eslint": {"downloads": 70, "package": "eslint"},
            "prettier": {"downloads": 90, "package": "prettier"},
        }
    )
    source = NpmSource(
        client, httpserver.url_for("/registry/"), settings("npm"), downloads_url=httpserver.url_for("/dl")
    )
    assert [(c.name, c.popularity) for c in source.fetch()] == [("prettier", 90), ("eslint", 70)]


# --- RubyGems ---------------------------------------------------------------------------------

#: The most downloaded gems (all-time downloads, rounded) and the command their gemspec's
#: ``executables`` installs (None: ``executables: []``).
RUBYGEMS = [
    Package("bundler", 2_300_000_000, "bundler"),
    Package("rake", 1_200_000_000, "rake"),
    Package("aws-sdk-core", 1_400_000_000, None),
    Package("activesupport", 800_000_000, None),
    Package("rack", 900_000_000, None),
    Package("json", 700_000_000, None),
    Package("i18n", 800_000_000, None),
    Package("concurrent-ruby", 750_000_000, None),
    Package("tzinfo", 650_000_000, None),
    Package("minitest", 700_000_000, None),
    Package("thor", 600_000_000, "thor"),
    Package("diff-lcs", 500_000_000, "ldiff"),
    Package("rspec-core", 950_000_000, "rspec"),
    Package("nokogiri", 900_000_000, "nokogiri"),
    Package("faraday", 500_000_000, None),
    Package("rubocop", 350_000_000, "rubocop"),
    Package("rails", 550_000_000, "rails"),
    Package("puma", 300_000_000, "puma"),
    Package("pry", 250_000_000, "pry"),
    Package("rdoc", 400_000_000, "rdoc"),
    Package("racc", 450_000_000, "racc"),
    Package("parser", 400_000_000, "ruby-parse"),
    Package("coderay", 300_000_000, "coderay"),
    Package("rouge", 150_000_000, "rougify"),
    Package("kramdown", 180_000_000, "kramdown"),
    Package("sidekiq", 200_000_000, "sidekiq"),
    Package("jekyll", 60_000_000, "jekyll"),
    Package("cocoapods", 80_000_000, "pod"),
    Package("fastlane", 90_000_000, "fastlane"),
    Package("foreman", 40_000_000, "foreman"),
    Package("pg", 200_000_000, None),
    Package("mime-types", 500_000_000, None),
    Package("addressable", 600_000_000, None),
    Package("public_suffix", 600_000_000, None),
]
_GEM_EXTRA = {"bundler": ["bundle"], "diff-lcs": ["htmldiff"], "rdoc": ["ri"], "puma": ["pumactl"]}


def _gem_object(p: Package, base: str) -> dict[str, object]:
    return {
        "name": p.identifier,
        "downloads": p.popularity,
        "version": "1.0.0",
        "version_created_at": "2026-11-01T00:00:00.000Z",
        "version_downloads": p.popularity // 100,
        "platform": "ruby",
        "authors": "A. Author",
        "info": "",
        "licenses": ["MIT"],
        "metadata": {},
        "yanked": False,
        "sha": "00" * 32,
        "spec_sha": "00" * 32,
        "project_uri": f"{base}/gems/{p.identifier}",
        "gem_uri": f"{base}/gems/{p.identifier}-1.0.0.gem",
        "homepage_uri": None,
        "wiki_uri": None,
        "documentation_uri": None,
        "mailing_list_uri": None,
        "source_code_uri": None,
        "bug_tracker_uri": None,
        "changelog_uri": None,
        "funding_uri": None,
        "dependencies": {"development": [], "runtime": []},
    }


def serve_rubygems(server: HTTPServer, corpus: list[Package], *, per_page: int = 30) -> None:
    """The search (relevance order: the corpus's), 30 a page then ``[]``, and every ``.gem``."""
    base = server.url_for("").rstrip("/")
    query = "downloads:>1000000"
    pages = [corpus[i : i + per_page] for i in range(0, len(corpus), per_page)] + [[]]
    for n, page in enumerate(pages, start=1):
        server.expect_request(
            "/api/v1/search.json", query_string={"query": query, "page": str(n)}
        ).respond_with_json([_gem_object(p, base) for p in page])
    for p in corpus:
        bins = [p.command, *_GEM_EXTRA.get(p.identifier, [])] if p.command else []
        if p.identifier == "bundler":
            bins = ["bundle", "bundler"]  # the gem's own name is not the first
        serve_ranged(
            server,
            f"/gems/{p.identifier}-1.0.0.gem",
            gem_file(p.identifier, "1.0.0", bins),
            content_type="application/octet-stream",
        )


def test_rubygems_seed_queues_gems_with_executables_by_downloads(
    httpserver: HTTPServer, client: HttpClient
) -> None:
    serve_rubygems(httpserver, RUBYGEMS)
    source = RubyGemsSource(client, httpserver.url_for("/api/v1"), settings("rubygems"))
    check_seed(source, RUBYGEMS, "rubygems")
    ranged = [r for r, _ in httpserver.log if r.path.endswith(".gem")]
    assert ranged and all(r.headers.get("Range") == "bytes=0-65535" for r in ranged)


def test_rubygems_gone_endpoint_is_named(httpserver: HTTPServer, client: HttpClient) -> None:
    httpserver.expect_request("/api/v1/search.json").respond_with_data(
        "This endpoint is not supported anymore", status=410, content_type="text/html"
    )
    source = RubyGemsSource(client, httpserver.url_for("/api/v1"), settings("rubygems"))
    with pytest.raises(SourceError, match=r"the endpoint is gone \(HTTP 410\)"):
        source.fetch()


def test_rubygems_bad_items_are_dropped_with_the_field(httpserver: HTTPServer, client: HttpClient) -> None:
    base = httpserver.url_for("").rstrip("/")
    good = _gem_object(Package("rake", 10, "rake"), base)
    httpserver.expect_request(
        "/api/v1/search.json", query_string={"query": "downloads:>1000000", "page": "1"}
    ).respond_with_json(
        [
            good,
            {**good, "name": "nullcount", "downloads": None},
            {**good, "name": "nouri", "gem_uri": None},
            {**good, "name": "notgem", "gem_uri": f"{base}/gems/notgem-1.0.0.gem"},
        ]
    )
    httpserver.expect_request(
        "/api/v1/search.json", query_string={"query": "downloads:>1000000", "page": "2"}
    ).respond_with_json([])
    serve_ranged(
        httpserver,
        "/gems/rake-1.0.0.gem",
        gem_file("rake", "1.0.0", ["rake"]),
        content_type="application/octet-stream",
    )
    httpserver.expect_request("/gems/notgem-1.0.0.gem").respond_with_data("<html>", content_type="text/html")
    source = RubyGemsSource(client, httpserver.url_for("/api/v1"), settings("rubygems"))
    assert [c.name for c in source.fetch()] == ["rake"]
    reasons = {d.name: d.reason for d in source.dropped}
    assert "$[1].downloads: expected a whole number >= 0" in reasons["nullcount"]
    assert "$[2].gem_uri: expected a string, got NoneType" in reasons["nouri"]
    assert "not a .gem (tar) file" in reasons["notgem"]


# --- Go ---------------------------------------------------------------------------------------

#: Modules as they appear in the index, with their releases in the window and the command a
#: ``go install`` of them builds (None: a library). The SDK service modules release almost daily.
GO = [
    Package("github.com/aws/aws-sdk-go-v2/service/s3", 24, None),
    Package("github.com/aws/aws-sdk-go-v2/service/ec2", 22, None),
    Package("github.com/aws/aws-sdk-go-v2", 20, None),
    Package("github.com/Azure/azure-sdk-for-go/sdk/azcore", 6, None),
    Package("golang.org/x/net", 2, None),
    Package("golang.org/x/sys", 3, None),
    Package("google.golang.org/grpc", 4, None),
    Package("github.com/stretchr/testify", 1, None),
    Package("k8s.io/client-go", 5, None),
    Package("github.com/prometheus/client_golang", 2, None),
    Package("go.opentelemetry.io/otel", 3, None),
    Package("github.com/spf13/cobra", 1, None),
    Package("github.com/junegunn/fzf", 9, "fzf"),
    Package("github.com/cli/cli/v2", 8, "gh"),
    Package("github.com/golangci/golangci-lint/v2", 7, "golangci-lint"),
    Package("github.com/gohugoio/hugo", 10, "hugo"),
    Package("golang.org/x/tools/gopls", 11, "gopls"),
    Package("github.com/derailed/k9s", 12, "k9s"),
    Package("github.com/jesseduffield/lazygit", 13, "lazygit"),
    Package("github.com/goreleaser/goreleaser/v2", 14, "goreleaser"),
    Package("mvdan.cc/gofumpt", 15, "gofumpt"),
    Package("github.com/go-task/task/v3", 16, "task"),
    Package("honnef.co/go/tools", 17, "staticcheck"),
    Package("github.com/charmbracelet/glow/v2", 18, "glow"),
]
#: where the corpus's commands live in their module zips
_GO_CMD = {
    "github.com/cli/cli/v2": ["cmd/gh/main.go", "cmd/gen-docs/main.go", "pkg/cmd/root/root.go"],
    "github.com/golangci/golangci-lint/v2": ["cmd/golangci-lint/main.go", "pkg/lint/lint.go"],
    "github.com/go-task/task/v3": ["cmd/task/task.go", "cmd/task/main.go", "task.go"],
    "honnef.co/go/tools": ["cmd/structlayout/main.go", "cmd/staticcheck/main.go", "lint/lint.go"],
}


def _go_index(corpus: list[Package]) -> list[dict[str, str]]:
    """The index records of the window: releases, pseudo-versions of the three forms, in time order."""
    records = []
    for round_ in range(max(p.popularity for p in corpus)):
        for p in corpus:
            if round_ < p.popularity:
                records.append((p.identifier, f"v1.{round_}.0"))
            if round_ == 0:  # every module also has pseudo-versions (not releases)
                records.append((p.identifier, "v0.0.0-20261110101010-abcdefabcdef"))
                records.append((p.identifier, f"v1.{round_}.1-0.20261111111111-abcdefabcdef"))
                records.append((p.identifier, "v1.2.3-pre.0.20261112121212-abcdefabcdef"))
                records.append((p.identifier, "v2.0.0-20261113131313-abcdefabcdef+incompatible"))
    out = []
    for t, (path, version) in enumerate(records, start=1):
        stamp = (NOW_GO - dt.timedelta(days=29) + dt.timedelta(seconds=t * 37)).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ"
        )
        out.append({"Path": path, "Version": version, "Timestamp": stamp})
    return out


NOW_GO = dt.datetime(2026, 12, 1, 0, 0, 0, tzinfo=dt.UTC)


def serve_go(server: HTTPServer, corpus: list[Package], *, cap: int) -> list[dict[str, str]]:
    """The index (``since`` inclusive, at most ``cap`` lines whatever ``limit`` asks) and the
    proxy's module zips of each module's newest release."""
    records = _go_index(corpus)

    def index(request: Request) -> Response:
        since = request.args["since"]
        limit = min(int(request.args.get("limit", "2000")), cap)
        # the index compares instants; these stamps and the first since sort as text
        page = [r for r in records if r["Timestamp"] >= since][:limit]
        return Response("".join(json.dumps(r) + "\n" for r in page), content_type="application/json")

    server.expect_request("/index/index").respond_with_handler(index)
    for p in corpus:
        newest = f"v1.{p.popularity - 1}.0"
        files = _GO_CMD.get(p.identifier, ["main.go", "cli.go"] if p.command else ["doc.go", "api.go"])
        escaped = "".join("!" + c.lower() if c.isupper() else c for c in p.identifier)
        serve_ranged(
            server,
            f"/proxy/{escaped}/@v/{newest}.zip",
            module_zip(p.identifier, newest, files),
            content_type="application/zip",
        )
    return records


def go_source(server: HTTPServer, client: HttpClient, *, max_pages: int = 250) -> GoSource:
    return GoSource(
        client,
        server.url_for("/index"),
        replace(DEFAULT_SETTINGS["go"], max_pages=max_pages),
        now=NOW_GO,
        proxy_url=server.url_for("/proxy"),
    )


def test_go_seed_queues_commands_by_releases(httpserver: HTTPServer, client: HttpClient) -> None:
    records = serve_go(httpserver, GO, cap=7)
    source = go_source(httpserver, client)
    check_seed(source, GO, "go")
    pages = [r for r, _ in httpserver.log if r.path == "/index/index"]
    # the server answered 7 lines to limit=2000: the whole window was still read
    assert {r.args["limit"] for r in pages} == {"2000"}
    assert len(pages) >= len(records) // 7


def test_go_page_boundaries_count_each_release_once(httpserver: HTTPServer, client: HttpClient) -> None:
    corpus = [Package("github.com/junegunn/fzf", 5, "fzf")]
    serve_go(httpserver, corpus, cap=2)  # every page starts with the last record of the one before
    source = go_source(httpserver, client)
    got = source.fetch()
    assert len(got) == 1, source.dropped
    [fzf] = got
    assert (fzf.name, fzf.popularity) == ("fzf", 5)


def test_go_pseudo_versions() -> None:
    assert is_pseudo_version("v0.0.0-20191109021931-daa7c04131f5")
    assert is_pseudo_version("v2.0.0-20191109021931-daa7c04131f5")
    assert is_pseudo_version("v1.2.3-pre.0.20191109021931-daa7c04131f5")
    assert is_pseudo_version("v1.2.4-0.20191109021931-daa7c04131f5")
    assert is_pseudo_version("v1.2.4-0.20191109021931-daa7c04131f5+incompatible")
    for release in ["v1.2.3", "v1.2.3-rc.1", "v2.0.0+incompatible", "v0.1.0-alpha.0"]:
        assert not is_pseudo_version(release), release


def test_go_page_budget_cut_is_a_warning(
    httpserver: HTTPServer, client: HttpClient, caplog: pytest.LogCaptureFixture
) -> None:
    serve_go(httpserver, GO[-3:], cap=3)
    got = go_source(httpserver, client, max_pages=2).fetch()
    assert "the window was cut" in caplog.text
    assert all(c.popularity is not None for c in got)


def test_go_a_module_without_a_zip_is_dropped_alone(httpserver: HTTPServer, client: HttpClient) -> None:
    corpus = [Package("github.com/junegunn/fzf", 2, "fzf"), Package("example.com/gone", 3, "gone")]
    records = _go_index(corpus)
    httpserver.expect_request("/index/index").respond_with_data(
        "".join(json.dumps(r) + "\n" for r in records) + '{"Path": "x.org/y", "Version": null}\n',
        content_type="application/json",
    )
    serve_ranged(
        httpserver,
        "/proxy/github.com/junegunn/fzf/@v/v1.1.0.zip",
        module_zip("github.com/junegunn/fzf", "v1.1.0", ["main.go"]),
        content_type="application/zip",
    )
    httpserver.expect_request("/proxy/example.com/gone/@v/v1.2.0.zip").respond_with_data(
        "not found: example.com/gone@v1.2.0: invalid version", status=410, content_type="text/plain"
    )
    source = go_source(httpserver, client)
    assert [c.name for c in source.fetch()] == ["fzf"]
    reasons = {d.name: d.reason for d in source.dropped}
    assert "HTTP 410" in reasons["example.com/gone"]
    assert any("expected strings at Version, Timestamp" in r for r in reasons.values())
