"""Command line of recipeline-merger: preflight, merge, reconcile, control, budget.

Exit codes are recipeline's one table (``recipeline_schema.exitcodes``): 0 done (an empty
selection included), 1 error (a data file, the batch directory, git, GitHub), 3 stopped by
batch-control.json, 4 another writer holds the lock, 5 the batch was merged (or rolled back)
already, 64 usage (an argument out of its format or range, a repository that is not one).
Every error is one line on stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import recipeline_schema.cliargs as cliargs
from recipeline_schema import CATEGORIES, Layout, LockTimeoutError, SchemaError, current_time
from recipeline_schema.exitcodes import (
    EXIT_ALREADY_DONE,
    EXIT_ERROR,
    EXIT_LOCKED,
    EXIT_STOPPED,
    EXIT_USAGE,
)

from .archive import archive_failures
from .errors import AlreadyMergedError, MergerError, RolledBackError, StoppedError
from .gitrepo import default_branch
from .landing import finish
from .merge import merge
from .operations import budget_status, control_resume, control_status, control_stop
from .preflight import DEFAULT_LOCK_TIMEOUT, MAX_BATCH_SIZE, preflight
from .pullrequest import (
    CHECKS_TIMEOUT_VARIABLE,
    DEFAULT_CHECKS_TIMEOUT,
    checks_timeout,
    default_publisher,
    token_of,
    token_warning,
)
from .reconcile import reconcile
from .requeue import requeue
from .resume import batch_state, resume_state
from .rollback import rollback
from .rotation import preflight_auto
from .statepush import DEFAULT_ATTEMPTS, push_state
from .status import read_status
from .sweep import sweep_plan, sweep_record

#: the commands that read a repository's data/ (the others write batch-control.json or a branch)
_READS_DATA = frozenset(
    {"preflight", "merge", "status", "sweep-plan", "sweep-record", "archive-failures", "reconcile",
     "finish", "rollback", "requeue", "budget"}
)  # fmt: skip

_time = cliargs.time
_ecosystem = cliargs.ecosystem
_positive = cliargs.positive
_seconds = cliargs.seconds
_duration = cliargs.duration


def _parser() -> argparse.ArgumentParser:
    parser = cliargs.OneLineParser(
        prog="recipeline-merger", description="recipeline's control plane and merge stage."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--repo", type=Path, default=Path(), help="repository root (default: .)")
        p.add_argument("--now", type=_time, default=None, help="the time to act at (default: the clock), UTC")
        p.add_argument(
            "--lock-timeout",
            type=_seconds,
            default=DEFAULT_LOCK_TIMEOUT,
            help=f"seconds to wait for another writer (default: {DEFAULT_LOCK_TIMEOUT:g}; 0 refuses at once)",
        )

    p = sub.add_parser(
        "preflight",
        help="honour the emergency stop, select a batch, mark it in_progress and write its plan",
        description="Prints one JSON line: batch_id, batch_dir, selected, reason.",
    )
    common(p)
    p.add_argument(
        "--ecosystem",
        type=cliargs.ecosystem_or_auto,
        required=True,
        help="ecosystem id (aliases accepted), or auto: the UTC hour's rotation, passing over "
        "ecosystems with nothing to select (the summary names the pick and why each other was passed over)",
    )
    p.add_argument(
        "--batch-size",
        type=cliargs.batch_size,
        required=True,
        help=f"most packages to select (1-{MAX_BATCH_SIZE})",
    )
    p.add_argument(
        "--tier", type=cliargs.tier, default=3, help="take priorities <= T (1 critical .. 3 standard)"
    )
    p.add_argument("--dry-run", action="store_true", help="print what would be selected; write nothing")
    p.add_argument(
        "--check",
        action="store_true",
        help="only check the arguments (exit 64 with one line when one is out of range); read nothing",
    )
    p.set_defaults(run=_run_preflight)

    p = sub.add_parser(
        "merge",
        help="decide outcomes and gates, commit batch/<id>, record failures, metrics, manifest, queue",
        description="Prints one JSON line summarizing the merge.",
    )
    common(p)
    p.add_argument("--batch-dir", type=Path, required=True, help="the batch directory (build/batches/<id>)")
    p.set_defaults(run=_run_merge)

    p = sub.add_parser(
        "status",
        help="the pipeline's health on one screen: stop, budget, queues, breakers, last batches",
        description="Prints a table for people; --json prints the same lines as one JSON object.",
    )
    common(p)
    p.add_argument("--json", action="store_true", help="one JSON line instead of the table")
    p.set_defaults(run=_run_health)

    p = sub.add_parser(
        "sweep-plan",
        help="one batch directory per batch merged in the last DAYS, with its recipes as they are now",
        description="For the weekly macOS sweep: validate each directory, then run sweep-record.",
    )
    common(p)
    p.add_argument("--days", type=_positive, default=7, help="batches merged in the last DAYS (default 7)")
    p.add_argument("--output", type=Path, required=True, help="where the batch directories go")
    p.set_defaults(run=_run_sweep_plan)

    p = sub.add_parser(
        "sweep-record",
        help="record the failures of a sweep's results as failure records of their batches",
    )
    common(p)
    p.add_argument("--from", dest="sweep", type=Path, required=True, help="the sweep-plan output directory")
    p.set_defaults(run=_run_sweep_record)

    p = sub.add_parser(
        "archive-failures",
        help="move failure files older than a duration into data/failures/archive/*.tar.gz",
        description="Prints one JSON line: the archive written and how many files moved.",
    )
    common(p)
    p.add_argument("--older-than", type=_duration, required=True, help="e.g. 90d, 12w, 36h")
    p.set_defaults(run=_run_archive)

    p = sub.add_parser(
        "reconcile",
        help="queue statuses <- recipes on the default branch; vanished batches back to pending",
        description="Prints one JSON line with the counts.",
    )
    common(p)
    p.add_argument(
        "--default-branch",
        default=None,
        help="the branch recipes land on (default: origin's HEAD branch, else the checked-out one)",
    )
    p.set_defaults(run=_run_reconcile)

    p = sub.add_parser(
        "finish",
        help="after the state is recorded: merge the batch PR once its checks are green (bounded wait)",
        description=(
            "Prints one JSON line: batch_id, branch, landing (merged|auto-merge|pending|failed|closed|none), "
            "note. Waits at most --timeout seconds; a PR whose checks are not green by then stays open "
            "with a comment, and the next reconcile merges it."
        ),
    )
    common(p)
    p.add_argument(
        "--batch-id", type=cliargs.batch_id, required=True, help="the merged batch (YYYY-MM-DD-NNN)"
    )
    p.add_argument(
        "--timeout",
        type=_seconds,
        default=None,
        help=f"seconds to wait (default: ${CHECKS_TIMEOUT_VARIABLE} or {DEFAULT_CHECKS_TIMEOUT:g})",
    )
    p.set_defaults(run=_run_finish)

    p = sub.add_parser(
        "push-state",
        help="commit data/ and batch-control.json and push them, rebasing and retrying on a race",
        description=(
            "Prints one JSON line: remote, branch, commit, pushed, attempts, rebased. A push the "
            "remote refuses for another reason than a race (protected branch, hook, auth) fails at once."
        ),
    )
    common(p)
    p.add_argument("--message", required=True, help="the state commit's message")
    p.add_argument("--remote", default="origin", help="the remote to push to (default: origin)")
    p.add_argument("--branch", default=None, help="the branch to push to (default: the current branch)")
    p.add_argument(
        "--attempts", type=_positive, default=DEFAULT_ATTEMPTS, help="push attempts (default: %(default)s)"
    )
    p.set_defaults(run=_run_push_state)

    p = sub.add_parser(
        "rollback",
        help="revert exactly the files a batch added (from its manifest), re-queue its packages",
        description="Prints one JSON line: files removed, packages re-queued, branch rollback/<id>, PR.",
    )
    common(p)
    p.add_argument(
        "--batch-id", type=cliargs.batch_id, required=True, help="the batch to roll back (YYYY-MM-DD-NNN)"
    )
    p.add_argument("--reason", default="rolled back by an operator", help="why (recorded and in the PR)")
    p.add_argument(
        "--default-branch",
        default=None,
        help="the branch the recipes are on (default: origin's HEAD branch, else the checked-out one)",
    )
    p.add_argument("--force", action="store_true", help="also remove recipes changed since the batch")
    p.set_defaults(run=_run_rollback)

    p = sub.add_parser(
        "requeue",
        help="failed/blocked entries whose last failure is of a category -> pending (after a builder fix)",
        description="Prints one JSON line with the re-queued package ids per ecosystem.",
    )
    common(p)
    p.add_argument("--category", required=True, choices=CATEGORIES, help="failure category (%(choices)s)")
    p.add_argument("--subcategory", default=None, help="only this subcategory, e.g. no_bottle")
    p.add_argument("--ecosystem", type=_ecosystem, default=None, help="only this ecosystem's queue")
    p.set_defaults(run=_run_requeue)

    p = sub.add_parser(
        "control",
        help="emergency stop / resume of the pipeline or one ecosystem (batch-control.json)",
        description="Prints one JSON line with the stop fields after the change.",
    )
    control = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    stop = control.add_parser("stop", help="stop every writing stage (or one ecosystem's batches)")
    common(stop)
    stop.add_argument("--ecosystem", type=_ecosystem, default=None, help="stop only this ecosystem")
    stop.add_argument("--reason", required=True, help="why (shown by every refusing stage)")
    stop.add_argument("--incident-url", default="", help="link to the incident")
    stop.add_argument("--expected-resume", type=_time, default=None, help="when it should resume (UTC)")
    stop.add_argument(
        "--by", default=None, help="who stops it (default: $GITHUB_ACTOR, $USER, or 'operator')"
    )
    stop.set_defaults(run=_run_stop)
    resume = control.add_parser("resume", help="lift the global stop (or one ecosystem's)")
    common(resume)
    resume.add_argument("--ecosystem", type=_ecosystem, default=None, help="resume only this ecosystem")
    resume.set_defaults(run=_run_resume)
    status = control.add_parser(
        "status",
        help="exit 3 with the reason when stopped (for stages that write: generate, validate), else 0",
    )
    common(status)
    status.add_argument(
        "--ecosystem", type=_ecosystem, default=None, help="also honour this ecosystem's stop"
    )
    status.set_defaults(run=_run_status)

    p = sub.add_parser(
        "budget",
        help="whether macOS validation is full, sampled or paused this week (and a batch's sample)",
        description=(
            "Prints one JSON line: macos_validation (full|sampled|paused), the week's minutes and, "
            "with --batch-dir, the package ids macOS validates (a sample of the Linux passes)."
        ),
    )
    common(p)
    p.add_argument("--batch-dir", type=Path, default=None, help="a batch directory with Linux results")
    p.set_defaults(run=_run_budget)

    p = sub.add_parser(
        "resume-state",
        help="the batch a killed run left unfinished (plan, no merged manifest) and where it stopped",
        description=(
            "Prints one JSON line: batch_dir (the oldest unfinished batch, or null), ecosystem and "
            "generation_complete; with --batch-dir, the same for that directory. A corrupt plan or "
            "generation report is one line naming the file and the field (exit 1); nothing is deleted."
        ),
    )
    p.add_argument("--repo", type=Path, default=Path(), help="repository root (default: .)")
    p.add_argument("--batch-dir", type=Path, default=None, help="describe this batch directory instead")
    p.set_defaults(run=_run_resume_state)
    return parser


def _run_resume_state(args: argparse.Namespace) -> dict[str, Any]:
    if args.batch_dir is not None:
        return batch_state(args.batch_dir).to_json()
    return resume_state(args.repo)


def _run_rollback(args: argparse.Namespace) -> dict[str, Any]:
    result = rollback(
        args.repo,
        batch_id=args.batch_id,
        reason=args.reason,
        now=_now(args),
        default_branch=args.default_branch or default_branch(args.repo),
        force=args.force,
        lock_timeout=args.lock_timeout,
    )
    for note in result.notes:
        print(f"recipeline-merger: {note}", file=sys.stderr)
    return result.to_json()


def _run_finish(args: argparse.Namespace) -> dict[str, Any]:
    _warn_about_the_token()
    timeout = args.timeout if args.timeout is not None else checks_timeout(os.environ)
    result = finish(args.repo, batch_id=args.batch_id, timeout=timeout)
    print(f"recipeline-merger: {result.note}", file=sys.stderr)
    return result.to_json()


def _warn_about_the_token() -> None:
    """Say it (stderr and the step summary) when PRs would be opened with the workflow's token."""
    warning = token_warning(os.environ)
    if warning is None:
        return
    print(f"recipeline-merger: warning: {warning}", file=sys.stderr)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with Path(summary).open("a", encoding="utf-8") as fh:
            fh.write(f"> **Warning**: {warning}\n\n")


