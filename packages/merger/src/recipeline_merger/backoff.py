"""Retry backoff in integers (ARCHITECTURE §12.2: the float version overflowed to year 1734).

A permanent failure waits ``BASE_SECONDS * 2**(failure_count - 1)``, capped at ``CAP_SECONDS``.
A transient failure (``api_error`` other than ``not_found``) still counts, but its delay doubles
only every second failure, so a flaky upstream is retried sooner yet still backs off and
cannot hold the head of the queue forever. The shift is bounded before it is computed, so no
count, however large, makes a huge integer or an overflow.
"""

from __future__ import annotations

import datetime as dt

BASE_SECONDS = 3600  # one hour
CAP_SECONDS = 7 * 24 * 3600  # one week
#: The smallest shift at which the delay reaches the cap; larger shifts change nothing.
_MAX_SHIFT = (CAP_SECONDS // BASE_SECONDS).bit_length()


def retry_delay_seconds(failure_count: int, *, transient: bool = False) -> int:
    """Seconds to wait after the ``failure_count``-th failure (counts below 1 count as 1)."""
    exponent = max(failure_count, 1) - 1
    if transient:
        exponent //= 2
    return min(CAP_SECONDS, BASE_SECONDS << min(exponent, _MAX_SHIFT))


def next_retry_at(now: dt.datetime, failure_count: int, *, transient: bool = False) -> dt.datetime:
    """When an entry that failed for the ``failure_count``-th time at ``now`` may run again."""
    delay = dt.timedelta(seconds=retry_delay_seconds(failure_count, transient=transient))
    try:
        return now + delay
    except OverflowError:  # only a clock at the end of year 9999 gets here
        return dt.datetime.max.replace(tzinfo=now.tzinfo)
