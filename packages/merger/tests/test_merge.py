"""merge against a real git repository: the batch branch, the untouched checkout, the state files."""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

from recipeline_merger import (
    AlreadyMergedError,
    LocalPublisher,
    PullRequestRequest,
    StoppedError,
    default_control,
    merge,
    parse_trailers,
    preflight,
)
from recipeline_schema import (
    BatchControl,
    BatchDir,
    BatchManifest,
    BatchPlan,
    FailureRecord,
    Layout,
    MetricsLine,
    Queue,
    QueueEntry,
    ValidationReport,
    load,
    read_jsonl,
    recipe_from_toml,
    save,
    sha256_text,
)
from recipeline_schema.models import DiscoveredVerify

if TYPE_CHECKING:
    from .conftest import Git, Make, WriteBatch

BATCH = "2026-01-29-001"
BRANCH = f"batch/{BATCH}"
NOW = "2026-01-29T11:00:00Z"

#: The batch directory and the recipes it holds, by name.
Batch = tuple[BatchDir, dict[str, str]]


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "recipeline_merger", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.fixture
def batch(repo: Path, layout: Layout, make: Make, git: Git, write_batch: WriteBatch) -> Batch:
    """A batch planned by preflight and run through generation and validation (4 packages:
    rg and bat pass, fd fails everywhere, nope fails at generation); the queue is committed."""
    save(
        make.queue(
            [
                make.entry("rg", "cargo:ripgrep", priority=1),
                make.entry("bat"),
                make.entry("fd", "cargo:fd-find"),
                make.entry("nope"),
                make.entry("waiting", priority=3),
            ]
        ),
        layout.queue("cargo"),
    )
    git(repo, "add", "data")
    git(repo, "commit", "-q", "-m", "seed cargo queue")
    result = preflight(repo, ecosystem="cargo", batch_size=4, tier=2, now=make.now)
    assert result.batch_id == BATCH
    plan = load(BatchPlan, layout.batch_dir(BATCH) / "manifest.json")
    f = make.failure
    generation = make.generation(
        [
            make.generated("rg", "cargo:ripgrep", override=True),
            make.generated("bat", "cargo:bat"),
            make.generated("fd", "cargo:fd-find"),
            make.generated(
                "nope",
                "cargo:nope",
                "failed",
                failure=f("cargo:nope", "deterministic_insufficient", "library_only", "no binaries"),
            ),
        ]
    )
    reports = [
        make.report(
            make.linux,
            [
                make.result("rg", "cargo:ripgrep"),
                make.result("bat", "cargo:bat"),
                make.result(
                    "fd", "cargo:fd-find", "fail", failure=f("cargo:fd-find", message="cargo install failed")
                ),
            ],
            duration=240.0,
        ),
        make.report(
            make.mac,
            [
                make.result("rg", "cargo:ripgrep"),
                make.result("fd", "cargo:fd-find", "fail", failure=f("cargo:fd-find")),
            ],
            duration=360.0,
        ),
    ]
    recipes = {
        "rg": make.recipe_text("rg", "ripgrep"),
        "bat": make.recipe_text("bat"),
        "fd": make.recipe_text("fd"),
    }
    bdir = write_batch(layout, plan, generation, reports, recipes)
    return bdir, recipes


