"""The CLI on a temporary repository: real files, the real lock, one real subprocess."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from recipeline_schema import (
    BatchControl,
    Budget,
    Layout,
    Queue,
    QueueEntry,
    SeedingRun,
    file_lock,
    load,
    read_jsonl,
    save,
)
from recipeline_schema.exitcodes import EXIT_LOCKED, EXIT_STOPPED, EXIT_USAGE
from recipeline_seeder.__main__ import main

SeedList = Callable[..., Path]
NOW = "2026-02-15T10:00:00Z"
LIST = "httpie - 2 900\nblack - 1 5000\naider pypi:aider-chat\n"


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_seeding_twice_is_byte_identical_with_two_metrics_lines(
    repo: Path, seed_list: SeedList, capsys: pytest.CaptureFixture[str]
) -> None:
    path = seed_list(LIST)
    layout = Layout(repo)
    code, out, _ = run(capsys, "seed", "--repo", repo, "-e", "pypi", "--from-file", path, "--now", NOW)
    assert code == 0
    assert "added\tblack\tpypi:black\tpriority 1\tpopularity 5000" in out
    first = layout.queue("pypi").read_bytes()
    queue = load(Queue, layout.queue("pypi"))
    assert [e.name for e in queue.entries] == ["black", "httpie", "aider"]

    later = "2026-02-16T10:00:00Z"
    code, out, _ = run(capsys, "seed", "--repo", repo, "-e", "pypi", "--from-file", path, "--now", later)
    assert code == 0
    assert "added 0, skipped 3" in out and "unchanged" in out
    assert layout.queue("pypi").read_bytes() == first  # updated_at included

    runs = read_jsonl(SeedingRun, layout.seeding_metrics)
    assert [(r.new_packages, r.skipped, r.exit_code) for r in runs] == [(3, 0, 0), (0, 3, 0)]
    assert [r.timestamp.isoformat() for r in runs] == [
        "2026-02-15T10:00:00+00:00",
        "2026-02-16T10:00:00+00:00",
    ]


def test_existing_entries_survive_a_seeding(
    repo: Path, seed_list: SeedList, worked_entry: QueueEntry, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = Layout(repo)
    before = Queue(
        schema_version=1,
        ecosystem="pypi",
        updated_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
        entries=(worked_entry,),
    )
    save(before, layout.queue("pypi"))
    code, _, _ = run(
        capsys, "seed", "--repo", repo, "-e", "pypi", "--from-file", seed_list(LIST), "--now", NOW
    )
    assert code == 0
    after = load(Queue, layout.queue("pypi"))
    assert after.updated_at == dt.datetime(2026, 2, 15, 10, tzinfo=dt.UTC)
    assert worked_entry in after.entries
    assert sorted(e.name for e in after.entries) == ["Black", "aider", "httpie"]


def test_names_with_recipes_are_not_queued(
    repo: Path, seed_list: SeedList, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "recipes" / "h").mkdir()
    (repo / "recipes" / "h" / "httpie.toml").write_text("[metadata]\nname = 'httpie'\n")
    code, out, _ = run(capsys, "seed", "--repo", repo, "-e", "pypi", "--from-file", seed_list(LIST))
    assert code == 0
    assert "skipped 1" in out
    names = [e.name for e in load(Queue, Layout(repo).queue("pypi")).entries]
    assert names == ["black", "aider"]


def test_dry_run_writes_nothing(repo: Path, seed_list: SeedList, capsys: pytest.CaptureFixture[str]) -> None:
    path = seed_list(LIST)
    before = snapshot(repo.parent)
    code, out, _ = run(
        capsys, "seed", "--repo", repo, "-e", "pypi", "--from-file", path, "--dry-run", "--now", NOW
    )
    assert code == 0
    assert out.count("would add\t") == 3
    assert "dry run: pypi: would add 3" in out
    assert snapshot(repo.parent) == before
    assert not (repo / "build").exists()  # not even the lock file


def test_limit_adds_the_best_entries_only(
    repo: Path, seed_list: SeedList, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = run(
        capsys, "seed", "--repo", repo, "-e", "pypi", "--from-file", seed_list(LIST), "--limit", "2"
    )
    assert code == 0
    assert [e.name for e in load(Queue, Layout(repo).queue("pypi")).entries] == ["black", "httpie"]


@pytest.mark.parametrize(
    ("content", "json_path"),
    [
        (
            '{"schema_version": 1, "ecosystem": "pypi", "updated_at": "2026-01-01T00:00:00Z",\n'
            ' "entries": [{"name": "tox", "source": "pypi:tox", "priority": 9}]}\n',
            "$.entries[0].priority",
        ),
        ('{"schema_version": 1, "ecosystem": "pypi", "entries": [}\n', "valid JSON"),
        (
            '{"schema_version": 1, "ecosystem": "pypi", "updated_at": "2026-01-01T00:00:00Z",\n'
            ' "entries": [{"name": "../x", "source": "pypi:x", "priority": 1}]}\n',
            "$.entries[0].name",
        ),
    ],
    ids=["bad-priority", "bad-json", "hostile-name"],
)
def test_a_malformed_queue_file_is_never_overwritten(
    repo: Path, seed_list: SeedList, capsys: pytest.CaptureFixture[str], content: str, json_path: str
) -> None:
    queue_file = Layout(repo).queue("pypi")
    queue_file.write_text(content)
    code, _, err = run(capsys, "seed", "--repo", repo, "-e", "pypi", "--from-file", seed_list(LIST))
    assert code == 1
    assert queue_file.read_text() == content
    assert not Layout(repo).seeding_metrics.exists()
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("recipeline-seeder: error: ")
    assert str(queue_file) in lines[0] and json_path in lines[0]
    if json_path == "valid JSON":
        assert "line 1" in lines[0] and "column" in lines[0]


def test_a_queue_of_another_ecosystem_is_refused(
    repo: Path, seed_list: SeedList, capsys: pytest.CaptureFixture[str]
) -> None:
    queue_file = Layout(repo).queue("pypi")
    save(
        Queue(schema_version=1, ecosystem="cargo", updated_at=dt.datetime(2026, 1, 1), entries=()), queue_file
    )
    before = queue_file.read_bytes()
    code, _, err = run(capsys, "seed", "--repo", repo, "-e", "pypi", "--from-file", seed_list(LIST))
    assert code == 1
    assert f"{queue_file}: at $.ecosystem: expected 'pypi'" in err and "got 'cargo'" in err
    assert queue_file.read_bytes() == before


def test_some_sources_failing_exits_2(
    repo: Path, seed_list: SeedList, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.txt"
    broken = seed_list("tool 7\n", "broken.txt")
    code, out, err = run(
        capsys,
        "seed", "--repo", repo, "-e", "pypi",
        "--from-file", missing, "--from-file", seed_list(LIST), "--from-file", broken,
    )  # fmt: skip
    assert code == 2
    assert "added 3" in out and "sources 1/3 ok" in out
    assert f"source file:{missing} failed" in err
    assert f"{broken}:1: expected priority 1, 2 or 3" in err
    (line,) = read_jsonl(SeedingRun, Layout(repo).seeding_metrics)
    assert (line.sources_processed, line.sources_failed, line.exit_code) == (3, 2, 2)


def test_nothing_usable_exits_1_and_still_records_the_run(
    repo: Path, seed_list: SeedList, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = run(capsys, "seed", "--repo", repo, "-e", "pypi", "--from-file", tmp_path / "missing.txt")
    assert code == 1
    hostile = seed_list("../../etc/passwd\nrg cargo:ripgrep\n", "hostile.txt")
    code, _, err = run(capsys, "seed", "--repo", repo, "-e", "pypi", "--from-file", hostile)
    assert code == 1
    assert "rejected '../../etc/passwd'" in err and "belongs to ecosystem 'cargo'" in err
    assert not Layout(repo).queue("pypi").exists()
    runs = read_jsonl(SeedingRun, Layout(repo).seeding_metrics)
    assert [(r.sources_failed, r.exit_code, len(r.errors)) for r in runs] == [(1, 1, 1), (0, 1, 2)]
    assert not any(p.name == "passwd" for p in repo.rglob("*"))


@pytest.mark.parametrize(
    "args",
    [
        ["seed", "-e", "fortran", "--from-file", "x.txt"],
        ["seed", "--from-file", "x.txt"],
        ["seed", "-e", "pypi", "--from-file", "x.txt", "--limit", "0"],
        ["seed", "-e", "pypi", "--from-file", "x.txt", "--now", "yesterday"],
        ["frobnicate"],
    ],
)
def test_usage_errors_are_one_line_with_the_usage_exit_code(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, *args)
    assert code == EXIT_USAGE  # not 2, which is "some sources failed"
    assert err.startswith("recipeline-seeder") and err.count("\n") == 1 and "usage:" not in err


def test_a_missing_repository_is_an_error(
    tmp_path: Path, seed_list: SeedList, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "seed", "--repo", tmp_path / "nope", "-e", "pypi", "--from-file", seed_list(LIST)
    )
    assert code == EXIT_USAGE
    assert err == f"recipeline-seeder: --repo {tmp_path / 'nope'}: no such directory\n"


def test_a_held_lock_stops_the_run(
    repo: Path, seed_list: SeedList, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = Layout(repo)
    with file_lock(layout.lock):
        code, _, err = run(
            capsys,
            "seed",
            "--repo",
            repo,
            "-e",
            "pypi",
            "--from-file",
            seed_list(LIST),
            "--lock-timeout",
            "0",
        )
    assert code == EXIT_LOCKED
    assert "another recipeline writer holds" in err
    assert not layout.queue("pypi").exists()


def test_queue_is_not_rewritten_when_entries_are_only_reordered_in_memory(
    repo: Path, seed_list: SeedList, worked_entry: QueueEntry, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file whose entries are out of queue order is left alone when nothing is added."""
    layout = Layout(repo)
    late = dataclasses.replace(worked_entry, name="zzz", source="pypi:zzz", priority=1)
    save(
        Queue(
            schema_version=1,
            ecosystem="pypi",
            updated_at=dt.datetime(2026, 1, 1),
            entries=(worked_entry, late),
        ),
        layout.queue("pypi"),
    )
    before = layout.queue("pypi").read_bytes()
    code, _, _ = run(capsys, "seed", "--repo", repo, "-e", "pypi", "--from-file", seed_list("black\nzzz\n"))
    assert code == 0
    assert layout.queue("pypi").read_bytes() == before


