"""The control plane's clock rules (ARCHITECTURE §3.5), one home for the merger and the dashboard. Pure.

What ``batch-control.json`` records is not yet what holds: an open breaker whose cool-down has
passed is half-open (preflight admits its probe), and minutes recorded for an earlier week count
as 0 (the week starts on Monday, UTC). Every stage and the dashboard read the file through these
rules, so the page shows what the next run will do.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal

from .timefmt import format_time

if TYPE_CHECKING:
    from .models import BatchControl

#: macOS validation is sampled from this share of the week's macOS minutes, paused from the next
#: (Linux: no batch starts from the pause share).
BUDGET_SAMPLE_AT = 0.80
BUDGET_PAUSE_AT = 0.95

BudgetMode = Literal["full", "sampled", "paused"]

#: An open breaker turns half-open this long after it opened (the merger's ``breaker`` rules).
COOLDOWN = dt.timedelta(minutes=60)
#: Failure points of a hard package failure (a soft one, not the package's fault, counts 1).
HARD_POINTS = 2


def week_start(now: dt.datetime) -> dt.date:
    """The Monday (UTC) of the week holding ``now``."""
    today = now.astimezone(dt.UTC).date()
    return today - dt.timedelta(days=today.weekday())


def breaker_state_at(state: str, half_open_after: dt.datetime | None, now: dt.datetime) -> str:
    """A breaker's state at ``now``: ``open`` turns ``half_open`` once ``half_open_after`` has
    passed (or when the file names no time); every other state is as recorded."""
    if state == "open" and (half_open_after is None or now >= half_open_after):
        return "half_open"
    return state


def minutes_this_week(recorded_week: dt.date | None, used: float, now: dt.datetime) -> float:
    """Minutes recorded for ``recorded_week`` as they count at ``now``: 0 once the week rolled over."""
    if recorded_week is None or recorded_week < week_start(now):
        return 0.0
    return used


def budget_mode(used: float, limit: float) -> BudgetMode:
    """``full`` below 80% of ``limit``, ``sampled`` from 80%, ``paused`` from 95%; a limit of 0
    (or less) is paused."""
    share = float("inf") if limit <= 0 else used / limit
    if share >= BUDGET_PAUSE_AT:
        return "paused"
    if share >= BUDGET_SAMPLE_AT:
        return "sampled"
    return "full"


def stop_reason(control: BatchControl, ecosystem: str | None) -> str | None:
    """Why the emergency stop refuses work on ``ecosystem`` (``None``: the pipeline as a whole),
    or ``None`` when it does not."""
    if not control.enabled:
        return "pipeline stopped" + _stop_details(control, control.reason)
    if ecosystem is not None and ecosystem in control.disabled_ecosystems:
        reason = control.disabled_reasons.get(ecosystem) or control.reason
        return f"ecosystem {ecosystem} stopped" + _stop_details(control, reason)
    return None


def _stop_details(control: BatchControl, reason: str) -> str:
    parts = [f": {reason}" if reason else ": no reason given"]
    if control.incident_url:
        parts.append(f" (incident {control.incident_url})")
    if control.disabled_by:
        parts.append(f" by {control.disabled_by}")
    if control.disabled_at is not None:
        parts.append(f" since {format_time(control.disabled_at)}")
    if control.expected_resume is not None:
        parts.append(f", expected to resume {format_time(control.expected_resume)}")
    return "".join(parts)
