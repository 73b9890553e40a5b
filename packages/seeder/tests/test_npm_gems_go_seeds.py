"""The npm, RubyGems and Go weekly seeds against local servers answering in the registries' real
shapes, over lists modelled on the real top lists: npm's ``keywords:cli`` search by weekly
downloads (the formatting libraries without ``bin``, libraries shipping a helper command, the
tools), RubyGems' search by all-time downloads (libraries first, a meta-gem without executables,
libraries with a helper executable, the tools) and Go's module index by releases in the window
(SDK service modules, libraries, plugins and servers with a ``main`` package, the tools). Each
entry's ``bin`` / ``executables`` / module files are written for these tests from the packages'
published releases (npm's from the newest manifests as published in December 2026). The share of
real tools in each seed's top 50 is printed (``pytest -s -k top_50``); the npm list's commands are
checked against the live registry by ``test_live_npm_top_50`` (``-m live``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from typing import Any

from pytest_httpserver import HTTPServer
from seeder_formats import gem_file, module_zip, serve_ranged
from werkzeug import Request, Response

from recipeline_schema.http import HttpClient
from recipeline_seeder.config import DEFAULT_SETTINGS
from recipeline_seeder.popular import ApiSource, GoSource, NpmSource, RubyGemsSource
from recipeline_seeder.popular.go import escape_path


@dataclass(frozen=True)
class Pkg:
    """A top-list entry: its popularity, what it installs (npm: the manifest's ``bin`` as
    published; RubyGems: the gemspec's ``executables``; Go: the module zip's files), the queue
    name it must get (``command``, None: not queued) and whether that command is a real
    command-line tool people install it for (False: a library's helper command, a plugin)."""

    name: str
    popularity: int
    command: str | None
    tool: bool = True
    bin: Any = None
    files: tuple[str, ...] = ()


M = 1_000_000


def lib(name: str, popularity: int, files: tuple[str, ...] = ("doc.go", "api.go")) -> Pkg:
    return Pkg(name, popularity, None, False, files=files)


def check(source: ApiSource, corpus: list[Pkg], eco: str) -> list[str]:
    """Every queued candidate is the expected command, in popularity order; every other package
    is in the run's not-added list with a reason. Returns the queued names."""
    got = source.fetch()
    assert got, "the seed queued nothing"
    expected = [
        (p.command, f"{eco}:{p.name}", p.popularity)
        for p in sorted(corpus, key=lambda p: (-p.popularity, p.name))
        if p.command is not None
    ]
    assert [(c.name, c.source, c.popularity) for c in got] == expected
    dropped = {d.name: d.reason for d in source.dropped}
    not_queued = {p.name for p in corpus if p.command is None}
    assert not_queued == set(dropped), not_queued ^ set(dropped)
    assert all(dropped[n] for n in not_queued)
    return [c.name for c in got]


def top_50(source: ApiSource, corpus: list[Pkg]) -> tuple[int, int, list[str]]:
    """(queued in the top 50, real tools among them, the helper commands of libraries queued)."""
    truth = {p.name: p for p in corpus}
    got = source.fetch()[:50]
    helpers = [c.name for c in got if not truth[c.source.split(":", 1)[1]].tool]
    return len(got), len(got) - len(helpers), helpers


# --- npm ----------------------------------------------------------------------------------------


def helper(name: str, weekly: int, bin_field: object, command: str | None = None) -> Pkg:
    return Pkg(name, weekly, command or name, False, bin=bin_field)


def npm_lib(name: str, weekly: int) -> Pkg:
    return Pkg(name, weekly, None, False)


def tool(name: str, weekly: int, bin_field: object, command: str | None = None) -> Pkg:
    return Pkg(name, weekly, command or name, True, bin=bin_field)


#: The head of a ``keywords:cli`` search (in relevance order, as served) with weekly downloads
#: of the order of late 2026 and each newest manifest's ``bin`` as published: a string installs
#: the package's own name; glob's newest major no longer ships its command (a library now).
NPM = [
    npm_lib("commander", 260 * M),
    npm_lib("chalk", 320 * M),
    npm_lib("yargs", 130 * M),
    npm_lib("minimist", 120 * M),
    npm_lib("strip-ansi", 300 * M),
    npm_lib("string-width", 250 * M),
    npm_lib("wrap-ansi", 200 * M),
    npm_lib("supports-color", 310 * M),
    npm_lib("yargs-parser", 125 * M),
    npm_lib("ora", 40 * M),
    npm_lib("inquirer", 38 * M),
    npm_lib("meow", 30 * M),
    npm_lib("cli-table3", 25 * M),
    npm_lib("boxen", 20 * M),
    npm_lib("cac", 15 * M),
    npm_lib("kleur", 50 * M),
    npm_lib("cli-spinners", 42 * M),
    npm_lib("cli-cursor", 41 * M),
    npm_lib("figures", 52 * M),
    npm_lib("log-symbols", 39 * M),
    npm_lib("cli-progress", 6 * M),
    npm_lib("update-notifier", 15 * M),
    npm_lib("@oclif/core", 2 * M),
    npm_lib("glob", 300 * M),
    helper("semver", 420 * M, {"semver": "bin/semver.js"}),
    helper("uuid", 180 * M, {"uuid": "./dist-node/bin/uuid"}),
    helper("mkdirp", 110 * M, "./dist/cjs/src/bin.js"),
    helper("rimraf", 121 * M, "./dist/esm/bin.mjs"),
    helper("which", 111 * M, {"node-which": "./bin/which.js"}, "node-which"),
    helper("mime", 70 * M, {"mime": "bin/cli.js"}),
    helper("js-yaml", 131 * M, {"js-yaml": "bin/js-yaml.mjs"}),
    helper("nanoid", 90 * M, "./bin/nanoid.js"),
    helper("json5", 112 * M, "lib/cli.js"),
    helper(
        "esprima", 55 * M, {"esparse": "./bin/esparse.js", "esvalidate": "./bin/esvalidate.js"}, "esparse"
    ),
    helper("jsesc", 60 * M, "bin/jsesc"),
    helper("acorn", 122 * M, {"acorn": "bin/acorn"}),
    helper("browserslist", 100 * M, {"browserslist": "cli.js"}),
    helper("loose-envify", 61 * M, {"loose-envify": "cli.js"}),
    helper("terser", 62 * M, {"terser": "bin/terser"}),
    helper("he", 20 * M, {"he": "bin/he.mjs"}),
    helper("marked", 21 * M, {"marked": "bin/marked.js"}),
    helper("handlebars", 25 * M + 1, {"handlebars": "bin/handlebars"}),
    helper("mustache", 10 * M, {"mustache": "./bin/mustache"}),
    tool("typescript", 110 * M, {"tsc": "./bin/tsc"}, "tsc"),
    tool("eslint", 91 * M, {"eslint": "./bin/eslint.js"}),
    tool("prettier", 71 * M, "./bin/prettier.cjs"),
    tool("esbuild", 92 * M, {"esbuild": "bin/esbuild"}),
    tool("rollup", 63 * M, {"rollup": "dist/bin/rollup"}),
    tool("vite", 45 * M, {"vite": "bin/vite.js"}),
    tool("jest", 35 * M, "./bin/jest.js"),
    tool("webpack-cli", 30 * M, {"webpack-cli": "./bin/cli.js"}),
    tool("pnpm", 31 * M, {"pnpm": "pnpm", "pn": "pn", "pnpx": "pnpx", "pnx": "pnx"}),
    tool(
        "ts-node", 29 * M, {"ts-node": "dist/bin.js", "ts-node-cwd": "dist/bin-cwd.js", "ts-script": "x.js"}
    ),
    tool("tsx", 26 * M, "./dist/cli.mjs"),
    tool("sass", 24 * M, {"sass": "sass.js"}),
    tool("husky", 23 * M, {"husky": "bin.js"}),
    tool("node-gyp", 20 * M + 1, "./bin/node-gyp.js"),
    tool("lint-staged", 18 * M, {"lint-staged": "bin/lint-staged.js"}),
    tool("concurrently", 12 * M + 1, {"concurrently": "./dist/bin/index.js", "conc": "./dist/bin/index.js"}),
    tool("cross-env", 12 * M, {"cross-env": "./dist/bin/cross-env.js", "cross-env-shell": "./x.js"}),
    tool("mocha", 11 * M, {"mocha": "./bin/mocha.js"}),
    tool("less", 10 * M + 1, {"lessc": "./bin/lessc"}, "lessc"),
    tool("nodemon", 9 * M, {"nodemon": "./bin/nodemon.js"}),
    tool("nx", 8 * M + 2, {"nx": "./dist/bin/nx.js", "nx-cloud": "./dist/bin/nx-cloud.js"}),
    tool("@babel/cli", 8 * M + 1, {"babel": "./bin/babel.js"}, "babel"),
    tool("yarn", 8 * M, {"yarn": "./bin/yarn.js", "yarnpkg": "./bin/yarn.js"}),
    tool("stylelint", 7 * M, {"stylelint": "bin/stylelint.mjs"}),
    tool("patch-package", 6 * M + 1, "./index.js"),
    tool("turbo", 6 * M, {"turbo": "./bin/turbo"}),
    tool("@biomejs/biome", 5 * M + 1, {"biome": "bin/biome"}, "biome"),
    tool("@angular/cli", 5 * M, {"ng": "bin/ng.js"}, "ng"),
    tool(
        "npm-run-all",
        4_900_000,
        {
            "run-p": "bin/run-p/index.js",
            "run-s": "bin/run-s/index.js",
            "npm-run-all": "bin/npm-run-all/index.js",
        },
    ),
    tool("firebase-tools", 4_500_000, {"firebase": "./lib/bin/firebase.js"}, "firebase"),
    tool("serve", 4_000_000, {"serve": "./build/main.js"}),
    tool("wrangler", 3_900_000, {"cf-wrangler": "./bin/cf-wrangler.js", "wrangler": "./bin/wrangler.js"}),
    tool("http-server", 3_000_000, {"http-server": "./bin/http-server"}),
    tool("@nestjs/cli", 2_900_000, {"nest": "bin/nest.js"}, "nest"),
    tool("pm2", 2_800_000, {"pm2": "bin/pm2", "pm2-dev": "bin/pm2-dev", "pm2-runtime": "bin/pm2-runtime"}),
    tool("aws-cdk", 2_700_000, {"cdk": "bin/cdk"}, "cdk"),
    tool("lerna", 2_600_000, {"lerna": "dist/cli.js"}),
    tool("jsdoc", 2_500_000, {"jsdoc": "./jsdoc.js"}),
    tool("gulp-cli", 2_000_000, {"gulp": "bin/gulp.js"}, "gulp"),
    tool("vercel", 1_800_000, {"vc": "./dist/vc.js", "vercel": "./dist/vc.js"}),
    tool("dotenv-cli", 1_500_000, {"dotenv": "./cli.js"}, "dotenv"),
    tool("browser-sync", 1_200_000, "dist/bin.js"),
    tool("serverless", 1_000_000, {"serverless": "run.js", "sls": "run.js"}),
    tool("npm-check-updates", 990_000, {"npm-check-updates": "build/cli.js", "ncu": "build/cli.js"}),
    tool("figlet", 900_000, "./bin/index.js"),
    tool("grunt-cli", 800_000, {"grunt": "bin/grunt"}, "grunt"),
    tool("netlify-cli", 600_000, {"netlify": "./bin/run.js", "ntl": "./bin/run.js"}, "netlify"),
    tool("json-server", 400_000, "./lib/cli/bin.js"),
    tool("@vue/cli", 300_000, {"vue": "bin/vue.js"}, "vue"),
    tool("live-server", 200_000, {"live-server": "./live-server.js"}),
    tool("create-react-app", 150_000, {"create-react-app": "./index.js"}),
]


def npm_object(p: Pkg) -> dict[str, object]:
    """A search object as the registry sends it (``downloads`` beside a score that ranks nothing)."""
    return {
        "downloads": {"monthly": p.popularity * 4, "weekly": p.popularity},
        "dependents": "1200",
        "updated": "2026-11-30T10:00:00.000Z",
        "searchScore": 123.4,
        "package": {
            "name": p.name,
            "keywords": ["cli"],
            "version": "1.0.0",
            "description": "",
            "sanitized_name": p.name,
            "publisher": {"email": "a@example.org", "username": "a"},
            "maintainers": [{"email": "a@example.org", "username": "a"}],
            "license": "MIT",
            "date": "2026-11-30T10:00:00.000Z",
            "links": {"npm": "https://example.org/package/" + p.name},
        },
        "score": {"final": 1, "detail": {"popularity": 1, "quality": 1, "maintenance": 1}},
        "flags": {"insecure": 0},
    }


def npm_manifest(p: Pkg) -> dict[str, object]:
    """``/<name>/latest`` as published: no ``bin`` key at all for a library."""
    manifest: dict[str, object] = {
        "name": p.name,
        "version": "1.0.0",
        "description": "",
        "main": "index.js",
        "keywords": ["cli"],
        "license": "MIT",
        "dist": {"tarball": "x.tgz", "shasum": "00", "integrity": "sha512-00"},
    }
    if p.bin is not None:
        manifest["bin"] = p.bin
    return manifest


def serve_npm_search(server: HTTPServer, corpus: list[Pkg], *, page_size: int) -> None:
    """The search in the corpus's (relevance) order, ``page_size`` a page, ``total`` the count."""
    for start in range(0, len(corpus) + 1, page_size):
        page = corpus[start : start + page_size]
        server.expect_request(
            "/registry/-/v1/search",
            query_string={"text": "keywords:cli", "size": str(page_size), "from": str(start)},
        ).respond_with_json(
            {"objects": [npm_object(p) for p in page], "total": len(corpus), "time": "Thu Dec 03 2026"}
        )


def npm_source(server: HTTPServer, client: HttpClient, *, page_size: int = 25) -> NpmSource:
    return NpmSource(
        client,
        server.url_for("/registry/"),
        replace(DEFAULT_SETTINGS["npm"], page_size=page_size),
        downloads_url=None,
    )


def serve_npm(server: HTTPServer, corpus: list[Pkg]) -> None:
    serve_npm_search(server, corpus, page_size=25)
    for p in corpus:
        server.expect_request(f"/registry/{p.name}/latest").respond_with_json(npm_manifest(p))


def test_npm_seed_queues_packages_whose_manifest_has_a_bin(
    httpserver: HTTPServer, client: HttpClient
) -> None:
    serve_npm(httpserver, NPM)
    source = npm_source(httpserver, client)
    names = check(source, NPM, "npm")
    assert names[:4] == ["semver", "uuid", "js-yaml", "acorn"]
    assert {"tsc", "ng", "nest", "biome", "lessc", "gulp"} <= set(names)
    reasons = {d.name: d.reason for d in source.dropped}
    assert reasons["glob"] == "its newest manifest has no 'bin' (a library)"


def test_npm_top_50_share_of_real_tools(httpserver: HTTPServer, client: HttpClient) -> None:
    serve_npm(httpserver, NPM)
    queued, tools, helpers = top_50(npm_source(httpserver, client), NPM)
    print(
        f"npm: {len(NPM)} packages of the keywords:cli search checked; {queued} queued in the top 50, "
        f"{tools} real tools, {len(helpers)} libraries' helper commands ({', '.join(helpers)})"
    )
    assert (queued, tools) == (50, 31)
    assert helpers == [
        "semver", "uuid", "js-yaml", "acorn", "rimraf", "json5", "node-which", "mkdirp", "browserslist",
        "nanoid", "mime", "terser", "loose-envify", "jsesc", "esparse", "handlebars", "marked", "he",
        "mustache",
    ]  # fmt: skip


# --- RubyGems -----------------------------------------------------------------------------------


def gem(name: str, downloads: int, executables: tuple[str, ...] = (), *, tool: bool = True) -> Pkg:
    """A gem and its gemspec's ``executables`` (none: a library); the queue name is the gem's
    own name when it is one of them, else the first."""
    if not executables:
        return Pkg(name, downloads, None, False)
    command = name if name in executables else executables[0]
    return Pkg(name, downloads, command, tool, bin=list(executables))


#: The most downloaded gems (all-time downloads, rounded, order of magnitude of late 2026) and
#: their newest gemspec's ``executables``; ``rails`` is a meta-gem (``railties`` installs it).
RUBYGEMS = [
    gem("bundler", 2_400 * M, ("bundle", "bundler")),
    gem("aws-sdk-core", 1_500 * M),
    gem("rake", 1_300 * M, ("rake",)),
    gem("rack", 1_000 * M),
    gem("i18n", 950 * M),
    gem("activesupport", 951 * M),
    gem("nokogiri", 952 * M, ("nokogiri",), tool=False),
    gem("rspec-core", 900 * M, ("rspec",)),
    gem("json", 901 * M),
    gem("concurrent-ruby", 902 * M),
    gem("minitest", 850 * M),
    gem("tzinfo", 800 * M),
    gem("thor", 801 * M, ("thor",), tool=False),
    gem("aws-partitions", 802 * M),
    gem("aws-sigv4", 803 * M),
    gem("diff-lcs", 750 * M, ("htmldiff", "ldiff"), tool=False),
    gem("public_suffix", 751 * M),
    gem("addressable", 700 * M),
    gem("jmespath", 701 * M),
    gem("aws-eventstream", 702 * M),
    gem("faraday", 600 * M),
    gem("mime-types", 601 * M),
    gem("mini_portile2", 602 * M),
    gem("ffi", 603 * M),
    gem("rails", 550 * M),
    gem("rexml", 551 * M),
    gem("railties", 500 * M, ("rails",)),
    gem("zeitwerk", 501 * M),
    gem("builder", 502 * M),
    gem("method_source", 503 * M),
    gem("multi_json", 504 * M),
    gem("racc", 505 * M, ("racc",), tool=False),
    gem("parser", 450 * M, ("ruby-parse", "ruby-rewrite"), tool=False),
    gem("ast", 451 * M),
    gem("rainbow", 452 * M),
    gem("unicode-display_width", 453 * M),
    gem("rdoc", 400 * M, ("rdoc", "ri")),
    gem("rubocop", 401 * M, ("rubocop",)),
    gem("regexp_parser", 402 * M),
    gem("erubi", 403 * M),
    gem("rack-test", 404 * M),
    gem("coderay", 350 * M, ("coderay",), tool=False),
    gem("puma", 351 * M, ("puma", "pumactl")),
    gem("rubocop-ast", 352 * M),
    gem("ruby-progressbar", 353 * M),
    gem("sprockets", 354 * M, ("sprockets",), tool=False),
    gem("pry", 330 * M, ("pry",)),
    gem("byebug", 300 * M, ("byebug",)),
    gem("mail", 301 * M),
    gem("tilt", 302 * M, ("tilt",), tool=False),
    gem("nio4r", 303 * M),
    gem("websocket-driver", 304 * M),
    gem("kramdown", 250 * M, ("kramdown",), tool=False),
    gem("irb", 251 * M, ("irb",)),
    gem("sidekiq", 252 * M, ("sidekiq", "sidekiqmon")),
    gem("capybara", 253 * M),
    gem("selenium-webdriver", 254 * M),
    gem("simplecov", 255 * M),
    gem("highline", 256 * M),
    gem("rouge", 200 * M, ("rougify",), tool=False),
    gem("sass", 201 * M, ("sass", "sass-convert", "scss")),
    gem("erb", 202 * M, ("erb",), tool=False),
    gem("debug", 203 * M, ("rdbg",)),
    gem("yard", 204 * M, ("yard", "yardoc", "yri")),
    gem("rackup", 205 * M, ("rackup",), tool=False),
    gem("httparty", 206 * M, ("httparty",), tool=False),
    gem("rest-client", 207 * M, ("restclient",), tool=False),
    gem("webmock", 208 * M),
    gem("haml", 150 * M, ("haml",), tool=False),
    gem("ruby_parser", 151 * M, ("ruby_parse", "ruby_parse_extract_error"), tool=False),
    gem("launchy", 152 * M, ("launchy",), tool=False),
    gem("redcarpet", 120 * M, ("redcarpet",), tool=False),
    gem("mustache", 100 * M, ("mustache",), tool=False),
    gem("cucumber", 101 * M, ("cucumber",)),
    gem("fastlane", 102 * M, ("fastlane",)),
    gem("rbs", 103 * M, ("rbs",)),
    gem("unicorn", 90 * M, ("unicorn", "unicorn_rails")),
    gem("cocoapods", 80 * M, ("pod", "sandbox-pod")),
    gem("guard", 81 * M, ("_guard-core", "guard")),
    gem("jekyll", 70 * M, ("jekyll",)),
    gem("capistrano", 71 * M, ("cap", "capify")),
    gem("foreman", 60 * M, ("foreman",)),
    gem("bundler-audit", 61 * M, ("bundle-audit", "bundler-audit")),
    gem("thin", 62 * M, ("thin",)),
    gem("xcpretty", 63 * M, ("xcpretty",)),
    gem("brakeman", 50 * M, ("brakeman",)),
    gem("standard", 51 * M, ("standardrb",)),
    gem("solargraph", 40 * M, ("solargraph",)),
    gem("danger", 41 * M, ("danger",)),
    gem("typeprof", 42 * M, ("typeprof",)),
    gem("ruby-lsp", 30 * M, ("ruby-lsp", "ruby-lsp-check", "ruby-lsp-launcher")),
    gem("reek", 31 * M, ("reek",)),
    gem("overcommit", 20 * M, ("overcommit",)),
    gem("mailcatcher", 21 * M, ("catchmail", "mailcatcher")),
]


def gem_object(p: Pkg, base: str) -> dict[str, object]:
    """A search result as RubyGems sends it."""
    return {
        "name": p.name,
        "downloads": p.popularity,
        "version": "1.0.0",
        "version_created_at": "2026-11-01T00:00:00.000Z",
        "version_downloads": p.popularity // 100,
        "platform": "ruby",
        "authors": "A. Author",
        "info": f"{p.name}, a gem",
        "licenses": ["MIT"],
        "metadata": {},
        "yanked": False,
        "sha": "00" * 32,
        "spec_sha": "00" * 32,
        "project_uri": f"{base}/gems/{p.name}",
        "gem_uri": f"{base}/gems/{p.name}-1.0.0.gem",
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


def serve_rubygems(server: HTTPServer, corpus: list[Pkg]) -> None:
    """The search (relevance order: the corpus's), 30 a page then ``[]``, and every ``.gem``."""
    base = server.url_for("").rstrip("/")
    pages = [corpus[i : i + 30] for i in range(0, len(corpus), 30)] + [[]]
    for n, page in enumerate(pages, start=1):
        server.expect_request(
            "/api/v1/search.json", query_string={"query": "downloads:>1000000", "page": str(n)}
        ).respond_with_json([gem_object(p, base) for p in page])
    for p in corpus:
        serve_ranged(
            server,
            f"/gems/{p.name}-1.0.0.gem",
            gem_file(p.name, "1.0.0", list(p.bin or [])),
            content_type="application/octet-stream",
        )


def rubygems_source(server: HTTPServer, client: HttpClient) -> RubyGemsSource:
    return RubyGemsSource(client, server.url_for("/api/v1"), DEFAULT_SETTINGS["rubygems"])


def test_rubygems_seed_queues_gems_whose_gemspec_lists_executables(
    httpserver: HTTPServer, client: HttpClient
) -> None:
    serve_rubygems(httpserver, RUBYGEMS)
    source = rubygems_source(httpserver, client)
    names = check(source, RUBYGEMS, "rubygems")
    assert names[:5] == ["bundler", "rake", "nokogiri", "rspec", "thor"]
    by_gem = {c.source: c.name for c in source.fetch()}
    assert by_gem["rubygems:railties"] == "rails" and "rubygems:rails" not in by_gem
    assert by_gem["rubygems:guard"] == "guard"  # its own name, not the first executable
    reasons = {d.name: d.reason for d in source.dropped}
    assert reasons["rails"] == "its gemspec lists no executables (a library)"


def test_rubygems_top_50_share_of_real_tools(httpserver: HTTPServer, client: HttpClient) -> None:
    serve_rubygems(httpserver, RUBYGEMS)
    queued, tools, helpers = top_50(rubygems_source(httpserver, client), RUBYGEMS)
    print(
        f"rubygems: {len(RUBYGEMS)} gems of the search by downloads checked; {queued} queued in the "
        f"top 50, {tools} real tools, {len(helpers)} libraries' helper commands ({', '.join(helpers)})"
    )
    assert (queued, tools) == (50, 31)
    assert helpers == [
        "nokogiri", "thor", "htmldiff", "racc", "ruby-parse", "sprockets", "coderay", "tilt", "kramdown",
        "restclient", "httparty", "rackup", "erb", "rougify", "launchy", "ruby_parse", "haml", "redcarpet",
        "mustache",
    ]  # fmt: skip


# --- Go -----------------------------------------------------------------------------------------

NOW_GO = dt.datetime(2026, 12, 1, 0, 0, 0, tzinfo=dt.UTC)


def mod(path: str, releases: int, command: str, files: tuple[str, ...], *, tool: bool = True) -> Pkg:
    return Pkg(path, releases, command, tool, files=files)


_ROOT = ("main.go", "go.sum")

#: Modules of the index window and their releases in it (of the order the index shows in late
#: 2026: the SDKs' service modules release nearly daily), with the files of the newest release's
#: module zip that decide: a root ``main.go`` or ``cmd/<name>/main.go`` (plugins and servers have
#: them too), or only library packages.
GO = [
    lib("github.com/aws/aws-sdk-go-v2/service/s3", 28),
    lib("github.com/aws/aws-sdk-go-v2/service/ec2", 27),
    lib("github.com/aws/aws-sdk-go-v2/service/sagemaker", 26),
    lib("github.com/aws/aws-sdk-go-v2/service/bedrockagent", 25),
    lib("github.com/aws/aws-sdk-go-v2", 24),
    lib("github.com/aws/aws-sdk-go-v2/config", 23),
    lib("github.com/Azure/azure-sdk-for-go/sdk/azcore", 8),
    lib("github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v6", 7),
    lib("cloud.google.com/go/storage", 6),
    lib("cloud.google.com/go/aiplatform", 9),
    lib("github.com/pulumi/pulumi-aws/sdk/v6", 12),
    lib("github.com/pulumi/pulumi/sdk/v3", 11),
    lib("golang.org/x/net", 2),
    lib("golang.org/x/sys", 3),
    lib("google.golang.org/grpc", 4, ("server.go", "examples/helloworld/greeter_server/main.go")),
    lib("k8s.io/client-go", 5),
    lib("k8s.io/api", 5),
    lib("go.opentelemetry.io/otel", 3),
    lib("github.com/stretchr/testify", 1),
    lib("github.com/spf13/cobra", 1),
    lib("github.com/gin-gonic/gin", 2),
    lib("github.com/prometheus/client_golang", 2),
    lib("github.com/hashicorp/terraform-plugin-framework", 4),
    # main packages that are not tools people install: providers and plugins, a repository's
    # first internal command
    mod("github.com/hashicorp/terraform-provider-aws", 9, "terraform-provider-aws", _ROOT, tool=False),
    mod(
        "github.com/hashicorp/terraform-provider-azurerm", 8, "terraform-provider-azurerm", _ROOT, tool=False
    ),
    mod("github.com/hashicorp/terraform-provider-google", 7, "terraform-provider-google", _ROOT, tool=False),
    mod(
        "github.com/pulumi/pulumi-aws/provider/v6",
        12,
        "pulumi-resource-aws",
        ("cmd/pulumi-resource-aws/main.go", "cmd/pulumi-tfgen-aws/main.go", "resources.go"),
        tool=False,
    ),
    mod(
        "k8s.io/kubernetes",
        6,
        "clicheck",
        (
            "cmd/clicheck/main.go",
            "cmd/kube-apiserver/apiserver.go",
            "cmd/kubectl/kubectl.go",
            "cmd/kubelet/kubelet.go",
        ),
        tool=False,
    ),
    mod(
        "golang.org/x/tools",
        3,
        "bisect",
        ("cmd/bisect/main.go", "cmd/goimports/main.go", "cmd/stringer/main.go"),
        tool=False,
    ),
    mod(
        "github.com/open-telemetry/opentelemetry-collector-contrib/cmd/otelcontribcol",
        5,
        "otelcontribcol",
        _ROOT,
        tool=False,
    ),
    mod("github.com/cli/cli/v2", 6, "gh", ("cmd/gh/main.go", "cmd/gen-docs/main.go", "pkg/cmd/root/root.go")),
    mod(
        "github.com/golangci/golangci-lint/v2",
        5,
        "golangci-lint",
        ("cmd/golangci-lint/main.go", "pkg/lint/lint.go"),
    ),
    mod("github.com/goreleaser/goreleaser/v2", 6, "goreleaser", _ROOT),
    mod("github.com/junegunn/fzf", 4, "fzf", _ROOT),
    mod("github.com/gohugoio/hugo", 5, "hugo", _ROOT),
    mod("golang.org/x/tools/gopls", 4, "gopls", _ROOT),
    mod("github.com/derailed/k9s", 4, "k9s", _ROOT),
    mod("github.com/jesseduffield/lazygit", 3, "lazygit", _ROOT),
    mod("mvdan.cc/gofumpt", 2, "gofumpt", _ROOT),
    mod("github.com/go-task/task/v3", 4, "task", ("cmd/task/task.go", "cmd/task/main.go", "task.go")),
    mod(
        "honnef.co/go/tools",
        2,
        "staticcheck",
        ("cmd/staticcheck/main.go", "cmd/structlayout/main.go", "lint/lint.go"),
    ),
    mod("github.com/charmbracelet/glow/v2", 2, "glow", _ROOT),
    mod("github.com/twpayne/chezmoi/v2", 5, "chezmoi", _ROOT),
    mod("github.com/aquasecurity/trivy", 6, "trivy", ("cmd/trivy/main.go", "pkg/scan/scan.go")),
    mod("github.com/anchore/syft", 5, "syft", ("cmd/syft/main.go", "syft/lib.go")),
    mod("github.com/anchore/grype", 5, "grype", ("cmd/grype/main.go", "grype/lib.go")),
    mod("helm.sh/helm/v3", 3, "helm", ("cmd/helm/helm.go", "cmd/helm/main.go", "pkg/action/action.go")),
    mod("github.com/hashicorp/terraform", 4, "terraform", _ROOT),
    mod("github.com/opentofu/opentofu", 4, "tofu", ("cmd/tofu/main.go", "internal/tofu/context.go")),
    mod("github.com/caddyserver/caddy/v2", 3, "caddy", ("cmd/caddy/main.go", "caddy.go")),
    mod("github.com/traefik/traefik/v3", 5, "traefik", ("cmd/traefik/traefik.go", "cmd/traefik/main.go")),
    mod("github.com/minio/minio", 4, "minio", _ROOT),
    mod("github.com/rclone/rclone", 3, "rclone", _ROOT),
    mod("dagger.io/dagger", 6, "dagger", ("cmd/dagger/main.go", "cmd/engine/main.go", "sdk.go")),
    mod("github.com/pulumi/pulumi/pkg/v3", 11, "pulumi", ("cmd/pulumi/main.go", "backend/backend.go")),
    mod("github.com/grafana/grafana", 4, "grafana", ("cmd/grafana/main.go", "cmd/grafana-cli/main.go")),
    mod("github.com/grafana/k6", 3, "k6", _ROOT),
    mod("github.com/gruntwork-io/terragrunt", 8, "terragrunt", _ROOT),
    mod("github.com/argoproj/argo-cd/v3", 5, "argocd", ("cmd/argocd/main.go", "cmd/main.go", "util/util.go")),
    mod("github.com/fluxcd/flux2/v2", 3, "flux", ("cmd/flux/main.go", "pkg/manifestgen/gen.go")),
    mod("sigs.k8s.io/kind", 2, "kind", _ROOT),
    mod("github.com/kubernetes-sigs/kustomize/kustomize/v5", 2, "kustomize", _ROOT),
    mod("github.com/sigstore/cosign/v2", 3, "cosign", ("cmd/cosign/main.go", "pkg/cosign/verify.go")),
    mod("github.com/evilmartians/lefthook/v2", 4, "lefthook", _ROOT),
    mod("github.com/jetify-com/devbox", 3, "devbox", ("cmd/devbox/main.go", "internal/devbox/devbox.go")),
    mod("github.com/zricethezav/gitleaks/v8", 2, "gitleaks", _ROOT),
    mod("github.com/air-verse/air", 2, "air", _ROOT),
    mod("github.com/mikefarah/yq/v4", 2, "yq", _ROOT),
    mod("github.com/wagoodman/dive", 1, "dive", _ROOT),
    mod("github.com/charmbracelet/gum", 2, "gum", _ROOT),
    mod("github.com/sqlc-dev/sqlc", 2, "sqlc", ("cmd/sqlc/main.go", "internal/cmd/cmd.go")),
    mod("github.com/bufbuild/buf", 3, "buf", ("cmd/buf/main.go", "cmd/protoc-gen-buf-lint/main.go")),
    mod("github.com/pressly/goose/v3", 2, "goose", ("cmd/goose/main.go", "migrate.go")),
    mod("github.com/golang-migrate/migrate/v4", 1, "migrate", ("cmd/migrate/main.go", "migrate.go")),
    mod("github.com/nats-io/nats-server/v2", 3, "nats-server", _ROOT),
    mod("github.com/ollama/ollama", 7, "ollama", _ROOT),
    mod(
        "github.com/tailscale/tailscale",
        4,
        "tailscale",
        ("cmd/tailscale/tailscale.go", "cmd/tailscale/main.go", "cmd/tailscaled/main.go"),
    ),
    mod("github.com/jesseduffield/lazydocker", 1, "lazydocker", _ROOT),
    mod("github.com/bazelbuild/bazelisk", 1, "bazelisk", _ROOT),
]


def go_index(corpus: list[Pkg]) -> list[dict[str, str]]:
    """The window's index records in time order: each module's releases and a pseudo-version."""
    records: list[tuple[str, str]] = []
    for round_ in range(max(p.popularity for p in corpus)):
        for p in corpus:
            if round_ == 0:
                records.append((p.name, "v0.0.0-20261110101010-abcdefabcdef"))
            if round_ < p.popularity:
                records.append((p.name, f"v1.{round_}.0"))
    start = NOW_GO - dt.timedelta(days=29)
    return [
        {
            "Path": path,
            "Version": version,
            "Timestamp": (start + dt.timedelta(seconds=t * 97)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        for t, (path, version) in enumerate(records, start=1)
    ]


def serve_go(server: HTTPServer, corpus: list[Pkg], *, cap: int = 2000) -> None:
    """The index (``since`` inclusive, at most ``cap`` lines) and each newest release's zip."""
    records = go_index(corpus)

    def index(request: Request) -> Response:
        since = request.args["since"]
        limit = min(int(request.args.get("limit", "2000")), cap)
        page = [r for r in records if r["Timestamp"] >= since][:limit]
        return Response("".join(json.dumps(r) + "\n" for r in page), content_type="application/json")

    server.expect_request("/index/index").respond_with_handler(index)
    for p in corpus:
        newest = f"v1.{p.popularity - 1}.0"
        serve_ranged(
            server,
            f"/proxy/{escape_path(p.name)}/@v/{newest}.zip",
            module_zip(p.name, newest, list(p.files)),
            content_type="application/zip",
        )


def go_source(server: HTTPServer, client: HttpClient) -> GoSource:
    return GoSource(
        client,
        server.url_for("/index"),
        DEFAULT_SETTINGS["go"],
        now=NOW_GO,
        proxy_url=server.url_for("/proxy"),
    )


def test_go_seed_queues_modules_that_build_a_command(httpserver: HTTPServer, client: HttpClient) -> None:
    serve_go(httpserver, GO, cap=500)
    source = go_source(httpserver, client)
    names = check(source, GO, "go")
    assert names[:3] == ["pulumi-resource-aws", "pulumi", "terraform-provider-aws"]
    reasons = {d.name: d.reason for d in source.dropped}
    assert reasons["github.com/aws/aws-sdk-go-v2/service/s3"] == (
        "no main.go at the module root or under cmd/<name>/ in v1.27.0 (a library)"
    )
    # an example's main package deeper than cmd/<name>/ does not make grpc a tool
    assert "a library" in reasons["google.golang.org/grpc"]


def test_go_top_50_share_of_real_tools(httpserver: HTTPServer, client: HttpClient) -> None:
    serve_go(httpserver, GO, cap=500)
    queued, tools, helpers = top_50(go_source(httpserver, client), GO)
    print(
        f"go: {len(GO)} modules of the index window checked; {queued} queued in the top 50, {tools} "
        f"real tools, {len(helpers)} commands that are no tool ({', '.join(helpers)})"
    )
    assert (queued, tools) == (50, 43)
    assert helpers == [
        "pulumi-resource-aws", "terraform-provider-aws", "terraform-provider-azurerm",
        "terraform-provider-google", "clicheck", "otelcontribcol", "bisect",
    ]  # fmt: skip