def test_merge_builds_one_commit_on_the_batch_branch(
    repo: Path, layout: Layout, batch: Batch, git: Git
) -> None:
    bdir, recipes = batch
    head = git(repo, "rev-parse", "HEAD").strip()
    index = (repo / ".git" / "index").read_bytes()

    proc = cli("merge", "--repo", str(repo), "--batch-dir", str(bdir.path), "--now", NOW)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert (summary["merged"], summary["excluded"], summary["failed"], summary["total"]) == (2, 1, 1, 4)
    assert summary["branch"] == BRANCH and summary["auto_merge"] is False
    assert summary["gates"] == {
        "safety": True,
        "validated": True,
        "no_review_exclusions": True,
        "checks": False,
    }

    # exactly one new commit, on top of HEAD, carrying the trailer
    assert git(repo, "rev-list", f"HEAD..{BRANCH}").split() == [summary["commit"]]
    assert git(repo, "rev-parse", f"{BRANCH}^").strip() == head
    message = git(repo, "log", "-1", "--format=%B", BRANCH)
    assert message.startswith(
        f"feat(recipes): add batch {BATCH} cargo recipes\n\nBatch generation of 4 Cargo"
    )
    assert parse_trailers(message) == {
        "batch_id": BATCH,
        "ecosystem": "cargo",
        "batch_size": "4",
        "success_rate": "0.50",
    }

    # the commit adds the recipes and the batch's own data files, nothing else
    failure_rel = json.loads((layout.manifest(BATCH)).read_text())["failure_file"]
    changed = set(git(repo, "diff", "--name-only", "HEAD", BRANCH).split())
    assert changed == {"recipes/r/rg.toml", "recipes/b/bat.toml", f"data/batches/{BATCH}.json", failure_rel}
    assert git(repo, "show", f"{BRANCH}:recipes/r/rg.toml") == recipes["rg"]
    for rel in (f"data/batches/{BATCH}.json", failure_rel):
        assert git(repo, "show", f"{BRANCH}:{rel}") == (repo / rel).read_text()  # byte-identical copies

    # the checkout is untouched: same HEAD, same index, no recipe in the working tree
    assert git(repo, "rev-parse", "HEAD").strip() == head
    assert git(repo, "symbolic-ref", "--short", "HEAD").strip() == "main"
    assert (repo / ".git" / "index").read_bytes() == index
    assert not (repo / "recipes").exists()
    changed_in_checkout = [line[3:] for line in git(repo, "status", "--porcelain", "-uall").splitlines()]
    assert changed_in_checkout and all(
        path.startswith("data/") or path == "batch-control.json" for path in changed_in_checkout
    )


def test_merge_writes_valid_state_once(repo: Path, layout: Layout, batch: Batch, make: Make) -> None:
    bdir, recipes = batch
    result = merge(repo, bdir.path, now=make.now.replace(hour=11))
    assert result.failure_file is not None
    manifest = load(BatchManifest, layout.manifest(BATCH))
    pkgs = {p.name: p for p in manifest.packages}
    assert (pkgs["rg"].outcome, pkgs["rg"].sha256) == ("merged", sha256_text(recipes["rg"]))
    assert pkgs["rg"].environments == {make.mac: "pass", make.linux: "pass"}
    assert (pkgs["fd"].outcome, pkgs["nope"].outcome) == ("excluded", "failed")
    assert (
        manifest.branch == BRANCH
        and manifest.failure_file == result.failure_file.relative_to(repo).as_posix()
    )

    records = read_jsonl(FailureRecord, result.failure_file)
    assert [r.environment for r in records] == ["generation", make.mac, make.linux]
    assert all(r.batch_id == BATCH for r in records)
    assert result.failure_file.name == "cargo-2026-01-29T11-00-00Z.jsonl"

    (line,) = read_jsonl(MetricsLine, layout.metrics)
    assert (line.batch_id, line.merged, line.total, line.validated_linux, line.validated_macos) == (
        BATCH,
        2,
        4,
        2,
        1,
    )
    assert (line.linux_minutes, line.macos_minutes, line.used_disambiguation) == (4.0, 6.0, 1)

    queue = {e.name: e for e in load(Queue, layout.queue("cargo")).entries}
    assert (queue["rg"].status, queue["rg"].batch_id) == ("in_progress", BATCH)
    assert (queue["fd"].status, queue["fd"].failure_count) == ("failed", 1)
    assert queue["nope"].status == "failed" and queue["waiting"].status == "pending"

    body = bdir.pr_body.read_text()
    assert body.startswith(f"# Batch {BATCH}: 2 of 4 Cargo recipes")
    assert (layout.batches_dir / f"{BATCH}.pr.md").read_text() == body
    assert result.notes and "no GITHUB_TOKEN" in result.notes[0]


def test_a_second_merge_of_the_same_batch_refuses(repo: Path, layout: Layout, batch: Batch) -> None:
    bdir, _ = batch
    first = cli("merge", "--repo", str(repo), "--batch-dir", str(bdir.path), "--now", NOW)
    assert first.returncode == 0, first.stderr
    state = {p: p.read_bytes() for p in (layout.data).rglob("*") if p.is_file()}
    second = cli("merge", "--repo", str(repo), "--batch-dir", str(bdir.path), "--now", "2026-01-29T12:00:00Z")
    assert second.returncode == 5 and second.stdout == ""
    assert f"batch {BATCH} was merged already" in second.stderr and second.stderr.count("\n") == 1
    assert {p: p.read_bytes() for p in (layout.data).rglob("*") if p.is_file()} == state
    assert len(list(layout.failures_dir.glob("*.jsonl"))) == 1


