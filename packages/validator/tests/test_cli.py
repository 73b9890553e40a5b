"""The command line, end to end on batch directories in tmp_path."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from validator_helpers import PIP_ISOLATED_ENV, Wheelhouse, npm_recipe, recipe_toml

from recipeline_schema import (
    BatchDir,
    GeneratedPackage,
    GenerationReport,
    RecipeResult,
    SafetyVerdict,
    ValidationReport,
    from_json,
    load,
    save,
)
from recipeline_schema.exitcodes import EXIT_ERROR, EXIT_PARTIAL, EXIT_REVIEW, EXIT_USAGE
from recipeline_validator import (
    EnvironmentDetectionError,
    Isolation,
    NativeOptions,
    RunSettings,
    detect_host_environment,
    validate_batch,
)
from recipeline_validator.__main__ import main

BATCH_ID = "2026-01-29-001"
NOW = dt.datetime(2026, 1, 29, 10, 0, tzinfo=dt.UTC)
QUIET = recipe_toml("quiet", "quietpkg", ["quiet"], "quiet", mode="output")
OK = recipe_toml("ok", "okpkg", ["oktool"], "oktool", pattern="oktool {version}")
CARGO = recipe_toml("ripgrep", "ripgrep", ["rg"], "rg --version", pattern="ripgrep {version}").replace(
    'action = "pipx_install"\npackage', 'action = "cargo_install"\ncrate'
)
NO_STEPS = '[metadata]\nname = "nosteps"\n\n[verify]\ncommand = "x"\n'
#: A toolchain search path holding nothing: the cargo recipe is skipped ("cargo not found on PATH").
NO_TOOLCHAINS = "/nonexistent-recipeline-toolchains"


def host_environment() -> str:
    try:
        return detect_host_environment()
    except EnvironmentDetectionError as exc:
        pytest.skip(f"this host is none of the validation environments: {exc}")


def write_batch(root: Path, recipes: dict[str, str], extra: tuple[GeneratedPackage, ...] = ()) -> BatchDir:
    """A batch directory as the generator leaves it: recipes/<name>.toml + generation.json."""
    batch = BatchDir(root / "build" / "batches" / BATCH_ID)
    batch.recipes.mkdir(parents=True)
    packages = []
    for name, text in recipes.items():
        batch.recipe(name).write_text(text, encoding="utf-8")
        packages.append(
            GeneratedPackage(name, f"pypi:{name}", f"pypi:{name}", "generated", recipe=f"recipes/{name}.toml")
        )
    report = GenerationReport(1, BATCH_ID, NOW, 1.5, (*packages, *extra))
    save(report, batch.generation)
    return batch


def test_validate_a_batch_end_to_end(tmp_path: Path, pep503_index: str, npm_registry: str) -> None:
    environment = host_environment()
    failed = GeneratedPackage("gone", "pypi:gone", "pypi:gone", "failed", reason="no wheel")
    npm = npm_recipe("npmtool", "npmtool", ["npmtool"], "npmtool", "npmtool {version}")
    recipes = {"ok": OK, "ripgrep": CARGO, "nosteps": NO_STEPS, "npmtool": npm}
    batch = write_batch(tmp_path, recipes, (failed,))
    (tmp_path / "home").mkdir()
    env = {**PIP_ISOLATED_ENV, "HOME": str(tmp_path / "home"), "GITHUB_TOKEN": "sekrit"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "recipeline_validator",
            "validate",
            "--batch-dir",
            str(batch.path),
            "--environment",
            "auto",
            "--workers",
            "2",
            "--timeout",
            "30",
            "--index-url",
            pep503_index,
            "--npm-registry",
            npm_registry,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "2 pass, 1 fail, 1 skipped" in done.stdout
    report = load(ValidationReport, batch.results(environment))
    assert (report.batch_id, report.environment, report.backend) == (BATCH_ID, environment, "native")
    assert report.isolation.startswith(("netns", "none: "))
    results = {r.name: r for r in report.results}
    assert list(results) == ["ok", "ripgrep", "nosteps", "npmtool"]  # generation order; not "gone"
    assert results["ok"].outcome == "pass", results["ok"].failure
    assert results["npmtool"].outcome == "pass", results["npmtool"].failure
    assert results["ripgrep"].outcome == "skipped"
    assert "cargo_install" in results["ripgrep"].reason
    assert results["ripgrep"].safety == SafetyVerdict(auto_merge=True)
    failure = results["nosteps"].failure
    assert failure is not None and failure.subcategory == "schema_invalid"
    assert "nosteps.toml" in failure.message and "steps" in failure.message
    assert report.duration_seconds >= results["ok"].duration_seconds > 0


def test_validate_recipe_prints_the_result(
    tmp_path: Path,
    wheelhouse: Wheelhouse,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    host_environment()
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    recipe = tmp_path / "quiet.toml"
    recipe.write_text(QUIET, encoding="utf-8")
    links = str(wheelhouse.path)
    code = main(["validate-recipe", str(recipe), "--find-links", links, "--timeout", "30"])
    result = from_json(RecipeResult, json.loads(capsys.readouterr().out))
    assert code == 0, result.failure
    assert (result.name, result.package_id, result.outcome) == ("quiet", "pypi:quietpkg", "pass")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (OK, 0),
        (NO_STEPS, EXIT_PARTIAL),
        (OK.replace('"pipx_install"', '"run_command"\ncommand = "make"'), EXIT_REVIEW),
        (OK.replace("[metadata]\n", '[metadata]\nname = "dup"\n', 1), EXIT_PARTIAL),
    ],
)
def test_check_exit_codes(tmp_path: Path, text: str, code: int, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = tmp_path / "r.toml"
    recipe.write_text(text, encoding="utf-8")
    assert main(["check", str(recipe)]) == code
    out = capsys.readouterr().out
    assert {0: "ok:", EXIT_PARTIAL: "invalid:", EXIT_REVIEW: "needs review: step 1: run_command"}[code] in out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["check", "/nonexistent/r.toml"], ["/nonexistent/r.toml", "cannot read"]),
        (["validate", "--batch-dir", "/nonexistent/batch", "--isolation", "none"], ["generation.json"]),
        (
            ["validate", "--batch-dir", "/x", "--environment", "linux-gentoo-glibc-x86_64"],
            ["expected 'auto'"],
        ),
    ],
)
def test_input_errors_are_one_line_with_exit_1(
    argv: list[str], words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    if argv[0] == "validate" and "--environment" not in argv:
        host_environment()
    assert main(argv) == EXIT_ERROR
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("recipeline-validator: error: ")
    for word in words:
        assert word in err


def test_an_environment_other_than_the_host_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    host = host_environment()
    other = "darwin-arm64" if host.startswith("linux") else "linux-debian-glibc-x86_64"
    assert main(["validate", "--batch-dir", "/x", "--environment", other]) == EXIT_ERROR
    assert f"does not match this host ({host})" in capsys.readouterr().err


def debian_failed_ok_passed_ripgrep(batch: BatchDir) -> None:
    """Debian's results of the batch {ok, ripgrep}: ok failed, ripgrep passed."""
    safe = SafetyVerdict(auto_merge=True)
    debian = ValidationReport(
        1,
        BATCH_ID,
        "linux-debian-glibc-x86_64",
        "native",
        "netns",
        NOW,
        2.0,
        (
            RecipeResult("ok", "pypi:ok", "fail", 1.0, safe, reason=""),
            RecipeResult("ripgrep", "pypi:ripgrep", "pass", 1.0, safe),
        ),
    )
    save(debian, batch.results("linux-debian-glibc-x86_64"))


