"""Pure queue updates: a merge decision applied to a queue, and reconcile.

Entries are found by ``source`` (the package id), never by name (ARCHITECTURE §12.3). A merge
only touches entries that are still ``in_progress`` in its own batch, which makes applying the
same decision twice a no-op (a re-run after a crash never counts a failure twice).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from recipeline_schema import (
    InvalidValueError,
    Queue,
    QueueEntry,
    one_line,
    recipe_path,
    replace_entries,
)
from recipeline_schema.models import QueueStatus
from recipeline_schema.retry import release_waiting, waits_for

from .backoff import next_retry_at
from .decision import MergeDecision, PackageDecision
from .errors import QueueMismatchError


def apply_decision(queue: Queue, decision: MergeDecision, *, now: dt.datetime) -> Queue:
    """The queue after ``decision``; ``queue`` itself when nothing changes.

    merged (and an exclusion sent to the review PR) -> stays ``in_progress`` in its batch until
    ``reconcile`` sees the recipe on the default branch or its PR closed; failed/excluded ->
    ``failed`` with backoff; blocked -> ``blocked`` with
    ``blocked_by``; skipped -> ``skipped`` with the reason (``requires_manual`` when the recipe
    name is held elsewhere, see ``names``).
    """
    if queue.ecosystem != decision.ecosystem:
        raise QueueMismatchError(
            f"batch {decision.batch_id} is of ecosystem {decision.ecosystem}, the queue of {queue.ecosystem}"
        )
    sources = {entry.source for entry in queue.entries}
    missing = sorted(p.package_id for p in decision.packages if p.package_id not in sources)
    if missing:
        raise QueueMismatchError(
            f"the {queue.ecosystem} queue has no entries {missing} that batch {decision.batch_id} planned"
        )
    by_id = {p.package_id: p for p in decision.packages}
    changed = []
    for entry in queue.entries:
        package = by_id.get(entry.source)
        if package is None or entry.status != "in_progress" or entry.batch_id != decision.batch_id:
            continue
        updated = updated_entry(entry, package, now=now)
        if updated != entry:
            changed.append(updated)
    return replace_entries(queue, changed, now=now) if changed else queue


def updated_entry(entry: QueueEntry, package: PackageDecision, *, now: dt.datetime) -> QueueEntry:
    """One entry after its package's outcome. The batch id stays as the last batch that tried it.

    An entry whose recipe went to one of the batch's PRs (an included recipe, or an exclusion
    sent to the review PR) stays ``in_progress``: reconcile settles it from what the PR became.
    """
    reason = one_line(package.reason) if package.reason else ""
    if package.outcome == "merged" or package.review:
        return entry
    if package.outcome in ("failed", "excluded"):
        count = entry.failure_count + 1
        producer = "" if package.transient else waits_for(f.failure for f in package.failures)
        return dataclasses.replace(
            entry,
            status="failed",
            failure_count=count,
            next_retry_at=None if producer else next_retry_at(now, count, transient=package.transient),
            blocked_by=(),
            reason=reason,
            waits_for=producer,
        )
    if package.outcome == "blocked":
        return dataclasses.replace(
            entry, status="blocked", blocked_by=package.blocked_by, next_retry_at=None, reason=reason
        )
    status: QueueStatus = "requires_manual" if package.name_held else "skipped"
    return dataclasses.replace(entry, status=status, next_retry_at=None, blocked_by=(), reason=reason)


@dataclass(frozen=True, slots=True)
class ReconcileCounts:
    success: int = 0
    requeued: int = 0  # in_progress entries of a dead batch -> pending
    unblocked: int = 0
    pr_closed: int = 0  # in_progress entries whose PR was closed without merging -> failed
    released: int = 0  # failed entries that waited for a stage now at another version

    def __add__(self, other: ReconcileCounts) -> ReconcileCounts:
        return ReconcileCounts(
            self.success + other.success,
            self.requeued + other.requeued,
            self.unblocked + other.unblocked,
            self.pr_closed + other.pr_closed,
            self.released + other.released,
        )


def released_reason(batch_id: str) -> str:
    """Why a dead batch's entries are back in the queue (the queue and the release record say it)."""
    return f"released: batch {batch_id} ended before it was merged (its run was killed or failed)"


