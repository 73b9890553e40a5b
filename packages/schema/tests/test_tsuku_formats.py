"""tsuku's queue and control formats (recipeline_schema.tsuku), on tsuku's real files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from recipeline_schema import BatchControl, breaker_state_at, decode
from recipeline_schema.tsuku import (
    control_json_from_tsuku,
    convert_tsuku,
    legacy_source,
    looks_like_tsuku_control,
    plausible_retry,
)

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def test_tsukus_real_control_file_becomes_ours(tsuku_fixtures: Path) -> None:
    data = json.loads((tsuku_fixtures / "batch-control.json").read_text(encoding="utf-8"))
    assert looks_like_tsuku_control(data)
    control = decode(
        BatchControl, control_json_from_tsuku(data, week=dt.date(2026, 11, 30)), "batch-control.json"
    )
    assert set(control.circuit_breaker) == {"cargo", "homebrew", "npm", "pypi", "rubygems"}  # no github
    cargo = control.circuit_breaker["cargo"]  # crates.io: 993 failures, opens_at one hour after the last
    assert (cargo.state, cargo.consecutive_failures) == ("open", 993)
    assert cargo.half_open_after == dt.datetime(2026, 6, 26, 21, 51, 1, tzinfo=dt.UTC)
    assert cargo.opened_at == dt.datetime(2026, 6, 26, 20, 51, 1, tzinfo=dt.UTC)
    assert breaker_state_at(cargo.state, cargo.half_open_after, NOW) == "half_open"  # months later
    assert control.disabled_at is None and control.budget.week_start == dt.date(2026, 11, 30)
    shown = control_json_from_tsuku(data, week=None, known_only=False)  # what the dashboard shows
    assert "github" in shown["circuit_breaker"] and "default" not in shown["circuit_breaker"]
    assert "week_start" not in shown["budget"]


def test_our_control_file_is_not_taken_for_tsukus() -> None:
    ours = {"enabled": True, "circuit_breaker": {"pypi": {"state": "closed", "consecutive_failures": 0}}}
    assert not looks_like_tsuku_control(ours)
    assert looks_like_tsuku_control({"enabled": True, "disabled_at": ""})
    assert not looks_like_tsuku_control([])
    odd = control_json_from_tsuku(
        {"circuit_breaker": {"npm": {"state": "half-open"}, "pypi": {"state": "open"}}}, week=None
    )
    assert odd["circuit_breaker"]["npm"]["state"] == "half_open"
    assert odd["circuit_breaker"]["pypi"]["state"] == "half_open"  # open with no retry time never recovers


def test_retry_times_no_pipeline_could_mean() -> None:
    assert not plausible_retry(dt.datetime(1734, 1, 1, tzinfo=dt.UTC), NOW)  # tsuku's overflowed backoff
    assert plausible_retry(NOW + dt.timedelta(days=10), NOW)
    assert not plausible_retry(NOW + dt.timedelta(days=800), NOW)


def test_legacy_entries_name_their_source() -> None:
    assert legacy_source({"id": "homebrew:gh", "source": "homebrew", "name": "gh"}) == "homebrew:gh"
    assert legacy_source({"source": "homebrew", "name": "jq"}) == "homebrew:jq"
    assert legacy_source({"name": "jq"}) is None


def test_tsukus_real_queues_convert_with_every_loss_reported(tsuku_fixtures: Path) -> None:
    queues = tsuku_fixtures / "data" / "queues"
    unified = json.loads((queues / "priority-queue.json").read_text(encoding="utf-8"))
    legacy = json.loads((queues / "priority-queue-homebrew.json").read_text(encoding="utf-8"))
    result = convert_tsuku(unified, legacy, now=NOW)
    mapped = sum(len(entries) for entries in result.entries.values())
    total = len(unified["entries"]) + len(legacy["packages"])
    assert mapped + len(result.unmapped) + len(result.duplicates) == total  # nothing silently lost
    assert result.entries["homebrew"] and result.entries["cargo"]  # crates.io: mapped to cargo
    assert all(e.source.startswith("cargo:") for e in result.entries["cargo"])
    assert any(u.source.startswith("github:") for u in result.unmapped)
    overflowed = [r for r in result.repairs if r.field == "next_retry_at"]
    assert overflowed and all(r.old.startswith("1734") and r.new == "None" for r in overflowed)
