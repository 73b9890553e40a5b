"""Run one command the way recipe code must run: limited, timed, contained, in a clean environment.

- Nothing outlives the command. On Linux it runs in its own PID namespace (``unshare --pid
  --fork --kill-child``, in a user namespace when unprivileged; ``probe_containment`` finds out
  once) under a small init (``INIT_CODE``) that reaps orphans and reports the command's exit
  status; when the command ends, the kernel kills every process left in the namespace, so a
  tool that daemonizes (double fork + ``setsid``) dies with its step. The sandbox's first
  process gets PR_SET_PDEATHSIG, so a validator killed with SIGKILL takes the namespace with
  it. Without namespaces the command's session is killed as a process group (as before).
- Limits that measure use: in a cgroup (``cgroup.py``: v2, or v1 hierarchies) memory
  (``memory.max``), the process count (``pids.max``) and CPU bandwidth (``cpu.max``); without
  a memory cgroup, RLIMIT_DATA (private writable memory, not PROT_NONE reservations such as
  V8's WebAssembly cages, which is why RLIMIT_AS is not used). Always: RLIMIT_CPU (``cpus`` x
  the wall clock in CPU seconds) and RLIMIT_FSIZE. A limit that stopped the command is named
  in ``Completed.limit`` ("killed by the 512 MiB memory limit").
- output goes to a log file (bounded by the file-size limit), not to a pipe that could fill;
- the network is cut by running under ``unshare --net`` (or, unprivileged, in a user namespace
  too) when the host allows it; ``probe_isolation`` finds out once and says why not otherwise.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import cgroup

#: How a step that downloads reaches its registry: proxies and CA certificates (never tokens).
REACH_ENV_NAMES = frozenset(
    {
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
    }
)
MIB = 1024**2
GIB = 1024**3
OUTPUT_READ_LIMIT = 1024 * 1024  # bytes of a log read back from each end
PR_SET_PDEATHSIG = 1
#: Exit statuses a POSIX shell reports for a child killed by these signals (128 + n).
SHELL_SIGNAL_BASE = 128

#: PID 1 of a command's namespace: runs the command as its child (so the command keeps normal
#: signal semantics, which a namespace's init lacks), reaps orphans, and writes the command's
#: status to the fd in argv[1] ("exit N" or "signal N") before it exits. Its exit takes every
#: process left in the namespace with it.
INIT_CODE = """\
import os, sys
fd = int(sys.argv[1])
os.set_inheritable(fd, False)
pid = os.fork()
if pid == 0:
    try:
        os.execv(sys.argv[2], sys.argv[2:])
    except OSError as exc:
        os.write(2, f"cannot start {sys.argv[2]}: {exc}\\n".encode())
        os._exit(127)
status = 0
while True:
    try:
        done, status = os.wait()
    except ChildProcessError:
        break
    if done == pid:
        break
if os.WIFSIGNALED(status):
    os.write(fd, b"signal %d" % os.WTERMSIG(status))
    os._exit(128 + os.WTERMSIG(status))
