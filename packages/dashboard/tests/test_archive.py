"""Failure files archived by the merger (``data/failures/archive/*.tar.gz``) still count."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from recipeline_dashboard.__main__ import main
from recipeline_schema import FailureRecord, Layout, write_jsonl

MakeRecord = Callable[..., FailureRecord]
NOW = "2026-02-15T12:00:00Z"
ARCHIVED = "data/failures/archive/"


def build(repo: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """The dashboard document of ``repo`` (built by the CLI, at a fixed time)."""
    code = main(["build", "--repo", str(repo), "--output", str(out), "--json-only", "--now", NOW])
    capsys.readouterr()
    assert code == 0
    doc: dict[str, Any] = json.loads((out / "dashboard.json").read_text(encoding="utf-8"))
    return doc


def write_archive(path: Path, members: dict[str, bytes]) -> None:
    """A tar.gz holding ``members`` under their names, as the merger's ``archive-failures`` writes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in sorted(members.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def as_if_live(value: Any) -> Any:
    """``value`` with every archive member path written as the live file it was (the only
    difference archiving may make to the document)."""
    if isinstance(value, str) and value.startswith(ARCHIVED):
        return "data/failures/" + value.rpartition("/")[2]
    if isinstance(value, dict):
        return {as_if_live(k): as_if_live(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_if_live(v) for v in value]
    return value


@pytest.fixture
def mixed_repo(tsuku_repo: Path, make_record: MakeRecord) -> Path:
    """tsuku's layout (both line formats, malformed lines) plus recipeline failure records."""
    layout = Layout(tsuku_repo)
    write_jsonl(
        [make_record("pypi", "2026-02-01-001", [("pypi:httpie", "validation_failed", "install_failed", 1)])],
        layout.failures_dir / "pypi-2026-02-01T10-00-00Z.jsonl",
    )
    write_jsonl(
        [make_record("cargo", "2026-02-01-002", [("cargo:ripgrep", "missing_dep", None, 3)])],
        layout.failures_dir / "cargo-2026-02-01T11-00-00Z.jsonl",
    )
    return tsuku_repo


def test_archived_failures_count_exactly_like_live_files(
    mixed_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = build(mixed_repo, tmp_path / "before", capsys)
    failures = Layout(mixed_repo).failures_dir
    files = sorted(failures.glob("*.jsonl"))
    assert len(files) >= 4
    first, second = files[: len(files) // 2], files[len(files) // 2 :]
    archive = failures / "archive"
    write_archive(archive / "failures-until-a.tar.gz", {p.name: p.read_bytes() for p in first})
    # the second archive repeats a member of the first and holds a file still live (a run killed
    # between writing the archive and deleting the originals): each counts once
    write_archive(
        archive / "failures-until-b.tar.gz",
        {first[0].name: first[0].read_bytes(), second[0].name: second[0].read_bytes()},
    )
    for path in first:
        path.unlink()

    after = build(mixed_repo, tmp_path / "after", capsys)

    assert before["failures"]["total"] > 0 and before["failures"]["raw_total"] > before["failures"]["total"]
    assert before["errors"]["count"] > 0  # the malformed lines, archived too, are still reported
    assert after["failures"] == before["failures"]
    assert as_if_live(after) == before
    assert any(
        row["file"].startswith(ARCHIVED + "failures-until-a.tar.gz/") for row in after["failure_details"]
    )


def test_an_unreadable_archive_is_one_problem_and_the_rest_is_read(
    mixed_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = build(mixed_repo, tmp_path / "before", capsys)
    archive = Layout(mixed_repo).failures_dir / "archive"
    archive.mkdir()
    (archive / "broken.tar.gz").write_bytes(b"not a gzip stream")
    (archive / "notes.txt").write_text("not an archive: ignored\n", encoding="utf-8")

    after = build(mixed_repo, tmp_path / "after", capsys)

    assert after["failures"] == before["failures"]
    assert after["errors"]["count"] == before["errors"]["count"] + 1
    assert any(
        e["file"] == ARCHIVED + "broken.tar.gz" and "tar.gz" in e["message"] for e in after["errors"]["items"]
    )
