"""Reading tsuku's data layout: our own fixture in that layout, tsuku's upstream test data and its
real production data (``../shared/fixtures/tsuku``, skipped when absent)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from recipeline_dashboard import build_dashboard, read_repository

NOW = dt.datetime(2026, 8, 15, tzinfo=dt.UTC)
SHARED = Path(__file__).resolve().parents[3].parent / "shared"
TSUKU = SHARED / "fixtures" / "tsuku"
needs_tsuku = pytest.mark.skipif(not TSUKU.is_dir(), reason=f"tsuku fixtures not present at {TSUKU}")


def build(root: Path) -> dict[str, Any]:
    return build_dashboard(read_repository(root), NOW)


def test_own_tsuku_layout_queue_and_failures(tsuku_repo: Path) -> None:
    doc = build(tsuku_repo)
    assert doc["layouts"] == ["tsuku"]
    queue = doc["queue"]
    assert queue["total"] == 5  # the legacy homebrew file is superseded by the unified queue
    assert queue["by_status"]["blocked"] == 2 and queue["by_status"]["success"] == 1
    assert queue["by_tier"]["1"]["total"] == 3
    assert queue["by_ecosystem"]["cargo"]["total"] == 1  # crates.io: mapped to cargo

    failures = doc["failures"]
    # tsuku's raw figure: every failures[] item and every per-recipe line, as spelled
    assert failures["by_legacy_category"] == {
        "missing_dep": 1,
        "recipe_not_found": 1,
        "generation_failed": 1,
        "deterministic": 3,
        "success": 1,
    }
    # deduplicated: watchexec's three platform lines of one batch are one failure
    assert failures["total"] == 4
    assert failures["by_category"] == {
        "missing_dep": 2,
        "deterministic_insufficient": 2,
        "validation_failed": 0,
        "api_error": 0,
    }
    assert failures["by_subcategory"]["deterministic_insufficient"] == {
        "archive_extraction_failed": 1,
        "unspecified": 1,
    }
    (watchexec,) = [f for f in doc["failure_details"] if f["name"] == "watchexec"]
    assert watchexec["package"] == "cargo:watchexec"  # bare recipe name resolved through the queue
    assert watchexec["environments"] == [
        "linux-alpine-musl-arm64",
        "linux-alpine-musl-x86_64",
        "linux-debian-glibc-x86_64",
    ]
    assert watchexec["batch_id"] == "batch-2026-02-18T14-01-11Z"
    assert watchexec["legacy_category"] == "deterministic"
    (ffmpeg,) = [f for f in doc["failure_details"] if f["name"] == "ffmpeg"]
    assert ffmpeg["message"] == "Error: registry: recipe node not found in registry"  # banner dropped
    assert (ffmpeg["category"], ffmpeg["legacy_category"]) == ("missing_dep", "recipe_not_found")


def test_own_tsuku_layout_malformed_lines_are_counted(tsuku_repo: Path) -> None:
    errors = build(tsuku_repo)["errors"]
    assert errors["by_file"] == {
        "data/failures/homebrew-2026-02-07T03-03-36Z.jsonl": 1,
        "data/failures/batch-2026-02-18T14-01-11Z.jsonl": 2,
    }
    messages = [(e["line"], e["message"]) for e in errors["items"]]
    assert (2, "expected valid JSON, got Expecting value at column 1") in messages
    assert (4, "at $.category: expected a failure category, got 'success'") in messages


def test_own_tsuku_layout_blockers_are_transitive(tsuku_repo: Path) -> None:
    blockers = {b["dependency"]: b for b in build(tsuku_repo)["blockers"]}
    # ada-url blocks node, and node blocks ffmpeg
    assert blockers["ada-url"]["packages"] == ["homebrew:ffmpeg", "homebrew:node"]
    assert (blockers["ada-url"]["count"], blockers["ada-url"]["direct"]) == (2, 1)
    assert blockers["node"]["packages"] == ["homebrew:ffmpeg"]


def test_own_tsuku_layout_metrics_health_and_curated(tsuku_repo: Path) -> None:
    doc = build(tsuku_repo)
    runs = doc["runs"]
    assert [r["batch_id"] for r in runs] == ["2026-03-11", "2026-02-04-homebrew", "2026-02-03-homebrew"]
    assert runs[0]["ecosystem"] == "mixed" and runs[0]["ecosystems"] == ["cargo", "homebrew"]
    # the newest run had no package: folded, not listed
    (fold,) = doc["empty_runs"]["folds"]
    assert fold["count"] == 1 and [r["key"] for r in fold["runs"]] == ["2026-06-26"]
    health = doc["health"]
    assert health["last_successful_batch"] == {
        "key": "2026-03-11",
        "batch_id": "2026-03-11",
        "ecosystem": "mixed",
        "recipes_merged": 1,
        "timestamp": "2026-03-11T21:36:10Z",
    }
    assert health["runs_since_last_success"] == 1
    assert health["hours_since_recipe_merged"] == pytest.approx(
        (NOW - dt.datetime(2026, 3, 11, 21, 36, 10, tzinfo=dt.UTC)).total_seconds() / 3600, abs=0.05
    )
    assert health["stale"] is True
    homebrew = health["ecosystems"]["homebrew"]
    # recorded open with its cool-down long past: half-open now, as preflight treats it
    assert (homebrew["breaker_recorded_state"], homebrew["consecutive_failures"]) == ("open", 957)
    assert homebrew["breaker_state"] == "half_open"
    assert homebrew["half_open_after"] == "2026-06-26T21:51:01Z"
    assert "default" not in health["ecosystems"]
    assert health["open_breakers"] == ["homebrew"]
    assert health["budget"]["macos"] == {"used_minutes": 0.0, "limit_minutes": None, "percent": None}
    curated = doc["disambiguations"]
    assert (curated["total"], curated["need_review"]) == (2, 1)
    assert curated["by_reason"] == {"curated": 1, "10x_popularity_gap": 1}


def test_the_retry_overflow_date_is_shown_as_written(tsuku_repo: Path) -> None:
    (watchexec,) = build(tsuku_repo)["queue"]["packages"]["failed"]
    assert watchexec["next_retry_at"] == "1734-01-01T00:00:00Z"


# --- tsuku's upstream test data (internal/dashboard/testdata) --------------------------------


@needs_tsuku
def test_upstream_testdata_gives_queue_analytics_figures(tmp_path: Path) -> None:
    """queue-analytics' own tests: glib blocks 2, gmp 2, pcre2 1; categories counted per line item."""
    src = TSUKU / "upstream-testdata"
    data = tmp_path / "data"
    (data / "queues").mkdir(parents=True)
    (data / "failures").mkdir()
    (data / "metrics").mkdir()
    shutil.copy(src / "priority-queue.json", data / "queues" / "priority-queue.json")
    shutil.copy(src / "failures.jsonl", data / "failures" / "failures.jsonl")
    shutil.copy(src / "malformed.jsonl", data / "failures" / "malformed.jsonl")
    shutil.copy(src / "batch-runs.jsonl", data / "metrics" / "batch-runs.jsonl")
    shutil.copy(src / "batch-control.json", tmp_path / "batch-control.json")
    doc = build(tmp_path)
    assert doc["queue"]["total"] == 6
    assert {k: v for k, v in doc["queue"]["by_status"].items() if v} == {
        "success": 2,
        "pending": 2,
        "failed": 1,
        "blocked": 1,
    }
    blockers = {b["dependency"]: (b["count"], b["packages"]) for b in doc["blockers"]}
    assert blockers == {
        "glib": (2, ["ffmpeg", "imagemagick"]),
        "gmp": (2, ["coreutils", "imagemagick"]),
        "pcre2": (1, ["cargo:ripgrep"]),
    }
    raw = doc["failures"]["by_legacy_category"]
    assert raw == {"missing_dep": 4, "validation_failed": 2, "api_error": 2, "success": 1}
    errors = [(e["file"], e["line"]) for e in doc["errors"]["items"]]
    assert ("data/failures/malformed.jsonl", 2) in errors and ("data/failures/malformed.jsonl", 4) in errors
    assert [r["batch_id"] for r in doc["runs"]] == [
        "2026-02-01-homebrew",
        "2026-01-31-homebrew",
        "2026-01-30-homebrew",
    ]
    assert [r["success_rate"] for r in doc["runs"]] == [round(10 / 15, 4), round(8 / 12, 4), 0.6]
    health = doc["health"]["ecosystems"]
    npm = health["npm"]
    assert (npm["breaker_recorded_state"], npm["breaker_state"], npm["consecutive_failures"]) == (
        "open",
        "half_open",  # its cool-down ended before NOW
        3,
    )


