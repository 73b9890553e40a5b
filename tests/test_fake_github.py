"""The shared fake GitHub in its standalone mode, driven by PyGithub as the merger drives it."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flowsupport import git
from github import Auth, Github

SCRIPT = Path(__file__).resolve().parent / "support" / "fake_github.py"
REPO = "octo/recipes"


def _run(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    """A bare origin with main and three branches, each adding one recipe."""
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    git(
        work,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t.invalid",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "init",
    )
    for name in ("rg", "fd", "bat"):
        git(work, "checkout", "-q", "-b", f"batch/{name}", "main")
        (work / f"{name}.toml").write_text(f'name = "{name}"\n')
        git(work, "add", f"{name}.toml")
        git(work, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-q", "-m", f"add {name}")
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    return bare


@pytest.fixture
def server(origin: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The fake served by its own process; (base URL, state file)."""
    state = tmp_path / "github-state.json"
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--origin", str(origin), "--port", "0", "--state-file", str(state),
         "--repo", REPO, "--checks", "pending"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    base = proc.stdout.readline().strip()
    try:
        assert base.startswith("http://127.0.0.1:")
        yield base, state
    finally:
        proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()


def _post(url: str, payload: object) -> object:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_a_whole_pr_life_against_the_standalone_fake(server: tuple[str, Path], origin: Path) -> None:
    base, state_file = server
    gh = Github(base_url=base, auth=Auth.Token("t0ken"), seconds_between_requests=0, seconds_between_writes=0)
    repo = gh.get_repo(REPO)
    assert repo.default_branch == "main" and repo.allow_auto_merge is True

    rg = repo.create_pull(base="main", head="batch/rg", title="add rg", body="rg")
    fd = repo.create_pull(base="main", head="batch/fd", title="add fd", body="fd")
    bat = repo.create_pull(base="main", head="batch/bat", title="add bat", body="bat")

    # auto-merge waits while the checks are pending, then squash-merges into origin's main
    rg.enable_automerge(merge_method="SQUASH", commit_headline="feat: rg", commit_body="batch_id: 1\n")
    assert not repo.get_pull(rg.number).merged
    _post(f"{base}/_fake/checks", {"statuses": [{"context": "ci", "state": "success"}]})
    assert repo.get_pull(rg.number).merged
    assert _run(origin, "log", "-1", "--format=%s%n%n%b", "main") == "feat: rg\n\nbatch_id: 1"
    assert _run(origin, "show", "main:rg.toml") == 'name = "rg"'

    # closed without merging, through the test hook
    _post(f"{base}/_fake/pulls/{fd.number}/close", {})
    closed = repo.get_pull(fd.number)
    assert closed.state == "closed" and not closed.merged

    # the merge endpoint squashes too
    status = bat.merge(merge_method="squash", commit_title="feat: bat", commit_message="batch_id: 3")
    assert status.merged and _run(origin, "rev-parse", "main") == status.sha
    assert _run(origin, "show", "main:rg.toml") == 'name = "rg"'  # the earlier merge is kept

    assert [p.number for p in repo.get_pulls(state="open")] == []
    assert sorted(p.number for p in repo.get_pulls(state="closed")) == [1, 2, 3]
    assert [p.number for p in repo.get_pulls(state="all", head="octo:batch/fd")] == [fd.number]
    fd.create_issue_comment("released")
    repo.get_git_ref("heads/batch/fd").delete()
    assert "batch/fd" not in _run(origin, "branch", "--list")

    state = json.loads(state_file.read_text())
    by_number = {p["number"]: p for p in state["pulls"]}
    assert (by_number[1]["merged"], by_number[2]["merged"], by_number[3]["merged"]) == (True, False, True)
    assert by_number[2]["comments"] == ["released"]
    assert [(m["number"], m["via"]) for m in state["merges"]] == [(1, "auto-merge"), (3, "api")]
    assert state["deleted_branches"] == ["batch/fd"]


def test_an_enterprise_style_base_url_works(server: tuple[str, Path]) -> None:
    base, _ = server
    gh = Github(base_url=f"{base}/api/v3", auth=Auth.Token("t"), seconds_between_requests=0)
    pr = gh.get_repo(REPO).create_pull(base="main", head="batch/rg", title="t", body="")
    pr.enable_automerge(merge_method="SQUASH")  # GraphQL at /api/graphql
    assert gh.get_repo(REPO).get_pull(pr.number).raw_data["auto_merge"] is not None
