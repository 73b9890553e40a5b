"""``cpan_install`` end to end: distributions built here with tarfile, a MetaCPAN-shaped API and a
CPAN mirror served on loopback, real ``cpanm`` (and ``make``, ``cc`` for XS) in the sandbox.

The server answers what the runner reads: ``/v1/release/<Dist>`` and ``/v1/download_url/<Module>``
(``download_url``, ``version``, ``checksum_sha256``) and ``/authors/id/L/LO/LOCAL/<tarball>``.
One module-scoped run validates every scenario in parallel.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from registries.cpan import Dist, pack
from registries.cpan import makefile_pl as _makefile_pl
from registries.cpan import perl_module as _module
from validator_helpers import LoopbackServer

from recipeline_schema import Recipe, RecipeResult, Step, Verify, parse_environment, recipe_to_toml
from recipeline_validator import Isolation, Limits, NativeOptions, RecipeInput, RunSettings, validate_all
from recipeline_validator.cpan import cpanm_cause

ENV = parse_environment("linux-debian-glibc-x86_64")
NOW = dt.datetime(2026, 1, 29, 10, 0, tzinfo=dt.UTC)
SECRET = "sekrit-token-value-1234"
MISSING_TOOLS = [name for name in ("perl", "cpanm", "make", "cc") if shutil.which(name) is None]

pytestmark = pytest.mark.skipif(
    bool(MISSING_TOOLS), reason=f"cpan_install tests need {', '.join(MISSING_TOOLS)} (.ci/run installs them)"
)


SCRIPT = """
    #!/usr/bin/perl
    use strict;
    use Tiny::Lib;
    print Tiny::Lib::banner('{name}', {shown}), "\\n";
"""


def tool(
    name: str,
    script_at: str,
    *,
    shown: str | None = None,
    version: str = "1.0",
    hostile: tarfile.TarInfo | None = None,
) -> Dist:
    """A tool distribution whose script (at ``script_at``) prints ``<exe> <version>`` through Tiny::Lib."""
    module = name.replace("-", "::")
    exe = Path(script_at).name
    requires = {"Tiny::Lib": "1.0", "File::Spec": "0"}  # File::Spec is core: never fetched
    printed = f"'{shown}'" if shown else f"${module}::VERSION"
    files = {
        "Makefile.PL": _makefile_pl(module, [script_at], requires),
        f"lib/{module.replace('::', '/')}.pm": _module(module, version),
        script_at: SCRIPT.format(name=exe, shown=printed).replace(
            "use Tiny::Lib;", f"use Tiny::Lib;\nuse {module};"
        ),
    }
    return Dist(name, version, files, requires=requires, hostile=hostile)


XS_PM = """
    package XS::Tool;
    our $VERSION = '1.5';
    require XSLoader;
    XSLoader::load('XS::Tool', $VERSION);
    1;
"""
XS_C = """
    #include "EXTERN.h"
    #include "perl.h"
    #include "XSUB.h"

    MODULE = XS::Tool  PACKAGE = XS::Tool

    const char *
    from_c()
        CODE:
            RETVAL = "1.5";
        OUTPUT:
            RETVAL
"""

XS_SCRIPT = """
    #!/usr/bin/perl
    use XS::Tool;
    print 'xstool ', XS::Tool::from_c(), "\\n";
