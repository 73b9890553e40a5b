"""``bench``: a synthetic repository shaped like tsuku's real data, and the time of a build over it.

At scale 1 the corpus has tsuku's production counts (ARCHITECTURE §10): 5,785 failure files
holding 6,631 lines (orchestrator lines with ``failures`` arrays and per-recipe, per-platform
lines), 1,671 pretty-printed metrics files, a 5,305-entry unified queue, batch-control.json and
a single-object curated.jsonl. Scale N multiplies every count by N. The build runs in a child
process (``python -m recipeline_dashboard build``), so the wall time includes interpreter start
and imports, as the Go tool's does (with bytecode cached, as after ``pip install``); peak memory
is the child's maximum resident set size.
"""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FAILURE_FILES, FAILURE_LINES, METRICS_FILES, QUEUE_ENTRIES = 5785, 6631, 1671, 5305
#: tsuku's Go queue-analytics on the same data (ARCHITECTURE §10; the issue's reference figures).
REFERENCE = {1: (0.28, 25.0), 10: (2.5, None)}
_ECOSYSTEMS = ("homebrew", "crates.io", "npm", "pypi", "rubygems", "github")
_CATEGORIES = (
    "deterministic",
    "generation_failed",
    "validation_failed",
    "recipe_not_found",
    "install_failed",
    "timeout",
)
_PLATFORMS = (
    "linux-debian-glibc-x86_64",
    "linux-alpine-musl-x86_64",
    "linux-debian-glibc-arm64",
    "darwin-arm64",
)
_BANNER = "Warning: Skipping recipe review (--yes). The recipe will be installed without confirmation.\n"


def _stamp(rng: random.Random) -> tuple[str, str]:
    day, hour, minute, second = rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    month = rng.randint(2, 7)
    iso = f"2026-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"
    return iso, iso.replace(":", "-")


