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

#: recipeline's exit codes (``recipeline_schema.exitcodes``; written out: this file imports no package)
EXIT_USAGE = 64
EXIT_LOCKED = 4
EXIT_STOPPED = 3

#: The options the tasks share, written once: option -> (help, check). A check names a function of
#: ``recipeline_schema.cliargs``, the stage CLIs' own argument types, so a task refuses a bad
#: option before it starts anything, in the stage's words; ``None`` passes the text on as it is.
OPTIONS: dict[str, tuple[str, str | None]] = {
    "repo": ("repository root (default: this checkout)", None),
    "now": (
        "the time to act at, RFC 3339 UTC (default: $RECIPELINE_NOW, else the clock); "
        "every stage and the rotation read it",
        "time",
    ),
    "ecosystem": ("homebrew cask cargo npm pypi rubygems go cpan", "ecosystem"),
    "batch_size": ("how many queue entries to select (1-100; default 10)", "batch_size"),
    "tier": ("take entries of priority <= tier (1 critical, 2 popular, 3 standard; default 3)", "tier"),
    "batch_dir": ("the batch directory written by preflight", "batch_dir"),
    "batch_id": ("or the batch id (YYYY-MM-DD-NNN): its directory is build/batches/<id>", "batch_id"),
    "environment": ("validation environment id, or 'auto' to detect the host (default)", None),
    "workers": ("parallel validation workers (default: number of cores)", "count"),
    "limit": ("add at most this many new packages", "count"),
    "days": ("re-validate recipes of batches merged in the last DAYS (default 7)", "positive"),
    "attempts": ("push attempts, rebasing on the remote between them (default 10)", "positive"),
    "older_than": ("archive failure files older than this (90d, 12w, 36h)", "duration"),
    "checks_timeout": (
        "seconds to wait for its checks (default $RECIPELINE_CHECKS_TIMEOUT or 600)",
        "seconds",
    ),
    "timeout": ("wall-clock seconds of a verify (default 300); or $RECIPELINE_VERIFY_TIMEOUT", "seconds"),
    "install_timeout": ("seconds per install (600); or $RECIPELINE_INSTALL_TIMEOUT", "seconds"),
    "memory_gib": ("memory per command in GiB (default 2); or $RECIPELINE_MEMORY_GIB", "amount"),
    "cpus": ("CPUs per command (default 2); or $RECIPELINE_CPUS", "count"),
    "pids": ("processes per command (default 1024); or $RECIPELINE_PIDS", "count"),
    "json": ("print one JSON object instead of the lines for people", None),
    "dry_run": ("show what would be done; write nothing", None),
}


def _help(*names: str, **own: str) -> dict[str, str]:
    """The help of a task: the shared help of ``names``, then the task's own strings."""
    return {**{name: OPTIONS[name][0] for name in names}, **own}


def _flag(name: str) -> str:
    return "--" + name.rstrip("_").replace("_", "-")


def _parse(task: str, checks: dict[str, str] | None = None, **given: Any) -> dict[str, Any]:
    """The task's options parsed by their checks (``OPTIONS``, or ``checks`` for this task).

    Every bad option is one line (``invoke batch: argument --batch-size: expected ...``) on
    stderr and in the step summary, then the task exits 64 before anything ran. ``now`` is
    handed to every stage through ``$RECIPELINE_NOW`` (the generator has no --now).
    """
    import argparse

    from recipeline_schema import cliargs
    from recipeline_schema.timefmt import CLOCK_VARIABLE, format_time

    parsed: dict[str, Any] = {}
    errors: list[str] = []
    for name, value in given.items():
        check = (checks or {}).get(name) or OPTIONS.get(name, ("", None))[1]
        if check is None or value is None or isinstance(value, bool) or value == "":
            parsed[name] = value
            continue
        try:
            parsed[name] = getattr(cliargs, check)(str(value))
        except argparse.ArgumentTypeError as exc:
            errors.append(f"invoke {task}: argument {_flag(name)}: {exc}")
    for line in errors:
        print(line, file=sys.stderr)
        _step_summary(f"**{task} refused its input**: {line}")
    if errors:
        raise Exit(code=EXIT_USAGE)
    if parsed.get("now") is not None:
        os.environ[CLOCK_VARIABLE] = format_time(parsed["now"])
    return parsed


