"""Backend tsuku: a fake tsuku executable (written here) stands in for `tsuku install --sandbox`."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pytest
from validator_helpers import recipe_toml

from recipeline_schema import (
    BatchDir,
    GeneratedPackage,
    GenerationReport,
    ValidationReport,
    load,
    parse_environment,
    save,
)
from recipeline_validator import Isolation, Limits, NativeOptions, RunSettings, validate_batch
from recipeline_validator.__main__ import main
from recipeline_validator.tsuku import TsukuOptions, judge_tsuku, last_json_object, tsuku_command

BATCH_ID = "2026-01-29-002"
NOW = dt.datetime(2026, 1, 29, 10, 0, tzinfo=dt.UTC)
SECRET = "sekrit-token-value-5678"

FAKE_TSUKU = """\
#!{python}
# A stand-in for tsuku: records how it was called, then behaves as the recipe's name says.
import json, os, pathlib, sys, time
args = sys.argv[1:]
recipe = pathlib.Path(args[args.index("--recipe") + 1])
calls = pathlib.Path(__file__).parent / "calls"
calls.mkdir(exist_ok=True)
(calls / (recipe.stem + ".json")).write_text(json.dumps({{"argv": args, "env": dict(os.environ),
    "recipe": recipe.read_text()}}))
name = recipe.stem
print("Running sandbox test for " + name + "...")
if name == "good":
    print("Sandbox test PASSED")
    sys.exit(0)
if name == "needsdeps":
    print(json.dumps({{"status": "error", "category": "missing_dep", "message": "failed to install deps",
        "missing_recipes": ["libpng", "libjpeg", "../evil"], "exit_code": 8}}))
    sys.exit(8)
if name == "badverify":
    print(json.dumps({{"status": "error", "category": "verify_failed",
        "message": "verification failed: expected 1.0 in output", "missing_recipes": [], "exit_code": 7}}))
    sys.exit(7)
if name == "nojson":
    print("Error: installation failed: exit status 2", file=sys.stderr)
    sys.exit(6)
if name == "hangs":
    time.sleep(60)
