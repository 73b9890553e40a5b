"""``python -m recipeline_schema``: export the JSON Schemas and check data files against them.

Exit codes are recipeline's one table (``exitcodes``): 0 ok, 1 a file is invalid or the schemas
drifted, 64 usage (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__, models
from .cliargs import OneLineParser, count, positive
from .contracts import all_schemas
from .disambiguation import read_curated
from .ecosystems import ECOSYSTEMS
from .errors import SchemaError
from .exitcodes import EXIT_USAGE
from .io import atomic_write_text, load, read_jsonl
from .recipe import recipe_from_toml

#: which contract a repository file holds, by file name
_KINDS: dict[str, type] = {
    "queue": models.Queue,
    "failures": models.FailureRecord,
    "metrics": models.MetricsLine,
    "seeding": models.SeedingRun,
    "control": models.BatchControl,
    "manifest": models.BatchManifest,
    "release": models.ReleaseRecord,
    "plan": models.BatchPlan,
    "generation": models.GenerationReport,
    "results": models.ValidationReport,
}


def _render(schema: dict[str, object]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def export_schemas(directory: Path) -> list[Path]:
    written = []
    for name, schema in all_schemas().items():
        path = directory / name
        atomic_write_text(path, _render(schema))
        written.append(path)
    return written


def drifted_schemas(directory: Path) -> list[str]:
    """Names of schema files in ``directory`` that differ from (or lack) the package's."""
    out = []
    for name, schema in all_schemas().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != _render(schema):
            out.append(name)
    return out


def kind_of(path: Path) -> str | None:
    name, parent = path.name, path.parent.name
    if name.startswith("priority-queue-") and name.endswith(".json"):
        return "queue"
    if name == "batch-control.json":
        return "control"
    if name == "seeding-runs.jsonl":
        return "seeding"
    if parent == "metrics" and name.endswith(".jsonl"):
        return "metrics"
    if parent == "failures" and name.endswith(".jsonl"):
        return "failures"
    if name == "curated.jsonl":
        return "curated"
    if parent == "batches" and name.endswith(".release.json"):
        return "release"
    if parent == "batches" and name.endswith(".json") and not name.endswith(".rollback.json"):
        return "manifest"
    if name.endswith(".toml"):
        return "recipe"
    return None


def check_file(path: Path, kind: str) -> None:
    if kind == "recipe":
        recipe_from_toml(path.read_text(encoding="utf-8"), str(path))
    elif kind == "curated":
        read_curated(path)
    elif path.suffix == ".jsonl":
        read_jsonl(_KINDS[kind], path)
    else:
        load(_KINDS[kind], path)


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="recipeline-schema", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("export-schemas", help="write every JSON Schema into DIR")
    p.add_argument("directory", type=Path)
    p = sub.add_parser("check-schemas", help="fail when DIR's schemas differ from the package's")
    p.add_argument("directory", type=Path)
    p = sub.add_parser("check", help="validate data files (kind from the file name, or --kind)")
    p.add_argument("files", type=Path, nargs="+")
    p.add_argument("--kind", choices=sorted([*_KINDS, "recipe", "curated"]))
    p = sub.add_parser(
        "bench-queue",
        help="time load+select+mark+save of a synthetic queue (ARCHITECTURE §10: 100,000 in <= 0.5 s)",
    )
    p.add_argument("--entries", type=positive, default=100_000, help="queue size (default 100000)")
    p.add_argument("--size", type=count, default=25, help="batch size to select (default 25)")
    p.add_argument("--repeat", type=positive, default=5, help="runs per step; the median counts (default 5)")
    p.add_argument("--ecosystem", choices=ECOSYSTEMS, default="pypi")
    p.add_argument(
        "--strict", action="store_true", help="exit 1 when the cycle misses the time or memory target"
    )
    args = parser.parse_args(argv)

    if args.command == "bench-queue":
        return _bench_queue(args)

    if args.command == "export-schemas":
        for path in export_schemas(args.directory):
            print(path)
        return 0
    if args.command == "check-schemas":
        drift = drifted_schemas(args.directory)
        for name in drift:
            print(
                f"{args.directory / name}: differs from recipeline-schema {__version__}; "
                "run: python -m recipeline_schema export-schemas data/schemas",
                file=sys.stderr,
            )
        return 1 if drift else 0
    status = 0
    for path in args.files:
        kind = args.kind or kind_of(path)
        if kind is None:
            print(f"{path}: cannot tell the contract from the name; pass --kind", file=sys.stderr)
            return EXIT_USAGE
        try:
            check_file(path, kind)
        except (SchemaError, OSError) as exc:
            print(str(exc), file=sys.stderr)
            status = 1
    return status


def _bench_queue(args: argparse.Namespace) -> int:
    from . import bench  # local: only this subcommand needs it

    timings = bench.bench_queue(args.entries, size=args.size, repeat=args.repeat, ecosystem=args.ecosystem)
    for line in bench.report(timings, entries=args.entries, size=args.size, repeat=args.repeat):
        print(line)
    return 1 if args.strict and not bench.target_met(timings) else 0


if __name__ == "__main__":
    sys.exit(main())
