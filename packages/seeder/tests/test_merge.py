"""The pure merge: models in, models out; no files, no clock."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from recipeline_schema import Queue, QueueEntry, ordered
from recipeline_seeder import Candidate, merge_candidates


def names(entries: tuple[QueueEntry, ...]) -> list[str]:
    return [e.name for e in entries]


def test_new_candidates_become_pending_auto_entries(empty_queue: Queue, now: dt.datetime) -> None:
    queue, report = merge_candidates(
        empty_queue,
        [Candidate("httpie", "pypi:httpie", 2, 900), Candidate("aider", "pypi:aider-chat")],
        recipe_names=(),
        now=now,
    )
    assert report.changed and not report.skipped and not report.rejected
    assert queue.updated_at == now and queue.ecosystem == "pypi"
    by_name = {e.name: e for e in queue.entries}
    assert by_name["httpie"] == QueueEntry(
        name="httpie",
        source="pypi:httpie",
        priority=2,
        status="pending",
        confidence="auto",
        popularity=900,
        added_at=now,
    )
    # the identifier may differ from the name, and a missing priority is 3
    assert by_name["aider"].source == "pypi:aider-chat"
    assert by_name["aider"].priority == 3
    assert report.added == queue.entries


def test_source_aliases_are_normalized(empty_queue: Queue, now: dt.datetime) -> None:
    queue, _ = merge_candidates(empty_queue, [Candidate("tox", "pip:tox")], recipe_names=(), now=now)
    assert [e.source for e in queue.entries] == ["pypi:tox"]


def test_names_already_queued_are_skipped_case_insensitively(
    empty_queue: Queue, worked_entry: QueueEntry, now: dt.datetime
) -> None:
    queue = dataclasses.replace(empty_queue, entries=(worked_entry,))
    merged, report = merge_candidates(
        queue,
        [Candidate("BLACK", "pypi:black-formatter"), Candidate("black", "pypi:black")],
        recipe_names=(),
        now=now,
    )
    assert merged is queue
    assert not report.added
    assert [s.reason for s in report.skipped] == ["already queued as 'Black' (failed)"] * 2


def test_duplicates_within_one_run_keep_the_first(empty_queue: Queue, now: dt.datetime) -> None:
    merged, report = merge_candidates(
        empty_queue,
        [
            Candidate("Poetry", "pypi:poetry", 1, origin="a.txt:1"),
            Candidate("poetry", "pypi:poetry", 3, origin="b.txt:7"),
            Candidate("poetry-cli", "pypi:POETRY", 2, origin="b.txt:8"),
        ],
        recipe_names=(),
        now=now,
    )
    assert [(e.name, e.priority) for e in merged.entries] == [("Poetry", 1)]
    assert [s.reason for s in report.skipped] == [
        "duplicate of 'Poetry' (a.txt:1)",
        "source 'pypi:POETRY' duplicates 'Poetry' (a.txt:1)",
    ]


def test_a_source_already_queued_under_another_name_is_skipped(
    empty_queue: Queue, worked_entry: QueueEntry, now: dt.datetime
) -> None:
    queue = dataclasses.replace(empty_queue, entries=(worked_entry,))
    merged, report = merge_candidates(queue, [Candidate("blk", "pypi:Black")], recipe_names=(), now=now)
    assert merged is queue
    assert report.skipped[0].reason == "source 'pypi:Black' already queued as 'Black' (failed)"


def test_existing_entries_are_never_touched(
    empty_queue: Queue, worked_entry: QueueEntry, now: dt.datetime
) -> None:
    in_progress = QueueEntry(
        name="tox", source="pypi:tox", priority=3, status="in_progress", batch_id="2026-02-15-001"
    )
    queue = dataclasses.replace(empty_queue, entries=(worked_entry, in_progress))
    merged, report = merge_candidates(
        queue, [Candidate("nox", "pypi:nox", 1), Candidate("tox", "pypi:tox", 1)], recipe_names=(), now=now
    )
    assert names(report.added) == ["nox"]
    kept = [e for e in merged.entries if e.name != "nox"]
    # the very same objects: status, failure_count, next_retry_at, batch_id all as they were
    assert kept[0] is worked_entry and kept[1] is in_progress


def test_names_with_a_recipe_are_skipped(empty_queue: Queue, now: dt.datetime) -> None:
    merged, report = merge_candidates(
        empty_queue,
        [Candidate("HTTPie", "pypi:httpie"), Candidate("tox", "pypi:tox")],
        recipe_names={"httpie", "ripgrep"},
        now=now,
    )
    assert names(merged.entries) == ["tox"]
    assert [(s.candidate.name, s.reason) for s in report.skipped] == [
        ("HTTPie", "already has a recipe in recipes/")
    ]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../etc/passwd", "contains a path separator"),
        ("a/b", "contains a path separator"),
        ("a\\b", "contains a path separator"),
        ("x..y", "contains '..'"),
        ("..", "contains '..'"),
        ("bad\x00name", "control character"),
        ("bell\x07", "control character"),
        ("esc\x1b[31m", "control character"),
        ("del\x7f", "control character"),
        ("two words", "contains whitespace"),
        ("tab\tname", "control character"),
        ("x" * 129, "longer than 128 characters (129)"),
        ("", "non-empty"),
        ("-rf", "expected"),
        ("semi;colon", "expected"),
        ("$(reboot)", "expected"),
    ],
)
def test_hostile_names_are_rejected_with_a_reason(
    empty_queue: Queue, now: dt.datetime, name: str, reason: str
) -> None:
    merged, report = merge_candidates(empty_queue, [Candidate(name, "pypi:ok")], recipe_names=(), now=now)
    assert merged is empty_queue
    assert not report.added and not report.skipped
    (rejected,) = report.rejected
    assert reason in rejected.reason


def test_longest_allowed_name_is_accepted(empty_queue: Queue, now: dt.datetime) -> None:
    merged, report = merge_candidates(empty_queue, [Candidate("x" * 128, "pypi:x")], recipe_names=(), now=now)
    assert not report.rejected and len(merged.entries) == 1


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("pypi:../x", "without '..' segments"),
        ("pypi:a b", "identifier must match"),
        ("pypi:a\x00", "identifier must match"),
        ("pypi", "expected '<ecosystem>:<identifier>'"),
        ("pypi:", "expected '<ecosystem>:<identifier>'"),
        ("cargo:ripgrep", "belongs to ecosystem 'cargo', not to the pypi queue"),
        ("crates.io:ripgrep", "belongs to ecosystem 'cargo'"),
        ("github:owner/repo", "belongs to ecosystem 'github'"),
    ],
)
def test_unsafe_or_foreign_sources_are_rejected(
    empty_queue: Queue, now: dt.datetime, source: str, reason: str
) -> None:
    merged, report = merge_candidates(empty_queue, [Candidate("tool", source)], recipe_names=(), now=now)
    assert merged is empty_queue
    (rejected,) = report.rejected
    assert reason in rejected.reason


@pytest.mark.parametrize(("priority", "popularity"), [(0, None), (4, None), (1, -1)])
def test_out_of_range_priority_or_popularity_is_rejected(
    empty_queue: Queue, now: dt.datetime, priority: int, popularity: int | None
) -> None:
    _, report = merge_candidates(
        empty_queue, [Candidate("tool", "pypi:tool", priority, popularity)], recipe_names=(), now=now
    )
    assert len(report.rejected) == 1 and not report.added


def test_entries_are_in_queue_order(empty_queue: Queue, worked_entry: QueueEntry, now: dt.datetime) -> None:
    queue = dataclasses.replace(empty_queue, entries=(worked_entry,))
    candidates = [
        Candidate("zeta", "pypi:zeta", 3, 10),
        Candidate("alpha", "pypi:alpha", 3, 10),
        Candidate("Beta", "pypi:beta", 3, 10),
        Candidate("popular", "pypi:popular", 3, 1_000),
        Candidate("unknown", "pypi:unknown", 3, None),
        Candidate("critical", "pypi:critical", 1, 1),
        Candidate("tier2", "pypi:tier2", 2, 1),
    ]
    merged, _ = merge_candidates(queue, candidates, recipe_names=(), now=now)
    # priority, then popularity descending (none counts as 0), then name case-insensitively
    assert names(merged.entries) == [
        "critical",
        "Black",
        "tier2",
        "popular",
        "alpha",
        "Beta",
        "zeta",
        "unknown",
    ]
    assert merged.entries == ordered(merged.entries)


def test_limit_keeps_the_best_new_entries(empty_queue: Queue, now: dt.datetime) -> None:
    candidates = [Candidate(f"t{i}", f"pypi:t{i}", 3, i) for i in range(5)]
    merged, report = merge_candidates(empty_queue, candidates, recipe_names=(), now=now, limit=2)
    assert names(merged.entries) == ["t4", "t3"]
    assert sorted(s.candidate.name for s in report.skipped) == ["t0", "t1", "t2"]
    assert {s.reason for s in report.skipped} == {"over the limit of 2 new entries"}


def test_nothing_new_returns_the_same_queue(
    empty_queue: Queue, worked_entry: QueueEntry, now: dt.datetime
) -> None:
    queue = dataclasses.replace(empty_queue, entries=(worked_entry,))
    merged, report = merge_candidates(queue, [], recipe_names=(), now=now)
    assert merged is queue and merged.updated_at == queue.updated_at
    assert not report.changed


def test_merging_twice_adds_nothing_the_second_time(empty_queue: Queue, now: dt.datetime) -> None:
    candidates = [Candidate("tox", "pypi:tox"), Candidate("nox", "pypi:nox", 1)]
    once, _ = merge_candidates(empty_queue, candidates, recipe_names=(), now=now)
    twice, report = merge_candidates(once, candidates, recipe_names=(), now=now + dt.timedelta(hours=1))
    assert twice is once
    assert len(report.skipped) == 2
