"""The tsuku CLI backend against a fake ``tsuku`` executable (a real subprocess per package)."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from recipeline_generator.__main__ import main
from recipeline_generator.errors import ConfigurationError
from recipeline_generator.tsuku_backend import TsukuBackend, blocked_by, error_line, tsuku_path
from recipeline_schema import (
    BatchDir,
    BatchPlan,
    Failure,
    GenerationReport,
    PlannedPackage,
    Recipe,
    load,
    recipe_to_toml,
    save,
)

FAKE_TSUKU = """#!{python}
import json, os, signal, sys, time
from pathlib import Path

here = Path(__file__).parent
args = sys.argv[1:]
with open(here / "calls.jsonl", "a") as log:
    log.write(json.dumps({{"argv": args, "tsuku_home": os.environ.get("TSUKU_HOME", "")}}) + "\\n")
source = args[args.index("--from") + 1]
output = Path(args[args.index("--output") + 1])
plan = json.loads((here / "plan.json").read_text()).get(source, {{}})
print("Creating recipe for %s from %s..." % (args[1], source))
print("Inspecting bottle contents... ", end="")
sys.stdout.flush()
if plan.get("sleep"):
    time.sleep(plan["sleep"])
if plan.get("signal"):
    os.kill(os.getpid(), signal.SIGKILL)
if "recipe" in plan:
    output.write_text(plan["recipe"])
sys.stdout.write(plan.get("stdout", ""))
sys.stderr.write(plan.get("stderr", ""))
sys.exit(plan.get("exit", 0))
"""

RECIPE = """[metadata]
name = "jq"
description = "Lightweight and flexible command-line JSON processor"
homepage = "https://jqlang.github.io/jq/"

[[steps]]
action = "homebrew"
formula = "jq"

[[steps]]
action = "install_binaries"
binaries = ["bin/jq"]

[verify]
command = "jq --version"
pattern = "jq-{version}"
"""


class FakeTsuku:
    """A ``tsuku`` script in tmp_path whose behaviour per ``--from`` source comes from plan.json."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / "tsuku"
        self.path.write_text(FAKE_TSUKU.format(python=sys.executable))
        self.path.chmod(self.path.stat().st_mode | stat.S_IXUSR)
        self.plans: dict[str, Any] = {}
        self.plan({})

    def plan(self, plans: dict[str, Any]) -> None:
        self.plans.update(plans)
        (self.root / "plan.json").write_text(json.dumps(self.plans))

    def calls(self) -> list[dict[str, Any]]:
        log = self.root / "calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def tsuku(tmp_path: Path) -> FakeTsuku:
    """A fake tsuku executable; give it behaviours with ``plan({source: {...}})``."""
    return FakeTsuku(tmp_path)


def run(tsuku: FakeTsuku, source: str, name: str, **kw: Any) -> Recipe | Failure:
    eco, _, ident = source.partition(":")
    return TsukuBackend(eco, tsuku.path, **kw).generate(ident, name=name)


def test_exit_zero_reads_the_recipe_from_the_output_path(tsuku: FakeTsuku) -> None:
    tsuku.plan({"homebrew:jq": {"recipe": RECIPE}})
    result = run(tsuku, "homebrew:jq", "jq")
    assert isinstance(result, Recipe)
    assert recipe_to_toml(result) == RECIPE
    (call,) = tsuku.calls()
    argv = call["argv"]
    assert argv[:4] == ["create", "jq", "--from", "homebrew:jq"]
    assert argv[-3:] == ["--yes", "--skip-sandbox", "--deterministic-only"]
    out = Path(argv[argv.index("--output") + 1])
    assert out.name == "jq.toml" and not out.exists()  # written in a temporary directory, then removed
    assert call["tsuku_home"] == os.environ.get("TSUKU_HOME", "")  # tsuku's own home and registry cache


def test_recipe_name_follows_the_queue_entry(tsuku: FakeTsuku) -> None:
    tsuku.plan({"homebrew:jq": {"recipe": RECIPE}})
    result = run(tsuku, "homebrew:jq", "jq-tool")
    assert isinstance(result, Recipe) and result.name == "jq-tool"