os.write(fd, b"exit %d" % os.waitstatus_to_exitcode(status))
os._exit(os.waitstatus_to_exitcode(status))
"""


@dataclass(frozen=True, slots=True)
class Limits:
    """Limits of sandboxed commands (ARCHITECTURE §6.3 defaults: 2 GB, 2 CPUs, 5 minutes).

    ``timeout`` is the wall clock of the verify command; installs get ``install_timeout``.
    CPU time is limited to ``cpus`` x the wall clock (RLIMIT_CPU counts seconds, not cores);
    with a cpu cgroup, the command also gets at most ``cpus`` cores' bandwidth. ``pids`` caps
    the processes of one command (with a pids cgroup).
    """

    timeout: float = 300.0
    install_timeout: float = 600.0
    memory_bytes: int = 2 * GIB
    file_size_bytes: int = GIB
    cpus: int = 2
    pids: int = 1024

    def for_command(self, wall_seconds: float) -> CommandLimits:
        return CommandLimits(
            timeout=wall_seconds,
            cpu_seconds=max(1, int(wall_seconds * self.cpus) + 1),
            memory_bytes=self.memory_bytes,
            file_size_bytes=self.file_size_bytes,
            pids=self.pids,
            cpus=self.cpus,
        )


@dataclass(frozen=True, slots=True)
class CommandLimits:
    timeout: float
    cpu_seconds: int
    memory_bytes: int
    file_size_bytes: int
    pids: int = 1024
    cpus: float = 0.0  # cores of CPU bandwidth (0: not limited beyond RLIMIT_CPU)


@dataclass(frozen=True, slots=True)
class Isolation:
    """How commands are cut from the network: ``wrapper`` is prepended to their argv."""

    wrapper: tuple[str, ...]
    description: str  # "netns", "netns (user namespace)" or "none: <why>"

    @property
    def cuts_network(self) -> bool:
        return bool(self.wrapper)


NO_ISOLATION = Isolation((), "none: not requested")


@dataclass(frozen=True, slots=True)
class Containment:
    """How a command and everything it starts are kept together and ended together."""

    wrapper: tuple[str, ...]  # unshare ... --pid --fork --kill-child, or () (process group only)
    description: str

    @property
    def pid_namespace(self) -> bool:
        return bool(self.wrapper)


@dataclass(frozen=True, slots=True)
class Completed:
    """A finished command: ``exit_code`` is None when the wall-clock timeout killed it.

    ``limit`` names the limit that stopped the command ("killed by the 512 MiB memory limit"),
    from the cgroup's event counters or the signal that ended it; empty when none did (a
    wall-clock timeout is ``timed_out``).
    """

    exit_code: int | None
    output: str
    seconds: float
    limit: str = ""

    @property
    def timed_out(self) -> bool:
        return self.exit_code is None


def probe_isolation(system: str | None = None) -> Isolation:
    """Find once how this host can cut a command off the network, or record why it cannot."""
    system = system or platform.system()
    if system != "Linux":
        return Isolation((), f"none: no network namespaces on {system}")
    unshare = shutil.which("unshare")
    if unshare is None:
        return Isolation((), "none: unshare not found on PATH")
    candidates: list[tuple[tuple[str, ...], str]] = []
    if os.geteuid() == 0:
        candidates.append(((unshare, "--net"), "netns"))
    candidates.append(((unshare, "--user", "--map-root-user", "--net"), "netns (user namespace)"))
    reason = ""
    for wrapper, description in candidates:
        found, reason = _try(wrapper)
        if found:
            return Isolation(wrapper, description)
    return Isolation((), f"none: unshare not permitted: {reason}")


def _try(wrapper: tuple[str, ...]) -> tuple[bool, str]:
    try:
        done = subprocess.run([*wrapper, "true"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    if done.returncode == 0:
        return True, ""
    return False, (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]


@functools.cache
def probe_containment() -> Containment:
    """Find once whether commands can run in their own PID namespace (else: process groups)."""
    if platform.system() != "Linux":
        return Containment((), f"process group (no PID namespaces on {platform.system()})")
    unshare = shutil.which("unshare") or next(
        (p for p in ("/usr/bin/unshare", "/bin/unshare") if os.access(p, os.X_OK)), None
    )
    if unshare is None:
        return Containment((), "process group (unshare not found)")
    pidns = ("--pid", "--fork", "--kill-child")
    candidates: list[tuple[tuple[str, ...], str]] = []
    if os.geteuid() == 0:
        candidates.append(((unshare, *pidns), "pidns"))
    candidates.append(((unshare, "--user", "--map-root-user", *pidns), "pidns (user namespace)"))
    reason = ""
    for wrapper, description in candidates:
        found, reason = _try(wrapper)
        if found:
            return Containment(wrapper, description)
    return Containment((), f"process group (unshare --pid not permitted: {reason})")


@functools.cache
def _libc_prctl() -> Callable[..., int] | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6", use_errno=True)
    except OSError:
        return None
    prctl: Callable[..., int] = libc.prctl
    return prctl


def describe(limits: Limits) -> str:
    """What a command runs under on this host, for the report's ``isolation`` text."""
    groups = cgroup.probe()
    parts = [probe_containment().description]
    limited = []
    if "memory" in groups.controllers:
        limited.append(f"memory {size_text(limits.memory_bytes)} (cgroup v{groups.version})")
    else:
        limited.append(f"memory {size_text(limits.memory_bytes)} (RLIMIT_DATA)")
    if "pids" in groups.controllers:
        limited.append(f"{limits.pids} processes (cgroup v{groups.version})")
    else:
        limited.append("processes not capped (no pids cgroup)")
    if "cpu" in groups.controllers:
        limited.append(f"{limits.cpus} CPUs (cgroup v{groups.version})")
    limited.append(f"CPU time {limits.cpus} x wall clock (RLIMIT_CPU)")
    limited.append(f"file size {size_text(limits.file_size_bytes)} (RLIMIT_FSIZE)")
    parts.append("limits: " + ", ".join(limited))
    return "; ".join(parts)


