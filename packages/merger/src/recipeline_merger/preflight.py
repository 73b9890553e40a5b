"""preflight: the control plane's gate before a batch (IO around the pure selection).

Before selecting, preflight honours batch-control.json: the emergency stop (refuses, exit 3),
the ecosystem's circuit breaker (open: no batch; half-open: one probe package, the eligible
entry attempted least recently, and no other batch while that probe is under way) and the
weekly budget (batches shrink while macOS validation is sampled or paused; no batch while Linux
minutes are exhausted).

Write order, so a kill at any point leaves a state the next run recovers (ARCHITECTURE §11):
1. the batch directory is created (it reserves the id; without a plan it is not a live batch);
2. the queue is saved with the selection ``in_progress`` (stale, hence re-selectable, until 3);
3. the plan is written, which makes the batch live.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from recipeline_schema import (
    BatchControl,
    BatchDir,
    BreakerState,
    Budget,
    Layout,
    file_lock,
    normalize_ecosystem,
    save,
)
from recipeline_schema.cliargs import MAX_BATCH_SIZE as MAX_BATCH_SIZE  # the CLIs check it too

from .breaker import breaker_state, describe, probe_entry, probe_under_way
from .budget import batch_size_for, budget_reason, macos_mode, rolled_budget
from .control import stop_reason
from .errors import MergerError, QueueMismatchError, StoppedError
from .gitrepo import batch_branches
from .selection import select
from .state import live_batches, load_control, load_queue, used_batch_ids

DEFAULT_LOCK_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class PreflightResult:
    batch_id: str | None
    batch_dir: Path | None
    selected: int
    reason: str = ""
    breaker: str = "closed"
    macos_validation: str = "full"
    packages: tuple[str, ...] = ()  # the selection's sources (filled by a dry run)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "batch_id": self.batch_id,
            "batch_dir": str(self.batch_dir) if self.batch_dir else None,
            "selected": self.selected,
            "reason": self.reason,
            "breaker": self.breaker,
            "macos_validation": self.macos_validation,
        }
        if self.packages:
            out["packages"] = list(self.packages)
        return out


class _Status(TypedDict):
    breaker: str
    macos_validation: str


def preflight(
    root: Path,
    *,
    ecosystem: str,
    batch_size: int,
    now: dt.datetime,
    tier: int = 3,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    open_batches: Callable[[str], tuple[str, ...]] = lambda _ecosystem: (),
    dry_run: bool = False,
) -> PreflightResult:
    """Honour the emergency stop, select a batch, mark it ``in_progress`` and write its plan.

    An empty selection writes nothing. Raises ``StoppedError`` when batch-control.json stops
    the pipeline or the ecosystem, ``LockTimeoutError`` when another writer holds the lock.
    ``open_batches`` lists the ecosystem's batch PRs still open (GitHub); while one is, no new
    batch starts, so two batches never wait on review side by side. ``dry_run`` reports the
    selection and writes nothing.
    """
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise MergerError(f"batch size: expected 1 to {MAX_BATCH_SIZE}, got {batch_size!r}")
    if tier not in (1, 2, 3):
        raise MergerError(f"tier: expected 1, 2 or 3, got {tier!r}")
    layout = Layout(Path(root))
    eco = normalize_ecosystem(ecosystem)
    reason = stop_reason(load_control(layout, now=now), eco)
    if reason is not None:
        raise StoppedError(f"{layout.control}: {reason}")
    still_open = open_batches(eco)
    if still_open:
        control = load_control(layout, now=now)
        status = _Status(
            breaker=breaker_state(control.circuit_breaker.get(eco), now).state,
            macos_validation=macos_mode(rolled_budget(control.budget, now)),
        )
        waiting = f"batch PR still open: {', '.join(still_open)} (one open batch PR per ecosystem)"
        return PreflightResult(None, None, 0, waiting, **status)
    with file_lock(layout.lock, timeout=lock_timeout, what=f"the {eco} queue (preflight)"):
        control = load_control(layout, now=now)
        reason = stop_reason(control, eco)  # again: a stop may have landed while we waited
        if reason is not None:
            raise StoppedError(f"{layout.control}: {reason}")
        breaker = breaker_state(control.circuit_breaker.get(eco), now)
        budget = rolled_budget(control.budget, now)
        status = _Status(breaker=breaker.state, macos_validation=macos_mode(budget))
        if breaker.state == "open":
            return PreflightResult(None, None, 0, describe(eco, breaker), **status)
        size = batch_size_for(budget, batch_size)
        if size == 0:
            return PreflightResult(
                None, None, 0, f"no batch: Linux CI budget exhausted ({budget_reason(budget)})", **status
            )
        queue = load_queue(layout, eco)
        if queue is None:
            return PreflightResult(
                None,
                None,
                0,
                f"no {eco} queue at {layout.queue(eco)}: "
                f"seed it with: invoke seed --ecosystem {eco} --repo {layout.root}",
                **status,
            )
        if queue.ecosystem != eco:
            raise QueueMismatchError(
                f"{layout.queue(eco)}: ecosystem is {queue.ecosystem!r}, expected {eco!r}"
            )
        live = live_batches(layout)
        picked = None
        probing = probe_under_way(breaker, queue, live_batches=live)
        if probing is not None:
            waiting = (
                f"circuit breaker of {eco} is half-open and its one probe {breaker.probe} is under way "
                f"in batch {probing}; no other batch until that batch is merged"
            )
            return PreflightResult(None, None, 0, waiting, **status)
        if breaker.state == "half_open":
            probe = probe_entry(queue, now=now, tier=tier, live_batches=live)
            picked = (probe,) if probe is not None else ()
        selection = select(
            queue,
            now=now,
            size=size,
            tier=tier,
            live_batches=live,
            existing_ids=used_batch_ids(layout) | batch_branches(layout.root),
            picked=picked,
        )
        if selection.batch_id is None or selection.queue is None or selection.plan is None:
            return PreflightResult(None, None, 0, selection.reason, **status)
        if dry_run:
            sources = tuple(e.source for e in selection.entries)
            reason = f"dry run: would select {len(sources)} as batch {selection.batch_id}; nothing written"
            return PreflightResult(None, None, len(sources), reason, packages=sources, **status)
        batch_dir = BatchDir(layout.batch_dir(selection.batch_id))
        try:
            batch_dir.path.mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            raise MergerError(
                f"{batch_dir.path} exists already; batch id {selection.batch_id} is taken"
            ) from None
        save(selection.queue, layout.queue(eco))
        save(selection.plan, batch_dir.plan)
        if breaker.state == "half_open":
            probe_state = dataclasses.replace(breaker, probe=selection.entries[0].source)
            _save_control(layout, control, eco, probe_state, budget)
    note = describe(eco, breaker) if breaker.state == "half_open" else ""
    if size < batch_size:
        note = f"batch shrunk to {size} by the CI budget ({budget_reason(budget)})"
    return PreflightResult(selection.batch_id, batch_dir.path, len(selection.entries), note, **status)


def _save_control(
    layout: Layout, control: BatchControl, eco: str, breaker: BreakerState, budget: Budget
) -> None:
    save(
        dataclasses.replace(
            control, circuit_breaker={**control.circuit_breaker, eco: breaker}, budget=budget
        ),
        layout.control,
    )