@pytest.mark.parametrize(
    ("code", "stderr", "category", "subcategory", "transient"),
    [
        (3, "Error: package 'nope' not found in homebrew\n", "api_error", "not_found", False),
        (4, "Error: version 9.9 not found\n", "api_error", "not_found", False),
        (5, "Error checking package: dial tcp: i/o timeout\n", "api_error", "upstream_unavailable", True),
        (6, "Error: installation failed: exit status 1\n", "validation_failed", "install_failed", False),
        (
            7,
            "Error: verification failed: pattern not found\n",
            "validation_failed",
            "verify_pattern_mismatch",
            False,
        ),
        (124, "Error: verify timed out\n", "validation_failed", "verify_timeout", False),
        (2, "Error: unknown source 'weird:x'\n", "deterministic_insufficient", "unsupported_source", False),
        (1, "Error building recipe: something broke\n", "deterministic_insufficient", None, False),
        (
            9,
            "deterministic generation failed: [no_bottles] formula x has no bottles available\n",
            "deterministic_insufficient",
            "no_bottle",
            False,
        ),
        (
            9,
            "deterministic generation failed: [complex_archive] formula x has a complex archive\n",
            "deterministic_insufficient",
            "archive_extraction_failed",
            False,
        ),
        (
            9,
            "deterministic generation failed: [no_binaries] formula x has no binaries\n",
            "deterministic_insufficient",
            "binary_discovery_failed",
            False,
        ),
        (
            9,
            "deterministic generation failed: [library_only] formula x is a library\n",
            "deterministic_insufficient",
            "library_only",
            False,
        ),
        (
            9,
            "Error: 'x' resolved to github (o/x), which requires LLM for recipe generation.\n"
            "Remove --deterministic-only or wait for a recipe to be contributed.\n",
            "deterministic_insufficient",
            "requires_llm",
            False,
        ),
        (
            9,
            "deterministic generation failed: [surprise] new tag\n",
            "deterministic_insufficient",
            None,
            False,
        ),
    ],
)
def test_exit_codes_map_to_the_taxonomy_with_the_error_line(
    tsuku: FakeTsuku, code: int, stderr: str, category: str, subcategory: str | None, transient: bool
) -> None:
    tsuku.plan({"homebrew:x": {"exit": code, "stderr": "Warning: using cached index\n" + stderr}})
    result = run(tsuku, "homebrew:x", "x")
    assert isinstance(result, Failure)
    assert (result.category, result.subcategory, result.transient) == (category, subcategory, transient)
    assert result.exit_code == code
    assert result.message == stderr.splitlines()[0].strip()
    assert "Creating recipe" not in result.message and "Warning" not in result.message


def test_missing_dependencies_become_blocked_by(tsuku: FakeTsuku) -> None:
    stderr = (
        "deterministic generation failed: [missing_dep] missing dependencies: recipe libpng not found in "
        "registry; recipe openssl@3 not found in registry\n"
    )
    tsuku.plan({"homebrew:imagemagick": {"exit": 8, "stderr": stderr}})
    result = run(tsuku, "homebrew:imagemagick", "imagemagick")
    assert isinstance(result, Failure)
    assert (result.category, result.subcategory, result.exit_code) == ("missing_dep", None, 8)
    assert result.blocked_by == ("libpng", "openssl")
    assert result.message.startswith("deterministic generation failed: [missing_dep]")


def test_output_without_an_error_word_uses_the_last_stderr_line(tsuku: FakeTsuku) -> None:
    tsuku.plan({"cargo:x": {"exit": 1, "stderr": "first\nthe real cause\n"}})
    result = run(tsuku, "cargo:x", "x")
    assert isinstance(result, Failure) and result.message == "the real cause"
    tsuku.plan({"cargo:y": {"exit": 1}})
    result = run(tsuku, "cargo:y", "y")
    # nothing but tsuku's progress lines: the record says so instead of showing one as the cause
    assert isinstance(result, Failure) and result.message == "tsuku create cargo:y exited 1 without a message"


def test_exit_zero_without_a_usable_recipe(tsuku: FakeTsuku) -> None:
    tsuku.plan({"npm:none": {}, "npm:bad": {"recipe": "[metadata\nname = 1"}})
    none = run(tsuku, "npm:none", "none")
    assert isinstance(none, Failure) and (none.category, none.subcategory) == (
        "deterministic_insufficient",
        None,
    )
    assert "wrote no recipe file" in none.message
    bad = run(tsuku, "npm:bad", "bad")
    assert isinstance(bad, Failure) and (bad.category, bad.subcategory) == (
        "validation_failed",
        "schema_invalid",
    )
    tsuku.plan(
        {"npm:noname": {"recipe": '[metadata]\ndescription = "x"\n[[steps]]\naction = "npm_install"\n'}}
    )
    noname = run(tsuku, "npm:noname", "noname")
    assert isinstance(noname, Failure) and noname.subcategory == "schema_invalid"
    assert "metadata" in noname.message


def test_timeout_and_signal(tsuku: FakeTsuku) -> None:
    tsuku.plan({"go:slow": {"sleep": 5}, "go:killed": {"signal": True}})
    slow = run(tsuku, "go:slow", "slow", timeout=0.5)
    assert isinstance(slow, Failure) and (slow.category, slow.subcategory) == ("api_error", "timeout")
    killed = run(tsuku, "go:killed", "killed")
    assert isinstance(killed, Failure) and "killed by signal 9" in killed.message


