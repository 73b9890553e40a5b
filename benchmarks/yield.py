"""Live yield: how many of 100 popular command-line tools become a recipe that passes (opt-in, live).

For each ecosystem given (PyPI, npm: the two this machine's registries can serve), a fresh git
repository is seeded from the committed list ``benchmarks/yield-<ecosystem>.txt`` (the project's
choice of 100 popular tools, one ``name source priority`` line each) and one ``invoke batch`` of
all of them runs against the real registry: the generator reads the index pip and npm are
configured for, the validator installs with the real toolchains in its sandbox, the merger
commits what passed on the batch branch. Nothing is mocked and nothing is asserted: the table says,
per package, the outcome, the failure category, the verify the merger committed (the one the
validator's version probes found) and the installed vs the newest version.

Run with ``invoke bench yield`` (``--ecosystem pypi``, ``--limit 5`` for a quick look; ``--table F``
writes the markdown table to F). ``benchmarks/yield.py --only NAME`` (repeatable) runs only those
tools of the list, ``--keep DIR`` keeps the throwaway repository and the validator's logs there
(``DIR/repo-<ecosystem>/build/batches/<id>/``). It needs the flow requirements, the network to the
registries, node and npm for npm. A run of 100 npm tools takes about half an hour on 2 cores. The
last full run's table, with its losses and their causes, is committed as
``benchmarks/yield-<ecosystem>.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
TARGET = 95  # of 100: issue 12's bar


def tool_list(ecosystem: str, limit: int | None, only: list[str] | None = None) -> list[str]:
    """The committed list's lines (comments and blanks dropped): those whose name is in ``only``
    when given, the first ``limit`` of them."""
    path = HERE / f"yield-{ecosystem}.txt"
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    if only:
        lines = [line for line in lines if line.split()[0] in only]
    return lines[:limit] if limit else lines


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def run(ecosystem: str, lines: list[str], workers: int, work: Path) -> tuple[list[dict[str, str]], float]:
    """One live batch of ``lines``; the rows of the table and the wall time."""
    repo = work / f"repo-{ecosystem}"
    (repo / "recipes").mkdir(parents=True)
    (repo / ".gitignore").write_text("build/\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=bench", "-c", "user.email=bench@bench.invalid", "commit", "-q", "-m", "init")
    listing = work / f"{ecosystem}.txt"
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if "TOKEN" not in k}  # local run: no PR is opened
    invoke = [sys.executable, "-m", "invoke", "-r", str(PROJECT)]
    seed = ["seed", "--ecosystem", ecosystem, "--from-file", str(listing), "--repo", str(repo)]
    subprocess.run([*invoke, *seed], env=env, check=True, capture_output=True, text=True)
    started = time.monotonic()
    batch = [*invoke, "batch", "--ecosystem", ecosystem, "--batch-size", str(len(lines)), "--repo", str(repo)]
    done = subprocess.run(
        [*batch, "--workers", str(workers), "--json"], env=env, capture_output=True, text=True
    )
    wall = time.monotonic() - started
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"yield: invoke batch --ecosystem {ecosystem} failed (exit {done.returncode})")
    return rows(repo), wall


def rows(repo: Path) -> list[dict[str, str]]:
    """Per package of the batch: outcome, category, verify committed, installed and newest version."""
    (manifest_path,) = (repo / "data" / "batches").glob("*-*-*-*.json")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    (batch_dir,) = (repo / "build" / "batches").iterdir()
    failures: dict[str, dict[str, str]] = {}
    generation = json.loads((batch_dir / "generation.json").read_text(encoding="utf-8"))
    for package in generation["packages"]:
        if package.get("failure"):
            failures[package["package_id"]] = package["failure"]
    for path in sorted((batch_dir / "results").glob("*.json")):
        for result in json.loads(path.read_text(encoding="utf-8"))["results"]:
            if result.get("failure"):
                failures.setdefault(result["package_id"], result["failure"])
    out = []
    for package in manifest["packages"]:
        failure = failures.get(package["package_id"]) if package["outcome"] != "merged" else None
        verify = ""
        if package.get("recipe_path") and manifest.get("branch"):
            text = git(repo, "show", f"{manifest['branch']}:{package['recipe_path']}")
            found = tomllib.loads(text).get("verify", {})
            verify = found.get("command", "") + (
                f" (exit {found['exit_code']})" if found.get("exit_code") else ""
            )
        installed = sorted(set(package.get("installed_versions", {}).values()))
        out.append(
            {
                "package": package["package_id"],
                "outcome": package["outcome"],
                "category": f"{failure['category']}/{failure.get('subcategory') or ''}" if failure else "",
                "verify": verify,
                "installed": ", ".join(installed),
                "latest": package.get("latest_version") or "",
                "reason": " ".join((failure or {}).get("message", package.get("reason", "")).split())[:200]
                if package["outcome"] != "merged"
                else "",
            }
        )
    return out


def table(ecosystem: str, lines: list[dict[str, str]], wall: float) -> str:
    passed = sum(1 for row in lines if row["outcome"] == "merged")
    head = (
        f"### {ecosystem}: {passed}/{len(lines)} yield a passing recipe (target {TARGET}/100), "
        f"wall {wall / 60:.1f} min\n\n"
        "| package | outcome | category | verify committed | installed | latest | reason |\n"
        "|---|---|---|---|---|---|---|\n"
    )
    body = "".join(
        f"| {r['package']} | {r['outcome']} | {r['category']} | `{r['verify']}` | {r['installed']} | "
        f"{r['latest']} | {r['reason'].replace('|', '/')} |\n"
        for r in lines
    )
    return head + body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ecosystem", action="append", choices=("pypi", "npm"), help="default: both")
    parser.add_argument("--limit", type=int, default=None, help="only the first N tools of each list")
    parser.add_argument("--only", action="append", default=None, help="only this tool (repeatable)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--table", type=Path, default=None, help="also write the markdown table here")
    parser.add_argument("--keep", type=Path, default=None, help="work here and keep it (logs)")
    args = parser.parse_args()
    report = []
    with tempfile.TemporaryDirectory(prefix="recipeline-yield-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for ecosystem in args.ecosystem or ("pypi", "npm"):
            lines, wall = run(ecosystem, tool_list(ecosystem, args.limit, args.only), args.workers, work)
            report.append(table(ecosystem, lines, wall))
            print(report[-1], flush=True)
    if args.table:
        args.table.write_text("\n".join(report), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