# --- tsuku's production data -------------------------------------------------------------------


def _queue_analytics_figures(root: Path) -> dict[str, Any]:
    """What tsuku's queue-analytics computes, re-derived here from the raw files independently:
    totals by status and tier over the unified queue, and per-category counts of every failures[]
    item and every per-recipe line."""
    entries = json.loads((root / "data/queues/priority-queue.json").read_text())["entries"]
    categories: Counter[str] = Counter()
    for path in (root / "data/failures").glob("*.jsonl"):
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            for failure in record.get("failures") or ():
                categories[failure["category"]] += 1
            if record.get("recipe") and record.get("category"):
                categories[record["category"]] += 1
    return {
        "total": len(entries),
        "by_status": Counter(e["status"] for e in entries),
        "by_tier": Counter(e["priority"] for e in entries),
        "categories": categories,
    }


@needs_tsuku
def test_real_data_matches_queue_analytics() -> None:
    expected = _queue_analytics_figures(TSUKU)
    doc = build(TSUKU)
    queue = doc["queue"]
    assert queue["total"] == expected["total"] == 5305
    assert {k: v for k, v in queue["by_status"].items() if v} == dict(expected["by_status"])
    assert {int(t): v["total"] for t, v in queue["by_tier"].items()} == dict(expected["by_tier"])
    assert doc["failures"]["by_legacy_category"] == dict(expected["categories"])
    assert doc["errors"]["count"] == 0


