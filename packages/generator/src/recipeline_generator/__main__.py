"""``python -m recipeline_generator``: generate one recipe, or every recipe of a batch directory.

Exit codes are recipeline's one table (``recipeline_schema.exitcodes``): 0 done; 1 the single
package (``--from``) got no recipe (failed or skipped), or a configuration or data-file error;
64 usage (an argument out of its format). Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from recipeline_schema import (
    BatchDir,
    BatchPlan,
    Failure,
    GeneratedPackage,
    PlannedPackage,
    Progress,
    SchemaError,
    atomic_write_text,
    check_name,
    current_time,
    load,
    parse_source,
    recipe_to_toml,
    redact_url,
)
from recipeline_schema.cliargs import OneLineParser
from recipeline_schema.exitcodes import EXIT_ERROR, EXIT_USAGE
from recipeline_schema.http import HttpClient, HttpSettings, RateLimit

from . import __version__
from .batch import generate_batch
from .builder import BuilderRegistry, default_registry
from .errors import ConfigurationError, GeneratorError
from .homebrew import DEFAULT_BOTTLE_TAG
from .routing import route
from .tsuku_backend import TSUKU_ENV, tsuku_path

PROG = "recipeline-generator"


def _now() -> dt.datetime:
    return current_time()


def _rate_limit(text: str) -> tuple[str, RateLimit]:
    eco, sep, limit = text.partition("=")
    if not sep or not eco.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: expected ECOSYSTEM=CALLS/SECONDS, e.g. pypi=1/1")
    try:
        return eco.strip().lower(), RateLimit.parse(limit)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_common(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default: object = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--index-url",
        default=default,
        metavar="URL",
        help="PyPI simple index (PEP 691) to use instead of the one pip is configured with",
    )
    parser.add_argument(
        "--rate-limit",
        action="append",
        type=_rate_limit,
        default=argparse.SUPPRESS if suppress else [],
        metavar="ECO=CALLS/SECONDS",
        help="requests allowed per host of an ecosystem, e.g. pypi=5/1 or rubygems=10/60 (repeatable; "
        "also RECIPELINE_RATE_LIMIT_<ECO>)",
    )
    parser.add_argument(
        "--tsuku",
        default=default,
        metavar="PATH",
        help="generate with 'tsuku create --deterministic-only' from this tsuku binary instead of the "
        f"built-in builders (also {TSUKU_ENV})",
    )
    parser.add_argument(
        "--bottle-tag",
        default=argparse.SUPPRESS if suppress else DEFAULT_BOTTLE_TAG,
        metavar="TAG",
        help=f"Homebrew bottle platform whose bin/ is read (default {DEFAULT_BOTTLE_TAG}; e.g. arm64_sonoma)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=PROG,
        description="Turn package sources into tsuku recipes with deterministic builders. Without a "
        "command: generate one recipe with --from, e.g. --from pypi:httpie --output -",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--from", dest="source", metavar="SOURCE", help="one source, e.g. pypi:httpie")
    parser.add_argument("--name", help="recipe name for --from (default: the identifier)")
    parser.add_argument(
        "--output", default="-", metavar="PATH", help="recipe file for --from, '-' for stdout"
    )
    _add_common(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    gen = commands.add_parser(
        "generate",
        help="generate every package of a batch plan",
        description="Read build/batches/<id>/manifest.json, write recipes/<name>.toml and generation.json.",
    )
    gen.add_argument(
        "--batch-dir", required=True, type=Path, help="the batch directory (holds manifest.json)"
    )
    gen.add_argument(
        "--repo", required=True, type=Path, help="repository root (data/disambiguations/curated.jsonl)"
    )
    _add_common(gen, suppress=True)
    return parser


def _index_url(args: argparse.Namespace) -> str | None:
    url: str | None = args.index_url
    if url is not None and urlsplit(url).scheme not in ("http", "https"):
        raise ConfigurationError(f"--index-url {redact_url(url)!r}: expected an http(s) URL")
    return url


def _bottle_tag(tag: str) -> str:
    if not re.fullmatch(r"[a-z0-9_]{1,40}", tag):
        raise ConfigurationError(f"--bottle-tag {tag[:40]!r}: expected a bottle tag such as x86_64_linux")
    return tag


def _client(args: argparse.Namespace) -> HttpClient:
    try:
        settings = HttpSettings.from_env(os.environ)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
    settings = settings.with_rate_limits(dict(args.rate_limit))
    return HttpClient(settings, user_agent=f"recipeline/{__version__}")


def _one(args: argparse.Namespace, builders: BuilderRegistry) -> int:
    source = parse_source(args.source)
    name = check_name(args.name or source.identifier.rsplit("/", 1)[-1])
    target = route(PlannedPackage(name, str(source)), {}, builders)
    if target.source is None:
        print(f"{PROG}: {source}: skipped: {target.skip}", file=sys.stderr)
        return 1
    builder = builders.get(target.source.ecosystem)
    assert builder is not None
    result = builder.generate(target.source.identifier, name=name)
    if isinstance(result, Failure):
        sub = f"/{result.subcategory}" if result.subcategory else ""
        print(f"{PROG}: {source}: {result.category}{sub}: {result.message}", file=sys.stderr)
        return 1
    text = recipe_to_toml(result)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        atomic_write_text(args.output, text)
    return 0


def _batch(args: argparse.Namespace, builders: BuilderRegistry) -> int:
    plan = load(BatchPlan, BatchDir(args.batch_dir).plan)
    shown = Progress("generate", len(plan.packages))

    def progress(pkg: GeneratedPackage) -> None:
        shown.item(pkg.package_id, pkg.outcome, pkg.recipe or pkg.reason)

    report = generate_batch(args.batch_dir, args.repo, builders, now=_now, progress=progress)
    shown.close()
    counts = {k: sum(p.outcome == k for p in report.packages) for k in ("generated", "failed", "skipped")}
    overrides = sum(p.override for p in report.packages)
    print(
        f"batch {report.batch_id}: {counts['generated']} generated, {counts['failed']} failed, "
        f"{counts['skipped']} skipped, {overrides} curated overrides -> {args.batch_dir / 'generation.json'}"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None and not args.source:
        print(f"{PROG}: error: give --from SOURCE or a command (generate)", file=sys.stderr)
        return EXIT_USAGE
    try:  # the arguments' formats first: a bad one is a usage error
        if args.source:
            check_name(args.name or parse_source(args.source).identifier.rsplit("/", 1)[-1])
        index_url, bottle_tag = _index_url(args), _bottle_tag(args.bottle_tag)
    except (ConfigurationError, SchemaError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        with _client(args) as http:
            builders = default_registry(
                http, index_url=index_url, tsuku=tsuku_path(args.tsuku, os.environ), bottle_tag=bottle_tag
            )
            if args.command == "generate":
                return _batch(args, builders)
            return _one(args, builders)
    except (GeneratorError, SchemaError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(f"{PROG}: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