def _flags(parsed: dict[str, Any], *names: str) -> list[object]:
    """The stage CLI flags of ``names``: ``--name value``, ``--name`` for a true switch; an option
    left at its default (None, False, 0) is not forwarded, so the stage's own default holds."""
    args: list[object] = []
    for name in names:
        value = parsed.get(name)
        if value is None or value == 0 or value == "":  # False == 0: a switch left off
            continue
        args += [_flag(name)] if value is True else [_flag(name), value]
    return args


def _repo(
    c: Context, task: str, repo: str | None, *, need_data: bool = True, allow_tsuku: bool = False
) -> Path:
    """The repository root the task works on: --repo, else configuration, else this checkout.

    One that is not a recipeline repository (no such folder, no data/ when ``need_data``, tsuku's
    layout unless ``allow_tsuku``) is refused with one line naming the command to run, exit 64.
    """
    from recipeline_schema.cliargs import repository_problem

    configured = c.config.get("recipeline", {}).get("repo") if "recipeline" in c.config else None
    root = Path(repo or configured or HERE).resolve()
    problem = repository_problem(root, need_data=need_data)
    if problem is not None and not (allow_tsuku and (root / "data").is_dir()):
        raise Exit(f"invoke {task}: --repo {problem}", code=EXIT_USAGE)
    return root


def _inside(task: str, root: Path, option: str, text: str) -> Path:
    """A directory option resolved against the repository root; one outside it is refused."""
    path = (root / text).resolve()
    if not path.is_relative_to(root):
        raise Exit(f"invoke {task}: argument {option}: expected a directory inside {root}, got {text!r}",
                   code=EXIT_USAGE)  # fmt: skip
    return path


def _run(c: Context, module: str, *args: object, capture: bool = False) -> tuple[int, str]:
    """Run ``python -m recipeline_<module> args``; return its exit code and (captured) stdout."""
    command = shlex.join([sys.executable, "-m", f"recipeline_{module}", *map(str, args)])
    result = c.run(command, warn=True, hide="out" if capture else None, pty=False)
    return result.exited, str(result.stdout)


def _stage(c: Context, module: str, *args: object, capture: bool = False) -> str:
    """Run a stage's CLI; a failure ends the task with the stage's exit code (its one line is above)."""
    code, out = _run(c, module, *args, capture=capture)
    if code != 0:
        raise Exit(code=code)
    return out


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


def _step_summary(text: str) -> None:
    """Append a paragraph to the GitHub Actions step summary, when there is one."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with Path(path).open("a", encoding="utf-8") as fh:
            fh.write(text.rstrip("\n") + "\n\n")


#: The sandbox's limits for ``batch`` and ``validate``: option, validator flag, the environment
#: variable a workflow sets instead (repository variables).
SANDBOX_LIMITS = (
    ("timeout", "--timeout", "RECIPELINE_VERIFY_TIMEOUT"),
    ("install_timeout", "--install-timeout", "RECIPELINE_INSTALL_TIMEOUT"),
    ("memory_gib", "--memory-gib", "RECIPELINE_MEMORY_GIB"),
    ("cpus", "--cpus", "RECIPELINE_CPUS"),
    ("pids", "--pids", "RECIPELINE_PIDS"),
)
SANDBOX = tuple(name for name, _, _ in SANDBOX_LIMITS)


def _sandbox_args(**given: float | None) -> list[object]:
    """The validator's limit flags: an option given (non-zero), else its environment variable."""
    args: list[object] = []
    for name, flag, variable in SANDBOX_LIMITS:
        value = given.get(name) or os.environ.get(variable, "").strip()
        if value:
            args += [flag, value]
    return args


#: ``--ecosystem`` of the tasks that may rotate
ROTATING = {"ecosystem": "ecosystem_or_auto"}
ECOSYSTEM_OR_AUTO = OPTIONS["ecosystem"][0] + ", or auto (UTC hour rotation)"


