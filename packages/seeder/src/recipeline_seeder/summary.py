"""The outcome of a seeding run: its exit code and its metrics line (pure)."""

from __future__ import annotations

import datetime as dt

from recipeline_schema import SeedingRun, one_line, utc

from .candidates import MergeReport
from .sources import Harvest

EXIT_OK = 0
EXIT_NOTHING_USABLE = 1
EXIT_PARTIAL = 2

#: A metrics line lists at most this many error messages (then "... and N more").
MAX_ERRORS = 50


def exit_code(harvest: Harvest, report: MergeReport) -> int:
    """0 ok; 2 when some sources failed; 1 when nothing usable came in.

    "Usable" means at least one valid candidate, added or skipped for a reason that is not an
    error (already queued, has a recipe): a rerun that adds nothing is fine, but a run whose
    sources all failed, or whose candidates were all rejected or absent, is not.
    """
    if harvest.all_failed or report.usable == 0:
        return EXIT_NOTHING_USABLE
    if harvest.failures:
        return EXIT_PARTIAL
    return EXIT_OK


def error_messages(harvest: Harvest, report: MergeReport) -> tuple[str, ...]:
    """Source failures, then rejections, one line each (capped at ``MAX_ERRORS``)."""
    messages = [f"source {f.source} failed: {f.message}" for f in harvest.failures]
    messages += [f"rejected {r.candidate.describe()}: {r.reason}" for r in report.rejected]
    if len(messages) > MAX_ERRORS:
        rest = len(messages) - MAX_ERRORS + 1
        messages = [*messages[: MAX_ERRORS - 1], f"... and {rest} more"]
    return tuple(messages)


def not_added(harvest: Harvest, report: MergeReport) -> tuple[str, ...]:
    """``name: reason`` for every package read and not added: dropped by its source (a library,
    not a tool), skipped or rejected by the merge."""
    return (
        *harvest.dropped,
        *(one_line(f"{s.candidate.name}: {s.reason}") for s in report.skipped),
        *(one_line(f"{r.candidate.name}: rejected: {r.reason}") for r in report.rejected),
    )


def seeding_run(
    ecosystem: str, harvest: Harvest, report: MergeReport, *, now: dt.datetime, dry_run: bool = False
) -> SeedingRun:
    """The ``data/metrics/seeding-runs.jsonl`` line of a run.

    ``sources_processed`` counts the sources attempted (failed ones included); ``skipped``
    counts skipped and rejected candidates together; ``errors`` says why for the rejected ones.
    """
    return SeedingRun(
        timestamp=utc(now),
        ecosystem=ecosystem,  # type: ignore[arg-type]  # normalized by the caller
        sources_processed=len(harvest.attempted),
        sources_failed=len(harvest.failures),
        new_packages=len(report.added),
        skipped=len(report.skipped) + len(report.rejected),
        errors=error_messages(harvest, report),
        not_added=not_added(harvest, report),
        exit_code=exit_code(harvest, report),
        dry_run=dry_run,
    )
