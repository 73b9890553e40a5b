"""Reading a repository's data for the dashboard, in recipeline's layout or tsuku's: nothing fatal.

One plain loop: every file is read whole and parsed with orjson (the standard library where
orjson refuses: see ``_loads``). recipeline's own records (failure records, native queue entries
and metrics lines) are checked by the schema package's one validator (``recipeline_schema.decode``:
jsonschema-rs decides, msgspec builds the record, jsonschema words a refusal), so the contract has
one checker. tsuku's records are not contract records: they are read leniently (``legacy``), and
a field the dashboard needs that is missing or malformed is a problem for that record. Every
problem becomes a ``ReadProblem`` with the file (repository-relative), the line and what was
expected; one bad line costs that line only.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from recipeline_schema import ECOSYSTEMS, Layout, format_time, one_line, parse_time_lenient
from recipeline_schema.cause import cause_text
from recipeline_schema.tsuku import (
    TSUKU_CATEGORIES,
    control_json_from_tsuku,
    legacy_source,
    looks_like_tsuku_control,
)
from recipeline_schema.tsuku import classify_record as classify

from .legacy import canonical_ecosystem, canonical_source
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
)

if TYPE_CHECKING:
    from recipeline_schema import DataFileError

UNIFIED_QUEUE = "priority-queue.json"
#: where the merger's ``archive-failures`` puts old failure files (``data/failures/archive/``)
ARCHIVE_DIR = "archive"
_STATUSES = frozenset(
    {"pending", "in_progress", "success", "failed", "blocked", "requires_manual", "excluded", "skipped"}
)


class _Collector:
    """Accumulates what one repository read found (problems, layouts, tsuku's raw categories)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[ReadProblem] = []
        self.layouts: set[str] = set()
        self.raw_categories: Counter[str] = Counter()
        #: a raw tsuku message -> (its cause line, its whole cause): tsuku's runs repeat the same
        #: output batch after batch, and the cause rule is most of reading a message
        self.causes: dict[str, tuple[str, str]] = {}

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def problem(self, file: str, line: int | None, message: str) -> None:
        self.problems.append(ReadProblem(file, line, message))


def read_repository(root: Path | Layout) -> RepositoryData:
    """Queues, failures, runs, control, curated disambiguations and manifests under ``root``."""
    layout = root if isinstance(root, Layout) else Layout(root)
    col = _Collector(layout.root)
    packages = _read_queues(layout.data / "queues", col)
    failures = _read_failures(layout.failures_dir, _name_index(packages), col)
    return RepositoryData(
        packages=tuple(packages),
        failures=tuple(failures),
        runs=tuple(_read_runs(layout.data / "metrics", col)),
        control=_read_control(layout.control, col),
        disambiguations=tuple(_read_curated(layout.curated, col)),
        manifests=tuple(_read_manifests(layout.batches_dir, col)),
        releases=tuple(_read_releases(layout.batches_dir, col)),
        problems=tuple(col.problems),
        raw_categories=dict(col.raw_categories),
        layouts=tuple(sorted(col.layouts)),
    )


# --- shared helpers ------------------------------------------------------------------------


def _read_bytes(path: Path | str, col: _Collector, rel: str | None = None) -> bytes | None:
    """The file's bytes (None when it is missing or unreadable: a problem then, about ``rel``)."""
    try:
        fd = os.open(path, os.O_RDONLY)  # no file object: ~10x cheaper for thousands of small files
        try:
            parts = []
            while part := os.read(fd, 1 << 20):
                parts.append(part)
        finally:
            os.close(fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        col.problem(rel or col.rel(Path(path)), None, f"expected a readable file, got {exc.strerror or exc}")
        return None
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _read_document(path: Path, col: _Collector) -> Any:
    raw = _read_bytes(path, col)
    if raw is None:
        return None
    try:
        return _loads(raw)
    except UnicodeDecodeError as exc:
        col.problem(col.rel(path), None, f"expected UTF-8 text, got a bad byte at {exc.start}")
    except json.JSONDecodeError as exc:
        col.problem(col.rel(path), exc.lineno, f"expected valid JSON, got {exc.msg} at column {exc.colno}")
    return None


def _json_lines(path: Path, col: _Collector) -> list[tuple[int, Any]]:
    """``(line number, value)`` of each parseable line; each bad line is a problem."""
    raw = _read_bytes(path, col)
    return _lines_of(raw, col.rel(path), col) if raw else []


def _lines_of(raw: bytes, rel: str, col: _Collector) -> list[tuple[int, Any]]:
    """``_json_lines`` of bytes already read (a live file, or a member of an archive)."""
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


def _loads(raw: bytes) -> Any:
    """``json.loads(raw)``, by orjson (faster, and no text decoded first). What orjson refuses
    goes through the standard library: ``NaN``, a BOM and lone surrogates, which it accepts, and
    malformed text, whose error it words. (orjson reads an integer beyond 64 bits as a float,
    where the standard library keeps it exact: no count or exit code is that large.)"""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def _json_stream(path: str, rel: str, col: _Collector) -> list[tuple[int, Any]]:
    """Concatenated JSON values (one a line, or pretty-printed objects one after another)."""
    raw = _read_bytes(path, col, rel)
    if not raw:
        return []
    try:
        return [(1, _loads(raw))]  # one object (tsuku's pretty-printed files): the common case
    except UnicodeDecodeError as exc:
        col.problem(rel, None, f"expected UTF-8 text, got a bad byte at {exc.start}")
        return []
    except json.JSONDecodeError:
        pass  # several values, or a malformed one: walk them
    text = raw.decode("utf-8")
    decoder = json.JSONDecoder()
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
            value, end = decoder.raw_decode(text, pos)
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


def _refusal_of(model: str, data: Any, file: str) -> str | None:
    """Why ``data`` breaks the contract named ``model``, in the schema package's words (its one
    validator, ``recipeline_schema.decode``); None when it keeps it."""
    # imported here: the contracts and the validator cost more at import than a tsuku
    # repository's whole read, and only recipeline's records need them
    import recipeline_schema

    try:
        recipeline_schema.decode(getattr(recipeline_schema, model), data, file)
    except recipeline_schema.DataFileError as exc:
        return _worded(exc)
    return None


def _worded(exc: DataFileError) -> str:
    got = "" if exc.got is None else f", got {_short(exc.got)}"
    return f"at {exc.path}: expected {exc.expected}{got}"


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _time(value: Any) -> dt.datetime | None:
    """A time in any form tsuku wrote, UTC, whole seconds (the output has second precision)."""
    if not isinstance(value, str) or len(value) < 19:  # empty, or a date alone: not a time here
        return None
    # tsuku's forms first (nanoseconds, ``T08-45-18Z``: ``fromisoformat`` refuses both, and an
    # exception per record costs more than the match), then any other ISO 8601 form
    parsed = parse_time_lenient(value)  # UTC, whole seconds
    if parsed is not None:
        return parsed
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).replace(microsecond=0)


def _stamp(value: Any) -> str | None:
    """``_time`` as the text failure events keep (``2026-02-08T02:33:27Z``), None for no time."""
    parsed = _time(value)
    return None if parsed is None else format_time(parsed)


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
            refusal = _refusal_of("Queue", doc, rel) if native else None
            if refusal is not None:  # the contract's words; the entries are still read leniently
                col.problem(rel, None, refusal)
            for i, item in enumerate(doc["entries"]):
                pkg = _entry(item, rel, i, col, report=refusal is None)
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


def _entry(item: Any, rel: str, index: int, col: _Collector, *, report: bool) -> Package | None:
    """A queue entry read leniently (what the dashboard needs); a bad one is a problem when
    ``report`` (not when its queue's contract refusal already says what is wrong)."""
    if not (
        isinstance(item, dict)
        and isinstance(item.get("name"), str)
        and item["name"]
        and isinstance(item.get("source"), str)
        and ":" in item["source"]
        and _int(item.get("priority"), -1) in (1, 2, 3)
        and (item.get("status", "pending") in _STATUSES)
    ):
        if report:
            expected = "an entry with name, source '<ecosystem>:<id>', priority 1-3, a status"
            col.problem(rel, None, f"at $.entries[{index}]: expected {expected}")
        return None
    source, eco = canonical_source(item["source"])
    popularity, batch_id = item.get("popularity"), item.get("batch_id")
    return Package(
        name=item["name"],
        source=source,
        ecosystem=eco,
        priority=item["priority"],
        status=item.get("status", "pending"),
        confidence=str(item.get("confidence") or "auto"),
        popularity=popularity if isinstance(popularity, int) else None,
        failure_count=_int(item.get("failure_count")),
        next_retry_at=_time(item.get("next_retry_at")),
        last_attempt_at=_time(item.get("last_attempt_at")),
        batch_id=batch_id if isinstance(batch_id, str) else None,
        blocked_by=_strings(item.get("blocked_by")),
        reason=str(item.get("reason") or ""),
    )


def _legacy_entry(item: Any, rel: str, index: int, col: _Collector) -> Package | None:
    known = legacy_source(item) if isinstance(item, dict) else None
    if known is None or not isinstance(item.get("name"), str) or _int(item.get("tier"), -1) not in (1, 2, 3):
        col.problem(rel, None, f"at $.packages[{index}]: expected id '<ecosystem>:<name>', name, tier 1-3")
        return None
    source, eco = canonical_source(known)
    status = item["status"] if item.get("status") in _STATUSES else "pending"
    return Package(name=item["name"], source=source, ecosystem=eco, priority=item["tier"], status=status)


def _name_index(packages: list[Package]) -> dict[str, str]:
    """Bare name -> source, for names that are unique across the queues (tsuku's per-recipe lines)."""
    seen: Counter[str] = Counter(p.name for p in packages)
    return {p.name: p.source for p in packages if seen[p.name] == 1}


# --- failures ----------------------------------------------------------------------------


def _read_failures(directory: Path, names: dict[str, str], col: _Collector) -> list[FailureEvent]:
    """Every event of the live failure files and of the archived ones (``_archived_failures``),
    in file-name order; a bare package name (tsuku's per-recipe lines) unique in the queues
    becomes that entry's source (``names``: ``_name_index``)."""
    try:
        live = sorted(e.name for e in os.scandir(directory) if e.name.endswith(".jsonl"))
    except (FileNotFoundError, NotADirectoryError):
        live = []
    out: list[FailureEvent] = []
    folder, prefix = os.fspath(directory), col.rel(directory)  # plain strings: no Path per file
    for name in live:
        rel = f"{prefix}/{name}"
        raw = _read_bytes(f"{folder}/{name}", col, rel)
        if raw:
            _failure_file(name, rel, raw, col, out)
    out += _archived_failures(directory / ARCHIVE_DIR, live, col)
    for i, e in enumerate(out):
        if ":" not in e.package and (source := names.get(e.package)) is not None:
            out[i] = e._replace(package=source, ecosystem=source.partition(":")[0])
    return out


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


def _native_record(obj: dict[str, Any], rel: str, number: int, col: _Collector) -> list[FailureEvent]:
    """A recipeline failure record, checked and built by the schema package (``FailureRecord``)."""
    from recipeline_schema import DataFileError, FailureRecord, decode

    try:
        record = decode(FailureRecord, obj, rel)
    except DataFileError as exc:
        col.problem(rel, number, _worded(exc))
        return []
    col.layouts.add("recipeline")
    col.raw_categories.update(f.category for f in record.failures)
    return [
        FailureEvent(
            package=canonical_source(f.package_id)[0],
            ecosystem=record.ecosystem,
            category=f.category,
            subcategory=f.subcategory,
            message=f.message,
            timestamp=format_time(f.timestamp),
            batch_id=record.batch_id,
            environments=(record.environment,),
            blocked_by=f.blocked_by,
            exit_code=f.exit_code,
            file=rel,
            detail=f.detail or f.message,
        )
        for f in record.failures
    ]


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
    default_eco = record_eco or _file_ecosystem(file_eco)
    out = []
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
        stamp = _stamp(f.get("timestamp")) or _stamp(obj.get("updated_at"))
        if stamp is None:
            got = _short(f.get("timestamp"))
            col.problem(rel, number, f"at $.failures[{i}].timestamp: expected a time, got {got}")
            continue
        package, eco = canonical_source(package_id)
        raw_message = f.get("message")
        # the cause line (every stage's rule): also what subcategories are read from
        if isinstance(raw_message, str):
            known = col.causes.get(raw_message)
            if known is None:
                line = one_line(raw_message)
                known = col.causes[raw_message] = (line, cause_text(raw_message) or line)
            message, detail = known
        else:
            message = detail = "(no message recorded)"
        blocked_by = _strings(f.get("blocked_by"))
        exit_code = f.get("exit_code") if isinstance(f.get("exit_code"), int) else None
        cat, sub = classify(
            category, f.get("subcategory"), exit_code=exit_code, blocked_by=blocked_by, message=message
        )
        out.append(
            FailureEvent(
                package=package,
                ecosystem=eco or default_eco,
                category=cat,
                subcategory=sub,
                message=message,
                timestamp=stamp,
                batch_id=batch_id,
                environments=(environment,) if environment else (),
                blocked_by=blocked_by,
                exit_code=exit_code,
                legacy_category=category,
                file=rel,
                detail=detail,
            )
        )
    return out


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
    package, eco = canonical_source(recipe)
    exit_code = obj.get("exit_code") if isinstance(obj.get("exit_code"), int) else None
    cat, sub = classify(category, obj.get("subcategory"), exit_code=exit_code)
    platform = obj.get("platform") if isinstance(obj.get("platform"), str) else ""
    message = f"exit code {exit_code} ({category})" if exit_code is not None else f"({category})"
    return FailureEvent(
        package=package,
        ecosystem=eco or _file_ecosystem(file_eco),
        category=cat,
        subcategory=sub,
        message=message,
        timestamp=stamp,
        batch_id=batch_id,
        environments=(platform,) if platform else (),
        exit_code=exit_code,
        legacy_category=category,
        file=rel,
        detail=message,
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
    folder, prefix = os.fspath(directory), col.rel(directory)
    for name in names:
        rel = f"{prefix}/{name}"
        for number, obj in _json_stream(f"{folder}/{name}", rel, col):
            run = _run(obj, rel, number, col)
            if run is not None:
                out.append(run)
    return out


def _run(obj: Any, rel: str, number: int, col: _Collector) -> Run | None:
    """A metrics object: recipeline's checked by its contract (``MetricsLine``), tsuku's leniently."""
    native = isinstance(obj, dict) and "success_rate" in obj
    if native and (refusal := _refusal_of("MetricsLine", obj, rel)) is not None:
        col.problem(rel, number, refusal)
        return None
    stamp = _time(obj.get("timestamp")) if isinstance(obj, dict) else None
    if not (
        isinstance(obj, dict)
        and isinstance(obj.get("batch_id"), str)
        and obj["batch_id"]
        and _int(obj.get("total"), -1) >= 0
        and _int(obj.get("merged"), -1) >= 0
        and stamp is not None
    ):
        col.problem(
            rel, number, "at $: expected a metrics object with batch_id, total, merged and a timestamp"
        )
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
    """batch-control.json in recipeline's form or tsuku's (converted by ``recipeline_schema.tsuku``)."""
    doc = _read_document(path, col)
    if doc is None:
        return None
    if not isinstance(doc, dict):
        col.problem(col.rel(path), None, f"at $: expected an object, got {type(doc).__name__}")
        return None
    if looks_like_tsuku_control(doc):  # tsuku's breakers and github's shown, as tsuku's pages do
        doc = control_json_from_tsuku(doc, week=None, known_only=False)
    else:  # recipeline's: every stage refuses a file that breaks the contract, so it is unreadable
        refusal = _refusal_of("BatchControl", doc, col.rel(path))
        if refusal is not None:
            col.problem(col.rel(path), None, refusal)
            return None
    breakers = []
    raw = doc.get("circuit_breaker")
    for name, state in sorted(raw.items()) if isinstance(raw, dict) else ():
        if not isinstance(state, dict):
            continue
        breakers.append(
            Breaker(
                ecosystem=canonical_ecosystem(name),
                state=str(state.get("state") or "closed"),
                consecutive_failures=_int(state.get("consecutive_failures")),
                opened_at=_time(state.get("opened_at")),
                half_open_after=_time(state.get("half_open_after")),
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
