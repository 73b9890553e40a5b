"""The batch commit on a machine where git knows no identity (fresh machine, CI runner)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from recipeline_merger.gitrepo import FALLBACK_IDENTITY, commit_on_branch, read_blob


def test_commit_without_a_configured_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    home = tmp_path / "home"
    home.mkdir()
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    base = subprocess.run(  # an initial commit needs an identity too: give it on the command line
        ["git", "-C", str(repo), "-c", "user.name=x", "-c", "user.email=x@x.invalid",
         "commit", "-q", "--allow-empty", "-m", "initial"],
        check=True,
    )  # fmt: skip
    assert base.returncode == 0
    head = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()

    commit = commit_on_branch(
        repo,
        base=head,
        branch="batch/2026-01-29-001",
        files={"recipes/h/httpie.toml": b'[metadata]\nname = "httpie"\n'},
        message="feat(recipes): add batch\n\nbatch_id: 2026-01-29-001\n",
    )

    author = subprocess.run(
        ["git", "-C", str(repo), "log", "-1", "--format=%an <%ae>", commit],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    assert author == f"{FALLBACK_IDENTITY[0]} <{FALLBACK_IDENTITY[1]}>"
    assert read_blob(repo, commit, "recipes/h/httpie.toml").startswith(b"[metadata]")
