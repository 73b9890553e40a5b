"""rollback after a squash merge and requeue after a builder fix, on real git repositories."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from recipeline_merger import merge, reconcile, rollback
from recipeline_schema import (
    BatchManifest,
    FailureRecord,
    Layout,
    Queue,
    QueueEntry,
    RollbackRecord,
    load,
    save,
    write_jsonl,
)
from recipeline_schema.exitcodes import EXIT_USAGE

if TYPE_CHECKING:
    from .conftest import Git, Make, WriteBatch

BATCH = "2026-01-29-001"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "recipeline_merger", *args], capture_output=True, text=True, timeout=60
    )


def entries(layout: Layout) -> dict[str, QueueEntry]:
    return {e.name: e for e in load(Queue, layout.queue("cargo")).entries}


@pytest.fixture
def squashed(repo: Path, layout: Layout, make: Make, git: Git, write_batch: WriteBatch) -> str:
    """Batch BATCH (rg and bat pass, fd fails) merged, its state committed, then squash-merged
    into main with a message that is NOT the batch commit's (no trailer), its branch deleted,
    and reconciled; returns main's commit after a later unrelated recipe commit."""
    save(
        make.queue(
            [
                make.entry("rg", "cargo:ripgrep", status="in_progress", batch_id=BATCH),
                make.entry("bat", status="in_progress", batch_id=BATCH),
                make.entry("fd", "cargo:fd-find", status="in_progress", batch_id=BATCH),
            ]
        ),
        layout.queue("cargo"),
    )
    packages = [("rg", "cargo:ripgrep"), ("bat", "cargo:bat"), ("fd", "cargo:fd-find")]
    report = make.report(
        make.linux,
        [
            make.result("rg", "cargo:ripgrep"),
            make.result("bat", "cargo:bat"),
            make.result("fd", "cargo:fd-find", "fail", failure=make.failure("cargo:fd-find")),
        ],
    )
    bdir = write_batch(
        layout,
        make.plan(packages),
        make.generation([make.generated(n, p) for n, p in packages]),
        [report],
        {n: make.recipe_text(n) for n, _ in packages},
    )
    merge(repo, bdir.path, now=make.now)
    git(repo, "add", "-A", "data", "batch-control.json")
    git(repo, "commit", "-q", "-m", "chore(data): batch state")
    git(repo, "merge", "--squash", "-q", f"batch/{BATCH}")
    git(repo, "commit", "-q", "-m", "Squash merged without any trailer")
    git(repo, "branch", "-D", f"batch/{BATCH}")
    (repo / "recipes" / "z").mkdir()
    (repo / "recipes" / "z" / "zoxide.toml").write_text(make.recipe_text("zoxide"))
    git(repo, "add", "recipes")
    git(repo, "commit", "-q", "-m", "an unrelated recipe")
    reconcile(repo, now=make.now)
    assert entries(layout)["rg"].status == "success"
    return git(repo, "rev-parse", "HEAD").strip()


