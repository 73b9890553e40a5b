"""``bench-queue``: time the queue's hot path at scale (ARCHITECTURE §10: 100,000 entries).

A synthetic queue (realistic names, sources, statuses, retry times; in queue order, as every
writer leaves it) is written by a child process, so this process's peak memory counts only
what it measures. Then, each the median of ``repeat`` wall-clock runs:

- ``cycle``: what a batch does to its queue, measured first: load, select+mark and save
  (the §10 target: at most 0.5 s, peak memory under 200 MB); its peak RSS (``ru_maxrss``) is
  taken right after it, so it is the cycle's own, and ``traced_mb`` is the peak of Python's
  allocations during one more cycle under ``tracemalloc`` (not timed: tracing slows it);
- ``load``: read, parse, validate and decode the queue file;
- ``select+mark``: ``select_batch(size)`` and ``mark_in_progress``;
- ``save``: encode, validate and atomically write the marked queue;

plus the pieces (``to_json``, ``from_json``, ``validate``), CPU time beside wall time, the peak
RSS after each phase, and a calibration loop: on a shared or throttled machine every figure
scales with it, so compare runs by their calibration too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ._codec import from_json, to_json
from .contracts import schema_of
from .ecosystems import Ecosystem
from .io import load, read_json, save
from .models import Queue, QueueEntry
from .queue import mark_in_progress, ordered, select_batch
from .validation import validate

T = TypeVar("T")

#: ARCHITECTURE §10: load a 100,000-entry queue, select a batch, mark and save it in at most
#: 0.5 s, with peak memory under 200 MB
TARGET_SECONDS = 0.5
TARGET_PEAK_MB = 200.0
NOW = dt.datetime(2026, 1, 29, 10, 0, 0, tzinfo=dt.UTC)

_SYLLABLES = (
    "ab", "ac", "al", "an", "ar", "as", "at", "ba", "be", "bo", "ca", "ce", "co", "da", "de",
    "di", "do", "el", "en", "er", "ex", "fa", "fi", "fo", "ga", "ge", "go", "ha", "he", "hi",
    "io", "ja", "ka", "ke", "ki", "la", "le", "li", "lo", "lu", "ma", "me", "mi", "mo", "na",
    "ne", "ni", "no", "nu", "on", "or", "pa", "pe", "pi", "po", "py", "ra", "re", "ri", "ro",
    "sa", "se", "si", "so", "ta", "te", "ti", "to", "tu", "ur", "va", "ve", "vi", "xa", "ya",
    "za", "ze", "zo",
)  # fmt: skip
_SUFFIXES = ("", "", "", "", "-cli", "-tools", "-rs", "-py", "-js", "2", "-utils", "-core", "-lite")
_EVERYONE = ("python@3.14", "openssl@3", "node", "cmake", "pkg-config", "rust", "go")


def synthetic_queue(entries: int, *, ecosystem: Ecosystem = "pypi", seed: int = 0) -> Queue:
    """A deterministic queue shaped like a real one after months of batches."""
    rnd = random.Random(seed)  # noqa: S311 - synthetic data, reproducible by design
    seen: set[str] = set()
    out = []
    for i in range(entries):
        name = "".join(rnd.choice(_SYLLABLES) for _ in range(rnd.randint(2, 4))) + rnd.choice(_SUFFIXES)
        if name in seen:
            name = f"{name}{i}"
        seen.add(name)
        out.append(_entry(rnd, name, ecosystem))
    return Queue(schema_version=1, ecosystem=ecosystem, updated_at=NOW, entries=ordered(out))


def _entry(rnd: random.Random, name: str, ecosystem: Ecosystem) -> QueueEntry:
    added = NOW - dt.timedelta(days=rnd.randint(0, 120), seconds=rnd.randint(0, 86399))
    entry = QueueEntry(
        name=name,
        source=f"{ecosystem}:{name}",
        priority=rnd.choices((1, 2, 3), weights=(2, 18, 80))[0],
        popularity=int(10 ** rnd.uniform(1, 8)) if rnd.random() < 0.97 else None,
        added_at=added.replace(hour=3, minute=0, second=0),  # seeding runs: a few per day
    )
    roll = rnd.random()
    if roll < 0.70:
        return entry
    attempt = added + dt.timedelta(days=rnd.randint(0, 30), hours=rnd.randint(0, 23))
    batch = f"{attempt.date().isoformat()}-{rnd.randint(1, 24):03d}"
    common = {"last_attempt_at": min(attempt, NOW), "batch_id": batch}
    if roll < 0.85:
        return _replace(entry, status="success", **common)
    if roll < 0.93:
        failures = rnd.randint(1, 6)
        retry = NOW + dt.timedelta(hours=rnd.randint(-48, 48))
        return _replace(entry, status="failed", failure_count=failures, next_retry_at=retry, **common)
    if roll < 0.96:
        blocked = tuple(sorted(rnd.sample(_EVERYONE, rnd.randint(1, 2))))
        return _replace(entry, status="blocked", blocked_by=blocked, **common)
    if roll < 0.97:
        return _replace(entry, status="in_progress", **common)
    status, reason = rnd.choice(
        (
            ("excluded", "archived upstream"),
            ("skipped", "library only: no executables"),
            ("requires_manual", "needs a license acceptance"),
        )
    )
    return _replace(entry, status=status, reason=reason)


def _replace(entry: QueueEntry, **changes: Any) -> QueueEntry:
    return dataclasses.replace(entry, **changes)


# --- measuring ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timing:
    """One measured step: median wall and CPU seconds over the runs, peak RSS after them."""

    name: str
    wall: float
    cpu: float
    peak_rss_mb: float


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def measure(name: str, step: Callable[[], T], repeat: int) -> tuple[Timing, T]:
    """Run ``step`` ``repeat`` times; keep the median wall and CPU times and the last result."""
    walls, cpus = [], []
    results: list[T] = []
    for _ in range(max(repeat, 1)):
        results.clear()  # free the previous run's result first: the peak is one run's
        w0, c0 = time.perf_counter(), time.process_time()
        results.append(step())
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return Timing(name, statistics.median(walls), statistics.median(cpus), _peak_rss_mb()), results[0]


def write_queue_file(path: Path, entries: int, ecosystem: Ecosystem, seed: int) -> None:
    """Write the synthetic queue in a child process (its memory is not ours to count)."""
    code = (
        "import sys; from pathlib import Path; from recipeline_schema import bench, save; "
        "save(bench.synthetic_queue(int(sys.argv[1]), ecosystem=sys.argv[2], seed=int(sys.argv[3])), "
        "Path(sys.argv[4]))"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(entries), ecosystem, str(seed), str(path)],
        check=True,
    )


def bench_queue(
    entries: int,
    *,
    size: int = 25,
    repeat: int = 5,
    ecosystem: Ecosystem = "pypi",
    seed: int = 0,
    directory: Path | None = None,
) -> list[Timing]:
    """Measure the cycle (load, select+mark, save), then each step, of ``entries`` entries."""
    with _workdir(directory) as work:
        path = work / f"priority-queue-{ecosystem}.json"
        write_queue_file(path, entries, ecosystem, seed)
        timings = [Timing("start", 0.0, 0.0, _peak_rss_mb())]

        def cycle() -> None:  # each run takes the next batch of the queue the last one saved
            queue = load(Queue, path)
            picked = select_batch(queue, now=NOW, size=size)
            save(mark_in_progress(queue, picked, batch_id="2026-01-29-001", now=NOW), path)

        t, _ = measure("cycle", cycle, repeat)
        timings.append(t)
        tracemalloc.start()
        try:
            cycle()
            traced = tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()
        timings.append(Timing("traced_mb", 0.0, 0.0, round(traced, 1)))
        t, queue = measure("load", lambda: load(Queue, path), repeat)
        timings.append(t)

        def select_and_mark() -> Queue:
            picked = select_batch(queue, now=NOW, size=size)
            return mark_in_progress(queue, picked, batch_id="2026-01-29-001", now=NOW)

        t, marked = measure("select+mark", select_and_mark, repeat)
        timings.append(t)
        t, _ = measure("save", lambda: save(marked, path), repeat)
        timings.append(t)
        # the pieces, for the record
        data = read_json(path)
        t, _ = measure("validate", lambda: validate(schema_of(Queue), data, str(path)), repeat)
        timings.append(t)
        t, _ = measure("from_json", lambda: from_json(Queue, data), repeat)
        timings.append(t)
        t, _ = measure("to_json", lambda: to_json(marked), repeat)
        timings.append(t)
        # how fast this machine runs Python right now (a shared machine varies 2-5x)
        t, _ = measure("calibration", _calibration_loop, repeat)
        timings.append(t)
        return timings


def _calibration_loop() -> int:
    """A plain interpreter loop of 2 million steps (about 0.1 s on a quiet 3 GHz core)."""
    total = 0
    for i in range(2_000_000):
        total += i
    return total


@contextlib.contextmanager
def _workdir(directory: Path | None) -> Iterator[Path]:
    """A temporary directory, or ``directory`` when given (kept)."""
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        yield directory
        return
    with tempfile.TemporaryDirectory(prefix="recipeline-bench-") as tmp:
        yield Path(tmp)


def report(timings: list[Timing], *, entries: int, size: int, repeat: int) -> Iterator[str]:
    """Human-readable lines, then one JSON line with every figure."""
    by_name = {t.name: t for t in timings}
    yield f"queue of {entries:,} entries, batch size {size}, median of {repeat} (wall / CPU seconds)"
    for t in timings:
        if t.name in ("start", "traced_mb"):
            label = "peak RSS" if t.name == "start" else "traced  "
            yield f"  {t.name:12s} {'':>17s}  {label} {t.peak_rss_mb:7.1f} MB"
            continue
        yield f"  {t.name:12s} {t.wall:7.3f} / {t.cpu:6.3f}  peak RSS {t.peak_rss_mb:7.1f} MB"
    cycle = by_name["cycle"]
    met = target_met(timings)
    yield (
        f"  load+select+mark+save {cycle.wall:.3f} s wall, {cycle.cpu:.3f} s CPU, peak RSS "
        f"{cycle.peak_rss_mb:.1f} MB (target <= {TARGET_SECONDS:g} s, < {TARGET_PEAK_MB:g} MB: "
        f"{'ok' if met else 'over'})"
    )
    yield json.dumps(
        {
            "entries": entries,
            "size": size,
            "repeat": repeat,
            "cycle_wall": round(cycle.wall, 4),
            "cycle_peak_rss_mb": round(cycle.peak_rss_mb, 1),
            "target_met": met,
            **{t.name: _figures(t) for t in timings},
        }
    )


def target_met(timings: list[Timing]) -> bool:
    """Whether the cycle met §10: at most ``TARGET_SECONDS`` wall, peak RSS under ``TARGET_PEAK_MB``."""
    cycle = next(t for t in timings if t.name == "cycle")
    return cycle.wall <= TARGET_SECONDS and cycle.peak_rss_mb < TARGET_PEAK_MB


def _figures(t: Timing) -> dict[str, float]:
    return {"wall": round(t.wall, 4), "cpu": round(t.cpu, 4), "peak_rss_mb": round(t.peak_rss_mb, 1)}
