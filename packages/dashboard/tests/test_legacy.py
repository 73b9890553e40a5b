"""tsuku's categories and file names mapped to this project's terms (its messages: test_reading)."""

from __future__ import annotations

import pytest

from recipeline_dashboard.legacy import canonical_source, parse_failure_filename
from recipeline_schema.tsuku import classify_record as classify


@pytest.mark.parametrize(
    ("category", "exit_code", "blocked_by", "message", "expected"),
    [
        ("install_failed", None, (), "", ("validation_failed", "install_failed")),
        ("verify_failed", None, (), "", ("validation_failed", "verify_pattern_mismatch")),
        ("generation_failed", None, (), "", ("deterministic_insufficient", None)),
        ("deterministic", 6, (), "", ("deterministic_insufficient", None)),
        ("network_error", 5, (), "", ("api_error", "upstream_unavailable")),
        ("timeout", 124, (), "", ("api_error", "timeout")),
        ("recipe_not_found", None, ("libpng",), "", ("missing_dep", None)),
        ("recipe_not_found", None, (), "", ("api_error", "not_found")),
        ("validation_failed", None, (), "", ("validation_failed", None)),
        # derived where tsuku left none: bracketed tag, then a marker of the cause line
        (
            "generation_failed",
            None,
            (),
            "deterministic generation failed: [complex_archive] x",
            ("deterministic_insufficient", "archive_extraction_failed"),
        ),
        (
            "deterministic_insufficient",
            None,
            (),
            "Error: 'bat' resolved to github, which requires LLM",
            ("deterministic_insufficient", "requires_llm"),
        ),
        (
            "validation_failed",
            None,
            (),
            "Installation failed: expected executable azion not found",
            ("validation_failed", "install_failed"),
        ),
    ],
)
def test_classify(
    category: str,
    exit_code: int | None,
    blocked_by: tuple[str, ...],
    message: str,
    expected: tuple[str, str | None],
) -> None:
    assert classify(category, None, exit_code=exit_code, blocked_by=blocked_by, message=message) == expected


def test_a_valid_subcategory_is_kept() -> None:
    assert classify("api_error", "rate_limited", message="not found") == ("api_error", "rate_limited")


def test_file_names_and_sources() -> None:
    assert parse_failure_filename("homebrew-2026-02-08T02-33-27Z.jsonl") == (
        "homebrew",
        "homebrew-2026-02-08T02-33-27Z",
    )
    assert parse_failure_filename("homebrew.jsonl") == ("homebrew", "")
    assert parse_failure_filename("crates.io-2026-02-19T08-45-18Z.jsonl")[0] == "crates.io"
    assert canonical_source("crates.io:ripgrep") == ("cargo:ripgrep", "cargo")
    assert canonical_source("github:sharkdp/bat") == ("github:sharkdp/bat", "github")
    assert canonical_source("imagemagick") == ("imagemagick", "")
