"""``python -m recipeline_generator --from ...``: in-process and as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from recipeline_generator.__main__ import main
from recipeline_schema import recipe_from_toml
from recipeline_schema.exitcodes import EXIT_ERROR, EXIT_USAGE

FAST = ["--rate-limit", "pypi=1000/1"]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}
    return subprocess.run(
        [sys.executable, "-m", "recipeline_generator", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_from_prints_one_recipe_on_stdout(index: Any) -> None:
    entry, _ = index.publish("demo", "1.0", entry_points="[console_scripts]\ndemo = d:m\n")
    index.add_project("demo", [entry])

    proc = run_cli("--from", "pypi:demo", "--output", "-", "--index-url", index.url, *FAST)

    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    recipe = recipe_from_toml(proc.stdout)
    assert (recipe.name, recipe.steps[0].action, recipe.steps[0].params["executables"]) == (
        "demo",
        "pipx_install",
        ["demo"],
    )


def test_from_failure_is_one_line_on_stderr_and_exit_1(index: Any) -> None:
    proc = run_cli("--from", "pypi:missing", "--index-url", index.url, *FAST)

    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(
        "recipeline-generator: pypi:missing: api_error/not_found: index page of missing"
    )


def test_from_with_name_and_output_file(index: Any, tmp_path: Path) -> None:
    entry, _ = index.publish("aider-chat", "1.0", entry_points="[console_scripts]\naider = a:m\n")
    index.add_project("aider-chat", [entry])
    out = tmp_path / "aider.toml"

    code = main(
        [
            "--from",
            "pypi:aider-chat",
            "--name",
            "aider",
            "--output",
            str(out),
            "--index-url",
            index.url,
            *FAST,
        ]
    )

    assert code == 0
    assert recipe_from_toml(out.read_text()).name == "aider"


def test_unbuildable_source_is_reported_as_skipped(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--from", "github:cli/cli", "--index-url", "http://127.0.0.1:9/"]) == 1
    assert "skipped: github: sources need an LLM-assisted builder" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "give --from SOURCE or a command"),
        (["--from", "no-colon"], "expected '<ecosystem>:<identifier>'"),
        (["--from", "pypi:x", "--index-url", "ftp://mirror.example/simple"], "expected an http(s) URL"),
        (["--from", "pypi:x", "--name", "../x"], "name '../x'"),
    ],
)
def test_usage_errors_exit_64_with_one_clear_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_bad_rate_limit_is_refused_by_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--from", "pypi:x", "--rate-limit", "pypi=fast"])
    assert exc.value.code == EXIT_USAGE
    assert "rate limit 'fast'" in capsys.readouterr().err


def test_bad_rate_limit_in_the_environment_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RECIPELINE_RATE_LIMIT_PYPI", "lots")
    assert main(["--from", "pypi:x", "--index-url", "http://127.0.0.1:9/"]) == EXIT_ERROR
    assert "RECIPELINE_RATE_LIMIT_PYPI" in capsys.readouterr().err


def test_help_lists_the_generate_command() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0
    assert "generate every package of a batch plan" in proc.stdout