def reconcile_queue(
    queue: Queue,
    *,
    on_default_branch: Collection[str],
    live_batches: Collection[str],
    now: dt.datetime,
    rolled_back: Collection[str] = (),
    closed: Mapping[tuple[str, str], str] | None = None,
    versions: Mapping[str, str] | None = None,
) -> tuple[Queue, ReconcileCounts]:
    """Statuses from what is true, in this order:

    1. a recipe on the default branch is ``success`` (a squash-merged batch included: only the
       path counts), unless the entry's batch was rolled back;
    2. an ``in_progress`` entry whose PR was closed without merging (``closed``: (batch id,
       package id) -> why) is ``failed`` with the next backoff: a human turned it down, so it
       is retried later, not at once;
    3. an ``in_progress`` entry whose batch is not live (no batch directory with a plan, no
       manifest: its run died) goes back to ``pending`` without its batch id;
    4. a ``blocked`` entry whose every ``blocked_by`` recipe is on the default branch is ``pending``;
    5. a ``failed`` entry that ``waits_for`` a stage now at another version (``versions``) is
       released (``recipeline_schema.retry``).

    ``on_default_branch`` holds repository paths (``recipes/<x>/<name>.toml``).
    """
    closed = closed or {}
    changed: list[QueueEntry] = []
    success = requeued = unblocked = pr_closed = 0
    for entry in queue.entries:
        path = _recipe_path(entry.name)
        if (
            entry.status != "success"
            and path is not None
            and path in on_default_branch
            and entry.batch_id not in rolled_back  # its recipe is being rolled back
        ):
            changed.append(
                dataclasses.replace(entry, status="success", next_retry_at=None, blocked_by=(), reason="")
            )
            success += 1
        elif entry.status == "in_progress" and (str(entry.batch_id), entry.source) in closed:
            count = entry.failure_count + 1
            changed.append(
                dataclasses.replace(
                    entry,
                    status="failed",
                    failure_count=count,
                    next_retry_at=next_retry_at(now, count, transient=False),
                    reason=one_line(closed[(str(entry.batch_id), entry.source)]),
                )
            )
            pr_closed += 1
        elif entry.status == "in_progress" and entry.batch_id not in live_batches:
            reason = (
                released_reason(entry.batch_id) if entry.batch_id else "released: in_progress without a batch"
            )
            changed.append(dataclasses.replace(entry, status="pending", batch_id=None, reason=reason))
            requeued += 1
        elif entry.status == "blocked" and _all_present(entry.blocked_by, on_default_branch):
            changed.append(
                dataclasses.replace(
                    entry,
                    status="pending",
                    blocked_by=(),
                    next_retry_at=None,
                    reason=one_line("dependencies now have recipes: " + ", ".join(entry.blocked_by)),
                )
            )
            unblocked += 1
    updated = replace_entries(queue, changed, now=now) if changed else queue
    updated, released = release_waiting(updated, versions or {}, now=now)
    if updated is queue:
        return queue, ReconcileCounts()
    return updated, ReconcileCounts(success, requeued, unblocked, pr_closed, released)


def _all_present(names: tuple[str, ...], on_default_branch: Collection[str]) -> bool:
    """Every named dependency has a recipe (an unnamed dependency is never known to be present)."""
    paths = [_recipe_path(name) for name in names]
    return bool(paths) and all(p is not None and p in on_default_branch for p in paths)


def _recipe_path(name: str) -> str | None:
    try:
        return recipe_path(name)
    except InvalidValueError:  # a name no recipe can have (e.g. with '..') is never on a branch
        return None