@task(
    help=_help(
        "batch_size", "tier", "environment", "repo", "workers", "json", "now", *SANDBOX,
        ecosystem=ECOSYSTEM_OR_AUTO,
        dry_run="show what preflight would select (and, with auto, why each ecosystem was passed over); "
        "write nothing",
        skip_macos="never validate on macOS (refuses on a macOS host, where nothing else could)",
    )
)  # fmt: skip
def batch(
    c: Context,
    ecosystem: str,
    batch_size: str = "10",
    tier: str = "3",
    environment: str = "auto",
    repo: str | None = None,
    workers: str | None = None,
    json: bool = False,
    dry_run: bool = False,
    skip_macos: bool = False,
    now: str | None = None,
    timeout: str | None = None,
    install_timeout: str | None = None,
    memory_gib: str | None = None,
    cpus: str | None = None,
    pids: str | None = None,
) -> None:
    """Run one batch end to end: preflight, generate, validate, merge (resumes an interrupted one first).

    One batch runs at a time per repository: a second ``invoke batch`` refuses while the first
    holds ``build/batch.lock``. A batch whose run was killed (its plan exists, its manifest does
    not) is finished first, from the stage where it stopped.
    """
    import platform

    from recipeline_schema import LockTimeoutError, file_lock

    o = _parse("batch", ROTATING, ecosystem=ecosystem, batch_size=batch_size, tier=tier, workers=workers,
               now=now, timeout=timeout, install_timeout=install_timeout, memory_gib=memory_gib, cpus=cpus,
               pids=pids)  # fmt: skip
    root = _repo(c, "batch", repo)
    if skip_macos and (
        environment.startswith("darwin") or (environment == "auto" and platform.system() == "Darwin")
    ):
        raise Exit(
            "invoke batch: --skip-macos on macOS leaves no environment to validate on", code=EXIT_USAGE
        )
    if dry_run:
        _print_dry_run(_preflight(c, root, o["ecosystem"], o["batch_size"], o["tier"], dry_run=True))
        return
    try:
        with file_lock(root / "build" / "batch.lock", what="a batch"):
            limits = _sandbox_args(**{name: o[name] for name in SANDBOX})
            summary = _run_batch(c, root, o["ecosystem"], o["batch_size"], o["tier"], environment,
                                 o["workers"] or 0, quiet=json, limits=limits)  # fmt: skip
    except LockTimeoutError as exc:
        raise Exit(f"invoke batch: {exc}", code=EXIT_LOCKED) from None
    _report(summary, as_json=json)


def _print_dry_run(plan: dict[str, Any]) -> None:
    """What a dry run would select; with the rotation, which ecosystem it picked, why, and why
    each other ecosystem was passed over (the merger's words)."""
    rotation = plan.get("rotation")
    if rotation:
        print(f"rotation picked {plan.get('ecosystem') or 'no ecosystem'}: {rotation['why']}")
        for passed in plan.get("passed_over", []):
            print(f"  passed over {passed['ecosystem']}: {passed['reason']}")
    print(plan.get("reason") or "nothing eligible")
    for source in plan.get("packages", []):
        print(f"  {source}")


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
    validate_args += _flags({"workers": workers}, "workers") + (limits or [])
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
    if code != 0:  # the generator said why, in one line
        follower.kill()
        follower.wait()
        raise Exit(code=code)
    if (status := follower.wait()) != 0:  # so did the validator
        raise Exit(code=status)


def _report(summary: dict[str, Any], *, as_json: bool) -> None:
    """The batch summary: JSON for scripts, a line for people, the PR body as the step summary."""
    if as_json:
        print(json.dumps(summary, sort_keys=True))
    elif summary.get("batch_id") is None:
        print(f"nothing to do for {summary['ecosystem']}: {summary['reason']}")
    else:
        # the merge stage's "merged" is a commit on the batch branch (recipe_state's words)
        words = {"merged": "on batch branch"}
        counts = ", ".join(
            f"{summary.get(k, 0)} {words.get(k, k)}"
            for k in ("merged", "excluded", "failed", "blocked", "skipped")
        )
        print(f"batch {summary['batch_id']}: {counts}; branch {summary.get('branch') or '(none)'}")
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    body = Path(summary.get("batch_dir") or "-") / "pr-body.md"
    if step_summary and body.is_file():
        with Path(step_summary).open("a", encoding="utf-8") as fh:
            fh.write(body.read_text(encoding="utf-8") + "\n")


