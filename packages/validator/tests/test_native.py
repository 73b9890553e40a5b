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
from validator_helpers import PIP_ISOLATED_ENV, LoopbackServer, Wheelhouse, npm_recipe, recipe_toml

from recipeline_schema import RecipeResult, parse_environment
from recipeline_validator import (
    Isolation,
    Limits,
    NativeOptions,
    PipSource,
    RecipeInput,
    RunSettings,
    cgroup,
    validate_all,
)
from recipeline_validator.sandbox import MIB

ENV = parse_environment("linux-debian-glibc-x86_64")
NOW = dt.datetime(2026, 1, 29, 10, 0, tzinfo=dt.UTC)
VERIFY_TIMEOUT = 5.0
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
        # npm_install: resolved with the network from the local registry, installed offline
        "npm-ok": npm_recipe("npm-ok", "npmtool", ["npmtool"], "npmtool --version", "npmtool {version}"),
        "npm-pinned": npm_recipe("npm-pinned", "npmtool@1.4.0", ["npmtool"], "npmtool", "{version}"),
        "npm-liar": npm_recipe("npm-liar", "npmliar", ["npmliar"], "npmliar", "npmliar {version}"),
        "npm-missing": npm_recipe("npm-missing", "npmmissing", ["npmmissing"], "npmmissing", "{version}"),
        "npm-missing-exe": npm_recipe("npm-missing-exe", "npmtool", ["npmtool", "nope"], "npmtool", ""),
        "npm-net": npm_recipe("npm-net", "npmnet", ["npmnet"], f"npmnet net {port}", ""),
    }


@pytest.fixture(scope="module")
def run(
    tmp_path_factory: pytest.TempPathFactory,
    wheelhouse: Wheelhouse,
    isolation: Isolation,
    loopback_server: LoopbackServer,
    npm_registry: str,
) -> Run:
    """Validate every scenario once, in parallel, keeping the prefixes under ``work``.

    npm's registry comes from its configuration (a user npmrc naming the local registry), as
    in production; pip's from ``--find-links``.
    """
    work = tmp_path_factory.mktemp("prefixes")
    home = tmp_path_factory.mktemp("home")
    npmrc = home / ".npmrc"
    npmrc.write_text(f"registry={npm_registry}\nfetch-retries=0\n", encoding="utf-8")
    options = NativeOptions(
        isolation=isolation,
        limits=Limits(timeout=VERIFY_TIMEOUT, install_timeout=120),
        source=PipSource(find_links=(str(wheelhouse.path),)),
        caller_env={
            **PIP_ISOLATED_ENV,
            "HOME": str(home),
            "npm_config_userconfig": str(npmrc),
            "GITHUB_TOKEN": SECRET,
            "npm_config__authToken": SECRET,
        },
    )
    settings = RunSettings(
        native=options, workers=2 * (os.cpu_count() or 2), work_root=work, keep_prefixes=True, now=lambda: NOW
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
    assert env["PATH"] == f"{prefix / 'bin'}:{prefix / 'base' / 'bin'}"  # no host directory
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
    assert result.failure.message.startswith("pip wheel brokenpkg: ERROR: No matching distribution")
    # the record keeps pip's whole cause (both ERROR lines), without its progress lines
    assert "Could not find a version that satisfies" in result.failure.detail
    assert "Processing" not in result.failure.detail and "Looking in" not in result.failure.detail
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


def test_a_verify_command_above_the_memory_limit_fails(
    tmp_path: Path, wheelhouse: Wheelhouse, isolation: Isolation
) -> None:
    """The tool allocates 2 GiB in 64 MiB blocks; the memory cgroup kills it at 512 MiB."""
    if "memory" not in cgroup.probe().controllers:
        pytest.skip(
            f"no memory cgroup here ({cgroup.probe().description}): RLIMIT_DATA makes "
            "the allocation fail inside the tool (test_sandbox covers that)"
        )
    options = NativeOptions(
        isolation=isolation,
        limits=Limits(timeout=30, install_timeout=120, memory_bytes=512 * MIB),
        source=PipSource(find_links=(str(wheelhouse.path),)),
        caller_env=PIP_ISOLATED_ENV,
        npm_tools=None,
    )
    settings = RunSettings(native=options, workers=1, work_root=tmp_path, now=lambda: NOW)
    hog = recipe_toml("hog", "hogpkg", ["hog"], "hog", pattern="")
    (result,) = validate_all([RecipeInput("hog", "pypi:hogpkg", hog, "hog.toml")], ENV, settings)
    failure = result.failure
    assert failure is not None
    assert (failure.category, failure.subcategory) == ("validation_failed", "resource_limit")
    assert failure.message == "verify command `hog` killed by the 512 MiB memory limit"
    assert result.installed_version == "1.0.0"


def test_an_npm_package_installs_offline_with_its_dependencies_and_passes(run: Run) -> None:
    for name in ("npm-ok", "npm-pinned"):
        result = run.results[name]
        assert result.outcome == "pass", result.failure
        assert "installed npmtool 1.4.0" in result.reason
    prefix = _prefix(run, "npm-ok")
    assert (prefix / "bin" / "npmtool").is_symlink()
    assert (prefix / "npm" / "lib" / "node_modules" / "npmtool" / "node_modules" / "npmhelper").is_dir()
    download_log = (prefix / "logs" / "npm-download-1.log").read_text()
    install_log = (prefix / "logs" / "npm-install-1.log").read_text()
    assert SECRET not in download_log + install_log


def test_npm_secrets_never_reach_npm(run: Run) -> None:
    """Phase 1 drops token-like npm_config_ variables; the sandbox passes no npm config at all."""
    from recipeline_validator.npm import npm_env

    env = npm_env(
        {"npm_config__authToken": SECRET, "npm_config_registry": "r", "GITHUB_TOKEN": SECRET}, Path("/p")
    )
    assert SECRET not in env.values()
    assert env["npm_config_registry"] == "r"


def test_an_npm_version_mismatch_is_a_pattern_mismatch(run: Run) -> None:
    failure = run.results["npm-liar"].failure
    assert failure is not None and failure.subcategory == "verify_pattern_mismatch"
    assert "'npmliar 2.0.0'" in failure.message and "'npmliar 9.9.9'" in failure.message


def test_an_npm_package_missing_from_the_registry_is_an_install_failure(run: Run) -> None:
    failure = run.results["npm-missing"].failure
    assert failure is not None and failure.subcategory == "install_failed"
    assert failure.message.startswith("npm install npmmissing: 404")
    assert "complete log" not in failure.message


def test_a_missing_npm_executable_is_named(run: Run) -> None:
    failure = run.results["npm-missing-exe"].failure
    assert failure is not None and failure.subcategory == "install_failed"
    assert "'nope'" in failure.message and "npmtool" in failure.message


def test_npm_tools_and_install_scripts_cannot_reach_the_network(
    run: Run, isolation: Isolation, loopback_server: LoopbackServer
) -> None:
    if not isolation.cuts_network:
        pytest.skip(f"network isolation unavailable here: {isolation.description}")
    failure = run.results["npm-net"].failure
    assert failure is not None and "cannot connect" in failure.message
    assert loopback_server.accepted == []  # nor did the postinstall script, in either phase
