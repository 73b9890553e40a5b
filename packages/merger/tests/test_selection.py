"""Pure batch selection: order, eligibility, stale batches, ids, the plan and the empty reason."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from recipeline_merger import select

if TYPE_CHECKING:
    from .conftest import Make

LATER = dt.timedelta(hours=5)


def test_selects_in_queue_order_and_marks_in_progress(make: Make) -> None:
    queue = make.queue(
        [
            make.entry("fd", priority=2, popularity=50),
            make.entry("ripgrep", priority=1, popularity=10),
            make.entry("bat", priority=2, popularity=900),
        ]
    )
    sel = select(queue, now=make.now, size=2, tier=3, live_batches=set(), existing_ids=[])
    assert sel.batch_id == "2026-01-29-001"
    assert [e.name for e in sel.entries] == ["ripgrep", "bat"]
    assert sel.plan is not None and sel.queue is not None
    assert [(p.name, p.package_id) for p in sel.plan.packages] == [
        ("ripgrep", "cargo:ripgrep"),
        ("bat", "cargo:bat"),
    ]
    assert sel.plan.ecosystem == "cargo" and sel.plan.tier == 3 and sel.plan.created_at == make.now
    by_name = {e.name: e for e in sel.queue.entries}
    assert by_name["ripgrep"].status == "in_progress" and by_name["ripgrep"].batch_id == sel.batch_id
    assert by_name["ripgrep"].last_attempt_at == make.now
    assert by_name["fd"].status == "pending" and by_name["fd"].batch_id is None


def test_ids_increment_within_a_day_and_restart_the_next(make: Make) -> None:
    queue = make.queue([make.entry("bat")])
    ids = ["2026-01-29-001", "2026-01-29-007", "2026-01-28-042"]
    assert select(queue, now=make.now, size=1, tier=3, live_batches=set(), existing_ids=ids).batch_id == (
        "2026-01-29-008"
    )
    tomorrow = make.now + dt.timedelta(days=1)
    assert select(queue, now=tomorrow, size=1, tier=3, live_batches=set(), existing_ids=ids).batch_id == (
        "2026-01-30-001"
    )


def test_tier_and_backoff_and_status_limit_the_selection(make: Make) -> None:
    queue = make.queue(
        [
            make.entry("standard", priority=3),
            make.entry("waiting", status="failed", failure_count=2, next_retry_at=make.now + LATER),
            make.entry("due", status="failed", failure_count=2, next_retry_at=make.now - LATER),
            make.entry("done", status="success"),
            make.entry("blocked", status="blocked", blocked_by=("openssl",)),
        ]
    )
    sel = select(queue, now=make.now, size=10, tier=2, live_batches=set(), existing_ids=[])
    assert [e.name for e in sel.entries] == ["due"]


def test_in_progress_of_a_live_batch_is_kept_and_of_a_vanished_batch_reselected(make: Make) -> None:
    queue = make.queue(
        [
            make.entry("live", status="in_progress", batch_id="2026-01-28-001"),
            make.entry("stale", status="in_progress", batch_id="2026-01-28-002"),
        ]
    )
    sel = select(
        queue, now=make.now, size=10, tier=3, live_batches={"2026-01-28-001"}, existing_ids=["2026-01-28-001"]
    )
    assert [e.name for e in sel.entries] == ["stale"]
    assert sel.queue is not None
    stale = next(e for e in sel.queue.entries if e.name == "stale")
    assert stale.batch_id == sel.batch_id == "2026-01-29-001"


def test_empty_selection_says_what_the_entries_wait_for(make: Make) -> None:
    queue = make.queue(
        [
            make.entry("waiting", status="failed", next_retry_at=make.now + LATER),
            make.entry("busy", status="in_progress", batch_id="2026-01-29-001"),
            make.entry("done", status="success"),
            make.entry("later", priority=3),
        ]
    )
    sel = select(queue, now=make.now, size=5, tier=2, live_batches={"2026-01-29-001"}, existing_ids=[])
    assert sel.batch_id is None and sel.plan is None and sel.queue is None and sel.entries == ()
    assert "no eligible entry of tier <= 2 in the cargo queue" in sel.reason
    for part in ("1 above tier", "1 failed waiting for retry", "1 in_progress in a live batch", "1 success"):
        assert part in sel.reason
    assert sel.reason.endswith("next retry at 2026-01-29T15:00:00Z")


def test_empty_queue_reason(make: Make) -> None:
    sel = select(make.queue([]), now=make.now, size=5, tier=3, live_batches=set(), existing_ids=[])
    assert sel.reason == "the cargo queue has no entries"
