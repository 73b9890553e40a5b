"""Safety analysis from the parsed TOML: however a step is written, its action is seen."""

from __future__ import annotations

from pathlib import Path

import pytest

from recipeline_schema import parse_recipe_toml
from recipeline_validator import analyze, check_recipe

HEAD = '[metadata]\nname = "t"\nhomepage = "https://example.invalid"\n\n'
VERIFY = '\n[verify]\ncommand = "t --version"\npattern = "{version}"\n'
PIPX = '[[steps]]\naction = "pipx_install"\npackage = "t"\nexecutables = ["t"]\n'

CASES: list[tuple[str, str, tuple[str, ...]]] = [
    ("run_command plain", '[[steps]]\naction = "run_command"\ncommand = "make"\n', ("step 1: run_command",)),
    (
        "run_command behind a when",
        PIPX + '\n[[steps]]\naction = "run_command"\ncommand = "x"\nwhen = { os = ["linux"] }\n',
        ("step 2: run_command (when os=linux)",),
    ),
    (
        "inline-table steps",
        'steps = [{action = "pipx_install", package = "t", executables = ["t"]}, '
        '{action = "run_command", command = "curl x | sh"}]\n',
        ("step 2: run_command",),
    ),
    (
        "quoted key, literal string",
        "[[steps]]\n\"action\" = 'run_command'\ncommand = 'x'\n",
        ("step 1: run_command",),
    ),
    ("unicode escape", '[[steps]]\naction = "run\\u005fcommand"\ncommand = "x"\n', ("step 1: run_command",)),
    ("multi-line string", '[[steps]]\naction = """run_command"""\ncommand = "x"\n', ("step 1: run_command",)),
    (
        "a comment claiming another action",
        '[[steps]]\n# action = "pipx_install"\n'
        'action   =   "run_command"  # harmless, honest\ncommand = "x"\n',
        ("step 1: run_command",),
    ),
    (
        "apt_install for one libc",
        PIPX + '\n[[steps]]\naction = "apk_install"\npackages = ["t"]\n'
        'when = { os = ["linux"], libc = ["musl"] }\n',
        ("step 2: apk_install (when libc=musl, os=linux)",),
    ),
    ("apt_install", '[[steps]]\naction = "apt_install"\npackages = ["t"]\n', ("step 1: apt_install",)),
    ("unknown action", '[[steps]]\naction = "frobnicate"\n', ("step 1: frobnicate (unknown action)",)),
    ("npm_exec", '[[steps]]\naction = "npm_exec"\npackage = "t"\n', ("step 1: npm_exec",)),
    ("set_env", PIPX + '\n[[steps]]\naction = "set_env"\nname = "X"\n', ("step 2: set_env",)),
    ("cargo_build", '[[steps]]\naction = "cargo_build"\n', ("step 1: cargo_build",)),
    ("apply_patch", '[[steps]]\naction = "apply_patch"\n', ("step 1: apply_patch",)),
    (
        "unicode escape in the key",
        '[[steps]]\n"\\u0061ction" = "run_command"\ncommand = "x"\n',
        ("step 1: run_command",),
    ),
    (
        "long unicode escape",
        '[[steps]]\naction = "\\U00000072un_command"\ncommand = "x"\n',
        ("step 1: run_command",),
    ),
    (
        "multi-line literal string",
        "[[steps]]\naction = '''run_command'''\ncommand = 'x'\n",
        ("step 1: run_command",),
    ),
    (
        "line-ending backslash in a multi-line string",
        '[[steps]]\naction = """run_\\\n   command"""\ncommand = "x"\n',
        ("step 1: run_command",),
    ),
    (
        "spaces and tabs around the key",
        '[[steps]]\n \t action\t=\t"run_command"\ncommand = "x"\n',
        ("step 1: run_command",),
    ),
    (
        "run_command as the third of mixed steps",
        PIPX + '\n[[steps]]\naction = "chmod"\nfiles = ["t"]\n\n'
        '[[steps]]\naction = "run_command"\ncommand = "x"\n',
        ("step 3: run_command",),
    ),
    (
        "an action hidden in a when table",
        '[[steps]]\naction = "pipx_install"\npackage = "t"\nexecutables = ["t"]\n'
        'when = { os = ["linux"], action = "run_command" }\n',
        ("step 1: when: action 'run_command' outside the top-level [[steps]]",),
    ),
    (
        "an action hidden in a sub-table of a step",
        PIPX + '[steps.extra]\naction = "run_command"\ncommand = "x"\n',
        ("step 1: extra: action 'run_command' outside the top-level [[steps]]",),
    ),
    (
        "an array of tables nested in a step",
        PIPX + '[[steps.post]]\naction = "run_command"\ncommand = "x"\n',
        ("step 1: post[0]: action 'run_command' outside the top-level [[steps]]",),
    ),
    (
        "actions in a variant table",
        PIPX + '\n[[variants.linux.steps]]\naction = "download"\nurl = "https://x.invalid/a"\n',
        ("variants.linux.steps[0]: action 'download' outside the top-level [[steps]]",),
    ),
    (
        "patches",
        PIPX + '\n[[patches]]\nurl = "https://x.invalid/p.diff"\n',
        ("patches: 1 patch(es) applied to the sources",),
    ),
    (
        "system package manager on one family",
        PIPX + '\n[[steps]]\naction = "zypper_install"\npackages = ["t"]\nwhen = { linux_family = "suse" }\n',
        ("step 2: zypper_install (when linux_family=suse)",),
    ),
    ("service", '[[steps]]\naction = "service_enable"\nservice = "t"\n', ("step 1: service_enable",)),
    (
        "upper case is not the allowed action",
        '[[steps]]\naction = "PIPX_INSTALL"\n',
        ("step 1: PIPX_INSTALL (unknown action)",),
    ),
    (
        "trailing space is not the allowed action",
        '[[steps]]\naction = "pipx_install "\n',
        ("step 1: pipx_install  (unknown action)",),
    ),
    (
        "an allowed installer given an option instead of a package",
        '[[steps]]\naction = "cargo_install"\ncrate = "--git=https://evil.invalid/x"\n',
        ("step 1: cargo_install crate '--git=https://evil.invalid/x' is not a plain package name",),
    ),
    (
        "an allowed installer given a URL",
        '[[steps]]\naction = "gem_install"\ngem = "https://evil.invalid/x.gem"\n',
        ("step 1: gem_install gem 'https://evil.invalid/x.gem' is not a plain package name",),
    ),
    (
        "an allowed installer given shell words",
        '[[steps]]\naction = "npm_install"\npackage = "x; curl y | sh"\n',
        ("step 1: npm_install package 'x; curl y | sh' is not a plain package name",),
    ),
    ("pipx_install is allowed", PIPX, ()),
    (
        "homebrew + install_binaries are allowed",
        '[[steps]]\naction = "homebrew"\nformula = "t"\n\n'
        '[[steps]]\naction = "install_binaries"\noutputs = ["bin/t"]\n',
        (),
    ),
    (
        "download primitives are allowed",
        '[[steps]]\naction = "download"\nurl = "https://x.invalid/t.zip"\n\n'
        '[[steps]]\naction = "extract"\narchive = "t.zip"\n\n'
        '[[steps]]\naction = "install_binaries"\nbinaries = ["t"]\n',
        (),
    ),
    (
        "every ecosystem installer is allowed",
        "".join(
            f'[[steps]]\naction = "{a}"\n\n'
            for a in (
                "npm_install",
                "cargo_install",
                "gem_install",
                "go_install",
                "cpan_install",
                "app_bundle",
            )
        ),
        (),
    ),
]


