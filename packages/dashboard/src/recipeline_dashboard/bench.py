"""``bench``: the dashboard's build beside tsuku's own ``queue-analytics``, on tsuku's real data.

With tsuku's snapshot (``../shared/fixtures/tsuku-snapshot.tar.gz``) it is unpacked into a
temporary directory; at scale N every failure file gets N-1 copies named ``<stem>-dK.jsonl``
(the ecosystem prefix still parses). With tsuku's binary (``../shared/tools/tsuku-queue-analytics``)
both programs run on that data alternately (tsuku, recipeline, tsuku, ...), each as a child
process, and the medians, their ratio and each program's peak memory (the child's maximum
resident set size) are printed. Without the snapshot the corpus is synthetic (``write_corpus``:
tsuku's production counts and shape at scale 1); without the binary only recipeline's figures
are printed, and it says so.

Our build runs as ``python -m recipeline_dashboard build``: interpreter start and imports are
included, as the Go tool's start is, with bytecode cached as after an install.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

FAILURE_FILES, FAILURE_LINES, METRICS_FILES, QUEUE_ENTRIES = 5785, 6631, 1671, 5305
#: the most our build's median may be of tsuku's, by scale (ARCHITECTURE §10, issue 13)
TARGET_RATIO = {1: 1.0, 10: 0.7}
SNAPSHOT = Path("fixtures") / "tsuku-snapshot.tar.gz"
TSUKU_BINARY = Path("tools") / "tsuku-queue-analytics"
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


def shared_dir() -> Path | None:
    """``../shared`` beside the project: from the current directory, else from this checkout."""
    for root in (Path.cwd(), *Path(__file__).resolve().parents):
        candidate = root.parent / "shared"
        if (candidate / SNAPSHOT).is_file() or (candidate / TSUKU_BINARY).is_file():
            return candidate
    return None


def unpack_snapshot(archive: Path, root: Path, scale: int = 1) -> int:
    """tsuku's snapshot under ``root``, each failure file copied ``scale - 1`` times
    (``<stem>-dK.jsonl``); returns how many failure files there are then."""
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(root, filter="data")
    failures = sorted((root / "data" / "failures").glob("*.jsonl"))
    for path in failures:
        for k in range(1, scale):
            shutil.copyfile(path, path.with_name(f"{path.stem}-d{k}.jsonl"))
    return len(failures) * scale


def _ours(root: Path) -> list[str]:
    return [
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


def _tsuku(binary: Path, root: Path) -> list[str]:
    data = root / "data"
    return [
        str(binary),
        "-queue",
        str(data / "queues" / "priority-queue.json"),
        "-failures-dir",
        str(data / "failures"),
        "-metrics-dir",
        str(data / "metrics"),
        "-disambiguations-dir",
        str(data / "disambiguations"),
        "-control-file",
        str(root / "batch-control.json"),
        "-output",
        str(root / "go-dashboard.json"),
    ]


def timed(command: Sequence[str], env: dict[str, str]) -> tuple[float, float | None]:
    """Wall seconds and peak memory (MiB) of one child process running ``command``.

    The peak is GNU time's (``%M``, the child's maximum resident set size), None without it: a
    child forked from this Python process would report this process's size as its own peak
    (Linux keeps the larger of the forked copy and the program it then runs).
    """
    gnu_time = shutil.which("time", path="/usr/bin:/bin")
    with tempfile.NamedTemporaryFile(prefix="bench-rss-", mode="r") as rss:
        measured = [gnu_time, "-f", "%M", "-o", rss.name, *command] if gnu_time else list(command)
        start = time.perf_counter()
        subprocess.run(measured, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        kib = rss.read().strip().rpartition("\n")[2]
    return wall, int(kib) / 1024 if gnu_time and kib.isdigit() else None


def run_bench(scale: int, repeat: int) -> int:
    """Time ``repeat`` builds of each program, alternated; print medians, ratio, peak memory."""
    if scale < 1 or repeat < 1:
        print("recipeline-dashboard: error: --scale and --repeat must be at least 1", file=sys.stderr)
        return 1
    shared = shared_dir()
    snapshot = shared / SNAPSHOT if shared and (shared / SNAPSHOT).is_file() else None
    binary = shared / TSUKU_BINARY if shared and (shared / TSUKU_BINARY).is_file() else None
    # like an installed package (bytecode compiled at install): a development shell's
    # PYTHONDONTWRITEBYTECODE would make every timed run compile this project's modules again
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory(prefix="dashboard-bench-") as tmp:
        root = Path(tmp)
        if snapshot is not None:
            files = unpack_snapshot(snapshot, root, scale)
            print(f"data: tsuku's snapshot ({snapshot}) at scale {scale}: {files:,} failure files")
        else:
            counts = write_corpus(root, scale)
            described = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in counts.items())
            print(f"data: no tsuku snapshot under ../shared; a synthetic corpus (scale {scale}): {described}")
            binary = None  # tsuku's binary reads its own layout's files only from the snapshot
        # the data were just written: their dirty pages would be written back by kernel threads
        # during the first runs; a repository that was checked out has none
        os.sync()
        programs = {"recipeline": _ours(root)}
        if binary is not None:
            programs = {"tsuku": _tsuku(binary, root), **programs}
        else:
            print("tsuku's queue-analytics not found (../shared/tools): recipeline's figures alone")
        for command in programs.values():  # untimed: bytecode written, files in the page cache
            timed(command, env)
        runs: dict[str, list[tuple[float, float | None]]] = {name: [] for name in programs}
        for _ in range(repeat):
            for name, command in programs.items():
                runs[name].append(timed(command, env))
    medians: dict[str, float] = {}
    peaks: dict[str, float | None] = {}
    for name, measured in runs.items():
        walls = [wall for wall, _ in measured]
        medians[name] = statistics.median(walls)
        memory = [mem for _, mem in measured if mem is not None]
        peaks[name] = max(memory) if memory else None
        shown = f"{peaks[name]:.1f} MiB" if peaks[name] is not None else "unknown (no GNU time)"
        print(
            f"{name}: median {medians[name]:.3f} s of {repeat} "
            f"(all: {', '.join(f'{w:.3f}' for w in walls)}); peak memory {shown}"
        )
    if "tsuku" in medians:
        ratio = medians["recipeline"] / medians["tsuku"]
        target = TARGET_RATIO.get(scale)
        verdict = "" if target is None else f" (target <= {target}x: {'ok' if ratio <= target else 'over'})"
        print(f"wall, ratio of medians recipeline / tsuku: {ratio:.2f}x{verdict}")
        ours, theirs = peaks["recipeline"], peaks["tsuku"]
        if ours is not None and theirs is not None:
            met = "ok" if ours <= theirs else "over"
            print(f"peak memory recipeline / tsuku: {ours / theirs:.2f}x (target <= 1: {met})")
    return 0
