"""`invoke status` after real local batches: a recipe's state in the one vocabulary
(recipeline_schema.recipe_state), never "merged" for a recipe only on its batch branch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flowsupport import PROJECT, LocalIndex, Wheel, git

import recipeline_schema as rs

TOOLS = ("alpha", "bravo", "charlie")


def _invoke(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "invoke", "-r", str(PROJECT), *args, "--repo", str(repo)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def _status(repo: Path, env: dict[str, str]) -> list[str]:
    result = _invoke(repo, env, "status")
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.splitlines()


def _row(lines: list[str], ecosystem: str) -> str:
    return next(line for line in lines if line.split()[:1] == [ecosystem])


def test_status_after_a_local_batch_without_a_token_then_a_merge_by_hand_then_a_rollback(
    scratch_repo: Path, flow_env: dict[str, str], local_index: LocalIndex
) -> None:
    repo, env = scratch_repo, {k: v for k, v in flow_env.items() if "TOKEN" not in k}
    for tool in TOOLS:
        local_index.add(Wheel(tool, "1.0.0", {tool: f"{tool} 1.0.0"}))
    listing = repo.parent / "list.txt"
    listing.write_text("".join(f"{t} pypi:{t} 1\n" for t in TOOLS))
    assert _invoke(repo, env, "seed", "--ecosystem", "pypi", "--from-file", str(listing)).returncode == 0
    batch = _invoke(repo, env, "batch", "--ecosystem", "pypi", "--batch-size", "3")
    assert batch.returncode == 0, batch.stdout + batch.stderr
    assert "3 on batch branch, 0 excluded" in batch.stdout and " merged" not in batch.stdout
    (manifest_path,) = rs.Layout(repo).batches_dir.glob("*-[0-9][0-9][0-9].json")
    batch_id = rs.load(rs.BatchManifest, manifest_path).batch_id
    body = (rs.Layout(repo).batches_dir / f"{batch_id}.pr.md").read_text()  # the PR body, same words
    assert "3 on batch branch. Auto-merge:" in body
    assert all(f"| {t} | pypi:{t} | on batch branch |" in body for t in TOOLS)
    (line,) = rs.read_jsonl(rs.MetricsLine, rs.Layout(repo).metrics)
    assert line.merged == 3  # the metrics' "merged" keeps its meaning: committed on the batch branch

    # no token: the recipes are on batch/<id> and no PR exists; nothing reached the default branch
    lines = _status(repo, env)
    assert _row(lines, "pypi").endswith(f"{batch_id} 3/3 on batch branch, no PR")
    assert lines[-1] == "no recipe on the default branch yet"
    assert not any("merged" in line for line in lines)

    # a human commits the state and squash-merges the branch with its message (the trailer):
    # now they are on the default branch, and it is said when
    git(repo, "add", "-A", "data", "batch-control.json")
    git(repo, "commit", "-q", "-m", "chore(data): batch state")
    git(repo, "merge", "--squash", "-q", f"batch/{batch_id}")
    git(repo, "commit", "-q", "-C", f"batch/{batch_id}")
    lines = _status(repo, env)
    assert _row(lines, "pypi").endswith(f"{batch_id} 3/3 on the default branch")
    assert lines[-1].startswith("last recipes on the default branch ")
    assert lines[-1].endswith(f" h ago (batch {batch_id}, 3 recipes)")

    # rolled back: off the default branch's count, though the revert is not merged yet
    rolled = _invoke(repo, env, "rollback", "--batch-id", batch_id, "--reason", "broke installs")
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    lines = _status(repo, env)
    assert _row(lines, "pypi").endswith(f"{batch_id} 3/3 validated, rolled back: broke installs")
    assert lines[-1] == "no recipe on the default branch yet"