def write_corpus(root: Path, scale: int = 1, seed: int = 7, divisor: int = 1) -> dict[str, int]:
    """Write the synthetic repository under ``root``; return what it holds (``divisor``: a smaller
    corpus of the same shape, for tests)."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible corpus, not a secret
    data = root / "data"
    for sub in ("queues", "failures", "metrics", "disambiguations"):
        (data / sub).mkdir(parents=True, exist_ok=True)
    n_queue = QUEUE_ENTRIES * scale // divisor
    names = [f"tool{i}" for i in range(n_queue)]
    statuses = ("pending",) * 14 + ("success",) * 5 + ("blocked", "failed", "excluded")
    entries = [
        {
            "name": name,
            "source": f"{rng.choice(_ECOSYSTEMS)}:{name}",
            "priority": rng.choice((1, 2, 3, 3, 3, 3)),
            "status": rng.choice(statuses),
            "confidence": "auto",
            "disambiguated_at": None,
            "failure_count": rng.randint(0, 5),
            "next_retry_at": None,
        }
        for name in names
    ]
    queue = {"schema_version": 1, "updated_at": "2026-08-13T20:39:55Z", "entries": entries}
    (data / "queues" / "priority-queue.json").write_text(json.dumps(queue, indent=2), encoding="utf-8")

    n_files, n_lines = FAILURE_FILES * scale // divisor, FAILURE_LINES * scale // divisor
    extra = n_lines - n_files  # files that hold a second line
    for i in range(n_files):
        iso, file_time = _stamp(rng)
        lines = 2 if i < extra else 1
        if i % 3 == 0:  # tsuku's per-recipe, per-platform format
            name = rng.choice(names)
            body = "".join(
                json.dumps(
                    {
                        "schema_version": 1,
                        "recipe": name,
                        "platform": _PLATFORMS[j % len(_PLATFORMS)],
                        "exit_code": 6,
                        "category": "deterministic",
                        "timestamp": iso,
                    },
                    separators=(",", ":"),
                )
                + "\n"
                for j in range(lines)
            )
            path = data / "failures" / f"batch-{file_time}-{i}.jsonl"
        else:  # the orchestrator's: one line per (ecosystem, run) with a failures array
            eco = rng.choice(_ECOSYSTEMS)
            records = []
            for _ in range(lines):
                failures = []
                for _ in range(rng.randint(1, 3)):
                    name = rng.choice(names)
                    category = rng.choice(_CATEGORIES)
                    message = _BANNER + f"Creating recipe for {name}...\n" * rng.randint(1, 6)
                    message += f"Error: registry: recipe lib{name} not found in registry"
                    failure: dict[str, object] = {
                        "package_id": f"{eco}:{name}",
                        "category": category,
                        "message": message,
                        "timestamp": iso,
                    }
                    if category == "recipe_not_found" and rng.random() < 0.5:
                        failure["blocked_by"] = [f"lib{rng.randint(0, 40)}"]
                    failures.append(failure)
                record = {
                    "schema_version": 1,
                    "ecosystem": eco,
                    "environment": "linux-glibc-x86_64",
                    "updated_at": file_time,
                    "failures": failures,
                }
                records.append(json.dumps(record, separators=(",", ":")))
            body = "\n".join(records) + "\n"
            path = data / "failures" / f"{eco}-{file_time}-{i}.jsonl"
        path.write_text(body, encoding="utf-8")

    n_metrics = METRICS_FILES * scale // divisor
    for i in range(n_metrics):
        iso, file_time = _stamp(rng)
        total = rng.randint(0, 10)
        run = {
            "batch_id": iso[:10],
            "ecosystems": dict.fromkeys(_ECOSYSTEMS, 1),
            "total": total,
            "generated": total,
            "platforms": {"linux-x86_64": {"tested": 5, "passed": 0, "failed": 5}},
            "merged": rng.randint(0, total),
            "excluded": 0,
            "constrained": 0,
            "timestamp": iso,
            "duration_seconds": rng.randint(5, 60),
        }
        (data / "metrics" / f"batch-runs-{file_time}-{i}.jsonl").write_text(json.dumps(run, indent=2) + "\n")

    control = {
        "enabled": True,
        "disabled_ecosystems": [],
        "circuit_breaker": {
            eco: {"state": "open", "failures": 900, "last_failure": "2026-06-26T20:51:01Z"}
            for eco in _ECOSYSTEMS
        },
        "budget": {"macos_minutes_used": 0, "linux_minutes_used": 0, "week_start": ""},
    }
    (root / "batch-control.json").write_text(json.dumps(control, indent=2), encoding="utf-8")
    curated = {
        "schema_version": 1,
        "disambiguations": [{"tool": f"t{i}", "selected": f"homebrew:t{i}"} for i in range(20)],
    }
    (data / "disambiguations" / "curated.jsonl").write_text(json.dumps(curated) + "\n", encoding="utf-8")
    return {
        "failure_files": n_files,
        "failure_lines": n_lines,
        "metrics_files": n_metrics,
        "queue_entries": n_queue,
    }


def time_build(root: Path) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one ``build`` in a child process.

    The child's peak memory shows in ``RUSAGE_CHILDREN``; CPU time is reported too because wall
    time on a busy machine measures the neighbours as much as the build.
    """
    # like an installed package (pip compiles bytecode at install): a development shell's
    # PYTHONDONTWRITEBYTECODE would make every timed run compile this project's modules again
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    warm = [sys.executable, "-c", "import recipeline_dashboard.__main__"]
    subprocess.run(warm, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    command = [
        sys.executable,
        "-m",
        "recipeline_dashboard",
        "build",
        "--repo",
        str(root),
        "--output",
        str(root / "out"),
        "--now",
        "2026-08-15T00:00:00Z",
    ]
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def run_bench(scale: int, repeat: int) -> int:
    """Print the corpus, the best wall time of ``repeat`` builds, peak memory and the reference."""
    if scale < 1 or repeat < 1:
        print("recipeline-dashboard: error: --scale and --repeat must be at least 1", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="dashboard-bench-") as tmp:
        root = Path(tmp)
        counts = write_corpus(root, scale)
        # the corpus was just written: its dirty pages would be written back by kernel threads
        # on the same cores during the first builds; a repository that was checked out has none
        os.sync()
        measured = [time_build(root) for _ in range(repeat)]
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux: KiB
    times = [wall for wall, _ in measured]
    described = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in counts.items())
    print(f"corpus (scale {scale}): {described}")
    print(
        f"build: best {min(times):.3f} s of {repeat} (all: {', '.join(f'{t:.3f}' for t in times)}); "
        f"peak memory {peak_mib:.1f} MiB"
    )
    print(f"cpu (user+system, all build processes): best {min(cpu for _, cpu in measured):.3f} s")
    ref = REFERENCE.get(scale)
    if ref:
        mem = "" if ref[1] is None else f", {ref[1]:.0f} MiB"
        print(f"reference (tsuku's Go queue-analytics): {ref[0]} s{mem}")
    return 0
