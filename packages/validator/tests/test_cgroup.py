"""Finding the cgroups a command can be limited by, and cleaning up after commands.

The parsers and the v2 probe run on texts and a directory tree written here (cgroup v2 cannot
be tried for real on every host); the cleanup runs against this host's real cgroups when the
probe found some, and skips with the probe's reason otherwise.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from recipeline_validator import cgroup
from recipeline_validator.sandbox import MIB, CommandLimits, run

MOUNTINFO = """\
24 30 0:21 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
25 30 0:22 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
26 30 0:23 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
27 30 0:24 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
28 30 0:25 / /proc rw,relatime - proc proc rw
"""
PROC_CGROUP = "0::/\n4:memory:/jobs/42\n8:pids:/\n3:cpu,cpuacct:/\n"


def test_mountinfo_and_own_cgroup_are_parsed() -> None:
    mounts = cgroup._mounts(MOUNTINFO)
    assert [(m[1], m[2]) for m in mounts] == [
        ("/sys/fs/cgroup/memory", "cgroup"),
        ("/sys/fs/cgroup/pids", "cgroup"),
        ("/sys/fs/cgroup/cpu,cpuacct", "cgroup"),
        ("/sys/fs/cgroup/unified", "cgroup2"),
    ]
    assert "cpu" in mounts[2][3] and "cpuacct" in mounts[2][3]
    own = cgroup._own_paths(PROC_CGROUP)
    assert own == {"": "/", "memory": "/jobs/42", "pids": "/", "cpu": "/", "cpuacct": "/"}
    assert cgroup._under("/", "/sys/fs/cgroup/memory", "/jobs/42") == Path("/sys/fs/cgroup/memory/jobs/42")
    assert cgroup._under("/jobs", "/mnt", "/jobs/42") == Path("/mnt/42")  # a mount of a sub-tree
    assert cgroup._under("/other", "/mnt", "/jobs/42") is None


def _fake_v2(root: Path, controllers: str) -> list[tuple[str, str, str, set[str]]]:
    root.mkdir(parents=True, exist_ok=True)
    (root / "cgroup.controllers").write_text(controllers + "\n")
    (root / "cgroup.subtree_control").write_text("")
    return [("/", str(root), "cgroup2", {"rw"})]


def test_a_delegated_v2_cgroup_with_memory_and_pids_is_used(tmp_path: Path) -> None:
    mounts = _fake_v2(tmp_path / "v2", "cpuset cpu io memory pids")
    found = cgroup._probe_v2(mounts, {"": "/"})
    assert found.version == 2
    assert found.controllers == {"memory", "pids", "cpu"}
    assert (tmp_path / "v2" / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"
    assert found.description == f"cgroup v2 (memory, pids, cpu) under {tmp_path / 'v2'}"


def test_a_v2_cgroup_without_memory_is_not_used_and_says_why(tmp_path: Path) -> None:
    found = cgroup._probe_v2(_fake_v2(tmp_path / "v2", "hugetlb"), {"": "/"})
    assert found.dirs == {}
    assert found.description == f"cgroup v2 at {tmp_path / 'v2'} offers hugetlb"
    assert cgroup._probe_v2([], {"": "/"}).description == "no cgroup v2 mount"


def _recipeline_groups(support: cgroup.CgroupSupport) -> list[Path]:
    return [
        p for base in set(support.dirs.values()) for p in base.glob(f"{cgroup.NAME_PREFIX}{os.getpid()}-*")
    ]


def test_a_commands_cgroups_are_removed_after_it(tmp_path: Path) -> None:
    support = cgroup.probe()
    if not support.dirs:
        pytest.skip(f"no usable cgroup here: {support.description}")
    done = run(
        [sys.executable, "-c", "print('inside')"],
        env={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        log=tmp_path / "out.log",
        limits=CommandLimits(timeout=20, cpu_seconds=20, memory_bytes=256 * MIB, file_size_bytes=MIB),
    )
    assert done.exit_code == 0 and "inside" in done.output
    assert _recipeline_groups(support) == []


def test_cgroups_a_dead_validator_left_are_removed(tmp_path: Path) -> None:
    support = cgroup.probe()
    if not support.dirs:
        pytest.skip(f"no usable cgroup here: {support.description}")
    dead = 2**22 + 12345  # above any pid_max: no process has it
    bases = set(support.dirs.values())
    left = [base / f"{cgroup.NAME_PREFIX}{name}" for base in bases for name in (f"{dead}-1", f"self-{dead}")]
    for group in left:
        group.mkdir()
    cgroup._remove_stale(set(support.dirs.values()))
    assert [g for g in left if g.exists()] == []