def test_macos_only_validates_recipes_that_passed_on_linux(tmp_path: Path) -> None:
    batch = write_batch(tmp_path, {"ok": OK, "ripgrep": CARGO})
    debian_failed_ok_passed_ripgrep(batch)
    settings = RunSettings(
        native=NativeOptions(isolation=Isolation((), "none: test"), tool_path=NO_TOOLCHAINS),
        workers=1,
        now=lambda: NOW,
    )
    report = validate_batch(batch.path, "darwin-arm64", settings)
    results = {r.name: r for r in report.results}
    assert results["ok"].outcome == "skipped"
    assert "did not pass in any Linux environment" in results["ok"].reason
    assert "linux-debian-glibc-x86_64" in results["ok"].reason
    assert results["ripgrep"].outcome == "skipped"  # validated: the native backend has no cargo
    assert "cargo_install" in results["ripgrep"].reason
    assert load(ValidationReport, batch.results("darwin-arm64")) == report


def test_a_recipe_path_leaving_the_batch_directory_is_a_failure(tmp_path: Path) -> None:
    outside = GeneratedPackage("evil", "pypi:evil", "pypi:evil", "generated", recipe="../../../etc/passwd")
    batch = write_batch(tmp_path, {}, (outside,))
    settings = RunSettings(
        native=NativeOptions(isolation=Isolation((), "none: test"), tool_path=NO_TOOLCHAINS),
        workers=1,
        now=lambda: NOW,
    )
    (result,) = validate_batch(batch.path, "linux-debian-glibc-x86_64", settings).results
    assert result.outcome == "fail"
    assert result.failure is not None and "leaves the batch directory" in result.failure.message


