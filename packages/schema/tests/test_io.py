"""Atomic writes, the writer lock, and reads whose errors name file, path and expectation."""

from __future__ import annotations

import dataclasses
import datetime as dt
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import recipeline_schema as rs


def _queue(now: dt.datetime, *names: str) -> rs.Queue:
    return rs.Queue(1, "pypi", now, tuple(rs.QueueEntry(n, f"pypi:{n}", 2) for n in names))


def test_save_then_load_gives_the_same_queue(tmp_path: Path, now: dt.datetime) -> None:
    path = tmp_path / "data" / "queues" / "priority-queue-pypi.json"
    queue = _queue(now, "httpie", "black")
    rs.save(queue, path)
    assert rs.load(rs.Queue, path) == queue
    assert path.read_text().endswith("}\n")
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind


def test_save_refuses_an_invalid_document_and_keeps_the_old_file(tmp_path: Path, now: dt.datetime) -> None:
    path = tmp_path / "q.json"
    rs.save(_queue(now, "httpie"), path)
    before = path.read_bytes()
    bad = rs.Queue(1, "pypi", now, (rs.QueueEntry("../etc", "pypi:x", 2),))
    with pytest.raises(rs.DataFileError) as err:
        rs.save(bad, path)
    assert str(path) in str(err.value) and "$.entries[0].name" in str(err.value)
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("content", "where", "expected"),
    [
        ('{"schema_version": 1, "ecosystem": "pypi"', "line 1, column", "valid JSON"),
        (
            '{"schema_version": 2, "ecosystem": "pypi", "updated_at": "2026-01-01T00:00:00Z", "entries": []}',
            "$.schema_version",
            "the value 1",
        ),
        (
            '{"schema_version": 1, "ecosystem": "pypi", "updated_at": "yesterday", "entries": []}',
            "$.updated_at",
            "a string matching",
        ),
        (
            '{"schema_version": 1, "ecosystem": "pypi", "updated_at": "2026-01-01T00:00:00Z",'
            ' "entries": [{"name": "x", "source": "pypi:x", "priority": 7}]}',
            "$.entries[0].priority",
            "maximum",
        ),
        (
            '{"schema_version": 1, "ecosystem": "pypi", "updated_at": "2026-02-30T00:00:00Z", "entries": []}',
            "$.updated_at",
            "RFC 3339",
        ),
        ("\xff", "byte 0", "UTF-8"),
    ],
)
def test_load_errors_name_file_path_and_expectation(
    tmp_path: Path, content: str, where: str, expected: str
) -> None:
    path = tmp_path / "priority-queue-pypi.json"
    path.write_bytes(content.encode("latin-1") if content == "\xff" else content.encode())
    before = path.read_bytes()
    with pytest.raises(rs.DataFileError) as err:
        rs.load(rs.Queue, path)
    message = str(err.value)
    assert message.startswith(str(path)), message
    assert where in message and expected in message, message
    assert path.read_bytes() == before


def test_missing_file_is_a_named_error(tmp_path: Path) -> None:
    with pytest.raises(rs.DataFileError, match="expected the file to exist"):
        rs.load(rs.Queue, tmp_path / "nope.json")


def test_jsonl_append_keeps_existing_bytes_and_names_bad_lines(tmp_path: Path, now: dt.datetime) -> None:
    path = tmp_path / "seeding-runs.jsonl"
    run = rs.SeedingRun(now, "pypi", 1, 0, 3, 0)
    rs.append_jsonl([run], path)
    path.write_text(path.read_text() + "not json")  # a hand edit gone wrong, without newline
    rs.append_jsonl([run], path)
    lines = path.read_text().splitlines()
    assert lines[1] == "not json" and len(lines) == 3
    with pytest.raises(rs.DataFileError, match=r"line 2, column 1: expected valid JSON"):
        rs.read_jsonl(rs.SeedingRun, path)
    path.write_text(lines[0] + "\n" + lines[0].replace('"pypi"', '"pip"') + "\n")
    with pytest.raises(rs.DataFileError, match=r"line 2: \$\.ecosystem: expected one of"):
        rs.read_jsonl(rs.SeedingRun, path)


