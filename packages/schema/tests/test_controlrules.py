"""The control plane's clock rules: what batch-control.json's record means at a given time."""

from __future__ import annotations

import datetime as dt

import pytest

from recipeline_schema import breaker_state_at, budget_mode, minutes_this_week, week_start

T = dt.datetime(2026, 6, 3, 12, 0, tzinfo=dt.UTC)  # a Wednesday


@pytest.mark.parametrize(
    ("state", "after", "expected"),
    [
        ("open", T + dt.timedelta(minutes=1), "open"),
        ("open", T, "half_open"),
        ("open", T - dt.timedelta(days=150), "half_open"),  # tsuku's months-old open breakers
        ("open", None, "half_open"),
        ("half_open", T + dt.timedelta(hours=1), "half_open"),
        ("closed", T - dt.timedelta(hours=1), "closed"),
    ],
)
def test_an_open_breaker_is_half_open_once_its_cooldown_passed(
    state: str, after: dt.datetime | None, expected: str
) -> None:
    assert breaker_state_at(state, after, T) == expected


@pytest.mark.parametrize(
    ("used", "limit", "mode"),
    [
        (0, 100, "full"),
        (79.99, 100, "full"),
        (80, 100, "sampled"),
        (94.9, 100, "sampled"),
        (95, 100, "paused"),
        (0, 0, "paused"),
    ],
)
def test_budget_mode_thresholds(used: float, limit: float, mode: str) -> None:
    assert budget_mode(used, limit) == mode


def test_minutes_of_an_earlier_week_count_as_zero() -> None:
    assert week_start(T) == dt.date(2026, 6, 1)
    assert minutes_this_week(dt.date(2026, 6, 1), 42.0, T) == 42.0
    assert minutes_this_week(dt.date(2026, 5, 25), 42.0, T) == 0.0
    assert minutes_this_week(None, 42.0, T) == 0.0
