"""``python -m recipeline_seeder``: seed an ecosystem's priority queue; import tsuku's queues.

Exit codes are recipeline's one table (``recipeline_schema.exitcodes``): 0 ok; 2 some sources
failed; 1 nothing usable (every source failed, no valid candidate) or a data file that fails
validation; 3 the emergency stop of batch-control.json holds the pipeline or the ecosystem;
4 another writer holds the lock; 64 usage (an argument, a repository in tsuku's layout).
Every error is one line on stderr.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import recipeline_schema.cliargs as cliargs
from recipeline_schema import BatchControl, Layout, LockTimeoutError, SchemaError, current_time, load
from recipeline_schema.controlrules import stop_reason
from recipeline_schema.exitcodes import EXIT_ERROR, EXIT_LOCKED, EXIT_STOPPED, EXIT_USAGE
from recipeline_schema.http import HttpClient, HttpSettings

from . import __version__
from .config import CONFIG_FILE, load_settings
from .errors import SeederError
from .importer import import_tsuku
from .popular import Endpoints, popularity_source
from .run import DEFAULT_LOCK_TIMEOUT, SeedOutcome, seed
from .seedlist import SeedListSource
from .sources import Source

PROG = "recipeline-seeder"
_ecosystem = cliargs.ecosystem
_time = cliargs.time
_limit = cliargs.positive
_seconds = cliargs.seconds


def build_parser() -> argparse.ArgumentParser:
    parser = cliargs.OneLineParser(prog=PROG, description="Seed recipeline's per-ecosystem priority queues.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    s = commands.add_parser(
        "seed",
        help="add new packages from the ecosystem's popularity API (or seed lists) to "
        "data/queues/priority-queue-<ecosystem>.json",
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
        metavar="PATH",
        help="seed from a list file instead of the ecosystem's popularity API (see README: "
        "'name [source] [priority [popularity]]'); repeatable",
    )
    s.add_argument(
        "--api",
        action="store_true",
        help="also query the ecosystem's popularity API when --from-file is given (it is the "
        "default source without --from-file); its candidates come first",
    )
    s.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="tier thresholds and fetch bounds, JSON (default: data/seeds/seeder-config.json if present)",
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

    t = commands.add_parser(
        "import-tsuku",
        help="convert tsuku's queues (unified and legacy homebrew) into per-ecosystem queues",
        description="Read tsuku's data/queues/priority-queue.json and priority-queue-homebrew.json, map "
        "ecosystem aliases, keep statuses and retry state, repair impossible values, and add the "
        "entries to data/queues/priority-queue-<ecosystem>.json (additive). Reports what it could not map.",
    )
    t.add_argument("--repo", type=Path, default=Path(), help="repository root (default: current directory)")
    t.add_argument(
        "--from",
        dest="source",
        type=Path,
        required=True,
        metavar="PATH",
        help="a tsuku checkout, its data/ directory, or its data/queues/ directory",
    )
    t.add_argument("--dry-run", action="store_true", help="report what would be imported; write nothing")
    t.add_argument("--now", type=_time, help="the run's time, RFC 3339 (default: the clock)")
    t.add_argument(
        "--lock-timeout",
        type=_seconds,
        default=DEFAULT_LOCK_TIMEOUT,
        metavar="SECONDS",
        help=f"how long to wait for another writer (default: {DEFAULT_LOCK_TIMEOUT:g})",
    )
    t.add_argument("--verbose", "-v", action="store_true", help="list every entry left out")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    _configure_logging(verbose=args.verbose)
    problem = cliargs.repository_problem(args.repo, need_data=False)  # seeding starts a repository
    if problem is not None:
        return cliargs.fail(PROG, f"--repo {problem}", EXIT_USAGE)
    try:
        if args.command == "import-tsuku":
            return _import(args)
        return _seed(args)
    except LockTimeoutError as exc:
        return cliargs.fail(PROG, f"error: {exc}", EXIT_LOCKED)
    except (SeederError, SchemaError) as exc:
        return cliargs.fail(PROG, f"error: {exc}", EXIT_ERROR)
    except OSError as exc:
        return cliargs.fail(PROG, f"error: {exc.filename or ''}: {exc.strerror or exc}", EXIT_ERROR)


def _stopped(layout: Layout, ecosystem: str) -> str | None:
    """Why the emergency stop refuses seeding ``ecosystem`` (the merger's rule), or None.

    An unreadable batch-control.json halts every stage, this one included (an error)."""
    if not layout.control.exists():
        return None
    return stop_reason(load(BatchControl, layout.control), ecosystem)


def _seed(args: argparse.Namespace) -> int:
    now = args.now or current_time()
    layout = Layout(args.repo)
    reason = None if args.dry_run else _stopped(layout, args.ecosystem)
    if reason is not None:
        return cliargs.fail(
            PROG,
            f"refusing to seed while stopped: {layout.control}: {reason} (invoke control resume)",
            EXIT_STOPPED,
        )
    with HttpClient(_http_settings()) as client:
        sources: list[Source] = []
        if args.api or not args.files:
            if args.config is not None and not args.config.is_file():
                raise SeederError(f"{args.config}: expected a seeder configuration file")
            settings = load_settings(args.config or layout.data / "seeds" / CONFIG_FILE)
            sources.append(
                popularity_source(
                    args.ecosystem, client, settings[args.ecosystem], Endpoints(os.environ), now=now
                )
            )
        sources += [SeedListSource(path, args.ecosystem) for path in args.files or ()]
        outcome = seed(
            layout,
            args.ecosystem,
            sources,
            now=now,
            limit=args.limit,
            dry_run=args.dry_run,
            lock_timeout=args.lock_timeout,
        )
    _print_outcome(outcome, dry_run=args.dry_run)
    return outcome.exit_code


def _import(args: argparse.Namespace) -> int:
    now = args.now or current_time()
    outcome = import_tsuku(
        Layout(args.repo), args.source, now=now, dry_run=args.dry_run, lock_timeout=args.lock_timeout
    )
    verb = "would add" if args.dry_run else "added"
    for q in outcome.queues:
        state = "written" if q.written else "unchanged"
        print(f"{q.ecosystem}: {verb} {q.added}, already queued {q.already_queued}; {q.queue_file} {state}")
    conv = outcome.conversion
    by_reason: dict[str, list[str]] = {}
    for item in conv.unmapped:
        # group by the reason's kind: the ecosystem or rule, not the entry's own value
        by_reason.setdefault(_reason_kind(item.reason), []).append(f"{item.name} ({item.source})")
    for reason, items in sorted(by_reason.items()):
        shown = items if args.verbose else items[:5]
        more = "" if len(shown) == len(items) else f", ... and {len(items) - len(shown)} more"
        print(f"not mapped: {len(items)} x {reason}: {', '.join(shown)}{more}")
    print(
        f"{'dry run: ' if args.dry_run else ''}import-tsuku: {sum(len(v) for v in conv.entries.values())} "
        f"entries mapped, {len(conv.unmapped)} not mapped, {len(conv.duplicates)} duplicates, "
        f"{len(conv.repairs)} repaired; from {', '.join(str(f) for f in outcome.files)}"
    )
    return 0


def _reason_kind(reason: str) -> str:
    if reason.startswith("ecosystem "):
        return reason.split(" has ", 1)[0]
    if reason.startswith("status "):
        return "unknown status"
    if reason.startswith(("name ", "source ")):
        return "unsafe name or source"
    return reason


def _http_settings() -> HttpSettings:
    try:
        return HttpSettings.from_env(os.environ)
    except ValueError as exc:
        raise SeederError(str(exc)) from None


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
