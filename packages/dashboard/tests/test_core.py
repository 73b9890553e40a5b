"""The pure core on hand-built normalized records."""

from __future__ import annotations

import datetime as dt
import random

from recipeline_dashboard import (
    Control,
    Dashboard,
    FailureEvent,
    Package,
    RepositoryData,
    Run,
    blockers_section,
    build_dashboard,
    dedupe_failures,
    health_section,
    render,
)
from recipeline_dashboard.core import STATUSES, queue_section
from recipeline_dashboard.model import Breaker, BudgetUse, ReadProblem
from recipeline_dashboard.model import time_text as _time_text
from recipeline_schema import format_time

T0 = dt.datetime(2026, 2, 1, 10, 0, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 2, 5, 10, 0, 0, tzinfo=dt.UTC)


def event(
    package: str,
    minute: int,
    *,
    batch: str = "2026-02-01-001",
    env: str = "linux-debian-glibc-x86_64",
    category: str = "validation_failed",
    sub: str | None = "install_failed",
    blocked_by: tuple[str, ...] = (),
) -> FailureEvent:
    return FailureEvent(
        package=package,
        ecosystem=package.partition(":")[0],
        category=category,
        subcategory=sub,
        message=f"{package} failed",
        timestamp=format_time(T0 + dt.timedelta(minutes=minute)),
        batch_id=batch,
        environments=(env,),
        blocked_by=blocked_by,
    )


def pkg(
    name: str,
    status: str = "pending",
    *,
    eco: str = "pypi",
    priority: int = 2,
    blocked_by: tuple[str, ...] = (),
) -> Package:
    return Package(
        name=name,
        source=f"{eco}:{name}",
        ecosystem=eco,
        priority=priority,
        status=status,
        blocked_by=blocked_by,
    )


def run(batch: str, hours: int, merged: int, total: int = 4, eco: str = "pypi") -> Run:
    return Run(
        batch_id=batch,
        ecosystem=eco,
        ecosystems=(eco,),
        timestamp=T0 + dt.timedelta(hours=hours),
        total=total,
        merged=merged,
    )


def test_a_failure_in_several_environments_of_one_batch_is_one_failure() -> None:
    events = [
        event("pypi:tox", 1, env="linux-debian-glibc-x86_64"),
        event("pypi:tox", 2, env="darwin-arm64"),
        event("pypi:tox", 3, batch="2026-02-02-001"),
        event("pypi:tox", 4, category="api_error", sub="timeout"),
    ]
    merged = dedupe_failures(events)
    assert len(merged) == 3
    first_batch = [f for f in merged if f.batch_id == "2026-02-01-001" and f.category == "validation_failed"]
    assert first_batch[0].environments == ("darwin-arm64", "linux-debian-glibc-x86_64")
    assert first_batch[0].timestamp == "2026-02-01T10:02:00Z"  # the newest of the group
    assert [f.timestamp for f in merged] == [f"2026-02-01T10:0{m}:00Z" for m in (4, 3, 2)]  # newest first


def test_recent_failures_are_the_newest_twenty_in_any_input_order() -> None:
    events = [event(f"pypi:p{i}", i) for i in range(30)]
    shuffled = events[:]
    random.Random(3).shuffle(shuffled)
    a = build_dashboard(RepositoryData(failures=tuple(events)), NOW)
    b = build_dashboard(RepositoryData(failures=tuple(shuffled)), NOW)
    assert a == b
    assert [f["package"] for f in a["recent_failures"]] == [f"pypi:p{i}" for i in range(29, 9, -1)]
    assert a["failures"]["total"] == 30 and len(a["failure_details"]) == 30


def test_failures_of_the_same_second_are_ordered_whatever_order_they_were_read_in() -> None:
    # one run's file gives all its failures one timestamp; two processes read files in any order
    subs = ("install_failed", "verify_pattern_mismatch", None)
    events = [
        event(f"pypi:p{i % 4}", 1, sub=subs[i % 3], env=f"linux-debian-glibc-{('x86_64', 'arm64')[i % 2]}")
        for i in range(24)
    ] + [event("npm:p0", 1), event("pypi:p0", 1, batch="2026-02-01-002")]
    documents = set()
    for seed in range(8):
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)
        documents.add(render(build_dashboard(RepositoryData(failures=tuple(shuffled)), NOW)))
    assert len(documents) == 1
    rows = build_dashboard(RepositoryData(failures=tuple(events)), NOW)["failure_details"]
    assert len(rows) == 14  # 4 packages x 3 subcategories, and 2 more
    assert rows[0]["batch_id"] == "2026-02-01-002"  # then batch, category, subcategory, package
    assert [(r["subcategory"], r["package"]) for r in rows[1:4]] == [
        ("verify_pattern_mismatch", "pypi:p3"),
        ("verify_pattern_mismatch", "pypi:p2"),
        ("verify_pattern_mismatch", "pypi:p1"),
    ]