"""


def _reaching(port: int) -> Dist:
    """A distribution whose Makefile.PL tries to reach a loopback server (and dies if it can)."""
    dist = tool("Net-Tool", "bin/nettool")
    dist.files["Makefile.PL"] = (
        "use IO::Socket::INET;\n"
        f"my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => {port}, Timeout => 3);\n"
        f'die "Net-Tool reached 127.0.0.1:{port} while configuring\\n" if $s;\n'
        'print "cannot connect: $@\\n";\n'
    ) + dist.files["Makefile.PL"]
    return dist


def _multi() -> list[Dist]:
    """Multi-Lib 1.0 ships Multi::Part 3.5; Multi-Tool needs Multi::Part 3.0 (above the release's)."""
    part = _module("Multi::Part", "3.5", 'sub banner { "$_[0] $_[1]" }\n')
    lib = Dist(
        "Multi-Lib",
        "1.0",
        {
            "Makefile.PL": _makefile_pl("Multi::Lib", [], {}),
            "lib/Multi/Lib.pm": _module("Multi::Lib", "1.0"),
            "lib/Multi/Part.pm": part,
        },
        provides=("Multi::Lib", "Multi::Part"),
        module_versions={"Multi::Part": "3.5"},
    )
    script = (
        "#!/usr/bin/perl\nuse Multi::Part 3.0;\nprint Multi::Part::banner('multitool', '1.0'), \"\\n\";\n"
    )
    tool = Dist(
        "Multi-Tool",
        "1.0",
        {
            "Makefile.PL": _makefile_pl("Multi::Tool", ["bin/multitool"], {"Multi::Part": "3.0"}),
            "lib/Multi/Tool.pm": _module("Multi::Tool", "1.0"),
            "bin/multitool": script,
        },
        requires={"Multi::Part": "3.0"},
    )
    return [lib, tool]


def _dists(port: int) -> list[Dist]:
    traversal = tarfile.TarInfo("Evil-Tool-1.0/../../escaped.txt")
    traversal.size = len(b"owned\n")
    link = tarfile.TarInfo("Link-Tool-1.0/lib/passwd")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    broken = tool("Broken-Tool", "bin/brokentool")
    broken.files["Makefile.PL"] = 'die "Broken-Tool refuses to configure here\\n";\n'
    return [
        Dist(
            "Tiny-Lib",
            "1.0",
            {
                "Makefile.PL": _makefile_pl("Tiny::Lib", [], {}),
                "lib/Tiny/Lib.pm": _module("Tiny::Lib", "1.0", 'sub banner { "$_[0] $_[1]" }\n'),
            },
            provides=("Tiny::Lib",),
        ),
        tool("Tiny-Tool", "bin/tinytool"),
        tool("Root-Tool", "roottool", version="2.0"),  # a script at the root, installed by EXE_FILES
        tool("Liar-Tool", "bin/liartool", shown="9.9.9"),
        broken,
        tool("Badsum-Tool", "bin/badsumtool"),
        tool("Evil-Tool", "bin/eviltool", hostile=traversal),
        tool("Link-Tool", "bin/linktool", hostile=link),
        _reaching(port),
        *_multi(),
        Dist(
            "Future-Tool",
            "1.0",
            {
                "Makefile.PL": _makefile_pl("Future::Tool", [], {}),
                "lib/Future/Tool.pm": _module("Future::Tool", "1.0"),
            },
            requires={"perl": "5.999"},
        ),
        Dist(
            "XS-Tool",
            "1.5",
            {
                "Makefile.PL": _makefile_pl("XS::Tool", ["bin/xstool"], {}),
                "lib/XS/Tool.pm": XS_PM,
                "Tool.xs": XS_C,
                "bin/xstool": XS_SCRIPT,
            },
        ),
    ]


@dataclass
class Cpan:
    url: str
    server: HTTPServer


@pytest.fixture(scope="module")
def mini_cpan(loopback_server: LoopbackServer) -> Iterator[Cpan]:
    """The distributions as a MetaCPAN-shaped API plus a CPAN mirror, on loopback."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    base = server.url_for("/").rstrip("/")
    for dist in _dists(loopback_server.port):
        data = pack(dist)
        server.expect_request(f"/authors/id/{dist.path}").respond_with_data(
            data, content_type="application/x-gzip"
        )
        sha = "0" * 64 if dist.name == "Badsum-Tool" else hashlib.sha256(data).hexdigest()
        doc = {
            "download_url": f"{base}/authors/id/{dist.path}",
            "version": dist.version,
            "checksum_sha256": sha,
        }
        server.expect_request(f"/v1/release/{dist.name}").respond_with_json(
            doc | {"name": dist.release, "distribution": dist.name, "author": "LOCAL"}
        )
        for module in dist.provides:
            server.expect_request(f"/v1/download_url/{module}").respond_with_json(
                doc | {"release": dist.release, "status": "latest"}
            )
    server.expect_request("/v1/release/No-Such-Dist").respond_with_json({"message": "Not found"}, status=404)
    server.expect_request("/v1/release/Down-Dist").respond_with_data("down", status=500)
    server.expect_request("/v1/release/Garbage-Dist").respond_with_json(
        {"name": "Garbage-Dist-1.0", "download_url": "https://elsewhere.invalid/x.tar.gz"}
    )
    yield Cpan(base, server)
    server.clear()
    if server.is_running():
        server.stop()


def cpan_recipe(
    name: str,
    dist: str,
    executables: tuple[str, ...],
    command: str,
    pattern: str,
    *,
    module: str | None = None,
) -> str:
    """A cpan_install recipe of the generator's shape (written by the schema's TOML writer)."""
    params: dict[str, object] = {"distribution": dist}
    if module is not None:
        params["module"] = module
    return recipe_to_toml(
        Recipe(
            name=name,
            description="test tool",
            homepage=f"https://metacpan.org/dist/{dist}",
            steps=(Step("cpan_install", params | {"executables": executables}),),
            verify=Verify(command=command, pattern=pattern),
        )
    )


SCENARIOS = {
    "tinytool": cpan_recipe(
        "tinytool", "Tiny-Tool", ("tinytool",), "tinytool --version", "tinytool {version}"
    ),
    "roottool": cpan_recipe(
        "roottool", "Root-Tool", ("roottool",), "roottool", "roottool {version}", module="Root::Tool"
    ),
    "xstool": cpan_recipe("xstool", "XS-Tool", ("xstool",), "xstool", "xstool {version}"),
    "net": cpan_recipe("net", "Net-Tool", ("nettool",), "nettool", "nettool {version}"),
    "future": cpan_recipe("future", "Future-Tool", ("futuretool",), "futuretool", "{version}"),
    "multi": cpan_recipe("multi", "Multi-Tool", ("multitool",), "multitool", "multitool {version}"),
    "liar": cpan_recipe("liar", "Liar-Tool", ("liartool",), "liartool", "liartool {version}"),
    "missing-exe": cpan_recipe("missing-exe", "Tiny-Tool", ("tinytool", "nope"), "tinytool", ""),
    "broken": cpan_recipe("broken", "Broken-Tool", ("brokentool",), "brokentool", "{version}"),
    "badsum": cpan_recipe("badsum", "Badsum-Tool", ("badsumtool",), "badsumtool", "{version}"),
    "evil": cpan_recipe("evil", "Evil-Tool", ("eviltool",), "eviltool", "{version}"),
    "link": cpan_recipe("link", "Link-Tool", ("linktool",), "linktool", "{version}"),
    "missing": cpan_recipe("missing", "No-Such-Dist", ("nosuch",), "nosuch", "{version}"),
    "down": cpan_recipe("down", "Down-Dist", ("down",), "down", "{version}"),
    "garbage": cpan_recipe("garbage", "Garbage-Dist", ("garbage",), "garbage", "{version}"),
}


@dataclass
class Run:
    results: dict[str, RecipeResult]
    work: Path


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, mini_cpan: Cpan, isolation: Isolation) -> Run:
    """Validate every scenario once, in parallel, keeping the prefixes."""
    work = tmp_path_factory.mktemp("cpan-prefixes")
    options = NativeOptions(
        isolation=isolation,
        limits=Limits(timeout=20, install_timeout=180),
        caller_env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "RECIPELINE_CPAN_URL": f"{mini_cpan.url}/v1",
            "RECIPELINE_CPAN_MIRROR_URL": mini_cpan.url,
            "RECIPELINE_RATE_LIMIT_CPAN": "1000/1",
            "PERL5LIB": "/nowhere/from-the-caller",
            "PAUSE_TOKEN": SECRET,
        },
        npm_tools=None,
    )
    settings = RunSettings(native=options, workers=6, work_root=work, keep_prefixes=True, now=lambda: NOW)
    items = [RecipeInput(name, f"cpan:{name}", text, f"{name}.toml") for name, text in SCENARIOS.items()]
    results = validate_all(items, ENV, settings)
    return Run({r.name: r for r in results}, work)


def _prefix(run: Run, name: str) -> Path:
    (prefix,) = run.work.glob(f"recipeline-{name}-*")
    return prefix


def _failure(run: Run, name: str) -> tuple[str, str | None, str]:
    result = run.results[name]
    assert result.outcome == "fail", result
    assert result.failure is not None
    return result.failure.category, result.failure.subcategory, result.failure.message


def test_a_distribution_with_a_dependency_installs_offline_and_passes(run: Run) -> None:
    result = run.results["tinytool"]
    assert result.outcome == "pass", result.failure
    assert (result.installed_version, result.latest_version) == ("1.0", "1.0")
    assert set(result.toolchain) >= {"perl", "cpanm"}
    prefix = _prefix(run, "tinytool")
    assert (prefix / "perl5" / "lib" / "perl5" / "Tiny" / "Lib.pm").is_file()  # fetched, installed offline
    tarballs = sorted(p.name for p in (prefix / "mirror" / "authors" / "id").rglob("*.tar.gz"))
    assert tarballs == ["Tiny-Lib-1.0.tar.gz", "Tiny-Tool-1.0.tar.gz"]  # File::Spec is core: not fetched
    assert (prefix / "bin" / "tinytool").is_symlink()


def test_the_wrapper_runs_from_anywhere(run: Run) -> None:
    """The bin wrapper sets PERL5LIB itself: an empty environment, another directory."""
    prefix = _prefix(run, "tinytool")
    done = subprocess.run(
        [str(prefix / "bin" / "tinytool")],
        env={},
        cwd="/",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "tinytool 1.0"), done.stderr


def test_a_module_versioned_apart_from_its_release_satisfies_its_requirement(run: Run) -> None:
    """The mini CPAN's index gives Multi::Part its own version (3.5, from META provides), not
    its release's (1.0), so cpanm accepts it for a 3.0 requirement."""
    result = run.results["multi"]
    assert result.outcome == "pass", result.failure
    index = gzip.decompress(
        (_prefix(run, "multi") / "mirror" / "modules" / "02packages.details.txt.gz").read_bytes()
    )
    assert "Multi::Part 3.5 L/LO/LOCAL/Multi-Lib-1.0.tar.gz" in index.decode()