def test_hostile_identifiers_are_arguments_never_shell_text(tsuku: FakeTsuku, tmp_path: Path) -> None:
    ident = "x;touch${IFS}pwned"
    tsuku.plan({f"npm:{ident}": {"exit": 3, "stderr": "Error: not found\n"}})
    result = run(tsuku, f"npm:{ident}", "x")
    assert isinstance(result, Failure) and result.subcategory == "not_found"
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()
    assert tsuku.calls()[-1]["argv"][3] == f"npm:{ident}"
    assert not TsukuBackend("npm", tsuku.path).can_build("--output=/etc/passwd")
    calls = len(tsuku.calls())
    for name in ("../../evil", "a/b", "x\ny"):
        refused = run(tsuku, "npm:ok", name)
        assert isinstance(refused, Failure) and refused.subcategory == "unsupported_source"
    assert len(tsuku.calls()) == calls  # tsuku was never started for them


def test_unusable_binary_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be run"):
        TsukuBackend("homebrew", tmp_path / "no-such-tsuku").generate("jq", name="jq")


def test_configuration_and_parsers() -> None:
    assert tsuku_path("/opt/tsuku", {"RECIPELINE_TSUKU": "/other"}) == "/opt/tsuku"
    assert tsuku_path(None, {"RECIPELINE_TSUKU": " /other "}) == "/other"
    assert tsuku_path(None, {}) is None
    assert blocked_by("recipe a not found in registry; recipe b@2 not found in registry") == ("a", "b")
    assert error_line("", "") == ""
    assert os.sep not in error_line("Error: x\n", "")


def test_generate_command_with_tsuku_end_to_end(
    tsuku: FakeTsuku, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    batch_dir = tmp_path / "build" / "batches" / "2026-01-29-001"
    plan = BatchPlan(
        schema_version=1,
        batch_id="2026-01-29-001",
        ecosystem="homebrew",
        created_at=dt.datetime(2026, 1, 29, 10, 0, tzinfo=dt.UTC),
        tier=2,
        packages=(
            PlannedPackage("jq", "homebrew:jq"),
            PlannedPackage("imagemagick", "homebrew:imagemagick"),
            PlannedPackage("gh", "github:cli/cli"),
        ),
    )
    save(plan, BatchDir(batch_dir).plan)
    tsuku.plan(
        {
            "homebrew:jq": {"recipe": RECIPE},
            "homebrew:imagemagick": {
                "exit": 8,
                "stdout": "Creating recipe for imagemagick...\n",
                "stderr": "Error: missing dependencies: recipe libpng not found in registry\n",
            },
        }
    )
    monkeypatch.setenv("RECIPELINE_TSUKU", str(tsuku.path))

    code = main(["generate", "--batch-dir", str(batch_dir), "--repo", str(repo)])

    out = capsys.readouterr()
    assert code == 0, out.err
    assert "1 generated, 1 failed, 1 skipped" in out.out
    report = load(GenerationReport, BatchDir(batch_dir).generation)
    jq, magick, gh = report.packages
    assert jq.outcome == "generated" and (batch_dir / "recipes" / "jq.toml").read_text() == RECIPE
    assert magick.failure is not None
    assert (magick.failure.category, magick.failure.exit_code, magick.failure.blocked_by) == (
        "missing_dep",
        8,
        ("libpng",),
    )
    assert magick.failure.message == "Error: missing dependencies: recipe libpng not found in registry"
    assert gh.outcome == "skipped" and gh.reason.startswith("github:")
    assert [c["argv"][3] for c in tsuku.calls()] == ["homebrew:jq", "homebrew:imagemagick"]


def test_tsuku_option_wins_over_the_environment(
    tsuku: FakeTsuku, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tsuku.plan({"cpan:ack": {"exit": 9, "stderr": "deterministic generation failed: [no_binaries] none\n"}})
    monkeypatch.setenv("RECIPELINE_TSUKU", "/nonexistent/tsuku")
    assert main(["--from", "cpan:ack", "--tsuku", str(tsuku.path)]) == 1
    assert "deterministic_insufficient/binary_discovery_failed" in capsys.readouterr().err
    assert main(["--from", "cpan:ack"]) == 1  # an error: the environment's binary does not exist
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot be run" in err


def test_the_failure_keeps_tsukus_whole_cause(tsuku: FakeTsuku) -> None:
    """The line for tables, and every line of the cause (banner and ticks dropped) for the reader."""
    stderr = (
        "tsuku collects anonymous usage statistics.\n✅ patchelf@0.18.0\nError: recipe validation failed\n"
        "  metadata.homepage: must be https, got http://x.example\n  version.source: unknown source\n"
    )
    tsuku.plan({"cargo:x": {"exit": 6, "stderr": stderr}})
    result = run(tsuku, "cargo:x", "x")
    assert isinstance(result, Failure)
    assert (
        result.message
        == "Error: recipe validation failed: metadata.homepage: must be https, got http://x.example"
    )
    assert result.detail.splitlines() == [
        "Error: recipe validation failed",
        "metadata.homepage: must be https, got http://x.example",
        "version.source: unknown source",
    ]