@needs_tsuku
def test_real_data_health_and_failures() -> None:
    doc = build(TSUKU)
    health = doc["health"]
    assert set(health["open_breakers"]) == {"cargo", "github", "homebrew", "npm", "pypi", "rubygems"}
    assert health["ecosystems"]["cargo"]["consecutive_failures"] == 993  # crates.io mapped to cargo
    assert health["last_successful_batch"]["batch_id"] == "2026-05-07"
    assert len(doc["recent_failures"]) == 20
    assert all("\n" not in f["message"] and len(f["message"]) <= 500 for f in doc["failure_details"])
    assert all("Skipping recipe review" not in f["message"] for f in doc["failure_details"])
    # a progress tick is never the cause (issue 14: "ok: patchelf@0.18.0")
    assert not any(f["message"].startswith(("ok:", "✅")) for f in doc["failure_details"])
    node = next(p for p in doc["queue"]["packages"]["blocked"] if p["source"] == "homebrew:node")
    assert node["blocked_by"] == ["ada-url"]
    assert doc["disambiguations"]["total"] == 20


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("2026-02-08T02:33:27Z", "2026-02-08T02:33:27Z"),  # already canonical: kept as written
        ("2026-02-08T02-33-27Z", "2026-02-08T02:33:27Z"),  # tsuku's hyphenated updated_at
        ("2026-02-08T03:33:27.123456789+01:00", "2026-02-08T02:33:27Z"),  # nanoseconds, offset
        ("2026-W06-1T02:33:27Z", "2026-02-02T02:33:27Z"),  # an ISO week date
        ("2026-02-30T02:33:27Z", None),  # the canonical form, not a real day
        ("2026-13-08T02:33:27Z", None),
        ("2026-02-08", None),  # a date is not a time
    ],
)
def test_failure_times_are_normalized_and_checked(tsuku_repo: Path, written: str, kept: str | None) -> None:
    """A failure's time is written in UTC to the second; an item with no time is one problem."""
    record = {
        "schema_version": 1,
        "ecosystem": "homebrew",
        "environment": "linux-glibc-x86_64",
        "failures": [
            {
                "package_id": "homebrew:clock",
                "category": "validation_failed",
                "message": "Error: x",
                "timestamp": written,
            }
        ],
    }
    name = "data/failures/homebrew-2026-02-10T00-00-00Z.jsonl"
    (tsuku_repo / name).write_text(json.dumps(record) + "\n", encoding="utf-8")
    doc = build(tsuku_repo)
    times = [f["timestamp"] for f in doc["failure_details"] if f["package"] == "homebrew:clock"]
    problem = {
        "file": name,
        "line": 1,
        "message": f"at $.failures[0].timestamp: expected a time, got {written!r}",
    }
    if kept is None:
        assert times == [] and problem in doc["errors"]["items"]
    else:
        assert times == [kept] and problem not in doc["errors"]["items"]


