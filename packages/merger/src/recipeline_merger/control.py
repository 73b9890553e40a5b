"""Pure rules of batch-control.json's emergency stop (ARCHITECTURE §3.5): read, stop, resume.

The breakers live in ``breaker`` and the budget in ``budget``. A stop of one ecosystem keeps its
reason in ``disabled_reasons``; the who/when/incident fields are shared by every stop (the last
stop sets them) and are cleared once nothing is stopped any more. A global resume leaves
ecosystems that were stopped on their own stopped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from recipeline_schema import BatchControl, Budget, format_time, week_start


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


def stopped(
    control: BatchControl,
    *,
    ecosystem: str | None,
    reason: str,
    by: str,
    now: dt.datetime,
    incident_url: str = "",
    expected_resume: dt.datetime | None = None,
) -> BatchControl:
    """``control`` with the pipeline (``ecosystem=None``) or one ecosystem stopped."""
    shared = dataclasses.replace(
        control,
        incident_url=incident_url,
        disabled_by=by,
        disabled_at=now,
        expected_resume=expected_resume,
    )
    if ecosystem is None:
        return dataclasses.replace(shared, enabled=False, reason=reason)
    return dataclasses.replace(
        shared,
        disabled_ecosystems=tuple(sorted({*control.disabled_ecosystems, ecosystem})),  # type: ignore[arg-type]
        disabled_reasons={**control.disabled_reasons, ecosystem: reason},
    )


def resumed(control: BatchControl, *, ecosystem: str | None) -> BatchControl:
    """``control`` with the global stop (``ecosystem=None``) or one ecosystem's stop lifted."""
    if ecosystem is None:
        out = dataclasses.replace(control, enabled=True)
    else:
        out = dataclasses.replace(
            control,
            disabled_ecosystems=tuple(e for e in control.disabled_ecosystems if e != ecosystem),
            disabled_reasons={k: v for k, v in control.disabled_reasons.items() if k != ecosystem},
        )
    if out.enabled and not out.disabled_ecosystems:
        out = dataclasses.replace(
            out, reason="", incident_url="", disabled_by="", disabled_at=None, expected_resume=None
        )
    return out