def test_an_interrupted_merge_completes_without_duplicates(
    repo: Path, layout: Layout, batch: Batch, make: Make, git: Git
) -> None:
    bdir, _ = batch

    class SimulatedKillError(Exception):
        pass

    class DiesWhilePublishing(LocalPublisher):
        def publish(self, request: PullRequestRequest) -> NoReturn:
            raise SimulatedKillError  # after failures, branch, metrics and queue; before the manifest

    with pytest.raises(SimulatedKillError):
        merge(repo, bdir.path, now=make.now.replace(hour=11), publisher=DiesWhilePublishing(layout))
    assert not layout.manifest(BATCH).exists()
    merge(repo, bdir.path, now=make.now.replace(hour=12))
    assert len(read_jsonl(MetricsLine, layout.metrics)) == 1
    (failure_file,) = layout.failures_dir.glob("*.jsonl")
    assert failure_file.name == "cargo-2026-01-29T11-00-00Z.jsonl"  # found again, not written twice
    queue = {e.name: e for e in load(Queue, layout.queue("cargo")).entries}
    assert queue["fd"].failure_count == 1
    assert len(git(repo, "rev-list", f"HEAD..{BRANCH}").split()) == 1
    with pytest.raises(AlreadyMergedError):
        merge(repo, bdir.path, now=make.now.replace(hour=13))


def test_two_batches_merged_in_the_same_second_keep_both_failure_files(
    repo: Path, layout: Layout, make: Make, write_batch: WriteBatch
) -> None:
    entries: list[QueueEntry] = []
    for number, name in ((1, "aa"), (2, "bb")):
        batch_id = f"2026-01-29-00{number}"
        entries.append(make.entry(name, status="in_progress", batch_id=batch_id))
    save(make.queue(entries), layout.queue("cargo"))
    files: list[Path] = []
    for number, name in ((1, "aa"), (2, "bb")):
        batch_id = f"2026-01-29-00{number}"
        plan = make.plan([(name, f"cargo:{name}")], batch_id=batch_id)
        failure = make.failure(f"cargo:{name}", "deterministic_insufficient", None, "no")
        generation = make.generation(
            [make.generated(name, f"cargo:{name}", "failed", failure=failure)], batch_id
        )
        bdir = write_batch(layout, plan, generation, [], {})
        failure_file = merge(repo, bdir.path, now=make.now).failure_file
        assert failure_file is not None
        files.append(failure_file)
    assert [f.name for f in files] == ["cargo-2026-01-29T10-00-00Z.jsonl", "cargo-2026-01-29T10-00-01Z.jsonl"]
    assert [read_jsonl(FailureRecord, f)[0].batch_id for f in files] == ["2026-01-29-001", "2026-01-29-002"]


def test_a_batch_with_nothing_to_merge_makes_no_branch(
    repo: Path, layout: Layout, make: Make, git: Git, write_batch: WriteBatch
) -> None:
    save(
        make.queue([make.entry("fd", "cargo:fd-find", status="in_progress", batch_id=BATCH)]),
        layout.queue("cargo"),
    )
    plan = make.plan([("fd", "cargo:fd-find")])
    generation = make.generation([make.generated("fd", "cargo:fd-find")])
    report = make.report(
        make.linux, [make.result("fd", "cargo:fd-find", "fail", failure=make.failure("cargo:fd-find"))]
    )
    bdir = write_batch(layout, plan, generation, [report], {"fd": make.recipe_text("fd")})
    result = merge(repo, bdir.path, now=make.now)
    assert (result.branch, result.commit, result.pr_body) == (None, None, None)
    assert git(repo, "branch", "--list", "batch/*") == ""
    assert load(BatchManifest, layout.manifest(BATCH)).branch == ""
    assert read_jsonl(MetricsLine, layout.metrics)[0].merged == 0
    assert not bdir.pr_body.exists()


