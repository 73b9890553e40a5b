"""tsuku's real batch-control.json (fixtures): read, converted, and its open breakers recover."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from recipeline_merger import preflight
from recipeline_schema import BatchControl, BatchPlan, Layout, load, save

if TYPE_CHECKING:
    from .conftest import Make

FIXTURE = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "tsuku" / "batch-control.json"
pytestmark = pytest.mark.skipif(not FIXTURE.exists(), reason=f"tsuku fixtures not found at {FIXTURE}")


def test_tsukus_open_breakers_half_open_and_probe_one_package(tmp_path: Path, make: Make) -> None:
    """tsuku's six breakers stayed open for months (§12.1); here the next run probes one package."""
    layout = Layout(tmp_path)
    shutil.copy(FIXTURE, layout.control)
    save(
        make.queue(
            [
                make.entry("poison", "pypi:poison", priority=1, popularity=10**9, last_attempt_at=make.now),
                make.entry("httpie", "pypi:httpie"),
                make.entry("black", "pypi:black"),
            ],
            ecosystem="pypi",
        ),
        layout.queue("pypi"),
    )
    now = dt.datetime(2026, 6, 27, 9, 0, tzinfo=dt.UTC)
    result = preflight(tmp_path, ecosystem="pypi", batch_size=10, now=now)
    assert result.breaker == "half_open" and result.selected == 1
    plan = load(BatchPlan, layout.batch_dir(str(result.batch_id)) / "manifest.json")
    assert [p.name for p in plan.packages] == ["black"]  # never attempted (queue order), not the poison head
    control = load(BatchControl, layout.control)  # rewritten in the contract's form
    assert control.circuit_breaker["pypi"].probe == "pypi:black"
    assert control.circuit_breaker["cargo"].state == "open"  # crates.io mapped; untouched until its run
    assert control.circuit_breaker["cargo"].consecutive_failures == 993
    assert "github" not in control.circuit_breaker and "default" not in control.circuit_breaker
    assert control.budget.week_start == dt.date(2026, 6, 22)
