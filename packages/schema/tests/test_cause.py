"""The one rule for which lines of a tool's output state the cause (recipeline_schema.cause)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from recipeline_schema import Failure, one_line
from recipeline_schema.cause import DETAIL_LIMIT, NOISE_ONLY, cause_line, cause_lines, cause_text

TSUKU_BANNER = (
    "tsuku collects anonymous usage statistics.\n"
    "No personal information is collected.\n"
    "To opt out, run: tsuku config set telemetry false\n"
)


TSUKU_MISSING = (
    "Error: registry: recipe ada-url not found in registry\n\nSuggestion: Verify the recipe name is "
    "correct.\n\nTo create a recipe from a package ecosystem:\n  tsuku create ada-url --from <ecosystem>"
    "\n\nAvailable ecosystems: crates.io, rubygems, pypi, npm"
)
CARGO = "error: failed to compile `x v1.0.0`\n\nCaused by:\n  could not find `Cargo.toml`"
PIP = "Collecting foo\nDownloading foo-1.0.whl (12 kB)\n 45% |#####     |\nERROR: No matching distribution"


@pytest.mark.parametrize(
    ("output", "line"),
    [
        # the cause is the last cause-like line: progress and banners come first
        (TSUKU_BANNER + "Resolving x...\nError: recipe y not found", "Error: recipe y not found"),
        # a generic cause line with the detail on the next line keeps the detail
        ("validation failed\nhomepage: must be https", "validation failed: homepage: must be https"),
        # a progress tick after the cause is noise, never "ok: patchelf@0.18.0"
        ("❌ installation failed\n✅ patchelf@0.18.0\n", "failed: installation failed"),
        ("✅ patchelf@0.18.0\nerror: no bottle for arm64_sonoma", "error: no bottle for arm64_sonoma"),
        # cargo's "Caused by:" block
        (CARGO, "error: failed to compile `x v1.0.0`: Caused by: could not find `Cargo.toml`"),
        # download bars and pip's progress lines are noise; a percentage beside a cause is not
        (PIP, "ERROR: No matching distribution"),
        ("error: 3 of 4 tests failed (75%)", "error: 3 of 4 tests failed (75%)"),
        # a URL is a detail, not a cause
        (
            "Error: could not fetch\nhttps://x.invalid/simple/",
            "Error: could not fetch: https://x.invalid/simple/",
        ),
        # tsuku's suggestion block after a missing recipe is noise
        (TSUKU_MISSING, "Error: registry: recipe ada-url not found in registry"),
        # no cause-like line: the last line left; only noise or nothing: ""
        ("usage: x [options]\nx: unknown option --versio", "x: unknown option --versio"),
        # a trailing "..." is progress, except in a usage line
        ("Resolving x...\nusage: x [-h] FILE...", "usage: x [-h] FILE..."),
        # a cause word only inside noise: still the last line left
        ("first\nsecond\nthird\nDownloading error-reporter-1.0.whl", "third"),
        # tsuku's real shapes: its review warning, its step log, a cross after a progress line
        (
            "Warning: Skipping recipe review (--yes). The recipe will be installed without confirmation.\n"
            "Error: package 'afl++' not found in homebrew",
            "Error: package 'afl++' not found in homebrew",
        ),
        (
            "Step 1/4: download_file\n   Using cached: rust.tar.gz\nStep 3/4: run_command",
            "Step 3/4: run_command",
        ),
        ("Installing...\n❌ lib3mf@2.5.0\nInst...", "failed: lib3mf@2.5.0"),
        ("✅ done", ""),
        (TSUKU_BANNER, ""),
        ("  \n=====\n", ""),
    ],
)
def test_the_cause_line(output: str, line: str) -> None:
    assert cause_line(output) == line


def test_cause_lines_drop_noise_and_keep_order() -> None:
    assert cause_lines(TSUKU_BANNER + "a   b\n=====\n⏳ waiting\nc") == ["a b", "c"]


def test_the_cause_line_is_capped() -> None:
    assert len(cause_line("error: " + "x" * 900)) == 500
    assert cause_line("error: " + "x" * 900).endswith("…")


def test_every_cause_line_of_tsukus_real_records_states_a_cause(tsuku_fixtures: Path) -> None:
    """Over tsuku's recorded failures: no cause line is a banner, a notice, a tick or tsuku's
    suggestion block, and a message with any non-noise line gets one."""
    messages = [
        failure.get("message", "")
        for path in sorted((tsuku_fixtures / "data" / "failures").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        for failure in json.loads(line).get("failures", [])
    ]
    assert len(messages) > 100
    for message in messages:
        line = cause_line(message)
        assert not re.search(r"telemetry|suggestion:|<ecosystem>|available ecosystems|^✅", line, re.I), line
        assert bool(line) == bool(cause_lines(message))


def test_a_message_of_noise_only_says_so() -> None:
    assert one_line(TSUKU_BANNER) == NOISE_ONLY
    assert one_line("") == "(no message)"


def test_the_whole_cause_keeps_every_line_but_the_noise() -> None:
    assert cause_text(
        TSUKU_BANNER + "recipe validation failed\n  homepage must be https\n✅ patchelf@0.18.0"
    ) == ("recipe validation failed\nhomepage must be https")


def test_a_long_whole_cause_keeps_its_last_lines() -> None:
    lines = [f"step {i}: compiling module number {i}" for i in range(400)] + ["error: linker `cc` not found"]
    text = cause_text("\n".join(lines))
    assert len(text) <= DETAIL_LIMIT
    assert text.startswith("…\n") and text.endswith("error: linker `cc` not found")
    assert "step 399" in text and "step 0:" not in text
    assert len(cause_text("error: " + "x" * 9000)) <= DETAIL_LIMIT


NOW = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)


def test_a_failure_keeps_the_whole_cause_beside_its_line() -> None:
    """The record a failure page shows: the line for tables, the whole cause for the reader."""
    raw = "Error: recipe validation failed\n  homepage: must be https, got http://x.example\n"
    failure = Failure.create("pypi:x", "validation_failed", "schema_invalid", raw, timestamp=NOW)
    assert failure.message == "Error: recipe validation failed: homepage: must be https, got http://x.example"
    assert failure.detail == "Error: recipe validation failed\nhomepage: must be https, got http://x.example"
    output = "Collecting x\n 45% |####\nERROR: No matching distribution found for x==9"
    failure = Failure.create(
        "pypi:x", "validation_failed", "install_failed", "pip: no match", timestamp=NOW, output=output
    )
    assert failure.detail == "ERROR: No matching distribution found for x==9"
    one = Failure.create("pypi:x", "api_error", "timeout", "timed out after 30 s", timestamp=NOW)
    assert one.detail == ""  # the message says it all
