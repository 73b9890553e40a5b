"""Seed list files: the format, its errors, and the repository's own lists."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from recipeline_schema import ECOSYSTEMS, Queue
from recipeline_seeder import Candidate, SeedListError, SeedListSource, merge_candidates, parse_seed_list
from recipeline_seeder.config import load_settings

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_fields_defaults_and_comments() -> None:
    text = (
        "# a comment\n"
        "\n"
        "httpie\n"
        "aider   pypi:aider-chat   1   250000   # trailing comment\n"
        "black   -                 2\n"
        "tox     -  -  700\n"
        "   yamllint 3\r\n"
        "#disabled 1\n"
    )
    got = parse_seed_list(text, ecosystem="pypi", file="s.txt")
    assert got == (
        Candidate("httpie", "pypi:httpie", 3, None, "s.txt:3"),
        Candidate("aider", "pypi:aider-chat", 1, 250000, "s.txt:4"),
        Candidate("black", "pypi:black", 2, None, "s.txt:5"),
        Candidate("tox", "pypi:tox", 3, 700, "s.txt:6"),
        Candidate("yamllint", "pypi:yamllint", 3, None, "s.txt:7"),
    )


def test_names_are_not_judged_by_the_parser() -> None:
    # the merge rejects them with a reason; the list format only splits fields
    got = parse_seed_list("../evil\nok cargo:ripgrep\n", ecosystem="pypi", file="s.txt")
    assert [(c.name, c.source) for c in got] == [("../evil", "pypi:../evil"), ("ok", "cargo:ripgrep")]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("tool 4", "priority 1, 2 or 3"),
        ("tool 0", "priority 1, 2 or 3"),
        ("tool high", "priority 1, 2 or 3"),
        ("tool 1 -5", "popularity as a whole number"),
        ("tool 1 1e6", "popularity as a whole number"),
        ("tool pypi:tool 1 2 3", "at most 4 fields"),
    ],
)
def test_malformed_lines_name_file_line_and_field(line: str, expected: str) -> None:
    with pytest.raises(SeedListError) as info:
        parse_seed_list(f"ok\n{line}\n", ecosystem="pypi", file="data/seeds/x.txt")
    message = str(info.value)
    assert message.startswith("data/seeds/x.txt:2: expected ")
    assert expected in message
    assert info.value.line == 2


def test_source_reads_a_file(seed_list: Callable[[str, str], Path]) -> None:
    path = seed_list("\ufefftox\n", "list.txt")
    source = SeedListSource(path, "pypi")
    assert source.name == f"file:{path}"
    assert source.fetch() == (Candidate("tox", "pypi:tox", 3, None, f"{path}:1"),)


def test_source_fails_on_a_missing_or_undecodable_file(tmp_path: Path) -> None:
    with pytest.raises(SeedListError, match="expected a readable seed list file"):
        SeedListSource(tmp_path / "missing.txt", "pypi").fetch()
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok\nbad\xff\n")
    with pytest.raises(SeedListError, match=r"bad.txt:2: expected UTF-8 text"):
        SeedListSource(bad, "pypi").fetch()


def repository_seed_lists() -> list[Path]:
    return sorted((REPO_ROOT / "data" / "seeds").glob("*.txt"))


@pytest.mark.parametrize("path", repository_seed_lists(), ids=lambda p: p.name)
def test_repository_seed_lists_are_clean(path: Path) -> None:
    """Every list in data/seeds/ parses and merges into an empty queue without a rejection."""
    ecosystem = path.stem
    assert ecosystem in ECOSYSTEMS
    candidates = SeedListSource(path, ecosystem).fetch()
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    empty = Queue(schema_version=1, ecosystem=ecosystem, updated_at=now, entries=())
    queue, report = merge_candidates(empty, candidates, recipe_names=(), now=now)
    assert not report.rejected, [r.reason for r in report.rejected]
    assert not report.skipped, [s.reason for s in report.skipped]
    assert len(queue.entries) == len(candidates)


def test_the_pypi_seed_list_is_present() -> None:
    assert REPO_ROOT / "data" / "seeds" / "pypi.txt" in repository_seed_lists()


def test_repository_seed_lists_do_not_collide_across_ecosystems() -> None:
    """A name in two lists would be queued as requires_manual; the lists avoid that."""
    owners: dict[str, list[str]] = {}
    for path in repository_seed_lists():
        for candidate in SeedListSource(path, path.stem).fetch():
            owners.setdefault(candidate.name.casefold(), []).append(path.stem)
    assert len(owners) > 100
    assert {name: ecos for name, ecos in owners.items() if len(ecos) > 1} == {}


def test_repository_seeder_config_loads() -> None:
    """The committed data/seeds/seeder-config.json is valid and sets every ecosystem's tiers."""
    path = REPO_ROOT / "data" / "seeds" / "seeder-config.json"
    loaded = load_settings(path)
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert set(loaded) == set(ECOSYSTEMS)
    for eco in ECOSYSTEMS:
        assert (loaded[eco].tier1, loaded[eco].tier2) == (raw[eco]["tier1"], raw[eco]["tier2"])
