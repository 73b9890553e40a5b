"""Reading a repository's data for the dashboard, in recipeline's layout or tsuku's: nothing fatal.

Fast path: every file is parsed with orjson (the standard library where orjson refuses: see
``_loads``) and each record gets a cheap structural check
(types of the fields the dashboard uses). Only a record that fails the cheap check goes
through ``recipeline_schema``'s full validation (``decode``), and only to word its error
message; full jsonschema validation of every record would cost ~20x the whole build. Every
problem becomes a ``ReadProblem`` with the file (repository-relative), the line and what was
expected; one bad line costs that line only.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from recipeline_schema import ECOSYSTEMS, TAXONOMY, Layout, parse_time_lenient

from .legacy import TSUKU_CATEGORIES, canonical_ecosystem, canonical_source, classify, one_line_message
from .legacy import parse_failure_filename as _parse_failure_filename
from .model import (
    BatchOutcome,
    BatchRelease,
    Breaker,
    BudgetUse,
    Control,
    Curated,
    FailureEvent,
    Manifest,
    Package,
    ReadProblem,
    RepositoryData,
    Run,
    time_text,
)
from .share import MAX_ITEMS, SharedWork, can_fork

UNIFIED_QUEUE = "priority-queue.json"
#: where the merger's ``archive-failures`` puts old failure files (``data/failures/archive/``)
ARCHIVE_DIR = "archive"
_BATCH_ID = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{3}$")
_ENVIRONMENT = re.compile(r"^(linux-[a-z]+-(glibc|musl)-(x86_64|arm64)|darwin-(x86_64|arm64)|generation)$")
_STATUSES = frozenset(
    {"pending", "in_progress", "success", "failed", "blocked", "requires_manual", "excluded", "skipped"}
)
_DECODER = json.JSONDecoder()


class _Collector:
    """Accumulates what one repository read found (records and problems)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[ReadProblem] = []
        self.layouts: set[str] = set()
        self.raw_categories: Counter[str] = Counter()
        self.resolved: dict[str, tuple[str, str]] = {}  # package id -> (package, ecosystem)

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def problem(self, file: str, line: int | None, message: str) -> None:
        self.problems.append(ReadProblem(file, line, message))

    def resolve(self, package_id: str) -> tuple[str, str]:
        """``canonical_source``, memoized: the same ids recur across thousands of files."""
        hit = self.resolved.get(package_id)
        if hit is None:
            hit = self.resolved[package_id] = canonical_source(package_id)
        return hit


def read_repository(root: Path | Layout, *, workers: int | None = None) -> RepositoryData:
    """Queues, failures, runs, control, curated disambiguations and manifests under ``root``.

    ``workers``: processes that read the failure files when there are at least
    ``PARALLEL_MIN_FILES`` (default: up to 2, one per core; more than 2 counts as 2); 1 reads
    them all in this process. The second process is a fork that starts on the failure files'
    chunks at once; this one reads the queues, metrics, control, curated and manifest files,
    then takes chunks too.
    """
    layout = root if isinstance(root, Layout) else Layout(root)
    col = _Collector(layout.root)
    reading = _FailureFiles(layout.failures_dir, col, workers)  # a helper may start on them now
    try:
        packages = _read_queues(layout.data / "queues", col)
        runs = _read_runs(layout.data / "metrics", col)
        control = _read_control(layout.control, col)
        curated = _read_curated(layout.curated, col)
        manifests = _read_manifests(layout.batches_dir, col)
        releases = _read_releases(layout.batches_dir, col)
    except BaseException:
        reading.cancel()
        raise
    failures = reading.finish(_name_index(packages))
    return RepositoryData(
        packages=tuple(packages),
        failures=tuple(failures),
        runs=tuple(runs),
        control=control,
        disambiguations=tuple(curated),
        manifests=tuple(manifests),
        releases=tuple(releases),
        problems=tuple(col.problems),
        raw_categories=dict(col.raw_categories),
        layouts=tuple(sorted(col.layouts)),
    )


# --- shared helpers ------------------------------------------------------------------------


_CHUNK = 1 << 16


