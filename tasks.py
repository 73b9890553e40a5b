"""recipeline's operator commands and the batch flow, as Invoke tasks.

Each task is thin: it runs a stage's own CLI (``python -m recipeline_<stage> ...``) in a child
process, so every stage can also be run alone, a crash in one stage cannot corrupt another's
state, and this file imports nothing heavy (``invoke --list`` works in a fresh checkout).

Settings live in invoke configuration (``invoke.yaml`` or ``INVOKE_RECIPELINE_*`` variables):
``recipeline.repo`` is the repository whose ``data/`` and ``recipes/`` the tasks work on
(default: the directory of this file).
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

HERE = Path(__file__).resolve().parent


def _repo(c: Context, repo: str | None) -> Path:
    """The repository root the task works on: --repo, else configuration, else this checkout."""
    configured = c.config.get("recipeline", {}).get("repo") if "recipeline" in c.config else None
    return Path(repo or configured or HERE).resolve()


def _stage(c: Context, module: str, *args: object, capture: bool = False) -> str:
    """Run ``python -m recipeline_<module> args``; a failure ends the task with its one-line error."""
    command = shlex.join([sys.executable, "-m", f"recipeline_{module}", *map(str, args)])
    result = c.run(command, warn=True, hide="out" if capture else None, pty=False)
    if result is None or result.failed:
        code = result.exited if result is not None else 1
        raise Exit(f"recipeline_{module} {args[0] if args else ''} failed (exit {code})", code=code or 1)
    return str(result.stdout)


def _preflight(c: Context, root: Path, ecosystem: str, size: int, tier: int, *, capture: bool = False) -> str:
    return _stage(
        c, "merger", "preflight", "--repo", root, "--ecosystem", ecosystem,
        "--batch-size", size, "--tier", tier, capture=capture,
    )  # fmt: skip


def _last_json(text: str) -> dict[str, Any]:
    """The last JSON object line a stage printed (stages print one summary line)."""
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            value = json.loads(line)
            if isinstance(value, dict):
                return value
    raise Exit(f"expected a JSON summary line from the stage, got: {text[-200:]!r}", code=1)


@task(
    help={
        "ecosystem": "ecosystem to draw from (homebrew cask cargo npm pypi rubygems go cpan)",
        "batch_size": "how many queue entries to select (default 10)",
        "tier": "take entries of priority <= tier (1 critical, 2 popular, 3 standard; default 3)",
        "environment": "validation environment id, or 'auto' to detect the host (default)",
        "repo": "repository root (default: this checkout)",
        "workers": "parallel validation workers (default: number of cores)",
    }
)
def batch(
    c: Context,
    ecosystem: str,
    batch_size: int = 10,
    tier: int = 3,
    environment: str = "auto",
    repo: str | None = None,
    workers: int = 0,
) -> None:
    """Run one batch end to end: preflight, generate, validate, merge."""
    root = _repo(c, repo)
    plan = _last_json(_preflight(c, root, ecosystem, batch_size, tier, capture=True))
    if not plan.get("batch_id"):
        print(f"nothing to do for {ecosystem}: {plan.get('reason') or 'no eligible entries'}")
        return
    batch_dir = plan["batch_dir"]
    print(f"batch {plan['batch_id']}: {plan['selected']} {ecosystem} packages -> {batch_dir}")
    _stage(c, "generator", "generate", "--batch-dir", batch_dir, "--repo", root)
    validate_args: list[object] = ["validate", "--batch-dir", batch_dir, "--environment", environment]
    if workers:
        validate_args += ["--workers", workers]
    _stage(c, "validator", *validate_args)
    summary = _last_json(_stage(c, "merger", "merge", "--repo", root, "--batch-dir", batch_dir, capture=True))
    print(json.dumps(summary, indent=2))


@task(help={"repo": "repository root (default: this checkout)", "output": "output directory"})
def dashboard(c: Context, repo: str | None = None, output: str | None = None) -> None:
    """Build website/pipeline/dashboard.json from data/."""
    root = _repo(c, repo)
    _stage(c, "dashboard", "build", "--repo", root, "--output", output or root / "website" / "pipeline")


@task(
    help={
        "ecosystem": "ecosystem whose queue to fill",
        "from_file": "plain list of packages (one per line: name [source] [priority] [popularity])",
        "limit": "add at most this many new packages",
        "dry_run": "print what would be added, write nothing",
        "repo": "repository root (default: this checkout)",
    }
)
def seed(
    c: Context,
    ecosystem: str,
    from_file: str,
    limit: int = 0,
    dry_run: bool = False,
    repo: str | None = None,
) -> None:
    """Add new packages to an ecosystem's queue (additive; never rewrites a status)."""
    args: list[object] = [
        "seed",
        "--repo",
        _repo(c, repo),
        "--ecosystem",
        ecosystem,
        "--from-file",
        from_file,
    ]
    if limit:
        args += ["--limit", limit]
    if dry_run:
        args.append("--dry-run")
    _stage(c, "seeder", *args)


@task(
    help={
        "ecosystem": "ecosystem to draw from",
        "batch_size": "how many entries to select",
        "tier": "highest priority number to take (1-3)",
        "repo": "repository root (default: this checkout)",
    }
)
def preflight(
    c: Context, ecosystem: str, batch_size: int = 10, tier: int = 3, repo: str | None = None
) -> None:
    """Stage 1: check the controls, select entries, write the batch plan; prints a JSON line."""
    _preflight(c, _repo(c, repo), ecosystem, batch_size, tier)


@task(help={"batch_dir": "the batch directory written by preflight", "repo": "repository root"})
def generate(c: Context, batch_dir: str, repo: str | None = None) -> None:
    """Stage 2: generate recipes for a batch directory."""
    _stage(c, "generator", "generate", "--batch-dir", batch_dir, "--repo", _repo(c, repo))


@task(
    help={
        "batch_dir": "the batch directory written by preflight",
        "environment": "environment id, or 'auto' to detect the host",
        "workers": "parallel workers (default: number of cores)",
    }
)
def validate(c: Context, batch_dir: str, environment: str = "auto", workers: int = 0) -> None:
    """Stage 3: validate a batch's recipes on one environment; writes results/<env>.json."""
    args: list[object] = ["validate", "--batch-dir", batch_dir, "--environment", environment]
    if workers:
        args += ["--workers", workers]
    _stage(c, "validator", *args)


@task(help={"batch_dir": "the batch directory", "repo": "repository root (default: this checkout)"})
def merge(c: Context, batch_dir: str, repo: str | None = None) -> None:
    """Stage 4: record results in data/, commit passing recipes on branch batch/<id>."""
    _stage(c, "merger", "merge", "--repo", _repo(c, repo), "--batch-dir", batch_dir)


@task(
    help={"repo": "repository root (default: this checkout)", "default_branch": "branch recipes merge into"}
)
def reconcile(c: Context, repo: str | None = None, default_branch: str = "main") -> None:
    """Mark entries whose recipe is on the default branch as success; free vanished batches."""
    _stage(c, "merger", "reconcile", "--repo", _repo(c, repo), "--default-branch", default_branch)


ns = Collection(batch, dashboard, seed, preflight, generate, validate, merge, reconcile)
ns.configure({"recipeline": {"repo": None}})
