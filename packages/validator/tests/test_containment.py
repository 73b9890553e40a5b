"""Nothing outlives the sandbox: not a daemon a verify starts, not a validator killed with
SIGKILL mid-verify, and not the prefix folders a killed run leaves (the next run removes them,
and only them).

The tool is real: a wheel whose ``daemontool`` double-forks, calls ``setsid`` and leaves a daemon
that writes its host pid to a file outside the prefix (``/proc`` is the host's, so
``/proc/self`` names the host pid even inside the command's PID namespace).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from validator_helpers import PIP_ISOLATED_ENV, build_wheel, recipe_toml

from recipeline_schema import parse_environment
from recipeline_validator import (
    Isolation,
    Limits,
    NativeOptions,
    PipSource,
    RecipeInput,
    RunSettings,
    cgroup,
    validate_all,
    workdirs,
)
from recipeline_validator.sandbox import probe_containment

ENV_ID = "linux-debian-glibc-x86_64"
NOW = dt.datetime(2026, 1, 29, 10, 0, tzinfo=dt.UTC)
GONE_WITHIN = 3.0  # seconds: SIGKILL is asynchronous, the kernel reaps a namespace quickly

DAEMON_SOURCE = """
    import os, sys, time

    def _host_pid():
        return os.readlink("/proc/self")

    def daemon():
        pidfile, hang = sys.argv[1], sys.argv[2:] == ["hang"]
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                with open(pidfile + ".tmp", "w") as fh:
                    fh.write(_host_pid())
                os.replace(pidfile + ".tmp", pidfile)
                time.sleep(300)
                os._exit(0)
            os._exit(0)
        os.wait()
        while not os.path.exists(pidfile):
            time.sleep(0.01)
        print("daemontool 1.0.0", flush=True)
        with open(pidfile + ".fg.tmp", "w") as fh:
            fh.write(_host_pid())
        os.replace(pidfile + ".fg.tmp", pidfile + ".fg")
        if hang:
            time.sleep(300)
