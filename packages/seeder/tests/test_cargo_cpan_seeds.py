"""The cargo and CPAN weekly seeds against local crates.io and MetaCPAN servers answering in the
registries' real shapes (``seeder_registries``), over lists modelled on the real top lists:
crates.io's category ``command-line-utilities`` by downloads (tools, the libraries tagged with the
category, cargo subcommands, versions from before mid-2024 with ``bin_names: null``) and
MetaCPAN's favourites leaderboard (libraries, frameworks with a command, tools without ``App-``).
The targets and file layouts are written for these tests from the packages' published releases.
The share of real tools in each seed's top 50 is printed (``pytest -s -k top_50``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

import pytest
from pytest_httpserver import HTTPServer
from seeder_registries import Crate, Dist, crate_row, missing_version, serve_crates, serve_metacpan
from werkzeug import Response

from recipeline_schema.cpan_scripts import script_names
from recipeline_schema.http import HttpClient
from recipeline_seeder.config import DEFAULT_SETTINGS
from recipeline_seeder.popular import ApiSource, CargoSource, CpanSource
from recipeline_seeder.popular import cargo as cargo_mod
from recipeline_seeder.popular import cpan as cpan_mod


@dataclass(frozen=True)
class Truth:
    """What a package is: the command its seed entry must have (None: not queued) and whether
    that command is a real command-line tool (False: a library's helper script)."""

    command: str | None
    tool: bool = True


def _toml(name: str, num: str, edition: str = "2018", extra: str = "") -> str:
    """A normalized ``Cargo.toml`` as ``cargo package`` writes it."""
    return f'[package]\nedition = "{edition}"\nname = "{name}"\nversion = "{num}"\n{extra}'


def _old(name: str, downloads: int, num: str, files: dict[str, str], edition: str = "2018") -> Crate:
    """A crate whose default version predates crates.io's target analysis (``bin_names: null``)."""
    return Crate(name, downloads, num, None, files={"Cargo.toml": _toml(name, num, edition)} | files)


_LIB = {"src/lib.rs": ""}
_MAIN = {"src/main.rs": "fn main() {}"}

#: (crate, truth): downloads of the order of late 2026; the libraries are tagged with the category
CARGO: list[tuple[Crate, Truth]] = [
    (Crate("clap", 420_000_000, "4.5.20", [], has_lib=True), Truth(None)),
    (Crate("textwrap", 250_000_000, "0.16.1", [], has_lib=True), Truth(None)),
    (_old("atty", 200_000_000, "0.2.14", _LIB, "2015"), Truth(None)),
    (Crate("termcolor", 190_000_000, "1.4.1", [], has_lib=True), Truth(None)),
    (Crate("indicatif", 150_000_000, "0.17.8", [], has_lib=True), Truth(None)),
    (_old("ansi_term", 140_000_000, "0.12.1", _LIB, "2015"), Truth(None)),
    (Crate("colored", 100_000_000, "2.1.0", [], has_lib=True), Truth(None)),
    (Crate("clap_complete", 90_000_000, "4.5.33", [], has_lib=True), Truth(None)),
    (_old("structopt", 80_000_000, "0.3.26", _LIB), Truth(None)),
    (Crate("crossterm", 80_000_000, "0.28.1", [], has_lib=True), Truth(None)),
    (Crate("dialoguer", 60_000_000, "0.11.0", [], has_lib=True), Truth(None)),
    (Crate("comfy-table", 40_000_000, "7.1.1", [], has_lib=True), Truth(None)),
    (_old("termion", 30_000_000, "1.5.6", _LIB), Truth(None)),
    (Crate("rustyline", 30_000_000, "14.0.0", [], has_lib=True), Truth(None)),
    (Crate("human-panic", 20_000_000, "2.0.2", [], has_lib=True), Truth(None)),
    (_old("tui", 10_000_000, "0.19.0", _LIB), Truth(None)),
    (Crate("ripgrep", 9_000_000, "14.1.1", ["rg"]), Truth("rg")),
    (Crate("diesel_cli", 5_000_000, "2.2.4", ["diesel"]), Truth("diesel")),
    (Crate("bat", 5_000_000, "0.24.0", ["bat"], has_lib=True), Truth("bat")),
    (Crate("cargo-edit", 4_000_000, "0.13.0", ["cargo-add", "cargo-rm", "cargo-set-version"]), Truth(None)),
    (Crate("sqlx-cli", 4_000_000, "0.8.2", ["cargo-sqlx", "sqlx"]), Truth("sqlx")),
    (Crate("cargo-watch", 3_000_000, "8.5.3", ["cargo-watch"]), Truth(None)),
    (Crate("cargo-nextest", 3_000_000, "0.9.81", ["cargo-nextest"]), Truth(None)),
    (Crate("fd-find", 3_000_000, "10.2.0", ["fd"]), Truth("fd")),
    (Crate("mdbook", 3_000_000, "0.4.40", ["mdbook"], has_lib=True), Truth("mdbook")),
    (Crate("wasm-pack", 3_000_000, "0.13.1", ["wasm-pack"]), Truth("wasm-pack")),
    (_old("exa", 2_500_000, "0.10.1", _MAIN | {"src/fs/mod.rs": ""}), Truth("exa")),
    (Crate("just", 2_200_000, "1.36.0", ["just"], has_lib=True), Truth("just")),
    (
        Crate("cargo-update", 2_000_000, "16.0.0", ["cargo-install-update", "cargo-install-update-config"]),
        Truth(None),
    ),
    (Crate("cross", 2_000_000, "0.2.5", ["cross", "cross-util"], has_lib=True), Truth("cross")),
    (Crate("cargo-make", 2_000_000, "0.37.23", ["cargo-make", "makers"]), Truth(None)),
    (_old("tokei", 2_000_000, "12.1.2", _MAIN | _LIB), Truth("tokei")),
    (Crate("git-delta", 1_600_000, "0.18.2", ["delta"]), Truth("delta")),
    (Crate("cargo-outdated", 1_500_000, "0.15.0", ["cargo-outdated"]), Truth(None)),
    (Crate("hyperfine", 1_500_000, "1.18.0", ["hyperfine"]), Truth("hyperfine")),
    (Crate("starship", 1_400_000, "1.21.1", ["starship"], has_lib=True), Truth("starship")),
    (Crate("zoxide", 1_300_000, "0.9.6", ["zoxide"]), Truth("zoxide")),
    (Crate("du-dust", 1_200_000, "1.1.1", ["dust"]), Truth("dust")),
    (Crate("typos-cli", 1_200_000, "1.26.0", ["typos"]), Truth("typos")),
    (Crate("bottom", 1_100_000, "0.10.2", ["btm"], has_lib=True), Truth("btm")),
    (Crate("eza", 1_000_000, "0.20.4", ["eza"], has_lib=True), Truth("eza")),
    (Crate("skim", 1_000_000, "0.10.4", ["sk"], has_lib=True), Truth("sk")),
    (Crate("watchexec-cli", 1_000_000, "2.2.0", ["watchexec"]), Truth("watchexec")),
    (Crate("procs", 900_000, "0.14.6", ["procs"]), Truth("procs")),
    (Crate("lsd", 900_000, "1.1.5", ["lsd"]), Truth("lsd")),
    (Crate("sd", 800_000, "1.0.0", ["sd"]), Truth("sd")),
    (Crate("zellij", 800_000, "0.41.1", ["zellij"]), Truth("zellij")),
    (Crate("broot", 700_000, "1.44.0", ["broot"], has_lib=True), Truth("broot")),
    (Crate("nu", 700_000, "0.99.1", ["nu"]), Truth("nu")),
    (Crate("gitui", 600_000, "0.26.3", ["gitui"]), Truth("gitui")),
    (Crate("difftastic", 600_000, "0.61.0", ["difft"]), Truth("difft")),
    (Crate("xh", 500_000, "0.23.0", ["xh"]), Truth("xh")),
    (Crate("topgrade", 500_000, "15.0.0", ["topgrade"]), Truth("topgrade")),
    (Crate("tealdeer", 500_000, "1.7.0", ["tldr"]), Truth("tldr")),
    (Crate("hexyl", 400_000, "0.14.0", ["hexyl"]), Truth("hexyl")),
    (Crate("bandwhich", 400_000, "0.23.1", ["bandwhich"]), Truth("bandwhich")),
    (Crate("grex", 300_000, "1.4.5", ["grex"], has_lib=True), Truth("grex")),
    (Crate("ouch", 300_000, "0.5.1", ["ouch"]), Truth("ouch")),
    (Crate("miniserve", 300_000, "0.28.0", ["miniserve"]), Truth("miniserve")),
    (Crate("tokio-console", 300_000, "0.1.13", ["tokio-console"], has_lib=True), Truth("tokio-console")),
    (Crate("dua-cli", 300_000, "2.29.2", ["dua"]), Truth("dua")),
    (
        Crate(
            "pastel",
            200_000,
            "0.9.0",
            None,
            files={
                # its binary is an explicit [[bin]] outside src/bin/, as its Cargo.toml says
                "Cargo.toml": _toml(
                    "pastel", "0.9.0", extra='\n[[bin]]\nname = "pastel"\npath = "src/cli/main.rs"\n'
                ),
                "src/lib.rs": "",
                "src/cli/main.rs": "fn main() {}",
            },
        ),
        Truth("pastel"),
    ),
    (_old("choose", 200_000, "1.3.4", _MAIN), Truth("choose")),
    (
        Crate("ripgrep_all", 200_000, "0.10.6", ["rga", "rga-fzf", "rga-fzf-open", "rga-preproc"]),
        Truth("rga"),
    ),
    (Crate("navi", 200_000, "2.23.0", ["navi"]), Truth("navi")),
    (Crate("jless", 200_000, "0.9.0", ["jless"]), Truth("jless")),
    (Crate("gping", 190000, "1.18.0", ["gping"]), Truth("gping")),
    (Crate("bacon", 180000, "3.2.0", ["bacon"], has_lib=True), Truth("bacon")),
    (Crate("atuin", 170000, "18.3.0", ["atuin"]), Truth("atuin")),
    (Crate("yazi-fm", 160000, "0.3.3", ["yazi"]), Truth("yazi")),
    (Crate("tailspin", 150000, "4.0.0", ["tspin"]), Truth("tspin")),
    (Crate("fnm", 140000, "1.37.2", ["fnm"]), Truth("fnm")),
    (Crate("pueue", 130000, "3.4.1", ["pueue", "pueued"], has_lib=True), Truth("pueue")),
    (Crate("oha", 120000, "1.4.7", ["oha"]), Truth("oha")),
    (Crate("erdtree", 110000, "3.1.2", ["erd"]), Truth("erd")),
    (Crate("lychee", 100000, "0.16.1", ["lychee"]), Truth("lychee")),
]
# distinct counts, in the corpus order: the API's order is then the expected one
CARGO = [(replace(c, downloads=c.downloads - i), t) for i, (c, t) in enumerate(CARGO)]
CARGO_TRUTH = {c.name: t for c, t in CARGO}


def cargo_source(
    server: HTTPServer, client: HttpClient, crates: list[Crate], *, scan_limit: int = 1000
) -> CargoSource:
    settings = replace(DEFAULT_SETTINGS["cargo"], page_size=25, scan_limit=scan_limit)
    serve_crates(server, crates, per_page=settings.page_size)
    return CargoSource(client, server.url_for("/api/v1"), settings)


# --- CPAN ---------------------------------------------------------------------------------------


def _dist(name: str, favourites: int, files: list[str], roots: tuple[str, ...] = ()) -> Dist:
    return Dist(name, favourites, ["Changes", "LICENSE", "Makefile.PL", "README", *files], perl_scripts=roots)


#: the favourites leaderboard (orders of magnitude of late 2026), each latest release's files at
#: the root and one level deep as published
CPAN: list[tuple[Dist, Truth]] = [
    (
        _dist("Moose", 540, ["bin/moose-outdated", "lib/Moose.pm", "t/basic.t"]),
        Truth("moose-outdated", tool=False),
    ),
    (
        _dist("Mojolicious", 520, ["lib/Mojolicious.pm", "script/hypnotoad", "script/mojo", "script/morbo"]),
        Truth("mojo"),
    ),
    (
        _dist("DBI", 470, ["DBI.pm", "DBI.xs", "dbilogstrip.PL", "dbiprof.PL", "dbiproxy.PL", "lib/DBD"]),
        Truth(None),
    ),
    (_dist("App-cpanminus", 450, ["bin/cpanm", "lib/App/cpanminus.pm"]), Truth("cpanm")),
    (_dist("Dancer2", 330, ["lib/Dancer2.pm", "script/dancer2"]), Truth("dancer2")),
    (_dist("Plack", 320, ["lib/Plack.pm", "script/plackup"]), Truth("plackup")),
    (_dist("Moo", 300, ["lib/Moo.pm", "lib/Moo/Role.pm"]), Truth(None)),
    (_dist("DBIx-Class", 290, ["lib/DBIx/Class.pm", "script/dbicadmin"]), Truth("dbicadmin", tool=False)),
    (_dist("Catalyst-Runtime", 280, ["lib/Catalyst.pm", "t/aggregate"]), Truth(None)),
    (_dist("Try-Tiny", 270, ["lib/Try/Tiny.pm"]), Truth(None)),
    (_dist("Perl-Critic", 260, ["bin/perlcritic", "lib/Perl/Critic.pm"]), Truth("perlcritic")),
    (_dist("Path-Tiny", 250, ["lib/Path/Tiny.pm"]), Truth(None)),
    (_dist("ack", 240, ["ack", "lib/App/Ack.pm"], ("ack",)), Truth("ack")),
    (_dist("Data-Printer", 230, ["lib/DDP.pm", "lib/Data/Printer.pm"]), Truth(None)),
    (
        _dist(
            "libwww-perl",
            220,
            ["bin/lwp-download", "bin/lwp-dump", "bin/lwp-mirror", "bin/lwp-request", "lib/LWP.pm"],
        ),
        Truth("lwp-download"),
    ),
    (_dist("Template-Toolkit", 210, ["bin/tpage", "bin/ttree", "lib/Template.pm"]), Truth("tpage")),
    (
        _dist(
            "Devel-NYTProf",
            200,
            ["bin/nytprofcalls", "bin/nytprofcsv", "bin/nytprofhtml", "lib/Devel/NYTProf.pm"],
        ),
        Truth("nytprofcalls"),
    ),
    (_dist("Carton", 190, ["lib/Carton.pm", "script/carton"]), Truth("carton")),
    (_dist("Perl-Tidy", 180, ["bin/perltidy", "lib/Perl/Tidy.pm"]), Truth("perltidy")),
    (_dist("Dist-Zilla", 170, ["bin/dzil", "lib/Dist/Zilla.pm"]), Truth("dzil")),
    (_dist("Type-Tiny", 160, ["lib/Type/Tiny.pm"]), Truth(None)),
    (
        _dist(
            "Image-ExifTool",
            150,
            ["exiftool", "lib/Image/ExifTool.pm", "perl-Image-ExifTool.spec"],
            ("exiftool",),
        ),
        Truth("exiftool"),
    ),
    (_dist("DateTime", 145, ["lib/DateTime.pm"]), Truth(None)),
    (_dist("Test-Simple", 140, ["lib/Test/More.pm"]), Truth(None)),
    (
        _dist("Devel-Cover", 130, ["bin/cover", "bin/cpancover", "bin/gcov2perl", "lib/Devel/Cover.pm"]),
        Truth("cover"),
    ),
    (_dist("App-perlbrew", 125, ["bin/perlbrew", "lib/App/perlbrew.pm"]), Truth("perlbrew")),
    (_dist("Test-Harness", 120, ["bin/prove", "lib/Test/Harness.pm"]), Truth("prove")),
    (_dist("JSON", 115, ["lib/JSON.pm", "lib/JSON/backportPP.pm"]), Truth(None)),
    (_dist("JSON-XS", 110, ["XS.pm", "XS.xs", "bin/json_xs"]), Truth("json_xs")),
    (
        _dist("Module-Build", 105, ["bin/config_data", "lib/Module/Build.pm"]),
        Truth("config_data", tool=False),
    ),
    (_dist("Minilla", 100, ["lib/Minilla.pm", "script/minil"]), Truth("minil")),
    (_dist("App-FatPacker", 95, ["bin/fatpack", "lib/App/FatPacker.pm"]), Truth("fatpack")),
    (_dist("Starman", 90, ["lib/Starman.pm", "script/starman"]), Truth("starman")),
    (_dist("Catalyst-Devel", 85, ["lib/Catalyst/Devel.pm", "script/catalyst.pl"]), Truth("catalyst.pl")),
    (_dist("Devel-REPL", 80, ["lib/Devel/REPL.pm", "script/re.pl"]), Truth("re.pl")),
    (_dist("App-Nopaste", 78, ["lib/App/Nopaste.pm", "script/nopaste"]), Truth("nopaste")),
    (_dist("Log-Log4perl", 76, ["lib/Log/Log4perl.pm", "script/l4p-tmpl"]), Truth("l4p-tmpl", tool=False)),
    (
        _dist("ExtUtils-MakeMaker", 70, ["bin/instmodsh", "lib/ExtUtils/MakeMaker.pm"]),
        Truth("instmodsh", tool=False),
    ),
    (_dist("Test-Deep", 68, ["lib/Test/Deep.pm"]), Truth(None)),
    (_dist("List-MoreUtils", 66, ["lib/List/MoreUtils.pm"]), Truth(None)),
    (_dist("URI", 60, ["lib/URI.pm"]), Truth(None)),
    (_dist("XML-LibXML", 58, ["LibXML.pm", "LibXML.xs"]), Truth(None)),
    (_dist("DBD-SQLite", 56, ["SQLite.xs", "lib/DBD/SQLite.pm", "sqlite3.c"]), Truth(None)),
    (_dist("Text-CSV", 50, ["lib/Text/CSV.pm"]), Truth(None)),
    (_dist("AnyEvent", 48, ["AnyEvent.pm", "lib/AnyEvent"]), Truth(None)),
    (_dist("IO-Async", 40, ["lib/IO/Async.pm"]), Truth(None)),
    (_dist("Reply", 38, ["bin/reply", "lib/Reply.pm"]), Truth("reply")),
    (_dist("Future", 30, ["lib/Future.pm"]), Truth(None)),
    (_dist("Getopt-Long", 28, ["lib/Getopt/Long.pm"]), Truth(None)),
    (_dist("HTML-Parser", 20, ["Parser.xs", "lib/HTML/Parser.pm"]), Truth(None)),
]
CPAN_TRUTH = {d.name: t for d, t in CPAN}


def cpan_source(server: HTTPServer, client: HttpClient, dists: list[Dist]) -> CpanSource:
    serve_metacpan(server, dists)
    return CpanSource(client, server.url_for("/v1"), DEFAULT_SETTINGS["cpan"])


# --- the seeds ----------------------------------------------------------------------------------


def check(source: ApiSource, truth: dict[str, Truth], popularity: dict[str, int], eco: str) -> list[str]:
    """The seed queues exactly the packages with a command, under it, by popularity; everything
    else is in the run record's not-added list with a reason. Returns the queued names."""
    got = source.fetch()
    expected = sorted(
        (name for name, t in truth.items() if t.command is not None), key=lambda n: (-popularity[n], n)
    )
    assert [c.source for c in got] == [f"{eco}:{n}" for n in expected]
    for c in got:
        assert c.name == truth[c.source.split(":", 1)[1]].command
        assert c.popularity == popularity[c.source.split(":", 1)[1]]
    dropped = {d.name: d.reason for d in source.dropped}
    assert set(dropped) == {n for n, t in truth.items() if t.command is None}
    return [c.name for c in got]


def top50(eco: str, source: ApiSource, truth: dict[str, Truth], old_names: list[tuple[str, str]]) -> str:
    """The figure: real tools among the first 50 queued; what was dropped and why; and how the
    old source (every listed name queued as it was) did on the same list."""
    got = source.fetch()[:50]
    tools = sum(truth[c.source.split(":", 1)[1]].tool for c in got)
    reasons = Counter(d.reason.split(":")[0] for d in source.dropped)
    old = old_names[:50]
    old_right = sum(truth[ident].tool and truth[ident].command == name for ident, name in old)
    line = (
        f"{eco}: {tools}/{len(got)} of the top {len(got)} queued are real tools; dropped: "
        + ", ".join(f"{n} {why}" for why, n in sorted(reasons.items()))
        + f"; before the fix: {old_right}/{len(old)} of the top {len(old)} queued"
        + " were tools named by their command"
    )
    print(line)
    return line


def test_cargo_seed_queues_binaries_under_their_command(httpserver: HTTPServer, client: HttpClient) -> None:
    crates = [c for c, _ in CARGO]
    source = cargo_source(httpserver, client, crates)
    names = check(source, CARGO_TRUTH, {c.name: c.downloads for c in crates}, "cargo")
    assert names[:6] == ["rg", "diesel", "bat", "sqlx", "fd", "mdbook"]
    reasons = {d.name: d.reason for d in source.dropped}
    assert reasons["clap"] == "a library: version 4.5.20 has no binary target (bin_names is empty)"
    assert (
        reasons["atty"] == "a library: version 0.2.14 has no binary target (its .crate's Cargo.toml and src/)"
    )
    assert reasons["cargo-edit"].startswith("a cargo subcommand")
    # a subcommand is dropped by its name, before any request; null bin_names read the .crate
    paths = {req.path for req, _ in httpserver.log}
    assert "/api/v1/crates/cargo-edit/0.13.0" not in paths
    assert "/static/crates/exa/exa-0.10.1.crate" in paths
    assert "/static/crates/ripgrep/ripgrep-14.1.1.crate" not in paths


def test_cpan_seed_queues_distributions_with_executables(httpserver: HTTPServer, client: HttpClient) -> None:
    dists = [d for d, _ in CPAN]
    source = cpan_source(httpserver, client, dists)
    names = check(source, CPAN_TRUTH, {d.name: d.favourites for d in dists}, "cpan")
    assert names[:4] == ["moose-outdated", "mojo", "cpanm", "dancer2"]
    reasons = {d.name: d.reason for d in source.dropped}
    assert reasons["DBI"] == "a library: release DBI-1.0 has no script/, bin/ or root Perl script"
    searches = [req for req, _ in httpserver.log if req.path == "/v1/file/_search"]
    assert len(searches) == len(dists)
    assert all(req.args["_source"] == "path,mime" and "fields" not in req.args for req in searches)


def test_top_50_share_of_real_tools(httpserver: HTTPServer, client: HttpClient) -> None:
    crates = [c for c, _ in CARGO]
    by_downloads = sorted(crates, key=lambda c: -c.downloads)
    cargo_line = top50(
        "cargo",
        cargo_source(httpserver, client, crates),
        CARGO_TRUTH,
        [(c.name, c.name) for c in by_downloads],
    )
    dists = [d for d, _ in CPAN]
    # the old CPAN source kept App-* only, named by the rest lower-cased
    old_cpan = [(d.name, d.name[4:].lower()) for d in dists if d.name.startswith("App-")]
    cpan_line = top50("cpan", cpan_source(httpserver, client, dists), CPAN_TRUTH, old_cpan)
    assert cargo_line == (
        "cargo: 50/50 of the top 50 queued are real tools; dropped: 6 a cargo subcommand, 16 a library;"
        " before the fix: 18/50 of the top 50 queued were tools named by their command"
    )
    # the five that are not: libraries' helper scripts (moose-outdated, dbicadmin, config_data,
    # l4p-tmpl, instmodsh), which an executables check cannot tell from a tool
    assert cpan_line == (
        "cpan: 24/29 of the top 29 queued are real tools; dropped: 21 a library;"
        " before the fix: 2/4 of the top 4 queued were tools named by their command"
    )


# --- one package failing drops that package only ------------------------------------------------


def test_cargo_a_missing_version_drops_that_crate_only(httpserver: HTTPServer, client: HttpClient) -> None:
    crates = [
        Crate("ripgrep", 9, "14.1.1", ["rg"]),
        Crate("gone", 8, "1.0.0", ["gone"]),
        Crate("sd", 7, "1.0.0", ["sd"]),
    ]
    httpserver.expect_request("/api/v1/crates/gone/1.0.0").respond_with_response(
        missing_version("gone", "1.0.0")
    )
    source = cargo_source(httpserver, client, crates)
    assert [c.name for c in source.fetch()] == ["rg", "sd"]
    [drop] = source.dropped
    assert drop.name == "gone" and drop.reason.startswith("api_error/not_found")


@pytest.mark.parametrize(
    ("version", "field"),
    [
        ({"bin_names": "rg"}, "$.version.bin_names"),
        ({"bin_names": ["rg"], "has_lib": "yes"}, "$.version.has_lib"),
    ],
)
def test_cargo_bad_targets_name_the_field(
    httpserver: HTTPServer, client: HttpClient, version: dict[str, object], field: str
) -> None:
    odd = {"version": {"num": "1.0.0", "yanked": False, "has_lib": False} | version}
    httpserver.expect_request("/api/v1/crates/odd/1.0.0").respond_with_json(odd)
    source = cargo_source(
        httpserver, client, [Crate("odd", 9, "1.0.0", ["odd"]), Crate("sd", 7, "1.0.0", ["sd"])]
    )
    assert [c.name for c in source.fetch()] == ["sd"]
    [drop] = source.dropped
    assert drop.name == "odd" and drop.reason.startswith("api_error/bad_response") and field in drop.reason


def test_cargo_an_unreadable_crate_drops_that_crate_only(httpserver: HTTPServer, client: HttpClient) -> None:
    broken = Crate("broken", 9, "1.0.0", None, files={"src/main.rs": ""})  # no Cargo.toml
    source = cargo_source(httpserver, client, [broken, Crate("sd", 7, "1.0.0", ["sd"])])
    assert [c.name for c in source.fetch()] == ["sd"]
    [drop] = source.dropped
    assert drop.name == "broken" and "broken-1.0.0.crate: no broken-1.0.0/Cargo.toml" in drop.reason


def test_cargo_a_row_without_a_version_is_dropped_naming_the_field(
    httpserver: HTTPServer, client: HttpClient
) -> None:
    row = crate_row(Crate("old", 9, "1.0.0", ["old"])) | {"default_version": None, "max_stable_version": None}
    httpserver.expect_request("/api/v1/crates").respond_with_json(
        {"crates": [row], "meta": {"next_page": None}}
    )
    source = CargoSource(client, httpserver.url_for("/api/v1"), DEFAULT_SETTINGS["cargo"])
    assert source.fetch() == ()
    [drop] = source.dropped
    assert (
        drop.name == "old" and "$.crates[0].default_version: expected a string, got NoneType" in drop.reason
    )


def test_cargo_scan_limit_bounds_the_crates_examined(httpserver: HTTPServer, client: HttpClient) -> None:
    crates = [c for c, _ in CARGO]
    source = cargo_source(httpserver, client, crates, scan_limit=20)
    got = source.fetch()
    assert [c.name for c in got] == ["rg", "diesel", "bat"]  # 20 examined: 17 dropped
    assert len(source.dropped) == 17


def test_cargo_command_names() -> None:
    assert cargo_mod.command_name("fd-find", ["fd"]) == "fd"
    assert cargo_mod.command_name("sqlx-cli", ["cargo-sqlx", "sqlx"]) == "sqlx"
    assert cargo_mod.command_name("cross", ["cross-util", "cross"]) == "cross"
    assert cargo_mod.command_name("cargo-make-ish", ["cargo-make"]) is None


def test_cpan_a_missing_release_drops_that_distribution_only(
    httpserver: HTTPServer, client: HttpClient
) -> None:
    httpserver.expect_request("/v1/release/Gone").respond_with_response(
        Response('{"code":404,"message":"Not found"}', 404, content_type="application/json")
    )
    dists = [_dist("Gone", 9, ["bin/gone"]), _dist("Carton", 5, ["script/carton"])]
    source = cpan_source(httpserver, client, dists)
    assert [c.name for c in source.fetch()] == ["carton"]
    [drop] = source.dropped
    assert drop.name == "Gone" and drop.reason.startswith("api_error/not_found")


def test_cpan_a_hostile_release_is_dropped_before_the_search(
    httpserver: HTTPServer, client: HttpClient
) -> None:
    hostile = {"name": 'x" OR release:*', "author": "EVIL", "distribution": "Evil"}
    httpserver.expect_request("/v1/release/Evil").respond_with_json(hostile)
    source = cpan_source(
        httpserver, client, [_dist("Evil", 9, ["bin/evil"]), _dist("Carton", 5, ["script/carton"])]
    )
    assert [c.name for c in source.fetch()] == ["carton"]
    [drop] = source.dropped
    assert drop.name == "Evil" and "at $.name or $.author" in drop.reason
    searches = [req.args["q"] for req, _ in httpserver.log if req.path == "/v1/file/_search"]
    assert searches == [
        'release:"Carton-1.0" AND author:EXAMPLE AND directory:false AND (level:0 OR level:1)'
    ]


def test_cpan_a_hit_without_a_path_names_the_field(httpserver: HTTPServer, client: HttpClient) -> None:
    answer = {
        "hits": {"total": {"value": 1, "relation": "eq"}, "hits": [{"_id": "x", "_source": {"mime": None}}]}
    }
    httpserver.expect_request(
        "/v1/file/_search",
        query_string={
            "q": 'release:"Odd-1.0" AND author:EXAMPLE AND directory:false AND (level:0 OR level:1)',
            "_source": "path,mime",
            "size": "500",
        },
    ).respond_with_json(answer)
    source = cpan_source(
        httpserver, client, [_dist("Odd", 9, ["bin/odd"]), _dist("Carton", 5, ["script/carton"])]
    )
    assert [c.name for c in source.fetch()] == ["carton"]
    [drop] = source.dropped
    assert drop.name == "Odd" and "at $.hits.hits[0]._source.path: expected a string" in drop.reason


def test_cpan_a_bad_leaderboard_item_is_dropped(httpserver: HTTPServer, client: HttpClient) -> None:
    bad = ({"key": "App-", "doc_count": 3}, {"key": "Moo", "doc_count": "many"})
    serve_metacpan(httpserver, [_dist("Carton", 5, ["script/carton"])], extra=bad)
    source = CpanSource(client, httpserver.url_for("/v1"), DEFAULT_SETTINGS["cpan"])
    assert [c.name for c in source.fetch()] == ["carton"]
    [key, count] = source.dropped
    assert key.name.endswith("$.leaderboard[1]") and key.reason == "at .key: expected a distribution name"
    assert count.name == "Moo" and count.reason.endswith(
        "$.leaderboard[2].doc_count: expected a whole number >= 0"
    )


def test_cpan_command_names() -> None:
    assert cpan_mod.command_name("App-cpanminus", ["cpanm"]) == "cpanm"
    assert cpan_mod.command_name("Mojolicious", ["hypnotoad", "mojo", "morbo"]) == "mojo"
    assert cpan_mod.command_name("Perl-Critic", ["perlcritic"]) == "perlcritic"
    assert cpan_mod.command_name("Plack", ["plackup"]) == "plackup"
    assert cpan_mod.command_name("Template-Toolkit", ["tpage", "ttree"]) == "tpage"
    assert cpan_mod.command_name("Dist-Zilla", ["dzil"]) == "dzil"
    assert cpan_mod.command_name("App-Xy", ["a", "xy"]) == "xy"


def test_cpan_script_rules() -> None:
    files: list[tuple[str, str | None]] = [
        ("bin/x.PL", "text/x-script.perl"),
        ("bin/x.bat", "text/plain"),
        ("script/.hidden", None),
        ("ack", "text/x-script.perl"),
        ("configure", None),
        ("dbiprof.PL", "text/x-script.perl"),
        ("lib/App/Ack.pm", "application/x-perl"),
        ("script/sub/deep", "text/x-script.perl"),
    ]
    assert script_names(sorted(files)) == ["ack", "x"]
