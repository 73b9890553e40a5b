"""``status``: the pipeline's health on one terminal screen (pure text from the state files)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from recipeline_schema import ECOSYSTEMS, BatchControl, Ecosystem, Layout, MetricsLine, Queue, read_jsonl

from .breaker import breaker_state
from .budget import macos_mode, rolled_budget
from .control import stop_reason
from .state import load_control, load_queue

_COLUMNS = ("pending", "in_progress", "success", "failed", "blocked")


def status_lines(
    queues: Mapping[Ecosystem, Queue], control: BatchControl, metrics: Sequence[MetricsLine], now: dt.datetime
) -> list[str]:
    """The summary: stop state, budget, one row per ecosystem, and time since a recipe merged."""
    b = rolled_budget(control.budget, now)
    running = "pipeline running" if control.enabled else f"PIPELINE STOPPED: {control.reason or 'no reason'}"
    lines = [
        f"recipeline status at {now:%Y-%m-%dT%H:%M:%SZ}: {running}",
        f"budget week of {b.week_start}: macOS {b.macos_minutes_used:g}/{b.macos_minutes_limit:g} min "
        f"({macos_mode(b)}), Linux {b.linux_minutes_used:g}/{b.linux_minutes_limit:g} min",
        "",
        f"{'ecosystem':<10}"
        + "".join(f"{c[:8]:>9}" for c in (*_COLUMNS, "other"))
        + "  breaker    stop  last batch",
    ]
    last_by_eco: dict[str, MetricsLine] = {}
    for line in metrics:
        if line.ecosystem not in last_by_eco or line.timestamp >= last_by_eco[line.ecosystem].timestamp:
            last_by_eco[line.ecosystem] = line
    for eco in ECOSYSTEMS:
        queue = queues.get(eco)
        counts = Counter[str](e.status for e in queue.entries) if queue else Counter[str]()
        other = sum(n for status, n in counts.items() if status not in _COLUMNS)
        breaker = breaker_state(control.circuit_breaker.get(eco), now)
        stopped = "yes" if stop_reason(control, eco) else "-"
        last = last_by_eco.get(eco)
        batch = f"{last.batch_id} {last.merged}/{last.total} merged" if last else "-"
        row = f"{eco:<10}" + "".join(f"{counts[c]:>9}" for c in _COLUMNS) + f"{other:>9}"
        lines.append(f"{row}  {breaker.state:<9}  {stopped:<4}  {batch}")
    merged = [m for m in metrics if m.merged > 0]
    if merged:
        newest = max(merged, key=lambda m: m.timestamp)
        hours = (now - newest.timestamp).total_seconds() / 3600
        lines += [
            "",
            f"last recipes merged {hours:.1f} h ago (batch {newest.batch_id}, {newest.merged} recipes)",
        ]
    else:
        lines += ["", "no recipe merged yet"]
    return lines


def read_status(root: Path, now: dt.datetime) -> list[str]:
    """``status_lines`` over a repository's files (a missing queue is an empty row)."""
    layout = Layout(root)
    queues = {eco: q for eco in ECOSYSTEMS if (q := load_queue(layout, eco)) is not None}
    metrics = read_jsonl(MetricsLine, layout.metrics)
    return status_lines(queues, load_control(layout, now=now), metrics, now)
