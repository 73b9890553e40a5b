"""The pure core on hand-built models: no files, no clock."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from recipeline_dashboard import ReadProblem, build_dashboard, render
from recipeline_dashboard.core import MAX_LISTED_ERRORS, STATUSES
from recipeline_schema import CATEGORIES, FailureRecord, MetricsLine, Queue

MakeRecord = Callable[..., FailureRecord]
MakeMetrics = Callable[..., MetricsLine]


def test_statuses_are_the_contracts() -> None:
    assert set(STATUSES) == {
        "pending",
        "in_progress",
        "success",
        "failed",
        "blocked",
        "requires_manual",
        "excluded",
        "skipped",
    }


def test_queue_counts(pypi_queue: Queue, cargo_queue: Queue, now: dt.datetime) -> None:
    queue = build_dashboard([pypi_queue, cargo_queue], [], [], now)["queue"]
    assert queue["total"] == 7
    assert queue["by_status"] == {
        "pending": 3,
        "in_progress": 1,
        "success": 1,
        "failed": 1,
        "blocked": 1,
        "requires_manual": 0,
        "excluded": 0,
        "skipped": 0,
    }
    assert queue["by_tier"] == {"1": 3, "2": 3, "3": 1}
    assert queue["by_ecosystem"]["pypi"]["total"] == 5
    assert queue["by_ecosystem"]["pypi"]["by_status"]["pending"] == 2
    assert queue["by_ecosystem"]["cargo"] == {
        "total": 2,
        "by_status": dict.fromkeys(STATUSES, 0) | {"pending": 1, "blocked": 1},
    }
    assert set(queue["by_ecosystem"]) == {"pypi", "cargo"}


def test_packages_by_status_in_queue_order(pypi_queue: Queue, cargo_queue: Queue, now: dt.datetime) -> None:
    packages = build_dashboard([pypi_queue, cargo_queue], [], [], now)["queue"]["packages"]
    assert set(packages) == set(STATUSES)
    # priority, popularity descending, name — across ecosystems
    assert [p["name"] for p in packages["pending"]] == ["ripgrep", "black", "tox"]
    assert packages["failed"] == [
        {
            "name": "httpie",
            "source": "pypi:httpie",
            "priority": 2,
            "failure_count": 3,
            "next_retry_at": "2026-02-01T18:00:00Z",
        }
    ]
    assert packages["excluded"] == []


def test_failure_counts(make_record: MakeRecord, now: dt.datetime) -> None:
    records = [
        make_record(
            "pypi",
            "2026-02-01-001",
            [
                ("pypi:tox", "validation_failed", "install_failed", 1),
                ("pypi:nox", "validation_failed", None, 2),
                ("pypi:black", "api_error", "timeout", 3),
            ],
        ),
        make_record("cargo", "2026-02-01-002", [("cargo:bat", "missing_dep", None, 4)]),
        make_record(
            "pypi",
            "2026-02-01-001",
            [("pypi:tox", "validation_failed", "install_failed", 5)],
            environment="darwin-arm64",
        ),
    ]
    failures = build_dashboard([], records, [], now)["failures"]
    assert failures["total"] == 5
    assert failures["by_category"] == dict.fromkeys(CATEGORIES, 0) | {
        "validation_failed": 3,
        "api_error": 1,
        "missing_dep": 1,
    }
    assert failures["by_subcategory"] == {
        "validation_failed": {"install_failed": 2, "unspecified": 1},
        "api_error": {"timeout": 1},
        "missing_dep": {"unspecified": 1},
    }
    assert failures["by_ecosystem"] == {"pypi": 4, "cargo": 1}


def test_recent_failures_are_the_newest_twenty(make_record: MakeRecord, now: dt.datetime) -> None:
    records = [
        make_record(
            "pypi",
            "2026-02-01-001",
            [(f"pypi:p{i}", "api_error", "rate_limited", i) for i in range(0, 30, 2)],
        ),
        make_record(
            "npm",
            "2026-02-01-002",
            [(f"npm:n{i}", "validation_failed", None, i) for i in range(1, 30, 2)],
            environment="linux-alpine-musl-x86_64",
        ),
    ]
    recent = build_dashboard([], records, [], now)["recent_failures"]
    assert len(recent) == 20
    assert [r["package"] for r in recent[:3]] == ["npm:n29", "pypi:p28", "npm:n27"]
    assert recent[-1]["package"] == "pypi:p10"
    assert recent[0] == {
        "package": "npm:n29",
        "ecosystem": "npm",
        "category": "validation_failed",
        "subcategory": None,
        "message": "npm:n29 failed: validation_failed",
        "timestamp": "2026-02-01T10:29:00Z",
        "batch_id": "2026-02-01-002",
        "environment": "linux-alpine-musl-x86_64",
    }
    times = [r["timestamp"] for r in recent]
    assert times == sorted(times, reverse=True)


def test_runs_newest_first(make_metrics: MakeMetrics, now: dt.datetime) -> None:
    lines = [
        make_metrics("2026-02-01-001", "pypi", 1),
        make_metrics("2026-02-01-003", "npm", 5),
        make_metrics("2026-02-01-002", "cargo", 3, merged=2),
    ]
    runs = build_dashboard([], [], lines, now)["runs"]
    assert [r["batch_id"] for r in runs] == ["2026-02-01-003", "2026-02-01-002", "2026-02-01-001"]
    assert runs[1]["merged"] == 2 and runs[1]["success_rate"] == 1.0
    assert runs[0]["timestamp"] == "2026-02-01T15:00:00Z"


def test_errors_are_counted_and_listed(now: dt.datetime) -> None:
    problems = [
        ReadProblem("data/failures/b.jsonl", 7, "bad"),
        ReadProblem("data/failures/a.jsonl", 2, "worse"),
        ReadProblem("data/queues/priority-queue-npm.json", None, "broken"),
    ]
    errors = build_dashboard([], [], [], now, problems=problems)["errors"]
    assert errors == {
        "count": 3,
        "by_file": {
            "data/failures/a.jsonl": 1,
            "data/failures/b.jsonl": 1,
            "data/queues/priority-queue-npm.json": 1,
        },
        "items": [
            {"file": "data/failures/a.jsonl", "line": 2, "message": "worse"},
            {"file": "data/failures/b.jsonl", "line": 7, "message": "bad"},
            {"file": "data/queues/priority-queue-npm.json", "line": None, "message": "broken"},
        ],
    }
    many = [ReadProblem("data/failures/x.jsonl", i, "bad") for i in range(1, 251)]
    errors = build_dashboard([], [], [], now, problems=many)["errors"]
    assert errors["count"] == 250 and len(errors["items"]) == MAX_LISTED_ERRORS
    assert errors["by_file"] == {"data/failures/x.jsonl": 250}


def test_empty_repository(now: dt.datetime) -> None:
    doc = build_dashboard([], [], [], now)
    assert doc["generated_at"] == "2026-02-15T12:00:00Z"
    assert doc["queue"]["total"] == 0 and doc["queue"]["by_ecosystem"] == {}
    assert doc["failures"]["total"] == 0 and doc["recent_failures"] == [] and doc["runs"] == []
    assert doc["errors"] == {"count": 0, "by_file": {}, "items": []}


def test_input_order_never_shows(
    pypi_queue: Queue,
    cargo_queue: Queue,
    make_record: MakeRecord,
    make_metrics: MakeMetrics,
    now: dt.datetime,
) -> None:
    records = [
        make_record(
            "pypi", "2026-02-01-001", [("pypi:a", "api_error", None, 1), ("pypi:b", "api_error", None, 1)]
        ),
        make_record("pypi", "2026-02-01-001", [("pypi:a", "api_error", None, 1)], environment="darwin-arm64"),
        make_record("npm", "2026-02-01-002", [("npm:c", "missing_dep", None, 1)]),
    ]
    metrics = [make_metrics("2026-02-01-001", "pypi", 1), make_metrics("2026-02-01-002", "npm", 1)]
    problems = [ReadProblem("f", 1, "x"), ReadProblem("f", 1, "w"), ReadProblem("e", None, "y")]
    expected = render(build_dashboard([pypi_queue, cargo_queue], records, metrics, now, problems=problems))
    rng = random.Random(7)
    for _ in range(10):
        queues = rng.sample([pypi_queue, cargo_queue], 2)
        got = render(
            build_dashboard(
                queues,
                rng.sample(records, len(records)),
                rng.sample(metrics, len(metrics)),
                now,
                problems=rng.sample(problems, len(problems)),
            )
        )
        assert got == expected