def size_text(size: int) -> str:
    """``512 MiB``, ``2 GiB``, ``1.5 GiB``."""
    if size >= GIB and size % (GIB // 2) == 0:
        return f"{size / GIB:g} GiB"
    return f"{size / MIB:g} MiB"


def _limiter(limits: CommandLimits, *, join_fds: Sequence[int], memory_by_rlimit: bool) -> Callable[[], None]:
    """The preexec function: join the cgroups, die with the parent, set the rlimits.

    Only system calls between fork and exec (write, prctl, setrlimit), no allocation-heavy work.
    """
    # Computed in the parent: the child must not fail on a limit above the inherited hard limit.
    settings = [
        _capped(resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 5),
        _capped(resource.RLIMIT_FSIZE, limits.file_size_bytes, limits.file_size_bytes),
    ]
    # macOS may refuse RLIMIT_DATA below what the process already maps: not fatal there
    optional: list[tuple[int, int, int]] = []
    if memory_by_rlimit:
        data = _capped(resource.RLIMIT_DATA, limits.memory_bytes, limits.memory_bytes)
        (settings if platform.system() == "Linux" else optional).append(data)
    prctl = _libc_prctl()
    parent = os.getpid()

    def apply() -> None:
        for fd in join_fds:
            os.write(fd, b"0")
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:  # the parent died before prctl took effect
                os._exit(1)
        for which, soft, hard in settings:
            resource.setrlimit(which, (soft, hard))
        for which, soft, hard in optional:
            with contextlib.suppress(OSError, ValueError):
                resource.setrlimit(which, (soft, hard))

    return apply


def _capped(which: int, soft: int, hard: int) -> tuple[int, int, int]:
    current_hard = resource.getrlimit(which)[1]
    if current_hard != resource.RLIM_INFINITY:
        hard = min(hard, current_hard)
        soft = min(soft, hard)
    return which, soft, hard


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log: Path,
    limits: CommandLimits,
    isolation: Isolation = NO_ISOLATION,
) -> Completed:
    """Run ``argv`` under ``limits`` (and ``isolation``), output to ``log``; never raises for the
    command's own failure (a missing program is exit code 127 with the error as output)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    containment = probe_containment()
    groups = cgroup.probe()
    command_group: cgroup.CommandCgroup | None = None
    if groups.controllers:
        try:
            command_group = cgroup.CommandCgroup(
                groups, memory_bytes=limits.memory_bytes, pids=limits.pids, cpus=limits.cpus
            )
        except OSError:  # a cgroup that worked at the probe and not now: rlimits still hold
            command_group = None
    in_group = command_group.groups if command_group else {}
    status_read, status_write = os.pipe() if containment.pid_namespace else (-1, -1)
    try:
        full = _wrapped(argv, isolation, containment, status_write)
        with log.open("wb") as out:
            try:
                # preexec_fn with threads: it only makes system calls, which take no lock.
                proc = subprocess.Popen(
                    full,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=cwd,
                    env=dict(env),
                    start_new_session=True,
                    preexec_fn=_limiter(
                        limits,
                        join_fds=command_group.join_fds if command_group else (),
                        memory_by_rlimit="memory" not in in_group,
                    ),
                    close_fds=True,
                    pass_fds=(status_write,) if status_write >= 0 else (),
                )
            except (OSError, subprocess.SubprocessError) as exc:
                return Completed(127, f"cannot start {argv[0]}: {exc}", time.monotonic() - started)
            if status_write >= 0:
                os.close(status_write)
                status_write = -1
            try:
                exit_code: int | None = proc.wait(timeout=limits.timeout)
            except subprocess.TimeoutExpired:
                exit_code = None
            _kill_group(proc)
        if exit_code is not None and status_read >= 0:
            exit_code = _reported_status(status_read, exit_code)
        events = cgroup.Events()
        if command_group is not None:
            command_group.kill()
            events = command_group.events()
        limit = _limit_hit(exit_code, events, limits, in_group)
    finally:
        for fd in (status_read, status_write):
            if fd >= 0:
                os.close(fd)
        if command_group is not None:
            command_group.close()
    return Completed(exit_code, read_output(log), time.monotonic() - started, limit)


def _wrapped(
    argv: Sequence[str], isolation: Isolation, containment: Containment, status_fd: int
) -> list[str]:
    """The full argv: namespaces (network cut and/or PID), the init, then the command."""
    if not containment.pid_namespace:
        return [*isolation.wrapper, *argv]
    init = [sys.executable, "-I", "-S", "-c", INIT_CODE, str(status_fd)]
    if isolation.wrapper:  # one unshare: the isolation's namespaces plus the PID namespace
        return [*isolation.wrapper, "--pid", "--fork", "--kill-child", "--", *init, *argv]
    return [*containment.wrapper, "--", *init, *argv]


def _reported_status(fd: int, fallback: int) -> int:
    """The command's status as the init reported it (negative: killed by that signal)."""
    os.set_blocking(fd, False)
    try:
        kind, _, number = os.read(fd, 64).decode("ascii", "replace").partition(" ")
    except (BlockingIOError, OSError):
        return fallback
    if not number.strip().lstrip("-").isdigit():
        return fallback
    return -int(number) if kind == "signal" else int(number)


