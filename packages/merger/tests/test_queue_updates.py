"""Queue updates after a merge decision and reconcile (pure)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING

import pytest

from recipeline_merger import MergeDecision, QueueMismatchError, apply_decision, decide, reconcile_queue
from recipeline_schema import Queue, QueueEntry, select_batch

if TYPE_CHECKING:
    from .conftest import Make

BATCH = "2026-01-29-001"
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def decided(make: Make) -> tuple[Queue, MergeDecision]:
    """A queue with six entries in batch BATCH, and a decision with one of each outcome."""
    f = make.failure
    names = ["ok", "bad", "flaky", "dep", "routed", "other"]
    queue = make.queue(
        [
            make.entry(n, status="in_progress", batch_id=BATCH, failure_count=2 if n == "bad" else 0)
            for n in names[:5]
        ]
        + [make.entry("other", status="pending")]
    )
    plan = make.plan([(n, f"cargo:{n}") for n in names[:5]])
    generation = make.generation(
        [
            make.generated("ok", "cargo:ok"),
            make.generated("bad", "cargo:bad"),
            make.generated(
                "flaky", "cargo:flaky", "failed", failure=f("cargo:flaky", "api_error", "timeout", "slow")
            ),
            make.generated(
                "dep",
                "cargo:dep",
                "failed",
                failure=f("cargo:dep", "missing_dep", None, "x", blocked_by=("zlib",)),
            ),
            make.generated("routed", "cargo:routed", "skipped", reason="unsupported source"),
        ]
    )
    reports = [
        make.report(
            make.linux,
            [make.result("ok", "cargo:ok"), make.result("bad", "cargo:bad", "fail", failure=f("cargo:bad"))],
        )
    ]
    return queue, decide(plan, generation, reports)


def entries(queue: Queue) -> dict[str, QueueEntry]:
    return {e.name: e for e in queue.entries}


def test_each_outcome_updates_its_entry(decided: tuple[Queue, MergeDecision], make: Make) -> None:
    queue, decision = decided
    later = make.now + HOUR
    e = entries(apply_decision(queue, decision, now=later))
    assert (e["ok"].status, e["ok"].batch_id) == ("in_progress", BATCH)  # until reconcile sees it on main
    assert (e["bad"].status, e["bad"].failure_count) == ("failed", 3)
    assert e["bad"].next_retry_at == later + 4 * HOUR
    assert "install_failed" in e["bad"].reason
    assert (e["flaky"].status, e["flaky"].failure_count, e["flaky"].next_retry_at) == (
        "failed",
        1,
        later + HOUR,
    )
    assert (e["dep"].status, e["dep"].blocked_by, e["dep"].failure_count) == ("blocked", ("zlib",), 0)
    assert (e["routed"].status, e["routed"].reason) == ("skipped", "unsupported source")
    assert e["other"] == entries(queue)["other"]
    for name in ("bad", "flaky", "dep", "routed"):
        assert e[name].batch_id == BATCH  # the last batch that tried it, for the dashboard


def test_applying_twice_changes_nothing_more(decided: tuple[Queue, MergeDecision], make: Make) -> None:
    queue, decision = decided
    once = apply_decision(queue, decision, now=make.now)
    assert apply_decision(once, decision, now=make.now + HOUR) is once


def test_entries_of_another_batch_are_left_alone(decided: tuple[Queue, MergeDecision], make: Make) -> None:
    queue, decision = decided
    moved = make.queue(
        [dataclasses.replace(e, batch_id="2026-01-29-002") if e.name == "bad" else e for e in queue.entries]
    )
    assert entries(apply_decision(moved, decision, now=make.now))["bad"].status == "in_progress"


def test_a_planned_package_missing_from_the_queue_is_an_error(
    decided: tuple[Queue, MergeDecision], make: Make
) -> None:
    queue, decision = decided
    short = make.queue([e for e in queue.entries if e.name != "bad"])
    with pytest.raises(QueueMismatchError, match=r"no entries \['cargo:bad'\]"):
        apply_decision(short, decision, now=make.now)


def test_updates_are_keyed_by_source_not_name(make: Make) -> None:
    # two entries share a name across sources: only the planned source is touched (§12.3)
    queue = make.queue(
        [
            make.entry("hub", "cargo:hub-cli", status="in_progress", batch_id=BATCH),
            make.entry("hub", "cargo:hub", status="in_progress", batch_id=BATCH),
        ]
    )
    plan = make.plan([("hub", "cargo:hub-cli")])
    generation = make.generation([make.generated("hub", "cargo:hub-cli", "skipped", reason="routed")])
    updated = apply_decision(queue, decide(plan, generation, []), now=make.now)
    status = {e.source: e.status for e in updated.entries}
    assert status == {"cargo:hub-cli": "skipped", "cargo:hub": "in_progress"}


def test_reconcile_marks_recipes_on_the_branch_and_requeues_vanished_batches(make: Make) -> None:
    queue = make.queue(
        [
            make.entry("ok", status="in_progress", batch_id=BATCH),
            make.entry("gone", status="in_progress", batch_id="2026-01-28-003"),
            make.entry("live", status="in_progress", batch_id="2026-01-29-002"),
            make.entry("old", status="failed", failure_count=4, next_retry_at=make.now + HOUR),
            make.entry("dots..name", status="pending"),
        ]
    )
    updated, counts = reconcile_queue(
        queue,
        on_default_branch={"recipes/o/ok.toml", "recipes/o/old.toml"},
        live_batches={BATCH, "2026-01-29-002"},
        now=make.now,
    )
    e = entries(updated)
    assert (e["ok"].status, e["ok"].batch_id) == ("success", BATCH)
    assert (e["old"].status, e["old"].next_retry_at) == ("success", None)
    assert (e["gone"].status, e["gone"].batch_id) == ("pending", None)
    assert e["live"].status == "in_progress" and e["dots..name"].status == "pending"
    assert (counts.success, counts.requeued) == (2, 1)
    again, none = reconcile_queue(
        updated, on_default_branch={"recipes/o/ok.toml"}, live_batches={"2026-01-29-002"}, now=make.now
    )
    assert again is updated and (none.success, none.requeued) == (0, 0)


def test_blocked_entries_return_to_pending_once_every_dependency_has_a_recipe(make: Make) -> None:
    queue = make.queue(
        [
            make.entry("magick", status="blocked", blocked_by=("libpng", "libjpeg")),
            make.entry("half", status="blocked", blocked_by=("libpng", "zlib")),
            make.entry("unnamed", status="blocked", blocked_by=()),
        ]
    )
    on_branch = {"recipes/l/libpng.toml", "recipes/l/libjpeg.toml"}
    updated, counts = reconcile_queue(queue, on_default_branch=on_branch, live_batches=(), now=make.now)
    e = entries(updated)
    assert (e["magick"].status, e["magick"].blocked_by) == ("pending", ())
    assert "libpng" in e["magick"].reason
    assert e["half"].status == "blocked" and e["unnamed"].status == "blocked"
    assert counts.unblocked == 1


def test_an_entry_whose_pr_was_closed_fails_with_backoff_and_a_dead_batch_s_returns_to_pending(
    make: Make,
) -> None:
    queue = make.queue(
        [
            make.entry("turned-down", status="in_progress", batch_id=BATCH, failure_count=1),
            make.entry("landed", status="in_progress", batch_id=BATCH),
            make.entry("orphan", status="in_progress", batch_id="2026-01-28-009"),
        ]
    )
    closed = {(BATCH, "cargo:turned-down"): "PR #3 closed", (BATCH, "cargo:landed"): "PR #3 closed"}
    updated, counts = reconcile_queue(
        queue,
        on_default_branch={"recipes/l/landed.toml"},  # on main after all: success wins
        live_batches={BATCH},
        now=make.now,
        closed=closed,
    )
    e = entries(updated)
    assert (e["turned-down"].status, e["turned-down"].failure_count) == ("failed", 2)
    assert e["turned-down"].next_retry_at == make.now + 2 * HOUR and e["turned-down"].reason == "PR #3 closed"
    assert e["landed"].status == "success"
    assert (e["orphan"].status, e["orphan"].batch_id) == ("pending", None)
    assert "batch 2026-01-28-009 ended before it was merged" in e["orphan"].reason
    assert (counts.success, counts.pr_closed, counts.requeued) == (1, 1, 1)


# --- retry by cause: a permanent failure waits for another version of the stage that decided it


def test_a_permanent_failure_waits_for_its_producer_and_a_new_version_releases_exactly_those(
    make: Make,
) -> None:
    gen, val = "recipeline-generator 0.3.1", "recipeline-validator 0.2.0"
    f = make.failure
    names = ["lib", "verify", "flaky", "gone", "legacy"]
    queue = make.queue(
        [make.entry(n, status="in_progress", batch_id=BATCH) for n in names] + [make.entry("idle")]
    )
    plan = make.plan([(n, f"cargo:{n}") for n in names])
    failures = {
        "lib": dataclasses.replace(
            f("cargo:lib", "deterministic_insufficient", "library_only", "no bin"), producer=gen
        ),
        "flaky": dataclasses.replace(f("cargo:flaky", "api_error", "timeout", "slow"), producer=gen),
        "gone": dataclasses.replace(f("cargo:gone", "api_error", "not_found", "HTTP 404"), producer=gen),
        "legacy": f("cargo:legacy", "deterministic_insufficient", "no_bottle", "tsuku said so"),
    }
    generation = make.generation(
        [make.generated("verify", "cargo:verify")]
        + [make.generated(n, f"cargo:{n}", "failed", failure=failures[n]) for n in failures]
    )
    verify_failure = dataclasses.replace(
        f("cargo:verify", "validation_failed", "verify_pattern_mismatch", "no version"), producer=val
    )
    reports = [
        make.report(make.linux, [make.result("verify", "cargo:verify", "fail", failure=verify_failure)])
    ]
    later = make.now + HOUR
    e = entries(apply_decision(queue, decide(plan, generation, reports), now=later))
    assert (e["lib"].waits_for, e["lib"].next_retry_at) == (gen, None)
    assert (e["verify"].waits_for, e["verify"].next_retry_at) == (val, None)
    for name in ("flaky", "gone", "legacy"):  # transient, upstream-fixable, no producer: backoff
        assert (e[name].waits_for, e[name].next_retry_at) == ("", later + HOUR), name
    parked = make.queue(list(e.values()))
    far = later + 30 * 24 * HOUR
    assert not {x.name for x in select_batch(parked, now=far, size=10)} & {"lib", "verify"}

    same, counts = reconcile_queue(
        parked,
        on_default_branch=set(),
        live_batches=set(),
        now=far,
        versions={"recipeline-generator": "0.3.1"},
    )
    assert same is parked and counts.released == 0

    released, counts = reconcile_queue(
        parked,
        on_default_branch=set(),
        live_batches=set(),
        now=far,
        versions={"recipeline-generator": "0.3.2", "recipeline-validator": "0.2.0"},
    )
    r = entries(released)
    assert counts.released == 1
    assert (r["lib"].status, r["lib"].waits_for, r["lib"].failure_count) == ("failed", "", 1)
    assert r["lib"].reason.startswith("released: recipeline-generator 0.3.1 -> 0.3.2")
    assert r["verify"].waits_for == val  # the validator did not change
    assert "lib" in {x.name for x in select_batch(released, now=far, size=10)}