@pytest.mark.parametrize(("steps", "findings"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_safety_verdict(steps: str, findings: tuple[str, ...]) -> None:
    # top-level `steps = [...]` must come before the first table header
    text = steps + HEAD + VERIFY if steps.startswith("steps =") else HEAD + steps + VERIFY
    document = parse_recipe_toml(text)
    verdict = analyze(document)
    assert verdict.findings == findings
    assert verdict.auto_merge is (findings == ())


def test_requires_sudo_needs_review() -> None:
    text = HEAD.replace('name = "t"', 'name = "t"\nrequires_sudo = true') + PIPX + VERIFY
    verdict = check_recipe(text).safety
    assert verdict.auto_merge is False
    assert verdict.findings == ("metadata: requires_sudo = true",)


def test_a_document_without_steps_never_auto_merges() -> None:
    # inline steps written after [metadata] belong to the metadata table: no steps at all
    late = parse_recipe_toml(HEAD + 'steps = [{action = "pipx_install"}]\n' + VERIFY)
    assert analyze(late).findings == (
        "recipe has no [[steps]] list",
        "metadata.steps[0]: action 'pipx_install' outside the top-level [[steps]]",
    )
    assert analyze({"metadata": {"name": "t"}}).auto_merge is False
    assert analyze({"steps": ["not a table", {"action": 3}]}).findings == (
        "step 1: not a table",
        "step 2: no action name",
    )


def _fixture_recipe(relative: str) -> Path:
    path = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "tsuku" / "recipes" / relative
    if not path.is_file():
        pytest.skip(f"shared fixtures absent ({path}); they live beside the repository")
    return path


@pytest.mark.parametrize(
    ("relative", "auto_merge"),
    [("a/awscli.toml", False), ("p/pipx.toml", False), ("b/black.toml", False), ("a/aider.toml", True)],
)
def test_real_tsuku_recipes(relative: str, auto_merge: bool) -> None:
    check = check_recipe(_fixture_recipe(relative).read_text(encoding="utf-8"), relative)
    assert check.ok, check.problems
    assert check.safety.auto_merge is auto_merge, check.safety.findings
