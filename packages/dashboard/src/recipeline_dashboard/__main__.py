"""``python -m recipeline_dashboard``: build the pipeline dashboard from a repository's data/.

Exit codes: 0 the dashboard was written (malformed data is reported inside it, not fatal);
1 the repository is missing, the dashboard cannot be written, or a usage error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from recipeline_schema import Layout, SchemaError, parse_time_lenient

from . import __version__
from .core import build_dashboard
from .errors import DashboardError
from .reading import read_repository
from .site import write_dashboard

PROG = "recipeline-dashboard"
EXIT_ERROR = 1


class _Parser(argparse.ArgumentParser):
    # one exit code for every failure; argparse's own 2 would mean nothing more here
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def _time(text: str) -> dt.datetime:
    value = parse_time_lenient(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"expected an RFC 3339 time like 2026-01-29T10:00:00Z, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Build recipeline's pipeline dashboard from data/.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    b = commands.add_parser(
        "build",
        help="write dashboard.json from data/queues, data/failures and data/metrics",
        description="Read the repository's queues, failure records and batch metrics and write "
        "dashboard.json. Malformed files and lines are listed in its 'errors' section.",
    )
    b.add_argument("--repo", type=Path, default=Path(), help="repository root (default: current directory)")
    b.add_argument("--output", type=Path, help="output directory (default: <repo>/website/pipeline)")
    b.add_argument("--now", type=_time, help="the generated_at time, RFC 3339 (default: the clock)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    try:
        return _build(args)
    except (DashboardError, SchemaError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def _build(args: argparse.Namespace) -> int:
    if not args.repo.is_dir():
        raise DashboardError(f"repository {args.repo}: expected a directory")
    layout = Layout(args.repo)
    now = args.now or dt.datetime.now(dt.UTC)
    data = read_repository(layout)
    document = build_dashboard(data.queues, data.failure_records, data.metrics, now, problems=data.problems)
    path = write_dashboard(document, args.output or layout.website)
    print(
        f"wrote {path}: {document['queue']['total']} queue entries, "
        f"{document['failures']['total']} failures, {len(document['runs'])} runs, "
        f"{document['errors']['count']} data errors"
    )
    for problem in data.problems[:10]:
        where = problem.file if problem.line is None else f"{problem.file}:{problem.line}"
        print(f"{PROG}: warning: {where}: {problem.message}", file=sys.stderr)
    if len(data.problems) > 10:
        print(f"{PROG}: warning: ... and {len(data.problems) - 10} more (see 'errors')", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
