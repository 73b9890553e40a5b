"""``seed`` with the popularity APIs, end to end on a temporary repository and a local server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from recipeline_schema import Layout, Queue, QueueEntry, SeedingRun, load, read_jsonl, save
from recipeline_seeder.__main__ import main

NOW = "2026-02-15T10:00:00Z"
LATER = "2026-02-22T10:00:00Z"


@pytest.fixture
def brew_api(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> HTTPServer:
    """Homebrew Cask's analytics on a local server; the seeder pointed at it, rate limits lifted.

    Casks, not formulae: the cask source passes every token on to the merge, whose rejections
    these tests are about (the formula source checks each bottle first and drops tap names)."""
    items = [
        {"number": 1, "cask": "node", "count": "361,041"},
        {"number": 2, "cask": "jq", "count": "20,000"},
        {"number": 3, "cask": "user/tap/evil", "count": "9,000"},
        {"number": 4, "cask": "..", "count": "8,000"},
        {"number": 5, "cask": "bell\u0007", "count": "7,000"},
        {"number": 6, "cask": "x" * 200, "count": "6,000"},
        {"number": 7, "cask": "tree", "count": "500"},
    ]
    httpserver.expect_request("/api/analytics/cask-install/30d.json").respond_with_json({"items": items})
    monkeypatch.setenv("RECIPELINE_HOMEBREW_URL", httpserver.url_for("/api"))
    monkeypatch.setenv("RECIPELINE_RATE_LIMIT_CASK", "100/1")
    return httpserver


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_api_seeding_adds_ranked_entries_and_rejects_bad_names(
    repo: Path, brew_api: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(capsys, "seed", "--repo", repo, "-e", "cask", "--now", NOW)
    queue = load(Queue, Layout(repo).queue("cask"))
    assert [(e.name, e.priority, e.popularity) for e in queue.entries] == [
        ("node", 1, 361_041),
        ("jq", 2, 20_000),
        ("tree", 3, 500),
    ]
    assert code == 0, err
    # every bad name is logged with its reason and never written
    assert (
        "rejected 'user/tap/evil' (cask:analytics/cask-install/30d): "
        "name 'user/tap/evil': contains a path separator" in err
    )
    assert "contains '..'" in err
    assert "contains a control character" in err
    assert "longer than 128 characters" in err
    text = Layout(repo).queue("cask").read_text(encoding="utf-8")
    assert "evil" not in text and "\\u0007" not in text and "x" * 129 not in text
    [metrics] = read_jsonl(SeedingRun, Layout(repo).seeding_metrics)
    assert (metrics.sources_processed, metrics.sources_failed, metrics.new_packages, metrics.skipped) == (
        1,
        0,
        3,
        4,
    )
    assert len(metrics.errors) == 4


def test_rerun_is_byte_identical_and_keeps_pipeline_state(
    repo: Path, brew_api: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = Layout(repo)
    assert run(capsys, "seed", "--repo", repo, "-e", "cask", "--now", NOW)[0] == 0
    queue = load(Queue, layout.queue("cask"))
    worked = [
        QueueEntry(
            name=e.name,
            source=e.source,
            priority=e.priority,
            status="failed",
            popularity=e.popularity,
            added_at=e.added_at,
            failure_count=3,
            next_retry_at=e.added_at,
            batch_id="2026-02-15-001",
        )
        if e.name == "jq"
        else e
        for e in queue.entries
    ]
    save(Queue(1, "cask", queue.updated_at, tuple(worked)), layout.queue("cask"))
    before = layout.queue("cask").read_bytes()
    code, out, _ = run(capsys, "seed", "--repo", repo, "-e", "cask", "--now", LATER)
    assert code == 0 and "added 0" in out
    assert layout.queue("cask").read_bytes() == before


def test_names_with_a_recipe_are_skipped(
    repo: Path, brew_api: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "recipes" / "j").mkdir(parents=True)
    (repo / "recipes" / "j" / "JQ.toml").write_text("", encoding="utf-8")
    run(capsys, "seed", "--repo", repo, "-e", "cask", "--now", NOW)
    assert [e.name for e in load(Queue, Layout(repo).queue("cask")).entries] == ["node", "tree"]


def test_dry_run_writes_nothing(repo: Path, brew_api: HTTPServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "seed", "--repo", repo, "-e", "cask", "--dry-run", "--limit", "1", "--now", NOW
    )
    assert code == 0 and "would add\tnode" in out and "jq" not in out.split("dry run")[0]
    assert not Layout(repo).queue("cask").exists()
    assert not Layout(repo).seeding_metrics.exists()


def test_thresholds_come_from_the_configuration_file(
    repo: Path, brew_api: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = repo / "data" / "seeds" / "seeder-config.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"cask": {"tier1": 1_000_000, "tier2": 400}}), encoding="utf-8")
    run(capsys, "seed", "--repo", repo, "-e", "cask", "--now", NOW)
    queue = load(Queue, Layout(repo).queue("cask"))
    assert [(e.name, e.priority) for e in queue.entries] == [("node", 2), ("jq", 2), ("tree", 2)]


def test_a_bad_configuration_names_the_field(
    repo: Path, brew_api: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = repo / "cfg.json"
    config.write_text(json.dumps({"cask": {"tier1": "lots"}}), encoding="utf-8")
    code, _, err = run(capsys, "seed", "--repo", repo, "-e", "cask", "--config", config, "--now", NOW)
    assert code == 1
    assert f"{config}: at $.cask.tier1: expected" in err and "'lots'" in err
    assert not Layout(repo).queue("cask").exists()


def test_a_failing_api_with_a_working_list_exits_2(
    repo: Path,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    # 404 fails at once (a 5xx would be retried with real backoff in this CLI run)
    httpserver.expect_request("/api/v1/crates").respond_with_data("gone", status=404)
    monkeypatch.setenv("RECIPELINE_CARGO_URL", httpserver.url_for("/api/v1"))
    monkeypatch.setenv("RECIPELINE_RATE_LIMIT_CARGO", "100/1")
    listing = tmp_path / "cargo.txt"
    listing.write_text("ripgrep - 1\n", encoding="utf-8")
    code, _out, err = run(
        capsys, "seed", "--repo", repo, "-e", "cargo", "--api", "--from-file", listing, "--now", NOW
    )
    assert code == 2
    assert "api_error/not_found" in err
    assert [e.name for e in load(Queue, Layout(repo).queue("cargo")).entries] == ["ripgrep"]
    [metrics] = read_jsonl(SeedingRun, Layout(repo).seeding_metrics)
    assert (metrics.sources_processed, metrics.sources_failed, metrics.exit_code) == (2, 1, 2)


def test_every_source_failing_exits_1(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RECIPELINE_CPAN_URL", "not a url")
    code, _, err = run(capsys, "seed", "--repo", repo, "-e", "cpan", "--now", NOW)
    assert code == 1
    assert "RECIPELINE_CPAN_URL" in err
    [metrics] = read_jsonl(SeedingRun, Layout(repo).seeding_metrics)
    assert (metrics.sources_failed, metrics.exit_code) == (1, 1)
