"""Health that tells the truth (no run, overdue probes, an unreadable control file, a stop) and
runs with unique keys, empty runs folded, failures linked to their run; on hand-built records,
on repositories on disk and on tsuku's whole snapshot (skipped without ``../shared``)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from recipeline_dashboard import (
    Control,
    FailureEvent,
    Package,
    RepositoryData,
    Run,
    build_dashboard,
    health_section,
    read_repository,
)
from recipeline_dashboard.core import (
    LONGEST_RUN,
    NO_RUN_ALLOWANCE,
    RUN_SCHEDULE,
    RunIndex,
    empty_runs_section,
    runs_section,
)
from recipeline_dashboard.model import Breaker, ReadProblem
from recipeline_dashboard.schema import check_document
from recipeline_schema import format_time

NOW = dt.datetime(2026, 2, 5, 10, 0, 0, tzinfo=dt.UTC)
WORKFLOW = Path(__file__).resolve().parents[3] / ".github" / "workflows" / "batch-generate.yml"


def run(batch: str, at: dt.datetime, total: int = 2, merged: int = 1, eco: str = "pypi") -> Run:
    return Run(batch_id=batch, ecosystem=eco, ecosystems=(eco,), timestamp=at, total=total, merged=merged)


def failure(package: str, at: dt.datetime, batch: str, *, tsuku: bool = False) -> FailureEvent:
    return FailureEvent(
        package=package,
        ecosystem=package.partition(":")[0],
        category="validation_failed",
        subcategory="install_failed",
        message="failed",
        timestamp=format_time(at),
        batch_id=batch,
        legacy_category="install_failed" if tsuku else None,
    )


def codes(health: dict[str, Any]) -> list[tuple[str, str]]:
    return [(a["level"], a["code"]) for a in health["alerts"]]


# --- health ------------------------------------------------------------------------------


def test_a_healthy_pipeline_has_no_alert() -> None:
    runs = [run("2026-02-05-001", NOW - dt.timedelta(hours=1))]
    health = health_section(Control(breakers=(Breaker("pypi"),)), [], runs, [], NOW)
    assert health["alerts"] == [] and health["not_running"] is False


def test_no_run_for_longer_than_the_schedule_allows_is_red() -> None:
    just_in = [run("2026-02-05-001", NOW - NO_RUN_ALLOWANCE)]
    assert health_section(None, [], just_in, [], NOW)["not_running"] is False
    late = [run("2026-02-05-001", NOW - NO_RUN_ALLOWANCE - dt.timedelta(minutes=1))]
    health = health_section(None, [], late, [], NOW)
    assert health["not_running"] is True and codes(health) == [("bad", "no_run")]
    assert health["alerts"][0]["message"].startswith("Nothing has run since 2026-02-05 04:04:00 UTC (5.9 h;")
    never = health_section(None, [], [], [], NOW)
    assert ("bad", "no_run") in codes(never) and never["alerts"][0]["message"].startswith(
        "No run is recorded"
    )


def test_the_allowance_is_the_workflows_schedule_and_job_timeouts() -> None:
    """NO_RUN_ALLOWANCE is derived from batch-generate.yml: an hourly cron and the jobs' timeouts."""
    if not WORKFLOW.is_file():
        pytest.skip(f"{WORKFLOW} is not in this checkout")
    text = WORKFLOW.read_text(encoding="utf-8")
    (cron,) = re.findall(r'cron:\s*"([^"]+)"', text)
    assert cron.split()[1:] == ["*", "*", "*", "*"] and dt.timedelta(hours=1) == RUN_SCHEDULE  # hourly
    timeouts = [int(m) for m in re.findall(r"timeout-minutes:\s*(\d+)", text)]
    assert dt.timedelta(minutes=sum(timeouts)) == LONGEST_RUN
    assert RUN_SCHEDULE + LONGEST_RUN + dt.timedelta(hours=1) == NO_RUN_ALLOWANCE


def test_a_probe_months_overdue_is_red_and_a_fresh_one_is_not() -> None:
    recent = [run("2026-02-05-001", NOW - dt.timedelta(hours=1))]
    control = Control(
        breakers=(
            Breaker("homebrew", "open", 957, half_open_after=NOW - dt.timedelta(days=150)),
            Breaker("npm", "open", 3, half_open_after=NOW - dt.timedelta(hours=2)),  # half-open, due later
            Breaker("cargo", "open", 12, half_open_after=NOW + dt.timedelta(minutes=5)),  # cooling down
        )
    )
    health = health_section(control, [], recent, [], NOW)
    assert health["overdue_probes"] == ["homebrew"]
    assert health["ecosystems"]["npm"]["probe_overdue"] is False
    assert health["ecosystems"]["cargo"]["probe_due_by"] is None
    assert codes(health) == [("bad", "probe_overdue"), ("warn", "breakers")]
    assert health["alerts"][0]["message"].startswith("Probes overdue: homebrew half-open without a probe")
    assert health["alerts"][1]["message"] == "Breakers not closed: cargo (open), npm (half-open)"


