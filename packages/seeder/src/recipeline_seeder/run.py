"""Seeding one ecosystem's queue: the IO around the pure merge.

Sources are fetched first, outside the writer lock (they may be slow); then, under the lock,
the queue is read (validated), merged, written only if it gained entries, and one metrics
line is appended. A queue file that fails validation stops the run before anything is written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from recipeline_schema import (
    ECOSYSTEMS,
    Layout,
    Queue,
    QueueEntry,
    SeedingRun,
    append_jsonl,
    file_lock,
    load,
    normalize_ecosystem,
    read_curated,
    save,
    utc,
)

from .candidates import MergeReport
from .disambiguate import curated_index, disambiguate, elsewhere_index
from .errors import QueueMismatchError
from .merge import merge_candidates
from .sources import Harvest, Source, harvest
from .summary import seeding_run

log = logging.getLogger("recipeline_seeder")

DEFAULT_LOCK_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class SeedOutcome:
    """What a seeding run found, decided and wrote."""

    ecosystem: str
    queue_file: Path
    harvest: Harvest
    report: MergeReport
    run: SeedingRun
    queue_written: bool

    @property
    def exit_code(self) -> int:
        return self.run.exit_code


def seed(
    layout: Layout,
    ecosystem: str,
    sources: Sequence[Source],
    *,
    now: dt.datetime,
    limit: int | None = None,
    dry_run: bool = False,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> SeedOutcome:
    """Seed ``ecosystem``'s queue in ``layout`` from ``sources``; ``dry_run`` writes nothing."""
    ecosystem = normalize_ecosystem(ecosystem)
    now = utc(now)
    got = harvest(sources)
    for failure in got.failures:
        log.warning("source %s failed: %s", failure.source, failure.message)
    if dry_run:
        return _seed_locked(layout, ecosystem, got, now=now, limit=limit, dry_run=True)
    with file_lock(layout.lock, timeout=lock_timeout, what=f"the {ecosystem} queue"):
        return _seed_locked(layout, ecosystem, got, now=now, limit=limit, dry_run=False)


def _seed_locked(
    layout: Layout, ecosystem: str, got: Harvest, *, now: dt.datetime, limit: int | None, dry_run: bool
) -> SeedOutcome:
    path = layout.queue(ecosystem)
    queue = read_queue(path, ecosystem, now=now)
    decided = disambiguate(
        got.candidates,
        ecosystem,
        curated=curated_index(read_curated(layout.curated)),
        elsewhere=elsewhere_index(ecosystem, other_entries(layout, ecosystem, now=now)),
    )
    merged, report = merge_candidates(
        queue, decided.candidates, recipe_names=recipe_names(layout), now=now, limit=limit
    )
    report = dataclasses.replace(report, skipped=(*decided.skipped, *report.skipped))
    for rejection in report.rejected:
        log.warning("rejected %s: %s", rejection.candidate.describe(), rejection.reason)
    for skip in report.skipped:
        log.info("skipped %s: %s", skip.candidate.describe(), skip.reason)
    run = seeding_run(ecosystem, got, report, now=now, dry_run=dry_run)
    written = False
    if not dry_run:
        if report.changed:
            save(merged, path)
            written = True
        append_jsonl([run], layout.seeding_metrics)
    return SeedOutcome(ecosystem, path, got, report, run, written)


def read_queue(path: Path, ecosystem: str, *, now: dt.datetime) -> Queue:
    """The queue in ``path``, validated; an empty queue when the file does not exist yet."""
    if not path.exists():
        return Queue(schema_version=1, ecosystem=ecosystem, updated_at=now, entries=())  # type: ignore[arg-type]
    queue = load(Queue, path)
    if queue.ecosystem != ecosystem:
        raise QueueMismatchError(path, ecosystem, queue.ecosystem)
    return queue


def recipe_names(layout: Layout) -> frozenset[str]:
    """Names that already have a recipe: every ``recipes/*/<name>.toml``."""
    return frozenset(p.stem for p in layout.recipes_dir.glob("*/*.toml") if p.is_file())


def other_entries(layout: Layout, ecosystem: str, *, now: dt.datetime) -> list[QueueEntry]:
    """Every entry of the other ecosystems' queues (validated), for the cross-ecosystem rule."""
    out: list[QueueEntry] = []
    for other in ECOSYSTEMS:
        if other != ecosystem and layout.queue(other).exists():
            out.extend(read_queue(layout.queue(other), other, now=now).entries)
    return out