def test_queue_counts_by_status_tier_and_ecosystem() -> None:
    packages = [pkg("a", priority=1), pkg("b", "failed"), pkg("c", "success", eco="cargo", priority=3)]
    section = queue_section(packages, {"pypi:b": [event("pypi:b", 1)]})
    assert section["total"] == 3
    assert list(section["by_status"]) == list(STATUSES)
    assert section["by_status"]["failed"] == 1 and section["by_status"]["excluded"] == 0
    assert section["by_tier"]["1"]["total"] == 1 and section["by_tier"]["3"]["by_status"]["success"] == 1
    assert section["by_ecosystem"]["cargo"] == {
        "total": 1,
        "by_status": {**dict.fromkeys(STATUSES, 0), "success": 1},
    }
    (b,) = section["packages"]["failed"]
    assert b["last_failures"][0]["message"] == "pypi:b failed"


def test_blockers_are_transitive_and_cut_cycles_and_skip_packages_already_in() -> None:
    packages = [
        pkg("b", "blocked", blocked_by=("a",)),
        pkg("c", "blocked", blocked_by=("b",)),
        pkg("d", "blocked", blocked_by=("c",)),
        pkg("x", "blocked", blocked_by=("y",)),
        pkg("y", "blocked", blocked_by=("x",)),  # a cycle
        pkg("done", "success", blocked_by=("a",)),  # already in: blocked no longer
    ]
    failures = [event("pypi:e", 1, category="missing_dep", sub=None, blocked_by=("a",))]
    rows = {r["dependency"]: r for r in blockers_section(packages, failures)}
    assert rows["a"]["packages"] == ["pypi:b", "pypi:c", "pypi:d", "pypi:e"]
    assert (rows["a"]["count"], rows["a"]["direct"]) == (4, 2)
    assert rows["b"]["count"] == 2
    assert rows["x"]["packages"] == ["pypi:x", "pypi:y"]
    assert blockers_section(packages, failures)[0]["dependency"] == "a"  # most blocked first
    # direct and transitive apart: a blocks b and e itself, c and d only through b
    assert (rows["a"]["direct_packages"], rows["a"]["transitive_packages"]) == (
        ["pypi:b", "pypi:e"],
        ["pypi:c", "pypi:d"],
    )


def test_blockers_come_from_each_packages_current_state_only() -> None:
    """A missing-dependency failure superseded by a later failure of another category no longer
    counts, nor does an older batch's; one of another category at the same second does not
    supersede it."""
    failures = dedupe_failures(
        [
            event("pypi:stale", 1, batch="b1", category="missing_dep", sub=None, blocked_by=("old",)),
            event("pypi:stale", 5, batch="b2"),  # got past its dependency, then failed validation
            event("pypi:moved", 1, batch="b1", category="missing_dep", sub=None, blocked_by=("old",)),
            event("pypi:moved", 5, batch="b2", category="missing_dep", sub=None, blocked_by=("new",)),
            event("pypi:same", 5, batch="b2", category="missing_dep", sub=None, blocked_by=("new",)),
            event("pypi:same", 5, batch="b2", env="darwin-arm64"),
        ]
    )
    rows = {r["dependency"]: r for r in blockers_section([], failures)}
    assert set(rows) == {"new"}
    assert rows["new"]["packages"] == ["pypi:moved", "pypi:same"]
    # the package page says the same
    mine: dict[str, list[FailureEvent]] = {}
    for f in failures:
        mine.setdefault(f.package, []).append(f)
    queue = queue_section([pkg("stale", "failed"), pkg("moved", "failed")], mine)
    stale, moved = sorted(queue["packages"]["failed"], key=lambda r: r["name"], reverse=True)
    assert "blocked_by" not in stale
    assert moved["blocked_by"] == ["new"]


def test_top_blockers_are_ten() -> None:
    packages = [pkg(f"p{i}", "blocked", blocked_by=(f"dep{i}",)) for i in range(15)]
    assert len(blockers_section(packages, [])) == 10


def test_health_reads_breakers_stop_state_staleness_and_budget() -> None:
    control = Control(
        enabled=True,
        disabled_ecosystems=("cargo",),
        disabled_reasons={"cargo": "registry outage"},
        breakers=(Breaker("pypi", "half_open", 10, last_failure=T0), Breaker("cargo")),
        budget=BudgetUse(
            week_start="2026-02-02", macos_used=850, macos_limit=1000, linux_used=10, linux_limit=5000
        ),
    )
    runs = [run("2026-02-01-001", 1, merged=2), run("2026-02-02-001", 30, merged=0)]
    health = health_section(control, [pkg("a", eco="npm")], runs, [], NOW)
    assert health["ecosystems"]["cargo"]["stopped"] is True
    assert health["ecosystems"]["cargo"]["stop_reason"] == "ecosystem cargo stopped: registry outage"
    assert health["ecosystems"]["pypi"]["breaker_state"] == "half_open"
    assert health["ecosystems"]["npm"]["breaker_recorded"] is False
    assert health["open_breakers"] == ["pypi"]
    assert health["last_successful_batch"]["batch_id"] == "2026-02-01-001"
    assert health["runs_since_last_success"] == 1
    assert health["hours_since_recipe_merged"] == 95.0 and health["stale"] is True
    assert health["budget"]["macos"]["percent"] == 85.0 and health["budget"]["macos_state"] == "sampled"