def test_module_runs_as_a_subprocess(repo: Path, seed_list: SeedList) -> None:
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    proc = subprocess.run(
        [sys.executable, "-m", "recipeline_seeder", "seed", "--repo", str(repo), "--ecosystem", "pip",
         "--from-file", str(seed_list(LIST)), "--now", NOW],
        capture_output=True, text=True, env=env, check=False, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "pypi: added 3" in proc.stdout
    assert Layout(repo).queue("pypi").is_file()
    helped = subprocess.run(
        [sys.executable, "-m", "recipeline_seeder", "seed", "--help"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert helped.returncode == 0 and "--from-file" in helped.stdout


def test_seeding_honours_the_emergency_stop(
    repo: Path, seed_list: SeedList, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = Layout(repo)
    now = dt.datetime(2026, 1, 29, 10, tzinfo=dt.UTC)
    stopped = BatchControl(enabled=True, budget=Budget(week_start=now.date()), disabled_ecosystems=("pypi",),
                           disabled_reasons={"pypi": "registry incident"})  # fmt: skip
    save(stopped, layout.control)
    args = ("seed", "--repo", repo, "-e", "pypi", "--from-file", seed_list(LIST))
    code, out, err = run(capsys, *args)
    assert code == EXIT_STOPPED and out == ""
    assert err.count("\n") == 1 and "ecosystem pypi stopped: registry incident" in err
    assert not layout.queue("pypi").exists() and not layout.seeding_metrics.exists()
    code, _, _ = run(capsys, "seed", "--repo", repo, "-e", "cargo", "--from-file", seed_list(LIST))
    assert code == 0 and layout.queue("cargo").exists()  # only pypi is stopped
    save(dataclasses.replace(stopped, enabled=False, reason="all hands"), layout.control)
    code, _, err = run(capsys, "seed", "--repo", repo, "-e", "cargo", "--from-file", seed_list(LIST))
    assert code == EXIT_STOPPED and "pipeline stopped: all hands" in err
    layout.control.write_text("{not json")  # an unreadable control file halts seeding too
    code, _, err = run(capsys, *args)
    assert code == 1 and "batch-control.json" in err and err.count("\n") == 1
    assert not layout.queue("pypi").exists()


def test_a_tsuku_repository_is_named_with_the_import_command(
    tmp_path: Path, seed_list: SeedList, capsys: pytest.CaptureFixture[str]
) -> None:
    tsuku = tmp_path / "tsuku"
    (tsuku / "data" / "queues").mkdir(parents=True)
    (tsuku / "data" / "queues" / "priority-queue.json").write_text("{}")
    code, _, err = run(capsys, "seed", "--repo", tsuku, "-e", "pypi", "--from-file", seed_list(LIST))
    assert code == EXIT_USAGE and err.count("\n") == 1
    assert f"{tsuku} is a tsuku repository" in err and f"invoke import-tsuku --from {tsuku}" in err
    assert not (tsuku / "data" / "queues" / "priority-queue-pypi.json").exists()
