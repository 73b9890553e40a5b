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
import os
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


def _run(c: Context, module: str, *args: object, capture: bool = False) -> tuple[int, str]:
    """Run ``python -m recipeline_<module> args``; return its exit code and (captured) stdout."""
    command = shlex.join([sys.executable, "-m", f"recipeline_{module}", *map(str, args)])
    result = c.run(command, warn=True, hide="out" if capture else None, pty=False)
    return result.exited, str(result.stdout)


def _stage(c: Context, module: str, *args: object, capture: bool = False) -> str:
    """Run a stage's CLI; a failure ends the task with the stage's exit code (its error is above)."""
    code, out = _run(c, module, *args, capture=capture)
    if code != 0:
        raise Exit(f"recipeline_{module} {args[0] if args else ''} failed (exit {code})", code=code)
    return out


#: merger preflight's exit code when the emergency stop refuses the ecosystem
EXIT_STOPPED = 3


def _preflight(
    c: Context, root: Path, ecosystem: str, size: int, tier: int, *, dry_run: bool = False
) -> dict[str, Any]:
    """The merger's preflight summary; with ``auto`` the merger's rotation picks the ecosystem.

    A dry run writes nothing.
    """
    out = _stage(c, "merger", "preflight", "--repo", root, "--ecosystem", ecosystem, "--batch-size", size,
                 "--tier", tier, *(["--dry-run"] if dry_run else []), capture=True)  # fmt: skip
    plan = _last_json(out)
    return {**plan, "ecosystem": plan["ecosystem"] if ecosystem == "auto" else ecosystem}


def _last_json(text: str) -> dict[str, Any]:
    """The last JSON object line a stage printed (stages print one summary line)."""
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            value = json.loads(line)
            if isinstance(value, dict):
                return value
    raise Exit(f"expected a JSON summary line from the stage, got: {text[-200:]!r}", code=1)


def _check_inputs(c: Context, root: Path, ecosystem: str, size: int, tier: int) -> None:
    """Refuse an out-of-range input before anything is written: one line on stderr and in the
    step summary, exit 2. The merger owns the ranges (``preflight --check``)."""
    command = shlex.join([
        sys.executable, "-m", "recipeline_merger", "preflight", "--repo", str(root), "--ecosystem", ecosystem,
        "--batch-size", str(size), "--tier", str(tier), "--check",
    ])  # fmt: skip
    result = c.run(command, warn=True, hide=True, pty=False)
    if result.exited == 0:
        return
    lines = str(result.stderr).strip().splitlines()
    line = lines[-1] if lines else f"preflight --check failed (exit {result.exited})"
    _step_summary(f"**preflight refused its input**: {line}")
    raise Exit(line, code=result.exited)


def _step_summary(text: str) -> None:
    """Append a paragraph to the GitHub Actions step summary, when there is one."""
    import os

    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with Path(path).open("a", encoding="utf-8") as fh:
            fh.write(text.rstrip("\n") + "\n\n")


#: The sandbox's limits for ``batch`` and ``validate``: option, validator flag, the environment
#: variable a workflow sets instead (repository variables), help.
SANDBOX_LIMITS = (
    ("timeout", "--timeout", "RECIPELINE_VERIFY_TIMEOUT", "wall-clock seconds of a verify (default 300)"),
    ("install_timeout", "--install-timeout", "RECIPELINE_INSTALL_TIMEOUT", "seconds per install (600)"),
    ("memory_gib", "--memory-gib", "RECIPELINE_MEMORY_GIB", "memory per command in GiB (default 2)"),
    ("cpus", "--cpus", "RECIPELINE_CPUS", "CPUs per command (default 2)"),
    ("pids", "--pids", "RECIPELINE_PIDS", "processes per command (default 1024)"),
)
SANDBOX_HELP = {name: f"{text}; or ${variable}" for name, _, variable, text in SANDBOX_LIMITS}


def _sandbox_args(**given: float) -> list[object]:
    """The validator's limit flags: an option given (non-zero), else its environment variable."""
    args: list[object] = []
    for name, flag, variable, _ in SANDBOX_LIMITS:
        value = given.get(name) or os.environ.get(variable, "").strip()
        if value:
            args += [flag, value]
    return args