sys.exit(1)
"""


@pytest.fixture()
def fake_tsuku(tmp_path: Path) -> Path:
    """An executable fake tsuku in its own directory (its calls land in ``calls/``)."""
    path = tmp_path / "bin" / "tsuku"
    path.parent.mkdir()
    path.write_text(FAKE_TSUKU.format(python=sys.executable), encoding="utf-8")
    path.chmod(0o755)
    return path


def recipe(name: str) -> str:
    return recipe_toml(name, name, [name], f"{name} --version", pattern="{version}").replace(
        'action = "pipx_install"\npackage', 'action = "cargo_install"\ncrate'
    )


def write_batch(root: Path, names: list[str]) -> BatchDir:
    batch = BatchDir(root / "build" / "batches" / BATCH_ID)
    batch.recipes.mkdir(parents=True)
    packages = []
    for name in names:
        batch.recipe(name).write_text(recipe(name), encoding="utf-8")
        packages.append(
            GeneratedPackage(
                name, f"cargo:{name}", f"cargo:{name}", "generated", recipe=f"recipes/{name}.toml"
            )
        )
    save(GenerationReport(1, BATCH_ID, NOW, 1.0, tuple(packages)), batch.generation)
    return batch


def test_the_tsuku_backend_maps_tsukus_json(
    tmp_path: Path, fake_tsuku: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = write_batch(tmp_path, ["good", "needsdeps", "badverify", "nojson", "hangs"])
    settings = RunSettings(
        native=NativeOptions(isolation=Isolation((), "none: test"), npm_tools=None),
        workers=5,
        now=lambda: NOW,
        tsuku=TsukuOptions(
            str(fake_tsuku),
            limits=Limits(timeout=1, install_timeout=1),
            caller_env={"PATH": "/usr/bin:/bin", "GITHUB_TOKEN": SECRET},
        ),
    )
    report = validate_batch(batch.path, "linux-rhel-glibc-arm64", settings)
    assert report.backend == "tsuku"
    assert "tsuku --sandbox" in report.isolation
    assert load(ValidationReport, batch.results("linux-rhel-glibc-arm64")) == report
    results = {r.name: r for r in report.results}
    assert results["good"].outcome == "pass"
    deps = results["needsdeps"].failure
    assert deps is not None
    assert (deps.category, deps.subcategory, deps.blocked_by) == ("missing_dep", None, ("libjpeg", "libpng"))
    assert deps.exit_code == 8
    verify = results["badverify"].failure
    assert verify is not None and (verify.category, verify.subcategory) == (
        "validation_failed",
        "verify_pattern_mismatch",
    )
    assert "expected 1.0" in verify.message
    nojson = results["nojson"].failure
    assert nojson is not None and nojson.subcategory == "install_failed"
    assert "exit status 2" in nojson.message  # the cause, not the "Running sandbox test" banner
    hangs = results["hangs"].failure
    assert hangs is not None and (hangs.category, hangs.subcategory) == ("api_error", "timeout")
    assert results["hangs"].duration_seconds < 30
    call = json.loads((fake_tsuku.parent / "calls" / "good.json").read_text())
    assert call["argv"][:4] == ["install", "--sandbox", "--json", "--recipe"]
    assert call["argv"][-2:] == ["--target-family", "rhel"]
    assert call["recipe"] == recipe("good")
    assert SECRET not in json.dumps(call["env"])
    assert call["env"]["TSUKU_HOME"].endswith("tsuku-home")


def test_the_cli_runs_tsuku_for_a_batch_id(
    tmp_path: Path, fake_tsuku: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_batch(tmp_path, ["good"])
    environment = "linux-debian-glibc-x86_64"
    try:
        from recipeline_validator import detect_host_environment

        environment = detect_host_environment()
    except Exception as exc:  # an unknown host: an explicit id is trusted
        print(f"host not detected: {exc}")
    code = main(
        [
            "validate",
            "--batch-id",
            BATCH_ID,
            "--repo",
            str(tmp_path),
            "--tsuku",
            str(fake_tsuku),
            "--environment",
            environment,
        ]
    )
    assert code == 0, capsys.readouterr().err
    report = load(ValidationReport, BatchDir(tmp_path / "build" / "batches" / BATCH_ID).results(environment))
    assert report.backend == "tsuku"
    assert [r.outcome for r in report.results] == ["pass"]
    assert "backend tsuku" in capsys.readouterr().out


def test_tsuku_may_validate_another_linux_family_of_the_host_arch(
    tmp_path: Path, fake_tsuku: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from recipeline_validator import EnvironmentDetectionError, detect_host_environment

    try:
        host = parse_environment(detect_host_environment())
    except EnvironmentDetectionError as exc:
        pytest.skip(f"unknown host: {exc}")
    if host.os != "linux":
        pytest.skip("tsuku's --target-family containers are Linux only")
    other = "linux-alpine-musl-" + host.arch if host.family != "alpine" else "linux-debian-glibc-" + host.arch
    write_batch(tmp_path, ["good"])
    argv = ["validate", "--batch-id", BATCH_ID, "--repo", str(tmp_path), "--environment", other]
    assert main([*argv, "--tsuku", str(fake_tsuku)]) == 0, capsys.readouterr().err
    call = json.loads((fake_tsuku.parent / "calls" / "good.json").read_text())
    assert call["argv"][-1] == parse_environment(other).family
    assert main([*argv, "--isolation", "none"]) == 1  # an error: the native backend only validates the host
    assert "does not match this host" in capsys.readouterr().err


def test_a_missing_tsuku_binary_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["validate", "--batch-dir", str(tmp_path), "--tsuku", str(tmp_path / "nope"), "--isolation", "none"]
    )
    assert code == 1  # recipeline_schema.exitcodes.EXIT_ERROR, as the generator's missing binary
    assert "expected an executable tsuku binary" in capsys.readouterr().err


def test_judging_tsuku_output_without_json_uses_the_exit_code() -> None:
    assert judge_tsuku(0, "", "t").passed
    network = judge_tsuku(5, "Error: dial tcp: lookup x: no such host\n", "t")
    assert (network.category, network.subcategory) == ("api_error", "upstream_unavailable")
    notfound = judge_tsuku(
        3,
        '{"status": "error", "category": "recipe_not_found", "message": "m", '
        '"missing_recipes": [], "exit_code": 3}',
        "t",
    )
    assert (notfound.category, notfound.subcategory) == ("api_error", "not_found")
    odd = judge_tsuku(6, '{"category": "something_new", "exit_code": 6}', "t")
    assert (odd.category, odd.subcategory) == ("validation_failed", "install_failed")
    timed = judge_tsuku(7, '{"category": "verify_failed", "subcategory": "verify_timeout"}', "t")
    assert (timed.category, timed.subcategory) == ("validation_failed", "verify_timeout")
    bogus = judge_tsuku(7, '{"category": "verify_failed", "subcategory": "no_bottle"}', "t")
    assert bogus.subcategory == "verify_pattern_mismatch"
    pretty = last_json_object('progress\n{\n  "category": "verify_failed",\n  "exit_code": 7\n}\n')
    assert pretty["category"] == "verify_failed"
    assert last_json_object("no json {here") == {}


def test_the_command_line_of_tsuku() -> None:
    linux = tsuku_command("/t", Path("/r.toml"), parse_environment("linux-alpine-musl-arm64"))
    assert linux == [
        "/t",
        "install",
        "--sandbox",
        "--json",
        "--recipe",
        "/r.toml",
        "--target-family",
        "alpine",
    ]
    assert "--target-family" not in tsuku_command("/t", Path("/r.toml"), parse_environment("darwin-arm64"))
