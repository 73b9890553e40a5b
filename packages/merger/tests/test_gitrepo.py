"""Who commits: the one identity rule, on a machine where git knows nobody (a hosted runner)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from recipeline_merger.gitrepo import DEFAULT_IDENTITY, choose_identity, commit_identity, commit_on_branch
from recipeline_merger.statepush import push_state

if TYPE_CHECKING:
    from .conftest import Git

METRICS = "data/metrics/batch-runs.jsonl"


@pytest.fixture
def nobody(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """An environment like a hosted runner's: no identity anywhere, HOME an empty directory."""
    home = tmp_path / "home"
    home.mkdir()
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("RECIPELINE_GIT_NAME", raising=False)
    monkeypatch.delenv("RECIPELINE_GIT_EMAIL", raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    return dict(os.environ)


def test_push_state_commits_with_the_default_identity_where_none_is_configured(
    tmp_path: Path, git: Git, nobody: dict[str, str]
) -> None:
    origin = tmp_path / "origin.git"
    git(tmp_path, "-c", "init.defaultBranch=main", "init", "-q", "--bare", str(origin))
    a = tmp_path / "a"
    git(tmp_path, "clone", "-q", str(origin), str(a))
    git(a, "-c", "user.name=x", "-c", "user.email=x@x.invalid", "commit", "-q", "--allow-empty", "-m", "i")
    git(a, "push", "-q", "origin", "HEAD:refs/heads/main")
    (a / "data" / "metrics").mkdir(parents=True)
    (a / METRICS).write_text("{}\n")
    push_state(a, message="state")
    author = git(origin, "log", "-1", "--format=%an <%ae>|%cn <%ce>", "main").strip()
    expected = f"{DEFAULT_IDENTITY[0]} <{DEFAULT_IDENTITY[1]}>"
    assert author == f"{expected}|{expected}"


def test_the_batch_commit_has_an_identity_too(tmp_path: Path, git: Git, nobody: dict[str, str]) -> None:
    repo = tmp_path / "repo"
    git(tmp_path, "-c", "init.defaultBranch=main", "init", "-q", str(repo))
    git(repo, "-c", "user.name=x", "-c", "user.email=x@x.invalid", "commit", "-q", "--allow-empty", "-m", "i")
    commit = commit_on_branch(
        repo,
        base="HEAD",
        branch="batch/2026-01-29-001",
        files={"recipes/h/httpie.toml": b'[metadata]\nname = "httpie"\n'},
        message="feat(recipes): add batch\n",
    )
    assert git(repo, "log", "-1", "--format=%ae", commit).strip() == DEFAULT_IDENTITY[1]

    git(repo, "config", "user.name", "Ops Team")  # the repository's identity comes next
    git(repo, "config", "user.email", "ops@example.invalid")
    assert commit_identity(repo)["GIT_COMMITTER_EMAIL"] == "ops@example.invalid"
    chosen = commit_identity(
        repo, {**nobody, "RECIPELINE_GIT_NAME": "Bot", "RECIPELINE_GIT_EMAIL": "b@x.invalid"}
    )
    assert chosen["GIT_AUTHOR_NAME"] == "Bot" and chosen["GIT_COMMITTER_EMAIL"] == "b@x.invalid"


@pytest.mark.parametrize(
    ("environ", "configured", "expected"),
    [
        (
            {},
            (None, None),
            {"GIT_AUTHOR_NAME": DEFAULT_IDENTITY[0], "GIT_COMMITTER_EMAIL": DEFAULT_IDENTITY[1]},
        ),
        ({}, ("Ops", "ops@x.invalid"), {"GIT_AUTHOR_NAME": "Ops", "GIT_COMMITTER_EMAIL": "ops@x.invalid"}),
        (
            {"RECIPELINE_GIT_NAME": "Bot", "RECIPELINE_GIT_EMAIL": "bot@x.invalid"},
            ("Ops", "ops@x.invalid"),
            {"GIT_AUTHOR_NAME": "Bot", "GIT_COMMITTER_EMAIL": "bot@x.invalid"},
        ),
        (  # only the name set: the email still comes from the configuration
            {"RECIPELINE_GIT_NAME": "Bot"},
            ("Ops", "ops@x.invalid"),
            {"GIT_COMMITTER_NAME": "Bot", "GIT_AUTHOR_EMAIL": "ops@x.invalid"},
        ),
    ],
)
def test_choose_identity(
    environ: dict[str, str], configured: tuple[str | None, str | None], expected: dict[str, str]
) -> None:
    chosen = choose_identity(environ, configured)
    assert {k: chosen[k] for k in expected} == expected
    assert set(chosen) == {"GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"}


def test_git_s_own_variables_are_left_to_git() -> None:
    chosen = choose_identity({"GIT_AUTHOR_NAME": "Me", "GIT_COMMITTER_NAME": "Me"}, (None, None))
    assert "GIT_AUTHOR_NAME" not in chosen and chosen["GIT_AUTHOR_EMAIL"] == DEFAULT_IDENTITY[1]
    assert (
        choose_identity({"GIT_AUTHOR_NAME": "Me", "RECIPELINE_GIT_NAME": "Bot"}, (None, None))[
            "GIT_AUTHOR_NAME"
        ]
        == "Bot"
    )
