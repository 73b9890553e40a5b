"""The circuit breaker (ARCHITECTURE §3.5, §12.1): one pure transition, probes that rotate."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from hypothesis import given, settings
from hypothesis import strategies as st

from recipeline_merger import (
    PackageOutcome,
    breaker_state,
    breaker_transition,
    next_retry_at,
    probe_entry,
)
from recipeline_schema import (
    BatchControl,
    BreakerState,
    Budget,
    Queue,
    QueueEntry,
    load,
    replace_entries,
    save,
    select_batch,
)

if TYPE_CHECKING:
    from .conftest import Make

T0 = dt.datetime(2026, 1, 26, 0, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
kinds = st.sampled_from(["success", "failure", "soft_failure"])
outcome_lists = st.lists(
    st.builds(PackageOutcome, st.sampled_from(["cargo:a", "cargo:b"]), kinds), max_size=30
)


def run(state: BreakerState, *kinds_: str, at: dt.datetime = T0) -> BreakerState:
    return breaker_transition(state, [PackageOutcome("cargo:x", k) for k in kinds_], at)  # type: ignore[arg-type]


def test_ten_consecutive_failures_open_and_a_success_resets_the_streak() -> None:
    assert run(BreakerState(), *["failure"] * 9).state == "closed"
    assert run(BreakerState(), *["failure"] * 9, "success", *["failure"] * 9).state == "closed"
    opened = run(BreakerState(), *["failure"] * 10)
    assert opened.state == "open" and opened.opened_at == T0
    assert opened.half_open_after == T0 + HOUR
    assert "10 consecutive" in opened.reason


def test_soft_failures_weigh_half_and_stay_out_of_the_rate_window() -> None:
    assert run(BreakerState(), *["soft_failure"] * 19).state == "closed"
    assert run(BreakerState(), *["soft_failure"] * 20).state == "open"
    soft = run(BreakerState(), *["soft_failure", "success"] * 15)
    assert soft.state == "closed" and soft.recent == (True,) * 15


def test_more_than_half_of_the_last_twenty_failing_opens() -> None:
    pattern = ["failure", "failure", "success"] * 7  # never 10 in a row, 2/3 failing
    states = [run(BreakerState(), *pattern[:n]) for n in range(1, len(pattern) + 1)]
    first_open = next(i for i, s in enumerate(states) if s.state == "open")
    assert first_open == 19  # the 20th attempt completes the window
    assert "of the last 20 attempts failed" in states[first_open].reason


def test_half_open_after_an_hour_then_a_probe_decides() -> None:
    opened = run(BreakerState(), *["failure"] * 10)
    assert breaker_state(opened, T0 + HOUR - dt.timedelta(seconds=1)).state == "open"
    half = breaker_state(opened, T0 + HOUR)
    assert half.state == "half_open"
    closed = run(half, "success", at=T0 + HOUR)
    assert closed.state == "closed" and closed.consecutive_failures == 0 and closed.recent == ()
    reopened = run(half, "soft_failure", at=T0 + HOUR)
    assert reopened.state == "open" and reopened.half_open_after == T0 + 2 * HOUR


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=180), outcome_lists), max_size=12))
def test_invariants_hold_for_any_history(history: list[tuple[int, list[PackageOutcome]]]) -> None:
    state = BreakerState()
    now = T0
    for minutes, outcomes in history:
        now += dt.timedelta(minutes=minutes)
        before = breaker_state(state, now)
        state = breaker_transition(state, outcomes, now)
        assert len(state.recent) <= 20
        if state.state == "open":
            assert state.opened_at is not None and state.half_open_after == state.opened_at + HOUR
        if state.state == "closed":
            assert state.failure_points < 20
        if before.state != "closed" and state.state == "closed":
            assert any(o.kind == "success" for o in outcomes)  # only a success closes
        assert breaker_state(state, now) == breaker_transition(breaker_state(state, now), (), now)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10_000))
def test_successes_never_open(n: int) -> None:
    assert run(BreakerState(), *["success"] * min(n, 200)).state == "closed"


def test_the_saved_state_matches_the_schema(tmp_path: Path) -> None:
    state = run(BreakerState(), *["failure", "success"] * 30)
    control = BatchControl(
        enabled=True, budget=Budget(week_start=T0.date()), circuit_breaker={"cargo": state}
    )
    save(control, tmp_path / "batch-control.json")
    assert load(BatchControl, tmp_path / "batch-control.json").circuit_breaker["cargo"] == state


def test_the_probe_is_the_eligible_entry_attempted_least_recently(make: Make) -> None:
    queue = make.queue(
        [
            make.entry("poison", priority=1, popularity=10**9, last_attempt_at=T0),
            make.entry("old", last_attempt_at=T0 - HOUR),
            make.entry("fresh"),
            make.entry("waiting", next_retry_at=T0 + HOUR),
            make.entry("done", status="success"),
        ]
    )
    probe = probe_entry(queue, now=T0, tier=3, live_batches=())
    assert probe is not None and probe.name == "fresh"  # never attempted comes first
    without_fresh = make.queue([e for e in queue.entries if e.name != "fresh"])
    probe = probe_entry(without_fresh, now=T0, tier=3, live_batches=())
    assert probe is not None and probe.name == "old"


def test_a_week_of_hourly_runs_with_a_poison_package_at_the_head(make: Make) -> None:
    """tsuku's failure (§12.1): the half-open probe always took the same poison entry."""
    healthy = [make.entry(f"tool{i:02d}", priority=2, popularity=1000 - i) for i in range(40)]
    queue = make.queue([make.entry("poison", priority=1, popularity=10**9), *healthy])
    state = run(BreakerState(), *["failure"] * 10, at=T0 - HOUR)  # open, half-open at T0
    states: list[str] = []
    poison_attempts = 0
    for hour in range(7 * 24):
        now = T0 + hour * HOUR
        state = breaker_state(state, now)
        if state.state == "open":
            picked: tuple[QueueEntry, ...] = ()
        elif state.state == "half_open":
            probe = probe_entry(queue, now=now, tier=3, live_batches=())
            picked = (probe,) if probe else ()
        else:
            picked = select_batch(queue, now=now, size=3, tier=3)
        outcomes = []
        changed = []
        for entry in picked:
            if entry.name == "poison":
                poison_attempts += 1
                count = entry.failure_count + 1
                changed.append(
                    dataclasses.replace(
                        entry,
                        status="failed",
                        failure_count=count,
                        last_attempt_at=now,
                        next_retry_at=next_retry_at(now, count),
                    )
                )
                outcomes.append(PackageOutcome(entry.source, "failure"))
            else:
                changed.append(dataclasses.replace(entry, status="success", last_attempt_at=now))
                outcomes.append(PackageOutcome(entry.source, "success"))
        queue = replace_entries(queue, changed, now=now) if changed else queue
        state = breaker_transition(state, outcomes, now)
        states.append(state.state)
    assert states[0] == "open"  # the first probe was the poison package (never attempted, at the head)
    assert states[1] == "closed"  # an hour later the probe rotated to a healthy package
    assert "open" not in states[1:]
    assert poison_attempts <= 9  # backoff: 1 h, 2 h, 4 h, ... within a week
    assert sum(e.status == "success" for e in queue.entries) == 40