def _hold_lock(path: str, ready: Any) -> None:
    with rs.file_lock(path):
        ready.set()
        time.sleep(30)


def test_lock_refuses_a_second_writer_and_dies_with_its_holder(tmp_path: Path) -> None:
    lock = tmp_path / "build" / "recipeline.lock"
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(lock), ready))
    holder.start()
    try:
        assert ready.wait(10)
        with pytest.raises(rs.LockTimeoutError, match=f"pid {holder.pid}"), rs.file_lock(lock, timeout=0.2):
            pass
    finally:
        assert holder.pid is not None
        os.kill(holder.pid, signal.SIGKILL)
        holder.join()
    with rs.file_lock(lock, timeout=1):  # a killed holder leaves no stale lock
        pass


def test_killed_writer_leaves_old_or_new_file(tmp_path: Path) -> None:
    """SIGKILL during repeated atomic writes never leaves a partial file."""
    path = tmp_path / "big.json"
    rs.atomic_write_text(path, '{"n": 0}')
    script = (
        "import sys; from recipeline_schema import atomic_write_text\n"
        "p = sys.argv[1]\n"
        "for i in range(1, 10**9):\n"
        '    atomic_write_text(p, \'{"n": %d, "pad": "%s"}\' % (i, \'x\' * 200000))\n'
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(path)])
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    data = rs.read_json(path)  # parses: the file is one whole version
    assert data["n"] >= 0


def test_save_after_load_reuses_validated_lines_and_writes_the_same_bytes(
    tmp_path: Path, now: dt.datetime
) -> None:
    """Untouched entries are written from the lines read; the result equals a full re-encoding."""
    path = tmp_path / "priority-queue-pypi.json"
    rs.save(_queue(now, *(f"tool{i}" for i in range(50))), path)
    queue = rs.load(rs.Queue, path)
    picked = rs.select_batch(queue, now=now, size=3)
    marked = rs.mark_in_progress(queue, picked, batch_id="2026-01-29-001", now=now)
    rs.save(marked, path)
    assert path.read_text() == rs.io.render(rs.to_json(marked))
    assert rs.load(rs.Queue, path) == marked


def test_an_invalid_changed_entry_is_refused_with_its_index_in_the_whole_queue(
    tmp_path: Path, now: dt.datetime
) -> None:
    path = tmp_path / "priority-queue-pypi.json"
    rs.save(_queue(now, "a", "b", "c"), path)
    before = path.read_bytes()
    queue = rs.load(rs.Queue, path)
    broken = dataclasses.replace(queue.entries[2], batch_id="yesterday")
    with pytest.raises(rs.DataFileError, match=r"\$\.entries\[2\]\.batch_id"):
        rs.save(dataclasses.replace(queue, entries=(*queue.entries[:2], broken)), path)
    assert path.read_bytes() == before


def test_lines_of_a_hand_written_file_are_written_in_the_canonical_form(tmp_path: Path) -> None:
    """An entry that omits default fields is re-encoded in full, not copied as it was."""
    path = tmp_path / "priority-queue-pypi.json"
    path.write_text(
        '{"schema_version": 1, "ecosystem": "pypi", "updated_at": "2026-01-29T10:00:00Z",'
        ' "entries": [{"name": "x", "source": "pypi:x", "priority": 2}]}'
    )
    queue = rs.load(rs.Queue, path)
    rs.save(queue, path)
    assert path.read_text() == rs.io.render(rs.to_json(queue))
    assert '"failure_count":0' in path.read_text()


