"""Curated records and the cross-ecosystem rule decide a name's source at seeding time."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from recipeline_schema import Disambiguation, Layout, Queue, QueueEntry, load, save
from recipeline_seeder import Candidate
from recipeline_seeder.__main__ import main
from recipeline_seeder.disambiguate import GAP_FACTOR, curated_index, disambiguate, elsewhere_index

NOW = "2026-02-15T10:00:00Z"


def entry(name: str, source: str, popularity: int | None = None) -> QueueEntry:
    return QueueEntry(name=name, source=source, priority=3, popularity=popularity)


def test_a_curated_record_of_this_ecosystem_sets_the_source() -> None:
    curated = curated_index([Disambiguation(tool="RG", selected="cargo:ripgrep")])
    got = disambiguate([Candidate("rg", "cargo:rg", 1, 10)], "cargo", curated=curated, elsewhere={})
    [candidate] = got.candidates
    assert (candidate.source, candidate.confidence, candidate.disambiguated) == (
        "cargo:ripgrep",
        "curated",
        True,
    )
    assert not got.skipped


def test_a_curated_record_of_another_ecosystem_skips_the_name() -> None:
    curated = curated_index([Disambiguation(tool="bat", selected="github:sharkdp/bat")])
    got = disambiguate([Candidate("bat", "homebrew:bat")], "homebrew", curated=curated, elsewhere={})
    assert not got.candidates
    assert "github:sharkdp/bat" in got.skipped[0].reason


def test_across_units_never_compares_counts() -> None:
    # cargo downloads are ten thousand times homebrew installs: still not comparable
    others = elsewhere_index("cargo", [entry("fd", "homebrew:fd", 1_000)])
    got = disambiguate(
        [Candidate("fd", "cargo:fd-find", 1, 10_000_000)], "cargo", curated={}, elsewhere=others
    )
    [candidate] = got.candidates
    assert candidate.status == "requires_manual"
    assert "homebrew:fd" in candidate.reason and "curated" in candidate.reason


@pytest.mark.parametrize(
    ("mine", "theirs", "outcome"),
    [
        (GAP_FACTOR * 100, 100, "pending"),
        (100, GAP_FACTOR * 100, "skipped"),
        (500, 100, "requires_manual"),
        (None, 100, "requires_manual"),
    ],
)
def test_same_unit_uses_the_popularity_gap(mine: int | None, theirs: int, outcome: str) -> None:
    others = elsewhere_index("cask", [entry("docker", "homebrew:docker", theirs)])
    got = disambiguate([Candidate("docker", "cask:docker", 3, mine)], "cask", curated={}, elsewhere=others)
    if outcome == "skipped":
        assert not got.candidates and "homebrew:docker" in got.skipped[0].reason
    else:
        [candidate] = got.candidates
        assert candidate.status == outcome


def test_the_seeded_ecosystems_own_entries_do_not_count_as_elsewhere() -> None:
    assert elsewhere_index("cargo", [entry("rg", "cargo:ripgrep")]) == {}


def test_cli_reads_tsukus_single_object_form_and_marks_manual(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = Layout(repo)
    layout.curated.parent.mkdir(parents=True)
    records = [
        {"tool": "rg", "selected": "cargo:ripgrep", "alternatives": [], "selection_reason": "curated"},
        {"tool": "bat", "selected": "github:sharkdp/bat", "alternatives": [], "selection_reason": "curated"},
    ]
    layout.curated.write_text(
        json.dumps({"schema_version": 1, "ecosystem": "curated", "disambiguations": records}) + "\n",
        encoding="utf-8",
    )
    save(
        Queue(1, "homebrew", dt.datetime(2026, 2, 1, tzinfo=dt.UTC), (entry("fd", "homebrew:fd", 50_000),)),
        layout.queue("homebrew"),
    )
    listing = tmp_path / "cargo.txt"
    listing.write_text("rg - 1 100\nbat - 1 90\nfd cargo:fd-find 2 80\ntokei - 3 5\n", encoding="utf-8")
    code = main(["seed", "--repo", str(repo), "-e", "cargo", "--from-file", str(listing), "--now", NOW])
    assert code == 0, capsys.readouterr().err
    queue = load(Queue, layout.queue("cargo"))
    got = {e.name: (e.source, e.status, e.confidence, e.disambiguated_at is not None) for e in queue.entries}
    assert got == {
        "rg": ("cargo:ripgrep", "pending", "curated", True),
        "fd": ("cargo:fd-find", "requires_manual", "auto", True),
        "tokei": ("cargo:tokei", "pending", "auto", False),
    }
    # the entry already queued elsewhere is untouched
    assert load(Queue, layout.queue("homebrew")).entries == (entry("fd", "homebrew:fd", 50_000),)
