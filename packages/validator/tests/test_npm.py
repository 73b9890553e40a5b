"""npm_install with the real npm and the local registry: install scripts, failure messages, versions.

tsuku's ``npm_install`` installs with ``ignore_scripts``, so the validator runs no install script
either: ``npmhook``'s postinstall (it leaves a marker, then fails as a native build without a
compiler does) must not run, and the recipe passes as it would for tsuku's users. The same
package installed by npm with scripts, outside the validator, gives the real failure output that
``npm_cause`` must read: the package, its script and the script's own error, not npm's
``command failed``.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from validator_helpers import HOOK_MARKER, npm_recipe

from recipeline_schema import RecipeResult, parse_environment
from recipeline_schema.models import DiscoveredVerify
from recipeline_validator import (
    Isolation,
    Limits,
    NativeOptions,
    RecipeInput,
    RunSettings,
    find_npm_tools,
    validate_all,
)
from recipeline_validator.npm import npm_cause
from recipeline_validator.probes import ProbeRun, output_verify

ENV = parse_environment("linux-debian-glibc-x86_64")
NOW = dt.datetime(2026, 1, 29, 10, 0, tzinfo=dt.UTC)
TOOLS = find_npm_tools()
needs_npm = pytest.mark.skipif(TOOLS is None, reason="npm or node not found on PATH")
#: The validated recipes by name, and the directory their prefixes were kept in.
Results = tuple[dict[str, RecipeResult], Path]
HOOK_CAUSE = "hook: cannot find a C++ compiler to build the addon"


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory, npm_registry: str, isolation: Isolation) -> Results:
    """``npmhook`` and ``npmwrap`` validated once by the native backend; the kept prefixes' root."""
    if TOOLS is None:
        pytest.skip("npm or node not found on PATH")
    work = tmp_path_factory.mktemp("npm-prefixes")
    options = NativeOptions(
        isolation=isolation,
        limits=Limits(timeout=10, install_timeout=120),
        caller_env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path_factory.mktemp("npm-home"))},
        npm_registry=npm_registry,
    )
    settings = RunSettings(native=options, workers=2, work_root=work, keep_prefixes=True, now=lambda: NOW)
    items = [
        RecipeInput(
            name,
            f"npm:{name}",
            npm_recipe(name, name, [name], f"{name} --version", "{version}"),
            f"{name}.toml",
        )
        for name in ("npmhook", "npmwrap")
    ]
    return {r.name: r for r in validate_all(items, ENV, settings)}, work


def test_no_install_script_runs_as_with_tsukus_npm_install(results: Results) -> None:
    found, work = results
    result = found["npmhook"]
    assert result.outcome == "pass", result.failure
    # its manifest declares no engines: npm view answers the latest's version as a bare string
    assert (result.installed_version, result.latest_version) == ("1.1.0", "1.1.0")
    (prefix,) = work.glob("recipeline-npmhook-*")
    package = prefix / "npm" / "lib" / "node_modules" / "npmhook"
    assert (package / "hook.js").is_file()
    assert not (package / HOOK_MARKER).exists()


def test_a_tool_printing_its_librarys_version_gets_output_mode(results: Results) -> None:
    """npmwrap 4.0.2 prints 5.0.5 on --version, the installed version of its dependency
    npmengine: not a mismatch but a tool without a version of its own (its --help shows it runs)."""
    result = results[0]["npmwrap"]
    assert result.outcome == "pass", result.failure
    assert result.installed_version == "4.0.2"
    assert result.verify == DiscoveredVerify(
        command="npmwrap --help",
        pattern="npmwrap",
        mode="output",
        reason="prints no version of its own (`npmwrap --version` prints 5.0.5, its library npmengine's); "
        "`npmwrap --help` shows it runs",
    )


