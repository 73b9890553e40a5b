"""``python -m recipeline_seeder``: seed an ecosystem's priority queue.

Exit codes: 0 ok; 2 some sources failed; 1 nothing usable (every source failed, no valid
candidate), a data file that fails validation, a held lock, or a usage error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from recipeline_schema import InvalidValueError, Layout, SchemaError, normalize_ecosystem, parse_time_lenient

from . import __version__
from .errors import SeederError
from .run import DEFAULT_LOCK_TIMEOUT, SeedOutcome, seed
from .seedlist import SeedListSource
from .summary import EXIT_NOTHING_USABLE

PROG = "recipeline-seeder"


class _Parser(argparse.ArgumentParser):
    # argparse exits 2 on usage errors, but 2 means "some sources failed" here
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_NOTHING_USABLE, f"{self.prog}: error: {message}\n")


def _ecosystem(text: str) -> str:
    try:
        return normalize_ecosystem(text)
    except InvalidValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _time(text: str) -> dt.datetime:
    value = parse_time_lenient(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"expected an RFC 3339 time like 2026-01-29T10:00:00Z, got {text!r}")
    return value


def _limit(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Seed recipeline's per-ecosystem priority queues.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    s = commands.add_parser(
        "seed",
        help="add new packages from sources to data/queues/priority-queue-<ecosystem>.json",
        description="Add new packages to an ecosystem's queue as pending entries. Additive: existing "
        "entries are never changed; names already queued or with a recipe are skipped.",
    )
    s.add_argument("--repo", type=Path, default=Path(), help="repository root (default: current directory)")
    s.add_argument(
        "--ecosystem", "-e", required=True, type=_ecosystem, help="ecosystem id (pypi, cargo, ...)"
    )
    s.add_argument(
        "--from-file",
        dest="files",
        action="append",
        type=Path,
        required=True,
        metavar="PATH",
        help="seed list file (see README: 'name [source] [priority [popularity]]'); repeatable",
    )
    s.add_argument("--limit", type=_limit, help="add at most N new entries (the first N in queue order)")
    s.add_argument("--dry-run", action="store_true", help="print what would be added; write nothing")
    s.add_argument("--now", type=_time, help="the run's time, RFC 3339 (default: the clock); for reruns")
    s.add_argument(
        "--lock-timeout",
        type=_seconds,
        default=DEFAULT_LOCK_TIMEOUT,
        metavar="SECONDS",
        help=f"how long to wait for another writer (default: {DEFAULT_LOCK_TIMEOUT:g})",
    )
    s.add_argument("--verbose", "-v", action="store_true", help="also list skipped candidates")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_NOTHING_USABLE
    _configure_logging(verbose=args.verbose)
    try:
        return _seed(args)
    except (SeederError, SchemaError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_NOTHING_USABLE
    except OSError as exc:
        print(f"{PROG}: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_NOTHING_USABLE


def _seed(args: argparse.Namespace) -> int:
    if not args.repo.is_dir():
        raise SeederError(f"repository {args.repo}: expected a directory")
    now = args.now or dt.datetime.now(dt.UTC)
    sources = [SeedListSource(path, args.ecosystem) for path in args.files]
    outcome = seed(
        Layout(args.repo),
        args.ecosystem,
        sources,
        now=now,
        limit=args.limit,
        dry_run=args.dry_run,
        lock_timeout=args.lock_timeout,
    )
    _print_outcome(outcome, dry_run=args.dry_run)
    return outcome.exit_code


def _print_outcome(outcome: SeedOutcome, *, dry_run: bool) -> None:
    verb = "would add" if dry_run else "added"
    for entry in outcome.report.added:
        popularity = "-" if entry.popularity is None else str(entry.popularity)
        print(f"{verb}\t{entry.name}\t{entry.source}\tpriority {entry.priority}\tpopularity {popularity}")
    report, got = outcome.report, outcome.harvest
    print(
        f"{'dry run: ' if dry_run else ''}{outcome.ecosystem}: {verb} {len(report.added)}, "
        f"skipped {len(report.skipped)}, rejected {len(report.rejected)}; "
        f"sources {len(got.attempted) - len(got.failures)}/{len(got.attempted)} ok; "
        f"queue {outcome.queue_file} {'written' if outcome.queue_written else 'unchanged'}"
    )


class _StderrHandler(logging.Handler):
    """Writes to the ``sys.stderr`` of the moment (tests and callers may swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(self.format(record), file=sys.stderr)
        except Exception:  # logging must never break the run
            self.handleError(record)


def _configure_logging(*, verbose: bool) -> None:
    logger = logging.getLogger("recipeline_seeder")
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter(f"{PROG}: %(levelname)s: %(message)s"))
        logger.addHandler(handler)


if __name__ == "__main__":
    sys.exit(main())
