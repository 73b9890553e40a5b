"""Reading tsuku's batch-control.json, so an operator can move a tsuku repository over.

tsuku writes empty strings for unset times, its breakers as ``{"state", "failures",
"last_failure", "opens_at"}`` keyed by its own ecosystem names (``crates.io``, ``github``,
``default``), and a budget without limits. This module maps that into the contract of
ARCHITECTURE §3.5 (pure: ``now`` is passed in); the next write saves the converted form.

- ``""`` times are unset; an empty ``week_start`` is this week's Monday; limits are defaults.
- a breaker: ``failures`` -> ``consecutive_failures`` (and weighted points), ``opens_at`` (when
  it half-opens) -> ``half_open_after``, ``opened_at`` = an hour earlier; ``half-open`` spelled
  either way. Keys that are not recipeline ecosystems (``github``, ``default``) are dropped.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from recipeline_schema import (
    BatchControl,
    InvalidValueError,
    decode,
    format_time,
    normalize_ecosystem,
    parse_time_lenient,
    week_start,
)

from .breaker import COOLDOWN, HARD_POINTS


def looks_like_tsuku(data: Any) -> bool:
    """Whether ``data`` has tsuku's marks: empty-string times or breakers with ``failures``."""
    if not isinstance(data, dict):
        return False
    if any(data.get(k) == "" for k in ("disabled_at", "expected_resume")):
        return True
    breakers = data.get("circuit_breaker")
    return isinstance(breakers, dict) and any(
        isinstance(b, dict) and ("failures" in b or "opens_at" in b) for b in breakers.values()
    )


def _time(value: Any) -> str | None:
    parsed = parse_time_lenient(value) if value not in (None, "") else None
    return format_time(parsed) if parsed is not None else None


def _breaker(raw: dict[str, Any]) -> dict[str, Any]:
    state = str(raw.get("state", "closed")).replace("-", "_")
    failures = raw.get("consecutive_failures", raw.get("failures", 0))
    count = failures if isinstance(failures, int) and failures >= 0 else 0
    out: dict[str, Any] = {
        "state": state if state in ("closed", "open", "half_open") else "closed",
        "consecutive_failures": count,
        "failure_points": count * HARD_POINTS,
        "last_failure": _time(raw.get("last_failure")),
        "last_success": _time(raw.get("last_success")),
    }
    half_open = parse_time_lenient(raw.get("half_open_after") or raw.get("opens_at") or "")
    if half_open is not None:
        out["half_open_after"] = format_time(half_open)
        out["opened_at"] = format_time(half_open - COOLDOWN)
    if out["state"] == "open" and half_open is None:
        out["state"] = "half_open"  # an open breaker with no re-try time would never recover
    return {k: v for k, v in out.items() if v is not None}


def control_from_tsuku(data: dict[str, Any], path: Path | str, *, now: dt.datetime) -> BatchControl:
    """tsuku's control file as a recipeline ``BatchControl`` (validated)."""
    breakers: dict[str, Any] = {}
    for name, raw in (data.get("circuit_breaker") or {}).items():
        try:
            eco = normalize_ecosystem(str(name))
        except InvalidValueError:
            continue  # github, default: no recipeline ecosystem
        if isinstance(raw, dict):
            breakers[eco] = _breaker(raw)
    raw_budget = data.get("budget")
    budget_raw: dict[str, Any] = raw_budget if isinstance(raw_budget, dict) else {}
    budget: dict[str, Any] = {"week_start": budget_raw.get("week_start") or week_start(now).isoformat()}
    for key in ("macos_minutes_used", "linux_minutes_used", "macos_minutes_limit", "linux_minutes_limit"):
        if isinstance(budget_raw.get(key), int | float):
            budget[key] = budget_raw[key]
    disabled = []
    for name in data.get("disabled_ecosystems") or ():
        try:
            disabled.append(normalize_ecosystem(str(name)))
        except InvalidValueError:
            continue
    converted: dict[str, Any] = {
        "enabled": bool(data.get("enabled", True)),
        "disabled_ecosystems": sorted(set(disabled)),
        "reason": str(data.get("reason") or ""),
        "incident_url": str(data.get("incident_url") or ""),
        "disabled_by": str(data.get("disabled_by") or ""),
        "circuit_breaker": breakers,
        "budget": budget,
    }
    for key in ("disabled_at", "expected_resume"):
        if (value := _time(data.get(key))) is not None:
            converted[key] = value
    return decode(BatchControl, converted, path)
