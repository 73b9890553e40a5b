"""`invoke batch` wires every stage together, against a local package index and a real git repo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flowsupport import PROJECT, LocalIndex, Wheel, git

import recipeline_schema as rs


def _invoke(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "invoke", "-r", str(PROJECT), *args, "--repo", str(repo)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def _seed(repo: Path, env: dict[str, str], lines: str) -> None:
    listing = repo.parent / "list.txt"
    listing.write_text(lines)
    result = _invoke(repo, env, "seed", "--ecosystem", "pypi", "--from-file", str(listing))
    assert result.returncode == 0, result.stderr


@pytest.fixture
def four_packages(local_index: LocalIndex) -> None:
    """One tool that works, one without console scripts, one printing the wrong version, one absent."""
    local_index.add(Wheel("goodtool", "1.2.0", {"goodtool": "goodtool 1.2.0"}))
    local_index.add(Wheel("goodtool", "1.0.0", {"goodtool": "goodtool 1.0.0"}))
    local_index.add(Wheel("libonly", "3.0.0"))
    local_index.add(Wheel("liar", "2.0.0", {"liar": "liar 0.0.1"}))


def test_a_batch_end_to_end(scratch_repo: Path, flow_env: dict[str, str], four_packages: None) -> None:
    repo, env = scratch_repo, flow_env
    _seed(
        repo, env, "goodtool pypi:goodtool 1\nlibonly pypi:libonly 1\nliar pypi:liar 2\nghost pypi:ghost 2\n"
    )
    head_before = git(repo, "rev-parse", "HEAD")

    step_summary = repo.parent / "step-summary.md"
    result = _invoke(repo, {**env, "GITHUB_STEP_SUMMARY": str(step_summary)},
                     "batch", "--ecosystem", "pypi", "--batch-size", "4", "--json")  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)  # --json: stdout is the summary object and nothing else
    assert (summary["merged"], summary["excluded"], summary["failed"]) == (1, 1, 2)
    assert "generate 4/4" in result.stderr  # progress went to stderr

    layout = rs.Layout(repo)
    manifests = sorted(layout.batches_dir.glob("*-[0-9][0-9][0-9].json"))
    assert len(manifests) == 1
    manifest = rs.load(rs.BatchManifest, manifests[0])
    batch_id = manifest.batch_id
    outcomes = {p.name: p.outcome for p in manifest.packages}
    assert outcomes == {"goodtool": "merged", "libonly": "failed", "liar": "excluded", "ghost": "failed"}

    # the recipe is on the batch branch, in one commit carrying the trailer, not in the checkout
    assert git(repo, "rev-parse", "HEAD") == head_before
    assert not (repo / "recipes" / "g" / "goodtool.toml").exists()
    assert git(repo, "rev-list", "--count", f"main..batch/{batch_id}").strip() == "1"
    message = git(repo, "log", "-1", "--format=%B", f"batch/{batch_id}")
    assert f"batch_id: {batch_id}" in message
    recipe_text = git(repo, "show", f"batch/{batch_id}:recipes/g/goodtool.toml")
    recipe = rs.recipe_from_toml(recipe_text)
    assert recipe.steps[0].action == "pipx_install"
    assert recipe.steps[0].params == {"package": "goodtool", "executables": ["goodtool"]}
    assert recipe.verify == rs.Verify("goodtool --version", "{version}")
    assert f"Batch {batch_id}" in step_summary.read_text() and "| goodtool |" in step_summary.read_text()
    merged = next(p for p in manifest.packages if p.name == "goodtool")
    assert merged.sha256 == rs.sha256_text(recipe_text)

    # failures: each with the category and subcategory the structured facts give
    records = [
        r
        for f in sorted(layout.failures_dir.glob("pypi-*.jsonl"))
        for r in rs.read_jsonl(rs.FailureRecord, f)
    ]
    assert {r.batch_id for r in records} == {batch_id}
    failures = {f.package_id: (f.category, f.subcategory) for r in records for f in r.failures}
    assert failures == {
        "pypi:libonly": ("deterministic_insufficient", "binary_discovery_failed"),
        "pypi:ghost": ("api_error", "not_found"),
        "pypi:liar": ("validation_failed", "verify_pattern_mismatch"),
    }

    # one metrics line; queue entries updated by source
    (line,) = rs.read_jsonl(rs.MetricsLine, layout.metrics)
    assert (line.batch_id, line.total, line.merged, line.failed, line.excluded) == (batch_id, 4, 1, 2, 1)
    queue = {e.name: e for e in rs.load(rs.Queue, layout.queue("pypi")).entries}
    # a permanent failure waits for another generator version instead of an hourly retry
    libonly = queue["libonly"]
    assert (libonly.status, libonly.next_retry_at) == ("failed", None)
    assert libonly.waits_for.startswith("recipeline-generator ")
    assert queue["liar"].status == "failed" and queue["liar"].failure_count == 1
    assert queue["goodtool"].batch_id == batch_id
    assert (layout.batches_dir / f"{batch_id}.pr.md").read_text().count(batch_id) >= 1

    # a second run finds nothing eligible and writes nothing
    metrics_before = layout.metrics.read_bytes()
    again = _invoke(repo, env, "batch", "--ecosystem", "pypi", "--batch-size", "4")
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stdout
    assert layout.metrics.read_bytes() == metrics_before

    # the dashboard counts what happened
    assert _invoke(repo, env, "dashboard").returncode == 0
    board = json.loads((repo / "website" / "pipeline" / "dashboard.json").read_text())
    assert board["queue"]["total"] == 4
    assert {f["package"] for f in board["recent_failures"]} >= {"pypi:libonly", "pypi:ghost", "pypi:liar"}


def test_invoke_list_works_and_every_task_has_help() -> None:
    listing = subprocess.run(
        [sys.executable, "-m", "invoke", "-r", str(PROJECT), "--list", "--list-format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    tasks = json.loads(listing.stdout)["tasks"]
    assert {"batch", "dashboard", "seed", "preflight", "generate", "validate", "merge"} <= {
        t["name"] for t in tasks
    }
    assert all(t["help"] for t in tasks)


@pytest.mark.live
def test_a_real_batch_against_the_configured_index(scratch_repo: Path, tmp_path: Path) -> None:
    """Opt-in: three real CLIs from the index pip is configured with (and its CA settings)."""
    env = {k: v for k, v in os.environ.items() if "TOKEN" not in k}
    env.update(
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@t.invalid",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@t.invalid",
    )
    _seed(scratch_repo, env, "httpie pypi:httpie 1\nblack pypi:black 1\ntox pypi:tox 1\n")
    result = _invoke(scratch_repo, env, "batch", "--ecosystem", "pypi", "--batch-size", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    (manifest,) = rs.Layout(scratch_repo).batches_dir.glob("*-[0-9][0-9][0-9].json")
    outcomes = {p.name: p.outcome for p in rs.load(rs.BatchManifest, manifest).packages}
    assert outcomes == {"httpie": "merged", "black": "merged", "tox": "merged"}, outcomes


def test_the_weekly_sweep_records_a_regression_of_a_merged_recipe(
    scratch_repo: Path, flow_env: dict[str, str], local_index: LocalIndex
) -> None:
    repo, env = scratch_repo, flow_env
    local_index.add(Wheel("goodtool", "1.2.0", {"goodtool": "goodtool 1.2.0"}))
    _seed(repo, env, "goodtool pypi:goodtool 1\n")
    assert _invoke(repo, env, "batch", "--ecosystem", "pypi").returncode == 0
    (manifest,) = rs.Layout(repo).batches_dir.glob("*-[0-9][0-9][0-9].json")
    batch_id = manifest.stem
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "state")
    git(repo, "merge", "-q", "--squash", f"batch/{batch_id}")
    git(repo, "commit", "-q", "-m", "merge the batch")
    # upstream breaks the tool: its newest release prints the wrong version
    local_index.add(Wheel("goodtool", "1.3.0", {"goodtool": "goodtool 1.2.0"}))
    host = subprocess.run(
        [sys.executable, "-m", "recipeline_validator", "detect-environment"],
        capture_output=True, text=True, check=True,
    ).stdout.split()[0]  # fmt: skip

    swept = _invoke(repo, env, "sweep", "--environment", host, "--days", "7")
    assert swept.returncode == 0, swept.stdout + swept.stderr
    recorded = _invoke(repo, env, "sweep-record")
    assert recorded.returncode == 0, recorded.stderr

    records = [
        r
        for f in rs.Layout(repo).failures_dir.glob("pypi-*.jsonl")
        for r in rs.read_jsonl(rs.FailureRecord, f)
    ]
    (record,) = [r for r in records if r.environment == host]
    assert record.batch_id == batch_id
    (failure,) = record.failures
    assert failure.package_id == "pypi:goodtool"
    assert (failure.category, failure.subcategory) == ("validation_failed", "verify_pattern_mismatch")
    assert failure.message.startswith("macOS sweep regression: ")