def test_rollback_after_a_squash_merge_removes_exactly_the_batch_files(
    repo: Path, layout: Layout, squashed: str, git: Git
) -> None:
    proc = cli(
        "rollback",
        "--repo",
        str(repo),
        "--batch-id",
        BATCH,
        "--reason",
        "verify broke on arm64",
        "--now",
        "2026-01-30T09:00:00Z",
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["files"] == ["recipes/r/rg.toml", "recipes/b/bat.toml"]
    assert out["branch"] == f"rollback/{BATCH}" and out["requeued"] == ["cargo:bat", "cargo:ripgrep"]
    assert "PR body" in proc.stderr  # no token: the PR body is written locally

    branch = f"rollback/{BATCH}"
    assert git(repo, "rev-parse", f"{branch}^").strip() == squashed
    diff = git(repo, "diff", "--name-status", squashed, branch).splitlines()
    assert sorted(diff) == sorted(
        [
            "D\trecipes/b/bat.toml",
            "D\trecipes/r/rg.toml",
            f"A\tdata/batches/{BATCH}.rollback.json",
        ]
    )
    assert "zoxide.toml" in git(repo, "ls-tree", "-r", "--name-only", branch)
    record = load(RollbackRecord, layout.rollback_record(BATCH))
    assert record.reason == "verify broke on arm64" and record.files == tuple(out["files"])
    assert git(repo, "show", f"{branch}:data/batches/{BATCH}.rollback.json") == (
        layout.rollback_record(BATCH).read_text()
    )
    assert (
        (layout.batches_dir / f"{BATCH}.rollback.pr.md").read_text().startswith(f"# Roll back batch {BATCH}")
    )
    assert git(repo, "symbolic-ref", "--short", "HEAD").strip() == "main"
    assert (repo / "recipes" / "r" / "rg.toml").exists()  # the checkout is untouched

    e = entries(layout)
    assert (e["rg"].status, e["bat"].status, e["fd"].status) == ("pending", "pending", "failed")
    assert "verify broke on arm64" in e["rg"].reason

    # until the rollback PR merges, reconcile does not flip them back to success
    reconcile(repo, now=dt.datetime(2026, 1, 30, 10, tzinfo=dt.UTC))
    assert entries(layout)["rg"].status == "pending"

    again = cli("rollback", "--repo", str(repo), "--batch-id", BATCH)
    assert again.returncode == 5 and "rolled back already" in again.stderr


def test_rollback_refuses_a_recipe_changed_since_the_batch(
    repo: Path, layout: Layout, squashed: str, git: Git
) -> None:
    (repo / "recipes" / "r" / "rg.toml").write_text(
        "# edited by a human\n" + (repo / "recipes/r/rg.toml").read_text()
    )
    git(repo, "commit", "-q", "-am", "hand edit")
    proc = cli("rollback", "--repo", str(repo), "--batch-id", BATCH)
    assert proc.returncode == 1 and "main:recipes/r/rg.toml: changed since batch" in proc.stderr
    assert not layout.rollback_record(BATCH).exists()
    forced = cli("rollback", "--repo", str(repo), "--batch-id", BATCH, "--force")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["files"] == ["recipes/r/rg.toml", "recipes/b/bat.toml"]


def test_rollback_of_an_unknown_batch_is_named(repo: Path) -> None:
    proc = cli("rollback", "--repo", str(repo), "--batch-id", "2026-01-01-009")
    assert proc.returncode == EXIT_USAGE and "is not a recipeline repository (no data/" in proc.stderr
    (repo / "data").mkdir(exist_ok=True)
    proc = cli("rollback", "--repo", str(repo), "--batch-id", "2026-01-01-009")
    assert proc.returncode == 1 and "no manifest for batch 2026-01-01-009" in proc.stderr
    proc = cli("rollback", "--repo", str(repo), "--batch-id", "../../x")
    assert proc.returncode == EXIT_USAGE and proc.stderr.count("\n") == 1
    assert "argument --batch-id: expected a batch id YYYY-MM-DD-NNN, got '../../x'" in proc.stderr


def test_requeue_uses_the_last_failure_of_each_entry(tmp_path: Path, make: Make) -> None:
    layout = Layout(tmp_path)
    save(
        make.queue(
            [
                make.entry("a", status="failed", failure_count=5, next_retry_at=make.now),
                make.entry("b", status="failed", failure_count=2),
                make.entry("c", status="blocked", blocked_by=("libx",)),
                make.entry("d", status="failed"),
                make.entry("e", status="success"),
            ]
        ),
        layout.queue("cargo"),
    )
    f = make.failure
    old = FailureRecord(
        schema_version=1,
        ecosystem="cargo",
        environment="generation",
        batch_id="2026-01-28-001",
        updated_at=make.now.replace(day=28),
        failures=(
            f("cargo:a", "deterministic_insufficient", "no_bottle", "x"),
            f("cargo:b", "deterministic_insufficient", "no_bottle", "x"),
            f("cargo:e", "deterministic_insufficient", "no_bottle", "x"),
        ),
    )
    new = FailureRecord(
        schema_version=1,
        ecosystem="cargo",
        environment="linux-debian-glibc-x86_64",
        batch_id="2026-01-29-001",
        updated_at=make.now,
        failures=(
            f("cargo:b", "validation_failed", "install_failed", "y"),  # b failed differently since
            f("cargo:c", "deterministic_insufficient", "no_bottle", "z"),
            f("cargo:d", "deterministic_insufficient", "library_only", "w"),
        ),
    )
    write_jsonl([old], layout.failure_file("cargo", old.updated_at))
    write_jsonl([new], layout.failure_file("cargo", new.updated_at))
    proc = cli(
        "requeue",
        "--repo",
        str(tmp_path),
        "--category",
        "deterministic_insufficient",
        "--subcategory",
        "no_bottle",
        "--ecosystem",
        "cargo",
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["by_ecosystem"] == {"cargo": ["cargo:a", "cargo:c"]}
    e = {x.name: x for x in load(Queue, layout.queue("cargo")).entries}
    assert (e["a"].status, e["a"].failure_count, e["a"].next_retry_at) == ("pending", 0, None)
    assert (e["c"].status, e["c"].blocked_by) == ("pending", ())
    assert (e["b"].status, e["d"].status, e["e"].status) == ("failed", "failed", "success")

    bad = cli("requeue", "--repo", str(tmp_path), "--category", "api_error", "--subcategory", "no_bottle")
    assert bad.returncode == 1 and "expected rate_limited" in bad.stderr
    assert cli("requeue", "--repo", str(tmp_path), "--category", "nonsense").returncode == EXIT_USAGE


def test_a_batch_split_into_a_batch_and_a_review_pr_rolls_back_as_one(
    repo: Path, layout: Layout, make: Make, git: Git, write_batch: WriteBatch
) -> None:
    """Locally (no token): two branches, both PR bodies beside the manifest, the manifest names
    both PRs; after both PRs are squash-merged, rollback by batch id removes both recipes."""
    save(
        make.queue(
            [
                make.entry("rg", "cargo:ripgrep", status="in_progress", batch_id=BATCH),
                make.entry("bat", status="in_progress", batch_id=BATCH),
            ]
        ),
        layout.queue("cargo"),
    )
    packages = [("rg", "cargo:ripgrep"), ("bat", "cargo:bat")]
    report = make.report(
        make.linux, [make.result("rg", "cargo:ripgrep"), make.result("bat", "cargo:bat", safe=False)]
    )
    bdir = write_batch(
        layout,
        make.plan(packages),
        make.generation([make.generated(n, p) for n, p in packages]),
        [report],
        {n: make.recipe_text(n) for n, _ in packages},
    )
    result = merge(repo, bdir.path, now=make.now)
    assert (result.branch, result.review_branch) == (f"batch/{BATCH}", f"batch/{BATCH}-review")
    assert (layout.batches_dir / f"{BATCH}.pr.md").is_file()
    review_body = (layout.batches_dir / f"{BATCH}.review.pr.md").read_text()
    assert "bat" in review_body and "| safety | FAIL |" in review_body and "rg |" not in review_body
    manifest = load(BatchManifest, layout.manifest(BATCH))
    assert [(pr.kind, pr.branch, pr.auto_merge, pr.recipes) for pr in manifest.pull_requests] == [
        ("batch", f"batch/{BATCH}", False, ("recipes/r/rg.toml",)),  # locally there are no checks
        ("review", f"batch/{BATCH}-review", False, ("recipes/b/bat.toml",)),
    ]
    assert [p.review for p in manifest.packages] == [False, True]
    assert entries(layout)["bat"].status == "in_progress"  # waiting for its reviewer

    git(repo, "add", "-A", "data", "batch-control.json")
    git(repo, "commit", "-q", "-m", "chore(data): batch state")
    for branch in (f"batch/{BATCH}", f"batch/{BATCH}-review"):  # identical manifests: no conflict
        git(repo, "merge", "--squash", "-q", branch)
        git(repo, "commit", "-q", "-m", f"squash {branch}")
        git(repo, "branch", "-D", branch)
    reconcile(repo, now=make.now)
    assert {e.status for e in entries(layout).values()} == {"success"}
    rolled = rollback(repo, batch_id=BATCH, reason="bad batch", now=make.now)
    assert sorted(rolled.record.files) == ["recipes/b/bat.toml", "recipes/r/rg.toml"]
    assert sorted(rolled.record.requeued) == ["cargo:bat", "cargo:ripgrep"]
