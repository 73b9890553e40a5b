"""Operator commands on batch-control.json: emergency stop/resume and the budget status.

Writes happen under the writer lock and through ``recipeline_schema.save`` (validated, atomic).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recipeline_schema import (
    BatchControl,
    BatchDir,
    Layout,
    ValidationReport,
    file_lock,
    format_time,
    load,
    save,
)
from recipeline_schema.controlrules import BUDGET_SAMPLE_AT

from .breaker import breaker_state
from .budget import macos_mode, macos_sample, rolled_budget
from .control import resumed, stop_reason, stopped
from .errors import StoppedError
from .preflight import DEFAULT_LOCK_TIMEOUT
from .state import load_control


def _describe(control: BatchControl) -> dict[str, Any]:
    return {
        "enabled": control.enabled,
        "disabled_ecosystems": list(control.disabled_ecosystems),
        "reason": control.reason,
        "disabled_reasons": dict(control.disabled_reasons),
        "incident_url": control.incident_url,
        "disabled_by": control.disabled_by,
        "disabled_at": format_time(control.disabled_at) if control.disabled_at else None,
        "expected_resume": format_time(control.expected_resume) if control.expected_resume else None,
    }


def control_stop(
    root: Path,
    *,
    ecosystem: str | None,
    reason: str,
    by: str,
    now: dt.datetime,
    incident_url: str = "",
    expected_resume: dt.datetime | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> dict[str, Any]:
    """Stop the pipeline (``ecosystem=None``) or one ecosystem; returns the stop fields."""
    layout = Layout(Path(root))
    with file_lock(layout.lock, timeout=lock_timeout, what="batch-control.json (control stop)"):
        control = stopped(
            load_control(layout, now=now),
            ecosystem=ecosystem,
            reason=reason,
            by=by,
            now=now,
            incident_url=incident_url,
            expected_resume=expected_resume,
        )
        save(control, layout.control)
    return _describe(control)


def control_resume(
    root: Path, *, ecosystem: str | None, now: dt.datetime, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
) -> dict[str, Any]:
    """Lift the global stop (``ecosystem=None``) or one ecosystem's; returns the stop fields."""
    layout = Layout(Path(root))
    with file_lock(layout.lock, timeout=lock_timeout, what="batch-control.json (control resume)"):
        control = resumed(load_control(layout, now=now), ecosystem=ecosystem)
        save(control, layout.control)
    return _describe(control)


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """What the flow needs before macOS validation: the mode and, for a batch, the sample."""

    mode: str
    week_start: dt.date
    macos_used: float
    macos_limit: float
    linux_used: float
    linux_limit: float
    batch_id: str | None = None
    sample: tuple[str, ...] | None = None

    @property
    def skip(self) -> str | None:
        """Why macOS validates nothing this week (paused), or ``None``."""
        if self.mode != "paused":
            return None
        used = f"{self.macos_used:g} of {self.macos_limit:g} minutes used this week"
        return f"macOS validation paused by the budget ({used})"

    @property
    def validator_args(self) -> list[str]:
        """The validator's flags that apply the budget to a batch: sampled, only the sample."""
        if self.mode != "sampled" or self.sample is None:
            return []
        why = f"not in this week's macOS sample (over {BUDGET_SAMPLE_AT:.0%} of the macOS budget used)"
        return [*(arg for package_id in self.sample for arg in ("--only", package_id)), "--only-reason", why]

    def to_json(self) -> dict[str, Any]:
        return {
            "macos_validation": self.mode,
            "week_start": self.week_start.isoformat(),
            "macos_minutes_used": self.macos_used,
            "macos_minutes_limit": self.macos_limit,
            "linux_minutes_used": self.linux_used,
            "linux_minutes_limit": self.linux_limit,
            "batch_id": self.batch_id,
            "sample": list(self.sample) if self.sample is not None else None,
            "skip": self.skip,  # the line to print instead of validating on macOS
            "validator_args": self.validator_args,  # what recipeline_validator validate adds
        }


def budget_status(root: Path, *, now: dt.datetime, batch_dir: Path | None = None) -> BudgetStatus:
    """This week's budget and macOS mode; with ``batch_dir``, the packages macOS validates:
    a sample of those that passed a Linux environment (all of them in ``full`` mode)."""
    layout = Layout(Path(root))
    budget = rolled_budget(load_control(layout, now=now).budget, now)
    mode = macos_mode(budget)
    status = BudgetStatus(
        mode,
        budget.week_start,
        budget.macos_minutes_used,
        budget.macos_minutes_limit,
        budget.linux_minutes_used,
        budget.linux_minutes_limit,
    )
    if batch_dir is None:
        return status
    bdir = BatchDir(Path(batch_dir))
    passed: list[str] = []
    batch_id = None
    for path in sorted(bdir.results_dir.glob("linux-*.json")) if bdir.results_dir.is_dir() else []:
        report = load(ValidationReport, path)
        batch_id = report.batch_id
        passed += [r.package_id for r in report.results if r.outcome == "pass" and r.package_id not in passed]
    if batch_id is None:
        batch_id = bdir.path.name
    return dataclasses.replace(status, batch_id=batch_id, sample=macos_sample(batch_id, passed, mode))


def control_status(root: Path, *, ecosystem: str | None, now: dt.datetime) -> dict[str, Any]:
    """The stop fields and the ecosystem's breaker; raises ``StoppedError`` when a batch of
    ``ecosystem`` (or, without one, any batch) may not write now."""
    layout = Layout(Path(root))
    control = load_control(layout, now=now)
    reason = (
        stop_reason(control, ecosystem)
        if ecosystem
        else (None if control.enabled else stop_reason(control, ""))
    )
    if reason is not None:
        raise StoppedError(f"{layout.control}: {reason}")
    out = _describe(control)
    if ecosystem:
        out["breaker"] = breaker_state(control.circuit_breaker.get(ecosystem), now).state
    return out
