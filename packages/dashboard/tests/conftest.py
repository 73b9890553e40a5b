from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from recipeline_schema import Failure, FailureRecord, MetricsLine, Queue, QueueEntry

T0 = dt.datetime(2026, 2, 1, 10, 0, 0, tzinfo=dt.UTC)

MakeRecord = Callable[..., FailureRecord]
MakeMetrics = Callable[..., MetricsLine]


@pytest.fixture
def now() -> dt.datetime:
    """The dashboard's generation time."""
    return dt.datetime(2026, 2, 15, 12, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def pypi_queue() -> Queue:
    """A pypi queue with one entry in each of pending (x2), failed, success and in_progress."""
    return Queue(
        schema_version=1,
        ecosystem="pypi",
        updated_at=T0,
        entries=(
            QueueEntry(name="black", source="pypi:black", priority=1, popularity=100),
            QueueEntry(name="tox", source="pypi:tox", priority=3),
            QueueEntry(
                name="httpie",
                source="pypi:httpie",
                priority=2,
                status="failed",
                failure_count=3,
                next_retry_at=T0 + dt.timedelta(hours=8),
            ),
            QueueEntry(name="poetry", source="pypi:poetry", priority=1, popularity=50, status="success"),
            QueueEntry(
                name="nox", source="pypi:nox", priority=2, status="in_progress", batch_id="2026-02-01-001"
            ),
        ),
    )


@pytest.fixture
def cargo_queue() -> Queue:
    """A cargo queue with a pending and a blocked entry."""
    return Queue(
        schema_version=1,
        ecosystem="cargo",
        updated_at=T0,
        entries=(
            QueueEntry(name="ripgrep", source="cargo:ripgrep", priority=1, popularity=1_000),
            QueueEntry(name="bat", source="cargo:bat", priority=2, status="blocked", blocked_by=("libgit2",)),
        ),
    )


@pytest.fixture
def make_record() -> MakeRecord:
    """Build a failure record: ``make_record(ecosystem, batch_id, [(package_id, category, sub, minute)])``."""

    def make(
        ecosystem: str,
        batch_id: str,
        failures: list[tuple[str, str, str | None, int]],
        environment: str = "linux-debian-glibc-x86_64",
    ) -> FailureRecord:
        return FailureRecord(
            schema_version=1,
            ecosystem=ecosystem,  # type: ignore[arg-type]
            environment=environment,
            batch_id=batch_id,
            updated_at=T0,
            failures=tuple(
                Failure.create(
                    package_id,
                    category,
                    sub,
                    f"{package_id} failed: {category}",
                    timestamp=T0 + dt.timedelta(minutes=minute),
                )
                for package_id, category, sub, minute in failures
            ),
        )

    return make


@pytest.fixture
def make_metrics() -> MakeMetrics:
    """Build a batch metrics line: ``make_metrics(batch_id, ecosystem, hour, merged=..., total=...)``."""

    def make(batch_id: str, ecosystem: str, hour: int, *, merged: int = 1, total: int = 2) -> MetricsLine:
        return MetricsLine(
            batch_id=batch_id,
            ecosystem=ecosystem,  # type: ignore[arg-type]
            total=total,
            generated=total,
            failed=total - merged,
            blocked=0,
            validated_linux=merged,
            validated_macos=merged,
            merged=merged,
            excluded=0,
            success_rate=merged / total,
            used_disambiguation=0,
            duration_seconds=60.0,
            macos_minutes=1.5,
            linux_minutes=3.0,
            timestamp=T0 + dt.timedelta(hours=hour),
        )

    return make


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty recipeline repository root (data/ with its usual directories)."""
    root = tmp_path / "repo"
    for sub in ("queues", "failures", "metrics"):
        (root / "data" / sub).mkdir(parents=True)
    return root
