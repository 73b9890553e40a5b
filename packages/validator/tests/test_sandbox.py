"""The sandboxed command runner: limits, timeouts that kill everything the command started, the
PID namespace, cgroup limits and their fallbacks, network cut-off."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from validator_helpers import LoopbackServer

from recipeline_validator import Isolation, cgroup, probe_isolation
from recipeline_validator.sandbox import MIB, CommandLimits, probe_containment, run

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


#: A child that writes its pid as the host sees it (``/proc`` is the host's, so ``/proc/self``
#: names the host pid even inside the command's PID namespace), then sleeps.
SLEEPER = "import os, sys, time; open(sys.argv[1], 'w').write(os.readlink('/proc/self')); time.sleep(60)"
#: A daemon: double fork and setsid, then the grandchild writes its pid and sleeps.
DAEMON = (
    "import os, sys, time\n"
    "if os.fork() == 0:\n"
    "    os.setsid()\n"
    "    if os.fork() == 0:\n"
    "        open(sys.argv[1], 'w').write(os.readlink('/proc/self'))\n"
    "        time.sleep(60)\n"
    "    os._exit(0)\n"
    "os.wait()\n"
    "while not os.path.exists(sys.argv[1]):\n"
    "    time.sleep(0.01)\n"
    "print('daemon started')\n"
)


def _pid_of(pidfile: Path) -> int:
    deadline = time.monotonic() + 5
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline, f"{pidfile} was never written"
        time.sleep(0.02)
    return int(pidfile.read_text())


def test_a_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    started = time.monotonic()
    done = run(
        ["/bin/sh", "-c", f'{sys.executable} -c "{SLEEPER}" {pidfile} & echo started; wait'],
        env=ENV,
        cwd=tmp_path,
        log=tmp_path / "out.log",
        limits=limits(timeout=2),
    )
    assert done.timed_out
    assert time.monotonic() - started < 15
    assert "started" in done.output
    assert _gone(_pid_of(pidfile))


def test_background_processes_do_not_outlive_a_finished_command(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    done = run(
        ["/bin/sh", "-c", f'{sys.executable} -c "{SLEEPER}" {pidfile} & sleep 1'],
        env=ENV,
        cwd=tmp_path,
        log=tmp_path / "out.log",
        limits=limits(),
    )
    assert done.exit_code == 0
    assert _gone(_pid_of(pidfile))


def test_a_daemon_does_not_outlive_its_command(tmp_path: Path) -> None:
    """Double fork + setsid leaves the process group; the PID namespace (or the cgroup) ends it."""
    if not probe_containment().pid_namespace and not cgroup.probe().dirs:
        pytest.skip(f"neither a PID namespace nor a cgroup here ({probe_containment().description})")
    pidfile = tmp_path / "daemon.pid"
    done = run(
        [sys.executable, "-c", DAEMON, str(pidfile)],
        env=ENV,
        cwd=tmp_path,
        log=tmp_path / "out.log",
        limits=limits(),
    )
    assert done.exit_code == 0, done.output
    assert "daemon started" in done.output
    pid = _pid_of(pidfile)
    assert _gone(pid), f"daemon {pid} outlived the command ({probe_containment().description})"


def test_commands_run_in_their_own_pid_namespace_when_the_host_allows() -> None:
    found = probe_containment()
    if not found.pid_namespace:
        pytest.skip(f"no PID namespace here: {found.description}")
    assert found.description.startswith("pidns")
    assert found.wrapper[-3:] == ("--pid", "--fork", "--kill-child")


def test_the_command_keeps_its_exit_status_and_signals_under_the_init(tmp_path: Path) -> None:
    exited = run(["/bin/sh", "-c", "exit 3"], env=ENV, cwd=tmp_path, log=tmp_path / "a.log", limits=limits())
    assert exited.exit_code == 3
    killed = run(
        ["/bin/sh", "-c", "kill -TERM $$"], env=ENV, cwd=tmp_path, log=tmp_path / "b.log", limits=limits()
    )
    assert killed.exit_code == -15  # the command is not PID 1: a signal ends it as usual


def test_the_memory_limit_holds(tmp_path: Path) -> None:
    done = run(
        [sys.executable, "-c", "b = bytearray(800 * 1024 * 1024); print('allocated')"],
        env=ENV,
        cwd=tmp_path,
        log=tmp_path / "out.log",
        limits=limits(memory=256 * MIB),
    )
    assert done.exit_code != 0
    assert "allocated" not in done.output
    if "memory" in cgroup.probe().controllers:
        assert done.limit == "killed by the 256 MiB memory limit"
    else:  # RLIMIT_DATA: the allocation fails inside the tool
        assert "MemoryError" in done.output


def test_without_a_memory_cgroup_rlimit_data_holds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cgroup, "probe", lambda: cgroup.NO_CGROUPS)
    done = run(
        [sys.executable, "-c", "b = bytearray(800 * 1024 * 1024); print('allocated')"],
        env=ENV,
        cwd=tmp_path,
        log=tmp_path / "out.log",
        limits=limits(memory=256 * MIB),
    )
    assert done.exit_code == 1 and "MemoryError" in done.output
    assert done.limit == ""  # an allocation refused by RLIMIT_DATA is the tool's own error


#: What V8 does per WebAssembly memory: reserve 10 GiB of address space, then touch a little.
RESERVE = (
    "import mmap; m = mmap.mmap(-1, 10 << 30, prot=0); "  # prot 0: PROT_NONE
    "b = bytearray(64 << 20); print('reserved and used', len(m) >> 30, len(b) >> 20)"
)


@pytest.mark.parametrize("groups", ["probed", "none"])
def test_reserved_address_space_is_not_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, groups: str
) -> None:
    if groups == "none":
        monkeypatch.setattr(cgroup, "probe", lambda: cgroup.NO_CGROUPS)
    done = run(
        [sys.executable, "-c", RESERVE],
        env=ENV,
        cwd=tmp_path,
        log=tmp_path / "out.log",
        limits=limits(memory=512 * MIB),
    )
    assert done.exit_code == 0, done.output
    assert "reserved and used 10 64" in done.output


def test_a_fork_bomb_is_stopped_by_the_process_limit(tmp_path: Path) -> None:
    if "pids" not in cgroup.probe().controllers:
        pytest.skip(f"no pids cgroup here: {cgroup.probe().description}")
    bomb = "import os, time\nfor _ in range(200):\n    os.fork() == 0 and time.sleep(30)\nprint('forked')"
    done = run(
        [sys.executable, "-c", bomb],
        env=ENV,
        cwd=tmp_path,
        log=tmp_path / "out.log",
        limits=CommandLimits(
            timeout=20, cpu_seconds=60, memory_bytes=1024 * MIB, file_size_bytes=MIB, pids=32
        ),
    )
    assert done.limit == "stopped by the 32-process limit (a fork was refused)", done
    assert "BlockingIOError" in done.output or "Resource temporarily unavailable" in done.output


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