def test_merge_honours_the_emergency_stop(repo: Path, layout: Layout, batch: Batch, make: Make) -> None:
    bdir, _ = batch
    save(dataclasses.replace(default_control(make.now), disabled_ecosystems=("cargo",)), layout.control)
    with pytest.raises(StoppedError, match="ecosystem cargo stopped"):
        merge(repo, bdir.path, now=make.now)
    assert not layout.metrics.exists() and not layout.manifest(BATCH).exists()


def test_a_token_without_a_repository_is_refused_before_any_write(
    repo: Path, layout: Layout, batch: Batch
) -> None:
    bdir, _ = batch
    secret = "ghp_doNotLeakThis0123456789"
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_REPOSITORY"}
    proc = cli(
        "merge",
        "--repo",
        str(repo),
        "--batch-dir",
        str(bdir.path),
        "--now",
        NOW,
        env={**env, "GITHUB_TOKEN": secret},
    )
    assert proc.returncode == 1
    assert "GITHUB_REPOSITORY (owner/name) is not" in proc.stderr
    assert secret not in proc.stdout + proc.stderr
    assert not layout.manifest(BATCH).exists() and not layout.metrics.exists()
    for path in repo.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_a_recipe_whose_name_differs_is_refused_before_any_write(
    repo: Path, layout: Layout, batch: Batch
) -> None:
    bdir, _ = batch
    bdir.recipe("bat").write_text(bdir.recipe("rg").read_text())
    proc = cli("merge", "--repo", str(repo), "--batch-dir", str(bdir.path), "--now", NOW)
    assert proc.returncode == 1
    assert "metadata.name is 'rg', expected 'bat'" in proc.stderr
    assert not layout.metrics.exists() and not layout.failures_dir.exists()


def test_missing_generation_report_is_named(repo: Path, layout: Layout, batch: Batch) -> None:
    bdir, _ = batch
    bdir.generation.unlink()
    proc = cli("merge", "--repo", str(repo), "--batch-dir", str(bdir.path))
    assert (
        proc.returncode == 1
        and "generation.json" in proc.stderr
        and "expected the file to exist" in proc.stderr
    )


def test_merge_outside_a_git_repository_fails_cleanly(
    tmp_path: Path, make: Make, write_batch: WriteBatch
) -> None:
    layout = Layout(tmp_path / "plain")
    save(make.queue([make.entry("rg", status="in_progress", batch_id=BATCH)]), layout.queue("cargo"))
    plan = make.plan([("rg", "cargo:rg")])
    generation = make.generation([make.generated("rg", "cargo:rg")])
    bdir = write_batch(
        layout,
        plan,
        generation,
        [make.report(make.linux, [make.result("rg", "cargo:rg")])],
        {"rg": make.recipe_text("rg")},
    )
    proc = cli("merge", "--repo", str(layout.root), "--batch-dir", str(bdir.path))
    assert proc.returncode == 1 and "git rev-parse" in proc.stderr and "Traceback" not in proc.stderr


def test_merge_moves_the_breaker_and_the_budget_once(
    repo: Path, layout: Layout, batch: Batch, make: Make
) -> None:
    bdir, _ = batch
    result = merge(repo, bdir.path, now=make.now.replace(hour=11))
    assert result.breaker == "closed"
    control = load(BatchControl, layout.control)
    breaker = control.circuit_breaker["cargo"]
    # rg, bat merged; fd excluded (validation_failed), nope failed (deterministic): hard failures
    assert breaker.recent == (True, True, False, False)
    assert (breaker.consecutive_failures, breaker.failure_points) == (2, 4)
    assert (control.budget.linux_minutes_used, control.budget.macos_minutes_used) == (4.0, 6.0)


def test_the_committed_recipe_carries_its_platform_constraints(
    repo: Path, layout: Layout, batch: Batch, make: Make, git: Git
) -> None:
    bdir, recipes = batch
    mac = load(ValidationReport, bdir.results(make.mac))
    failed_bat = make.result("bat", "cargo:bat", "fail", failure=make.failure("cargo:bat"))
    save(dataclasses.replace(mac, results=(*mac.results, failed_bat)), bdir.results(make.mac))
    merge(repo, bdir.path, now=make.now.replace(hour=11))
    committed = git(repo, "show", f"{BRANCH}:recipes/b/bat.toml")
    assert recipe_from_toml(committed).metadata["supported_os"] == ["linux"]
    assert git(repo, "show", f"{BRANCH}:recipes/r/rg.toml") == recipes["rg"]  # passed both: unchanged
    manifest = load(BatchManifest, layout.manifest(BATCH))
    assert {p.name: p.sha256 for p in manifest.packages if p.sha256} == {
        "rg": sha256_text(recipes["rg"]),
        "bat": sha256_text(committed),
    }


