"""``python -m recipeline_dashboard``: build the pipeline dashboard, export its schema, benchmark it.

Exit codes are recipeline's one table (``recipeline_schema.exitcodes``): 0 done (malformed data
is reported inside the dashboard, not fatal); 1 the site cannot be written or the schema copy
differs (``schema --check``); 64 usage: an argument out of its format, a ``--repo`` without
``data/`` (named with the command that starts one). Every error is one line on stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from recipeline_schema import Layout, SchemaError, current_time, parse_time_lenient
from recipeline_schema.cliargs import repository_problem
from recipeline_schema.exitcodes import EXIT_ERROR, EXIT_USAGE

from .core import Dashboard, Document
from .errors import DashboardError
from .reading import read_repository
from .schema import check_document, export_schema, schema_drifted
from .site import write_dashboard, write_site

PROG = "recipeline-dashboard"


class _Formatter(argparse.HelpFormatter):
    """argparse's help formatter, given the terminal's width: its own lookup imports ``shutil``
    (and with it ``bz2``, ``lzma``, ``fnmatch``), ~3 ms of every build, help asked for or not."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24) -> None:
        try:
            columns = int(os.environ["COLUMNS"])
        except (KeyError, ValueError):
            try:
                columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
            except (AttributeError, ValueError, OSError):
                columns = 80
        super().__init__(prog, indent_increment, max_help_position, width=columns - 2)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    # one line and recipeline's usage code (recipeline_schema.cliargs.OneLineParser's rule; this
    # class keeps its own formatter)
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {' '.join(message.split())}\n")


def _time(text: str) -> dt.datetime:
    value = parse_time_lenient(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"expected an RFC 3339 time like 2026-01-29T10:00:00Z, got {text!r}")
    return value


class _Version(argparse.Action):
    """``--version``: the version is read from the package metadata only when asked for."""

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> NoReturn:
        from . import __version__

        print(f"{parser.prog} {__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Build recipeline's pipeline dashboard from data/.")
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    b = commands.add_parser(
        "build",
        help="write dashboard.json and the pages from data/ (recipeline's or tsuku's layout)",
        description="Read the repository's queues, failure records, metrics, batch-control.json and "
        "curated disambiguations; write dashboard.json and the static pages. Malformed files and "
        "lines are listed in its 'errors' section.",
    )
    b.add_argument("--repo", type=Path, default=Path(), help="repository root (default: current directory)")
    b.add_argument("--output", type=Path, help="output directory (default: <repo>/website/pipeline)")
    b.add_argument("--now", type=_time, help="the generated_at time, RFC 3339 (default: the clock)")
    b.add_argument("--json-only", action="store_true", help="write dashboard.json only, not the pages")
    b.add_argument("--check", action="store_true", help="validate the document against its JSON Schema")
    s = commands.add_parser(
        "schema",
        help="export dashboard.schema.json to data/schemas/ (or --check the committed copy)",
        description="Write the package's dashboard.schema.json into DIR; with --check, only compare.",
    )
    s.add_argument(
        "directory", type=Path, nargs="?", default=Path("data/schemas"), help="default: data/schemas"
    )
    s.add_argument("--check", action="store_true", help="exit 1 when the copy in DIR differs")
    k = commands.add_parser(
        "bench",
        help="time builds beside tsuku's queue-analytics on tsuku's real data (../shared)",
        description="Unpack tsuku's snapshot (../shared/fixtures/tsuku-snapshot.tar.gz; its failure "
        "files copied to N times as many at --scale N) into a temporary directory and time builds of "
        "recipeline's dashboard and tsuku's own queue-analytics (../shared/tools) alternately, each in "
        "a child process: medians, their ratio, peak memory. Without the snapshot a synthetic corpus of "
        "the same shape is used and recipeline's figures are printed alone.",
    )
    k.add_argument("--scale", type=int, default=1, help="corpus size multiplier (default 1)")
    k.add_argument(
        "--repeat", type=int, default=5, help="runs of each program, alternated; medians reported (default 5)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        if args.command == "schema":
            return _schema(args)
        if args.command == "bench":
            from .bench import run_bench  # imported here: only the benchmark needs it

            return run_bench(args.scale, args.repeat)
        return _build(args)
    except (DashboardError, SchemaError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def _schema(args: argparse.Namespace) -> int:
    if args.check:
        if schema_drifted(args.directory):
            print(
                f"{PROG}: error: {args.directory}/dashboard.schema.json differs from the package's; "
                f"run: python -m recipeline_dashboard schema {args.directory}",
                file=sys.stderr,
            )
            return EXIT_ERROR
        print(f"{args.directory}/dashboard.schema.json is current")
        return 0
    print(f"wrote {export_schema(args.directory)}")
    return 0


def _build(args: argparse.Namespace) -> int:
    if not (args.repo / "data").is_dir():  # recipeline's layout or tsuku's: both have data/
        print(f"{PROG}: error: --repo {repository_problem(args.repo)}", file=sys.stderr)
        return EXIT_USAGE
    layout = Layout(args.repo)
    now = args.now or current_time()
    # the build allocates ~100,000 objects per scale unit and frees almost none of them until it
    # ends, with no reference cycles: the collector's passes would only re-scan them (~25% of
    # the run's time, rendering included), so it is off for the build and back on after
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        data = read_repository(layout)
        dash = Dashboard(data, now)
        source: Document | Dashboard = dash  # its sections are built as they are written
        if args.check:
            source = dash.document()
            check_document(source)
        output = args.output or layout.website
        path = write_dashboard(source, output) if args.json_only else write_site(source, output, dash)
    finally:
        if was_enabled:
            gc.enable()
    if _LEFT_FOR_EXIT is not None:  # the process ends next: the OS frees all at once
        _LEFT_FOR_EXIT.append((data, dash, source))
    print(
        f"wrote {path}: {len(data.packages)} queue entries, {len(dash.failures)} failures, "
        f"{len(data.runs)} runs, {len(data.problems)} data errors"
    )
    for problem in data.problems[:10]:
        where = problem.file if problem.line is None else f"{problem.file}:{problem.line}"
        print(f"{PROG}: warning: {where}: {problem.message}", file=sys.stderr)
    if len(data.problems) > 10:
        print(f"{PROG}: warning: ... and {len(data.problems) - 10} more (see 'errors')", file=sys.stderr)
    return 0


#: set by ``python -m recipeline_dashboard``: the build's objects are kept here and the process
#: ends with ``os._exit``, so the ~100,000 objects per scale unit are not freed one by one
#: (~0.1 s at tsuku's 10x scale) just before the process ends anyway
_LEFT_FOR_EXIT: list[object] | None = None


def _run_and_exit() -> NoReturn:
    """``main()`` as the process: the output flushed, then an exit that frees nothing."""
    global _LEFT_FOR_EXIT
    _LEFT_FOR_EXIT = []
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _run_and_exit()