def _run_push_state(args: argparse.Namespace) -> dict[str, Any]:
    return push_state(
        args.repo,
        message=args.message,
        remote=args.remote,
        branch=args.branch,
        attempts=args.attempts,
        lock_timeout=args.lock_timeout,
    ).to_json()


def _run_requeue(args: argparse.Namespace) -> dict[str, Any]:
    return requeue(
        args.repo,
        category=args.category,
        subcategory=args.subcategory,
        ecosystem=args.ecosystem,
        now=_now(args),
        lock_timeout=args.lock_timeout,
    ).to_json()


def _run_stop(args: argparse.Namespace) -> dict[str, Any]:
    by = args.by or os.environ.get("GITHUB_ACTOR") or os.environ.get("USER") or "operator"
    return control_stop(
        args.repo,
        ecosystem=args.ecosystem,
        reason=args.reason,
        by=by,
        now=_now(args),
        incident_url=args.incident_url,
        expected_resume=args.expected_resume,
        lock_timeout=args.lock_timeout,
    )


def _run_resume(args: argparse.Namespace) -> dict[str, Any]:
    return control_resume(args.repo, ecosystem=args.ecosystem, now=_now(args), lock_timeout=args.lock_timeout)


def _run_status(args: argparse.Namespace) -> dict[str, Any]:
    return control_status(args.repo, ecosystem=args.ecosystem, now=_now(args))