def test_a_script_at_the_distribution_root_is_installed(run: Run) -> None:
    result = run.results["roottool"]
    assert result.outcome == "pass", result.failure
    assert result.installed_version == "2.0"
    assert (_prefix(run, "roottool") / "perl5" / "bin" / "roottool").is_file()


def test_an_xs_module_compiles_offline(run: Run) -> None:
    result = run.results["xstool"]
    assert result.outcome == "pass", result.failure
    assert list((_prefix(run, "xstool") / "perl5" / "lib" / "perl5").rglob("Tool.so"))


def test_a_makefile_pl_cannot_reach_the_network(
    run: Run, isolation: Isolation, loopback_server: LoopbackServer
) -> None:
    if not isolation.cuts_network:
        pytest.skip(f"network isolation unavailable here: {isolation.description}")
    result = run.results["net"]
    assert result.outcome == "pass", result.failure  # its Makefile.PL dies when it connects
    assert "cannot connect" in (_prefix(run, "net") / "logs" / "cpanm-1.log").read_text()
    assert loopback_server.accepted == []


def test_a_perl_too_old_for_the_release_is_the_environments_gap(run: Run) -> None:
    result = run.results["future"]
    assert result.outcome == "skipped", result
    assert "Future-Tool-1.0.tar.gz needs perl 5.999, this host has perl 5." in result.reason