def test_a_kill_after_the_control_write_does_not_count_the_batch_twice(
    repo: Path, layout: Layout, batch: Batch, make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    merge_module = importlib.import_module("recipeline_merger.merge")  # the package exports a function
    bdir, _ = batch

    def killed(*args: object, **kwargs: object) -> NoReturn:
        raise KeyboardInterrupt  # the process dies before the metrics line is written

    monkeypatch.setattr(merge_module, "append_jsonl", killed)
    with pytest.raises(KeyboardInterrupt):
        merge(repo, bdir.path, now=make.now.replace(hour=11))
    monkeypatch.undo()
    assert not layout.metrics.exists()
    merge(repo, bdir.path, now=make.now.replace(hour=11))
    control = load(BatchControl, layout.control)
    assert control.circuit_breaker["cargo"].recent == (True, True, False, False)
    assert control.circuit_breaker["cargo"].last_batch == BATCH
    assert (control.budget.linux_minutes_used, control.budget.macos_minutes_used) == (4.0, 6.0)
    assert len(read_jsonl(MetricsLine, layout.metrics)) == 1


def test_the_committed_recipe_carries_the_verify_the_validation_found(
    repo: Path, layout: Layout, batch: Batch, make: Make, git: Git
) -> None:
    """rg answers ``-V`` with exit 1 on macOS and Linux: only [verify] of the committed recipe
    changes, every other byte is the generator's."""
    bdir, recipes = batch
    found = DiscoveredVerify(command="rg -V", exit_code=1, reason="first version probe")
    for env in (make.linux, make.mac):
        report = load(ValidationReport, bdir.results(env))
        results = tuple(dataclasses.replace(r, verify=found) if r.name == "rg" else r for r in report.results)
        save(dataclasses.replace(report, results=results), bdir.results(env))

    merge(repo, bdir.path, now=make.now.replace(hour=11))

    committed = git(repo, "show", f"{BRANCH}:recipes/r/rg.toml")
    before, _, _ = recipes["rg"].partition("[verify]\n")
    assert committed == before + '[verify]\ncommand = "rg -V"\npattern = "{version}"\nexit_code = 1\n'
    verify = tomllib.loads(committed)["verify"]
    assert verify == {"command": "rg -V", "pattern": "{version}", "exit_code": 1}
    assert git(repo, "show", f"{BRANCH}:recipes/b/bat.toml") == recipes["bat"]  # no discovery: as generated
    manifest = load(BatchManifest, layout.manifest(BATCH))
    assert {p.name: p.sha256 for p in manifest.packages if p.sha256}["rg"] == sha256_text(committed)


def test_a_name_an_open_npm_batch_proposes_is_not_committed_twice(
    repo: Path, layout: Layout, batch: Batch, make: Make, git: Git
) -> None:
    """npm's batch proposes ``bat`` too: the cargo batch leaves its recipe out and its entry
    becomes requires_manual naming the holder; ``rg`` is committed as before."""
    bdir, _ = batch
    save(make.queue([make.entry("bat", "npm:bat", status="in_progress")], "npm"), layout.queue("npm"))

    merge(repo, bdir.path, now=make.now.replace(hour=11))

    tree = git(repo, "ls-tree", "-r", "--name-only", BRANCH, "recipes").split()
    assert "recipes/r/rg.toml" in tree and "recipes/b/bat.toml" not in tree
    (bat,) = [e for e in load(Queue, layout.queue("cargo")).entries if e.name == "bat"]
    assert bat.status == "requires_manual"
    assert bat.reason == (
        "'bat' is also proposed or merged as npm:bat (in_progress); add a curated disambiguation to choose"
    )
    manifest = load(BatchManifest, layout.manifest(BATCH))
    assert {p.name: p.outcome for p in manifest.packages}["bat"] == "skipped"
