"""One exit-code table for every stage CLI and task: the README's is recipeline_schema.exitcodes'."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from flowsupport import PROJECT

from recipeline_schema.exitcodes import EXIT_TABLE, EXIT_USAGE


def test_the_readme_table_is_the_schema_table() -> None:
    text = (PROJECT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \| ([a-z ]+):", section, flags=re.M)
    assert [(int(code), name) for code, name in rows] == [(code, name) for code, name, _ in EXIT_TABLE]


@pytest.mark.parametrize(
    "argv",
    [
        ["recipeline_merger", "preflight", "--ecosystem", "cobol", "--batch-size", "1"],
        ["recipeline_seeder", "seed", "--ecosystem", "cobol"],
        ["recipeline_generator", "generate", "--batch-dir"],
        ["recipeline_validator", "validate", "--workers", "many"],
        ["recipeline_dashboard", "build", "--now", "soon"],
        ["recipeline_schema", "bench-queue", "--entries", "0"],
        ["recipeline_merger", "frobnicate"],
        ["recipeline_seeder", "frobnicate"],
    ],
)
def test_every_stage_answers_a_usage_error_with_one_line_and_the_same_code(argv: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", *argv], capture_output=True, text=True, timeout=60)
    assert result.returncode == EXIT_USAGE, result.stderr
    assert result.stderr.count("\n") == 1 and "usage:" not in result.stderr, result.stderr
    assert result.stderr.startswith(argv[0].replace("_", "-")), result.stderr