def _read_bytes(
    path: Path | str, col: _Collector, *, dir_fd: int | None = None, rel: str | None = None
) -> bytes | None:
    """The file's bytes (None when it is missing or unreadable: a problem then, about ``rel``).

    ``os.open``/``os.read``: no buffered file object per file (thousands of small files). With
    ``dir_fd``, ``path`` is a name in that open directory (no path walked per file: ~12% of the
    open/read/close time of a failure file).
    """
    try:
        fd = _open(path, dir_fd)
        try:
            data = os.read(fd, _CHUNK)
            if len(data) == _CHUNK:  # a big file (a queue: 3 MB in tsuku's, 31 MB at 10x)
                data = _read_whole(fd)
        finally:
            os.close(fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        col.problem(rel or col.rel(Path(path)), None, f"expected a readable file, got {exc.strerror or exc}")
        return None
    return data


#: how data files are opened: without updating their access time where the system allows it.
#: A fresh checkout's files are all read for the first time (a workflow's build, the bench's
#: first run), and on a relatime mount each first read writes the file's access time: ~10 ms
#: per 6,000 files here. Only a file's owner may ask for that; for anyone else it is dropped.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOATIME", 0)


def _open(path: Path | str, dir_fd: int | None) -> int:
    global _OPEN_FLAGS  # one process-wide answer: may this process use O_NOATIME
    try:
        return os.open(path, _OPEN_FLAGS, dir_fd=dir_fd)
    except PermissionError:
        if _OPEN_FLAGS == os.O_RDONLY:
            raise
        _OPEN_FLAGS = os.O_RDONLY  # not the owner (or not readable at all: then this fails too)
        return os.open(path, _OPEN_FLAGS, dir_fd=dir_fd)


def _open_dir(directory: Path, prefix: str, col: _Collector) -> int | None:
    """``directory`` open to read files in it by name (``prefix``: its repository-relative path
    and a ``/``); None, and a problem, when it cannot be opened."""
    try:
        return os.open(directory, os.O_RDONLY)
    except OSError as exc:
        col.problem(prefix.rstrip("/"), None, f"expected a readable directory, got {exc.strerror or exc}")
        return None


def _read_whole(fd: int) -> bytes:
    """An open file's bytes in one buffer of its size: no pieces joined (a copy of it all, and
    memory touched for the first time, ~3 µs a page here)."""
    data = os.pread(fd, os.fstat(fd).st_size, 0)
    while chunk := os.pread(fd, 1 << 20, len(data)):  # it grew meanwhile, or a read fell short
        data += chunk
    return data


def _read_document(path: Path, col: _Collector) -> Any:
    raw = _read_bytes(path, col)
    if raw is None:
        return None
    try:
        return orjson.loads(raw)  # as _loads
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        col.problem(col.rel(path), None, f"expected UTF-8 text, got a bad byte at {exc.start}")
    except json.JSONDecodeError as exc:
        col.problem(col.rel(path), exc.lineno, f"expected valid JSON, got {exc.msg} at column {exc.colno}")
    return None


def _json_lines(path: Path | str, col: _Collector, rel: str | None = None) -> list[tuple[int, Any]]:
    """``(line number, value)`` of each parseable line; each bad line is a problem."""
    raw = _read_bytes(path, col)
    if not raw:
        return []
    return _lines_of(raw, rel or col.rel(Path(path)), col)


def _lines_of(raw: bytes, rel: str, col: _Collector) -> list[tuple[int, Any]]:
    """``_json_lines`` of bytes already read (a live file, or a member of an archive)."""
    if b"\n" not in raw.rstrip(b"\n"):  # one line: the usual failure file
        try:
            return [(1, _loads(raw))]
        except (UnicodeDecodeError, json.JSONDecodeError):
            pass  # reported below with its line
    out = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            out.append((number, _loads(line)))
        except UnicodeDecodeError as exc:
            col.problem(rel, number, f"expected UTF-8 text, got a bad byte at {exc.start}")
        except json.JSONDecodeError as exc:
            col.problem(rel, number, f"expected valid JSON, got {exc.msg} at column {exc.colno}")
    return out


_DECODE = _DECODER.decode  # json.loads without its argument checks (str in)


def _loads(raw: bytes) -> Any:
    """``json.loads(raw)``, by orjson (~3x faster, and no text decoded first). What orjson
    refuses goes through the standard library as before: ``NaN``, a BOM and lone surrogates,
    which it accepts, and malformed text, whose error it words. (orjson reads an integer beyond
    64 bits as a float, where the standard library keeps it exact: no count or exit code is.)

    In the standard library's turn, UTF-8 without a BOM (what starts with ``{``) skips the
    encoding detection; anything else goes through ``json.loads`` and its detection."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    if raw[:1] == b"{" and raw[1:2] != b"\x00":  # json.detect_encoding would say utf-8
        return _DECODE(raw.decode("utf-8", "surrogatepass"))  # as json.loads decodes bytes
    return json.loads(raw)


def _json_stream(
    path: Path | str, col: _Collector, rel: str | None = None, dir_fd: int | None = None
) -> list[tuple[int, Any]]:
    """Concatenated JSON values (one a line, or pretty-printed objects one after another)."""
    raw = _read_bytes(path, col, dir_fd=dir_fd, rel=rel)
    if not raw:
        return []
    rel = rel or col.rel(Path(path))
    try:
        return [(1, orjson.loads(raw))]  # one object (tsuku's pretty-printed files): the common case
    except orjson.JSONDecodeError:
        pass  # several values, or what orjson refuses (see _loads): the standard library's turn
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        col.problem(rel, None, f"expected UTF-8 text, got a bad byte at {exc.start}")
        return []
    try:
        return [(1, _DECODE(text))]  # one object (tsuku's pretty-printed files): the common case
    except json.JSONDecodeError:
        pass  # several values, or a malformed one: walk them
    out: list[tuple[int, Any]] = []
    pos, line, size = 0, 1, len(text)
    while True:
        start = pos
        while pos < size and text[pos] in " \t\r\n":
            pos += 1
        line += text.count("\n", start, pos)
        if pos >= size:
            return out
        try:
            value, end = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            col.problem(rel, line, f"expected valid JSON, got {exc.msg}")
            nl = text.find("\n", pos)
            if nl < 0:
                return out
            line += 1
            pos = nl + 1
            continue
        out.append((line, value))
        line += text.count("\n", pos, end)
        pos = end


def _full_message(model: str, data: Any, file: str, prefix: str, fallback: str) -> str:
    """The schema package's own wording of why ``data`` breaks the model named ``model`` (slow; bad
    records only)."""
    # imported here: the models and the decoder (recipeline_schema.io, which brings the contracts
    # and tomlkit) cost more at import than a good repository's whole queue takes to read
    import recipeline_schema
    from recipeline_schema import DataFileError, SchemaError, decode

    try:
        decode(getattr(recipeline_schema, model), data, file, prefix=prefix)
    except DataFileError as exc:
        got = "" if exc.got is None else f", got {_short(exc.got)}"
        return f"at {exc.path}: expected {exc.expected}{got}"
    except SchemaError as exc:  # pragma: no cover - decode raises DataFileError
        return str(exc)
    return fallback


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


#: Memos of what a value read from files turned into. They catch repeats close together (the
#: items of one record share a timestamp, a run repeats a CLI error) and are emptied when they
#: reach ``MEMO_LIMIT``: kept whole, they held ~60 MB at 10x tsuku's data, where most values
#: occur once, and touching new memory costs here about what the parsing does.
MEMO_LIMIT = 4096
_TIMES: dict[str, dt.datetime | None] = {}


def _time(value: Any) -> dt.datetime | None:
    """A time in any form tsuku wrote; RFC 3339 takes the fast path (fromisoformat), memoized."""
    if not isinstance(value, str) or not value:
        return None
    cached = _TIMES.get(value, _MISSING)
    if cached is not _MISSING:
        return cached  # type: ignore[return-value]
    parsed: dt.datetime | None
    try:
        parsed = dt.datetime.fromisoformat(value)
        parsed = parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)
        if len(value) < 19:  # a date alone is not a time here
            parsed = None
    except ValueError:
        parsed = parse_time_lenient(value)
    if parsed is not None and parsed.microsecond:
        parsed = parsed.replace(microsecond=0)  # the output has second precision; keeps dedup exact
    if len(_TIMES) >= MEMO_LIMIT:
        _TIMES.clear()
    _TIMES[value] = parsed
    return parsed


_MISSING = object()
_STAMPS: dict[str, str | None] = {}


def _stamp(value: Any) -> str | None:
    """``_time`` as the text failure events keep (``time_text``), memoized by what the file wrote."""
    if value.__class__ is not str:
        return None
    text = _STAMPS.get(value, _MISSING)
    if text is _MISSING:
        if _canonical(value):  # already the text events keep: checked, not rebuilt
            text = value
        else:
            parsed = _time(value)
            text = None if parsed is None else time_text(parsed)
        if len(_STAMPS) >= MEMO_LIMIT:
            _STAMPS.clear()
        _STAMPS[value] = text
    return text  # type: ignore[return-value]


def _canonical(value: str) -> bool:
    """``value`` is a real time written exactly as ``time_text`` writes one (``2026-02-08T02:33:27Z``,
    what tsuku's orchestrator and recipeline write)."""
    if not (
        len(value) == 20
        and value[19] == "Z"
        and value[10] == "T"
        and value[4] == value[7] == "-"
        and value[13] == value[16] == ":"
    ):
        return False
    try:
        dt.datetime.fromisoformat(value[:19])
    except ValueError:
        return False
    return True


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _num(value: Any) -> float | None:
    """A finite number as a float, else None (the standard library reads ``NaN`` and ``1e400``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


# --- queues ------------------------------------------------------------------------------


def _read_queues(directory: Path, col: _Collector) -> list[Package]:
    """Entries of the unified queue (tsuku) and the per-ecosystem queues; one per (source, name).

    tsuku lists aliases of one source under several names (``task`` and ``go-task``): each
    name is an entry, as tsuku counts them.

    tsuku's legacy per-ecosystem files (``packages``/``id``/``tier``) predate its unified
    queue and are read only when no unified queue exists (else they would count twice).
    """
    unified = directory / UNIFIED_QUEUE
    files = [unified] if unified.is_file() else []
    files += sorted(directory.glob("priority-queue-*.json"))
    out: dict[tuple[str, str], Package] = {}
    for path in files:
        doc = _read_document(path, col)
        if doc is None:
            continue
        rel = col.rel(path)
        if not isinstance(doc, dict):
            col.problem(rel, None, f"at $: expected an object, got {type(doc).__name__}")
        elif isinstance(doc.get("entries"), list):
            native = "ecosystem" in doc
            col.layouts.add("recipeline" if native else "tsuku")
            for i, item in enumerate(doc["entries"]):
                pkg = _entry(item, native, rel, i, col)
                if pkg is not None:
                    out.setdefault((pkg.source, pkg.name), pkg)
        elif isinstance(doc.get("packages"), list):
            col.layouts.add("tsuku")
            if files[0] is unified and path is not unified:
                continue
            for i, item in enumerate(doc["packages"]):
                pkg = _legacy_entry(item, rel, i, col)
                if pkg is not None:
                    out.setdefault((pkg.source, pkg.name), pkg)
        else:
            col.problem(rel, None, "at $: expected an 'entries' array (or tsuku's legacy 'packages')")
    return list(out.values())


def _entry(item: Any, native: bool, rel: str, index: int, col: _Collector) -> Package | None:
    if not (
        isinstance(item, dict)
        and isinstance(item.get("name"), str)
        and item["name"]
        and isinstance(item.get("source"), str)
        and ":" in item["source"]
        and _int(item.get("priority"), -1) in (1, 2, 3)
        and (item.get("status", "pending") in _STATUSES)
    ):
        where = f"$.entries[{index}]"
        fallback = (
            f"at {where}: expected an entry with name, source '<ecosystem>:<id>', priority 1-3, a status"
        )
        message = _full_message("QueueEntry", item, rel, where, fallback) if native else fallback
        col.problem(rel, None, message)
        return None
    source, eco = canonical_source(item["source"])
    get = item.get  # one lookup per field: this runs once per queue entry (53,000 at 10x)
    popularity, failure_count, batch_id = get("popularity"), get("failure_count"), get("batch_id")
    next_retry_at, last_attempt_at = get("next_retry_at"), get("last_attempt_at")
    blocked_by = get("blocked_by")
    return Package(
        name=item["name"],
        source=source,
        ecosystem=eco,
        priority=item["priority"],
        status=get("status", "pending"),
        confidence=str(get("confidence") or "auto"),
        popularity=popularity if isinstance(popularity, int) else None,
        failure_count=_int(failure_count) if failure_count is not None else 0,
        next_retry_at=_time(next_retry_at) if next_retry_at else None,
        last_attempt_at=_time(last_attempt_at) if last_attempt_at else None,
        batch_id=batch_id if isinstance(batch_id, str) else None,
        blocked_by=_strings(blocked_by) if blocked_by else (),
        reason=str(get("reason") or ""),
    )


def _legacy_entry(item: Any, rel: str, index: int, col: _Collector) -> Package | None:
    if not (
        isinstance(item, dict)
        and isinstance(item.get("id"), str)
        and ":" in item["id"]
        and isinstance(item.get("name"), str)
        and _int(item.get("tier"), -1) in (1, 2, 3)
    ):
        col.problem(rel, None, f"at $.packages[{index}]: expected id '<ecosystem>:<name>', name, tier 1-3")
        return None
    source, eco = canonical_source(item["id"])
    status = item["status"] if item.get("status") in _STATUSES else "pending"
    return Package(name=item["name"], source=source, ecosystem=eco, priority=item["tier"], status=status)


def _name_index(packages: list[Package]) -> dict[str, str]:
    """Bare name -> source, for names that are unique across the queues (tsuku's per-recipe lines)."""
    seen: Counter[str] = Counter(p.name for p in packages)
    return {p.name: p.source for p in packages if seen[p.name] == 1}


# --- failures ----------------------------------------------------------------------------


#: Below this many failure files one process reads them all; from here a forked helper process
#: takes chunks of them too (``share.SharedWork``). The fork and sending the helper's events
#: back cost a few milliseconds per thousand files; reading a thousand costs ~20 ms.
PARALLEL_MIN_FILES = 1_000
#: files per work item: small enough that neither process waits long for the other at the end
CHUNK_FILES = 16


_Chunk = tuple[list[FailureEvent], list[ReadProblem], Counter[str], set[str]]


class _FailureFiles:
    """The live failure files of ``directory``, in chunks, read by this process and, when there
    are many, a forked helper that starts at once (``share.SharedWork``); ``finish`` collects.

    A chunk's result is its events, problems, raw categories and layouts; each is merged into
    the repository's collector here, whichever process read the chunk.
    """

    def __init__(self, directory: Path, col: _Collector, workers: int | None) -> None:
        try:
            entries = sorted(e.name for e in os.scandir(directory) if e.name.endswith(".jsonl"))
        except FileNotFoundError:
            entries = []
        self.directory, self.col, self.entries = directory, col, entries
        self.prefix = col.rel(directory) + "/"
        self.resolved: dict[str, tuple[str, str]] = {}  # the package-id memo of every chunk
        self.out: list[FailureEvent] = []
        self.names: dict[str, str] = {}
        size = max(CHUNK_FILES, -(-len(entries) // MAX_ITEMS))
        self.chunks = [entries[i : i + size] for i in range(0, len(entries), size)]
        workers = min(2, os.cpu_count() or 1) if workers is None else workers
        self.shared: SharedWork[_Chunk] | None = None
        if workers >= 2 and len(entries) >= PARALLEL_MIN_FILES and can_fork():
            self.shared = SharedWork(
                len(self.chunks), self._read_chunk, self._accept, pack=_pack_chunk, unpack=_unpack_chunk
            )

    def _read_chunk(self, index: int) -> _Chunk:
        col = _Collector(self.col.root)
        col.resolved = self.resolved
        events = _failure_files(self.directory, self.prefix, self.chunks[index], col)
        return events, col.problems, col.raw_categories, col.layouts

    def _accept(self, index: int, chunk: _Chunk) -> None:
        """Merge a chunk's result (``index``: its number; chunks merge in any order)."""
        events, problems, raw, layouts = chunk
        names = self.names
        for i, e in enumerate(events):  # a bare name (tsuku's per-recipe lines) unique in the queues
            if ":" not in e.package and (source := names.get(e.package)) is not None:
                events[i] = e._replace(package=source, ecosystem=source.partition(":")[0])
        self.out += events
        self.col.problems += problems
        self.col.raw_categories.update(raw)
        self.col.layouts |= layouts

    def cancel(self) -> None:
        if self.shared is not None:
            self.shared.cancel()

    def finish(self, names: dict[str, str]) -> list[FailureEvent]:
        """Every event of the live files and of the archived ones, bare names resolved through
        ``names`` (``_name_index``); problems, categories and layouts merged into the collector."""
        self.names = names
        if self.shared is None:
            for index in range(len(self.chunks)):
                self._accept(index, self._read_chunk(index))
        else:
            self.shared.finish()
        archived = _archived_failures(self.directory / ARCHIVE_DIR, self.entries, self.col)
        self._accept(len(self.chunks), (archived, [], Counter(), set()))  # names resolved alike
        return self.out


def _pack_chunk(
    chunk: _Chunk,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], dict[str, int], list[str]]:
    """A chunk as plain values (``marshal`` takes no named tuples)."""
    events, problems, raw, layouts = chunk
    return [tuple(e) for e in events], [tuple(p) for p in problems], dict(raw), sorted(layouts)


def _unpack_chunk(value: Any) -> _Chunk:
    rows, problems, raw, layouts = value
    return (
        list(map(FailureEvent._make, rows)),
        list(map(ReadProblem._make, problems)),
        Counter(raw),
        set(layouts),
    )


def _archived_failures(directory: Path, live: list[str], col: _Collector) -> list[FailureEvent]:
    """Every ``.jsonl`` member of every ``archive/*.tar.gz``, read like a live file.

    The merger's ``archive-failures`` moves old failure files there, each member keeping the
    file's name. A member named like a live file (the archive was written, the originals not
    yet deleted) or like a member of an earlier archive counts once. An archive that cannot be
    read is one problem; the other archives are still read.
    """
    try:
        archives = sorted(e.name for e in os.scandir(directory) if e.name.endswith(".tar.gz"))
    except (FileNotFoundError, NotADirectoryError):
        return []
    import tarfile  # only repositories with archives pay for it

    seen = set(live)
    out: list[FailureEvent] = []
    for archive in archives:
        path = directory / archive
        rel = col.rel(path)
        try:
            with tarfile.open(path, "r:gz") as tar:
                for member in tar:
                    name = member.name.rpartition("/")[2]
                    if not member.isfile() or not name.endswith(".jsonl") or name in seen:
                        continue
                    seen.add(name)
                    extracted = tar.extractfile(member)
                    raw = extracted.read() if extracted is not None else b""
                    if raw:
                        _failure_file(name, f"{rel}/{name}", raw, col, out)
        except (OSError, EOFError, tarfile.TarError) as exc:
            col.problem(rel, None, f"expected a readable tar.gz archive of failure files, got {exc}")
    return out


def _failure_files(directory: Path, prefix: str, entries: list[str], col: _Collector) -> list[FailureEvent]:
    out: list[FailureEvent] = []
    dir_fd = _open_dir(directory, prefix, col)
    if dir_fd is None:
        return out
    try:
        read, parse = _read_bytes, _failure_file
        for name in entries:
            rel = prefix + name
            raw = read(name, col, dir_fd=dir_fd, rel=rel)
            if raw:
                parse(name, rel, raw, col, out)
    finally:
        os.close(dir_fd)
    return out


def _failure_file(name: str, rel: str, raw: bytes, col: _Collector, out: list[FailureEvent]) -> None:
    """The events of one failure file's bytes (``name``: its file name, which carries tsuku's
    ecosystem and batch id), appended to ``out``."""
    file_eco, file_batch = _parse_failure_filename(name)
    for number, obj in _lines_of(raw, rel, col):
        if not isinstance(obj, dict):
            col.problem(rel, number, f"expected an object, got {type(obj).__name__}")
        elif "batch_id" in obj:
            out += _native_record(obj, rel, number, col)
        elif isinstance(obj.get("failures"), list):
            out += _tsuku_record(obj, rel, number, file_eco, file_batch or name[:-6], col)
        elif "recipe" in obj:
            event = _tsuku_recipe_line(obj, rel, number, file_eco, file_batch or name[:-6], col)
            if event is not None:
                out.append(event)
        else:
            col.problem(rel, number, "expected a failure record: a 'failures' array or a per-recipe line")


def _native_ok(obj: dict[str, Any]) -> bool:
    """Cheap check of a recipeline failure record (the fields and rules the dashboard relies on)."""
    if not (
        obj.get("schema_version") == 1
        and obj.get("ecosystem") in ECOSYSTEMS
        and isinstance(obj.get("batch_id"), str)
        and _BATCH_ID.match(obj["batch_id"])
        and isinstance(obj.get("environment"), str)
        and _ENVIRONMENT.match(obj["environment"])
        and isinstance(obj.get("failures"), list)
    ):
        return False
    for f in obj["failures"]:
        if not (isinstance(f, dict) and isinstance(f.get("package_id"), str) and ":" in f["package_id"]):
            return False
        spec = TAXONOMY.get(f.get("category"))  # type: ignore[arg-type]
        sub = f.get("subcategory")
        if spec is None or not (sub is None or sub in spec.subcategories):
            return False
        message = f.get("message")
        if not isinstance(message, str) or "\n" in message or len(message) > 500:
            return False
        if _stamp(f.get("timestamp")) is None:
            return False
    return True


def _native_record(obj: dict[str, Any], rel: str, number: int, col: _Collector) -> list[FailureEvent]:
    if not _native_ok(obj):
        fallback = "at $: expected a failure record of the contract (data/schemas/failure-record.schema.json)"
        col.problem(rel, number, _full_message("FailureRecord", obj, rel, "$", fallback))
        return []
    col.layouts.add("recipeline")
    out = []
    for f in obj["failures"]:
        col.raw_categories[f["category"]] += 1
        source, _ = canonical_source(f["package_id"])
        stamp = _stamp(f["timestamp"])
        assert stamp is not None  # checked by _native_ok
        out.append(
            FailureEvent(
                package=source,
                ecosystem=obj["ecosystem"],
                category=f["category"],
                subcategory=f.get("subcategory"),
                message=f["message"],
                timestamp=stamp,
                batch_id=obj["batch_id"],
                environments=(obj["environment"],),
                blocked_by=_strings(f.get("blocked_by")),
                exit_code=f.get("exit_code") if isinstance(f.get("exit_code"), int) else None,
                file=rel,
            )
        )
    return out


def _tsuku_record(
    obj: dict[str, Any],
    rel: str,
    number: int,
    file_eco: str,
    batch_id: str,
    col: _Collector,
) -> list[FailureEvent]:
    """tsuku's orchestrator line: one (ecosystem, run) with a ``failures`` array."""
    col.layouts.add("tsuku")
    record_eco = canonical_ecosystem(obj["ecosystem"]) if isinstance(obj.get("ecosystem"), str) else ""
    environment = obj.get("environment") if isinstance(obj.get("environment"), str) else ""
    out = []
    default_eco = record_eco or _file_ecosystem(file_eco)
    environments = (environment,) if environment else ()
    resolved, stamps = col.resolved, _STAMPS  # the memos themselves: a lookup, not a call, per item
    for i, f in enumerate(obj["failures"]):
        package_id = f.get("package_id") if isinstance(f, dict) else None
        if not isinstance(package_id, str) or not package_id:
            col.problem(rel, number, f"at $.failures[{i}]: expected an object with a package_id")
            continue
        category = f.get("category")
        if not isinstance(category, str):
            col.problem(
                rel, number, f"at $.failures[{i}].category: expected a string, got {_short(category)}"
            )
            continue
        col.raw_categories[category] += 1
        if category not in TSUKU_CATEGORIES:
            col.problem(
                rel, number, f"at $.failures[{i}].category: expected a failure category, got {category!r}"
            )
            continue
        stamp = stamps.get(timestamp) if (timestamp := f.get("timestamp")).__class__ is str else None
        if stamp is None:  # not memoized yet, or not a time: the full rules
            stamp = _stamp(timestamp) or _stamp(obj.get("updated_at"))
        if stamp is None:
            got = _short(f.get("timestamp"))
            col.problem(rel, number, f"at $.failures[{i}].timestamp: expected a time, got {got}")
            continue
        package, eco = resolved.get(package_id) or col.resolve(package_id)
        raw_message = f.get("message")
        blocked = f.get("blocked_by")
        blocked_by = _strings(blocked) if blocked else ()
        exit_code = f.get("exit_code")
        if not isinstance(exit_code, int):
            exit_code = None
        message, cat, sub = _classified(category, f.get("subcategory"), exit_code, blocked_by, raw_message)
        out.append(
            FailureEvent(
                package=package,
                ecosystem=eco or default_eco,
                category=cat,
                subcategory=sub,
                message=message,
                timestamp=stamp,
                batch_id=batch_id,
                environments=environments,
                blocked_by=blocked_by,
                exit_code=exit_code,
                legacy_category=category,
                file=rel,
            )
        )
    return out


#: (category, subcategory, exit code, blocked_by, one-line message) -> (category, subcategory):
#: tsuku repeats the same CLI error for many packages and runs
_CLASSIFIED: dict[tuple[Any, ...], tuple[str, str | None]] = {}


def _classified(
    category: str, subcategory: Any, exit_code: int | None, blocked_by: tuple[str, ...], raw_message: Any
) -> tuple[str, str, str | None]:
    """``(message, category, subcategory)`` of a tsuku failure item; the classification memoized."""
    # the cause line: also what subcategories are read from
    message = one_line_message(raw_message) if isinstance(raw_message, str) else "(no message recorded)"
    key = (category, subcategory, exit_code, blocked_by, message)
    try:
        hit = _CLASSIFIED.get(key)
    except TypeError:  # an unhashable subcategory (a JSON array): not memoized
        return (
            message,
            *classify(category, subcategory, exit_code=exit_code, blocked_by=blocked_by, message=message),
        )
    if hit is None:
        hit = classify(category, subcategory, exit_code=exit_code, blocked_by=blocked_by, message=message)
        if len(_CLASSIFIED) >= MEMO_LIMIT:
            _CLASSIFIED.clear()
        _CLASSIFIED[key] = hit
    return message, hit[0], hit[1]


def _tsuku_recipe_line(
    obj: dict[str, Any],
    rel: str,
    number: int,
    file_eco: str,
    batch_id: str,
    col: _Collector,
) -> FailureEvent | None:
    """tsuku's per-recipe, per-platform line: ``recipe``, ``platform``, ``exit_code``, ``category``."""
    col.layouts.add("tsuku")
    recipe, category = obj.get("recipe"), obj.get("category")
    if not isinstance(recipe, str) or not recipe or not isinstance(category, str) or not category:
        col.problem(rel, number, "expected a per-recipe line with 'recipe' and 'category' strings")
        return None
    col.raw_categories[category] += 1
    if category not in TSUKU_CATEGORIES:
        col.problem(rel, number, f"at $.category: expected a failure category, got {category!r}")
        return None
    stamp = (
        _stamp(obj.get("timestamp")) or _stamp(obj.get("updated_at")) or _stamp(batch_id.partition("-")[2])
    )
    if stamp is None:
        col.problem(rel, number, f"at $.timestamp: expected a time, got {_short(obj.get('timestamp'))}")
        return None
    package, eco = col.resolve(recipe)
    exit_code = obj.get("exit_code") if isinstance(obj.get("exit_code"), int) else None
    cat, sub = classify(category, obj.get("subcategory"), exit_code=exit_code)
    platform = obj.get("platform") if isinstance(obj.get("platform"), str) else ""
    return FailureEvent(
        package=package,
        ecosystem=eco or _file_ecosystem(file_eco),
        category=cat,
        subcategory=sub,
        message=f"exit code {exit_code} ({category})" if exit_code is not None else f"({category})",
        timestamp=stamp,
        batch_id=batch_id,
        environments=(platform,) if platform else (),
        exit_code=exit_code,
        legacy_category=category,
        file=rel,
    )


def _file_ecosystem(file_eco: str) -> str:
    eco = canonical_ecosystem(file_eco)
    return eco if eco in ECOSYSTEMS or eco == "github" else "unknown"


# --- metrics -----------------------------------------------------------------------------


def _read_runs(directory: Path, col: _Collector) -> list[Run]:
    try:
        names = sorted(
            e.name
            for e in os.scandir(directory)
            if e.name.startswith("batch-runs") and e.name.endswith(".jsonl")
        )
    except (FileNotFoundError, NotADirectoryError):
        return []
    out: list[Run] = []
    prefix = col.rel(directory) + "/"
    dir_fd = _open_dir(directory, prefix, col)  # a name per file then, no path walked
    if dir_fd is None:
        return out
    try:
        for name in names:
            rel = prefix + name
            for number, obj in _json_stream(name, col, rel, dir_fd):
                run = _run(obj, rel, number, col)
                if run is not None:
                    out.append(run)
    finally:
        os.close(dir_fd)
    return out


def _run(obj: Any, rel: str, number: int, col: _Collector) -> Run | None:
    native = isinstance(obj, dict) and "success_rate" in obj
    stamp = _time(obj.get("timestamp")) if isinstance(obj, dict) else None
    if not (
        isinstance(obj, dict)
        and isinstance(obj.get("batch_id"), str)
        and obj["batch_id"]
        and _int(obj.get("total"), -1) >= 0
        and _int(obj.get("merged"), -1) >= 0
        and stamp is not None
        and (not native or obj.get("ecosystem") in ECOSYSTEMS)
    ):
        fallback = "at $: expected a metrics object with batch_id, total, merged and a timestamp"
        message = _full_message("MetricsLine", obj, rel, "$", fallback) if native else fallback
        col.problem(rel, number, message)
        return None
    col.layouts.add("recipeline" if native else "tsuku")
    ecosystems: tuple[str, ...]
    if isinstance(obj.get("ecosystem"), str):
        ecosystems = (canonical_ecosystem(obj["ecosystem"]),)
    elif isinstance(obj.get("ecosystems"), dict):
        ecosystems = tuple(sorted({canonical_ecosystem(k) for k in obj["ecosystems"]}))
    else:
        ecosystems = ()
    return Run(
        batch_id=obj["batch_id"],
        ecosystem=ecosystems[0] if len(ecosystems) == 1 else "mixed" if ecosystems else "unknown",
        ecosystems=ecosystems,
        timestamp=stamp,
        total=obj["total"],
        merged=obj["merged"],
        generated=_int(obj.get("generated")),
        failed=obj.get("failed") if isinstance(obj.get("failed"), int) else None,
        blocked=obj.get("blocked") if isinstance(obj.get("blocked"), int) else None,
        excluded=_int(obj.get("excluded")),
        skipped=obj.get("skipped") if isinstance(obj.get("skipped"), int) else None,
        validated_linux=obj.get("validated_linux") if isinstance(obj.get("validated_linux"), int) else None,
        validated_macos=obj.get("validated_macos") if isinstance(obj.get("validated_macos"), int) else None,
        used_disambiguation=(
            obj.get("used_disambiguation") if isinstance(obj.get("used_disambiguation"), int) else None
        ),
        duration_seconds=_num(obj.get("duration_seconds")) or 0.0,
        macos_minutes=_num(obj.get("macos_minutes")),
        linux_minutes=_num(obj.get("linux_minutes")),
        file=rel,
    )


# --- control, curated, manifests ---------------------------------------------------------


def _read_control(path: Path, col: _Collector) -> Control | None:
    """batch-control.json in recipeline's form or tsuku's (``failures``/``opens_at``, empty times)."""
    doc = _read_document(path, col)
    if doc is None:
        return None
    if not isinstance(doc, dict):
        col.problem(col.rel(path), None, f"at $: expected an object, got {type(doc).__name__}")
        return None
    breakers = []
    raw = doc.get("circuit_breaker")
    for name, state in sorted(raw.items()) if isinstance(raw, dict) else ():
        if name == "default" or not isinstance(state, dict):
            continue  # tsuku's template entry, not an ecosystem
        breakers.append(
            Breaker(
                ecosystem=canonical_ecosystem(name),
                state=str(state.get("state") or "closed"),
                consecutive_failures=_int(state.get("consecutive_failures", state.get("failures"))),
                opened_at=_time(state.get("opened_at")),
                half_open_after=_time(state.get("half_open_after", state.get("opens_at"))),
                last_failure=_time(state.get("last_failure")),
                last_success=_time(state.get("last_success")),
                reason=str(state.get("reason") or ""),
            )
        )
    budget = doc.get("budget")
    use = None
    if isinstance(budget, dict):
        use = BudgetUse(
            week_start=str(budget.get("week_start") or "") or None,
            macos_used=_num(budget.get("macos_minutes_used")) or 0.0,
            linux_used=_num(budget.get("linux_minutes_used")) or 0.0,
            macos_limit=_num(budget.get("macos_minutes_limit")),
            linux_limit=_num(budget.get("linux_minutes_limit")),
        )
    reasons = doc.get("disabled_reasons")
    return Control(
        enabled=doc.get("enabled") is not False,
        reason=str(doc.get("reason") or ""),
        incident_url=str(doc.get("incident_url") or ""),
        disabled_by=str(doc.get("disabled_by") or ""),
        disabled_at=_time(doc.get("disabled_at")),
        expected_resume=_time(doc.get("expected_resume")),
        disabled_ecosystems=tuple(canonical_ecosystem(e) for e in _strings(doc.get("disabled_ecosystems"))),
        disabled_reasons=(
            {canonical_ecosystem(k): str(v) for k, v in reasons.items()} if isinstance(reasons, dict) else {}
        ),
        breakers=tuple(breakers),
        budget=use,
    )


def _read_curated(path: Path, col: _Collector) -> list[Curated]:
    """curated.jsonl: one record a line, or tsuku's one line holding ``{"disambiguations": [...]}``."""
    rel = col.rel(path)
    out = []
    for number, obj in _json_lines(path, col):
        items = obj.get("disambiguations") if isinstance(obj, dict) else None
        records = items if isinstance(items, list) else [obj]
        for item in records:
            if (
                isinstance(item, dict)
                and isinstance(item.get("tool"), str)
                and isinstance(item.get("selected"), str)
            ):
                out.append(
                    Curated(
                        tool=item["tool"],
                        selected=item["selected"],
                        selection_reason=str(item.get("selection_reason") or "curated"),
                        high_risk=item.get("high_risk") is True,
                        alternatives=_strings(item.get("alternatives")),
                    )
                )
            else:
                col.problem(rel, number, "expected a disambiguation with 'tool' and 'selected' strings")
    return out


def _installed_text(value: object) -> str:
    """A manifest package's installed versions: one version, or ``env: version`` pairs."""
    if not isinstance(value, dict) or not value:
        return ""
    versions = {str(k): str(v) for k, v in value.items()}
    if len(set(versions.values())) == 1:
        return next(iter(versions.values()))
    return ", ".join(f"{env}: {version}" for env, version in sorted(versions.items()))


def _read_manifests(directory: Path, col: _Collector) -> list[Manifest]:
    if not directory.is_dir():
        return []
    rolled_back = {p.name.removesuffix(".rollback.json") for p in directory.glob("*.rollback.json")}
    out = []
    for path in sorted(directory.glob("*.json")):
        if path.name.endswith((".rollback.json", ".release.json")):
            continue
        doc = _read_document(path, col)
        if doc is None:
            continue
        if not (
            isinstance(doc, dict)
            and isinstance(doc.get("batch_id"), str)
            and isinstance(doc.get("packages"), list)
        ):
            col.problem(col.rel(path), None, "at $: expected a batch manifest with batch_id and packages")
            continue
        packages = tuple(
            BatchOutcome(
                name=str(p.get("name", "")),
                package_id=str(p.get("package_id", "")),
                outcome=str(p.get("outcome", "")),
                recipe_path=p.get("recipe_path") if isinstance(p.get("recipe_path"), str) else None,
                reason=str(p.get("reason") or ""),
                installed=_installed_text(p.get("installed_versions")),
                latest=str(p.get("latest_version") or ""),
            )
            for p in doc["packages"]
            if isinstance(p, dict)
        )
        gates = tuple(
            (str(g.get("name", "")), g.get("passed") is True, str(g.get("detail") or ""))
            for g in doc.get("gates") or ()
            if isinstance(g, dict)
        )
        pr = doc.get("pull_request")
        out.append(
            Manifest(
                batch_id=doc["batch_id"],
                ecosystem=canonical_ecosystem(str(doc.get("ecosystem", ""))),
                merged_at=_time(doc.get("merged_at")),
                packages=packages,
                gates=gates,
                pull_request=pr.get("url")
                if isinstance(pr, dict) and isinstance(pr.get("url"), str)
                else None,
                auto_merge=doc.get("auto_merge") is True,
                rolled_back=doc["batch_id"] in rolled_back,
            )
        )
    return out


def _read_releases(directory: Path, col: _Collector) -> list[BatchRelease]:
    """Every release reconcile recorded beside the manifests (``<id>.release.json``)."""
    if not directory.is_dir():
        return []
    out = []
    for path in sorted(directory.glob("*.release.json")):
        doc = _read_document(path, col)
        if doc is None:
            continue
        if not (
            isinstance(doc, dict)
            and isinstance(doc.get("batch_id"), str)
            and isinstance(doc.get("releases"), list)
        ):
            col.problem(col.rel(path), None, "at $: expected a release record with batch_id and releases")
            continue
        for item in doc["releases"]:
            if not isinstance(item, dict):
                continue
            pr = item.get("pull_request")
            out.append(
                BatchRelease(
                    batch_id=doc["batch_id"],
                    cause=str(item.get("cause") or ""),
                    status=str(item.get("status") or ""),
                    released_at=_time(item.get("released_at")),
                    packages=_strings(item.get("packages")),
                    pull_request=pr.get("url")
                    if isinstance(pr, dict) and isinstance(pr.get("url"), str)
                    else None,
                    reason=str(item.get("reason") or ""),
                )
            )
    return out