@task(help=_help("repo", "now", output="output directory (default: <repo>/website/pipeline)"))
def dashboard(c: Context, repo: str | None = None, output: str | None = None, now: str | None = None) -> None:
    """Build website/pipeline/ (dashboard.json and the pages) from data/ (recipeline's or tsuku's layout)."""
    _parse("dashboard", now=now)
    root = _repo(c, "dashboard", repo, allow_tsuku=True)
    _stage(c, "dashboard", "build", "--repo", root, "--output", output or root / "website" / "pipeline")


@task(
    help=_help(
        "limit", "dry_run", "repo", "now",
        ecosystem="ecosystem whose queue to fill: " + OPTIONS["ecosystem"][0],
        from_file="seed from this plain list (name [source] [priority] [popularity]) instead of the API",
        api="with --from-file: also read the ecosystem's popularity API",
        config="seeder configuration (tiers, bounds; default data/seeds/seeder-config.json)",
    )
)  # fmt: skip
def seed(
    c: Context,
    ecosystem: str,
    from_file: str | None = None,
    api: bool = False,
    config: str | None = None,
    limit: str | None = None,
    dry_run: bool = False,
    repo: str | None = None,
    now: str | None = None,
) -> None:
    """Add new packages to an ecosystem's queue from its popularity source (additive, idempotent).

    Refuses while the emergency stop holds the pipeline or the ecosystem (exit 3).
    """
    o = _parse("seed", ecosystem=ecosystem, from_file=from_file, api=api, config=config, limit=limit,
               dry_run=dry_run, now=now)  # fmt: skip
    root = _repo(c, "seed", repo, need_data=False)
    _stage(c, "seeder", "seed", "--repo", root, *_flags(o, "ecosystem", "from_file", "api", "config", "limit",
                                                       "dry_run"))  # fmt: skip


@task(
    name="import-tsuku",
    help=_help(
        "repo", "now",
        from_="a tsuku repository (or its data/ directory) to convert",
        dry_run="report what would be imported, write nothing",
    ),
)  # fmt: skip
def import_tsuku(
    c: Context, from_: str, dry_run: bool = False, repo: str | None = None, now: str | None = None
) -> None:
    """Convert tsuku's queues (unified and legacy) into per-ecosystem queues, keeping their state."""
    _parse("import-tsuku", now=now)
    root = _repo(c, "import-tsuku", repo, need_data=False)
    _stage(c, "seeder", "import-tsuku", "--repo", root, "--from", from_, *(["--dry-run"] if dry_run else []))


@task(
    help=_help(
        "batch_size", "tier", "repo", "now",
        ecosystem=ECOSYSTEM_OR_AUTO,
        github_output="append batch_id, batch_dir, ecosystem, has_packages, macos to $GITHUB_OUTPUT",
        check="only check the inputs (the workflow's first step); write nothing",
    )
)  # fmt: skip
def preflight(
    c: Context,
    ecosystem: str,
    batch_size: str = "10",
    tier: str = "3",
    repo: str | None = None,
    github_output: str | None = None,
    check: bool = False,
    now: str | None = None,
) -> None:
    """Stage 1: check the controls, select entries, write the batch plan; prints a JSON line.

    An input out of its format or range (batch size outside 1-100, an unknown ecosystem, a tier
    outside 1-3) is refused with one line, also in the step summary, before anything is written
    (exit 64).
    """
    o = _parse("preflight", ROTATING, ecosystem=ecosystem, batch_size=batch_size, tier=tier, now=now)
    if check:
        return
    root = _repo(c, "preflight", repo)
    plan = _preflight(c, root, o["ecosystem"], o["batch_size"], o["tier"])
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


BATCH_HELP = _help("batch_dir", "batch_id", "repo", "now")


def _batch_dir(task: str, root: Path, batch_dir: str | None, batch_id: str | None) -> Path:
    """The batch directory named by --batch-dir or --batch-id (one of them, each in its format:
    an id never names a path outside build/batches)."""
    if bool(batch_dir) == bool(batch_id):
        raise Exit(f"invoke {task}: expected exactly one of --batch-dir or --batch-id", code=EXIT_USAGE)
    o = _parse(task, batch_dir=batch_dir, batch_id=batch_id)
    directory: Path = o["batch_dir"] or root / "build" / "batches" / o["batch_id"]
    if not directory.is_dir():
        raise Exit(f"invoke {task}: no batch {o['batch_id']} under {directory.parent}", code=EXIT_USAGE)
    return directory


