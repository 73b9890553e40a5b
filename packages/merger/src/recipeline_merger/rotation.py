"""The hourly rotation of ``preflight --ecosystem auto``: which ecosystem a run draws from.

The order is pure (``rotation_order``: the UTC hour mod 8 picks the first of schema's
``ROTATION``, the rest follow in order); ``preflight_auto`` tries them in one process and takes
the first that selects something. An ecosystem that is stopped, has an empty (or no) queue, an
open breaker, an open batch PR or no CI budget left is passed over with preflight's own reason;
a half-open breaker is not passed over (preflight selects its probe).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recipeline_schema import ROTATION

from .errors import StoppedError
from .preflight import DEFAULT_LOCK_TIMEOUT, PreflightResult, preflight


def rotation_order(hour: int) -> tuple[str, ...]:
    """Ecosystems in the order ``--ecosystem auto`` tries them at UTC ``hour`` (hour mod 8 first)."""
    start = hour % len(ROTATION)
    return (*ROTATION[start:], *ROTATION[:start])


@dataclass(frozen=True, slots=True)
class RotationResult:
    """The picked ecosystem's preflight (or the last one tried) and why each other was passed over."""

    result: PreflightResult
    ecosystem: str | None  # the one that selected something; None when none did
    #: (ecosystem, reason) for every other ecosystem, in rotation order: those tried before the
    #: pick with preflight's reason, those after it as not reached
    passed_over: tuple[tuple[str, str], ...]
    hour: int = 0

    @property
    def why(self) -> str:
        """Why the rotation picked its ecosystem (or that it picked none), in one line."""
        hour, n = self.hour, len(ROTATION)
        first = rotation_order(hour)[0]
        start = f"UTC hour {hour} starts the rotation at {first} ({hour} mod {n} = {hour % n})"
        if self.ecosystem is None:
            return f"{start}; no ecosystem has anything to select"
        return f"{start}; {self.ecosystem} is the first in its order with something to select"

    def to_json(self) -> dict[str, Any]:
        out = self.result.to_json()
        if self.ecosystem is None:
            out["reason"] = "; ".join(f"{eco}: {why}" for eco, why in self.passed_over)
        out["ecosystem"] = self.ecosystem
        out["rotation"] = {"hour": self.hour, "order": list(rotation_order(self.hour)), "why": self.why}
        out["passed_over"] = [{"ecosystem": eco, "reason": why} for eco, why in self.passed_over]
        return out


def preflight_auto(
    root: Path,
    *,
    batch_size: int,
    now: dt.datetime,
    tier: int = 3,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    open_batches: Callable[[str], tuple[str, ...]] = lambda _ecosystem: (),
    dry_run: bool = False,
) -> RotationResult:
    """Preflight the first ecosystem of ``now``'s rotation that selects something.

    A stopped ecosystem (``StoppedError``) or an empty selection is passed over with its reason;
    only the picked ecosystem's preflight writes (a dry run writes nothing anywhere).
    """
    passed: list[tuple[str, str]] = []
    last = PreflightResult(None, None, 0, "no ecosystem tried")
    order = rotation_order(now.hour)
    for index, eco in enumerate(order):
        try:
            last = preflight(
                root,
                ecosystem=eco,
                batch_size=batch_size,
                now=now,
                tier=tier,
                lock_timeout=lock_timeout,
                open_batches=open_batches,
                dry_run=dry_run,
            )
        except StoppedError as exc:
            passed.append((eco, f"stopped ({exc})"))
            continue
        if last.batch_id or (dry_run and last.packages):
            passed += [
                (later, f"not reached: {eco} comes first at UTC hour {now.hour}")
                for later in order[index + 1 :]
            ]
            return RotationResult(last, eco, tuple(passed), now.hour)
        passed.append((eco, last.reason or "nothing eligible"))
    return RotationResult(last, None, tuple(passed), now.hour)
