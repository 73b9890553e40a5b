"""The native backend end to end: real pip, real venvs, real sandboxed commands.

One module-scoped run validates every scenario in parallel (installs take seconds each); the
tests then look at their own recipe's result and at the kept prefixes' logs.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from validator_helpers import PIP_ISOLATED_ENV, LoopbackServer, Wheelhouse, recipe_toml

from recipeline_schema import RecipeResult, parse_environment
from recipeline_validator import (
    Isolation,
    Limits,
    NativeOptions,
    PipSource,
    RecipeInput,
    RunSettings,
    validate_all,
)

ENV = parse_environment("linux-debian-glibc-x86_64")
NOW = dt.datetime(2026, 1, 29, 10, 0, tzinfo=dt.UTC)
VERIFY_TIMEOUT = 4.0
SECRET = "sekrit-token-value-1234"


@dataclass
class Run:
    results: dict[str, RecipeResult]
    work: Path


def _scenarios(port: int) -> dict[str, str]:
    return {
        # oktool also prints its environment, so the test can see what the sandbox passed in
        "ok": recipe_toml("ok", "okpkg", ["oktool"], "oktool", pattern="oktool {version}"),
        "broken": recipe_toml("broken", "brokenpkg", ["brokentool"], "brokentool", pattern="{version}"),
        "liar": recipe_toml("liar", "liarpkg", ["liar"], "liar --version", pattern="liar {version}"),
        "sleepy": recipe_toml("sleepy", "sleepypkg", ["sleepy"], "sleepy", pattern="{version}"),
        "missing-exe": recipe_toml("missing-exe", "okpkg", ["oktool", "missing-tool"], "oktool"),
        "quiet": recipe_toml("quiet", "quietpkg", ["quiet"], "quiet", pattern="{version}", mode="output"),
        "net": recipe_toml("net", "netpkg", ["nettool"], f"nettool {port}", pattern=""),
    }


@pytest.fixture(scope="module")
def run(
    tmp_path_factory: pytest.TempPathFactory,
    wheelhouse: Wheelhouse,
    isolation: Isolation,
    loopback_server: LoopbackServer,
) -> Run:
    """Validate every scenario once, in parallel, keeping the prefixes under ``work``."""
    work = tmp_path_factory.mktemp("prefixes")
    options = NativeOptions(
        isolation=isolation,
        limits=Limits(timeout=VERIFY_TIMEOUT, install_timeout=120),
        source=PipSource(find_links=(str(wheelhouse.path),)),
        caller_env={**PIP_ISOLATED_ENV, "GITHUB_TOKEN": SECRET},
    )
    settings = RunSettings(
        native=options, workers=os.cpu_count() or 2, work_root=work, keep_prefixes=True, now=lambda: NOW
    )
    items = [
        RecipeInput(name, f"pypi:{name}pkg", text, f"{name}.toml")
        for name, text in _scenarios(loopback_server.port).items()
    ]
    results = validate_all(items, ENV, settings)
    assert [r.name for r in results] == [i.name for i in items], "results keep the input order"
    return Run({r.name: r for r in results}, work)


def _prefix(run: Run, name: str) -> Path:
    (prefix,) = run.work.glob(f"recipeline-{name}-*")
    return prefix


def test_a_good_recipe_passes_with_the_installed_version(run: Run) -> None:
    result = run.results["ok"]
    assert result.outcome == "pass", result
    assert result.failure is None
    assert "okpkg 1.2.3" in result.reason
    assert result.safety.auto_merge is True
    assert result.duration_seconds > 0


def test_the_verify_command_runs_in_a_clean_environment(run: Run) -> None:
    prefix = _prefix(run, "ok")
    log = (prefix / "logs" / "verify.log").read_text()
    env = dict(
        line.removeprefix("env ").split("=", 1) for line in log.splitlines() if line.startswith("env ")
    )
    assert SECRET not in log
    assert set(env) <= {"PATH", "HOME", "LANG", "TMPDIR", "PWD", "SHLVL", "_"}, env  # sh adds PWD/SHLVL/_
    assert env["PATH"] == f"{prefix / 'bin'}:/usr/bin:/bin"
    assert env["HOME"] == str(prefix / "home")
    assert env["TMPDIR"] == str(prefix / "tmp")
    assert env["LANG"] == "C.UTF-8"
    assert (prefix / "bin" / "oktool").is_symlink()


def test_a_missing_dependency_is_an_install_failure_with_pips_cause(run: Run) -> None:
    result = run.results["broken"]
    assert result.outcome == "fail"
    assert result.failure is not None
    assert (result.failure.category, result.failure.subcategory) == ("validation_failed", "install_failed")
    assert "recipeline-no-such-dependency" in result.failure.message
    assert result.failure.message.startswith("pip download brokenpkg: No matching distribution")
    assert "Looking in" not in result.failure.message
    assert result.failure.timestamp == NOW


def test_a_wrong_version_is_a_pattern_mismatch_showing_pattern_and_output(run: Run) -> None:
    failure = run.results["liar"].failure
    assert failure is not None
    assert failure.subcategory == "verify_pattern_mismatch"
    assert "'liar 2.0.0'" in failure.message  # the pattern with {version} replaced
    assert "'liar 9.9.9'" in failure.message  # the first line of output


def test_a_hanging_verify_command_times_out_and_is_killed(run: Run) -> None:
    result = run.results["sleepy"]
    assert result.failure is not None
    assert result.failure.subcategory == "verify_timeout"
    assert f"{VERIFY_TIMEOUT:g}s" in result.failure.message
    assert result.duration_seconds < 60  # the tool sleeps 120 s


def test_a_missing_executable_is_named(run: Run) -> None:
    failure = run.results["missing-exe"].failure
    assert failure is not None
    assert failure.subcategory == "install_failed"
    assert "'missing-tool'" in failure.message
    assert "oktool" in failure.message  # what the package did install


def test_mode_output_ignores_the_pattern(run: Run) -> None:
    result = run.results["quiet"]
    assert result.outcome == "pass", result.failure
    assert "mode output" in result.reason


def test_the_verify_command_cannot_reach_the_network(
    run: Run, isolation: Isolation, loopback_server: LoopbackServer
) -> None:
    if not isolation.cuts_network:
        pytest.skip(f"network isolation unavailable here: {isolation.description}")
    result = run.results["net"]
    assert result.outcome == "fail", "a sandboxed command reached a loopback server outside the sandbox"
    assert result.failure is not None
    assert result.failure.subcategory == "verify_pattern_mismatch"  # it ran, and exited non-zero
    assert "cannot connect" in result.failure.message
    assert loopback_server.accepted == []


def test_the_loopback_server_is_reachable_without_the_sandbox(loopback_server: LoopbackServer) -> None:
    """Control for the test above: the server really accepts connections from outside."""
    import socket

    socket.create_connection(("127.0.0.1", loopback_server.port), timeout=3).close()
    for _ in range(50):
        if loopback_server.accepted:
            break
        import time

        time.sleep(0.05)
    assert loopback_server.accepted
    loopback_server.accepted.clear()
