"""The emergency stop and the default control (pure)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from recipeline_merger import default_control, stop_reason, week_start

NOW = dt.datetime(2026, 1, 29, 10, 0, tzinfo=dt.UTC)  # a Thursday


def test_default_control_is_enabled_with_this_weeks_budget() -> None:
    control = default_control(NOW)
    assert control.enabled and not control.disabled_ecosystems and not control.circuit_breaker
    assert control.budget.week_start == dt.date(2026, 1, 26)
    assert stop_reason(control, "cargo") is None


def test_week_starts_on_monday_utc() -> None:
    assert week_start(dt.datetime(2026, 1, 26, 0, 0, tzinfo=dt.UTC)) == dt.date(2026, 1, 26)
    assert week_start(dt.datetime(2026, 2, 1, 23, 59, tzinfo=dt.UTC)) == dt.date(2026, 1, 26)
    # 01:00 on Monday in UTC+2 is still Sunday in UTC
    plus_two = dt.timezone(dt.timedelta(hours=2))
    assert week_start(dt.datetime(2026, 2, 2, 1, 0, tzinfo=plus_two)) == dt.date(2026, 1, 26)


def test_global_stop_names_reason_incident_and_who() -> None:
    control = dataclasses.replace(
        default_control(NOW),
        enabled=False,
        reason="bad recipes merged",
        incident_url="https://example.org/incidents/7",
        disabled_by="ops",
        disabled_at=NOW,
    )
    reason = stop_reason(control, "npm")
    assert reason is not None
    assert reason.startswith("pipeline stopped: bad recipes merged")
    assert (
        "https://example.org/incidents/7" in reason
        and "by ops" in reason
        and "2026-01-29T10:00:00Z" in reason
    )


def test_ecosystem_stop_prefers_its_own_reason_and_spares_others() -> None:
    control = dataclasses.replace(
        default_control(NOW),
        disabled_ecosystems=("cargo",),
        reason="general",
        disabled_reasons={"cargo": "crates API outage"},
    )
    assert stop_reason(control, "cargo") == "ecosystem cargo stopped: crates API outage"
    assert stop_reason(control, "npm") is None
