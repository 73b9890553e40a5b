"""Static checks: TOML, schema and rules; what runs in an environment; verdicts and messages."""

from __future__ import annotations

import pytest
from validator_helpers import recipe_toml

from recipeline_schema import parse_environment
from recipeline_validator import check_recipe, native_plan, step_applies
from recipeline_validator.output import cause_line, first_line
from recipeline_validator.verify import VerifySpec, judge, verify_spec

GOOD = recipe_toml("tool", "tool-dist", ["tool"], "tool --version", pattern="tool {version}")


def test_a_generated_recipe_is_valid() -> None:
    check = check_recipe(GOOD, "tool.toml")
    assert check.ok, check.problems
    assert check.recipe is not None and check.recipe.name == "tool"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[metadata\nname = 1", ["bad.toml", "valid TOML"]),
        (
            GOOD.replace('name = "tool"', 'name = "tool"\nname = "other"'),
            ["bad.toml", "duplicate key 'name'"],
        ),
        (GOOD + '\n[metadata]\nname = "again"\n', ["bad.toml", "duplicate key 'metadata'"]),
        ('[metadata]\nname = "tool"\n', ["bad.toml", "steps"]),
        (GOOD.replace('name = "tool"', 'name = "../etc"'), ["metadata.name"]),
        (GOOD.replace('action = "pipx_install"', 'action = "Run-Command"'), ["steps[0].action"]),
        (GOOD.replace("[verify]\n", "[check]\n"), ["[verify]"]),
        (GOOD.replace('pattern = "tool {version}"', 'pattern = "x"\npatterns = ["y"]'), ["not both"]),
        (GOOD.replace("https://", "http://"), ["https://"]),
        (GOOD.replace('package = "tool-dist"', 'package = "--index-url=http://evil"'), ["package"]),
        (GOOD.replace('executables = ["tool"]', 'executables = ["../bin/sh"]'), ["'../bin/sh'"]),
        (GOOD.replace('executables = ["tool"]', "executables = []"), ["pipx_install requires 'executables'"]),
        (GOOD.replace("[verify]", 'binary = "../../x"\n\n[verify]'), ["'..' segment"]),
    ],
)
def test_invalid_recipes_say_where_and_what(text: str, words: list[str]) -> None:
    check = check_recipe(text, "bad.toml")
    assert not check.ok
    for word in words:
        assert word in check.message


def test_pinned_requirements_with_extras_are_accepted() -> None:
    assert check_recipe(GOOD.replace('"tool-dist"', '"tool-dist[cli]==1.2.3"')).ok


BLACK = """
[metadata]
name = "black"
[[steps]]
action = "pipx_install"
when = { os = ["linux"], libc = ["glibc"] }
package = "black"
executables = ["black", "blackd"]
[[steps]]
action = "apk_install"
when = { os = ["linux"], libc = ["musl"] }
packages = ["black"]
[[steps]]
action = "pipx_install"
when = { os = ["darwin"] }
package = "black"
executables = ["black"]
[verify]
command = "black --version"
"""


@pytest.mark.parametrize(
    ("environment", "steps", "skip_words"),
    [
        ("linux-debian-glibc-x86_64", [1], ""),
        ("linux-rhel-glibc-arm64", [1], ""),
        ("darwin-arm64", [3], ""),
        ("linux-alpine-musl-x86_64", [], "step 2: apk_install"),
    ],
)
def test_the_plan_takes_the_steps_of_the_environment(
    environment: str, steps: list[int], skip_words: str
) -> None:
    recipe = check_recipe(BLACK).recipe
    assert recipe is not None
    plan = native_plan(recipe, parse_environment(environment))
    assert [i.step for i in plan.installs] == steps
    assert skip_words in plan.skip_reason


