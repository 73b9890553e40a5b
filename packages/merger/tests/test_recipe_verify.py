"""The discovered verify written into a recipe: only [verify] changes, in tsuku's format."""

from __future__ import annotations

import tomllib

import pytest

from recipeline_merger.recipe_verify import chosen_verify, with_verify
from recipeline_schema import RecipeResult, SafetyVerdict
from recipeline_schema.models import DiscoveredVerify

RECIPE = """# written by hand: comments, quoting and spacing survive
[metadata]
name = "tool"   # the tool
description = 'single-quoted'

[[steps]]
action = "pipx_install"
package = "tool"
executables = [ "tool" ]

[verify]
command = "tool --version"
pattern = "{version}"
"""


def _result(outcome: str, verify: DiscoveredVerify | None) -> RecipeResult:
    return RecipeResult("tool", "pypi:tool", outcome, 1.0, SafetyVerdict(True), verify=verify)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("verify", "table"),
    [
        (DiscoveredVerify("tool -V"), 'command = "tool -V"\npattern = "{version}"\n'),
        (
            DiscoveredVerify("tool version", exit_code=1),
            'command = "tool version"\npattern = "{version}"\nexit_code = 1\n',
        ),
        (
            DiscoveredVerify("tool --version", pattern="usage", mode="output", reason="prints no version"),
            'command = "tool --version"\npattern = "usage"\nmode = "output"\nreason = "prints no version"\n',
        ),
    ],
)
def test_only_the_verify_table_is_rewritten(verify: DiscoveredVerify, table: str) -> None:
    before, _, _ = RECIPE.partition("[verify]\n")
    assert with_verify(RECIPE, verify) == before + "[verify]\n" + table


def test_no_discovery_or_the_same_verify_keeps_the_text() -> None:
    assert with_verify(RECIPE, None) is RECIPE
    assert with_verify(RECIPE, DiscoveredVerify("tool --version")) is RECIPE


def test_other_verify_keys_are_kept_and_old_matching_keys_dropped() -> None:
    text = RECIPE.replace('pattern = "{version}"\n', 'patterns = ["a", "{version}"]\nmode = "version"\n')
    text += '\n[[verify.additional]]\ncommand = "tool-helper --version"\npattern = "{version}"\n'
    verify = tomllib.loads(with_verify(text, DiscoveredVerify("tool -V", exit_code=2)))["verify"]
    assert verify == {
        "command": "tool -V",
        "pattern": "{version}",
        "exit_code": 2,
        "additional": [{"command": "tool-helper --version", "pattern": "{version}"}],
    }


def test_the_first_passing_environment_by_id_decides() -> None:
    a, b = DiscoveredVerify("tool -V"), DiscoveredVerify("tool --version")
    passing = [
        ("linux-rhel-glibc-x86_64", _result("pass", b)),
        ("linux-debian-glibc-x86_64", _result("pass", a)),
        ("linux-alpine-musl-x86_64", _result("fail", b)),
    ]
    assert chosen_verify(passing) == a
    assert chosen_verify([("linux-debian-glibc-x86_64", _result("pass", None))]) is None