def test_a_wrong_version_is_a_pattern_mismatch(run: Run) -> None:
    category, subcategory, message = _failure(run, "liar")
    assert (category, subcategory) == ("validation_failed", "verify_pattern_mismatch")
    assert "'liartool 1.0'" in message and "'liartool 9.9.9'" in message


def test_a_missing_executable_is_named(run: Run) -> None:
    _, subcategory, message = _failure(run, "missing-exe")
    assert subcategory == "install_failed"
    assert "'nope'" in message and "tinytool" in message


def test_a_makefile_pl_that_dies_is_an_install_failure_with_its_cause(run: Run) -> None:
    category, subcategory, message = _failure(run, "broken")
    assert (category, subcategory) == ("validation_failed", "install_failed")
    assert message.startswith("cpanm Broken-Tool-1.0: Configure failed for ")
    assert message.endswith("Configure failed for Broken-Tool-1.0: Broken-Tool refuses to configure here")


def test_a_checksum_mismatch_is_an_install_failure(run: Run) -> None:
    category, subcategory, message = _failure(run, "badsum")
    assert (category, subcategory) == ("validation_failed", "install_failed")
    assert "Badsum-Tool-1.0.tar.gz: checksum mismatch" in message and "0" * 64 in message
    assert not (_prefix(run, "badsum") / "perl5").exists()


