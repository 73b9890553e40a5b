"""Control groups for sandboxed commands: memory, process count and CPU limits that measure use.

A command gets its own cgroup (per controller hierarchy on cgroup v1), created under the
validator's own cgroup, before it starts; every process it forks stays in it. After the command
ends its members are killed (``cgroup.kill`` on v2, SIGKILL to each member on v1), the events
files say whether a limit was hit (an OOM kill, a refused fork), and the cgroup is removed.

``probe()`` finds once what this host allows, in this order:

1. cgroup v2 with the ``memory``, ``pids`` (and ``cpu`` when present) controllers in a cgroup
   the validator can write (a delegated one: most containers run with their own cgroup
   namespace). The internal-process rule forbids enabling controllers for children of a cgroup
   that has processes, so the validator first moves itself into a leaf ``recipeline-self``.
2. cgroup v1 hierarchies ``memory``, ``pids`` and ``cpu`` that the validator can write (root
   on hosts still mounting v1).
3. nothing: the sandbox then limits memory with RLIMIT_DATA (sandbox.py).

Each controller is probed on its own: a host may have a writable v1 ``memory`` but no
``pids`` hierarchy; what was in force is in ``CgroupSupport.description``.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import itertools
import os
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

#: The controllers the sandbox uses, in the order they are described.
CONTROLLERS = ("memory", "pids", "cpu")
#: Per-command cgroups are named ``<NAME_PREFIX><validator pid>-<n>`` (stale ones are removed).
NAME_PREFIX = "recipeline-"
CPU_PERIOD_US = 100_000
_counter = itertools.count(1)


@dataclass(frozen=True, slots=True)
class CgroupSupport:
    """Where per-command cgroups are created, per controller (empty: no usable cgroup)."""

    version: int  # 1 or 2; 0 when no controller is usable
    dirs: Mapping[str, Path] = field(default_factory=dict)
    description: str = "none"

    @property
    def controllers(self) -> frozenset[str]:
        return frozenset(self.dirs)


NO_CGROUPS = CgroupSupport(0, {}, "none")


@dataclass(frozen=True, slots=True)
class Events:
    """What the kernel counted while a command ran in its cgroup."""

    oom_kills: int = 0
    pids_refused: int = 0


def _mounts(mountinfo: str) -> list[tuple[str, str, str, set[str]]]:
    """(mount root, mount point, fstype, super options) of every cgroup mount."""
    found = []
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3 or not tail[0].startswith("cgroup"):
            continue
        found.append((fields[3], fields[4], tail[0], set(tail[2].split(","))))
    return found


def _own_paths(proc_cgroup: str) -> dict[str, str]:
    """Controller (or ``""`` for v2) -> this process's cgroup path, from /proc/self/cgroup."""
    paths: dict[str, str] = {}
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        for name in parts[1].split(",") if parts[1] else [""]:
            paths[name] = parts[2]
    return paths


def _under(mount_root: str, mount_point: str, path: str) -> Path | None:
    if not (path + "/").startswith(mount_root.rstrip("/") + "/"):
        return None
    return Path(mount_point) / path[len(mount_root.rstrip("/")) :].lstrip("/")


@functools.cache
def probe() -> CgroupSupport:
    """This host's usable cgroups, found once per process (stale per-command cgroups removed)."""
    try:
        mountinfo = Path("/proc/self/mountinfo").read_text(encoding="utf-8")
        own = _own_paths(Path("/proc/self/cgroup").read_text(encoding="utf-8"))
    except OSError as exc:
        return CgroupSupport(0, {}, f"none: cannot read this process's cgroups: {exc.strerror}")
    mounts = _mounts(mountinfo)
    v2 = _probe_v2(mounts, own)
    if v2.dirs:
        return v2
    v1 = _probe_v1(mounts, own)
    if v1.dirs:
        return v1
    return CgroupSupport(0, {}, f"none ({v2.description}; {v1.description})")


def _probe_v2(mounts: list[tuple[str, str, str, set[str]]], own: Mapping[str, str]) -> CgroupSupport:
    mount = next((m for m in mounts if m[2] == "cgroup2"), None)
    if mount is None or "" not in own:
        return CgroupSupport(0, {}, "no cgroup v2 mount")
    base = _under(mount[0], mount[1], own[""])
    if base is None:
        return CgroupSupport(0, {}, "cgroup v2: this process's cgroup is outside the mount")
    try:
        available = set((base / "cgroup.controllers").read_text(encoding="utf-8").split())
    except OSError as exc:
        return CgroupSupport(0, {}, f"cgroup v2 at {base}: {exc.strerror}")
    wanted = [c for c in CONTROLLERS if c in available]
    if not {"memory", "pids"} <= set(wanted):
        return CgroupSupport(0, {}, f"cgroup v2 at {base} offers {' '.join(sorted(available)) or 'nothing'}")
    enable = " ".join(f"+{c}" for c in wanted)
    try:
        _write(base / "cgroup.subtree_control", enable)
    except OSError as exc:
        if exc.errno != errno.EBUSY:
            return CgroupSupport(0, {}, f"cgroup v2 at {base}: cannot enable {enable}: {exc.strerror}")
        try:  # the internal-process rule: this process moves to a leaf of its own first
            leaf = base / f"{NAME_PREFIX}self-{os.getpid()}"
            leaf.mkdir(exist_ok=True)
            _write(leaf / "cgroup.procs", str(os.getpid()))
            _write(base / "cgroup.subtree_control", enable)
        except OSError as again:
            return CgroupSupport(0, {}, f"cgroup v2 at {base}: cannot enable {enable}: {again.strerror}")
    _remove_stale([base])
    dirs = dict.fromkeys(wanted, base)
    return CgroupSupport(2, dirs, f"cgroup v2 ({', '.join(wanted)}) under {base}")


