"""reconcile against a real git repository after a squash-merged batch branch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from recipeline_merger import GitError, merge, reconcile
from recipeline_schema import BatchDir, Layout, Queue, load, save
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
    git(repo, "branch", "batch/2026-01-28-005")  # a batch whose branch still exists (PR open)
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
        "requeued": 2,
        "unblocked": 0,
    }
    cargo = statuses(layout)
    assert cargo["rg"] == ("success", BATCH)  # on main: success, batch id kept
    assert cargo["fd"][0] == "failed"  # merge already recorded it
    assert cargo["lost"] == ("pending", None)  # no directory, manifest or branch: back to pending
    assert cargo["pushed"] == ("in_progress", "2026-01-28-005")  # its branch exists
    assert cargo["later"] == ("pending", None)
    assert statuses(layout, "npm") == {"ls": ("pending", None)}


def test_before_the_pr_merges_the_batch_stays_in_progress(
    repo: Path, layout: Layout, merged_batch: BatchDir, make: Make
) -> None:
    result = reconcile(repo, now=make.now)
    assert (result.counts.success, result.counts.requeued) == (0, 2)
    assert statuses(layout)["rg"] == ("in_progress", BATCH)  # its manifest keeps the batch live


def test_a_missing_default_branch_is_named(repo: Path, make: Make) -> None:
    with pytest.raises(GitError, match="'trunk' is not a commit"):
        reconcile(repo, now=make.now, default_branch="trunk")
