"""Each ecosystem's weekly seed, against a local server answering in the registry's real shape,
over a corpus of real popular packages: the command-line tools of the ecosystem mixed with its
popular libraries, with their real executables (or none), written for these tests from the
packages' published metadata. The seed must queue tools only, under the command they install,
ranked by the registry's popularity; the share of tools in its top 50 is printed (``-s``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
from pytest_httpserver import HTTPServer
from seeder_formats import gem_file, serve_ranged

from recipeline_schema.http import HttpClient
from recipeline_seeder import SourceError
from recipeline_seeder.config import DEFAULT_SETTINGS, SourceSettings
from recipeline_seeder.popular import ApiSource, NpmSource, RubyGemsSource


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
