"""push-state against a real bare origin and two clones: races, union merges, refusals, identity."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from recipeline_merger.errors import GitError, PushRefusedError, RebaseConflictError
from recipeline_merger.statepush import UNION_ATTRIBUTES, push_state, push_verdict

if TYPE_CHECKING:
    from .conftest import Git

METRICS = "data/metrics/batch-runs.jsonl"
QUEUE = "data/queues/priority-queue-cargo.json"


@pytest.fixture
def origin(tmp_path: Path, git: Git, git_env: dict[str, str]) -> Path:
    """A bare origin whose main holds one metrics line and a queue file."""
    seed = tmp_path / "seed"
    (seed / "data" / "metrics").mkdir(parents=True)
    (seed / "data" / "queues").mkdir(parents=True)
    (seed / METRICS).write_text('{"batch_id": "2026-01-28-001"}\n')
    (seed / QUEUE).write_text('{"entries": []}\n')
    (seed / ".gitignore").write_text("build/\n")
    git(tmp_path, "-c", "init.defaultBranch=main", "init", "-q", str(seed))
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "seed")
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(bare))
    return bare


def clone(origin: Path, where: Path, git: Git) -> Path:
    git(origin.parent, "clone", "-q", str(origin), str(where))
    return where


def append(repo: Path, path: str, line: str) -> None:
    with (repo / path).open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def lines_on_origin(origin: Path, git: Git, path: str = METRICS) -> list[str]:
    return git(origin, "show", f"main:{path}").splitlines()


def test_two_writers_that_each_appended_a_line_both_land(origin: Path, tmp_path: Path, git: Git) -> None:
    a, b = clone(origin, tmp_path / "a", git), clone(origin, tmp_path / "b", git)
    append(a, METRICS, '{"batch_id": "2026-01-29-001"}')
    append(b, METRICS, '{"batch_id": "2026-01-29-002"}')
    sleeps: list[float] = []

    first = push_state(a, message="chore(data): a", sleep=sleeps.append)
    second = push_state(b, message="chore(data): b", sleep=sleeps.append)

    assert (first.attempts, first.rebased) == (1, 0)
    assert (second.attempts, second.rebased) == (2, 1) and len(sleeps) == 1
    assert lines_on_origin(origin, git) == [
        '{"batch_id": "2026-01-28-001"}',
        '{"batch_id": "2026-01-29-001"}',
        '{"batch_id": "2026-01-29-002"}',
    ]
    assert git(origin, "log", "--format=%s", "main").splitlines()[:2] == ["chore(data): b", "chore(data): a"]
    assert second.commit == git(origin, "rev-parse", "main").strip()


def test_two_writers_pushing_at_the_same_moment_both_land(origin: Path, tmp_path: Path, git: Git) -> None:
    clones = [clone(origin, tmp_path / f"w{i}", git) for i in range(3)]
    for i, repo in enumerate(clones):
        append(repo, METRICS, json.dumps({"batch_id": f"2026-01-29-00{i + 1}"}))
        (repo / "data" / "metrics" / "seeding-runs.jsonl").write_text(json.dumps({"writer": i}) + "\n")
    start = threading.Barrier(len(clones))
    errors: list[BaseException] = []

    def writer(repo: Path) -> None:
        start.wait()
        try:
            push_state(repo, message=f"chore(data): {repo.name}", sleep=time.sleep)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(repo,)) for repo in clones]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(lines_on_origin(origin, git)[1:]) == [
        json.dumps({"batch_id": f"2026-01-29-00{i + 1}"}) for i in range(3)
    ]
    # a file all three created: the union keeps every writer's line
    seeding = lines_on_origin(origin, git, "data/metrics/seeding-runs.jsonl")
    assert sorted(seeding) == [json.dumps({"writer": i}) for i in range(3)]


def test_a_conflicting_rebase_is_aborted_and_reported(origin: Path, tmp_path: Path, git: Git) -> None:
    a, b = clone(origin, tmp_path / "a", git), clone(origin, tmp_path / "b", git)
    (a / QUEUE).write_text('{"entries": ["a"]}\n')
    (b / QUEUE).write_text('{"entries": ["b"]}\n')
    push_state(a, message="a")
    with pytest.raises(RebaseConflictError) as info:
        push_state(b, message="b", sleep=lambda _: None)
    assert QUEUE in str(info.value) and "aborted" in str(info.value)
    # never half-rebased: no rebase in progress, the state commit as it was, a clean checkout
    git_dir = b / ".git"
    assert not (git_dir / "rebase-merge").exists() and not (git_dir / "rebase-apply").exists()
    assert git(b, "log", "-1", "--format=%s").strip() == "b"
    assert git(b, "status", "--porcelain").strip() == ""
    assert (b / QUEUE).read_text() == '{"entries": ["b"]}\n'
    assert git(origin, "show", f"main:{QUEUE}") == '{"entries": ["a"]}\n'


def test_a_protected_branch_is_an_error_at_once(origin: Path, tmp_path: Path, git: Git) -> None:
    hook = origin / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\necho 'error: GH006: Protected branch update failed for refs/heads/main.' >&2\nexit 1\n"
    )
    hook.chmod(0o755)
    a = clone(origin, tmp_path / "a", git)
    append(a, METRICS, '{"batch_id": "2026-01-29-001"}')
    sleeps: list[float] = []
    with pytest.raises(PushRefusedError) as info:
        push_state(a, message="a", sleep=sleeps.append)
    message = str(info.value)
    assert "origin refused" in message and "'main'" in message and "Protected branch" in message
    assert sleeps == []  # no retry


def test_a_missing_remote_names_the_remote_and_the_branch(origin: Path, tmp_path: Path, git: Git) -> None:
    a = clone(origin, tmp_path / "a", git)
    append(a, METRICS, "{}")
    with pytest.raises(PushRefusedError, match="upstream refused the push of the state to branch 'main'"):
        push_state(a, message="a", remote="upstream")


def test_every_attempt_lost_is_an_error(origin: Path, tmp_path: Path, git: Git) -> None:
    a, b = clone(origin, tmp_path / "a", git), clone(origin, tmp_path / "b", git)
    append(a, METRICS, "{}")
    append(b, METRICS, "[]")
    push_state(a, message="a")
    with pytest.raises(GitError, match="every one of 1 attempts lost a race"):
        push_state(b, message="b", attempts=1)


def test_nothing_to_record(origin: Path, tmp_path: Path, git: Git) -> None:
    a = clone(origin, tmp_path / "a", git)
    result = push_state(a, message="a")
    assert result.commit is None and result.to_json()["pushed"] is False


def test_only_the_state_is_committed(origin: Path, tmp_path: Path, git: Git) -> None:
    a = clone(origin, tmp_path / "a", git)
    append(a, METRICS, "{}")
    (a / "notes.txt").write_text("a developer's file\n")
    git(a, "add", "notes.txt")  # staged, but not state
    push_state(a, message="a")
    assert git(origin, "show", "--name-only", "--format=", "main").split() == [METRICS]


def test_the_cli_pushes_and_prints_one_json_line(origin: Path, tmp_path: Path, git: Git) -> None:
    a = clone(origin, tmp_path / "a", git)
    append(a, METRICS, "{}")
    proc = subprocess.run(
        [sys.executable, "-m", "recipeline_merger", "push-state", "--repo", str(a), "--message", "state"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["pushed"] is True and out["branch"] == "main" and out["remote"] == "origin"


# --- the pure verdict -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stdout", "stderr", "verdict"),
    [
        ("To o\n!\tHEAD:refs/heads/main\t[rejected] (fetch first)\nDone\n", "", "race"),
        ("To o\n!\tHEAD:refs/heads/main\t[rejected] (non-fast-forward)\n", "", "race"),
        ("To o\n!\tHEAD:refs/heads/main\t[remote rejected] (failed to update ref)\n", "", "race"),
        ("", "error: cannot lock ref 'refs/heads/main': is at 1 but expected 2\n", "race"),
        (
            "To o\n!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)\n",
            "remote: error: GH006: Protected branch update failed\n",
            "refused",
        ),
        (
            "",
            "fatal: Authentication failed for 'https://x-access-token:s3cret@github.example/o/r/'\n",
            "refused",
        ),
        ("", "remote: Permission to o/r.git denied to bot.\nfatal: unable to access\n", "refused"),
    ],
)
def test_push_verdict(stdout: str, stderr: str, verdict: str) -> None:
    got, reason = push_verdict(1, stdout, stderr)
    assert got == verdict and reason and "s3cret" not in reason
    assert push_verdict(0, "", "") == ("pushed", "")


def test_the_repository_s_gitattributes_carries_the_union_rule() -> None:
    """People merging by hand get the same union merge as push-state's rebase."""
    attributes = Path(__file__).resolve().parents[3] / ".gitattributes"
    assert set(UNION_ATTRIBUTES.splitlines()) <= set(attributes.read_text(encoding="utf-8").splitlines())