@pytest.mark.parametrize(
    ("name", "member"), [("evil", "Evil-Tool-1.0/../../escaped.txt"), ("link", "Link-Tool-1.0/lib/passwd")]
)
def test_a_hostile_tarball_is_refused_before_cpanm_reads_it(run: Run, name: str, member: str) -> None:
    _, subcategory, message = _failure(run, name)
    assert subcategory == "install_failed"
    assert "unsafe archive" in message and repr(member) in message
    prefix = _prefix(run, name)
    assert not list(prefix.parent.rglob("escaped.txt"))
    assert not (prefix / "perl5").exists()  # cpanm never ran


@pytest.mark.parametrize(
    ("name", "subcategory", "expected"),
    [
        ("missing", "not_found", "release of No-Such-Dist: GET "),
        ("down", "upstream_unavailable", "release of Down-Dist: GET "),
        ("garbage", "bad_response", "is not a CPAN authors/id/ path"),
    ],
)
def test_registry_faults_are_api_errors(run: Run, name: str, subcategory: str, expected: str) -> None:
    category, got, message = _failure(run, name)
    assert (category, got) == ("api_error", subcategory)
    assert expected in message


def test_the_callers_perl_settings_and_secrets_stay_out(run: Run) -> None:
    for prefix in run.work.glob("recipeline-*"):
        for log in (prefix / "logs").iterdir():
            text = log.read_text(errors="replace")
            assert SECRET not in text and "/nowhere/from-the-caller" not in text, log


def test_a_missing_cpanm_skips_the_recipe(tmp_path: Path, isolation: Isolation) -> None:
    """perl without cpanm: the environment's gap, recorded as skipped with the reason."""
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "perl").symlink_to(shutil.which("perl") or "/usr/bin/perl")
    options = NativeOptions(
        isolation=isolation, caller_env={"PATH": str(tools)}, npm_tools=None, tool_path=str(tools)
    )
    settings = RunSettings(native=options, workers=1, work_root=tmp_path, now=lambda: NOW)
    item = RecipeInput("tinytool", "cpan:Tiny-Tool", SCENARIOS["tinytool"], "t.toml")
    (result,) = validate_all([item], ENV, settings)
    assert result.outcome == "skipped"
    assert "cpanm not found" in result.reason


def test_cpanm_cause_prefers_the_compiler_error() -> None:
    output = (
        "Building X-1.0\nx.c:3:5: error: expected ';'\nmake: *** [x.o] Error 1\n"
        "-> FAIL Installing X failed. See /h/build.log for details. Retry with --force.\n"
    )
    assert cpanm_cause(output) == "Installing X failed: x.c:3:5: error: expected ';'"


def test_every_scenario_was_validated(run: Run) -> None:
    """Control: no scenario was skipped (a skip would hide a missing toolchain as a non-failure)."""
    skipped = {name for name, r in run.results.items() if r.outcome == "skipped"}
    assert skipped == {"future"}
    assert sorted(run.results) == sorted(SCENARIOS)