def test_an_unreadable_control_file_is_red_and_another_files_problem_is_not() -> None:
    recent = [run("2026-02-05-001", NOW - dt.timedelta(hours=1))]
    elsewhere = (ReadProblem("data/failures/x.jsonl", 3, "expected valid JSON"),)
    assert health_section(None, [], recent, [], NOW, elsewhere)["alerts"] == []
    broken = (ReadProblem("batch-control.json", 1, "expected valid JSON, got Expecting value at column 1"),)
    health = health_section(None, [], recent, [], NOW, broken)
    assert health["control_readable"] is False and codes(health) == [("bad", "control_unreadable")]
    assert "batch-control.json cannot be read (expected valid JSON" in health["alerts"][0]["message"]


def test_a_stop_is_red_and_an_ecosystem_stop_a_warning_each_on_its_line() -> None:
    recent = [run("2026-02-05-001", NOW - dt.timedelta(hours=1))]
    stopped = Control(enabled=False, reason="incident 42", disabled_by="ops")
    assert codes(health_section(stopped, [], recent, [], NOW)) == [("bad", "stopped")]
    # worded by the stages' own rule (recipeline_schema.controlrules.stop_reason)
    assert health_section(stopped, [], recent, [], NOW)["alerts"][0]["message"] == (
        "Emergency stop: pipeline stopped: incident 42 by ops"
    )
    one = Control(disabled_ecosystems=("cargo", "npm"), disabled_reasons={"cargo": "registry outage"})
    health = health_section(one, [], recent, [], NOW)
    assert [a["message"] for a in health["alerts"]] == [
        "Ecosystem cargo stopped: registry outage",
        "Ecosystem npm stopped: no reason given",
    ]


def test_an_unreadable_control_file_on_disk_turns_the_banner_red(repo: Path) -> None:
    (repo / "batch-control.json").write_text('{"enabled": true,', encoding="utf-8")
    doc = build_dashboard(read_repository(repo), NOW)
    assert doc["health"]["alerts"][0]["code"] == "control_unreadable"
    (repo / "batch-control.json").unlink()
    (repo / "batch-control.json").mkdir()  # a directory where the file should be: unreadable too
    assert build_dashboard(read_repository(repo), NOW)["health"]["alerts"][0]["code"] == "control_unreadable"
    (repo / "batch-control.json").rmdir()
    # JSON that parses but breaks the contract: every stage refuses it, so it is unreadable too
    (repo / "batch-control.json").write_text('{"enabled": "yes", "circuit_breaker": {}}', encoding="utf-8")
    health = build_dashboard(read_repository(repo), NOW)["health"]
    assert health["alerts"][0]["code"] == "control_unreadable"
    assert health["control_problem"] == "at $: expected required field(s) ['budget']"  # the contract's words
    (repo / "batch-control.json").unlink()  # a missing file is the default control (enabled)
    assert "control_unreadable" not in {
        a["code"] for a in build_dashboard(read_repository(repo), NOW)["health"]["alerts"]
    }


# --- runs --------------------------------------------------------------------------------


def test_run_keys_are_unique_where_batch_ids_collide() -> None:
    t = dt.datetime(2026, 5, 7, 10, tzinfo=dt.UTC)
    runs = [run("2026-05-07", t), run("2026-05-07", t + dt.timedelta(hours=1)), run("2026-05-08-001", t)]
    runs.append(run("2026-05-07", t + dt.timedelta(hours=1), eco="npm"))  # same id and time
    index = RunIndex(reversed(runs))
    assert index.keys == [
        "2026-05-07@20260507T100000Z",
        "2026-05-08-001",
        "2026-05-07@20260507T110000Z",
        "2026-05-07@20260507T110000Z~2",
    ]


def test_failures_link_to_their_run_by_batch_or_for_tsuku_by_time() -> None:
    t = dt.datetime(2026, 5, 7, 10, tzinfo=dt.UTC)
    runs = [run("2026-05-07", t), run("2026-05-07", t + dt.timedelta(hours=1)), run("2026-05-07-001", t)]
    index = RunIndex(runs)
    # recipeline's record names its batch
    assert index.run_of(failure("pypi:a", t - dt.timedelta(days=3), "2026-05-07-001")) == "2026-05-07-001"
    # of colliding ids, the first run that ended at or after the failure
    assert (
        index.run_of(failure("pypi:a", t + dt.timedelta(minutes=5), "2026-05-07"))
        == "2026-05-07@20260507T110000Z"
    )
    # tsuku's file names no batch: the next run within RUN_LINK_WINDOW, else none
    stem = "npm-2026-05-07T10-57-00Z"
    late = failure("npm:x", t + dt.timedelta(minutes=57), stem, tsuku=True)
    assert index.run_of(late) == "2026-05-07@20260507T110000Z"
    assert index.run_of(failure("npm:x", t - dt.timedelta(hours=3), stem, tsuku=True)) is None
    assert index.run_of(failure("npm:x", t + dt.timedelta(hours=2), stem, tsuku=True)) is None
    # a recipeline batch without a run (its metrics not written) is never guessed
    assert index.run_of(failure("pypi:a", t - dt.timedelta(minutes=3), "2026-05-07-009")) is None


