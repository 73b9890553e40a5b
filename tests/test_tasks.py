"""Invoke tasks that compose more than one stage call: rotation, preflight auto, push-state."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from flowsupport import PROJECT, git

import recipeline_schema as rs
from recipeline_merger.rotation import rotation_order


def _tasks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("recipeline_tasks", PROJECT / "tasks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _invoke(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "invoke", "-r", str(PROJECT), *args, "--repo", str(repo)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_preflight_auto_passes_over_stopped_and_empty_ecosystems(
    scratch_repo: Path, flow_env: dict[str, str], tmp_path: Path
) -> None:
    now = rs.parse_time("2026-01-29T10:00:00Z")
    layout = rs.Layout(scratch_repo)
    for eco in rs.ECOSYSTEMS:  # every ecosystem has one entry, but only cpan is not stopped
        rs.save(
            rs.Queue(1, eco, now, (rs.QueueEntry(f"{eco}-tool", f"{eco}:{eco}-tool", 1),)), layout.queue(eco)
        )
    control = rs.BatchControl(
        enabled=True,
        budget=rs.Budget(week_start=now.date()),
        disabled_ecosystems=tuple(e for e in rs.ECOSYSTEMS if e != "cpan"),
        reason="incident 42",
    )
    rs.save(control, layout.control)
    out = tmp_path / "github_output"
    result = _invoke(scratch_repo, flow_env, "preflight", "--ecosystem", "auto", "--batch-size", "1",
                     "--github-output", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout.strip().splitlines()[-1])
    assert plan["ecosystem"] == "cpan" and plan["selected"] == 1
    written = dict(line.split("=", 1) for line in out.read_text().splitlines())
    assert written["has_packages"] == "true" and written["ecosystem"] == "cpan"
    assert written["macos"] == "full"  # the week's macOS budget is untouched
    assert written["batch_id"] == plan["batch_id"]

    # nothing left anywhere: the run ends after preflight with has_packages=false
    out.unlink()
    again = _invoke(scratch_repo, flow_env, "preflight", "--ecosystem", "auto", "--github-output", str(out))
    assert again.returncode == 0, again.stderr
    assert "has_packages=false" in out.read_text()
    assert "cpan: " in json.loads(again.stdout.strip().splitlines()[-1])["reason"]


def test_batch_auto_dry_run_prints_the_pick_and_why_the_others_were_passed_over(
    scratch_repo: Path, flow_env: dict[str, str]
) -> None:
    layout = rs.Layout(scratch_repo)
    now = rs.parse_time("2026-01-29T02:00:00Z")  # hour 2: npm, pypi, rubygems, go, ...
    for eco in ("npm", "rubygems"):
        rs.save(
            rs.Queue(1, eco, now, (rs.QueueEntry(f"{eco}-tool", f"{eco}:{eco}-tool", 1),)), layout.queue(eco)
        )
    control = rs.BatchControl(
        enabled=True,
        budget=rs.Budget(week_start=now.date()),
        disabled_ecosystems=("npm",),
        reason="incident 7",
    )
    rs.save(control, layout.control)
    result = _invoke(scratch_repo, {**flow_env, "RECIPELINE_NOW": "2026-01-29T02:00:00Z"},
                     "batch", "--ecosystem", "auto", "--batch-size", "2", "--dry-run")  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("rotation picked rubygems: UTC hour 2 starts the rotation at npm")
    assert lines[1].startswith("  passed over npm: stopped") and "incident 7" in lines[1]
    assert lines[2].startswith("  passed over pypi: ")
    assert "  rubygems:rubygems-tool" in lines
    assert rs.load(rs.Queue, layout.queue("rubygems")).entries[0].status == "pending"  # nothing written


def test_push_state_rebases_when_it_loses_a_race(tmp_path: Path, flow_env: dict[str, str]) -> None:
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    seed = tmp_path / "seed"
    subprocess.run(["git", "clone", "-q", str(origin), str(seed)], check=True, env=flow_env)
    (seed / "README.md").write_text("x\n")
    git(seed, "add", "-A")
    subprocess.run(["git", "-C", str(seed), "commit", "-q", "-m", "initial"], check=True, env=flow_env)
    git(seed, "push", "-q", "origin", "main")
    for clone in (ours, theirs):
        subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True, env=flow_env)
    # another writer lands first (a merged batch PR: recipes only)
    (theirs / "recipes").mkdir()
    (theirs / "recipes" / "x.toml").write_text("[metadata]\n")
    git(theirs, "add", "-A")
    subprocess.run(["git", "-C", str(theirs), "commit", "-q", "-m", "recipes"], check=True, env=flow_env)
    git(theirs, "push", "-q", "origin", "main")

    (ours / "data").mkdir()
    (ours / "data" / "state.json").write_text("{}\n")
    (ours / "scratch.txt").write_text("not state\n")
    result = _invoke(ours, flow_env, "push-state", "--message", "chore(data): record batch")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["rebased"] == 1  # it lost a race once
    log = git(origin, "log", "--format=%s", "main").splitlines()
    assert log[:2] == ["chore(data): record batch", "recipes"]
    assert "scratch.txt" not in git(origin, "ls-tree", "-r", "--name-only", "main")  # only data/ is state
    again = _invoke(ours, flow_env, "push-state", "--message", "nothing")
    assert again.returncode == 0 and json.loads(again.stdout.strip().splitlines()[-1])["pushed"] is False


def test_an_emergency_stop_is_honoured_by_every_writing_task(
    scratch_repo: Path, flow_env: dict[str, str], tmp_path: Path
) -> None:
    layout = rs.Layout(scratch_repo)
    now = rs.parse_time("2026-01-29T10:00:00Z")
    rs.save(rs.Queue(1, "pypi", now, (rs.QueueEntry("tool", "pypi:tool", 1),)), layout.queue("pypi"))
    stop = _invoke(
        scratch_repo, flow_env, "control", "stop", "--ecosystem", "pypi", "--reason", "bad upstream"
    )
    assert stop.returncode == 0, stop.stderr

    refused = _invoke(scratch_repo, flow_env, "batch", "--ecosystem", "pypi")
    assert refused.returncode == 3
    assert "ecosystem pypi stopped: bad upstream" in refused.stderr
    batch_dir = layout.batch_dir("2026-01-29-001")
    batch_dir.mkdir(parents=True)
    rs.save(rs.BatchPlan(1, "2026-01-29-001", "pypi", now, 3, (rs.PlannedPackage("tool", "pypi:tool"),)),
            rs.BatchDir(batch_dir).plan)  # fmt: skip
    for stage in ("generate", "validate"):
        result = _invoke(scratch_repo, flow_env, stage, "--batch-dir", str(batch_dir))
        assert result.returncode == 3, (stage, result.stderr)
        assert "refusing to run while stopped" in result.stderr
    assert not rs.BatchDir(batch_dir).generation.exists()

    resumed = _invoke(scratch_repo, flow_env, "control", "resume", "--ecosystem", "pypi")
    assert resumed.returncode == 0, resumed.stderr
    assert rs.load(rs.BatchControl, layout.control).disabled_ecosystems == ()


@pytest.mark.parametrize(
    ("task", "args", "expected"),
    [
        (
            "preflight",
            ["--ecosystem", "pypi", "--batch-size", "0"],
            "argument --batch-size: expected at least 1",
        ),
        ("preflight", ["--ecosystem", "auto", "--batch-size", "101"], "expected at most 100, got 101"),
        ("preflight", ["--ecosystem", "pip3", "--batch-size", "5"], "unknown ecosystem 'pip3'"),
        ("preflight", ["--ecosystem", "pypi", "--tier", "4"], "expected a tier of 1, 2 or 3, got 4"),
        ("batch", ["--ecosystem", "pypi", "--batch-size", "0"], "argument --batch-size: expected at least 1"),
    ],
)
def test_an_out_of_range_input_is_one_line_and_writes_nothing(
    scratch_repo: Path, flow_env: dict[str, str], tmp_path: Path, task: str, args: list[str], expected: str
) -> None:
    layout = rs.Layout(scratch_repo)
    entry = rs.QueueEntry("httpie", "pypi:httpie", 1, status="in_progress", batch_id="2026-01-28-001")
    rs.save(rs.Queue(1, "pypi", rs.parse_time("2026-01-29T10:00:00Z"), (entry,)), layout.queue("pypi"))
    git(scratch_repo, "add", "-A")
    git(scratch_repo, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-q", "-m", "queue")
    summary = tmp_path / "step-summary.md"
    result = _invoke(scratch_repo, {**flow_env, "GITHUB_STEP_SUMMARY": str(summary)}, task, *args)
    assert result.returncode == 64, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert expected in line
    assert expected in summary.read_text()
    # nothing written: not even reconcile's release of the dead batch's entry
    assert git(scratch_repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert not (scratch_repo / "build").exists()


def test_sandbox_limits_come_from_the_options_or_the_workflows_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from recipeline_validator.__main__ import build_parser

    tasks = _tasks()
    for _, _, variable in tasks.SANDBOX_LIMITS:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("RECIPELINE_PIDS", "64")
    args = tasks._sandbox_args(memory_gib=0.5, timeout=0.0, cpus=1)
    assert args == ["--memory-gib", 0.5, "--cpus", 1, "--pids", "64"]
    parsed = build_parser().parse_args(["validate", "--batch-dir", "b", *map(str, args)])
    assert (parsed.memory_gib, parsed.cpus, parsed.pids) == (0.5, 1, 64)


def test_reconcile_releases_a_dead_batch_and_says_what_it_did(
    scratch_repo: Path, flow_env: dict[str, str], tmp_path: Path
) -> None:
    layout = rs.Layout(scratch_repo)
    entry = rs.QueueEntry("httpie", "pypi:httpie", 1, status="in_progress", batch_id="2026-01-28-001")
    rs.save(rs.Queue(1, "pypi", rs.parse_time("2026-01-29T10:00:00Z"), (entry,)), layout.queue("pypi"))
    summary = tmp_path / "step-summary.md"
    result = _invoke(scratch_repo, {**flow_env, "GITHUB_STEP_SUMMARY": str(summary)}, "reconcile")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert (out["requeued"], out["released_batches"], out["metrics_lines"]) == (1, 1, 1)
    assert "reconcile: " in summary.read_text() and "1 released_batches" in summary.read_text()
    assert rs.load(rs.Queue, layout.queue("pypi")).entries[0].status == "pending"


def test_the_batch_help_names_every_ecosystem_of_the_schema_table() -> None:
    """tasks.py imports no package (``invoke --list`` works in a fresh checkout), so its help
    string is written out: this keeps it the schema's table."""
    words = _tasks().batch.help["ecosystem"].replace(",", " ").split()
    assert [w for w in words if w in rs.ECOSYSTEMS] == list(rs.ECOSYSTEMS)


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one stderr line of a refused task: no usage block, no traceback."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "usage:" not in result.stderr and "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["batch", "--ecosystem", "nope"], "invoke batch: argument --ecosystem: unknown ecosystem 'nope'"),
        (
            ["batch", "--ecosystem", "pypi", "--batch-size", "abc"],
            "invoke batch: argument --batch-size: expected a whole number, got 'abc'",
        ),
        (
            ["batch", "--ecosystem", "pypi", "--workers", "-1"],
            "invoke batch: argument --workers: expected at least 0",
        ),
        (
            ["seed", "--ecosystem", "nope"],
            "invoke seed: argument --ecosystem: unknown ecosystem 'nope'; expected one of",
        ),
        (
            ["seed", "--ecosystem", "pypi", "--limit", "ten"],
            "invoke seed: argument --limit: expected a whole number",
        ),
        (
            ["generate", "--batch-id", "../../x"],
            "invoke generate: argument --batch-id: expected a batch id YYYY-MM-DD-NNN, got '../../x'",
        ),
        (
            ["validate", "--batch-id", "2026-01-29-001/../../.."],
            "invoke validate: argument --batch-id: expected a batch id",
        ),
        (["merge", "--batch-id", "2026-01-29-001"], "invoke merge: no batch 2026-01-29-001 under "),
        (
            ["merge", "--batch-dir", "nowhere"],
            "invoke merge: argument --batch-dir: expected a batch directory",
        ),
        (
            ["rollback", "--batch-id", "../../x", "--reason", "r"],
            "invoke rollback: argument --batch-id: expected a batch id",
        ),
        (["finish", "--batch-id", "x"], "invoke finish: argument --batch-id: expected a batch id"),
        (
            ["finish", "--batch-id", "2026-01-29-001", "--timeout", "soon"],
            "invoke finish: argument --timeout: expected seconds",
        ),
        (["status", "--now", "yesterday"], "invoke status: argument --now: expected an RFC 3339 UTC time"),
        (
            ["archive-failures", "--older-than", "3 months"],
            "invoke archive-failures: argument --older-than: expected a duration",
        ),
        (
            ["sweep", "--environment", "linux-debian-x86_64", "--days", "0"],
            "invoke sweep: argument --days: expected at least 1",
        ),
        (
            ["push-state", "--message", "m", "--attempts", "many"],
            "invoke push-state: argument --attempts: expected a whole number",
        ),
        (
            ["sweep", "--environment", "linux-debian-glibc-x86_64", "--output", "../../elsewhere"],
            "invoke sweep: argument --output: expected a directory inside ",
        ),
        (
            ["sweep-record", "--from", "/etc"],
            "invoke sweep-record: argument --from: expected a directory inside ",
        ),
        (["control", "pause"], "invoke control: expected stop, resume or status, got 'pause'"),
        (["control", "stop"], "invoke control stop: --reason is required"),
        (
            ["control", "stop", "--reason", "r", "--ecosystem", "cobol"],
            "invoke control: argument --ecosystem: unknown ecosystem",
        ),
        (
            ["requeue", "--category", "nonsense"],
            "recipeline-merger requeue: argument --category: invalid choice: 'nonsense'",
        ),
    ],
)
def test_a_bad_argument_is_one_line_and_exit_64_before_anything_runs(
    scratch_repo: Path, flow_env: dict[str, str], args: list[str], expected: str
) -> None:
    result = _invoke(scratch_repo, flow_env, *args)
    assert result.returncode == 64, result.stdout + result.stderr
    assert _one_line(result).startswith(expected)
    assert git(scratch_repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert not (scratch_repo / "build" / "batches").exists()


def test_bench_refuses_a_bad_number_in_one_line() -> None:
    command = [sys.executable, "-m", "invoke", "-r", str(PROJECT), "bench", "queue", "--entries", "lots"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 64
    assert _one_line(result) == "invoke bench: argument --entries: expected a whole number, got 'lots'"


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["dashboard"],
        ["batch", "--ecosystem", "pypi"],
        ["reconcile"],
        ["preflight", "--ecosystem", "go"],
        ["requeue", "--category", "api_error"],
        ["archive-failures"],
    ],
)
def test_a_folder_without_data_is_named_with_the_command_that_starts_a_repository(
    tmp_path: Path, flow_env: dict[str, str], args: list[str]
) -> None:
    folder = tmp_path / "not-a-repo"
    folder.mkdir()
    result = _invoke(folder, flow_env, *args)
    assert result.returncode == 64, result.stdout + result.stderr
    line = _one_line(result)
    assert f"--repo {folder} is not a recipeline repository (no data/ directory)" in line
    assert line.endswith(f"start one with: invoke seed --ecosystem ECOSYSTEM --repo {folder}")
    assert list(folder.iterdir()) == []  # no empty dashboard, no build/