@task(help=BATCH_HELP)
def generate(
    c: Context,
    batch_dir: str | None = None,
    batch_id: str | None = None,
    repo: str | None = None,
    now: str | None = None,
) -> None:
    """Stage 2: generate recipes for a batch directory (refuses while the ecosystem is stopped)."""
    _parse("generate", now=now)
    root = _repo(c, "generate", repo)
    directory = _batch_dir("generate", root, batch_dir, batch_id)
    _refuse_when_stopped(c, root, directory)
    _stage(c, "generator", "generate", "--batch-dir", directory, "--repo", root)


@task(
    help=_help(
        "batch_dir", "batch_id", "repo", "now", "environment", "workers", *SANDBOX,
        only_passed_on="linux: validate only recipes that passed some Linux environment (macOS jobs)",
    )
)  # fmt: skip
def validate(
    c: Context,
    batch_dir: str | None = None,
    batch_id: str | None = None,
    environment: str = "auto",
    workers: str | None = None,
    only_passed_on: str | None = None,
    repo: str | None = None,
    now: str | None = None,
    timeout: str | None = None,
    install_timeout: str | None = None,
    memory_gib: str | None = None,
    cpus: str | None = None,
    pids: str | None = None,
) -> None:
    """Stage 3: validate a batch on one environment; macOS follows the week's budget (full/sampled/paused)."""
    import platform

    o = _parse("validate", workers=workers, now=now, timeout=timeout, install_timeout=install_timeout,
               memory_gib=memory_gib, cpus=cpus, pids=pids, environment=environment,
               only_passed_on=only_passed_on)  # fmt: skip
    root = _repo(c, "validate", repo)
    directory = _batch_dir("validate", root, batch_dir, batch_id)
    _refuse_when_stopped(c, root, directory)
    args: list[object] = [
        "validate",
        "--batch-dir",
        directory,
        *_flags(o, "environment", "workers", "only_passed_on"),
    ]
    args += _sandbox_args(**{name: o[name] for name in SANDBOX})
    macos = environment.startswith("darwin") or (environment == "auto" and platform.system() == "Darwin")
    if macos:  # the merger applies the week's budget: paused, or the sample's flags
        budget = _last_json(
            _stage(c, "merger", "budget", "--repo", root, "--batch-dir", directory, capture=True)
        )
        if budget["skip"]:
            print(budget["skip"])
            return
        args += budget["validator_args"]
    _stage(c, "validator", *args)


@task(
    name="plan-macos",
    help=_help(
        "batch_dir", "batch_id", "repo", "now",
        github_output="append recipes=<how many macOS validates> and mode=<budget mode> to $GITHUB_OUTPUT",
    ),
)  # fmt: skip
def plan_macos(
    c: Context,
    batch_dir: str | None = None,
    batch_id: str | None = None,
    repo: str | None = None,
    github_output: str | None = None,
    now: str | None = None,
) -> None:
    """How many recipes macOS validates: those that passed some Linux environment, as the budget allows.

    Reads the Linux results present in the batch directory (a Linux leg that failed has none;
    the others still count), so one broken leg never skips macOS for the whole batch.
    """
    _parse("plan-macos", now=now)
    root = _repo(c, "plan-macos", repo)
    directory = _batch_dir("plan-macos", root, batch_dir, batch_id)
    budget = _last_json(_stage(c, "merger", "budget", "--repo", root, "--batch-dir", directory, capture=True))
    mode = str(budget["macos_validation"])
    recipes = len(budget.get("sample") or [])  # the merger's sample: none while paused
    environments = sorted(p.stem for p in (directory / "results").glob("linux-*.json"))
    line = (f"macOS validates {recipes} recipes ({mode}; Linux results from "
            f"{', '.join(environments) or 'no environment'})")  # fmt: skip
    print(line)
    _step_summary(line)
    if github_output:
        with Path(github_output).open("a", encoding="utf-8") as fh:
            fh.write(f"recipes={recipes}\nmode={mode}\n")


