"""reconcile against a real git repository after a squash-merged batch branch."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from recipeline_merger import GitError, merge, preflight, reconcile
from recipeline_schema import (
    BatchDir,
    Layout,
    MetricsLine,
    Queue,
    ReleaseRecord,
    append_jsonl,
    load,
    read_jsonl,
    save,
)
from recipeline_schema.models import QueueStatus

if TYPE_CHECKING:
    from .conftest import Git, Make, WriteBatch

BATCH = "2026-01-29-001"


@pytest.fixture
def merged_batch(repo: Path, layout: Layout, make: Make, git: Git, write_batch: WriteBatch) -> BatchDir:
    """Batch BATCH merged locally (rg passed, fd failed), plus a vanished and a branch-only batch;
    the CI-style state commit of data/ is made on main."""
    save(
        make.queue(
            [
                make.entry("rg", "cargo:ripgrep", status="in_progress", batch_id=BATCH),
                make.entry("fd", "cargo:fd-find", status="in_progress", batch_id=BATCH),
                make.entry("lost", status="in_progress", batch_id="2026-01-28-004"),
                make.entry("pushed", status="in_progress", batch_id="2026-01-28-005"),
                make.entry("later"),
            ]
        ),
        layout.queue("cargo"),
    )
    save(
        make.queue([make.entry("ls", "npm:ls", status="in_progress", batch_id="2026-01-27-001")], "npm"),
        layout.queue("npm"),
    )
    plan = make.plan([("rg", "cargo:ripgrep"), ("fd", "cargo:fd-find")])
    generation = make.generation(
        [make.generated("rg", "cargo:ripgrep"), make.generated("fd", "cargo:fd-find")]
    )
    report = make.report(
        make.linux,
        [
            make.result("rg", "cargo:ripgrep"),
            make.result("fd", "cargo:fd-find", "fail", failure=make.failure("cargo:fd-find")),
        ],
    )
    bdir = write_batch(
        layout,
        plan,
        generation,
        [report],
        {"rg": make.recipe_text("rg", "ripgrep"), "fd": make.recipe_text("fd")},
    )
    git(repo, "branch", "batch/2026-01-28-005")  # a dead batch (no manifest, no plan) left a branch
    merge(repo, bdir.path, now=make.now)
    git(repo, "add", "data")
    git(repo, "commit", "-q", "-m", "chore(data): batch state")  # what the CI workflow commits
    return bdir


def statuses(layout: Layout, ecosystem: str = "cargo") -> dict[str, tuple[QueueStatus, str | None]]:
    return {e.name: (e.status, e.batch_id) for e in load(Queue, layout.queue(ecosystem)).entries}


def test_reconcile_after_a_squash_merge(
    repo: Path, layout: Layout, merged_batch: BatchDir, make: Make, git: Git
) -> None:
    message = git(repo, "log", "-1", "--format=%B", f"batch/{BATCH}")
    git(repo, "merge", "--squash", "-q", f"batch/{BATCH}")  # data copies are identical: no conflict
    git(repo, "commit", "-q", "-m", message)
    git(repo, "branch", "-D", f"batch/{BATCH}")  # GitHub deletes the head branch after merging
    assert (repo / "recipes" / "r" / "rg.toml").exists()

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "recipeline_merger",
            "reconcile",
            "--repo",
            str(repo),
            "--now",
            "2026-01-30T00:00:00Z",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "default_branch": "main",
        "queues": 2,
        "changed_queues": 2,
        "success": 1,
        "requeued": 3,
        "unblocked": 0,
        "pr_closed": 0,
        "released_waiting": 0,
        "released_batches": 3,
        "closed_prs": 0,
        "deleted_branches": 1,
        "merged_prs": 0,
        "metrics_lines": 3,
        "remote": False,
    }
    cargo = statuses(layout)
    assert cargo["rg"] == ("success", BATCH)  # on main: success, batch id kept
    assert cargo["fd"][0] == "failed"  # merge already recorded it
    assert cargo["lost"] == ("pending", None)  # no directory, no manifest: its run died
    assert cargo["pushed"] == ("pending", None)  # dead too: its branch is deleted, never proposed twice
    assert "batch/2026-01-28-005" not in git(repo, "branch", "--list")
    assert cargo["later"] == ("pending", None)
    assert statuses(layout, "npm") == {"ls": ("pending", None)}


def test_before_the_pr_merges_the_batch_stays_in_progress(
    repo: Path, layout: Layout, merged_batch: BatchDir, make: Make
) -> None:
    result = reconcile(repo, now=make.now)
    assert (result.counts.success, result.counts.requeued) == (0, 3)
    assert statuses(layout)["rg"] == ("in_progress", BATCH)  # its manifest and its branch: still open


def test_a_missing_default_branch_is_named(repo: Path, make: Make) -> None:
    with pytest.raises(GitError, match="'trunk' is not a commit"):
        reconcile(repo, now=make.now, default_branch="trunk")


def release_record(layout: Layout, batch_id: str) -> ReleaseRecord:
    return load(ReleaseRecord, layout.release_record(batch_id))


def test_a_batch_branch_deleted_without_merging_releases_its_entries_with_backoff(
    repo: Path, layout: Layout, merged_batch: BatchDir, make: Make, git: Git
) -> None:
    """(b) through git: the PR's branch is gone and its recipe never reached main."""
    git(repo, "branch", "-D", f"batch/{BATCH}")
    later = make.now + dt.timedelta(hours=1)
    result = reconcile(repo, now=later)
    assert result.counts.pr_closed == 1
    rg = {e.name: e for e in load(Queue, layout.queue("cargo")).entries}["rg"]
    assert (rg.status, rg.failure_count, rg.batch_id) == ("failed", 1, BATCH)
    assert rg.next_retry_at == later + dt.timedelta(hours=1) and "closed without merging" in rg.reason
    (release,) = release_record(layout, BATCH).releases
    assert (release.cause, release.status, release.packages) == ("pr_closed", "failed", ("cargo:ripgrep",))

    again = reconcile(repo, now=later)  # converged: nothing moves, nothing is recorded twice
    assert again.counts == type(again.counts)() and len(release_record(layout, BATCH).releases) == 1


