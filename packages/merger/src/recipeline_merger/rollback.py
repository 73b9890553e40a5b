"""rollback: revert exactly the files one batch added, re-queue its packages, record why.

The batch is found by its manifest (``data/batches/<id>.json``), never by commit messages, so
a squash merge that rewrote the commit changes nothing (§12.7). The files removed are the
manifest's merged recipes *as they are on the default branch*: a recipe whose bytes differ
from the manifest's sha256 was changed after the batch and is refused (``--force`` removes it
anyway); a recipe that is not on the default branch (the batch PR never merged) is left out.

The removal and the RollbackRecord (``data/batches/<id>.rollback.json``) are one commit on
``rollback/<id>`` on top of the default branch (built on a temporary index like the batch
commit); the record, the re-queued queue entries and a byte-identical copy of the record are
written in the working tree. With a token the branch becomes a PR; without, the PR body is
written to ``data/batches/<id>.rollback.pr.md``.

Re-queued entries (the batch's merged packages, unless an operator ``excluded`` them) become
``pending`` with the backoff cleared and the rollback's reason; they keep the batch id, and
``reconcile`` does not mark an entry of a rolled-back batch ``success`` from the recipe that is
still on the default branch until the rollback PR merges.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recipeline_schema import (
    BatchManifest,
    Layout,
    Queue,
    QueueEntry,
    RollbackRecord,
    decode,
    dumps,
    file_lock,
    format_time,
    load,
    one_line,
    replace_entries,
    save,
    sha256_text,
)

from .errors import GitError, MergerError, RolledBackError
from .gitrepo import ROLLBACK_BRANCH_PREFIX, commit_on_branch, paths_in_tree, read_blob, resolve_commit
from .preflight import DEFAULT_LOCK_TIMEOUT
from .pullrequest import PullRequestPublisher, PullRequestRequest, default_publisher
from .state import load_queue

ROLLBACK_LABELS = ("recipes", "rollback")


@dataclass(frozen=True, slots=True)
class RollbackResult:
    record: RollbackRecord
    record_path: Path
    branch: str | None
    commit: str | None
    kept: tuple[str, ...]  # recipe paths of the batch that are not on the default branch
    pull_request: str | None
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "batch_id": self.record.batch_id,
            "files": list(self.record.files),
            "requeued": list(self.record.requeued),
            "not_on_default_branch": list(self.kept),
            "branch": self.branch,
            "commit": self.commit,
            "record": str(self.record_path),
            "pull_request": self.pull_request,
        }


def rolled_back_batches(layout: Layout) -> frozenset[str]:
    """Batch ids that have a rollback record."""
    d = layout.batches_dir
    if not d.is_dir():
        return frozenset()
    return frozenset(p.name.removesuffix(".rollback.json") for p in d.glob("*.rollback.json"))


def requeue_rolled_back(
    queue: Queue, manifest: BatchManifest, *, reason: str, now: dt.datetime
) -> tuple[Queue, tuple[str, ...]]:
    """Pure: the batch's packages that had a recipe in its PRs back to ``pending`` (operator
    exclusions stay)."""
    merged = {p.package_id for p in manifest.packages if p.recipe_path}
    changed: list[QueueEntry] = [
        dataclasses.replace(
            entry,
            status="pending",
            batch_id=manifest.batch_id,
            next_retry_at=None,
            blocked_by=(),
            reason=one_line(f"rolled back from batch {manifest.batch_id}: {reason}"),
        )
        for entry in queue.entries
        if entry.source in merged and entry.status != "excluded"
    ]
    if not changed:
        return queue, ()
    return replace_entries(queue, changed, now=now), tuple(sorted(e.source for e in changed))


def rollback_message(manifest: BatchManifest, files: Sequence[str], reason: str) -> str:
    lines = [
        f"revert(recipes): roll back batch {manifest.batch_id} {manifest.ecosystem} recipes",
        "",
        one_line(reason),
        "",
        *[f"- remove {path}" for path in files],
        "",
        f"batch_id: {manifest.batch_id}",
        f"ecosystem: {manifest.ecosystem}",
        "rollback: true",
    ]
    return "\n".join(lines) + "\n"


def rollback_body(manifest: BatchManifest, record: RollbackRecord, kept: Sequence[str]) -> str:
    out = [
        f"# Roll back batch {manifest.batch_id} ({manifest.ecosystem})",
        "",
        f"Reason: {one_line(record.reason)}",
        "",
        f"Removes {len(record.files)} recipe(s) the batch added; "
        f"re-queues {len(record.requeued)} package(s).",
        "",
        *[f"- `{path}`" for path in record.files],
    ]
    if kept:
        out += ["", "Not on the default branch (nothing to remove):", "", *[f"- `{p}`" for p in kept]]
    return "\n".join(out) + "\n"


def _load_manifest(layout: Layout, batch_id: str, default_branch: str) -> BatchManifest:
    path = layout.manifest(batch_id)
    if path.exists():
        return load(BatchManifest, path)
    rel = path.relative_to(layout.root).as_posix()
    try:
        raw = read_blob(layout.root, default_branch, rel)
    except GitError:
        raise MergerError(
            f"{path}: no manifest for batch {batch_id} here or on {default_branch}; nothing to roll back"
        ) from None
    where = f"{default_branch}:{rel}"
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise MergerError(f"{where}: not JSON ({exc})") from None
    return decode(BatchManifest, data, where)


def rollback(
    root: Path,
    *,
    batch_id: str,
    reason: str,
    now: dt.datetime,
    default_branch: str = "main",
    force: bool = False,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    publisher: PullRequestPublisher | None = None,
) -> RollbackResult:
    """Roll back ``batch_id`` (see the module doc)."""
    layout = Layout(Path(root))
    record_path = layout.rollback_record(batch_id)
    if record_path.exists():
        raise RolledBackError(f"{record_path} exists: batch {batch_id} was rolled back already")
    base = resolve_commit(layout.root, default_branch)
    manifest = _load_manifest(layout, batch_id, default_branch)
    on_branch = paths_in_tree(layout.root, base, "recipes")
    files: list[str] = []
    kept: list[str] = []
    for package in manifest.packages:
        if not package.recipe_path:  # every recipe of the batch's PRs, review PR included
            continue
        if package.recipe_path not in on_branch:
            kept.append(package.recipe_path)
            continue
        text = read_blob(layout.root, base, package.recipe_path).decode("utf-8", "replace")
        if package.sha256 and sha256_text(text) != package.sha256 and not force:
            raise MergerError(
                f"{default_branch}:{package.recipe_path}: changed since batch {batch_id} added it "
                f"(sha256 differs from {layout.manifest(batch_id).name}); --force removes it anyway"
            )
        files.append(package.recipe_path)
    publisher = publisher or default_publisher(layout)
    with file_lock(layout.lock, timeout=lock_timeout, what=f"batch {batch_id} (rollback)"):
        if record_path.exists():
            raise RolledBackError(f"{record_path} exists: batch {batch_id} was rolled back already")
        queue = updated = load_queue(layout, manifest.ecosystem)
        requeued: tuple[str, ...] = ()
        if queue is not None:
            updated, requeued = requeue_rolled_back(queue, manifest, reason=reason, now=now)
        record = RollbackRecord(
            schema_version=1,
            batch_id=batch_id,
            rolled_back_at=now,
            reason=one_line(reason),
            files=tuple(files),
            requeued=requeued,
        )
        text = dumps(record)
        decode(RollbackRecord, json.loads(text), record_path)
        branch = commit = None
        notes: list[str] = []
        pull_request = None
        if files:
            branch = f"{ROLLBACK_BRANCH_PREFIX}{batch_id}"
            message = rollback_message(manifest, files, reason)
            commit = commit_on_branch(
                layout.root,
                base=base,
                branch=branch,
                files={record_path.relative_to(layout.root).as_posix(): text.encode("utf-8")},
                remove=files,
                message=message,
            )
            ref = publisher.publish(
                PullRequestRequest(
                    batch_id=batch_id,
                    branch=branch,
                    base=default_branch,
                    title=f"revert(recipes): roll back batch {batch_id} ({len(files)} recipes)",
                    body=rollback_body(manifest, record, kept),
                    squash_message=message,
                    labels=ROLLBACK_LABELS,
                    auto_merge=False,
                    kind="rollback",
                )
            )
            pull_request = ref.url if ref else None
            if publisher.note:
                notes.append(publisher.note)
        if updated is not None and requeued:
            save(updated, layout.queue(manifest.ecosystem))
        save(record, record_path)  # last: it marks the batch rolled back
    return RollbackResult(record, record_path, branch, commit, tuple(kept), pull_request, tuple(notes))


def rolled_back_at(record: RollbackRecord) -> str:
    return format_time(record.rolled_back_at)
