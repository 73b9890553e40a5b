"""The circuit breaker of one ecosystem (ARCHITECTURE §3.5, §12.1): one pure transition function.

``breaker_transition(state, outcomes, now)`` is the only place a breaker changes:

- first the clock: an ``open`` breaker whose ``half_open_after`` has passed becomes ``half_open``;
- then the outcomes, in order (one per attempted package):
  - ``closed``: a success resets the streak; a failure adds to it. The breaker opens when the
    streak reaches 10 failures (``failure_points >= 20``: a failure weighs 2 points, a *soft*
    one 1) or when more than half of the last 20 *hard* attempts failed;
  - ``half_open``: the first outcome is the probe's: a success closes the breaker (streak and
    window cleared), a failure of any kind re-opens it for another 60 minutes;
  - ``open``: outcomes only update ``last_success``/``last_failure`` (a batch that was already
    running when the breaker opened).

**Soft failures** (transient ``api_error`` or ``missing_dep``/blocked) count less: they weigh one
point instead of two (20 in a row open the breaker, a registry outage is still caught) and they
stay out of the failure-rate window (a missing dependency or a flaky upstream says nothing
about whether the ecosystem's builder works). Skipped packages are not attempts at all.

The probe is chosen by ``probe_entry``: the eligible entry (backoff respected) attempted least
recently. A poison package that fails its probe gets a backoff and a fresh ``last_attempt_at``,
so the next probe is another package; one poison package can never hold a breaker open.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Literal

from recipeline_schema import (
    BreakerState,
    Queue,
    QueueEntry,
    breaker_state_at,
    format_time,
    is_eligible,
    order_key,
)
from recipeline_schema.controlrules import COOLDOWN, HARD_POINTS

from .decision import PackageDecision

FAILURE_THRESHOLD = 10  # consecutive (hard) package failures that open a breaker
SOFT_POINTS = 1
WINDOW = 20  # attempts the failure rate is computed over

OutcomeKind = Literal["success", "failure", "soft_failure"]


@dataclass(frozen=True, slots=True)
class PackageOutcome:
    """One attempted package of a batch, as the breaker sees it."""

    package_id: str
    kind: OutcomeKind


def breaker_transition(
    state: BreakerState, outcomes: Iterable[PackageOutcome], now: dt.datetime
) -> BreakerState:
    """The breaker after the clock reached ``now`` and ``outcomes`` happened (see the module doc)."""
    current = _tick(state, now)
    for outcome in outcomes:
        current = _apply(current, outcome, now)
    return current


def _tick(state: BreakerState, now: dt.datetime) -> BreakerState:
    if state.state == "open" and breaker_state_at(state.state, state.half_open_after, now) == "half_open":
        return dataclasses.replace(state, state="half_open", probe=None)
    return state


def _apply(state: BreakerState, outcome: PackageOutcome, now: dt.datetime) -> BreakerState:
    success = outcome.kind == "success"
    stamped = (
        dataclasses.replace(state, last_success=now)
        if success
        else dataclasses.replace(state, last_failure=now)
    )
    if state.state == "open":
        return stamped
    if state.state == "half_open":
        if success:
            return dataclasses.replace(
                stamped,
                state="closed",
                consecutive_failures=0,
                failure_points=0,
                recent=(),
                opened_at=None,
                half_open_after=None,
                probe=None,
                reason=f"closed: probe {outcome.package_id} succeeded at {format_time(now)}",
            )
        return _open(stamped, now, f"probe {outcome.package_id} failed")
    if success:
        return dataclasses.replace(
            stamped,
            consecutive_failures=0,
            failure_points=0,
            recent=_window(state.recent, True),
        )
    soft = outcome.kind == "soft_failure"
    failed = dataclasses.replace(
        stamped,
        consecutive_failures=state.consecutive_failures + 1,
        failure_points=state.failure_points + (SOFT_POINTS if soft else HARD_POINTS),
        recent=state.recent if soft else _window(state.recent, False),
    )
    if failed.failure_points >= FAILURE_THRESHOLD * HARD_POINTS:
        return _open(failed, now, f"{failed.consecutive_failures} consecutive package failures")
    if len(failed.recent) >= WINDOW and 2 * failed.recent.count(False) > len(failed.recent):
        return _open(
            failed, now, f"{failed.recent.count(False)} of the last {len(failed.recent)} attempts failed"
        )
    return failed


def _window(recent: tuple[bool, ...], success: bool) -> tuple[bool, ...]:
    return (*recent, success)[-WINDOW:]


def _open(state: BreakerState, now: dt.datetime, why: str) -> BreakerState:
    return dataclasses.replace(
        state,
        state="open",
        opened_at=now,
        half_open_after=now + COOLDOWN,
        probe=None,
        reason=f"opened at {format_time(now)}: {why}",
    )


def breaker_state(state: BreakerState | None, now: dt.datetime) -> BreakerState:
    """The breaker as the clock leaves it at ``now`` (a missing breaker is closed)."""
    return breaker_transition(state or BreakerState(), (), now)


def probe_entry(
    queue: Queue, *, now: dt.datetime, tier: int, live_batches: Collection[str]
) -> QueueEntry | None:
    """The half-open probe: the eligible entry attempted least recently (never attempted first),
    ties in queue order. Backoff is respected, so a poison probe rotates out."""
    eligible = [e for e in queue.entries if is_eligible(e, now=now, tier=tier, live_batches=live_batches)]
    if not eligible:
        return None
    return min(
        eligible, key=lambda e: (e.last_attempt_at is not None, e.last_attempt_at or now, order_key(e))
    )


def probe_under_way(state: BreakerState, queue: Queue, *, live_batches: Collection[str]) -> str | None:
    """The batch of the half-open probe admitted already and not decided yet, or ``None``.

    A half-open breaker admits one probe however often preflight runs: while the probe's entry
    is ``in_progress`` in a live batch, no other batch starts. A probe whose batch died (its
    entry released by reconcile) no longer holds the breaker: the next preflight admits a new one.
    """
    if state.state != "half_open" or state.probe is None:
        return None
    for entry in queue.entries:
        if entry.source == state.probe and entry.status == "in_progress" and entry.batch_id in live_batches:
            return entry.batch_id
    return None


def outcomes_of(packages: Iterable[PackageDecision]) -> tuple[PackageOutcome, ...]:
    """Breaker outcomes of a merge decision's packages, in batch order.

    merged -> success; blocked, transient or ``missing_dep`` failures -> soft; other failed or
    excluded packages -> failure; skipped packages were not attempted and are left out.
    """
    out = []
    for p in packages:
        if p.outcome == "skipped":
            continue
        if p.outcome == "merged":
            out.append(PackageOutcome(p.package_id, "success"))
        elif (
            p.outcome == "blocked"
            or p.transient
            or any(f.failure.category == "missing_dep" for f in p.failures)
        ):
            out.append(PackageOutcome(p.package_id, "soft_failure"))
        else:
            out.append(PackageOutcome(p.package_id, "failure"))
    return tuple(out)


def describe(ecosystem: str, state: BreakerState) -> str:
    """One line for an operator: why a breaker refuses or limits a batch."""
    if state.state == "open":
        until = format_time(state.half_open_after) if state.half_open_after else "now"
        why = state.reason or "no reason recorded"
        return f"circuit breaker of {ecosystem} is open ({why}); half-open at {until}"
    if state.state == "half_open":
        return f"circuit breaker of {ecosystem} is half-open: one probe package only"
    return f"circuit breaker of {ecosystem} is closed"
