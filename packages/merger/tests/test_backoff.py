"""Integer backoff (ARCHITECTURE §12.2): grows, caps, never overflows, never in the past."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from recipeline_merger import BASE_SECONDS, CAP_SECONDS, next_retry_at, retry_delay_seconds

NOW = dt.datetime(2026, 1, 29, 10, 0, tzinfo=dt.UTC)
counts = st.integers(min_value=0, max_value=10**9)


def test_permanent_failures_double_from_one_hour_to_a_week() -> None:
    delays = [retry_delay_seconds(n) for n in range(1, 12)]
    assert delays[:8] == [3600 * 2**k for k in range(8)]
    assert delays[8:] == [CAP_SECONDS] * 3


def test_transient_failures_double_every_second_failure() -> None:
    assert [retry_delay_seconds(n, transient=True) for n in range(1, 7)] == [
        3600,
        3600,
        7200,
        7200,
        14400,
        14400,
    ]


def test_the_reference_overflow_count_stays_capped() -> None:
    # tsuku's float backoff put next_retry_at in 1734 after ~23 failures
    when = next_retry_at(NOW, 23)
    assert when == NOW + dt.timedelta(days=7)


@given(counts, st.booleans())
def test_delay_is_bounded_and_never_raises(count: int, transient: bool) -> None:
    delay = retry_delay_seconds(count, transient=transient)
    assert isinstance(delay, int)
    assert BASE_SECONDS <= delay <= CAP_SECONDS


@given(counts, counts, st.booleans())
def test_delay_is_non_decreasing_in_the_count(a: int, b: int, transient: bool) -> None:
    low, high = sorted((a, b))
    assert retry_delay_seconds(low, transient=transient) <= retry_delay_seconds(high, transient=transient)


@given(counts, st.booleans(), st.datetimes(timezones=st.just(dt.UTC)))
def test_next_retry_is_never_in_the_past(count: int, transient: bool, now: dt.datetime) -> None:
    when = next_retry_at(now, count, transient=transient)
    assert when > now or when == dt.datetime.max.replace(tzinfo=dt.UTC)
    assert when - now <= dt.timedelta(seconds=CAP_SECONDS)