@pytest.mark.parametrize(
    "args",
    [["status"], ["batch", "--ecosystem", "pypi"], ["reconcile"], ["seed", "--ecosystem", "pypi"],
     ["control", "stop", "--reason", "r"], ["rollback", "--batch-id", "2026-01-29-001", "--reason", "r"]],
)  # fmt: skip
def test_a_tsuku_repository_is_named_with_the_import_command(
    tmp_path: Path, flow_env: dict[str, str], args: list[str]
) -> None:
    tsuku = tmp_path / "tsuku"
    (tsuku / "data" / "queues").mkdir(parents=True)
    unified = tsuku / "data" / "queues" / "priority-queue.json"
    unified.write_text('{"schema_version": 1, "entries": []}\n')
    result = _invoke(tsuku, flow_env, *args)
    assert result.returncode == 64, result.stdout + result.stderr
    line = _one_line(result)
    assert f"--repo {tsuku} is a tsuku repository" in line
    assert line.endswith(
        f"convert it into a recipeline repository with: invoke import-tsuku --from {tsuku} --repo DIR"
    )
    assert sorted(p.name for p in tsuku.rglob("*")) == ["data", "priority-queue.json", "queues"]


def test_a_missing_queue_says_the_command_that_seeds_it(scratch_repo: Path, flow_env: dict[str, str]) -> None:
    result = _invoke(scratch_repo, flow_env, "preflight", "--ecosystem", "go")
    assert result.returncode == 0, result.stderr
    reason = json.loads(result.stdout.strip().splitlines()[-1])["reason"]
    assert reason.endswith(f"seed it with: invoke seed --ecosystem go --repo {scratch_repo}")


