"""Pure rules of the contracts: sources, names, queue order and selection, ids, taxonomy, time."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

import recipeline_schema as rs


@pytest.mark.parametrize(
    ("text", "ecosystem", "identifier"),
    [
        ("cargo:ripgrep", "cargo", "ripgrep"),
        ("crates.io:ripgrep", "cargo", "ripgrep"),
        ("pypi:aider-chat", "pypi", "aider-chat"),
        ("github:github/hub", "github", "github/hub"),
        ("go:github.com/go-delve/delve/cmd/dlv", "go", "github.com/go-delve/delve/cmd/dlv"),
        ("npm:@angular/cli", "npm", "@angular/cli"),
        ("cpan:App::Ack", "cpan", "App::Ack"),
    ],
)
def test_parse_source_splits_at_the_first_colon(text: str, ecosystem: str, identifier: str) -> None:
    source = rs.parse_source(text)
    assert (source.ecosystem, source.identifier) == (ecosystem, identifier)


@pytest.mark.parametrize(
    "text",
    ["ripgrep", "pypi:", ":x", "npm:../etc", "npm:a/../../b", "pypi:a b", "pypi:a\nb", "pypi:httpie\n"],
)
def test_parse_source_rejects_unsafe_or_incomplete(text: str) -> None:
    with pytest.raises(rs.InvalidValueError):
        rs.parse_source(text)


@pytest.mark.parametrize("name", ["../x", "a/b", "x\x00", "", "a" * 200, " x", "a..b", "-rf", "rg\n", "rg\r"])
def test_check_name_rejects_hostile_names(name: str) -> None:
    with pytest.raises(rs.InvalidValueError):
        rs.check_name(name)


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "rg\n"), ("source", "cargo:ripgrep\n"), ("batch_id", "2026-01-29-001\n"), ("name", "rg\r")],
)
def test_a_queue_file_s_names_match_as_whole_strings(tmp_path: Path, field: str, value: str) -> None:
    """A trailing newline would become part of a file name: the contract refuses it on load."""
    entry = {
        "name": "rg",
        "source": "cargo:ripgrep",
        "priority": 1,
        "status": "pending",
        "confidence": "auto",
        "popularity": None,
        "added_at": "2026-01-01T00:00:00Z",
        "disambiguated_at": None,
        "failure_count": 0,
        "next_retry_at": None,
        "last_attempt_at": None,
        "batch_id": None,
        "blocked_by": [],
        "reason": "",
    }
    queue = {
        "schema_version": 1,
        "ecosystem": "cargo",
        "updated_at": "2026-01-01T00:00:00Z",
        "entries": [entry],
    }
    path = tmp_path / "priority-queue-cargo.json"
    path.write_text(json.dumps(queue), encoding="utf-8")
    assert rs.load(rs.Queue, path).entries[0].name == "rg"
    entry[field] = value
    path.write_text(json.dumps(queue), encoding="utf-8")
    with pytest.raises(rs.DataFileError, match=rf"{path.name}.*{field}"):
        rs.load(rs.Queue, path)


def test_ecosystem_aliases() -> None:
    assert [rs.normalize_ecosystem(x) for x in ("crates.io", "Gem", "pip", "brew")] == [
        "cargo", "rubygems", "pypi", "homebrew",
    ]  # fmt: skip
    with pytest.raises(rs.InvalidValueError, match="unknown ecosystem 'github'"):
        rs.normalize_ecosystem("github")


def _entry(name: str, **kw: object) -> rs.QueueEntry:
    kw.setdefault("priority", 2)
    return rs.QueueEntry(name, f"pypi:{name}", **kw)  # type: ignore[arg-type]


def test_order_is_priority_then_popularity_then_name() -> None:
    entries = [
        _entry("b", popularity=10),
        _entry("a", popularity=10),
        _entry("z", popularity=99),
        _entry("crit", priority=1),
    ]
    assert [e.name for e in rs.ordered(entries)] == ["crit", "z", "a", "b"]


def test_selection_respects_status_backoff_tier_and_stale_batches(now: dt.datetime) -> None:
    later = now + dt.timedelta(hours=1)
    earlier = now - dt.timedelta(hours=1)
    queue = rs.Queue(
        1,
        "pypi",
        now,
        (
            _entry("ok"),
            _entry("waiting", status="failed", next_retry_at=later),
            _entry("retry", status="failed", next_retry_at=earlier),
            _entry("done", status="success"),
            _entry("blocked", status="blocked", blocked_by=("x",)),
            _entry("tier3", priority=3),
            _entry("live", status="in_progress", batch_id="2026-01-29-001"),
            _entry("stale", status="in_progress", batch_id="2026-01-28-004"),
        ),
    )
    picked = rs.select_batch(queue, now=now, size=10, tier=2, live_batches={"2026-01-29-001"})
    assert {e.name for e in picked} == {"ok", "retry", "stale"}
    assert {e.name for e in rs.select_batch(queue, now=now, size=10, tier=2)} == {"ok", "retry"}
    assert len(rs.select_batch(queue, now=now, size=1, tier=3)) == 1


def test_mark_in_progress_sets_batch_and_attempt_time(now: dt.datetime) -> None:
    queue = rs.Queue(1, "pypi", now, (_entry("a"), _entry("b")))
    marked = rs.mark_in_progress(queue, queue.entries[:1], batch_id="2026-01-29-002", now=now)
    a = next(e for e in marked.entries if e.name == "a")
    assert (a.status, a.batch_id, a.last_attempt_at) == ("in_progress", "2026-01-29-002", now)
    assert next(e for e in marked.entries if e.name == "b") == queue.entries[1]
    with pytest.raises(rs.InvalidValueError):
        rs.replace_entries(queue, [_entry("ghost")], now=now)


def test_batch_ids_count_per_day() -> None:
    day = dt.date(2026, 1, 29)
    assert rs.next_batch_id(day, []) == "2026-01-29-001"
    assert rs.next_batch_id(day, ["2026-01-29-001", "2026-01-29-007", "2026-01-28-009"]) == "2026-01-29-008"
    with pytest.raises(rs.InvalidValueError):
        rs.check_batch_id("2026-01-29")


@pytest.mark.parametrize(
    ("legacy", "exit_code", "blocked_by", "expected"),
    [
        ("install_failed", 6, (), ("validation_failed", "install_failed")),
        ("verify_failed", None, (), ("validation_failed", "verify_pattern_mismatch")),
        ("deterministic", 9, (), ("deterministic_insufficient", None)),
        ("generation_failed", None, (), ("deterministic_insufficient", None)),
        ("network_error", 5, (), ("api_error", "upstream_unavailable")),
        ("timeout", 124, (), ("api_error", "timeout")),
        ("recipe_not_found", 3, (), ("api_error", "not_found")),
        ("recipe_not_found", 8, ("libpng",), ("missing_dep", None)),
        ("validation_failed", 7, (), ("validation_failed", "verify_pattern_mismatch")),
        ("missing_dep", 8, ("x",), ("missing_dep", None)),
    ],
)
def test_legacy_categories_map_into_the_taxonomy(
    legacy: str, exit_code: int | None, blocked_by: tuple[str, ...], expected: tuple[str, str | None]
) -> None:
    assert rs.map_legacy(legacy, exit_code=exit_code, blocked_by=blocked_by) == expected


def test_failure_create_cleans_the_message_and_sets_transient(now: dt.datetime) -> None:
    banner = "=====\n  tsuku v0.9  \n\nError:   could not   fetch\nhttps://x.invalid/simple/x/"
    f = rs.Failure.create("pypi:x", "api_error", "timeout", banner, timestamp=now)
    assert f.message == "Error: could not fetch: https://x.invalid/simple/x/"
    assert rs.one_line("\n=====\n  resolving   deps\n") == "resolving deps"
    assert rs.one_line(" \n") == "(no message)"
    assert f.transient
    assert not rs.Failure.create("pypi:x", "api_error", "not_found", "404", timestamp=now).transient
    assert len(rs.Failure.create("pypi:x", "missing_dep", None, "x" * 900, timestamp=now).message) == 500
    with pytest.raises(rs.InvalidValueError, match="not one of category"):
        rs.Failure.create("pypi:x", "missing_dep", "timeout", "m", timestamp=now)
    with pytest.raises(rs.InvalidValueError, match="one line"):
        dataclasses.replace(f, message="a\nb")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-02-17T00:10:01.867521792Z", dt.datetime(2026, 2, 17, 0, 10, 1, tzinfo=dt.UTC)),
        ("2026-01-29T10-00-00Z", dt.datetime(2026, 1, 29, 10, 0, 0, tzinfo=dt.UTC)),
        ("2026-01-29T12:00:00+02:00", dt.datetime(2026, 1, 29, 10, 0, 0, tzinfo=dt.UTC)),
        ("", None),
        ("1734-13-01T00:00:00Z", None),
    ],
)
def test_lenient_time_reads_tsuku_forms(text: str, expected: dt.datetime | None) -> None:
    assert rs.parse_time_lenient(text) == expected


def test_environments_parse() -> None:
    assert len(rs.ENVIRONMENTS) == 11
    env = rs.parse_environment("linux-alpine-musl-arm64")
    assert (env.os, env.family, env.libc, env.arch) == ("linux", "alpine", "musl", "arm64")
    assert rs.environment_for("linux", "debian", "glibc", "amd64") == "linux-debian-glibc-x86_64"
    with pytest.raises(rs.InvalidValueError):
        rs.environment_for("linux", "gentoo", "glibc", "x86_64")


def test_times_keep_four_digit_years() -> None:
    early = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    assert rs.format_time(early) == "0001-01-01T00:00:00Z"
    assert rs.parse_time(rs.format_time(early)) == early
    assert rs.format_file_time(dt.datetime(2026, 1, 29, 10, 0, 5, tzinfo=dt.UTC)) == "2026-01-29T10-00-05Z"


@pytest.mark.parametrize("name", ["python@3.14", "openssl@3", "node@22", "g++", "yt-dlp", "7zip"])
def test_check_name_accepts_real_tool_names(name: str) -> None:
    assert rs.check_name(name) == name


@pytest.mark.parametrize("name", ["@scope", "a/b@1", "x@../y"])
def test_check_name_rejects_scoped_or_path_like_names(name: str) -> None:
    with pytest.raises(rs.InvalidValueError):
        rs.check_name(name)


def test_replace_entries_resorts_only_when_an_order_key_changes(now: dt.datetime) -> None:
    queue = rs.Queue(1, "pypi", now, rs.ordered([_entry("a", popularity=3), _entry("b", popularity=2)]))
    same = rs.replace_entries(queue, [dataclasses.replace(queue.entries[1], status="failed")], now=now)
    assert [e.name for e in same.entries] == ["a", "b"] and same.entries[1].status == "failed"
    promoted = rs.replace_entries(queue, [dataclasses.replace(queue.entries[1], popularity=9)], now=now)
    assert [e.name for e in promoted.entries] == ["b", "a"]


def test_current_time_is_the_clock_unless_recipeline_now_fixes_it() -> None:
    fixed = rs.current_time({"RECIPELINE_NOW": "2026-01-29T10:17:00Z"})
    assert fixed == dt.datetime(2026, 1, 29, 10, 17, tzinfo=dt.UTC)
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    assert before <= rs.current_time({}) <= dt.datetime.now(dt.UTC)
    with pytest.raises(rs.InvalidValueError, match="RECIPELINE_NOW is '10:17'"):
        rs.current_time({"RECIPELINE_NOW": "10:17"})


def test_the_ecosystem_table_has_one_row_per_ecosystem_and_derives_the_other_tables() -> None:
    from recipeline_schema.ecosystems import ACTION_PACKAGES, ECOSYSTEM_INFO, ECOSYSTEM_TABLE
    from recipeline_schema.http import DEFAULT_RATE_LIMITS

    assert tuple(row.id for row in ECOSYSTEM_TABLE) == rs.ECOSYSTEMS
    assert sorted(rs.ROTATION) == sorted(rs.ECOSYSTEMS)
    assert rs.normalize_ecosystem("crates.io") == "cargo" and rs.normalize_ecosystem("Brew") == "homebrew"
    assert ECOSYSTEM_INFO["cask"].display_name == "Homebrew Cask"
    assert str(DEFAULT_RATE_LIMITS["rubygems"]) == "10/60s" and str(DEFAULT_RATE_LIMITS["pypi"]) == "1/1s"
    assert ACTION_PACKAGES["cargo_install"] == ("cargo", "crate") and "app_bundle" not in ACTION_PACKAGES
    keys = [key for row in ECOSYSTEM_TABLE for key, _ in row.endpoints]
    assert len(keys) == len(set(keys)) and set(keys) == set(rs.API_BASE_URLS)
