"""``archive-failures``: move old failure files into compressed archives without losing a record.

Failure files older than the cutoff (by the time in their name) go into one new
``data/failures/archive/failures-until-<cutoff>.tar.gz`` per run, written atomically and read
back member by member before any original is deleted. A file that some archive already holds
with the same bytes (a run killed between writing the archive and deleting) is only deleted,
so a record is never archived twice. The dashboard reads the archives like the live files.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from recipeline_schema import Layout, atomic_write_bytes, file_lock, parse_time_lenient

from .errors import MergerError

ARCHIVE_DIR = "archive"
_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z)\.jsonl$")


@dataclass(frozen=True, slots=True)
class ArchiveResult:
    archive: str | None
    archived: int
    already_archived: int
    kept: int

    def to_json(self) -> dict[str, object]:
        return {
            "archive": self.archive,
            "archived": self.archived,
            "already_archived": self.already_archived,
            "kept": self.kept,
        }


def file_time(name: str) -> dt.datetime | None:
    """The time in a failure file's name (``cargo-2026-01-29T10-00-00Z.jsonl``, tsuku's too)."""
    match = _STAMP.search(name)
    return parse_time_lenient(match.group(1)) if match else None


def old_files(names: Iterable[str], cutoff: dt.datetime) -> list[str]:
    """The names whose time is before ``cutoff``; a name without a time is never archived."""
    return sorted(n for n in names if (t := file_time(n)) is not None and t < cutoff)


def archived_contents(archive_dir: Path) -> dict[str, bytes]:
    """Every member of every archive, by file name (to recognise what is archived already)."""
    held: dict[str, bytes] = {}
    for path in sorted(archive_dir.glob("*.tar.gz")):
        try:
            with tarfile.open(path, "r:gz") as tar:
                for member in tar.getmembers():
                    extracted = tar.extractfile(member) if member.isfile() else None
                    if extracted is not None:
                        held[Path(member.name).name] = extracted.read()
        except (OSError, tarfile.TarError) as exc:
            raise MergerError(f"{path}: cannot read the archive ({exc}); fix or move it first") from None
    return held


def archive_failures(
    root: Path, *, older_than: dt.timedelta, now: dt.datetime, lock_timeout: float = 10.0
) -> ArchiveResult:
    """Archive failure files older than ``now - older_than``; see the module docstring."""
    layout = Layout(root)
    failures = layout.failures_dir
    archive_dir = failures / ARCHIVE_DIR
    cutoff = now - older_than
    with file_lock(layout.lock, timeout=lock_timeout, what="data/failures (archive)"):
        names = [p.name for p in failures.glob("*.jsonl")] if failures.is_dir() else []
        candidates = old_files(names, cutoff)
        held = archived_contents(archive_dir) if archive_dir.is_dir() else {}
        already = [n for n in candidates if held.get(n) == (failures / n).read_bytes()]
        fresh = [n for n in candidates if n not in already]
        archive_name = None
        if fresh:
            archive = archive_dir / f"failures-until-{cutoff:%Y-%m-%dT%H-%M-%SZ}.tar.gz"
            if archive.exists():
                raise MergerError(f"{archive}: exists already; run again later or move it")
            contents = {n: (failures / n).read_bytes() for n in fresh}
            atomic_write_bytes(archive, _tar_gz(contents))
            if not contents.items() <= archived_contents(archive_dir).items():
                raise MergerError(f"{archive}: read back differs from the files; originals kept")
            archive_name = archive.relative_to(layout.root).as_posix()
        for name in [*already, *fresh]:
            (failures / name).unlink()
    return ArchiveResult(archive_name, len(fresh), len(already), len(names) - len(candidates))


def _tar_gz(contents: dict[str, bytes]) -> bytes:
    """A deterministic tar.gz (sorted members, fixed times and owners) of ``contents``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=9) as tar:
        for name in sorted(contents):
            data = contents[name]
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
