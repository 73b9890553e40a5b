"""The weekly CI-minutes budget (ARCHITECTURE §3.5): pure rules, measured minutes in.

- The week starts on Monday (UTC); a budget of an earlier week is rolled_budget over (used minutes
  back to 0, limits kept) before it is read or added to.
- Minutes come from the validation reports' measured ``duration_seconds`` (merge adds them).
- macOS validation is ``full`` below 80% of the macOS limit, ``sampled`` from 80%, ``paused``
  from 95% (until the week rolls over). A limit of 0 means paused.
- **Sampling**: in ``sampled`` mode macOS validates a quarter of the recipes that passed Linux
  (rounded up, at least one). The sample is deterministic: the packages whose
  ``sha256("<batch_id>:<package_id>")`` are smallest, so re-running a stage picks the same
  sample and different batches sample different packages. A recipe left out is recorded by the
  validator as ``skipped`` on macOS, never as passed.
- **Batches shrink** to half their size (at least 1) while macOS is sampled or paused, and no
  batch starts while Linux has used 95% of its limit (Linux validation is never sampled: it is
  what decides inclusion).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Sequence

from recipeline_schema import Budget, BudgetMode, budget_mode, week_start

SAMPLE_FRACTION = (1, 4)  # numerator, denominator: a quarter of the Linux-passing recipes

MacosMode = BudgetMode


def rolled_budget(budget: Budget, now: dt.datetime) -> Budget:
    """``budget`` for the week holding ``now``: an earlier week's minutes are reset to 0."""
    monday = week_start(now)
    if budget.week_start >= monday:
        return budget
    return dataclasses.replace(budget, week_start=monday, macos_minutes_used=0.0, linux_minutes_used=0.0)


def add_minutes(budget: Budget, *, linux: float, macos: float, now: dt.datetime) -> Budget:
    """The budget after a batch's measured validation minutes (negative values count as 0)."""
    current = rolled_budget(budget, now)
    return dataclasses.replace(
        current,
        linux_minutes_used=round(current.linux_minutes_used + max(linux, 0.0), 2),
        macos_minutes_used=round(current.macos_minutes_used + max(macos, 0.0), 2),
    )


def macos_mode(budget: Budget) -> MacosMode:
    return budget_mode(budget.macos_minutes_used, budget.macos_minutes_limit)


def linux_exhausted(budget: Budget) -> bool:
    return budget_mode(budget.linux_minutes_used, budget.linux_minutes_limit) == "paused"


def macos_sample(batch_id: str, package_ids: Sequence[str], mode: MacosMode) -> tuple[str, ...]:
    """The packages macOS validates, in their given order (see the module doc)."""
    if mode == "full":
        return tuple(package_ids)
    if mode == "paused" or not package_ids:
        return ()
    num, den = SAMPLE_FRACTION
    size = max(1, -(-len(package_ids) * num // den))
    ranked = sorted(package_ids, key=lambda pid: hashlib.sha256(f"{batch_id}:{pid}".encode()).hexdigest())
    chosen = set(ranked[:size])
    return tuple(pid for pid in package_ids if pid in chosen)


def batch_size_for(budget: Budget, size: int) -> int:
    """The batch size the budget allows (0: no batch while Linux minutes are exhausted)."""
    if linux_exhausted(budget):
        return 0
    if macos_mode(budget) != "full":
        return max(1, size // 2)
    return size


def budget_reason(budget: Budget) -> str:
    """One line: how much of each budget is used and what that means."""
    return (
        f"week of {budget.week_start.isoformat()}: macOS {budget.macos_minutes_used:g}/"
        f"{budget.macos_minutes_limit:g} min ({macos_mode(budget)}), Linux "
        f"{budget.linux_minutes_used:g}/{budget.linux_minutes_limit:g} min"
        + (" (exhausted)" if linux_exhausted(budget) else "")
    )
