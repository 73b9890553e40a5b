"""Batch throughput: a batch of N packages against a local index with a fixed latency.

Prints the wall time of ``invoke batch`` next to its bound (ARCHITECTURE §10):

    bound = requests / allowed rate  +  validation work / workers

where ``requests`` is what the generator sent to the index (counted by the server by its
User-Agent; pip's downloads during validation are validation work, not rate limited), the allowed
rate is the per-host limit the run was given, and ``validation work`` is the sum of the measured
per-recipe validation durations from the run's own results. With generation overlapping
validation the wall time can beat the bound; without it, it cannot.

Run with ``invoke bench batch`` (or ``python benchmarks/batch.py --packages 100``); it needs the
flow requirements (``pip install -r requirements-flow.txt``) and a git identity or none (the
merger falls back to its own).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from flowsupport import PROJECT, LocalIndex, Wheel, git
from pytest_httpserver import HTTPServer


def run(packages: int, latency: float, rate: float, workers: int) -> dict[str, float]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        index = LocalIndex(server)
        index.latency = latency
        names = [f"tool{i:03d}" for i in range(packages)]
        for name in names:
            index.add(Wheel(name, "1.0.0", {name: f"{name} 1.0.0"}))
        with tempfile.TemporaryDirectory(prefix="recipeline-bench-") as tmp:
            repo = Path(tmp) / "repo"
            (repo / "recipes").mkdir(parents=True)
            (repo / ".gitignore").write_text("build/\n")
            git(repo, "init", "-q", "-b", "main")
            git(repo, "add", "-A")
            git(
                repo,
                "-c",
                "user.name=bench",
                "-c",
                "user.email=bench@bench.invalid",
                "commit",
                "-q",
                "-m",
                "init",
            )
            listing = Path(tmp) / "list.txt"
            listing.write_text("".join(f"{n} pypi:{n} 1\n" for n in names))
            env = {k: v for k, v in os.environ.items() if "TOKEN" not in k}
            env.update(
                PIP_INDEX_URL=index.url,
                PIP_CONFIG_FILE=os.devnull,
                RECIPELINE_RATE_LIMIT_PYPI=f"{rate:g}/1",
            )
            invoke = [sys.executable, "-m", "invoke", "-r", str(PROJECT)]
            seed = ["seed", "--ecosystem", "pypi", "--from-file", str(listing), "--repo", str(repo)]
            subprocess.run([*invoke, *seed], env=env, check=True, capture_output=True)
            server.clear_log()
            started = time.monotonic()
            subprocess.run(
                [*invoke, "batch", "--ecosystem", "pypi", "--batch-size", str(packages), "--repo", str(repo),
                 "--workers", str(workers), "--json"],
                env=env, check=True, capture_output=True,
            )  # fmt: skip
            wall = time.monotonic() - started
            # only the generator's requests are rate limited; pip's downloads in validation are not
            requests = sum(
                1 for request, _ in server.log if request.user_agent.string.startswith("recipeline/")
            )
            (results,) = (repo / "build" / "batches").glob("*/results/*.json")
            work = sum(r["duration_seconds"] for r in json.loads(results.read_text())["results"])
    finally:
        server.clear()
        server.stop()
    bound = requests / rate + work / workers
    return {
        "wall_seconds": wall,
        "requests": requests,
        "validation_work_seconds": work,
        "bound_seconds": bound,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=100)
    parser.add_argument(
        "--latency", type=float, default=0.05, help="seconds the index waits per project page"
    )
    parser.add_argument("--rate", type=float, default=10.0, help="allowed requests per second to the index")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    figures = run(args.packages, args.latency, args.rate, args.workers)
    wall, bound = figures["wall_seconds"], figures["bound_seconds"]
    print(
        f"batch of {args.packages}: wall {wall:.1f} s, bound {bound:.1f} s "
        f"({figures['requests']:.0f} requests at {args.rate:g}/s + "
        f"{figures['validation_work_seconds']:.1f} s validation / {args.workers} workers); "
        f"wall/bound = {wall / bound:.2f} (target <= 1.10)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
