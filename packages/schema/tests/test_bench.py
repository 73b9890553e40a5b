"""bench-queue: the synthetic queue is a real one, and the command measures and reports."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path

import recipeline_schema as rs
from recipeline_schema import bench
from recipeline_schema.exitcodes import EXIT_USAGE


def test_synthetic_queue_is_valid_ordered_and_reproducible(tmp_path: Path) -> None:
    """The queue saves and loads (so it passes the schema), is in queue order and has every shape."""
    queue = bench.synthetic_queue(3000, ecosystem="cargo", seed=7)
    assert queue == bench.synthetic_queue(3000, ecosystem="cargo", seed=7)
    assert queue != bench.synthetic_queue(3000, ecosystem="cargo", seed=8)
    assert queue.entries == rs.ordered(queue.entries)
    assert len({e.source for e in queue.entries}) == 3000
    assert all(e.source.startswith("cargo:") for e in queue.entries)
    statuses = collections.Counter(e.status for e in queue.entries)
    assert statuses["pending"] > 1500
    assert {"success", "failed", "blocked", "in_progress"} <= set(statuses)
    failed = [e for e in queue.entries if e.status == "failed"]
    assert any(e.next_retry_at and e.next_retry_at > bench.NOW for e in failed)
    assert any(e.next_retry_at and e.next_retry_at <= bench.NOW for e in failed)
    assert all(e.blocked_by for e in queue.entries if e.status == "blocked")
    path = tmp_path / "priority-queue-cargo.json"
    rs.save(queue, path)
    assert rs.load(rs.Queue, path) == queue


def test_bench_queue_measures_every_step(tmp_path: Path) -> None:
    """The steps run on a real file and leave the marked queue saved: 25 entries in progress."""
    timings = bench.bench_queue(2000, size=25, repeat=1, directory=tmp_path)
    assert [t.name for t in timings] == [
        "start", "cycle", "traced_mb", "load", "select+mark", "save", "validate", "from_json", "to_json",
        "calibration",
    ]  # fmt: skip
    assert all(t.wall >= 0 and t.cpu >= 0 and t.peak_rss_mb > 0 for t in timings)
    saved = rs.load(rs.Queue, tmp_path / "priority-queue-pypi.json")
    marked = [e for e in saved.entries if e.batch_id == "2026-01-29-001"]
    # the cycle ran twice (timed, traced), each marking the next 25, then the save step once more
    assert len(marked) == 75 and {e.status for e in marked} == {"in_progress"}
    lines = list(bench.report(timings, entries=2000, size=25, repeat=1))
    figures = json.loads(lines[-1])
    assert figures["entries"] == 2000
    assert figures["cycle_wall"] == round(timings[1].wall, 4)
    assert figures["target_met"] is bench.target_met(timings)


def test_the_target_is_time_and_memory() -> None:
    """§10: at most 0.5 s and under 200 MB; missing either misses the target."""

    def cycle(wall: float, rss: float) -> list[bench.Timing]:
        return [bench.Timing("cycle", wall, wall, rss)]

    assert bench.target_met(cycle(0.5, 199.0))
    assert not bench.target_met(cycle(0.51, 100.0))
    assert not bench.target_met(cycle(0.2, 200.0))


def test_cli_bench_queue_prints_the_figures() -> None:
    """`python -m recipeline_schema bench-queue` in a child process, small enough to be quick."""
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    done = subprocess.run(
        [sys.executable, "-m", "recipeline_schema", "bench-queue", "--entries", "1500", "--repeat", "1"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert out[0].startswith("queue of 1,500 entries, batch size 25, median of 1")
    for step in ("cycle", "load", "select+mark", "save"):
        assert any(line.strip().startswith(step + " ") for line in out), out
    assert "load+select+mark+save" in done.stdout and "target <= 0.5 s, < 200 MB" in done.stdout
    figures = json.loads(out[-1])
    met = figures["cycle_wall"] <= 0.5 and figures["cycle_peak_rss_mb"] < 200
    assert figures["target_met"] is met  # the verdict is the figures', and the text says the same
    assert ("MB: ok)" if met else "MB: over)") in done.stdout


def test_cli_bench_queue_refuses_bad_sizes() -> None:
    """Nonsense sizes are a usage error (exit 64) with one line on stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "recipeline_schema", "bench-queue", "--entries", "0"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == EXIT_USAGE
    assert len(done.stderr.strip().splitlines()) == 1
