"""Fixtures for recipeline-schema tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED = REPO_ROOT.parent / "shared"


@pytest.fixture
def now() -> dt.datetime:
    """A fixed UTC instant, so tests never read the clock."""
    return dt.datetime(2026, 1, 29, 10, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def tsuku_fixtures() -> Path:
    """tsuku's real data in ../shared/fixtures/tsuku (skips when the folder is absent)."""
    path = SHARED / "fixtures" / "tsuku"
    if not path.is_dir():
        pytest.skip(f"tsuku fixtures not present at {path}")
    return path