def test_a_file_that_cannot_be_read_is_one_problem(tsuku_repo: Path) -> None:
    (tsuku_repo / "data" / "failures" / "homebrew-2026-02-09T00-00-00Z.jsonl").mkdir()
    (tsuku_repo / "data" / "metrics" / "batch-runs-2026-02-09T00-00-00Z.jsonl").mkdir()
    doc = build(tsuku_repo)
    problems = [e for e in doc["errors"]["items"] if "readable" in e["message"]]
    assert problems == [
        {
            "file": "data/failures/homebrew-2026-02-09T00-00-00Z.jsonl",
            "line": None,
            "message": "expected a readable file, got Is a directory",
        },
        {
            "file": "data/metrics/batch-runs-2026-02-09T00-00-00Z.jsonl",
            "line": None,
            "message": "expected a readable file, got Is a directory",
        },
    ]
    assert doc["failures"]["raw_total"] > 0 and doc["runs"], "the other files are read"


def test_a_failure_keeps_its_whole_cause_beside_its_line(tsuku_repo: Path, repo: Path) -> None:
    """tsuku's raw message becomes ``cause_text`` (banner and progress dropped, every cause line
    kept); recipeline's record gives its ``Failure.detail``, or its message when it has none."""
    from recipeline_schema import Failure, FailureRecord, Layout, write_jsonl
    from recipeline_schema.cause import cause_text

    t0 = dt.datetime(2026, 2, 3, tzinfo=dt.UTC)

    events = {f.package: f for f in read_repository(tsuku_repo).failures}
    bdw = events["homebrew:bdw-gc"]
    assert bdw.message.startswith("deterministic generation failed: [complex_archive]")
    assert bdw.detail.splitlines() == [
        "Inspecting bottle contents... failed",
        "deterministic generation failed: [complex_archive] formula bdw-gc bottle contains no binaries"
        " in bin/",
    ]
    assert "tsuku collects" not in bdw.detail.lower()
    assert events["homebrew:node"].detail == cause_text(
        "Error: registry: recipe ada-url not found in registry\n\nSuggestion: x"
    )
    watch = next(f for f in events.values() if f.exit_code == 6)
    assert watch.detail == watch.message == "exit code 6 (deterministic)"

    one = Failure.create("pypi:one", "api_error", "timeout", "pypi:one failed", timestamp=t0)
    raw = "Collecting x\nrecipe validation failed\nhomepage must be https\n"
    two = Failure.create("pypi:two", "validation_failed", None, raw, timestamp=t0)
    record = FailureRecord(
        schema_version=1,
        ecosystem="pypi",
        environment="linux-debian-glibc-x86_64",
        batch_id="2026-02-03-001",
        updated_at=t0,
        failures=(one, two),
    )
    write_jsonl([record], Layout(repo).failures_dir / "pypi-2026-02-03T00-00-00Z.jsonl")
    mine = {f.package: f for f in read_repository(repo).failures}
    assert mine["pypi:one"].detail == mine["pypi:one"].message == "pypi:one failed"
    assert mine["pypi:two"].message == "recipe validation failed: homepage must be https"
    assert mine["pypi:two"].detail == "recipe validation failed\nhomepage must be https"