@needs_npm
def test_a_failing_install_script_is_named_with_its_own_error(tmp_path: Path, npm_registry: str) -> None:
    """npm 11's real output for a script that failed: ``command failed`` is npm's first line,
    the script and its error follow; the cause names all of them."""
    assert TOOLS is not None
    done = subprocess.run(
        [
            TOOLS.npm, "install", "--global", "--prefix", str(tmp_path / "p"), "--cache", str(tmp_path / "c"),
            "--registry", npm_registry, "--userconfig", str(tmp_path / "none.rc"),
            "--no-audit", "--no-fund", "--loglevel=error", "npmhook",
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr  # the script's own exit code: it ran
    assert "command failed" in done.stderr
    assert npm_cause(done.stderr) == f"install script of npmhook (`node hook.js`) exited 3: {HOOK_CAUSE}"


#: npm 10's shape (``npm ERR!``) for a dependency's script, a node program that crashed.
NPM10_NESTED = """\
npm ERR! code 1
npm ERR! path /p/npm/lib/node_modules/artillery/node_modules/@playwright/browser-chromium
npm ERR! command failed
npm ERR! command sh -c node install.js
npm ERR! Error: getaddrinfo EAI_AGAIN cdn.example.invalid
npm ERR!     at GetAddrInfoReqWrap.onlookupall [as oncomplete] (node:internal/dns/promises:99:17) {
npm ERR!   errno: -3001,
npm ERR! }
npm ERR! Error: Failed to download Chromium, caused by
npm ERR!     at ChildProcess.<anonymous> (/p/coreBundle.js:33774:32)
npm ERR!
npm ERR! Node.js v20.20.2

npm ERR! A complete log of this run can be found in: /root/.npm/_logs/2026-01-29T10_00_00_000Z-debug-0.log
"""


@pytest.mark.parametrize(
    ("output", "cause"),
    [
        (
            NPM10_NESTED,
            "install script of @playwright/browser-chromium (`node install.js`) exited 1: "
            "Error: Failed to download Chromium, caused by",
        ),
        (
            "npm error code 137\nnpm error path /p/npm/lib/node_modules/tool\nnpm error command failed\n"
            "npm error command sh -c node-gyp rebuild\nnpm error Killed\n",
            "install script of tool (`node-gyp rebuild`) exited 137: Killed",
        ),
        (
            "npm error path /p/npm/lib/node_modules/tool\nnpm error signal SIGKILL\n"
            "npm error command failed\nnpm error command sh -c node hook.js\n",
            "install script of tool (`node hook.js`) was killed by SIGKILL: (no message)",
        ),
        (  # not a script: npm's first line that says what, not where
            "npm error code ENOTCACHED\nnpm error request to http://r.invalid/x failed: cache mode is "
            "'only-if-cached' but no cached response is available.\nnpm error A complete log of this run "
            "can be found in: /l.log\n",
            "request to http://r.invalid/x failed: cache mode is 'only-if-cached' but no cached response is "
            "available.",
        ),
        ("npm ERR! code E404\nnpm ERR! 404 Not Found - GET http://r.invalid/nope - Not found\n",
         "404 Not Found - GET http://r.invalid/nope - Not found"),
        ("", "(no message)"),
    ],
)  # fmt: skip
def test_npm_cause_reads_npm_10_and_11_output(output: str, cause: str) -> None:
    assert npm_cause(output) == cause


def test_a_stated_version_that_no_library_has_stays_a_mismatch() -> None:
    """The control of npmwrap: the same probes, but 5.0.5 is no library's version."""
    tried = [ProbeRun("t --version", 0, "5.0.5\n"), ProbeRun("t -V", 2, "Unknown option: -V")]
    helped = ProbeRun("t --help", 0, "Usage: t [input]\n")
    assert output_verify(helped, "t", tried, [("engine", "5.0.4")]) is None
    assert output_verify(helped, "t", tried) is None
    chosen = output_verify(helped, "t", tried, [("engine", "5.0.5")])
    assert chosen is not None and chosen.mode == "output" and "its library engine's" in chosen.reason