@pytest.mark.parametrize(
    ("when", "environment", "applies"),
    [
        ({"arch": "amd64"}, "linux-debian-glibc-x86_64", True),
        ({"arch": "arm64"}, "linux-debian-glibc-x86_64", False),
        ({"platform": ["linux/arm64"]}, "linux-suse-glibc-arm64", True),
        ({"linux_family": "rhel"}, "linux-debian-glibc-x86_64", False),
        ({"package_manager": "apk"}, "linux-alpine-musl-arm64", True),
        ({"libc": ["glibc"]}, "darwin-arm64", False),
        ({"os": "darwin"}, "darwin-x86_64", True),
        (None, "darwin-x86_64", True),
    ],
)
def test_when_conditions(when: dict[str, object] | None, environment: str, applies: bool) -> None:
    assert step_applies(when, parse_environment(environment)) is applies


def test_a_recipe_for_another_ecosystem_is_skipped_with_the_reason() -> None:
    text = GOOD.replace('action = "pipx_install"', 'action = "cargo_install"')
    recipe = check_recipe(text).recipe
    assert recipe is not None
    plan = native_plan(
        recipe, parse_environment("linux-debian-glibc-x86_64"), runnable=frozenset({"pipx_install"})
    )
    assert plan.installs == ()
    assert "cannot run step 1: cargo_install" in plan.skip_reason


PIP_FAILURE = """\
Looking in links: /tmp/wheels
Processing /tmp/wheels/tool-1.0-py3-none-any.whl
   ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 1.2/1.2 MB 3.4 MB/s eta 0:00:00
ERROR: Could not find a version that satisfies the requirement dep>=1 (from tool) (from versions: none)
ERROR: No matching distribution found for dep>=1

[notice] A new release of pip is available: 24.0 -> 26.0
"""
TRACEBACK = """\
Traceback (most recent call last):
  File "/p/bin/tool", line 8, in <module>
    sys.exit(main())
ModuleNotFoundError: No module named 'yaml'
"""


@pytest.mark.parametrize(
    ("output", "cause"),
    [
        (PIP_FAILURE, "ERROR: No matching distribution found for dep>=1"),
        (TRACEBACK, "ModuleNotFoundError: No module named 'yaml'"),
        ("Usage: tool [OPTIONS]\nTry 'tool --help'.\n", "Try 'tool --help'."),
        ("", "(no message)"),
    ],
)
def test_the_cause_line_is_the_error_not_the_banner(output: str, cause: str) -> None:
    assert cause_line(output) == cause


def test_judging_a_verify_run() -> None:
    spec = VerifySpec("tool --version", ("tool {version}",))
    assert judge(spec, exit_code=0, output="tool 1.0\n", version="1.0", install_dir="/p").passed
    mismatch = judge(spec, exit_code=0, output="\n  tool 2.0 (build x)\n", version="1.0", install_dir="/p")
    assert mismatch.subcategory == "verify_pattern_mismatch"
    assert "'tool 1.0'" in mismatch.message and "'tool 2.0 (build x)'" in mismatch.message
    refused = judge(spec, exit_code=2, output="usage: tool [-h]\n", version="1.0", install_dir="/p")
    assert refused.subcategory == "verify_pattern_mismatch" and "exited 2" in refused.message
    crashed = judge(spec, exit_code=-24, output="", version="1.0", install_dir="/p")
    assert crashed.subcategory == "install_failed" and "SIGXCPU" in crashed.message
    expected_code = VerifySpec("tool", (), exit_code=2)
    assert judge(expected_code, exit_code=2, output="", version="1", install_dir="/p").passed
    assert first_line("\n\n  a   b \nc") == "a b"


def test_verify_spec_from_a_document() -> None:
    base = {"command": "t {install_dir}/bin/t"}
    assert verify_spec({"verify": {**base, "pattern": "v{version}"}}).patterns == ("v{version}",)
    assert verify_spec({"verify": {**base, "patterns": ["a", "b"]}}).patterns == ("a", "b")
    assert verify_spec({"verify": {**base, "pattern": "x", "mode": "output"}}).patterns == ()
    assert verify_spec({"verify": base}).patterns == ()
