"""Reading a repository's data for the dashboard: every file checked, nothing fatal.

Files are read through ``recipeline_schema`` (``load``/``decode`` validate against the
contracts). JSON Lines files are read line by line, so one malformed line costs that line
only; every problem becomes a ``ReadProblem`` with the file (repository-relative) and line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from recipeline_schema import (
    DataFileError,
    FailureRecord,
    Layout,
    MetricsLine,
    Queue,
    SchemaError,
    decode,
    load,
)

from .core import ReadProblem

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RepositoryData:
    """What the dashboard reads from ``data/``, and what it could not read."""

    queues: tuple[Queue, ...]
    failure_records: tuple[FailureRecord, ...]
    metrics: tuple[MetricsLine, ...]
    problems: tuple[ReadProblem, ...]


def read_repository(layout: Layout) -> RepositoryData:
    """Queues, failure records and batch metrics of the repository at ``layout.root``."""
    problems: list[ReadProblem] = []
    queues = []
    for path in sorted((layout.data / "queues").glob("priority-queue-*.json")):
        try:
            queues.append(load(Queue, path))
        except SchemaError as exc:
            problems.append(ReadProblem(_relative(layout, path), None, _message(exc)))
    failures: list[FailureRecord] = []
    for path in sorted(layout.failures_dir.glob("*.jsonl")):
        failures += read_lines(FailureRecord, path, layout, problems)
    metrics = read_lines(MetricsLine, layout.metrics, layout, problems)
    return RepositoryData(tuple(queues), tuple(failures), tuple(metrics), tuple(problems))


def read_lines(model: type[T], path: Path, layout: Layout, problems: list[ReadProblem]) -> list[T]:
    """The valid lines of a JSON Lines file; each bad line is added to ``problems``."""
    rel = _relative(layout, path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        problems.append(ReadProblem(rel, None, f"expected a readable file, got {exc.strerror}"))
        return []
    out = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError as exc:
            problems.append(ReadProblem(rel, number, f"expected UTF-8 text, got a bad byte at {exc.start}"))
            continue
        except json.JSONDecodeError as exc:
            problems.append(
                ReadProblem(rel, number, f"expected valid JSON, got {exc.msg} at column {exc.colno}")
            )
            continue
        try:
            out.append(decode(model, data, rel))
        except SchemaError as exc:
            problems.append(ReadProblem(rel, number, _message(exc)))
    return out


def _message(exc: SchemaError) -> str:
    """The error without the file name (the problem names the file already)."""
    if isinstance(exc, DataFileError):
        got = "" if exc.got is None else f", got {_short(exc.got)}"
        return f"at {exc.path}: expected {exc.expected}{got}"
    return str(exc)


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _relative(layout: Layout, path: Path) -> str:
    try:
        return path.relative_to(layout.root).as_posix()
    except ValueError:
        return path.as_posix()
