"""Curated disambiguations in both forms."""

from __future__ import annotations

from pathlib import Path

import pytest

import recipeline_schema as rs


def test_one_record_a_line_and_tsukus_single_object(tmp_path: Path) -> None:
    path = tmp_path / "curated.jsonl"
    path.write_text(
        '{"tool": "rg", "selected": "cargo:ripgrep"}\n'
        "\n"
        '{"schema_version": 1, "disambiguations": [{"tool": "fd", "selected": "homebrew:fd",'
        ' "alternatives": [], "selection_reason": "curated", "high_risk": false}]}\n'
    )
    records = rs.read_curated(path)
    assert [(r.tool, r.selected) for r in records] == [("rg", "cargo:ripgrep"), ("fd", "homebrew:fd")]
    assert rs.curated_by_tool(records)["rg"].selected == "cargo:ripgrep"
    assert rs.read_curated(tmp_path / "absent.jsonl") == ()


def test_a_bad_record_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "curated.jsonl"
    path.write_text('{"tool": "rg", "selected": "cargo:ripgrep"}\n{"tool": "x"}\n')
    with pytest.raises(rs.DataFileError, match=r"line 2: \$: expected required field\(s\) \['selected'\]"):
        rs.read_curated(path)


def test_reads_tsukus_real_curated_file(tsuku_fixtures: Path) -> None:
    records = rs.read_curated(tsuku_fixtures / "data" / "disambiguations" / "curated.jsonl")
    assert len(records) == 20
    assert rs.curated_by_tool(records)["rg"].selected.startswith("github:")