def test_a_sandbox_that_cannot_be_created_fails_only_the_recipes_that_need_it(tmp_path: Path) -> None:
    batch = write_batch(tmp_path, {"ok": OK, "ripgrep": CARGO})
    settings = RunSettings(
        native=NativeOptions(isolation=Isolation((), "none: test"), tool_path=NO_TOOLCHAINS),
        workers=2,
        work_root=tmp_path / "missing",
        now=lambda: NOW,
    )
    ok, ripgrep = validate_batch(batch.path, "linux-debian-glibc-x86_64", settings).results
    assert ok.outcome == "fail"
    assert ok.failure is not None and "cannot create a sandbox prefix" in ok.failure.message
    assert ripgrep.outcome == "skipped"


def test_only_passed_on_linux_holds_back_recipes_on_another_linux_environment(tmp_path: Path) -> None:
    batch = write_batch(tmp_path, {"ok": OK, "ripgrep": CARGO})
    debian_failed_ok_passed_ripgrep(batch)
    native = NativeOptions(isolation=Isolation((), "none: test"), npm_tools=None, tool_path=NO_TOOLCHAINS)
    gated = RunSettings(native=native, workers=1, now=lambda: NOW, only_passed_on="linux")
    results = {r.name: r for r in validate_batch(batch.path, "linux-rhel-glibc-x86_64", gated).results}
    assert results["ok"].outcome == "skipped"
    assert results["ok"].reason.startswith("held back from linux-rhel-glibc-x86_64: did not pass")
    assert "cargo_install" in results["ripgrep"].reason  # validated (and skipped: no cargo here)
    # the environment's own earlier results never count as "passed on Linux"
    again = validate_batch(batch.path, "linux-debian-glibc-x86_64", gated).results
    assert all("(Linux results: linux-rhel-glibc-x86_64)" in r.reason for r in again)
    # and "none" validates everything
    ungated = RunSettings(native=native, workers=1, now=lambda: NOW, only_passed_on="none")
    report = validate_batch(batch.path, "darwin-arm64", ungated)
    assert not any("held back" in r.reason for r in report.results)


@pytest.mark.parametrize(
    "argv",
    [["frobnicate"], ["validate"], ["validate", "--batch-dir", "b", "--timeout", "soon"], ["check"]],
)
def test_usage_errors_are_one_line_with_exit_64(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("recipeline-validator") and err.count("\n") == 1 and "usage:" not in err
