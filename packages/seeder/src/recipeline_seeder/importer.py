"""``import-tsuku``: the IO around ``convert_tsuku`` — find tsuku's queue files, read them,
merge the converted entries additively into recipeline's queues under the writer lock.

Additive like seeding: an entry whose name or source (case-insensitive) is already in the
recipeline queue is left as it is there (reported as already queued); existing entries are never
changed. A queue that gains nothing is not written, so a second import is byte-identical.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recipeline_schema import (
    InvalidValueError,
    Layout,
    QueueEntry,
    file_lock,
    ordered,
    read_json,
    save,
    utc,
)
from recipeline_schema.tsuku import TsukuImport, convert_tsuku

from .errors import TsukuImportError
from .run import DEFAULT_LOCK_TIMEOUT, read_queue

log = logging.getLogger("recipeline_seeder")

UNIFIED = "priority-queue.json"
LEGACY = "priority-queue-homebrew.json"


@dataclass(frozen=True, slots=True)
class EcosystemImport:
    """One recipeline queue after the import: entries added, entries already there."""

    ecosystem: str
    queue_file: Path
    added: int
    already_queued: int
    written: bool


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What was read, converted, left out, repaired and written."""

    files: tuple[Path, ...]
    conversion: TsukuImport
    queues: tuple[EcosystemImport, ...]


def find_queue_files(path: Path) -> tuple[Path | None, Path | None]:
    """tsuku's unified and legacy queue files under ``path`` (a checkout, its ``data/`` or ``queues/``)."""
    for folder in (path / "data" / "queues", path / "queues", path):
        unified, legacy = folder / UNIFIED, folder / LEGACY
        if unified.is_file() or legacy.is_file():
            return (unified if unified.is_file() else None, legacy if legacy.is_file() else None)
    return None, None


def import_tsuku(
    layout: Layout,
    source: Path,
    *,
    now: dt.datetime,
    dry_run: bool = False,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> ImportOutcome:
    """Import tsuku's queues found under ``source`` into ``layout``'s per-ecosystem queues."""
    now = utc(now)
    unified_path, legacy_path = find_queue_files(source)
    if unified_path is None and legacy_path is None:
        raise TsukuImportError(
            f"{source}: expected a tsuku checkout or data directory holding data/queues/{UNIFIED} "
            f"or data/queues/{LEGACY}"
        )
    unified: Any = read_json(unified_path) if unified_path else None
    legacy: Any = read_json(legacy_path) if legacy_path else None
    try:
        conversion = convert_tsuku(
            unified,
            legacy,
            now=now,
            unified_name=str(unified_path or UNIFIED),
            legacy_name=str(legacy_path or LEGACY),
        )
    except InvalidValueError as exc:
        raise TsukuImportError(str(exc)) from None
    for repair in conversion.repairs:
        log.warning(
            "repaired %s (%s): %s %s -> %s: %s",
            repair.where,
            repair.name,
            repair.field,
            repair.old,
            repair.new,
            repair.reason,
        )
    files = tuple(p for p in (unified_path, legacy_path) if p is not None)
    if dry_run:
        queues = tuple(
            _merge(layout, eco, entries, now, write=False) for eco, entries in conversion.entries.items()
        )
    else:
        with file_lock(layout.lock, timeout=lock_timeout, what="the queues (import-tsuku)"):
            queues = tuple(
                _merge(layout, eco, entries, now, write=True) for eco, entries in conversion.entries.items()
            )
    return ImportOutcome(files, conversion, queues)


def _merge(
    layout: Layout, ecosystem: str, entries: tuple[QueueEntry, ...], now: dt.datetime, *, write: bool
) -> EcosystemImport:
    path = layout.queue(ecosystem)
    queue = read_queue(path, ecosystem, now=now)
    taken = {e.name.casefold() for e in queue.entries} | {e.source.casefold() for e in queue.entries}
    new = [e for e in entries if e.name.casefold() not in taken and e.source.casefold() not in taken]
    written = False
    if new and write:
        merged = dataclasses.replace(queue, entries=ordered((*queue.entries, *new)), updated_at=now)
        save(merged, path)
        written = True
    return EcosystemImport(ecosystem, path, len(new), len(entries) - len(new), written)
