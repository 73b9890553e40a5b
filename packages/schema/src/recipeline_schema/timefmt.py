"""Time in recipeline: RFC 3339 UTC with ``Z``, whole seconds; file-name form without ``:``."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping

_STRICT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_LENIENT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2})[:-](\d{2})[:-](\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$"
)

#: the variable that replaces the clock (RFC 3339 UTC with ``Z``): one home for "now" in every stage
CLOCK_VARIABLE = "RECIPELINE_NOW"

TIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def utc(value: dt.datetime) -> dt.datetime:
    """Return ``value`` in UTC, whole seconds; a naive value is taken to be UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).replace(microsecond=0)


def current_time(environ: Mapping[str, str] | None = None) -> dt.datetime:
    """The time to act at, UTC, whole seconds: ``RECIPELINE_NOW`` when set, else the clock.

    Every stage's default "now" and the hourly rotation read it, so a test (or a rerun of a past
    hour) can fix the time for a whole run, child processes included. A value that is not the
    strict RFC 3339 form raises ``InvalidValueError`` naming the variable.
    """
    raw = (os.environ if environ is None else environ).get(CLOCK_VARIABLE, "").strip()
    if not raw:
        return utc(dt.datetime.now(dt.UTC))
    try:
        return parse_time(raw)
    except ValueError:
        from .errors import InvalidValueError

        raise InvalidValueError(
            f"{CLOCK_VARIABLE} is {raw!r}: expected an RFC 3339 UTC time like 2026-01-29T10:00:00Z"
        ) from None


def format_time(value: dt.datetime) -> str:
    """``2026-01-29T10:00:00Z`` (four-digit year always: strftime drops the padding before 1000)."""
    v = utc(value)
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}Z"


def format_file_time(value: dt.datetime) -> str:
    """``2026-01-29T10-00-00Z``: the time as it appears in file names (no ``:``)."""
    return format_time(value).replace(":", "-")


def format_date(value: dt.date) -> str:
    return value.isoformat()


def parse_time(text: str) -> dt.datetime:
    """Parse the strict form written by recipeline; raises ``ValueError`` otherwise."""
    if not isinstance(text, str) or not _STRICT.fullmatch(text):
        raise ValueError(f"not an RFC 3339 UTC time with Z: {text!r}")
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def parse_time_lenient(text: object) -> dt.datetime | None:
    """Parse the forms found in tsuku's data (nanoseconds, offsets, ``T10-00-00Z``).

    Returns ``None`` for an empty or unparseable value, so readers of foreign data can count
    it as malformed instead of failing.
    """
    m = _LENIENT.match(text.strip()) if isinstance(text, str) else None
    if not m:
        return None
    year, month, day, hour, minute, second, _frac, zone = m.groups()
    try:
        value = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError:
        return None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return (value - sign * offset).replace(tzinfo=dt.UTC)
    return value.replace(tzinfo=dt.UTC)


def parse_date(text: str) -> dt.date:
    if not isinstance(text, str) or not re.fullmatch(DATE_PATTERN, text):
        raise ValueError(f"not a date: {text!r}")
    return dt.date.fromisoformat(text)
