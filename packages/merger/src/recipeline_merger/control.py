"""Pure rules of batch-control.json's emergency stop (ARCHITECTURE §3.5): read, stop, resume.

The breakers live in ``breaker`` and the budget in ``budget``; the rule that refuses
(``stop_reason``) is schema's ``controlrules``, shared with the seeder. A stop of one ecosystem keeps its
reason in ``disabled_reasons``; the who/when/incident fields are shared by every stop (the last
stop sets them) and are cleared once nothing is stopped any more. A global resume leaves
ecosystems that were stopped on their own stopped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from recipeline_schema import BatchControl, Budget, week_start
from recipeline_schema.controlrules import stop_reason

__all__ = ["default_control", "resumed", "stop_reason", "stopped"]


def default_control(now: dt.datetime) -> BatchControl:
    """The control a repository without batch-control.json runs under: enabled, no breakers."""
    return BatchControl(enabled=True, budget=Budget(week_start=week_start(now)))


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
