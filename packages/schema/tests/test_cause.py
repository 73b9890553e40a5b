"""The one rule for which lines of a tool's output state the cause (recipeline_schema.cause)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from recipeline_schema import one_line
from recipeline_schema.cause import NOISE_ONLY, cause_line, cause_lines

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
        # a cause word only inside noise: still the last line left
        ("first\nsecond\nthird\nDownloading error-reporter-1.0.whl", "third"),
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
