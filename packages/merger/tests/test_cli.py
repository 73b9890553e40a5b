"""The command line: help for every subcommand, the console script, the lock for merge."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from recipeline_merger.__main__ import main
from recipeline_schema import file_lock

if TYPE_CHECKING:
    from .conftest import Make, WriteBatch


@pytest.mark.parametrize("command", ["preflight", "merge", "reconcile"])
def test_every_subcommand_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "--repo" in capsys.readouterr().out


def test_console_script_is_installed() -> None:
    script = shutil.which("recipeline-merger", path=str(Path(sys.executable).parent))
    assert script is not None
    proc = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "preflight" in proc.stdout and "reconcile" in proc.stdout


def test_merge_refuses_while_another_writer_holds_the_lock(
    repo: Path, make: Make, write_batch: WriteBatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from recipeline_schema import Layout, save

    layout = Layout(repo)
    save(
        make.queue([make.entry("rg", status="in_progress", batch_id="2026-01-29-001")]), layout.queue("cargo")
    )
    plan = make.plan([("rg", "cargo:rg")])
    bdir = write_batch(
        layout,
        plan,
        make.generation([make.generated("rg", "cargo:rg")]),
        [make.report(make.linux, [make.result("rg", "cargo:rg")])],
        {"rg": make.recipe_text("rg")},
    )
    with file_lock(layout.lock):
        code = main(["merge", "--repo", str(repo), "--batch-dir", str(bdir.path), "--lock-timeout", "0.1"])
    err = capsys.readouterr().err
    assert code == 4 and "another recipeline writer holds" in err and err.count("\n") == 1
    assert not layout.manifest("2026-01-29-001").exists() and not layout.metrics.exists()
