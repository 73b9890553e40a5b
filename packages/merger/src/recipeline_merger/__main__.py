"""Command line of recipeline-merger: preflight, merge, reconcile.

Exit codes: 0 done (an empty selection included), 1 error (a data file, the batch directory,
git), 2 usage, 3 stopped by batch-control.json, 4 another writer holds the lock, 5 the batch
was merged already.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from recipeline_schema import (
    InvalidValueError,
    LockTimeoutError,
    SchemaError,
    normalize_ecosystem,
    parse_time_lenient,
)

from .errors import AlreadyMergedError, MergerError, StoppedError
from .merge import merge
from .preflight import DEFAULT_LOCK_TIMEOUT, preflight
from .reconcile import reconcile

EXIT_ERROR = 1
EXIT_STOPPED = 3
EXIT_LOCKED = 4
EXIT_ALREADY_MERGED = 5


def _time(text: str) -> dt.datetime:
    value = parse_time_lenient(text)
    if value is None:
        raise argparse.ArgumentTypeError(
            f"expected an RFC 3339 UTC time like 2026-01-29T10:00:00Z, got {text!r}"
        )
    return value


def _ecosystem(text: str) -> str:
    try:
        return normalize_ecosystem(text)
    except InvalidValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def _tier(text: str) -> int:
    value = _positive(text)
    if value > 3:
        raise argparse.ArgumentTypeError(f"expected a tier of 1, 2 or 3, got {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recipeline-merger",
        description="recipeline's control plane and merge stage.",
        epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None,
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
    p.add_argument("--ecosystem", type=_ecosystem, required=True, help="ecosystem id (aliases accepted)")
    p.add_argument("--batch-size", type=_positive, required=True, help="most packages to select")
    p.add_argument("--tier", type=_tier, default=3, help="take priorities <= T (1 critical .. 3 standard)")
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
        "reconcile",
        help="queue statuses <- recipes on the default branch; vanished batches back to pending",
        description="Prints one JSON line with the counts.",
    )
    common(p)
    p.add_argument("--default-branch", default="main", help="the branch recipes land on (default: main)")
    p.set_defaults(run=_run_reconcile)
    return parser


def _now(args: argparse.Namespace) -> dt.datetime:
    now: dt.datetime = args.now or dt.datetime.now(dt.UTC)
    return now.replace(microsecond=0)


def _run_preflight(args: argparse.Namespace) -> dict[str, Any]:
    result = preflight(
        args.repo,
        ecosystem=args.ecosystem,
        batch_size=args.batch_size,
        tier=args.tier,
        now=_now(args),
        lock_timeout=args.lock_timeout,
    )
    return result.to_json()


def _run_merge(args: argparse.Namespace) -> dict[str, Any]:
    result = merge(args.repo, args.batch_dir, now=_now(args), lock_timeout=args.lock_timeout)
    for note in result.notes:
        print(f"recipeline-merger: {note}", file=sys.stderr)
    return result.to_json()


def _run_reconcile(args: argparse.Namespace) -> dict[str, Any]:
    result = reconcile(
        args.repo, now=_now(args), default_branch=args.default_branch, lock_timeout=args.lock_timeout
    )
    return result.to_json()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    run: Callable[[argparse.Namespace], dict[str, Any]] = args.run
    try:
        summary = run(args)
    except StoppedError as exc:
        return _fail(exc, EXIT_STOPPED)
    except LockTimeoutError as exc:
        return _fail(exc, EXIT_LOCKED)
    except AlreadyMergedError as exc:
        return _fail(exc, EXIT_ALREADY_MERGED)
    except (MergerError, SchemaError, OSError) as exc:
        return _fail(exc, EXIT_ERROR)
    print(json.dumps(summary, ensure_ascii=False, sort_keys=False))
    return 0


def _fail(exc: BaseException, code: int) -> int:
    message = " ".join(str(exc).split()) or type(exc).__name__
    print(f"recipeline-merger: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
