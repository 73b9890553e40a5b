"""Test support every package's tests share: fake time for the HTTP client.

Part of the package (not of one test suite) so that the schema's, the generator's, the seeder's
and the validator's tests use one copy: the client's retries and rate limits are tested with a
clock that only moves when the code under test sleeps, so no test waits for real.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class FakeTime:
    """A monotonic clock that moves only when the code under test sleeps; every sleep is kept."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@contextmanager
def fake_time_client(fake: FakeTime, **settings: Any) -> Iterator[Any]:
    """An ``HttpClient`` on ``fake`` time; ``settings`` are ``HttpSettings`` fields (short
    timeouts by default, so a test of a stalled server ends quickly)."""
    from .http import HttpClient, HttpSettings  # needs the http extra, as the client does

    chosen = {"connect_timeout": 2.0, "read_timeout": 2.0, **settings}
    with HttpClient(HttpSettings(**chosen), sleep=fake.sleep, clock=fake.clock) as client:
        yield client
