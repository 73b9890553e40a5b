"""Fixtures for the end-to-end tests: a local package index, a scratch repository."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flowsupport import LocalIndex, git
from pytest_httpserver import HTTPServer


@pytest.fixture
def local_index() -> Iterator[LocalIndex]:
    """A local package index; add wheels with ``local_index.add(Wheel(...))``."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    index = LocalIndex(server)
    yield index
    server.clear()
    server.stop()


@pytest.fixture
def scratch_repo(tmp_path: Path) -> Path:
    """An empty recipeline repository (git, one commit) to run batches in."""
    repo = tmp_path / "repo"
    (repo / "data" / "queues").mkdir(parents=True)
    (repo / "recipes").mkdir()
    (repo / "README.md").write_text("scratch\n")
    (repo / ".gitignore").write_text("build/\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    return repo


@pytest.fixture
def flow_env(local_index: LocalIndex, tmp_path: Path) -> dict[str, str]:
    """Environment for child processes: the local index as pip's index, a git identity, no tokens."""
    env = {k: v for k, v in os.environ.items() if "TOKEN" not in k}
    env.update(
        PIP_INDEX_URL=local_index.url,
        PIP_CONFIG_FILE=os.devnull,
        GIT_AUTHOR_NAME="recipeline tests",
        GIT_AUTHOR_EMAIL="tests@recipeline.invalid",
        GIT_COMMITTER_NAME="recipeline tests",
        GIT_COMMITTER_EMAIL="tests@recipeline.invalid",
        HOME=str(tmp_path / "home"),
    )
    return env
