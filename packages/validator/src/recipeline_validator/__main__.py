"""Command line: ``python -m recipeline_validator {validate,check,validate-recipe,...}``.

Exit codes are recipeline's one table (``recipeline_schema.exitcodes``): 0 success; 1 an input
error (a file, the batch directory, the environment; one line on stderr); 2 the recipe is
invalid (check) or did not pass (validate-recipe); 6 valid but needs a person's review before it
may merge (check); 64 usage. ``validate`` exits 0 whenever it wrote the report: failed recipes
are data.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
from collections import Counter
from pathlib import Path

from recipeline_schema import BatchDir, Layout, Progress, RecipeResult, SchemaError, dumps, parse_environment
from recipeline_schema.cliargs import OneLineParser
from recipeline_schema.ecosystems import ACTION_PACKAGES
from recipeline_schema.exitcodes import EXIT_ERROR, EXIT_PARTIAL, EXIT_REVIEW

from . import __version__
from .checks import check_recipe, distribution_name
from .environment import detect_host_environment, resolve_environment
from .errors import RecipeFileError, ValidatorError
from .native import NativeOptions, PipSource
from .sandbox import GIB, NO_ISOLATION, Isolation, Limits, describe, probe_isolation
from .tsuku import TsukuOptions
from .validation import RecipeInput, RunSettings, batch_toolchains, validate_batch, validate_recipe

PROG = "recipeline-validator"
#: Which parameter names the package in each installer action (for a derived package id).
ACTION_SOURCES = ACTION_PACKAGES


def _positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return number


def _add_sandbox_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=_positive,
        default=300.0,
        help="wall-clock seconds for a verify command (default 300)",
    )
    parser.add_argument(
        "--install-timeout",
        type=_positive,
        default=600.0,
        help="wall-clock seconds for each download and install (default 600)",
    )
    parser.add_argument(
        "--memory-gib",
        type=_positive,
        default=2.0,
        help="memory limit per command in GiB (a cgroup's memory.max, else RLIMIT_DATA; default 2)",
    )
    parser.add_argument(
        "--cpus",
        type=int,
        default=2,
        help="CPUs per command: cgroup CPU bandwidth, and CPU seconds = CPUs x wall clock (default 2)",
    )
    parser.add_argument(
        "--pids", type=int, default=1024, help="processes per command (a cgroup's pids.max; default 1024)"
    )
    parser.add_argument(
        "--index-url", help="package index for downloads (default: the user's pip configuration)"
    )
    parser.add_argument(
        "--find-links",
        action="append",
        default=[],
        metavar="DIR_OR_URL",
        help="wheel directory/page for downloads; without --index-url it implies --no-index (repeatable)",
    )
    parser.add_argument(
        "--npm-registry",
        metavar="URL",
        help="npm registry for npm_install downloads (default: the user's npm configuration)",
    )
    parser.add_argument(
        "--backend",
        choices=("auto", "native", "tsuku"),
        default="auto",
        help="auto: tsuku when --tsuku is given, else native",
    )
    parser.add_argument(
        "--tsuku",
        metavar="PATH",
        help="tsuku binary: validate with `tsuku install --sandbox --json` (backend tsuku)",
    )
    parser.add_argument(
        "--isolation",
        choices=("auto", "none"),
        default="auto",
        help="auto: cut the network with unshare when permitted; none: do not try",
    )
    parser.add_argument(
        "--work-dir", type=Path, help="where throwaway prefixes are created (default: TMPDIR)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the prefixes (for debugging)")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog=PROG, description="Validate tsuku recipes: checks, sandbox install, verify.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = sub.add_parser(
        "validate",
        help="validate a batch directory's generated recipes for one environment",
        description="Read generation.json, validate each generated recipe, write results/<environment>.json.",
    )
    where = validate.add_mutually_exclusive_group(required=True)
    where.add_argument("--batch-dir", type=Path, help="the batch directory (build/batches/<batch_id>)")
    where.add_argument("--batch-id", help="batch id: the batch directory is <repo>/build/batches/<id>")
    validate.add_argument(
        "--repo", type=Path, default=Path(), help="repository root for --batch-id (default: .)"
    )
    validate.add_argument(
        "--environment", default="auto", help="'auto' (detect the host) or an environment id"
    )
    validate.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="recipes validated in parallel (default: CPUs)",
    )
    validate.add_argument(
        "--only-passed-on",
        choices=("auto", "linux", "none"),
        default="auto",
        help="linux: validate only recipes that passed some Linux environment of the batch; "
        "auto (default): that on macOS only; none: everything",
    )
    validate.add_argument(
        "--only",
        action="append",
        metavar="PACKAGE_ID",
        help="validate only these packages (repeatable; e.g. the macOS budget sample); the others are "
        "recorded as skipped with --only-reason",
    )
    validate.add_argument(
        "--only-reason",
        default="not in this run's sample",
        help="the skip reason recorded for packages left out by --only",
    )
    validate.add_argument(
        "--follow",
        action="store_true",
        help="start while the generator still runs: validate each recipe as soon as generation.json "
        "lists it, until the generation report is complete",
    )
    validate.add_argument(
        "--follow-idle",
        type=float,
        default=900.0,
        metavar="SECONDS",
        help="with --follow: give up when generation.json has not changed for this long (default 900)",
    )
    validate.add_argument(
        "--no-linux-gate",
        action="store_true",
        help="same as --only-passed-on none",
    )
    _add_sandbox_options(validate)

    check = sub.add_parser(
        "check",
        help="schema, rules and safety of one recipe (no install)",
        description="Exit 0 valid and auto-mergeable, 1 invalid, 3 valid but needs human review.",
    )
    check.add_argument("recipe", type=Path, help="recipe TOML file")

    one = sub.add_parser(
        "validate-recipe",
        help="install and verify one recipe on this host (prints the result as JSON)",
        description="Exit 0 pass, 1 fail, 3 skipped.",
    )
    one.add_argument("recipe", type=Path, help="recipe TOML file")
    one.add_argument("--environment", default="auto", help="'auto' (detect the host) or an environment id")
    one.add_argument("--package-id", help="queue source to report (default: derived from the recipe)")
    _add_sandbox_options(one)

    needs = sub.add_parser(
        "toolchains",
        help="print the toolchains a batch's recipes need here, one a line (python node rust go ruby perl "
        "patchelf), for provisioning a distribution's image",
    )
    needs.add_argument("--batch-dir", type=Path, required=True, help="the batch directory")
    needs.add_argument("--environment", default="auto", help="'auto' (detect the host) or an environment id")
    sub.add_parser("detect-environment", help="print this host's environment id")
    sub.add_parser(
        "probe-isolation",
        help="print how (or why not) the network is cut for sandboxed commands, then their containment "
        "and how each limit is enforced",
    )
    return parser


def _settings(args: argparse.Namespace, workers: int = 1) -> RunSettings:
    isolation: Isolation = probe_isolation() if args.isolation == "auto" else NO_ISOLATION
    if args.cpus < 1 or args.pids < 1:
        raise ValidatorError(f"--cpus and --pids: expected at least 1, got {args.cpus} and {args.pids}")
    limits = Limits(
        timeout=args.timeout,
        install_timeout=args.install_timeout,
        memory_bytes=int(args.memory_gib * GIB),
        cpus=args.cpus,
        pids=args.pids,
    )
    # pip runs in the prefix: local paths must not depend on the operator's working directory
    links = tuple(str(Path(link).resolve()) if Path(link).exists() else link for link in args.find_links)
    native = NativeOptions(
        isolation=isolation,
        limits=limits,
        source=PipSource(args.index_url, links),
        npm_registry=args.npm_registry,
    )
    work_root = args.work_dir.resolve() if args.work_dir is not None else None
    if work_root is not None:
        work_root.mkdir(parents=True, exist_ok=True)
    tsuku = None
    if args.backend == "tsuku" and not args.tsuku:
        raise ValidatorError("--backend tsuku: expected --tsuku PATH (the tsuku binary)")
    if args.tsuku and args.backend != "native":
        binary = shutil.which(args.tsuku) or args.tsuku
        if not Path(binary).is_file() or not os.access(binary, os.X_OK):
            raise ValidatorError(f"--tsuku {args.tsuku}: expected an executable tsuku binary")
        tsuku = TsukuOptions(binary=str(Path(binary).resolve()), limits=limits, caller_env=dict(os.environ))
    only = "none" if getattr(args, "no_linux_gate", False) else getattr(args, "only_passed_on", "auto")
    return RunSettings(
        native=native,
        workers=workers,
        work_root=work_root,
        keep_prefixes=args.keep,
        tsuku=tsuku,
        only_passed_on=only,
        follow=getattr(args, "follow", False),
        follow_idle=getattr(args, "follow_idle", 900.0),
        only=frozenset(args.only) if getattr(args, "only", None) else None,
        only_reason=getattr(args, "only_reason", "not in this run's sample"),
    )


def _uses_tsuku(args: argparse.Namespace) -> bool:
    return bool(args.tsuku) and args.backend != "native"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeFileError(f"{path}: cannot read recipe: {exc}") from None


def cmd_validate(args: argparse.Namespace) -> int:
    if args.workers < 1:
        raise ValidatorError(f"--workers: expected at least 1, got {args.workers}")
    environment = resolve_environment(args.environment, any_linux_family=_uses_tsuku(args))
    settings = _settings(args, workers=args.workers)
    batch_dir = args.batch_dir if args.batch_dir is not None else Layout(args.repo).batch_dir(args.batch_id)
    shown = Progress("validate", 0)  # the total grows while following the generator

    def progress(result: RecipeResult) -> None:
        detail = result.failure.message if result.failure else result.reason
        review = "" if result.safety.auto_merge else " [needs review]"
        shown.item(result.name + review, result.outcome, detail)

    report = validate_batch(batch_dir, environment, dataclasses.replace(settings, progress=progress))
    shown.close()
    for result in report.results:
        if result.outcome == "skipped" and not result.duration_seconds:  # held back: not shown above
            print(f"  skipped {result.name}: {result.reason}")
    counts = Counter(r.outcome for r in report.results)
    print(
        f"{report.batch_id} {environment}: {len(report.results)} recipes, {counts['pass']} pass, "
        f"{counts['fail']} fail, {counts['skipped']} skipped in {report.duration_seconds:.1f}s "
        f"(backend {report.backend}, isolation: {report.isolation}) -> "
        f"{BatchDir(batch_dir).results(environment)}"
    )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    result = check_recipe(_read(args.recipe), str(args.recipe))
    for problem in result.problems:
        print(f"invalid: {problem}")
    for finding in result.safety.findings:
        print(f"needs review: {finding}")
    if not result.ok:
        return EXIT_PARTIAL
    if not result.safety.auto_merge:
        return EXIT_REVIEW
    print(f"ok: {args.recipe} is valid and may auto-merge")
    return 0


def derived_package_id(text: str, file: str) -> str:
    """``pypi:<distribution>`` etc. from the recipe's first installer step; ``recipe:<name>`` else."""
    check = check_recipe(text, file)
    if check.recipe is None:
        return "recipe:unknown"
    for step in check.recipe.steps:
        if step.action in ACTION_SOURCES:
            ecosystem, key = ACTION_SOURCES[step.action]
            value = step.params.get(key)
            if isinstance(value, str) and value:
                ident = distribution_name(value) if ecosystem == "pypi" else value
                return f"{ecosystem}:{ident}"
    return f"recipe:{check.recipe.name}"