@task(
    help={
        "ecosystem": "homebrew cask cargo npm pypi rubygems go cpan, or auto (UTC hour rotation)",
        "batch_size": "how many queue entries to select (default 10)",
        "tier": "take entries of priority <= tier (1 critical, 2 popular, 3 standard; default 3)",
        "environment": "validation environment id, or 'auto' to detect the host (default)",
        "repo": "repository root (default: this checkout)",
        "workers": "parallel validation workers (default: number of cores)",
        "json": "print only the batch summary as one JSON object (for scripts)",
        "dry_run": "show what preflight would select; write nothing",
        "skip_macos": "never validate on macOS (refuses on a macOS host, where nothing else could)",
        **SANDBOX_HELP,
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
    json: bool = False,
    dry_run: bool = False,
    skip_macos: bool = False,
    timeout: float = 0.0,
    install_timeout: float = 0.0,
    memory_gib: float = 0.0,
    cpus: int = 0,
    pids: int = 0,
) -> None:
    """Run one batch end to end: preflight, generate, validate, merge (resumes an interrupted one first).

    One batch runs at a time per repository: a second ``invoke batch`` refuses while the first
    holds ``build/batch.lock``. A batch whose run was killed (its plan exists, its manifest does
    not) is finished first, from the stage where it stopped.
    """
    import platform

    from recipeline_schema import LockTimeoutError, file_lock

    root = _repo(c, repo)
    _check_inputs(c, root, ecosystem, batch_size, tier)
    if skip_macos and (
        environment.startswith("darwin") or (environment == "auto" and platform.system() == "Darwin")
    ):
        raise Exit("invoke batch: --skip-macos on macOS leaves no environment to validate on", code=2)
    if dry_run:
        plan = _preflight(c, root, ecosystem, batch_size, tier, dry_run=True)
        if ecosystem == "auto":
            print(f"rotation picked {plan.get('ecosystem') or 'no ecosystem'}")
            for passed in plan.get("passed_over", []):
                print(f"  passed over {passed['ecosystem']}: {passed['reason']}")
        print(plan.get("reason") or "nothing eligible")
        for source in plan.get("packages", []):
            print(f"  {source}")
        return
    try:
        with file_lock(root / "build" / "batch.lock", what="a batch"):
            limits = _sandbox_args(
                timeout=timeout, install_timeout=install_timeout, memory_gib=memory_gib, cpus=cpus, pids=pids
            )
            summary = _run_batch(
                c, root, ecosystem, batch_size, tier, environment, workers, quiet=json, limits=limits
            )
    except LockTimeoutError as exc:
        raise Exit(f"invoke batch: {exc}", code=4) from None
    _report(summary, as_json=json)


def _run_batch(
    c: Context,
    root: Path,
    ecosystem: str,
    size: int,
    tier: int,
    environment: str,
    workers: int,
    *,
    quiet: bool,
    limits: list[object] | None = None,
) -> dict[str, Any]:
    """The batch's merge summary, or the preflight summary when nothing was selected.

    ``quiet`` keeps stdout for the final JSON: the stages' own lines are not shown and this
    task's notes go to stderr (progress lines are on stderr anyway).
    """
    note = sys.stderr if quiet else sys.stdout
    converged = _last_json(_stage(c, "merger", "reconcile", "--repo", root, capture=True))
    print(f"reconcile: {_counts(converged)}", file=note)
    resume = _last_json(_stage(c, "merger", "resume-state", "--repo", root, capture=True))
    if resume["batch_dir"]:
        batch_dir = Path(resume["batch_dir"])
        _refuse_when_stopped(c, root, batch_dir, resume["ecosystem"])
        print(f"resuming interrupted batch {batch_dir.name} ({batch_dir})", file=note)
    else:
        plan = _preflight(c, root, ecosystem, size, tier)
        if not plan.get("batch_id"):
            return {
                "batch_id": None,
                "ecosystem": ecosystem,
                "reason": plan.get("reason") or "nothing eligible",
            }
        batch_dir = Path(plan["batch_dir"])
        print(
            f"batch {plan['batch_id']}: {plan['selected']} {plan['ecosystem']} packages -> {batch_dir}",
            file=note,
        )
    validate_args: list[object] = ["validate", "--batch-dir", batch_dir, "--environment", environment]
    if workers:
        validate_args += ["--workers", workers]
    validate_args += limits or []
    if not (resume["batch_dir"] and resume["generation_complete"]):
        _generate_and_validate(c, root, batch_dir, validate_args, quiet=quiet)
    elif environment == "auto" or not (batch_dir / "results" / f"{environment}.json").exists():
        _stage(c, "validator", *validate_args, capture=quiet)
    out = _stage(c, "merger", "merge", "--repo", root, "--batch-dir", batch_dir, capture=True)
    summary = _last_json(out)
    summary["batch_dir"] = str(batch_dir)
    return summary


def _generate_and_validate(
    c: Context, root: Path, batch_dir: Path, validate_args: list[object], *, quiet: bool
) -> None:
    """Generate with the validator following: recipe n validates while n+1 is generated.

    Generation is bound by the registries' rate limits and validation by CPU, so running them
    side by side makes a batch take about the longer of the two instead of their sum.
    """
    import subprocess

    command = [sys.executable, "-m", "recipeline_validator", *map(str, validate_args), "--follow"]
    follower = subprocess.Popen(command, stdout=sys.stderr if quiet else None)
    try:
        code, _ = _run(c, "generator", "generate", "--batch-dir", batch_dir, "--repo", root, capture=quiet)
    except BaseException:
        follower.kill()
        raise
    if code != 0:
        follower.kill()
        follower.wait()
        raise Exit(f"recipeline_generator generate failed (exit {code})", code=code)
    if (status := follower.wait()) != 0:
        raise Exit(f"recipeline_validator validate failed (exit {status})", code=status)


def _report(summary: dict[str, Any], *, as_json: bool) -> None:
    """The batch summary: JSON for scripts, a line for people, the PR body as the step summary."""
    import os

    if as_json:
        print(json.dumps(summary, sort_keys=True))
    elif summary.get("batch_id") is None:
        print(f"nothing to do for {summary['ecosystem']}: {summary['reason']}")
    else:
        counts = ", ".join(
            f"{summary.get(k, 0)} {k}" for k in ("merged", "excluded", "failed", "blocked", "skipped")
        )
        print(f"batch {summary['batch_id']}: {counts}; branch {summary.get('branch') or '(none)'}")
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    body = Path(summary.get("batch_dir") or "-") / "pr-body.md"
    if step_summary and body.is_file():
        with Path(step_summary).open("a", encoding="utf-8") as fh:
            fh.write(body.read_text(encoding="utf-8") + "\n")


@task(help={"repo": "repository root (default: this checkout)", "output": "output directory"})
def dashboard(c: Context, repo: str | None = None, output: str | None = None) -> None:
    """Build website/pipeline/dashboard.json from data/."""
    root = _repo(c, repo)
    _stage(c, "dashboard", "build", "--repo", root, "--output", output or root / "website" / "pipeline")


@task(
    help={
        "ecosystem": "ecosystem whose queue to fill",
        "from_file": "seed from this plain list (name [source] [priority] [popularity]) instead of the API",
        "api": "with --from-file: also read the ecosystem's popularity API",
        "config": "seeder configuration (tiers, bounds; default data/seeds/seeder-config.json)",
        "limit": "add at most this many new packages",
        "dry_run": "print what would be added, write nothing",
        "repo": "repository root (default: this checkout)",
    }
)
def seed(
    c: Context,
    ecosystem: str,
    from_file: str | None = None,
    api: bool = False,
    config: str | None = None,
    limit: int = 0,
    dry_run: bool = False,
    repo: str | None = None,
) -> None:
    """Add new packages to an ecosystem's queue from its popularity source (additive, idempotent)."""
    args: list[object] = ["seed", "--repo", _repo(c, repo), "--ecosystem", ecosystem]
    if from_file:
        args += ["--from-file", from_file]
    if api:
        args.append("--api")
    if config:
        args += ["--config", config]
    if limit:
        args += ["--limit", limit]
    if dry_run:
        args.append("--dry-run")
    _stage(c, "seeder", *args)


@task(
    name="import-tsuku",
    help={
        "from_": "a tsuku repository (or its data/ directory) to convert",
        "dry_run": "report what would be imported, write nothing",
        "repo": "repository root (default: this checkout)",
    },
)
def import_tsuku(c: Context, from_: str, dry_run: bool = False, repo: str | None = None) -> None:
    """Convert tsuku's queues (unified and legacy) into per-ecosystem queues, keeping their state."""
    args: list[object] = ["import-tsuku", "--repo", _repo(c, repo), "--from", from_]
    if dry_run:
        args.append("--dry-run")
    _stage(c, "seeder", *args)


@task(
    help={
        "ecosystem": "ecosystem to draw from, or auto (UTC hour rotation)",
        "batch_size": "how many entries to select",
        "tier": "highest priority number to take (1-3)",
        "repo": "repository root (default: this checkout)",
        "github_output": "append batch_id, batch_dir, ecosystem, has_packages, macos to $GITHUB_OUTPUT",
        "check": "only check the inputs (the workflow's first step); write nothing",
    }
)
def preflight(
    c: Context,
    ecosystem: str,
    batch_size: int = 10,
    tier: int = 3,
    repo: str | None = None,
    github_output: str | None = None,
    check: bool = False,
) -> None:
    """Stage 1: check the controls, select entries, write the batch plan; prints a JSON line.

    An out-of-range input (batch size outside 1-100, an unknown ecosystem, a tier outside 1-3)
    is refused with one line, also in the step summary, before anything is written (exit 2).
    """
    root = _repo(c, repo)
    _check_inputs(c, root, ecosystem, batch_size, tier)
    if check:
        return
    plan = _preflight(c, root, ecosystem, batch_size, tier)
    print(json.dumps(plan))
    if github_output:
        outputs = {
            "batch_id": plan.get("batch_id") or "",
            "batch_dir": plan.get("batch_dir") or "",
            "ecosystem": plan.get("ecosystem") or "",
            "has_packages": "true" if plan.get("batch_id") else "false",
            "macos": plan.get("macos_validation") or "full",  # full | sampled | paused (the budget)
        }
        with Path(github_output).open("a", encoding="utf-8") as fh:
            fh.writelines(f"{key}={value}\n" for key, value in outputs.items())


BATCH_HELP = {
    "batch_dir": "the batch directory written by preflight",
    "batch_id": "or the batch id: its directory is build/batches/<id>",
    "repo": "repository root (default: this checkout)",
}


def _batch_dir(root: Path, batch_dir: str | None, batch_id: str | None) -> Path:
    """The batch directory named by --batch-dir or --batch-id (one of them)."""
    if bool(batch_dir) == bool(batch_id):
        raise Exit("expected exactly one of --batch-dir or --batch-id", code=2)
    return Path(batch_dir) if batch_dir else root / "build" / "batches" / str(batch_id)


@task(help=BATCH_HELP)
def generate(
    c: Context, batch_dir: str | None = None, batch_id: str | None = None, repo: str | None = None
) -> None:
    """Stage 2: generate recipes for a batch directory (refuses while the ecosystem is stopped)."""
    root = _repo(c, repo)
    directory = _batch_dir(root, batch_dir, batch_id)
    _refuse_when_stopped(c, root, directory)
    _stage(c, "generator", "generate", "--batch-dir", directory, "--repo", root)


@task(
    help={
        **BATCH_HELP,
        "environment": "environment id, or 'auto' to detect the host",
        "workers": "parallel workers (default: number of cores)",
        "only_passed_on": "linux: validate only recipes that passed some Linux environment (macOS jobs)",
        **SANDBOX_HELP,
    }
)
def validate(
    c: Context,
    batch_dir: str | None = None,
    batch_id: str | None = None,
    environment: str = "auto",
    workers: int = 0,
    only_passed_on: str | None = None,
    repo: str | None = None,
    timeout: float = 0.0,
    install_timeout: float = 0.0,
    memory_gib: float = 0.0,
    cpus: int = 0,
    pids: int = 0,
) -> None:
    """Stage 3: validate a batch on one environment; macOS follows the week's budget (full/sampled/paused)."""
    import platform

    root = _repo(c, repo)
    directory = _batch_dir(root, batch_dir, batch_id)
    _refuse_when_stopped(c, root, directory)
    args: list[object] = ["validate", "--batch-dir", directory, "--environment", environment]
    if workers:
        args += ["--workers", workers]
    if only_passed_on:
        args += ["--only-passed-on", only_passed_on]
    args += _sandbox_args(
        timeout=timeout, install_timeout=install_timeout, memory_gib=memory_gib, cpus=cpus, pids=pids
    )
    macos = environment.startswith("darwin") or (environment == "auto" and platform.system() == "Darwin")
    if macos:
        budget = _last_json(
            _stage(c, "merger", "budget", "--repo", root, "--batch-dir", directory, capture=True)
        )
        if budget["macos_validation"] == "paused":
            print(f"macOS validation paused by the budget ({budget['macos_minutes_used']:g} of "
                  f"{budget['macos_minutes_limit']:g} minutes used this week)")  # fmt: skip
            return
        if budget["macos_validation"] == "sampled":
            for package_id in budget["sample"]:
                args += ["--only", package_id]
            args += ["--only-reason", "not in this week's macOS sample (over 80% of the macOS budget used)"]
    _stage(c, "validator", *args)


@task(
    name="plan-macos",
    help={
        **BATCH_HELP,
        "github_output": "append recipes=<how many macOS validates> and mode=<budget mode> to $GITHUB_OUTPUT",
    },
)
def plan_macos(
    c: Context,
    batch_dir: str | None = None,
    batch_id: str | None = None,
    repo: str | None = None,
    github_output: str | None = None,
) -> None:
    """How many recipes macOS validates: those that passed some Linux environment, as the budget allows.

    Reads the Linux results present in the batch directory (a Linux leg that failed has none;
    the others still count), so one broken leg never skips macOS for the whole batch.
    """
    root = _repo(c, repo)
    directory = _batch_dir(root, batch_dir, batch_id)
    budget = _last_json(_stage(c, "merger", "budget", "--repo", root, "--batch-dir", directory, capture=True))
    mode = str(budget["macos_validation"])
    recipes = 0 if mode == "paused" else len(budget.get("sample") or [])
    environments = sorted(p.stem for p in (directory / "results").glob("linux-*.json"))
    line = (f"macOS validates {recipes} recipes ({mode}; Linux results from "
            f"{', '.join(environments) or 'no environment'})")  # fmt: skip
    print(line)
    _step_summary(line)
    if github_output:
        with Path(github_output).open("a", encoding="utf-8") as fh:
            fh.write(f"recipes={recipes}\nmode={mode}\n")


def _refuse_when_stopped(c: Context, root: Path, batch_dir: Path, ecosystem: str | None = None) -> None:
    """Every writing stage honours the emergency stop (exit 3 with the reason, from the merger).

    The batch's ecosystem comes from its plan, read by the merger (``resume-state``).
    """
    if ecosystem is None:
        state = _stage(c, "merger", "resume-state", "--batch-dir", batch_dir, capture=True)
        ecosystem = _last_json(state)["ecosystem"]
    args: list[object] = ["control", "status", "--repo", root]
    if ecosystem:
        args += ["--ecosystem", ecosystem]
    code, _ = _run(c, "merger", *args, capture=True)
    if code == EXIT_STOPPED:  # the merger has printed who stopped what, and why
        raise Exit("refusing to run while stopped (invoke control resume lifts the stop)", code=code)
    if code != 0:
        raise Exit(f"recipeline_merger control status failed (exit {code})", code=code)


@task(help=BATCH_HELP)
def merge(
    c: Context, batch_dir: str | None = None, batch_id: str | None = None, repo: str | None = None
) -> None:
    """Stage 4: record results in data/, commit passing recipes on branch batch/<id>."""
    root = _repo(c, repo)
    _stage(c, "merger", "merge", "--repo", root, "--batch-dir", _batch_dir(root, batch_dir, batch_id))


@task(
    help={
        "batch_id": "the merged batch whose PR to land",
        "timeout": "seconds to wait for its checks (default $RECIPELINE_CHECKS_TIMEOUT or 600)",
        "repo": "repository root (default: this checkout)",
    }
)
def finish(c: Context, batch_id: str, timeout: float | None = None, repo: str | None = None) -> None:
    """After the state is pushed: merge the batch PR once its checks are green (a bounded wait).

    Only needed where GitHub's auto-merge is not on; a PR still waiting when the time is up
    stays open with a comment, and the next run's reconcile merges it.
    """
    args: list[object] = ["finish", "--repo", _repo(c, repo), "--batch-id", batch_id]
    if timeout is not None:
        args += ["--timeout", timeout]
    _stage(c, "merger", *args)


@task(
    help={
        "repo": "repository root (default: this checkout)",
        "default_branch": "branch recipes merge into (default: origin's HEAD, else the checked-out branch)",
    }
)
def reconcile(c: Context, repo: str | None = None, default_branch: str | None = None) -> None:
    """Converge the queues: recipes on the default branch -> success; closed or dead batches released.

    Runs at the start of every ``invoke batch`` and of the workflow's preflight job; prints the
    merger's JSON summary (what it did, in counts) and adds it to the step summary.
    """
    args: list[object] = ["reconcile", "--repo", _repo(c, repo)]
    if default_branch:
        args += ["--default-branch", default_branch]
    out = _stage(c, "merger", *args, capture=True)
    summary = _last_json(out)
    print(json.dumps(summary))
    _step_summary(f"reconcile: {_counts(summary)}")


def _counts(summary: dict[str, Any]) -> str:
    """A reconcile summary's non-zero counts in one line."""
    counts = {k: v for k, v in summary.items() if isinstance(v, int) and not isinstance(v, bool) and v}
    return ", ".join(f"{v} {k}" for k, v in counts.items()) or "nothing to do"


@task(
    help={
        "message": "commit message",
        "repo": "repository root (default: this checkout)",
        "remote": "remote to push to (default origin)",
        "branch": "branch to push to (default: the current branch)",
        "attempts": "push attempts, rebasing on the remote between them (default 10)",
        "github_output": "append commit=<the state commit, or HEAD when nothing changed> to $GITHUB_OUTPUT",
    }
)
def push_state(
    c: Context,
    message: str,
    repo: str | None = None,
    remote: str = "origin",
    branch: str | None = None,
    attempts: int = 10,
    github_output: str | None = None,
) -> None:
    """Commit data/ and batch-control.json and push, rebasing and retrying on a race (CI).

    The merger does it (``recipeline_merger push-state``): the git identity, the union merge of
    append-only files, a conflict aborted cleanly, a refusal (protected branch, auth) at once.
    """
    args: list[object] = ["push-state", "--repo", _repo(c, repo), "--message", message, "--remote", remote]
    if branch:
        args += ["--branch", branch]
    out = _stage(c, "merger", *args, "--attempts", attempts, capture=bool(github_output))
    if github_output:
        print(out, end="")
        # the commit later jobs of the run read the state from (they must not see a newer one)
        head = f"git -C {shlex.quote(str(_repo(c, repo)))} rev-parse HEAD"
        commit = _last_json(out).get("commit") or str(c.run(head, hide=True).stdout).strip()
        with Path(github_output).open("a", encoding="utf-8") as fh:
            fh.write(f"commit={commit}\n")


@task(
    help={
        "action": "stop, resume or status",
        "ecosystem": "only this ecosystem (default: the whole pipeline)",
        "reason": "why (required to stop; shown by every refusing stage)",
        "incident_url": "link to the incident",
        "expected_resume": "when it should resume (RFC 3339 UTC)",
        "repo": "repository root (default: this checkout)",
    }
)
def control(
    c: Context,
    action: str,
    ecosystem: str | None = None,
    reason: str | None = None,
    incident_url: str | None = None,
    expected_resume: str | None = None,
    repo: str | None = None,
) -> None:
    """Emergency stop or resume of the pipeline or one ecosystem (batch-control.json)."""
    args: list[object] = ["control", action, "--repo", _repo(c, repo)]
    for flag, value in (
        ("--ecosystem", ecosystem),
        ("--reason", reason),
        ("--incident-url", incident_url),
        ("--expected-resume", expected_resume),
    ):
        if value:
            args += [flag, value]
    _stage(c, "merger", *args)


@task(
    help={
        "batch_id": "the batch to roll back (YYYY-MM-DD-NNN)",
        "reason": "why (recorded beside the manifest and in the PR)",
        "force": "also remove recipes changed since the batch merged",
        "repo": "repository root (default: this checkout)",
    }
)
def rollback(c: Context, batch_id: str, reason: str, force: bool = False, repo: str | None = None) -> None:
    """Revert exactly the files one batch added (from its manifest) and re-queue its packages."""
    args: list[object] = ["rollback", "--repo", _repo(c, repo), "--batch-id", batch_id, "--reason", reason]
    if force:
        args.append("--force")
    _stage(c, "merger", *args)


@task(
    help={
        "category": "failure category whose entries go back to pending",
        "subcategory": "only this subcategory",
        "ecosystem": "only this ecosystem",
        "repo": "repository root (default: this checkout)",
    }
)
def requeue(
    c: Context,
    category: str,
    subcategory: str | None = None,
    ecosystem: str | None = None,
    repo: str | None = None,
) -> None:
    """Return failed/blocked entries of a failure category to pending (after a builder fix)."""
    args: list[object] = ["requeue", "--repo", _repo(c, repo), "--category", category]
    if subcategory:
        args += ["--subcategory", subcategory]
    if ecosystem:
        args += ["--ecosystem", ecosystem]
    _stage(c, "merger", *args)


@task(
    help={
        "days": "re-validate recipes of batches merged in the last DAYS (default 7)",
        "environment": "the environment to sweep (a darwin-* id on macOS runners)",
        "output": "where the sweep's batch directories go (default build/sweep)",
        "repo": "repository root (default: this checkout)",
    }
)
def sweep(
    c: Context, environment: str, days: int = 7, output: str = "build/sweep", repo: str | None = None
) -> None:
    """Re-validate recently merged recipes (the weekly macOS sweep); results under build/sweep."""
    root = _repo(c, repo)
    out = (root / output).resolve()
    _stage(c, "merger", "sweep-plan", "--repo", root, "--days", days, "--output", out)
    for batch_dir in sorted(p for p in out.iterdir() if (p / "generation.json").is_file()):
        _stage(c, "validator", "validate", "--batch-dir", batch_dir, "--environment", environment,
               "--only-passed-on", "none")  # fmt: skip


@task(
    name="sweep-record",
    help={"from_": "the sweep's output directory", "repo": "repository root (default: this checkout)"},
)
def sweep_record(c: Context, from_: str = "build/sweep", repo: str | None = None) -> None:
    """Record the sweep's failures as failure records of their batches (macOS regressions)."""
    root = _repo(c, repo)
    _stage(c, "merger", "sweep-record", "--repo", root, "--from", (root / from_).resolve())


@task(
    name="archive-failures",
    help={
        "older_than": "archive failure files older than this (90d, 12w, 36h)",
        "repo": "repository root (default: this checkout)",
    },
)
def archive_failures(c: Context, older_than: str = "90d", repo: str | None = None) -> None:
    """Move old failure files into data/failures/archive/*.tar.gz (the dashboard still counts them)."""
    _stage(c, "merger", "archive-failures", "--repo", _repo(c, repo), "--older-than", older_than)


@task(
    help={"repo": "repository root (default: this checkout)", "json": "one JSON object instead of the table"}
)
def status(c: Context, repo: str | None = None, json: bool = False) -> None:
    """The pipeline's health on one screen: stop, budget, queues, breakers, last batches."""
    _stage(c, "merger", "status", "--repo", _repo(c, repo), *(["--json"] if json else []))


@task(
    help={
        "what": "queue, batch, dashboard or yield",
        "entries": "queue: entries in the synthetic queue (default 100000)",
        "packages": "batch: packages in the batch (default 100)",
        "rate": "batch: allowed requests per second to the local index (default 10)",
        "latency": "batch: seconds the local index waits per page (default 0.05)",
        "scale": "dashboard: 1 is the size of tsuku's real data, 10 ten times that",
        "ecosystem": "yield: pypi or npm (default both; live, opt-in: the real registries)",
        "limit": "yield: only the first N tools of each committed list",
    }
)
def bench(
    c: Context,
    what: str,
    entries: int = 100_000,
    packages: int = 100,
    rate: float = 10.0,
    latency: float = 0.05,
    scale: int = 1,
    ecosystem: str = "",
    limit: int = 0,
) -> None:
    """Benchmarks of ARCHITECTURE §10 (queue selection and save, batch throughput, dashboard
    build) and the live yield of 100 popular PyPI and npm tools (benchmarks/yield.py)."""
    if what == "queue":
        _stage(c, "schema", "bench-queue", "--entries", entries)
    elif what == "batch":
        script = HERE / "benchmarks" / "batch.py"
        c.run(shlex.join([sys.executable, str(script), "--packages", str(packages), "--rate", str(rate),
                          "--latency", str(latency)]))  # fmt: skip
    elif what == "dashboard":
        _stage(c, "dashboard", "bench", "--scale", scale)
    elif what == "yield":
        args = [sys.executable, str(HERE / "benchmarks" / "yield.py")]
        args += ["--ecosystem", ecosystem] if ecosystem else []
        args += ["--limit", str(limit)] if limit else []
        c.run(shlex.join(args))
    else:
        raise Exit(f"bench: expected queue, batch, dashboard or yield, got {what!r}", code=2)


ns = Collection(
    batch, dashboard, seed, import_tsuku, preflight, generate, validate, merge, reconcile, push_state,
    control, rollback, requeue, bench, status, archive_failures, sweep, sweep_record, plan_macos, finish,
)  # fmt: skip
ns.configure({"recipeline": {"repo": None}})
