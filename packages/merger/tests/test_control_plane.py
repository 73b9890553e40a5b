"""The control plane on real files: stop/resume CLI, breaker and budget in preflight, budget CLI."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from recipeline_merger import (
    PackageOutcome,
    add_minutes,
    batch_size_for,
    breaker_transition,
    default_control,
    macos_mode,
    macos_sample,
    preflight,
    rolled_budget,
)
from recipeline_schema import BatchControl, BatchPlan, BreakerState, Budget, Layout, load, save

if TYPE_CHECKING:
    from .conftest import Make

NOW = dt.datetime(2026, 1, 29, 10, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "recipeline_merger", *args], capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def seeded(tmp_path: Path, make: Make) -> Layout:
    """A repository directory with a cargo queue of 8 pending entries (one attempted before)."""
    layout = Layout(tmp_path)
    entries = [make.entry(f"tool{i}", popularity=100 - i) for i in range(8)]
    entries[0] = dataclasses.replace(entries[0], last_attempt_at=NOW - 3 * HOUR)
    save(make.queue(entries), layout.queue("cargo"))
    return layout


def with_control(layout: Layout, **changes: object) -> None:
    save(dataclasses.replace(default_control(NOW), **changes), layout.control)  # type: ignore[arg-type]


def test_stop_and_resume_through_the_cli(seeded: Layout) -> None:
    root = str(seeded.root)
    stop = cli(
        "control",
        "stop",
        "--repo",
        root,
        "--reason",
        "bad builder",
        "--incident-url",
        "https://example.org/incident/7",
        "--by",
        "alice",
        "--now",
        "2026-01-29T10:00:00Z",
    )
    assert stop.returncode == 0, stop.stderr
    assert json.loads(stop.stdout)["enabled"] is False
    refused = cli("preflight", "--repo", root, "--ecosystem", "cargo", "--batch-size", "2")
    assert refused.returncode == 3
    assert "bad builder" in refused.stderr and "incident/7" in refused.stderr and "alice" in refused.stderr
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr

    assert cli("control", "resume", "--repo", root).returncode == 0
    control = load(BatchControl, seeded.control)
    assert control.enabled and control.reason == "" and control.disabled_by == ""
    assert cli("preflight", "--repo", root, "--ecosystem", "cargo", "--batch-size", "2").returncode == 0


def test_an_ecosystem_stop_refuses_only_that_ecosystem(seeded: Layout, make: Make) -> None:
    save(make.queue([make.entry("prettier", "npm:prettier")], ecosystem="npm"), seeded.queue("npm"))
    root = str(seeded.root)
    proc = cli("control", "stop", "--repo", root, "--ecosystem", "crates", "--reason", "registry outage")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["disabled_ecosystems"] == ["cargo"]
    refused = cli("preflight", "--repo", root, "--ecosystem", "cargo", "--batch-size", "2")
    assert refused.returncode == 3 and "ecosystem cargo stopped: registry outage" in refused.stderr
    assert cli("preflight", "--repo", root, "--ecosystem", "npm", "--batch-size", "2").returncode == 0
    # a global stop and resume leaves the ecosystem's own stop in place
    assert cli("control", "stop", "--repo", root, "--reason", "freeze").returncode == 0
    assert cli("control", "resume", "--repo", root).returncode == 0
    assert cli("preflight", "--repo", root, "--ecosystem", "cargo", "--batch-size", "2").returncode == 3
    assert cli("control", "resume", "--repo", root, "--ecosystem", "cargo").returncode == 0
    assert cli("preflight", "--repo", root, "--ecosystem", "cargo", "--batch-size", "2").returncode == 0


def test_an_open_breaker_selects_nothing_and_writes_nothing(seeded: Layout) -> None:
    opened = breaker_transition(BreakerState(), [PackageOutcome("cargo:x", "failure")] * 10, NOW - HOUR / 6)
    with_control(seeded, circuit_breaker={"cargo": opened})
    before = seeded.queue("cargo").read_bytes()
    result = preflight(seeded.root, ecosystem="cargo", batch_size=5, now=NOW)
    assert result.batch_id is None and result.breaker == "open"
    assert "circuit breaker of cargo is open" in result.reason and "half-open at" in result.reason
    assert seeded.queue("cargo").read_bytes() == before
    assert not (seeded.build / "batches").exists()


def test_a_half_open_breaker_admits_one_probe_least_recently_attempted(seeded: Layout) -> None:
    opened = breaker_transition(BreakerState(), [PackageOutcome("cargo:x", "failure")] * 10, NOW - 2 * HOUR)
    with_control(seeded, circuit_breaker={"cargo": opened})
    result = preflight(seeded.root, ecosystem="cargo", batch_size=5, now=NOW)
    assert result.selected == 1 and result.breaker == "half_open"
    plan = load(BatchPlan, seeded.batch_dir(str(result.batch_id)) / "manifest.json")
    # tool0 heads the queue but was attempted before: the never-attempted tool1 is the probe
    assert [p.name for p in plan.packages] == ["tool1"]
    assert load(BatchControl, seeded.control).circuit_breaker["cargo"].probe == "cargo:tool1"


def test_two_preflights_while_half_open_admit_one_probe(seeded: Layout) -> None:
    opened = breaker_transition(BreakerState(), [PackageOutcome("cargo:x", "failure")] * 10, NOW - 2 * HOUR)
    with_control(seeded, circuit_breaker={"cargo": opened})
    at = [
        "--repo",
        str(seeded.root),
        "--ecosystem",
        "cargo",
        "--batch-size",
        "5",
        "--now",
        "2026-01-29T10:00:00Z",
    ]
    first = cli("preflight", *at)
    assert first.returncode == 0, first.stderr
    probe = json.loads(first.stdout)
    assert probe["selected"] == 1 and probe["breaker"] == "half_open"
    queue_after_probe = seeded.queue("cargo").read_bytes()
    for extra in ([], ["--dry-run"]):  # a dry run says the same and admits nothing either
        second = cli("preflight", *at, *extra)
        assert second.returncode == 0, second.stderr
        held = json.loads(second.stdout)
        assert held["batch_id"] is None and held["selected"] == 0 and "packages" not in held
        assert f"probe cargo:tool1 is under way in batch {probe['batch_id']}" in held["reason"]
    assert seeded.queue("cargo").read_bytes() == queue_after_probe
    assert sorted(p.name for p in (seeded.build / "batches").iterdir()) == [probe["batch_id"]]


def test_a_probe_whose_batch_died_no_longer_holds_the_breaker(seeded: Layout) -> None:
    opened = breaker_transition(BreakerState(), [PackageOutcome("cargo:x", "failure")] * 10, NOW - 2 * HOUR)
    with_control(seeded, circuit_breaker={"cargo": opened})
    first = preflight(seeded.root, ecosystem="cargo", batch_size=5, now=NOW)
    assert first.selected == 1 and first.batch_dir is not None
    (first.batch_dir / "manifest.json").unlink()  # the batch is no longer live (its plan is gone)
    second = preflight(seeded.root, ecosystem="cargo", batch_size=5, now=NOW + HOUR / 60)
    assert second.selected == 1 and second.batch_id != first.batch_id


def test_the_budget_shrinks_batches_and_stops_at_linux_exhaustion(seeded: Layout) -> None:
    week = dt.date(2026, 1, 26)
    with_control(seeded, budget=Budget(week_start=week, macos_minutes_used=850))
    result = preflight(seeded.root, ecosystem="cargo", batch_size=6, now=NOW)
    assert result.selected == 3 and result.macos_validation == "sampled"
    assert "shrunk to 3" in result.reason

    with_control(seeded, budget=Budget(week_start=week, linux_minutes_used=4800))
    result = preflight(seeded.root, ecosystem="cargo", batch_size=6, now=NOW)
    assert result.batch_id is None and "Linux CI budget exhausted" in result.reason

    # last week's minutes do not count this week
    with_control(seeded, budget=Budget(week_start=dt.date(2026, 1, 19), linux_minutes_used=4800))
    result = preflight(seeded.root, ecosystem="cargo", batch_size=2, now=NOW)
    assert result.selected == 2 and result.macos_validation == "full"


def test_budget_modes_thresholds_and_rollover() -> None:
    week = dt.date(2026, 1, 26)
    assert macos_mode(Budget(week_start=week, macos_minutes_used=799.9)) == "full"
    assert macos_mode(Budget(week_start=week, macos_minutes_used=800)) == "sampled"
    assert macos_mode(Budget(week_start=week, macos_minutes_used=950)) == "paused"
    assert macos_mode(Budget(week_start=week, macos_minutes_limit=0)) == "paused"
    assert batch_size_for(Budget(week_start=week, macos_minutes_used=960), 25) == 12
    assert batch_size_for(Budget(week_start=week, macos_minutes_used=960), 1) == 1
    used = add_minutes(Budget(week_start=week), linux=4.0, macos=6.5, now=NOW)
    assert (used.linux_minutes_used, used.macos_minutes_used) == (4.0, 6.5)
    next_week = add_minutes(used, linux=1.0, macos=1.0, now=NOW + 7 * 24 * HOUR)
    assert next_week.week_start == dt.date(2026, 2, 2) and next_week.macos_minutes_used == 1.0
    assert rolled_budget(used, NOW) is used


def test_macos_sample_is_a_stable_quarter() -> None:
    ids = [f"cargo:t{i}" for i in range(10)]
    sample = macos_sample("2026-01-29-001", ids, "sampled")
    assert len(sample) == 3 and set(sample) <= set(ids)
    assert sample == macos_sample("2026-01-29-001", ids, "sampled")
    assert list(sample) == [i for i in ids if i in sample]  # input order kept
    assert macos_sample("2026-01-29-001", ids, "full") == tuple(ids)
    assert macos_sample("2026-01-29-001", ids, "paused") == ()
    assert len(macos_sample("2026-01-29-001", ids[:1], "sampled")) == 1


def test_budget_cli_prints_mode_and_sample(seeded: Layout, make: Make) -> None:
    with_control(seeded, budget=Budget(week_start=dt.date(2026, 1, 26), macos_minutes_used=900))
    bdir = seeded.batch_dir("2026-01-29-001")
    ids = [f"cargo:tool{i}" for i in range(8)]
    results = [make.result(f"tool{i}", pid, "pass" if i < 6 else "fail") for i, pid in enumerate(ids)]
    save(make.report(make.linux, results), bdir / "results" / f"{make.linux}.json")
    proc = cli(
        "budget", "--repo", str(seeded.root), "--batch-dir", str(bdir), "--now", "2026-01-29T10:00:00Z"
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["macos_validation"] == "sampled" and out["macos_minutes_used"] == 900
    assert len(out["sample"]) == 2 and set(out["sample"]) <= set(ids[:6])
    assert out["skip"] is None  # sampled: the validator gets the sample's flags
    a, b = out["sample"]
    reason = "not in this week's macOS sample (over 80% of the macOS budget used)"
    assert out["validator_args"] == ["--only", a, "--only", b, "--only-reason", reason]
    plain = json.loads(cli("budget", "--repo", str(seeded.root), "--now", "2026-01-29T10:00:00Z").stdout)
    assert plain["sample"] is None and plain["validator_args"] == [] and plain["skip"] is None
    with_control(seeded, budget=Budget(week_start=dt.date(2026, 1, 26), macos_minutes_used=960))
    paused = json.loads(cli("budget", "--repo", str(seeded.root), "--batch-dir", str(bdir),
                            "--now", "2026-01-29T10:00:00Z").stdout)  # fmt: skip
    assert paused["skip"] == "macOS validation paused by the budget (960 of 1000 minutes used this week)"
    assert paused["validator_args"] == []


def test_control_status_gates_the_other_writing_stages(seeded: Layout) -> None:
    root = str(seeded.root)
    ok = cli("control", "status", "--repo", root, "--ecosystem", "cargo")
    assert ok.returncode == 0 and json.loads(ok.stdout)["breaker"] == "closed"
    cli("control", "stop", "--repo", root, "--ecosystem", "cargo", "--reason", "bad bottles")
    stopped = cli("control", "status", "--repo", root, "--ecosystem", "cargo")
    assert stopped.returncode == 3 and "bad bottles" in stopped.stderr
    assert cli("control", "status", "--repo", root, "--ecosystem", "npm").returncode == 0
    assert cli("control", "status", "--repo", root).returncode == 0  # no global stop
    cli("control", "stop", "--repo", root, "--reason", "freeze")
    assert cli("control", "status", "--repo", root).returncode == 3
