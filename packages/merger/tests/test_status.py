"""`status`: one screen that says whether the pipeline is healthy."""

from __future__ import annotations

import datetime as dt

from recipeline_merger.status import status_lines
from recipeline_schema import BatchControl, BreakerState, Budget, MetricsLine, Queue, QueueEntry

NOW = dt.datetime(2026, 1, 29, 12, 0, tzinfo=dt.UTC)


def _metrics(batch_id: str, ecosystem: str, merged: int, hours_ago: float) -> MetricsLine:
    return MetricsLine(
        batch_id, ecosystem, 3, 3, 0, 0, 3, 0, merged, 3 - merged, merged / 3, 0, 60.0, 0.0, 1.0,  # type: ignore[arg-type]
        NOW - dt.timedelta(hours=hours_ago),
    )  # fmt: skip


def test_status_shows_stops_breakers_queues_and_time_since_a_merge() -> None:
    queue = Queue(1, "pypi", NOW, (
        QueueEntry("a", "pypi:a", 1), QueueEntry("b", "pypi:b", 1, status="failed"),
        QueueEntry("c", "pypi:c", 1, status="excluded"),
    ))  # fmt: skip
    control = BatchControl(
        enabled=True,
        budget=Budget(week_start=dt.date(2026, 1, 26), macos_minutes_used=850),
        disabled_ecosystems=("npm",),
        circuit_breaker={
            "cargo": BreakerState(state="open", opened_at=NOW, half_open_after=NOW + dt.timedelta(hours=1))
        },
    )
    metrics = [_metrics("2026-01-29-001", "pypi", 2, 5.0), _metrics("2026-01-29-002", "pypi", 0, 1.0)]

    lines = status_lines({"pypi": queue}, control, metrics, NOW)

    assert lines[0] == "recipeline status at 2026-01-29T12:00:00Z: pipeline running"
    assert "macOS 850/1000 min (sampled)" in lines[1]
    rows = {line.split()[0]: line.split() for line in lines[4:12]}
    assert rows["pypi"][1:7] == ["1", "0", "0", "1", "0", "1"]  # pending .. blocked, other
    assert rows["cargo"][7] == "open" and rows["npm"][8] == "yes" and rows["pypi"][8] == "-"
    assert rows["pypi"][9] == "2026-01-29-002"  # the newest batch of the ecosystem
    assert lines[-1] == "last recipes merged 5.0 h ago (batch 2026-01-29-001, 2 recipes)"


def test_status_of_a_stopped_pipeline_says_so_first() -> None:
    control = BatchControl(enabled=False, budget=Budget(week_start=dt.date(2026, 1, 26)), reason="incident 7")
    lines = status_lines({}, control, [], NOW)
    assert lines[0].endswith("PIPELINE STOPPED: incident 7")
    assert lines[-1] == "no recipe merged yet"
