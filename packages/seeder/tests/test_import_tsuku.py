"""``import-tsuku`` on small fixtures written here, and on tsuku's real queue when present."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from recipeline_schema import Layout, Queue, QueueEntry, load, save
from recipeline_schema.tsuku import convert_tsuku
from recipeline_seeder.__main__ import main

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
SHARED_TSUKU = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "tsuku"


def unified(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"schema_version": 1, "updated_at": "2026-02-01T00:00:00Z", "entries": list(entries)}


def tsuku_entry(name: str, source: str, **fields: Any) -> dict[str, Any]:
    base = {
        "name": name,
        "source": source,
        "priority": 2,
        "status": "pending",
        "confidence": "auto",
        "disambiguated_at": "2026-02-17T00:10:01.867521792Z",
        "failure_count": 0,
        "next_retry_at": None,
    }
    return {**base, **fields}


def write_tsuku(root: Path, data: dict[str, Any] | None, legacy: dict[str, Any] | None = None) -> Path:
    queues = root / "tsuku" / "data" / "queues"
    queues.mkdir(parents=True)
    if data is not None:
        (queues / "priority-queue.json").write_text(json.dumps(data), encoding="utf-8")
    if legacy is not None:
        (queues / "priority-queue-homebrew.json").write_text(json.dumps(legacy), encoding="utf-8")
    return root / "tsuku"


def test_aliases_statuses_and_retry_state_are_kept() -> None:
    got = convert_tsuku(
        unified(
            tsuku_entry(
                "rg",
                "crates.io:ripgrep",
                status="failed",
                failure_count=3,
                next_retry_at="2026-03-02T00:00:00Z",
            ),
            tsuku_entry("tokei", "cargo:tokei", status="success", priority=1),
            tsuku_entry("rake", "gem:rake", status="blocked", confidence="curated"),
        ),
        None,
        now=NOW,
    )
    [rg, tokei] = got.entries["cargo"]
    assert (rg.source, rg.status, rg.failure_count) == ("cargo:ripgrep", "failed", 3)
    assert rg.next_retry_at == dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    assert rg.disambiguated_at == dt.datetime(2026, 2, 17, 0, 10, 1, tzinfo=dt.UTC)
    assert (tokei.status, tokei.priority) == ("success", 1)
    [rake] = got.entries["rubygems"]
    assert (rake.source, rake.status, rake.confidence) == ("rubygems:rake", "blocked", "curated")
    assert not got.unmapped and not got.repairs


def test_impossible_values_are_repaired_and_reported() -> None:
    got = convert_tsuku(
        unified(
            tsuku_entry(
                "azion", "npm:azion", failure_count=611, next_retry_at="1734-03-17T21:04:51.642391339Z"
            ),
            tsuku_entry("odd", "npm:odd", priority=9, failure_count=-2, confidence="sure"),
        ),
        None,
        now=NOW,
    )
    azion, odd = got.entries["npm"]
    assert (azion.next_retry_at, azion.failure_count) == (None, 611)
    assert (odd.priority, odd.failure_count, odd.confidence) == (3, 0, "auto")
    fields = sorted((r.name, r.field) for r in got.repairs)
    assert fields == [
        ("azion", "next_retry_at"),
        ("odd", "confidence"),
        ("odd", "failure_count"),
        ("odd", "priority"),
    ]


def test_unmappable_entries_are_reported_with_a_reason() -> None:
    got = convert_tsuku(
        unified(
            tsuku_entry("bat", "github:sharkdp/bat"),
            tsuku_entry("curl", "manual:curl"),
            tsuku_entry("../evil", "homebrew:evil"),
            tsuku_entry("x", "homebrew:x", status="exploded"),
            tsuku_entry("ok", "homebrew:ok"),
        ),
        None,
        now=NOW,
    )
    assert [e.name for e in got.entries["homebrew"]] == ["ok"]
    reasons = {u.name: u.reason for u in got.unmapped}
    assert "'github' has no recipeline queue" in reasons["bat"]
    assert "'manual' has no recipeline queue" in reasons["curl"]
    assert "../evil" in reasons["../evil"]
    assert "status 'exploded'" in reasons["x"]


def test_legacy_homebrew_queue_is_mapped_and_duplicates_reported() -> None:
    legacy = {
        "schema_version": 1,
        "packages": [
            {
                "id": "homebrew:gh",
                "source": "homebrew",
                "name": "gh",
                "tier": 1,
                "status": "success",
                "added_at": "2026-02-07T02:32:02Z",
            },
            {
                "id": "homebrew:awscli",
                "source": "homebrew",
                "name": "awscli",
                "tier": 2,
                "status": "failed",
                "added_at": "2026-02-07T02:32:02Z",
            },
        ],
    }
    got = convert_tsuku(unified(tsuku_entry("gh", "homebrew:gh", status="pending")), legacy, now=NOW)
    gh, awscli = got.entries["homebrew"]
    assert (gh.status, awscli.status, awscli.priority) == ("pending", "failed", 2)  # unified wins
    assert awscli.added_at == dt.datetime(2026, 2, 7, 2, 32, 2, tzinfo=dt.UTC)
    assert [d.name for d in got.duplicates] == ["gh"]


def test_cli_import_is_additive_and_idempotent(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = Layout(repo)
    mine = QueueEntry(
        name="rg", source="cargo:ripgrep", priority=1, status="in_progress", batch_id="2026-02-20-001"
    )
    save(Queue(1, "cargo", NOW, (mine,)), layout.queue("cargo"))
    source = write_tsuku(
        tmp_path,
        unified(
            tsuku_entry("rg", "crates.io:ripgrep", status="failed"),
            tsuku_entry("fd", "cargo:fd-find"),
            tsuku_entry("bat", "github:sharkdp/bat"),
        ),
    )
    args = ["import-tsuku", "--repo", str(repo), "--from", str(source), "--now", "2026-03-01T00:00:00Z"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "cargo: added 1, already queued 1" in out
    assert "not mapped: 1 x ecosystem 'github': bat (github:sharkdp/bat)" in out
    queue = load(Queue, layout.queue("cargo"))
    assert queue.entries[0] == mine  # the pipeline's own state wins
    assert [e.name for e in queue.entries] == ["rg", "fd"]
    before = layout.queue("cargo").read_bytes()
    assert main([*args[:-1], "2026-03-02T00:00:00Z"]) == 0
    assert layout.queue("cargo").read_bytes() == before


def test_cli_dry_run_writes_nothing(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_tsuku(tmp_path, unified(tsuku_entry("fd", "cargo:fd-find")))
    assert main(["import-tsuku", "--repo", str(repo), "--from", str(source / "data"), "--dry-run"]) == 0
    assert "cargo: would add 1" in capsys.readouterr().out
    assert not list((repo / "data" / "queues").iterdir())


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "expected a tsuku checkout"),
        ("{not json", "priority-queue.json"),
        ('{"entries": 3}', "$.entries"),
    ],
)
def test_cli_bad_sources_exit_1(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, expected: str
) -> None:
    source = write_tsuku(tmp_path, None)
    if content is not None:
        (source / "data" / "queues" / "priority-queue.json").write_text(content, encoding="utf-8")
    assert main(["import-tsuku", "--repo", str(repo), "--from", str(source)]) == 1
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


@pytest.mark.skipif(not SHARED_TSUKU.is_dir(), reason="../shared/fixtures/tsuku is absent (fresh clone)")
def test_the_real_tsuku_queue(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = json.loads((SHARED_TSUKU / "data" / "queues" / "priority-queue.json").read_text(encoding="utf-8"))
    assert (
        main(
            [
                "import-tsuku",
                "--repo",
                str(repo),
                "--from",
                str(SHARED_TSUKU),
                "--now",
                "2026-08-20T00:00:00Z",
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    layout = Layout(repo)
    npm = {e.name: e for e in load(Queue, layout.queue("npm")).entries}
    assert npm["azion"].next_retry_at is None and npm["azion"].failure_count == 611
    assert "azion" in captured.err and "next_retry_at" in captured.err
    cargo = load(Queue, layout.queue("cargo"))
    assert all(e.source.startswith("cargo:") for e in cargo.entries)
    raw_cargo = {e["name"] for e in raw["entries"] if e["source"].split(":")[0] in ("cargo", "crates.io")}
    assert {e.name for e in cargo.entries} == raw_cargo
    # every status of the real file survives
    statuses = {e["name"]: e["status"] for e in raw["entries"] if e["source"].startswith("rubygems:")}
    assert {e.name: e.status for e in load(Queue, layout.queue("rubygems")).entries} == statuses
    assert "ecosystem 'github'" in captured.out
