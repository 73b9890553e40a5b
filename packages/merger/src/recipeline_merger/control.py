"""Pure rules of batch-control.json (ARCHITECTURE §3.5) that preflight applies.

Breakers and the budget are read here but not yet acted upon: their transitions belong to a
later stage of the merger (see the README). The emergency stop is honoured fully.
"""

from __future__ import annotations

import datetime as dt

from recipeline_schema import BatchControl, Budget, format_time


def week_start(now: dt.datetime) -> dt.date:
    """The Monday (UTC) of the week holding ``now``."""
    today = now.astimezone(dt.UTC).date()
    return today - dt.timedelta(days=today.weekday())


def default_control(now: dt.datetime) -> BatchControl:
    """The control a repository without batch-control.json runs under: enabled, no breakers."""
    return BatchControl(enabled=True, budget=Budget(week_start=week_start(now)))


def stop_reason(control: BatchControl, ecosystem: str) -> str | None:
    """Why the emergency stop refuses a batch of ``ecosystem``, or ``None`` when it does not."""
    if not control.enabled:
        return "pipeline stopped" + _details(control, control.reason)
    if ecosystem in control.disabled_ecosystems:
        reason = control.disabled_reasons.get(ecosystem) or control.reason
        return f"ecosystem {ecosystem} stopped" + _details(control, reason)
    return None


def _details(control: BatchControl, reason: str) -> str:
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