def test_seed_honours_the_emergency_stop_and_now_reaches_it(
    scratch_repo: Path, flow_env: dict[str, str], tmp_path: Path
) -> None:
    layout = rs.Layout(scratch_repo)
    listing = tmp_path / "seeds.txt"
    listing.write_text("httpie\n")
    seed = ("seed", "--ecosystem", "pypi", "--from-file", str(listing), "--now", "2020-05-04T03:02:01Z")
    stop = _invoke(
        scratch_repo, flow_env, "control", "stop", "--ecosystem", "pypi", "--reason", "bad upstream"
    )
    assert stop.returncode == 0, stop.stderr
    refused = _invoke(scratch_repo, flow_env, *seed)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "ecosystem pypi stopped: bad upstream" in _one_line(refused)
    assert not layout.queue("pypi").exists()
    resumed = _invoke(scratch_repo, flow_env, "control", "resume", "--ecosystem", "pypi")
    assert resumed.returncode == 0, resumed.stderr
    seeded = _invoke(scratch_repo, flow_env, *seed)
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    (run,) = rs.read_jsonl(rs.SeedingRun, layout.seeding_metrics)
    assert rs.format_time(run.timestamp) == "2020-05-04T03:02:01Z"  # --now, not the clock


def test_now_sets_the_rotation_hour_and_the_dry_run_says_why(
    scratch_repo: Path, flow_env: dict[str, str]
) -> None:
    layout = rs.Layout(scratch_repo)
    now = rs.parse_time("2026-01-29T02:00:00Z")
    for eco in ("npm", "rubygems"):
        rs.save(
            rs.Queue(1, eco, now, (rs.QueueEntry(f"{eco}-tool", f"{eco}:{eco}-tool", 1),)), layout.queue(eco)
        )
    env = {k: v for k, v in flow_env.items() if k != "RECIPELINE_NOW"}
    dry = ("batch", "--ecosystem", "auto", "--dry-run", "--now")
    at_two = _invoke(scratch_repo, env, *dry, "2026-01-29T02:30:00Z")  # hour 2: npm first
    assert at_two.returncode == 0, at_two.stderr
    lines = at_two.stdout.splitlines()
    assert lines[0] == ("rotation picked npm: UTC hour 2 starts the rotation at npm (2 mod 8 = 2); "
                        "npm is the first in its order with something to select")  # fmt: skip
    passed = [line for line in lines if line.startswith("  passed over ")]
    assert [line.split()[2].rstrip(":") for line in passed] == [e for e in rotation_order(2) if e != "npm"]
    assert all("not reached: npm comes first at UTC hour 2" in line for line in passed)
    at_four = _invoke(scratch_repo, env, *dry, "2026-01-29T04:00:00Z")  # hour 4: rubygems first
    assert at_four.returncode == 0, at_four.stderr
    assert at_four.stdout.startswith("rotation picked rubygems: UTC hour 4 starts the rotation at rubygems")
    assert "  passed over npm: not reached: rubygems comes first at UTC hour 4" in at_four.stdout.splitlines()
    for eco in ("npm", "rubygems"):  # a dry run writes nothing
        assert rs.load(rs.Queue, layout.queue(eco)).entries[0].status == "pending"
    assert not (scratch_repo / "build" / "batches").exists()


def test_macos_validation_follows_the_budget_the_merger_applies(
    scratch_repo: Path, flow_env: dict[str, str]
) -> None:
    layout = rs.Layout(scratch_repo)
    now = rs.parse_time("2026-01-29T10:00:00Z")
    budget = rs.Budget(week_start=now.date() - dt.timedelta(days=3), macos_minutes_used=990)
    rs.save(rs.BatchControl(enabled=True, budget=budget), layout.control)
    batch_dir = layout.batch_dir("2026-01-29-001")
    batch_dir.mkdir(parents=True)
    rs.save(rs.BatchPlan(1, "2026-01-29-001", "pypi", now, 3, (rs.PlannedPackage("tool", "pypi:tool"),)),
            rs.BatchDir(batch_dir).plan)  # fmt: skip
    result = _invoke(scratch_repo, flow_env, "validate", "--batch-id", "2026-01-29-001",
                     "--environment", "darwin-arm64", "--now", "2026-01-29T10:00:00Z")  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        result.stdout.strip() == "macOS validation paused by the budget (990 of 1000 minutes used this week)"
    )
    assert not (batch_dir / "results").exists()