def cmd_validate_recipe(args: argparse.Namespace) -> int:
    environment = resolve_environment(args.environment, any_linux_family=_uses_tsuku(args))
    text = _read(args.recipe)
    check = check_recipe(text, str(args.recipe))
    name = check.recipe.name if check.recipe else args.recipe.stem
    package_id = args.package_id or derived_package_id(text, str(args.recipe))
    item = RecipeInput(name, package_id, text, str(args.recipe))
    result = validate_recipe(item, parse_environment(environment), _settings(args))
    sys.stdout.write(dumps(result))
    return 0 if result.outcome == "pass" else EXIT_PARTIAL


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "validate":
            return cmd_validate(args)
        if args.command == "check":
            return cmd_check(args)
        if args.command == "validate-recipe":
            return cmd_validate_recipe(args)
        if args.command == "toolchains":
            # no install happens here: any environment id may be asked about
            environment = detect_host_environment() if args.environment == "auto" else args.environment
            for name in batch_toolchains(args.batch_dir, parse_environment(environment)):
                print(name)
            return 0
        if args.command == "detect-environment":
            print(detect_host_environment())
            return 0
        if args.command == "probe-isolation":
            print(probe_isolation().description)
            print(describe(Limits()))  # containment and how each default limit is enforced here
            return 0
    except (ValidatorError, SchemaError, OSError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(f"{PROG}: error: unknown command {args.command}", file=sys.stderr)  # pragma: no cover
    return EXIT_ERROR  # pragma: no cover - argparse rejects unknown commands first


if __name__ == "__main__":
    sys.exit(main())