"""


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("daemon-wheels")
    build_wheel(path, "daemonpkg", "1.0.0", module_source=DAEMON_SOURCE, scripts={"daemontool": "daemon"})
    return path


def _recipe(name: str, pidfile: Path, *, hang: bool = False) -> str:
    command = f"daemontool {pidfile}" + (" hang" if hang else "")
    return recipe_toml(name, "daemonpkg", ["daemontool"], command, pattern="daemontool {version}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:  # a zombie is dead for our purpose (its parent has not reaped it yet)
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _gone(pid: int, within: float = GONE_WITHIN) -> bool:
    deadline = time.monotonic() + within
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _wait_for(path: Path, within: float) -> int:
    deadline = time.monotonic() + within
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} was never written"
        time.sleep(0.05)
    return int(path.read_text())


needs_pid_namespace = pytest.mark.skipif(
    not probe_containment().pid_namespace,
    reason=f"no PID namespace here ({probe_containment().description}): a daemon leaves the process group",
)


@pytest.mark.skipif(
    not probe_containment().pid_namespace and not cgroup.probe().dirs,
    reason="neither a PID namespace nor a cgroup here: a daemon leaves the process group",
)
def test_a_daemon_started_by_the_verify_dies_when_it_finishes(
    tmp_path: Path, wheels: Path, isolation: Isolation
) -> None:
    pidfile = tmp_path / "daemon.pid"
    options = NativeOptions(
        isolation=isolation,
        limits=Limits(timeout=30, install_timeout=120),
        source=PipSource(find_links=(str(wheels),)),
        caller_env=PIP_ISOLATED_ENV,
        npm_tools=None,
    )
    settings = RunSettings(native=options, workers=1, work_root=tmp_path / "work", now=lambda: NOW)
    (tmp_path / "work").mkdir()
    recipe = _recipe("daemon", pidfile)
    (result,) = validate_all(
        [RecipeInput("daemon", "pypi:daemonpkg", recipe, "d.toml")], parse_environment(ENV_ID), settings
    )
    assert result.outcome == "pass", result
    daemon = int(pidfile.read_text())
    assert _gone(daemon), f"the daemon {daemon} outlived its verify"
    assert list((tmp_path / "work").iterdir()) == []  # the prefix went too


def _validator(recipe: Path, wheels: Path, work: Path) -> list[str]:
    return [
        sys.executable, "-m", "recipeline_validator", "validate-recipe", str(recipe),
        "--environment", ENV_ID, "--find-links", str(wheels), "--work-dir", str(work),
        "--timeout", "120", "--install-timeout", "120",
    ]  # fmt: skip


@needs_pid_namespace
def test_a_validator_killed_mid_verify_leaves_no_process_and_the_next_run_removes_its_prefix(
    tmp_path: Path, wheels: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    pidfile = tmp_path / "daemon.pid"
    recipe = tmp_path / "daemon.toml"
    recipe.write_text(_recipe("daemon", pidfile, hang=True), encoding="utf-8")
    log = (tmp_path / "validator.log").open("wb")
    validator = subprocess.Popen(
        _validator(recipe, wheels, work), env=PIP_ISOLATED_ENV, stdout=log, stderr=log
    )
    log.close()
    try:
        daemon = _wait_for(pidfile, within=90)
        foreground = _wait_for(Path(f"{pidfile}.fg"), within=30)  # the verify now hangs
        assert _alive(daemon) and _alive(foreground)
        validator.send_signal(signal.SIGKILL)
        validator.wait(timeout=30)
    finally:
        if validator.poll() is None:
            validator.kill()
            validator.wait()
    assert _gone(foreground), f"the verify's process {foreground} outlived the validator"
    assert _gone(daemon), f"the daemon {daemon} outlived the validator"
    (left,) = work.glob("recipeline-daemon-*")  # what the killed run left behind

    quick = tmp_path / "quick.toml"
    quick.write_text(_recipe("quick", tmp_path / "quick.pid"), encoding="utf-8")
    done = subprocess.run(
        _validator(quick, wheels, work), env=PIP_ISOLATED_ENV, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert not left.exists(), "the next run did not remove the killed run's prefix"
    assert list(work.iterdir()) == []


def test_only_stale_prefixes_are_removed(tmp_path: Path) -> None:
    def prefix(name: str, *, lock: bool = True, kept: bool = False, age: float = 0.0) -> Path:
        path = tmp_path / f"recipeline-{name}-abc123"
        for sub in ("bin", "logs", "work"):
            (path / sub).mkdir(parents=True)
        if lock:
            (path / workdirs.LOCK_NAME).touch()
        if kept:
            (path / workdirs.KEPT_NAME).touch()
        if age:
            os.utime(path, (time.time() - age, time.time() - age))
        return path

    live = prefix("live")
    holder = os.open(live / workdirs.LOCK_NAME, os.O_RDWR)
    fcntl.flock(holder, fcntl.LOCK_EX)
    stale = prefix("stale")
    kept = prefix("kept", kept=True)
    fresh_unlocked = prefix("fresh", lock=False)
    legacy = prefix("legacy", lock=False, age=2 * workdirs.UNLOCKED_GRACE_SECONDS)
    readonly = prefix("readonly")
    (readonly / "bin" / "f").touch()
    (readonly / "bin").chmod(0o555)  # as Go's module cache leaves its directories
    other = tmp_path / "unrelated-dir"
    other.mkdir()
    foreign = tmp_path / "recipeline-askpass-k2j3h4"  # another stage's old temporary directory
    foreign.mkdir()
    os.utime(foreign, (time.time() - 2 * workdirs.UNLOCKED_GRACE_SECONDS,) * 2)
    try:
        removed = workdirs.remove_stale(tmp_path)
    finally:
        os.close(holder)
    assert sorted(p.name for p in removed) == sorted(p.name for p in (stale, legacy, readonly))
    assert live.exists() and kept.exists() and fresh_unlocked.exists() and other.exists() and foreign.exists()
    assert not stale.exists() and not legacy.exists() and not readonly.exists()


def test_a_claimed_prefix_is_locked_until_released(tmp_path: Path) -> None:
    claimed = workdirs.ClaimedPrefix("tool", tmp_path)
    assert claimed.path.name.startswith("recipeline-tool-")
    assert workdirs.remove_stale(tmp_path) == []  # in use: never removed
    claimed.release()
    assert not claimed.path.exists()
    kept = workdirs.ClaimedPrefix("tool", tmp_path)
    kept.release(keep=True)
    assert kept.path.exists() and workdirs.remove_stale(tmp_path) == []
