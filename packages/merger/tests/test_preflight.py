"""preflight on a real repository directory: stop, selection, ids, writes, the writer lock."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from recipeline_merger import StoppedError, default_control, preflight
from recipeline_schema import BatchPlan, Layout, Queue, file_lock, load, save
from recipeline_schema.exitcodes import EXIT_USAGE

if TYPE_CHECKING:
    from .conftest import Make


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty repository directory (preflight needs no git)."""
    path = tmp_path / "repo"
    path.mkdir()
    return path


@pytest.fixture
def seeded(root: Path, make: Make) -> Layout:
    """``root`` with a cargo queue of three pending entries and one pending npm entry."""
    layout = Layout(root)
    save(
        make.queue([make.entry("ripgrep", priority=1), make.entry("bat"), make.entry("fd", "cargo:fd-find")]),
        layout.queue("cargo"),
    )
    save(make.queue([make.entry("prettier", "npm:prettier")], ecosystem="npm"), layout.queue("npm"))
    return layout


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "recipeline_merger", *args], capture_output=True, text=True, timeout=timeout
    )


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_selection_marks_in_progress_and_writes_the_plan(seeded: Layout) -> None:
    proc = cli(
        "preflight",
        "--repo",
        str(seeded.root),
        "--ecosystem",
        "crates.io",
        "--batch-size",
        "2",
        "--tier",
        "2",
        "--now",
        "2026-01-29T10:00:00Z",
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out == {
        "batch_id": "2026-01-29-001",
        "batch_dir": str(seeded.batch_dir("2026-01-29-001")),
        "selected": 2,
        "reason": "",
        "breaker": "closed",
        "macos_validation": "full",
    }
    plan = load(BatchPlan, seeded.batch_dir("2026-01-29-001") / "manifest.json")
    assert [p.package_id for p in plan.packages] == ["cargo:ripgrep", "cargo:bat"]
    assert (plan.ecosystem, plan.tier) == ("cargo", 2)
    status = {e.source: (e.status, e.batch_id) for e in load(Queue, seeded.queue("cargo")).entries}
    assert status == {
        "cargo:ripgrep": ("in_progress", "2026-01-29-001"),
        "cargo:bat": ("in_progress", "2026-01-29-001"),
        "cargo:fd-find": ("pending", None),
    }


def test_ids_increment_within_a_day(seeded: Layout, make: Make) -> None:
    first = preflight(seeded.root, ecosystem="cargo", batch_size=1, now=make.now)
    second = preflight(seeded.root, ecosystem="npm", batch_size=1, now=make.now)
    seeded.batches_dir.mkdir(parents=True)
    (seeded.batches_dir / "2026-01-29-007.json").write_text("{}")  # a merged batch counts too
    (seeded.batches_dir / "2026-01-29-009.pr.md").write_text("not a manifest")
    third = preflight(seeded.root, ecosystem="cargo", batch_size=1, now=make.now)
    assert [first.batch_id, second.batch_id, third.batch_id] == [
        "2026-01-29-001",
        "2026-01-29-002",
        "2026-01-29-008",
    ]


def test_in_progress_entries_of_a_vanished_batch_are_selected_again(seeded: Layout, make: Make) -> None:
    killed = preflight(seeded.root, ecosystem="cargo", batch_size=1, now=make.now)
    assert killed.batch_dir is not None
    (killed.batch_dir / "manifest.json").unlink()  # as if preflight died before writing its plan
    again = preflight(seeded.root, ecosystem="cargo", batch_size=1, now=make.now)
    assert again.batch_id == "2026-01-29-002" and again.selected == 1
    (entry,) = [e for e in load(Queue, seeded.queue("cargo")).entries if e.name == "ripgrep"]
    assert (entry.status, entry.batch_id) == ("in_progress", "2026-01-29-002")
    # and a batch whose plan exists is live: its entries stay with it
    third = preflight(seeded.root, ecosystem="cargo", batch_size=1, now=make.now)
    assert third.batch_id == "2026-01-29-003"
    plan = load(BatchPlan, seeded.batch_dir("2026-01-29-003") / "manifest.json")
    assert [p.name for p in plan.packages] == ["bat"]


def test_empty_selection_writes_nothing(seeded: Layout, make: Make) -> None:
    waiting = make.queue([make.entry("x", status="failed", next_retry_at=make.now + dt.timedelta(hours=2))])
    save(waiting, seeded.queue("cargo"))
    before = snapshot(seeded.root)
    proc = cli(
        "preflight",
        "--repo",
        str(seeded.root),
        "--ecosystem",
        "cargo",
        "--batch-size",
        "5",
        "--now",
        "2026-01-29T10:00:00Z",
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert (out["batch_id"], out["batch_dir"], out["selected"]) == (None, None, 0)
    assert "1 failed waiting for retry" in out["reason"]
    after = snapshot(seeded.root)
    after.pop("build/recipeline.lock", None)
    assert after == before
    assert not (seeded.build / "batches").exists()


def test_missing_queue_is_an_empty_selection_with_a_reason(root: Path, make: Make) -> None:
    result = preflight(root, ecosystem="go", batch_size=5, now=make.now)
    assert (result.batch_id, result.selected) == (None, 0)
    assert result.reason.startswith("no go queue at ")
    assert result.reason.endswith(f": seed it with: invoke seed --ecosystem go --repo {root}")
    assert not (root / "build" / "batches").exists() and not (root / "data").exists()


def test_global_stop_refuses_with_exit_3_and_one_line(seeded: Layout, make: Make) -> None:
    control = dataclasses.replace(
        default_control(make.now),
        enabled=False,
        reason="incident in progress",
        incident_url="https://example.org/i/1",
    )
    save(control, seeded.control)
    before = snapshot(seeded.root)
    proc = cli("preflight", "--repo", str(seeded.root), "--ecosystem", "cargo", "--batch-size", "5")
    assert proc.returncode == 3 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1
    assert "pipeline stopped: incident in progress (incident https://example.org/i/1)" in proc.stderr
    assert snapshot(seeded.root) == before


def test_disabled_ecosystem_refuses_and_others_run(seeded: Layout, make: Make) -> None:
    save(
        dataclasses.replace(
            default_control(make.now),
            disabled_ecosystems=("cargo",),
            disabled_reasons={"cargo": "crates API outage"},
        ),
        seeded.control,
    )
    with pytest.raises(StoppedError, match="ecosystem cargo stopped: crates API outage"):
        preflight(seeded.root, ecosystem="cargo", batch_size=5, now=make.now)
    assert preflight(seeded.root, ecosystem="npm", batch_size=5, now=make.now).selected == 1
    proc = cli("preflight", "--repo", str(seeded.root), "--ecosystem", "cargo", "--batch-size", "5")
    assert proc.returncode == 3 and "crates API outage" in proc.stderr


def test_second_preflight_while_the_lock_is_held_refuses(seeded: Layout) -> None:
    before = snapshot(seeded.root)
    with file_lock(seeded.lock):
        started = time.monotonic()
        proc = cli(
            "preflight",
            "--repo",
            str(seeded.root),
            "--ecosystem",
            "cargo",
            "--batch-size",
            "5",
            "--lock-timeout",
            "0.3",
        )
        waited = time.monotonic() - started
    assert proc.returncode == 4, proc.stderr
    assert "another recipeline writer holds" in proc.stderr and proc.stderr.count("\n") == 1
    assert waited >= 0.3
    current = snapshot(seeded.root)
    current.pop("build/recipeline.lock", None)
    before.pop("build/recipeline.lock", None)
    assert current == before


def test_preflight_waits_for_a_writer_that_finishes(seeded: Layout, make: Make) -> None:
    held = threading.Event()

    def writer() -> None:
        with file_lock(seeded.lock):
            held.set()
            time.sleep(0.3)

    thread = threading.Thread(target=writer)
    thread.start()
    held.wait(5)
    try:
        result = preflight(seeded.root, ecosystem="cargo", batch_size=1, now=make.now, lock_timeout=10)
    finally:
        thread.join()
    assert result.selected == 1


def test_a_malformed_queue_is_named_and_left_alone(seeded: Layout) -> None:
    seeded.queue("cargo").write_text('{"schema_version": 1, "entries": "nope"}')
    proc = cli("preflight", "--repo", str(seeded.root), "--ecosystem", "cargo", "--batch-size", "5")
    assert proc.returncode == 1
    assert "priority-queue-cargo.json" in proc.stderr and proc.stderr.count("\n") == 1
    assert seeded.queue("cargo").read_text() == '{"schema_version": 1, "entries": "nope"}'


@pytest.mark.parametrize(
    "args",
    [
        ["--ecosystem", "cobol", "--batch-size", "5"],
        ["--ecosystem", "cargo", "--batch-size", "0"],
        ["--ecosystem", "cargo", "--batch-size", "5", "--tier", "4"],
        ["--ecosystem", "cargo", "--batch-size", "101"],
        ["--ecosystem", "cargo", "--batch-size", "5", "--now", "yesterday"],
    ],
)
def test_usage_errors_exit_64_with_one_line(seeded: Layout, args: list[str]) -> None:
    before = seeded.queue("cargo").read_bytes()
    for extra in ([], ["--check"]):
        proc = cli("preflight", "--repo", str(seeded.root), *args, *extra)
        assert proc.returncode == EXIT_USAGE and proc.stderr.startswith(
            "recipeline-merger preflight: argument --"
        )
        assert proc.stderr.count("\n") == 1
    assert seeded.queue("cargo").read_bytes() == before and not (seeded.root / "build" / "batches").exists()


def test_check_reads_nothing_and_says_the_input_is_valid(tmp_path: Path) -> None:
    nowhere = str(tmp_path / "nowhere")
    proc = cli("preflight", "--repo", nowhere, "--ecosystem", "crates", "--batch-size", "100", "--check")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"valid": True, "ecosystem": "cargo", "batch_size": 100, "tier": 3}


def test_a_dry_run_reports_the_selection_and_writes_nothing(seeded: Layout, make: Make) -> None:
    def state() -> dict[Path, bytes]:  # everything but build/, where the writer lock lives
        return {p: p.read_bytes() for p in seeded.root.rglob("*") if p.is_file() and "build" not in p.parts}

    before = state()
    result = preflight(seeded.root, ecosystem="cargo", batch_size=2, now=make.now, dry_run=True)
    assert result.batch_id is None and result.selected == 2 == len(result.packages)
    assert result.reason.startswith("dry run: would select 2 as batch ")
    assert state() == before
    assert not (seeded.root / "build" / "batches").exists()