def test_empty_runs_are_folded_between_runs_with_packages() -> None:
    t = dt.datetime(2026, 5, 7, tzinfo=dt.UTC)
    hours = [0, 1, 2, 3, 4, 5]
    totals = [2, 0, 0, 3, 0, 0]
    runs = [
        run(f"2026-05-07-{h:03d}", t + dt.timedelta(hours=h), total=n, merged=0)
        for h, n in zip(hours, totals, strict=True)
    ]
    failures = [failure("npm:x", t + dt.timedelta(hours=4), "2026-05-07-004")]
    listed = runs_section(runs, failures, [])
    assert [r["key"] for r in listed] == ["2026-05-07-003", "2026-05-07-000"]
    empty = empty_runs_section(runs, failures, [])
    assert empty["count"] == 4
    assert [(f["count"], f["first_at"], f["last_at"], f["recorded_failures"]) for f in empty["folds"]] == [
        (2, "2026-05-07T04:00:00Z", "2026-05-07T05:00:00Z", 1),
        (2, "2026-05-07T01:00:00Z", "2026-05-07T02:00:00Z", 0),
    ]
    assert [r["key"] for r in empty["folds"][0]["runs"]] == ["2026-05-07-005", "2026-05-07-004"]


def test_a_day_without_packages_has_no_success_rate() -> None:
    t = dt.datetime(2026, 5, 7, tzinfo=dt.UTC)
    runs = (
        run("2026-05-07-001", t, total=4, merged=1),
        run("2026-05-08-001", t + dt.timedelta(days=1), total=0, merged=0),
    )
    rates = build_dashboard(RepositoryData(runs=runs), NOW)["series"]["success_rate"]["pypi"]
    assert [p["rate"] for p in rates] == [0.25, None]


def test_aliases_are_labelled_and_an_overflowed_retry_is_flagged() -> None:
    def entry(name: str, retry: dt.datetime | None = None) -> Package:
        return Package(
            name=name,
            source="homebrew:go-task",
            ecosystem="homebrew",
            priority=2,
            status="pending",
            next_retry_at=retry,
        )

    packages = (entry("task", dt.datetime(1734, 3, 17, tzinfo=dt.UTC)), entry("go-task", NOW))
    rows = {
        p["name"]: p
        for p in build_dashboard(RepositoryData(packages=packages), NOW)["queue"]["packages"]["pending"]
    }
    assert rows["task"]["aliases"] == ["go-task"] and rows["go-task"]["aliases"] == ["task"]
    assert rows["task"]["next_retry_invalid"] is True and "next_retry_invalid" not in rows["go-task"]


# --- tsuku's whole snapshot ----------------------------------------------------------------

SNAPSHOT_NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)  # five months after its last run


@pytest.fixture(scope="module")
def snapshot_doc(tsuku_snapshot: Path) -> dict[str, Any]:
    doc = build_dashboard(read_repository(tsuku_snapshot), SNAPSHOT_NOW)
    check_document(doc)
    return doc


def test_over_the_snapshot_health_says_nothing_has_run_since_june(snapshot_doc: dict[str, Any]) -> None:
    health = snapshot_doc["health"]
    first = health["alerts"][0]
    assert (first["level"], first["code"]) == ("bad", "no_run")
    assert first["message"].startswith("Nothing has run since 2026-06-26 20:51:08 UTC (157 days;")
    assert health["overdue_probes"] == ["cargo", "github", "homebrew", "npm", "pypi", "rubygems"]
    assert [a["code"] for a in health["alerts"]] == ["no_run", "probe_overdue", "no_merge"]


def test_over_the_snapshot_runs_have_unique_keys_and_empty_ones_are_folded(
    snapshot_doc: dict[str, Any],
) -> None:
    runs, empty = snapshot_doc["runs"], snapshot_doc["empty_runs"]
    folded = [r for fold in empty["folds"] for r in fold["runs"]]
    keys = [r["key"] for r in runs] + [r["key"] for r in folded]
    assert len(keys) == len(set(keys)) == snapshot_doc["health"]["runs_recorded"] == 1710
    assert len({r["batch_id"] for r in runs} | {k.partition("@")[0] for k in keys}) == 128
    assert (len(runs), empty["count"], len(empty["folds"])) == (79, 1631, 29)
    assert all(r["total"] > 0 for r in runs)
    # every failure listed links to a run that exists
    linked = Counter(f["run"] for f in snapshot_doc["failure_details"])
    assert None not in linked and set(linked) <= set(keys)
    assert snapshot_doc["health"]["last_run"]["key"] in keys


def test_over_the_snapshot_aliases_and_the_1734_retries(snapshot_doc: dict[str, Any]) -> None:
    rows = [p for status in snapshot_doc["queue"]["packages"].values() for p in status]
    invalid = sorted(p["source"] for p in rows if p.get("next_retry_invalid"))
    assert invalid == ["npm:azion", "pypi:lib3mf"]
    task = {p["name"]: p.get("aliases") for p in rows if p["source"] == "homebrew:go-task"}
    assert task == {"task": ["go-task"], "go-task": ["task"]}
