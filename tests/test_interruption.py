"""Kill a real `invoke batch` at several points: data stays valid, the next run recovers, nothing twice."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flowsupport import PROJECT, LocalIndex, Wheel

import recipeline_schema as rs

PACKAGES = {"alpha": "alpha 1.0.0", "beta": "beta 1.0.0"}


@pytest.fixture
def slow_index(local_index: LocalIndex) -> LocalIndex:
    """Two working tools and one library, behind an index that answers in 0.4 s."""
    for name, output in PACKAGES.items():
        local_index.add(Wheel(name, "1.0.0", {name: output}))
    local_index.add(Wheel("gamma", "1.0.0"))
    local_index.latency = 0.4
    return local_index


def _command(repo: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "invoke", "-r", str(PROJECT), *args, "--repo", str(repo)]


def _seed(repo: Path, env: dict[str, str]) -> None:
    listing = repo.parent / "list.txt"
    listing.write_text("alpha pypi:alpha 1\nbeta pypi:beta 1\ngamma pypi:gamma 1\n")
    subprocess.run(
        _command(repo, "seed", "--ecosystem", "pypi", "--from-file", str(listing)), env=env, check=True,
        capture_output=True,
    )  # fmt: skip


def _batch_dir(repo: Path) -> Path | None:
    dirs = sorted((repo / "build" / "batches").glob("*"))
    return dirs[0] if dirs else None


def _has(name: str) -> Callable[[Path], bool]:
    def reached(repo: Path) -> bool:
        d = _batch_dir(repo)
        return d is not None and (d / name).exists()

    return reached


#: moments to kill at: right after start, once the plan exists (generating), once generation is
#: done (validating), once results exist (merging)
KILL_POINTS: dict[str, Callable[[Path], bool]] = {
    "preflight": lambda repo: True,
    "generate": _has("manifest.json"),
    "validate": _has("generation.json"),
    "merge": _has("results"),
}


def _all_data_is_valid(repo: Path) -> None:
    layout = rs.Layout(repo)
    for path in (repo / "data" / "queues").glob("*.json"):
        rs.load(rs.Queue, path)
    rs.read_jsonl(rs.MetricsLine, layout.metrics)
    for path in layout.failures_dir.glob("*.jsonl"):
        rs.read_jsonl(rs.FailureRecord, path)
    for path in layout.batches_dir.glob("*-[0-9][0-9][0-9].json"):
        rs.load(rs.BatchManifest, path)


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_killed_batch_leaves_valid_data_and_the_next_run_recovers(
    point: str, scratch_repo: Path, flow_env: dict[str, str], slow_index: LocalIndex
) -> None:
    repo, env = scratch_repo, flow_env
    _seed(repo, env)
    proc = subprocess.Popen(
        _command(repo, "batch", "--ecosystem", "pypi", "--batch-size", "3"),
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not KILL_POINTS[point](repo) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2 if point != "preflight" else 0.5)
    assert proc.poll() is None, f"the batch finished before the kill at {point}: the test measured nothing"
    os.killpg(proc.pid, signal.SIGKILL)  # the whole tree, as a crashed runner would lose it
    proc.wait()

    _all_data_is_valid(repo)
    queue = rs.load(rs.Queue, rs.Layout(repo).queue("pypi"))
    assert sorted(e.name for e in queue.entries) == ["alpha", "beta", "gamma"]  # nothing lost

    again = subprocess.run(
        _command(repo, "batch", "--ecosystem", "pypi", "--batch-size", "3"),
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode == 0, again.stdout + again.stderr
    if point != "preflight":  # killed after the plan existed: the next run finishes that batch
        assert "resuming interrupted batch" in again.stdout
    _all_data_is_valid(repo)

    layout = rs.Layout(repo)
    manifests = [rs.load(rs.BatchManifest, p) for p in layout.batches_dir.glob("*-[0-9][0-9][0-9].json")]
    assert manifests, f"no batch completed after a kill at {point}"
    metrics = rs.read_jsonl(rs.MetricsLine, layout.metrics)
    assert len({m.batch_id for m in metrics}) == len(metrics), "a metrics line was written twice"
    assert {m.batch_id for m in metrics} == {m.batch_id for m in manifests}
    failures = collections.Counter(
        (record.batch_id, record.environment, failure.package_id)
        for path in layout.failures_dir.glob("*.jsonl")
        for record in rs.read_jsonl(rs.FailureRecord, path)
        for failure in record.failures
    )
    assert failures and max(failures.values()) == 1, f"a failure was recorded twice: {failures}"
    queue = rs.load(rs.Queue, layout.queue("pypi"))
    outcome = {p.package_id: p.outcome for m in manifests for p in m.packages}
    assert outcome == {"pypi:alpha": "merged", "pypi:beta": "merged", "pypi:gamma": "failed"}
    entries = {e.name: e for e in queue.entries}
    assert entries["gamma"].status == "failed" and entries["gamma"].failure_count == 1
    live = {m.batch_id for m in manifests}
    assert all(e.batch_id in live for e in queue.entries if e.status == "in_progress")


def test_a_second_concurrent_batch_refuses_with_a_clear_message(
    scratch_repo: Path, flow_env: dict[str, str], slow_index: LocalIndex
) -> None:
    repo, env = scratch_repo, flow_env
    _seed(repo, env)
    first = subprocess.Popen(
        _command(repo, "batch", "--ecosystem", "pypi", "--batch-size", "3"),
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (repo / "build" / "batch.lock").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        second = subprocess.run(
            _command(repo, "batch", "--ecosystem", "pypi", "--batch-size", "3"),
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert second.returncode == 4
        assert f"pid {first.pid}" in second.stderr and "a batch" in second.stderr
    finally:
        assert first.wait(timeout=300) == 0
