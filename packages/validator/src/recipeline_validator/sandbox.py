"""Run one command the way recipe code must run: limited, timed, isolated, in a clean environment.

- resource limits (CPU seconds, address space, file size) are set in the child before exec;
- the command gets its own session, and the whole process group is killed on timeout and
  after it exits (nothing a recipe starts outlives its step);
- output goes to a log file (bounded by the file-size limit), not to a pipe that could fill;
- the network is cut by running under ``unshare --net`` (or, unprivileged, in a user namespace
  too) when the host allows it; ``probe_isolation`` finds out once and says why not otherwise.
"""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

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


@dataclass(frozen=True, slots=True)
class Limits:
    """Limits of sandboxed commands (ARCHITECTURE §6.3 defaults: 2 GB, 2 CPUs, 5 minutes).

    ``timeout`` is the wall clock of the verify command; installs get ``install_timeout``.
    CPU time is limited to ``cpus`` x the wall clock (RLIMIT_CPU counts seconds, not cores).
    """

    timeout: float = 300.0
    install_timeout: float = 600.0
    memory_bytes: int = 2 * GIB
    file_size_bytes: int = GIB
    cpus: int = 2

    def for_command(self, wall_seconds: float) -> CommandLimits:
        return CommandLimits(
            timeout=wall_seconds,
            cpu_seconds=max(1, int(wall_seconds * self.cpus) + 1),
            memory_bytes=self.memory_bytes,
            file_size_bytes=self.file_size_bytes,
        )


@dataclass(frozen=True, slots=True)
class CommandLimits:
    timeout: float
    cpu_seconds: int
    memory_bytes: int
    file_size_bytes: int


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
class Completed:
    """A finished command: ``exit_code`` is None when the wall-clock timeout killed it."""

    exit_code: int | None
    output: str
    seconds: float

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
        try:
            done = subprocess.run([*wrapper, "true"], capture_output=True, text=True, timeout=20, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            reason = str(exc)
            continue
        if done.returncode == 0:
            return Isolation(wrapper, description)
        reason = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
    return Isolation((), f"none: unshare not permitted: {reason}")


def _limiter(limits: CommandLimits) -> Callable[[], None]:
    """The preexec function: only async-signal-tolerant work (setrlimit) between fork and exec."""

    # Computed in the parent: the child must not fail on a limit above the inherited hard limit.
    settings = [
        _capped(resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 5),
        _capped(resource.RLIMIT_AS, limits.memory_bytes, limits.memory_bytes),
        _capped(resource.RLIMIT_FSIZE, limits.file_size_bytes, limits.file_size_bytes),
    ]

    def apply() -> None:
        for which, soft, hard in settings:
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
    with log.open("wb") as out:
        try:
            # preexec_fn with threads: it only calls setrlimit, which takes no lock in the child.
            proc = subprocess.Popen(
                [*isolation.wrapper, *argv],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=dict(env),
                start_new_session=True,
                preexec_fn=_limiter(limits),
                close_fds=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return Completed(127, f"cannot start {argv[0]}: {exc}", time.monotonic() - started)
        try:
            exit_code: int | None = proc.wait(timeout=limits.timeout)
        except subprocess.TimeoutExpired:
            exit_code = None
        _kill_group(proc)
    return Completed(exit_code, read_output(log), time.monotonic() - started)


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