def test_health_applies_the_clock_as_preflight_does() -> None:
    """An open breaker past its cool-down is half-open (what preflight does next), the recorded
    state kept beside it; minutes of an earlier week count as 0 (the budget resets on Monday)."""
    control = Control(
        breakers=(
            Breaker("homebrew", "open", 957, half_open_after=NOW - dt.timedelta(days=150)),
            Breaker("npm", "open", 3, half_open_after=NOW + dt.timedelta(minutes=5)),
        ),
        budget=BudgetUse(week_start="2026-01-19", macos_used=990, macos_limit=1000, linux_limit=5000),
    )
    health = health_section(control, [], [], [], NOW)
    brew, npm = health["ecosystems"]["homebrew"], health["ecosystems"]["npm"]
    assert (brew["breaker_state"], brew["breaker_recorded_state"]) == ("half_open", "open")
    assert (npm["breaker_state"], npm["breaker_recorded_state"]) == ("open", "open")
    assert health["budget"]["macos"] == {"used_minutes": 0.0, "limit_minutes": 1000, "percent": 0.0}
    assert health["budget"]["macos_state"] == "full"


def test_health_with_a_global_stop_and_no_runs() -> None:
    health = health_section(Control(enabled=False, reason="incident 42"), [pkg("a")], [], [], NOW)
    assert (
        health["ecosystems"]["pypi"] | {"stopped": True, "stop_reason": "pipeline stopped: incident 42"}
        == health["ecosystems"]["pypi"]
    )
    assert (
        health["last_run"] is None and health["hours_since_recipe_merged"] is None and health["stale"] is True
    )


def test_series_per_day_and_ecosystem() -> None:
    runs = [
        run("2026-02-01-001", 1, 2),
        run("2026-02-01-002", 2, 1, eco="cargo"),
        run("2026-02-02-001", 25, 4),
    ]
    series = build_dashboard(RepositoryData(runs=tuple(runs)), NOW)["series"]
    assert series["merged_per_day"] == [
        {"date": "2026-02-01", "merged": 3, "total": 8, "runs": 2},
        {"date": "2026-02-02", "merged": 4, "total": 4, "runs": 1},
    ]
    assert [p["rate"] for p in series["success_rate"]["pypi"]] == [0.5, 1.0]


def test_errors_are_counted_and_capped() -> None:
    problems = tuple(ReadProblem("data/failures/x.jsonl", i, "bad") for i in range(150, 0, -1))
    errors = build_dashboard(RepositoryData(problems=problems), NOW)["errors"]
    assert errors["count"] == 150 and len(errors["items"]) == 100
    assert errors["items"][0]["line"] == 1


def test_an_empty_repository() -> None:
    doc = build_dashboard(RepositoryData(), NOW)
    assert doc["queue"]["total"] == 0 and doc["blockers"] == [] and doc["runs"] == []
    assert doc["health"]["control_recorded"] is False


def test_times_are_written_exactly_as_the_schema_package_writes_them() -> None:
    plus_two = dt.timezone(dt.timedelta(hours=2))
    times = [
        dt.datetime(1734, 1, 1, tzinfo=dt.UTC),  # tsuku's retry-overflow year
        dt.datetime(5, 1, 2, 3, 4, 5, tzinfo=dt.UTC),  # a year below 1000 keeps four digits
        dt.datetime(2026, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 1, 1, 1, 1, 500_000, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 1, 12),  # naive: taken as UTC
        dt.datetime(2026, 1, 1, 12, tzinfo=plus_two),
    ]
    assert [_time_text(t) for t in times] == [format_time(t) for t in times]
    assert _time_text(times[5]) == "2026-01-01T10:00:00Z"


def test_package_files_hold_each_packages_whole_history_and_each_cause_once() -> None:
    from recipeline_dashboard.site import package_bucket, package_files

    same = "Collecting x\nrecipe validation failed"
    failures = [
        event("pypi:b", n, batch=f"2026-02-01-{n:03d}")._replace(detail=same if n < 3 else "other")
        for n in range(1, 5)
    ]
    dash = Dashboard(RepositoryData(packages=(pkg("b", "failed"),), failures=tuple(failures)), NOW)
    files = package_files(dash)
    doc = files[package_bucket("pypi:b")]
    entry = doc["entries"]["pypi:b"]
    assert [r["name"] for r in entry["packages"]] == ["b"]
    assert [f["batch_id"] for f in entry["failures"]] == [f"2026-02-01-{n:03d}" for n in (4, 3, 2, 1)]
    assert doc["details"] == ["other", same]  # each whole cause once, rows name it by index
    assert [f["detail"] for f in entry["failures"]] == [0, 0, 1, 1]
    assert files[package_bucket("b")]["entries"]["b"] == {"see": ["pypi:b"]}  # a name points to its source