def _refuse_when_stopped(c: Context, root: Path, batch_dir: Path, ecosystem: str | None = None) -> None:
    """Every writing stage honours the emergency stop: one line with the merger's reason, exit 3.

    The batch's ecosystem comes from its plan, read by the merger (``resume-state``).
    """
    if ecosystem is None:
        state = _stage(c, "merger", "resume-state", "--batch-dir", batch_dir, capture=True)
        ecosystem = _last_json(state)["ecosystem"]
    args: list[object] = [
        "control",
        "status",
        "--repo",
        root,
        *(["--ecosystem", ecosystem] if ecosystem else []),
    ]
    command = shlex.join([sys.executable, "-m", "recipeline_merger", *map(str, args)])
    result = c.run(command, warn=True, hide=True, pty=False)
    if result.exited == 0:
        return
    said = " ".join(str(result.stderr).split()).removeprefix("recipeline-merger: ")
    if result.exited == EXIT_STOPPED:
        raise Exit(
            f"refusing to run while stopped: {said} (invoke control resume lifts the stop)", code=EXIT_STOPPED
        )
    raise Exit(said or f"recipeline_merger control status failed (exit {result.exited})", code=result.exited)


@task(help=BATCH_HELP)
def merge(
    c: Context,
    batch_dir: str | None = None,
    batch_id: str | None = None,
    repo: str | None = None,
    now: str | None = None,
) -> None:
    """Stage 4: record results in data/, commit passing recipes on branch batch/<id>."""
    _parse("merge", now=now)
    root = _repo(c, "merge", repo)
    _stage(
        c, "merger", "merge", "--repo", root, "--batch-dir", _batch_dir("merge", root, batch_dir, batch_id)
    )


@task(
    help=_help(
        "repo", "now",
        batch_id="the merged batch whose PR to land (YYYY-MM-DD-NNN)",
        timeout=OPTIONS["checks_timeout"][0],
    )
)  # fmt: skip
def finish(
    c: Context, batch_id: str, timeout: str | None = None, repo: str | None = None, now: str | None = None
) -> None:
    """After the state is pushed: merge the batch PR once its checks are green (a bounded wait).

    Only needed where GitHub's auto-merge is not on; a PR still waiting when the time is up
    stays open with a comment, and the next run's reconcile merges it.
    """
    o = _parse("finish", {"timeout": "seconds"}, batch_id=batch_id, timeout=timeout, now=now)
    root = _repo(c, "finish", repo)
    args: list[object] = ["finish", "--repo", root, "--batch-id", o["batch_id"]]
    if o["timeout"] is not None:
        args += ["--timeout", o["timeout"]]
    _stage(c, "merger", *args)


@task(
    help=_help(
        "repo", "now",
        default_branch="branch recipes merge into (default: origin's HEAD, else the checked-out branch)",
    )
)  # fmt: skip
def reconcile(
    c: Context, repo: str | None = None, default_branch: str | None = None, now: str | None = None
) -> None:
    """Converge the queues: recipes on the default branch -> success; closed or dead batches released.

    Runs at the start of every ``invoke batch`` and of the workflow's preflight job; prints the
    merger's JSON summary (what it did, in counts) and adds it to the step summary.
    """
    o = _parse("reconcile", default_branch=default_branch, now=now)
    root = _repo(c, "reconcile", repo)
    out = _stage(c, "merger", "reconcile", "--repo", root, *_flags(o, "default_branch"), capture=True)
    summary = _last_json(out)
    print(json.dumps(summary))
    _step_summary(f"reconcile: {_counts(summary)}")


def _counts(summary: dict[str, Any]) -> str:
    """A reconcile summary's non-zero counts in one line."""
    counts = {k: v for k, v in summary.items() if isinstance(v, int) and not isinstance(v, bool) and v}
    return ", ".join(f"{v} {k}" for k, v in counts.items()) or "nothing to do"


