"""The rotation of ``preflight --ecosystem auto``: order by UTC hour, passed-over reasons."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import recipeline_schema as rs
from recipeline_merger.rotation import preflight_auto, rotation_order

NOW = dt.datetime(2026, 1, 29, 2, 0, tzinfo=dt.UTC)  # hour 2: npm, pypi, rubygems, ...


@pytest.mark.parametrize(
    ("hour", "first"), [(0, "homebrew"), (3, "pypi"), (7, "cask"), (11, "pypi"), (23, "cask")]
)
def test_rotation_starts_at_hour_mod_8_and_covers_every_ecosystem(hour: int, first: str) -> None:
    order = rotation_order(hour)
    assert order[0] == first
    assert sorted(order) == sorted(rs.ECOSYSTEMS)
    assert order == (*rs.ROTATION[hour % 8 :], *rs.ROTATION[: hour % 8])


def _queue(layout: rs.Layout, eco: rs.Ecosystem, *, empty: bool = False) -> None:
    entries = () if empty else (rs.QueueEntry(f"{eco}-tool", f"{eco}:{eco}-tool", 1),)
    rs.save(rs.Queue(1, eco, NOW, entries), layout.queue(eco))


def test_stopped_empty_and_open_breaker_ecosystems_are_passed_over_with_their_reasons(tmp_path: Path) -> None:
    layout = rs.Layout(tmp_path)
    _queue(layout, "npm")
    _queue(layout, "pypi", empty=True)
    _queue(layout, "rubygems")
    _queue(layout, "go")
    opened = rs.BreakerState(
        state="open", opened_at=NOW, half_open_after=NOW + dt.timedelta(hours=1), consecutive_failures=10
    )
    rs.save(
        rs.BatchControl(
            enabled=True,
            budget=rs.Budget(week_start=NOW.date()),
            disabled_ecosystems=("npm",),
            disabled_reasons={"npm": "registry incident"},
            circuit_breaker={"rubygems": opened},
        ),
        layout.control,
    )
    picked = preflight_auto(tmp_path, batch_size=5, now=NOW)
    assert picked.ecosystem == "go"
    assert picked.result.batch_id is not None and picked.result.selected == 1
    reasons = dict(picked.passed_over)
    order = rotation_order(NOW.hour)
    assert order[:4] == ("npm", "pypi", "rubygems", "go")
    assert list(reasons) == [eco for eco in order if eco != "go"]  # every other ecosystem, in order
    for later in order[4:]:
        assert reasons[later] == f"not reached: go comes first at UTC hour {NOW.hour}"
    assert "stopped" in reasons["npm"] and "registry incident" in reasons["npm"]
    assert "rubygems" in reasons["rubygems"] and "open" in reasons["rubygems"]
    assert reasons["pypi"]  # preflight's own reason for an empty selection
    # only the picked ecosystem was written
    assert rs.load(rs.Queue, layout.queue("go")).entries[0].status == "in_progress"
    assert rs.load(rs.Queue, layout.queue("rubygems")).entries[0].status == "pending"
    out = picked.to_json()
    assert out["ecosystem"] == "go" and [p["ecosystem"] for p in out["passed_over"]] == list(reasons)
    assert out["rotation"]["order"] == list(order) and out["rotation"]["hour"] == NOW.hour
    assert f"UTC hour {NOW.hour} starts the rotation at npm" in out["rotation"]["why"]
    assert "go is the first in its order with something to select" in out["rotation"]["why"]


def test_a_half_open_breaker_is_not_passed_over(tmp_path: Path) -> None:
    layout = rs.Layout(tmp_path)
    _queue(layout, "npm")
    half_open = rs.BreakerState(
        state="open", opened_at=NOW - dt.timedelta(hours=2), half_open_after=NOW - dt.timedelta(hours=1)
    )
    rs.save(
        rs.BatchControl(
            enabled=True, budget=rs.Budget(week_start=NOW.date()), circuit_breaker={"npm": half_open}
        ),
        layout.control,
    )
    picked = preflight_auto(tmp_path, batch_size=5, now=NOW, dry_run=True)
    assert (picked.ecosystem, picked.result.packages) == ("npm", ("npm:npm-tool",))
    assert all(why.startswith("not reached: npm") for _, why in picked.passed_over)
    assert picked.result.breaker == "half_open"


def test_nothing_anywhere_names_every_ecosystem_and_writes_nothing(tmp_path: Path) -> None:
    picked = preflight_auto(tmp_path, batch_size=5, now=NOW)
    assert picked.ecosystem is None and picked.result.batch_id is None
    assert [eco for eco, _ in picked.passed_over] == list(rotation_order(NOW.hour))
    assert all(f"{eco}: " in picked.to_json()["reason"] for eco in rs.ECOSYSTEMS)
    assert not (tmp_path / "data").exists() and not (tmp_path / "build" / "batches").exists()