def _probe_v1(mounts: list[tuple[str, str, str, set[str]]], own: Mapping[str, str]) -> CgroupSupport:
    dirs: dict[str, Path] = {}
    why: list[str] = []
    for controller in CONTROLLERS:
        mount = next((m for m in mounts if m[2] == "cgroup" and controller in m[3]), None)
        if mount is None or controller not in own:
            why.append(f"no v1 {controller}")
            continue
        base = _under(mount[0], mount[1], own[controller])
        if base is None:
            why.append(f"v1 {controller}: this process's cgroup is outside the mount")
            continue
        trial = base / f"{NAME_PREFIX}probe-{os.getpid()}"
        try:
            trial.mkdir(exist_ok=True)
            trial.rmdir()
        except OSError as exc:
            why.append(f"v1 {controller} at {base}: {exc.strerror}")
            continue
        dirs[controller] = base
    if not dirs:
        return CgroupSupport(0, {}, "; ".join(why) or "no cgroup v1 mounts")
    _remove_stale(set(dirs.values()))
    where = ", ".join(f"{c} at {d}" for c, d in dirs.items())
    return CgroupSupport(1, dirs, f"cgroup v1 ({where})")


def _remove_stale(bases: object) -> None:
    """Remove per-command cgroups left by validators that died (their pid is in the name)."""
    for base in bases:  # type: ignore[attr-defined]
        with contextlib.suppress(OSError):
            for child in Path(base).iterdir():
                pid = child.name.removeprefix(NAME_PREFIX).removeprefix("self-").split("-")[0]
                if not child.name.startswith(NAME_PREFIX) or not pid.isdigit() or _alive(int(pid)):
                    continue
                _kill_members(child)
                with contextlib.suppress(OSError):
                    child.rmdir()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _members(group: Path) -> list[int]:
    try:
        return [int(p) for p in (group / "cgroup.procs").read_text(encoding="utf-8").split()]
    except (OSError, ValueError):
        return []


def _kill_members(group: Path) -> None:
    """SIGKILL every process of ``group`` until it is empty (bounded: a few seconds)."""
    kill_file = group / "cgroup.kill"
    if kill_file.exists():
        with contextlib.suppress(OSError):
            _write(kill_file, "1")
    deadline = time.monotonic() + 5
    while (members := _members(group)) and time.monotonic() < deadline:
        for pid in members:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)


def _counter_of(path: Path, key: str) -> int:
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            name, _, value = line.partition(" ")
            if name == key and value.strip().isdigit():
                return int(value)
    except OSError:
        pass
    return 0


class CommandCgroup:
    """The cgroup(s) of one command: created with its limits, joined by the child, then removed.

    ``join_fds`` are open ``cgroup.procs`` files: the child writes ``0`` to each between fork
    and exec, so the command is inside before it runs any code.
    """

    def __init__(self, support: CgroupSupport, *, memory_bytes: int, pids: int, cpus: float) -> None:
        self.support = support
        self.groups: dict[str, Path] = {}
        self.join_fds: list[int] = []
        name = f"{NAME_PREFIX}{os.getpid()}-{next(_counter)}"
        try:
            for controller, base in support.dirs.items():
                group = base / name
                if group not in self.groups.values():
                    group.mkdir()
                self.groups[controller] = group
            self._configure(memory_bytes=memory_bytes, pids=pids, cpus=cpus)
            for group in dict.fromkeys(self.groups.values()):
                self.join_fds.append(os.open(group / "cgroup.procs", os.O_WRONLY))
        except OSError:
            self.close()
            raise

    def _configure(self, *, memory_bytes: int, pids: int, cpus: float) -> None:
        memory, pid_group, cpu = (self.groups.get(c) for c in CONTROLLERS)
        quota = f"{int(cpus * CPU_PERIOD_US)}"
        if self.support.version == 2:
            if memory is not None:
                _write(memory / "memory.max", str(memory_bytes))
                with contextlib.suppress(OSError):  # absent without swap accounting
                    _write(memory / "memory.swap.max", "0")
            if pid_group is not None:
                _write(pid_group / "pids.max", str(pids))
            if cpu is not None and cpus > 0:
                _write(cpu / "cpu.max", f"{quota} {CPU_PERIOD_US}")
            return
        if memory is not None:
            _write(memory / "memory.limit_in_bytes", str(memory_bytes))
            with contextlib.suppress(OSError):  # absent without swap accounting
                _write(memory / "memory.memsw.limit_in_bytes", str(memory_bytes))
        if pid_group is not None:
            _write(pid_group / "pids.max", str(pids))
        if cpu is not None and cpus > 0:
            _write(cpu / "cpu.cfs_period_us", str(CPU_PERIOD_US))
            _write(cpu / "cpu.cfs_quota_us", quota)

    def events(self) -> Events:
        memory, pid_group = self.groups.get("memory"), self.groups.get("pids")
        oom = 0
        if memory is not None:
            events = "memory.events" if self.support.version == 2 else "memory.oom_control"
            oom = _counter_of(memory / events, "oom_kill")
        refused = _counter_of(pid_group / "pids.events", "max") if pid_group is not None else 0
        return Events(oom_kills=oom, pids_refused=refused)

    def kill(self) -> None:
        """SIGKILL whatever is left in the command's cgroups."""
        for group in dict.fromkeys(self.groups.values()):
            _kill_members(group)

    def close(self) -> None:
        """Close the join files, kill what is left, remove the cgroups."""
        for fd in self.join_fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.join_fds = []
        self.kill()
        for group in dict.fromkeys(self.groups.values()):
            with contextlib.suppress(OSError):
                group.rmdir()