@task(
    help=_help(
        "repo", "attempts",
        message="commit message",
        remote="remote to push to (default origin)",
        branch="branch to push to (default: the current branch)",
        github_output="append commit=<the state commit, or HEAD when nothing changed> to $GITHUB_OUTPUT",
    )
)  # fmt: skip
def push_state(
    c: Context,
    message: str,
    repo: str | None = None,
    remote: str = "origin",
    branch: str | None = None,
    attempts: str = "10",
    github_output: str | None = None,
) -> None:
    """Commit data/ and batch-control.json and push, rebasing and retrying on a race (CI).

    The merger does it (``recipeline_merger push-state``): the git identity, the union merge of
    append-only files, a conflict aborted cleanly, a refusal (protected branch, auth) at once.
    """
    o = _parse("push-state", message=message, remote=remote, branch=branch, attempts=attempts)
    root = _repo(c, "push-state", repo, need_data=False)
    args = ["push-state", "--repo", root, *_flags(o, "message", "remote", "branch", "attempts")]
    out = _stage(c, "merger", *args, capture=bool(github_output))
    if github_output:
        print(out, end="")
        # the commit later jobs of the run read the state from (they must not see a newer one)
        head = f"git -C {shlex.quote(str(root))} rev-parse HEAD"
        commit = _last_json(out).get("commit") or str(c.run(head, hide=True).stdout).strip()
        with Path(github_output).open("a", encoding="utf-8") as fh:
            fh.write(f"commit={commit}\n")


@task(
    help=_help(
        "repo", "now",
        action="stop, resume or status",
        ecosystem="only this ecosystem (default: the whole pipeline)",
        reason="why (required to stop; shown by every refusing stage)",
        incident_url="link to the incident",
        expected_resume="when it should resume (RFC 3339 UTC)",
    )
)  # fmt: skip
def control(
    c: Context,
    action: str,
    ecosystem: str | None = None,
    reason: str | None = None,
    incident_url: str | None = None,
    expected_resume: str | None = None,
    repo: str | None = None,
    now: str | None = None,
) -> None:
    """Emergency stop or resume of the pipeline or one ecosystem (batch-control.json)."""
    if action not in ("stop", "resume", "status"):
        raise Exit(f"invoke control: expected stop, resume or status, got {action!r}", code=EXIT_USAGE)
    o = _parse("control", {"expected_resume": "time"}, ecosystem=ecosystem, reason=reason,
               incident_url=incident_url, expected_resume=expected_resume, now=now)  # fmt: skip
    if action == "stop" and not reason:
        raise Exit(
            "invoke control stop: --reason is required (shown by every refusing stage)", code=EXIT_USAGE
        )
    if action != "stop" and (reason or incident_url or expected_resume):
        raise Exit(f"invoke control {action}: --reason, --incident-url and --expected-resume are for stop",
                   code=EXIT_USAGE)  # fmt: skip
    if o["expected_resume"] is not None:
        from recipeline_schema.timefmt import format_time

        o["expected_resume"] = format_time(o["expected_resume"])
    root = _repo(c, "control", repo, need_data=False)
    flags = _flags(o, "ecosystem", "reason", "incident_url", "expected_resume")
    _stage(c, "merger", "control", action, "--repo", root, *flags)


@task(
    help=_help(
        "repo", "now",
        batch_id="the batch to roll back (YYYY-MM-DD-NNN)",
        reason="why (recorded beside the manifest and in the PR)",
        force="also remove recipes changed since the batch merged",
    )
)  # fmt: skip
def rollback(
    c: Context,
    batch_id: str,
    reason: str,
    force: bool = False,
    repo: str | None = None,
    now: str | None = None,
) -> None:
    """Revert exactly the files one batch added (from its manifest) and re-queue its packages."""
    o = _parse("rollback", batch_id=batch_id, reason=reason, force=force, now=now)
    root = _repo(c, "rollback", repo)
    _stage(c, "merger", "rollback", "--repo", root, *_flags(o, "batch_id", "reason", "force"))


@task(
    help=_help(
        "repo", "now",
        category="failure category whose entries go back to pending",
        subcategory="only this subcategory",
        ecosystem="only this ecosystem",
    )
)  # fmt: skip
def requeue(
    c: Context,
    category: str,
    subcategory: str | None = None,
    ecosystem: str | None = None,
    repo: str | None = None,
    now: str | None = None,
) -> None:
    """Return failed/blocked entries of a failure category to pending (after a builder fix)."""
    o = _parse("requeue", category=category, subcategory=subcategory, ecosystem=ecosystem, now=now)
    root = _repo(c, "requeue", repo)
    _stage(c, "merger", "requeue", "--repo", root, *_flags(o, "category", "subcategory", "ecosystem"))