def _limit_hit(
    exit_code: int | None, events: cgroup.Events, limits: CommandLimits, in_group: Mapping[str, Path]
) -> str:
    """The limit that stopped the command, from structured facts only (counters, signals)."""
    if events.oom_kills:
        return f"killed by the {size_text(limits.memory_bytes)} memory limit"
    if events.pids_refused:
        return f"stopped by the {limits.pids}-process limit (a fork was refused)"
    if exit_code is None:
        return ""
    signals = {
        int(signal.SIGXCPU): f"killed by the {limits.cpu_seconds} s CPU time limit",
        int(signal.SIGXFSZ): f"killed by the {size_text(limits.file_size_bytes)} file size limit",
    }
    for number, text in signals.items():
        # the command itself (-n), or a shell reporting its child (128 + n)
        if exit_code in (-number, SHELL_SIGNAL_BASE + number):
            return text
    return ""


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill what is left of the command's process group, then reap the leader."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def read_output(log: Path) -> str:
    """A log's text; a huge one is cut to its first and last ``OUTPUT_READ_LIMIT`` bytes."""
    try:
        size = log.stat().st_size
        with log.open("rb") as fh:
            if size <= 2 * OUTPUT_READ_LIMIT:
                data = fh.read()
            else:
                head = fh.read(OUTPUT_READ_LIMIT)
                fh.seek(size - OUTPUT_READ_LIMIT)
                data = head + b"\n[... output cut ...]\n" + fh.read()
    except OSError:
        return ""
    return data.decode("utf-8", errors="replace")