def test_a_probe_chosen_by_queue_order_would_stay_open(make: Make) -> None:
    """The contrast: tsuku's rule (first pending entry) never closes the breaker with a poison head."""
    queue: Queue = make.queue([make.entry("poison", priority=1), make.entry("ok")])
    state = run(BreakerState(), *["failure"] * 10, at=T0 - HOUR)
    for hour in range(48):
        now = T0 + hour * HOUR
        state = breaker_state(state, now)
        if state.state == "half_open":
            first = queue.entries[0]
            kind = "failure" if first.name == "poison" else "success"
            state = breaker_transition(state, [PackageOutcome(first.source, kind)], now)  # type: ignore[arg-type]
    assert state.state == "open"


@settings(max_examples=60, deadline=None)
@given(
    healthy=st.integers(min_value=1, max_value=8),
    poison_priority=st.integers(min_value=1, max_value=3),
    attempted_hours_ago=st.lists(st.none() | st.integers(min_value=1, max_value=500), min_size=9, max_size=9),
    poison_failures=st.integers(min_value=0, max_value=10**6),
)
def test_one_poison_package_never_holds_a_breaker_open(
    healthy: int, poison_priority: int, attempted_hours_ago: list[int | None], poison_failures: int
) -> None:
    """Whatever the queue looks like, the second probe at the latest is a healthy package."""

    def attempted(i: int) -> dt.datetime | None:
        ago = attempted_hours_ago[i]
        return None if ago is None else T0 - ago * HOUR

    entries = [
        QueueEntry(
            name="poison",
            source="cargo:poison",
            priority=poison_priority,
            popularity=10**9,
            failure_count=poison_failures,
            status="failed" if poison_failures else "pending",
            last_attempt_at=attempted(0),
        )
    ]
    entries += [
        QueueEntry(
            name=f"ok{i}", source=f"cargo:ok{i}", priority=3, popularity=i, last_attempt_at=attempted(i + 1)
        )
        for i in range(healthy)
    ]
    queue = Queue(schema_version=1, ecosystem="cargo", updated_at=T0, entries=tuple(entries))
    state = run(BreakerState(), *["failure"] * 10, at=T0 - HOUR)
    for hour in range(3):
        now = T0 + hour * HOUR
        state = breaker_state(state, now)
        if state.state != "half_open":
            continue
        probe = probe_entry(queue, now=now, tier=3, live_batches=())
        assert probe is not None
        if probe.name == "poison":
            count = probe.failure_count + 1
            failed = dataclasses.replace(
                probe,
                status="failed",
                failure_count=count,
                last_attempt_at=now,
                next_retry_at=next_retry_at(now, count),
            )
            queue = replace_entries(queue, [failed], now=now)
            state = breaker_transition(state, [PackageOutcome(probe.source, "failure")], now)
        else:
            state = breaker_transition(state, [PackageOutcome(probe.source, "success")], now)
    assert state.state == "closed"