def test_a_dead_batch_is_released_once_its_pushed_branch_deleted_and_its_metrics_line_written(
    repo: Path, layout: Layout, merged_batch: BatchDir, make: Make, git: Git, tmp_path: Path
) -> None:
    """(c) and (d) through git: the dead batch 2026-01-28-005 pushed its branch to origin."""
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    git(repo, "push", "-q", "origin", "main", "batch/2026-01-28-005")
    lines_before = len(read_jsonl(MetricsLine, layout.metrics))

    result = reconcile(repo, now=make.now)
    assert (result.released_batches, result.deleted_branches, result.metrics_lines) == (3, 1, 3)
    assert result.remote is True
    assert git(bare, "branch", "--list", "batch/*").strip() == ""  # the dead batch's branch is gone
    lines = read_jsonl(MetricsLine, layout.metrics)
    dead = {m.batch_id: m for m in lines[lines_before:]}
    assert sorted(dead) == ["2026-01-27-001", "2026-01-28-004", "2026-01-28-005"]
    assert (dead["2026-01-28-005"].total, dead["2026-01-28-005"].released) == (1, 1)
    assert dead["2026-01-28-005"].merged == 0 and dead["2026-01-28-005"].success_rate == 0.0
    (release,) = release_record(layout, "2026-01-28-005").releases
    assert (release.cause, release.status, release.packages) == ("batch_died", "pending", ("cargo:pushed",))

    again = reconcile(repo, now=make.now)
    assert (again.released_batches, again.metrics_lines) == (0, 0)
    assert len(read_jsonl(MetricsLine, layout.metrics)) == lines_before + 3


def test_a_dead_batch_that_wrote_its_metrics_line_gets_no_second_one(
    repo: Path, layout: Layout, make: Make
) -> None:
    """A merge that died after its metrics line, whose state was pushed anyway (no manifest)."""
    save(make.queue([make.entry("rg", status="in_progress", batch_id=BATCH)]), layout.queue("cargo"))
    line = MetricsLine(BATCH, "cargo", 1, 1, 0, 0, 1, 0, 1, 0, 1.0, 0, 10.0, 0.0, 1.0, make.now)
    append_jsonl([line], layout.metrics)
    result = reconcile(repo, now=make.now)
    assert result.released_batches == 1 and result.metrics_lines == 0
    assert read_jsonl(MetricsLine, layout.metrics) == [line]


def test_a_squash_merge_made_on_origin_since_the_checkout_counts(
    repo: Path, layout: Layout, merged_batch: BatchDir, make: Make, git: Git, tmp_path: Path
) -> None:
    """(a) GitHub squash-merged the batch PR after this clone was made: reconcile fetches."""
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    git(repo, "push", "-q", "origin", "main", f"batch/{BATCH}")
    other = tmp_path / "github"
    git(tmp_path, "clone", "-q", "-b", "main", str(bare), str(other))
    git(other, "merge", "--squash", "-q", f"origin/batch/{BATCH}")
    git(other, "commit", "-q", "-m", "feat(recipes): squash")
    git(other, "push", "-q", "origin", "main")
    git(other, "push", "-q", "origin", "--delete", f"batch/{BATCH}")  # GitHub deleted the head branch
    git(repo, "branch", "-D", f"batch/{BATCH}")

    result = reconcile(repo, now=make.now)
    assert result.remote and result.counts.success == 1 and result.counts.pr_closed == 0
    assert statuses(layout)["rg"] == ("success", BATCH)


def test_a_released_batch_s_id_is_never_reused(repo: Path, layout: Layout, make: Make) -> None:
    save(
        make.queue([make.entry("rg", status="in_progress", batch_id=BATCH), make.entry("fd")]),
        layout.queue("cargo"),
    )
    reconcile(repo, now=make.now)  # BATCH died: released, its metrics line names it
    assert layout.release_record(BATCH).exists()
    assert preflight(repo, ecosystem="cargo", batch_size=2, now=make.now).batch_id == "2026-01-29-002"


def test_a_reconcile_killed_before_it_saved_the_queues_writes_nothing_twice_when_rerun(
    repo: Path, layout: Layout, make: Make
) -> None:
    save(make.queue([make.entry("rg", status="in_progress", batch_id=BATCH)]), layout.queue("cargo"))
    before = layout.queue("cargo").read_bytes()
    reconcile(repo, now=make.now)
    layout.queue("cargo").write_bytes(before)  # as if killed after the records, before the queue
    again = reconcile(repo, now=make.now)
    assert again.counts.requeued == 1 and again.metrics_lines == 0
    assert len(read_jsonl(MetricsLine, layout.metrics)) == 1
    assert len(release_record(layout, BATCH).releases) == 1
