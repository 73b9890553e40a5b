"""The sandboxed command runner: limits, timeouts that kill the whole group, network cut-off."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from validator_helpers import LoopbackServer

from recipeline_validator import Isolation, probe_isolation
from recipeline_validator.sandbox import MIB, CommandLimits, run

ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}


def limits(timeout: float = 20, memory: int = 1024 * MIB, fsize: int = 64 * MIB) -> CommandLimits:
    return CommandLimits(timeout=timeout, cpu_seconds=60, memory_bytes=memory, file_size_bytes=fsize)


def _gone(pid: int) -> bool:
    """True once ``pid`` has died (SIGKILL is delivered asynchronously: wait up to 5 s)."""
    deadline = time.monotonic() + 5
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purpose
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def test_a_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    started = time.monotonic()
    done = run(
        ["/bin/sh", "-c", f"sleep 60 & echo $! > {pidfile}; echo started; wait"],
        env=ENV,
        cwd=tmp_path,
        log=tmp_path / "out.log",
        limits=limits(timeout=1),
    )
    assert done.timed_out
    assert time.monotonic() - started < 15
    assert "started" in done.output
    assert _gone(int(pidfile.read_text()))


def test_background_processes_do_not_outlive_a_finished_command(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    done = run(
        ["/bin/sh", "-c", f"sleep 60 & echo $! > {pidfile}"],
        env=ENV,
        cwd=tmp_path,
        log=tmp_path / "out.log",
        limits=limits(),
    )
    assert done.exit_code == 0
    assert _gone(int(pidfile.read_text()))


def test_the_memory_limit_holds(tmp_path: Path) -> None:
    done = run(
        [sys.executable, "-c", "b = bytearray(800 * 1024 * 1024); print('allocated')"],
        env=ENV,
        cwd=tmp_path,
        log=tmp_path / "out.log",
        limits=limits(memory=256 * MIB),
    )
    assert done.exit_code != 0
    assert "MemoryError" in done.output


def test_the_file_size_limit_holds(tmp_path: Path) -> None:
    done = run(
        ["/bin/sh", "-c", "head -c 4000000 /dev/zero > big; echo rc=$?"],
        env=ENV,
        cwd=tmp_path,
        log=tmp_path / "out.log",
        limits=limits(fsize=1 * MIB),
    )
    assert (tmp_path / "big").stat().st_size <= 1 * MIB
    assert "rc=0" not in done.output


def test_the_environment_is_exactly_what_is_passed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "sekrit")
    done = run(["/usr/bin/env"], env=ENV, cwd=tmp_path, log=tmp_path / "out.log", limits=limits())
    assert sorted(done.output.split()) == ["LANG=C.UTF-8", "PATH=/usr/bin:/bin"]


def test_a_missing_program_is_a_result_not_an_exception(tmp_path: Path) -> None:
    done = run(["/nonexistent/tool"], env=ENV, cwd=tmp_path, log=tmp_path / "out.log", limits=limits())
    assert done.exit_code == 127
    assert "/nonexistent/tool" in done.output


def test_the_probe_describes_isolation() -> None:
    found = probe_isolation()
    assert found.description.startswith(("netns", "none: "))
    assert found.cuts_network == found.description.startswith("netns")
    assert probe_isolation(system="Darwin").description == "none: no network namespaces on Darwin"


def test_isolated_commands_cannot_reach_a_loopback_server(
    tmp_path: Path, isolation: Isolation, loopback_server: LoopbackServer
) -> None:
    if not isolation.cuts_network:
        pytest.skip(f"network isolation unavailable here: {isolation.description}")
    code = f"import socket; socket.create_connection(('127.0.0.1', {loopback_server.port}), timeout=3)"
    done = run(
        [sys.executable, "-c", code],
        env=ENV,
        cwd=tmp_path,
        log=tmp_path / "out.log",
        limits=limits(),
        isolation=isolation,
    )
    assert done.exit_code != 0
    assert "unreachable" in done.output or "refused" in done.output
    assert loopback_server.accepted == []