def _run_sweep_plan(args: argparse.Namespace) -> dict[str, Any]:
    return sweep_plan(args.repo, args.output, days=args.days, now=_now(args)).to_json()


def _run_sweep_record(args: argparse.Namespace) -> dict[str, Any]:
    recorded = sweep_record(args.repo, args.sweep, now=_now(args), lock_timeout=args.lock_timeout)
    return {"regressions": recorded}


def _run_archive(args: argparse.Namespace) -> dict[str, Any]:
    return archive_failures(
        args.repo, older_than=args.older_than, now=_now(args), lock_timeout=args.lock_timeout
    ).to_json()


def _run_health(args: argparse.Namespace) -> dict[str, Any]:
    publisher = None
    if token_of(os.environ):  # GitHub says whether the last batches' PRs are open, merged or closed
        try:
            publisher = default_publisher(Layout(args.repo))
        except MergerError:
            publisher = None  # misconfigured: the state files alone answer
    lines = read_status(args.repo, _now(args), publisher=publisher)
    if not args.json:
        print("\n".join(lines))
        return {}
    return {"lines": lines}


def _run_budget(args: argparse.Namespace) -> dict[str, Any]:
    return budget_status(args.repo, now=_now(args), batch_dir=args.batch_dir).to_json()


def _now(args: argparse.Namespace) -> dt.datetime:
    now: dt.datetime = args.now or current_time()
    return now.replace(microsecond=0)


