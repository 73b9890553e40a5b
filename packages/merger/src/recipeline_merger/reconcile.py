"""reconcile: converge the queues with what is true on the default branch and on GitHub.

It runs at the start of every preflight job and of every local ``invoke batch``; one batch runs
at a time (the workflow's concurrency group, ``build/batch.lock`` locally), so a batch that is
``in_progress`` here and has neither a manifest nor a batch directory is dead. Per queue entry
(``queue_updates.reconcile_queue`` is the pure rule):

a. its recipe is on the default branch (the local branch, and the remote's after a fetch, so
   a squash merge GitHub made since the checkout counts) -> ``success``;
b. it is ``in_progress`` in a merged batch (a manifest) whose PR holding its recipe was closed
   without merging -> ``failed`` with the next backoff (a human turned it down). Known from
   GitHub when a token is configured, else from git: the PR's branch is gone from the local
   repository and from the remote, and the recipe is not on the default branch. A batch PR
   that is open, passed its gates and has no auto-merge on GitHub is merged here once its
   checks are green (no wait: ``finish`` waited already);
c. it is ``in_progress`` in a dead batch -> ``pending`` (not the package's fault). The dead
   batch's PRs are closed with a comment and its branches deleted first, so no package is
   ever proposed twice, and it gets its metrics line (``released`` = ``total`` = the entries
   it held, every other count 0) unless it has one;
d. ``blocked`` with every dependency's recipe on the default branch -> ``pending``.

Each release (b, c) is recorded in ``data/batches/<id>.release.json`` (``ReleaseRecord``), where
the dashboard shows it. Order: the remote's side effects (idempotent), then metrics lines
(skipped when the batch has one), release records (an identical release is not added twice),
the queues last: a kill at any point, then a re-run, writes nothing twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from recipeline_schema import (
    BatchManifest,
    BatchPullRequest,
    InvalidValueError,
    Layout,
    MetricsLine,
    PullRequestRef,
    Queue,
    Release,
    ReleaseRecord,
    append_jsonl,
    file_lock,
    load,
    recipe_path,
    save,
)
from recipeline_schema.retry import running_versions

from .gitrepo import (
    batch_branch,
    fetch_branch,
    has_remote,
    local_branch_exists,
    paths_in_tree,
    remote_branches,
    resolve_commit,
)
from .landing import batch_pull_requests
from .merge import has_metrics
from .preflight import DEFAULT_LOCK_TIMEOUT
from .pullrequest import PullRequestPublisher, default_publisher
from .queue_updates import ReconcileCounts, reconcile_queue, released_reason
from .records import released_metrics_line
from .rollback import rolled_back_batches
from .state import live_batches, manifest_ids

PrFate = Literal["open", "merged", "closed"]


@dataclass(frozen=True, slots=True)
class ReconcileResult:
    default_branch: str
    queues: int
    changed_queues: int
    counts: ReconcileCounts
    released_batches: int = 0  # dead batches released (c)
    closed_prs: int = 0  # PRs of dead batches closed
    deleted_branches: int = 0  # branches of dead batches deleted
    merged_prs: int = 0  # batch PRs merged here once their checks were green
    metrics_lines: int = 0  # metrics lines written for dead batches
    remote: bool = False  # the remote's default branch was fetched and counted

    def to_json(self) -> dict[str, Any]:
        return {
            "default_branch": self.default_branch,
            "queues": self.queues,
            "changed_queues": self.changed_queues,
            "success": self.counts.success,
            "requeued": self.counts.requeued,
            "unblocked": self.counts.unblocked,
            "pr_closed": self.counts.pr_closed,
            "released_waiting": self.counts.released,
            "released_batches": self.released_batches,
            "closed_prs": self.closed_prs,
            "deleted_branches": self.deleted_branches,
            "merged_prs": self.merged_prs,
            "metrics_lines": self.metrics_lines,
            "remote": self.remote,
        }


def dead_batch_comment(batch_id: str) -> str:
    return (
        f"Closed by reconcile: batch {batch_id} ended before it was merged (its run was killed or "
        "failed, so its state was never recorded). Its packages are back in the queue and a later "
        "batch proposes them again; this PR and its branch go, so none is proposed twice.\n"
    )


def reconcile(
    root: Path,
    *,
    now: dt.datetime,
    default_branch: str = "main",
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    publisher: PullRequestPublisher | None = None,
    remote: str | None = None,
    versions: Mapping[str, str] | None = None,
) -> ReconcileResult:
    """Converge every ``data/queues/priority-queue-*.json`` (see the module doc).

    ``versions`` (default: the installed stages, ``retry.running_versions``) releases the
    entries that waited for another version of the stage that failed them.
    """
    versions = running_versions() if versions is None else versions
    layout = Layout(Path(root))
    publisher = publisher or default_publisher(layout)
    remote = remote or str(getattr(publisher, "git_remote", "origin"))
    resolve_commit(layout.root, default_branch)
    on_branch = set(paths_in_tree(layout.root, default_branch, "recipes"))
    tracking = fetch_branch(layout.root, remote, default_branch)
    if tracking is not None:
        on_branch |= paths_in_tree(layout.root, tracking, "recipes")
    total = ReconcileCounts()
    queues = changed = 0
    with file_lock(layout.lock, timeout=lock_timeout, what="the queues (reconcile)"):
        live = live_batches(layout)
        merged_batches = manifest_ids(layout)
        loaded = [
            (path, load(Queue, path))
            for path in sorted((layout.data / "queues").glob("priority-queue-*.json"))
        ]
        waiting: dict[tuple[str, str], list[str]] = defaultdict(list)  # (batch, ecosystem) -> package ids
        for _, queue in loaded:
            for entry in queue.entries:
                if (
                    entry.status == "in_progress"
                    and entry.batch_id
                    and recipe_path_of(entry.name) not in on_branch
                ):
                    waiting[(entry.batch_id, queue.ecosystem)].append(entry.source)
        survey = _Survey(layout, publisher, remote, on_branch, now)
        for (batch_id, ecosystem), sources in sorted(waiting.items()):
            if batch_id in merged_batches:
                survey.merged_batch(batch_id, ecosystem, sources)
            elif batch_id not in live:
                survey.dead_batch(batch_id, ecosystem, sources)
        for line in survey.metrics:
            append_jsonl([line], layout.metrics)
        for batch_id, (ecosystem, release) in survey.releases:
            _record_release(layout, batch_id, ecosystem, release)
        rolled_back = rolled_back_batches(layout)
        for path, queue in loaded:
            queues += 1
            updated, counts = reconcile_queue(
                queue,
                on_default_branch=on_branch,
                live_batches=live,
                now=now,
                rolled_back=rolled_back,
                closed=survey.closed,
                versions=versions,
            )
            if updated is not queue:
                save(updated, path)
                changed += 1
                total = total + counts
    return ReconcileResult(
        default_branch,
        queues,
        changed,
        total,
        released_batches=survey.released_batches,
        closed_prs=survey.closed_prs,
        deleted_branches=survey.deleted_branches,
        merged_prs=survey.merged_prs,
        metrics_lines=len(survey.metrics),
        remote=tracking is not None,
    )


def recipe_path_of(name: str) -> str | None:
    try:
        return recipe_path(name)
    except InvalidValueError:  # a name no recipe can have is never on a branch
        return None


class _Survey:
    """What reconcile learns about the batches with waiting entries, and the remote's side effects."""

    def __init__(
        self,
        layout: Layout,
        publisher: PullRequestPublisher,
        remote: str,
        on_branch: set[str],
        now: dt.datetime,
    ) -> None:
        self.layout = layout
        self.publisher = publisher
        self.remote = remote
        self.on_branch = on_branch
        self.now = now
        self.closed: dict[tuple[str, str], str] = {}
        self.releases: list[tuple[str, tuple[str, Release]]] = []
        self.metrics: list[MetricsLine] = []
        self.released_batches = self.closed_prs = self.deleted_branches = self.merged_prs = 0
        self._remote_heads: frozenset[str] | None = None
        self._asked_remote = False

    def merged_batch(self, batch_id: str, ecosystem: str, sources: list[str]) -> None:
        """(b): the PR holding each waiting entry's recipe: closed unmerged -> released."""
        manifest = load(BatchManifest, self.layout.manifest(batch_id))
        by_path = {p.recipe_path: p.package_id for p in manifest.packages if p.recipe_path}
        for pr in batch_pull_requests(manifest):
            mine = sorted(by_path[path] for path in pr.recipes if by_path.get(path) in sources)
            if not mine:
                continue
            fate, ref = self._fate(pr)
            if fate == "closed":
                what = f"PR #{ref.number}" if ref else f"the PR of {pr.branch} (its branch is gone)"
                reason = f"batch {batch_id}: {what} was closed without merging; retried after the backoff"
                self.closed.update({(batch_id, source): reason for source in mine})
                release = Release(
                    released_at=self.now,
                    cause="pr_closed",
                    status="failed",
                    packages=tuple(mine),
                    branch=pr.branch,
                    pull_request=ref,
                    reason=reason,
                )
                self.releases.append((batch_id, (ecosystem, release)))
            elif fate == "open" and pr.kind == "batch" and pr.auto_merge:
                landing, _ = self.publisher.land(pr.branch, timeout=0)
                self.merged_prs += landing == "merged"

    def dead_batch(self, batch_id: str, ecosystem: str, sources: list[str]) -> None:
        """(c): close the dead batch's PRs, delete its branches, give it its metrics line."""
        for branch in (batch_branch(batch_id), batch_branch(batch_id, review=True)):
            self.closed_prs += self.publisher.close(branch, dead_batch_comment(batch_id)) is not None
            self.deleted_branches += self.publisher.delete_branch(branch)
        if not has_metrics(self.layout.metrics, batch_id, ecosystem):
            self.metrics.append(released_metrics_line(batch_id, ecosystem, len(sources), now=self.now))
        release = Release(
            released_at=self.now,
            cause="batch_died",
            status="pending",
            packages=tuple(sorted(sources)),
            branch=batch_branch(batch_id),
            reason=released_reason(batch_id),
        )
        self.releases.append((batch_id, (ecosystem, release)))
        self.released_batches += 1

    def _fate(self, pr: BatchPullRequest) -> tuple[PrFate, PullRequestRef | None]:
        """What became of ``pr``: GitHub's word when it knows the PR, else the branches'."""
        state = self.publisher.pull_request_state(pr.branch)
        if state is not None:
            ref = PullRequestRef(number=state.number, url=state.url)
            return ("open" if state.state == "open" else state.state), ref
        if local_branch_exists(self.layout.root, pr.branch) or pr.branch in self._remote():
            return "open", None
        if self._remote_unknown():
            return "open", None  # the remote could not be asked: nothing is known to be gone
        return "closed", None

    def _remote(self) -> frozenset[str]:
        if not self._asked_remote:
            self._remote_heads = remote_branches(self.layout.root, self.remote)
            self._asked_remote = True
        return self._remote_heads or frozenset()

    def _remote_unknown(self) -> bool:
        """A remote exists but did not answer (a local repository without one is fully known)."""
        self._remote()
        return self._remote_heads is None and has_remote(self.layout.root, self.remote)


def _record_release(layout: Layout, batch_id: str, ecosystem: str, release: Release) -> None:
    """Add ``release`` to the batch's release record, unless an identical one is there."""
    path = layout.release_record(batch_id)
    record = load(ReleaseRecord, path) if path.exists() else ReleaseRecord(1, batch_id, ecosystem, ())  # type: ignore[arg-type]
    same = [
        r
        for r in record.releases
        if (r.cause, r.branch, r.packages) == (release.cause, release.branch, release.packages)
    ]
    if same:
        return
    save(dataclasses.replace(record, releases=(*record.releases, release)), path)