@task(
    help=_help(
        "days", "repo", "now",
        environment="the environment to sweep (a darwin-* id on macOS runners)",
        output="where the sweep's batch directories go (default build/sweep)",
    )
)  # fmt: skip
def sweep(
    c: Context,
    environment: str,
    days: str = "7",
    output: str = "build/sweep",
    repo: str | None = None,
    now: str | None = None,
) -> None:
    """Re-validate recently merged recipes (the weekly macOS sweep); results under build/sweep."""
    o = _parse("sweep", days=days, now=now)
    root = _repo(c, "sweep", repo)
    out = _inside("sweep", root, "--output", output)
    _stage(c, "merger", "sweep-plan", "--repo", root, "--days", o["days"], "--output", out)
    for batch_dir in sorted(p for p in out.iterdir() if (p / "generation.json").is_file()):
        _stage(c, "validator", "validate", "--batch-dir", batch_dir, "--environment", environment,
               "--only-passed-on", "none")  # fmt: skip


@task(name="sweep-record", help=_help("repo", "now", from_="the sweep's output directory"))
def sweep_record(
    c: Context, from_: str = "build/sweep", repo: str | None = None, now: str | None = None
) -> None:
    """Record the sweep's failures as failure records of their batches (macOS regressions)."""
    _parse("sweep-record", now=now)
    root = _repo(c, "sweep-record", repo)
    _stage(
        c, "merger", "sweep-record", "--repo", root, "--from", _inside("sweep-record", root, "--from", from_)
    )


@task(name="archive-failures", help=_help("older_than", "repo", "now"))
def archive_failures(
    c: Context, older_than: str = "90d", repo: str | None = None, now: str | None = None
) -> None:
    """Move old failure files into data/failures/archive/*.tar.gz (the dashboard still counts them)."""
    _parse("archive-failures", older_than=older_than, now=now)
    root = _repo(c, "archive-failures", repo)
    _stage(c, "merger", "archive-failures", "--repo", root, "--older-than", older_than)


@task(help=_help("repo", "now", json="one JSON object instead of the table"))
def status(c: Context, repo: str | None = None, json: bool = False, now: str | None = None) -> None:
    """The pipeline's health on one screen: stop, budget, queues, breakers, last batches."""
    _parse("status", now=now)
    root = _repo(c, "status", repo)
    _stage(c, "merger", "status", "--repo", root, *(["--json"] if json else []))


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
    entries: str = "100000",
    packages: str = "100",
    rate: str = "10",
    latency: str = "0.05",
    scale: str = "1",
    ecosystem: str = "",
    limit: str = "0",
) -> None:
    """Benchmarks of ARCHITECTURE §10 (queue selection and save, batch throughput, dashboard
    build) and the live yield of 100 popular PyPI and npm tools (benchmarks/yield.py)."""
    if what not in ("queue", "batch", "dashboard", "yield"):
        raise Exit(f"invoke bench: expected queue, batch, dashboard or yield, got {what!r}", code=EXIT_USAGE)
    numbers = {"entries": "positive", "packages": "positive", "rate": "amount", "latency": "seconds",
               "scale": "positive", "limit": "count"}  # fmt: skip
    o = _parse("bench", numbers, entries=entries, packages=packages, rate=rate, latency=latency, scale=scale,
               limit=limit)  # fmt: skip
    if what == "queue":
        _stage(c, "schema", "bench-queue", "--entries", o["entries"])
    elif what == "batch":
        script = HERE / "benchmarks" / "batch.py"
        c.run(shlex.join([sys.executable, str(script), "--packages", str(o["packages"]), "--rate",
                          str(o["rate"]), "--latency", str(o["latency"])]))  # fmt: skip
    elif what == "dashboard":
        _stage(c, "dashboard", "bench", "--scale", o["scale"])
    else:
        args = [sys.executable, str(HERE / "benchmarks" / "yield.py")]
        args += ["--ecosystem", ecosystem] if ecosystem else []
        args += ["--limit", str(o["limit"])] if o["limit"] else []
        c.run(shlex.join(args))


ns = Collection(
    batch, dashboard, seed, import_tsuku, preflight, generate, validate, merge, reconcile, push_state,
    control, rollback, requeue, bench, status, archive_failures, sweep, sweep_record, plan_macos, finish,
)  # fmt: skip
ns.configure({"recipeline": {"repo": None}})
