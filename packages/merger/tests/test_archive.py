"""archive-failures: old failure files move into a tar.gz, no record lost or archived twice."""

from __future__ import annotations

import datetime as dt
import tarfile
from pathlib import Path

import pytest

from recipeline_merger.__main__ import main
from recipeline_merger.archive import archive_failures, archived_contents, file_time, old_files
from recipeline_schema import Layout

NOW = dt.datetime(2026, 6, 1, 0, 0, tzinfo=dt.UTC)


def _write(failures: Path, name: str) -> bytes:
    data = f'{{"file": "{name}"}}\n'.encode()
    (failures / name).write_bytes(data)
    return data


@pytest.fixture
def failures(tmp_path: Path) -> Path:
    """data/failures with files of January, February and May (tsuku's batch- form included)."""
    path = Layout(tmp_path).failures_dir
    path.mkdir(parents=True)
    for name in (
        "cargo-2026-01-10T10-00-00Z.jsonl",
        "batch-2026-02-18T14-01-11Z.jsonl",
        "pypi-2026-05-20T08-00-00Z.jsonl",
        "notes.jsonl",
    ):
        _write(path, name)
    return path


def test_names_carry_the_time() -> None:
    assert file_time("npm-2026-01-29T10-00-00Z.jsonl") == dt.datetime(2026, 1, 29, 10, tzinfo=dt.UTC)
    assert file_time("notes.jsonl") is None
    cutoff = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    assert old_files(["a-2026-02-01T00-00-00Z.jsonl", "b-2026-04-01T00-00-00Z.jsonl", "x.jsonl"], cutoff) == [
        "a-2026-02-01T00-00-00Z.jsonl"
    ]


def test_old_files_move_into_one_archive_with_their_bytes(tmp_path: Path, failures: Path) -> None:
    before = {p.name: p.read_bytes() for p in failures.glob("*.jsonl")}
    result = archive_failures(tmp_path, older_than=dt.timedelta(days=90), now=NOW)
    assert (result.archived, result.already_archived, result.kept) == (2, 0, 2)
    assert sorted(p.name for p in failures.glob("*.jsonl")) == [
        "notes.jsonl",
        "pypi-2026-05-20T08-00-00Z.jsonl",
    ]
    held = archived_contents(failures / "archive")
    assert held == {
        n: before[n] for n in ("cargo-2026-01-10T10-00-00Z.jsonl", "batch-2026-02-18T14-01-11Z.jsonl")
    }
    assert result.archive == "data/failures/archive/failures-until-2026-03-03T00-00-00Z.tar.gz"
    with tarfile.open(tmp_path / result.archive) as tar:
        assert [m.mtime for m in tar.getmembers()] == [0, 0]  # deterministic bytes
    again = archive_failures(tmp_path, older_than=dt.timedelta(days=90), now=NOW)
    assert (again.archive, again.archived) == (None, 0)


def test_a_run_killed_after_archiving_does_not_archive_twice(tmp_path: Path, failures: Path) -> None:
    archive_failures(tmp_path, older_than=dt.timedelta(days=90), now=NOW)
    _write(failures, "cargo-2026-01-10T10-00-00Z.jsonl")  # as if the delete never happened
    result = archive_failures(tmp_path, older_than=dt.timedelta(days=90), now=NOW + dt.timedelta(hours=1))
    assert (result.archived, result.already_archived, result.archive) == (0, 1, None)
    assert not (failures / "cargo-2026-01-10T10-00-00Z.jsonl").exists()
    assert len(list((failures / "archive").glob("*.tar.gz"))) == 1


def test_the_cli_takes_a_duration(tmp_path: Path, failures: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "archive-failures",
                "--repo",
                str(tmp_path),
                "--older-than",
                "10w",
                "--now",
                "2026-06-01T00:00:00Z",
            ]
        )
        == 0
    )
    assert '"archived": 2' in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["archive-failures", "--repo", str(tmp_path), "--older-than", "90 days"])