def _run_preflight(args: argparse.Namespace) -> dict[str, Any]:
    if args.check:  # argparse has checked every argument by now
        return {"valid": True, "ecosystem": args.ecosystem, "batch_size": args.batch_size, "tier": args.tier}
    if args.ecosystem == "auto":
        return preflight_auto(
            args.repo,
            batch_size=args.batch_size,
            tier=args.tier,
            now=_now(args),
            lock_timeout=args.lock_timeout,
            open_batches=default_publisher(Layout(args.repo)).open_batches,
            dry_run=args.dry_run,
        ).to_json()
    result = preflight(
        args.repo,
        ecosystem=args.ecosystem,
        batch_size=args.batch_size,
        tier=args.tier,
        now=_now(args),
        lock_timeout=args.lock_timeout,
        open_batches=default_publisher(Layout(args.repo)).open_batches,
        dry_run=args.dry_run,
    )
    return result.to_json()


def _run_merge(args: argparse.Namespace) -> dict[str, Any]:
    _warn_about_the_token()
    result = merge(args.repo, args.batch_dir, now=_now(args), lock_timeout=args.lock_timeout)
    for note in result.notes:
        print(f"recipeline-merger: {note}", file=sys.stderr)
    return result.to_json()


def _run_reconcile(args: argparse.Namespace) -> dict[str, Any]:
    result = reconcile(
        args.repo,
        now=_now(args),
        default_branch=args.default_branch or default_branch(args.repo),
        lock_timeout=args.lock_timeout,
    )
    return result.to_json()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    run: Callable[[argparse.Namespace], dict[str, Any]] = args.run
    if args.command in _READS_DATA and not getattr(args, "check", False):  # --check reads nothing
        problem = cliargs.repository_problem(args.repo)
        if problem is not None:
            return cliargs.fail("recipeline-merger", f"--repo {problem}", EXIT_USAGE)
    try:
        summary = run(args)
    except StoppedError as exc:
        return _fail(exc, EXIT_STOPPED)
    except LockTimeoutError as exc:
        return _fail(exc, EXIT_LOCKED)
    except (AlreadyMergedError, RolledBackError) as exc:
        return _fail(exc, EXIT_ALREADY_DONE)
    except (MergerError, SchemaError, OSError) as exc:
        return _fail(exc, EXIT_ERROR)
    if summary:  # a command that printed for people returns nothing more
        print(json.dumps(summary, ensure_ascii=False, sort_keys=False))
    return 0


def _fail(exc: BaseException, code: int) -> int:
    message = " ".join(str(exc).split()) or type(exc).__name__
    print(f"recipeline-merger: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
