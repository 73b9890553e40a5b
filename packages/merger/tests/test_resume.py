"""The resume protocol: a killed batch is found from its typed files; a corrupt one is refused."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from typing import TYPE_CHECKING

from recipeline_merger.resume import batch_state, resume_state, unfinished_batches
from recipeline_schema import BatchDir, Layout, save

if TYPE_CHECKING:
    from .conftest import Make


def test_a_killed_batch_is_found_with_its_ecosystem_and_where_generation_stopped(
    layout: Layout, make: Make
) -> None:
    done = BatchDir(layout.batch_dir("2026-01-29-001"))
    save(make.plan([("a", "cargo:a")]), done.plan)
    save(make.plan([("a", "cargo:a")]), layout.manifest("2026-01-29-001"))  # merged: finished
    killed = BatchDir(layout.batch_dir("2026-01-29-002"))
    save(make.plan([("b", "npm:b")], batch_id="2026-01-29-002", ecosystem="npm"), killed.plan)
    generation = make.generation([make.generated("b", "npm:b")], batch_id="2026-01-29-002")
    save(dataclasses.replace(generation, complete=False), killed.generation)
    (layout.root / "build" / "batches" / "2026-01-29-003").mkdir()  # no plan: not a live batch

    assert unfinished_batches(layout.root) == [killed.path]
    assert resume_state(layout.root) == {
        "batch_dir": str(killed.path), "ecosystem": "npm", "generation_complete": False
    }  # fmt: skip
    save(generation, killed.generation)
    assert batch_state(killed.path).generation_complete is True


def test_nothing_unfinished(layout: Layout) -> None:
    assert resume_state(layout.root)["batch_dir"] is None


def test_a_corrupt_plan_is_one_line_naming_the_file_and_field_and_nothing_is_deleted(
    layout: Layout, make: Make
) -> None:
    killed = BatchDir(layout.batch_dir("2026-01-29-002"))
    save(make.plan([("b", "cargo:b")], batch_id="2026-01-29-002"), killed.plan)
    broken = json.loads(killed.plan.read_text(encoding="utf-8"))
    broken["ecosystem"] = 7
    killed.plan.write_text(json.dumps(broken), encoding="utf-8")
    before = killed.plan.read_bytes()

    command = [sys.executable, "-m", "recipeline_merger", "resume-state", "--repo", str(layout.root)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert str(killed.plan) in line and "ecosystem" in line
    assert killed.plan.read_bytes() == before and killed.path.is_dir()