@pytest.mark.parametrize(
    ("field", "value"), [("name", "rg\n"), ("source", "pypi:rg\n"), ("batch_id", "2026-01-29-001\n")]
)
def test_a_trailing_newline_is_refused_on_every_path(
    tmp_path: Path, now: dt.datetime, field: str, value: str
) -> None:
    """JSON Schema's ``$`` is the end of the string: the compiled validator refuses ``"rg\\n"``
    where Python's ``re.search`` would let it through, and the error still names the field."""
    changes: dict[str, Any] = {field: value}
    entry = dataclasses.replace(rs.QueueEntry("rg", "pypi:rg", 2), **changes)
    queue = rs.Queue(1, "pypi", now, (entry,))
    path = tmp_path / "priority-queue-pypi.json"
    with pytest.raises(rs.DataFileError) as saving:
        rs.save(queue, path)
    assert not path.exists()
    doc = rs.to_json(queue)
    with pytest.raises(rs.DataFileError) as checking:
        rs.validate(rs.schema_of(rs.Queue), doc, str(path))
    with pytest.raises(rs.DataFileError) as decoding:
        rs.decode(rs.Queue, doc, path)
    for err in (saving, checking, decoding):
        assert str(err.value).startswith(f"{path}: at $.entries[0].{field}: expected a string matching ^")
        assert err.value.got == value


def test_to_json_gives_plain_json_values(now: dt.datetime) -> None:
    """Arrays are lists and times are RFC 3339 strings with Z: what reading the text back gives."""
    entry = rs.QueueEntry("rg", "cargo:ripgrep", 1, status="blocked", blocked_by=("pcre2",), added_at=now)
    data = rs.to_json(entry)
    assert data["blocked_by"] == ["pcre2"] and type(data["blocked_by"]) is list
    assert data["added_at"] == rs.format_time(now)
    assert rs.from_json(rs.QueueEntry, data) == entry


def test_a_document_s_lines_keep_their_form(tmp_path: Path, now: dt.datetime) -> None:
    """One top-level field a line, one entry a line (compact JSON)."""
    path = tmp_path / "priority-queue-pypi.json"
    rs.save(_queue(now, "httpie", "black"), path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[:4] == [
        "{",
        '  "schema_version": 1,',
        '  "ecosystem": "pypi",',
        f'  "updated_at": "{rs.format_time(now)}",',
    ]
    assert lines[5].startswith('    {"name":"httpie","source":"pypi:httpie","priority":2,"status":"pending"')
    assert lines[-2:] == ["  ]", "}"]


def test_a_decode_error_names_the_path_and_the_value() -> None:
    """Without the schema in front (``from_json``), a bad value still names its JSON path."""
    with pytest.raises(rs.DecodeError) as err:
        rs.from_json(
            rs.Queue,
            {"schema_version": 1, "ecosystem": "pypi", "updated_at": "2026-02-30T00:00:00Z", "entries": []},
        )
    assert err.value.path == "$.updated_at" and "RFC 3339" in err.value.expected
    assert err.value.got == "2026-02-30T00:00:00Z"
    with pytest.raises(rs.DecodeError) as err:
        rs.from_json(rs.QueueEntry, {"name": "rg", "source": "cargo:rg", "priority": "1"})
    assert err.value.path == "$.priority" and str(err.value) == "$.priority: expected int, got str"


@pytest.mark.parametrize(
    "when",
    [
        dt.datetime(2026, 1, 1, 10, 0, 0),  # naive: taken as UTC
        dt.datetime(2026, 1, 1, 11, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        dt.datetime(2026, 1, 1, 10, 0, 0, 999, tzinfo=dt.UTC),
    ],
)
def test_any_time_is_written_in_utc_whole_seconds(tmp_path: Path, when: dt.datetime) -> None:
    """save, JSON Lines and to_json write every time as format_time does: 2026-01-01T10:00:00Z."""
    queue = rs.Queue(1, "pypi", when, (rs.QueueEntry("rg", "pypi:rg", 2, added_at=when),))
    path = tmp_path / "priority-queue-pypi.json"
    rs.save(queue, path)
    loaded = rs.load(rs.Queue, path)
    assert loaded.updated_at == loaded.entries[0].added_at == dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC)
    assert rs.to_json(queue)["updated_at"] == "2026-01-01T10:00:00Z"
    lines = tmp_path / "seeding-runs.jsonl"
    rs.append_jsonl([rs.SeedingRun(when, "pypi", 1, 0, 0, 0)], lines)
    assert '"timestamp":"2026-01-01T10:00:00Z"' in lines.read_text()
