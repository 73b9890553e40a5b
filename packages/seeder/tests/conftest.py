from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from recipeline_schema import Queue, QueueEntry
from recipeline_schema.http import HttpClient
from recipeline_schema.testing import FakeTime, fake_time_client

NOW = dt.datetime(2026, 2, 15, 10, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def now() -> dt.datetime:
    """The run's time (whole seconds, UTC)."""
    return NOW


@pytest.fixture
def empty_queue() -> Queue:
    """An empty pypi queue last written a day before ``now``."""
    return Queue(schema_version=1, ecosystem="pypi", updated_at=NOW - dt.timedelta(days=1), entries=())


@pytest.fixture
def worked_entry() -> QueueEntry:
    """An entry the pipeline already worked on: failed twice, backing off, from a batch."""
    return QueueEntry(
        name="Black",
        source="pypi:black",
        priority=2,
        status="failed",
        confidence="curated",
        popularity=5,
        added_at=NOW - dt.timedelta(days=30),
        failure_count=2,
        next_retry_at=NOW + dt.timedelta(hours=4),
        last_attempt_at=NOW - dt.timedelta(hours=1),
        batch_id="2026-02-14-002",
        reason="",
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty recipeline repository: data/ and recipes/ directories, nothing in them."""
    root = tmp_path / "repo"
    (root / "data" / "queues").mkdir(parents=True)
    (root / "data" / "metrics").mkdir(parents=True)
    (root / "recipes").mkdir()
    return root


@pytest.fixture
def seed_list(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a seed list file outside the repository: ``seed_list(text, name)`` -> its path."""

    def write(text: str, name: str = "seeds.txt") -> Path:
        path = tmp_path / "lists" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def fake_time() -> FakeTime:
    """Injected clock and sleep for the HTTP client: retries and rate limits cost no wall time."""
    return FakeTime()


@pytest.fixture
def client(fake_time: FakeTime) -> Iterator[HttpClient]:
    """The shared HTTP client with short timeouts, 3 attempts, a 64 KiB cap and fake time."""
    with fake_time_client(fake_time, read_timeout=0.4, max_attempts=3, max_bytes=64 * 1024) as http:
        yield http
