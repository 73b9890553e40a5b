"""Verify discovery with real tools: tiny wheels installed by the real pip into real venvs, probed
in the sandbox with ``--version``, ``-V``, ``version``, ``-v`` in that order.

Every recipe is written as the generator writes it (``<exe> --version``, ``{version}``); the
result says which verify the tool really answers, and that verify is what the recipe is judged by.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import tarfile
from pathlib import Path

import pytest
from validator_helpers import PIP_ISOLATED_ENV, build_wheel, recipe_toml

from recipeline_schema import RecipeResult, parse_environment
from recipeline_schema.models import DiscoveredVerify
from recipeline_validator import (
    Isolation,
    Limits,
    NativeOptions,
    PipSource,
    RecipeInput,
    RunSettings,
    validate_all,
)
from recipeline_validator.probes import HELP_PROBES, PROBES, ProbeRun, choose, probe_executable, summary

ENV = parse_environment("linux-debian-glibc-x86_64")
NOW = dt.datetime(2026, 1, 29, 10, 0, tzinfo=dt.UTC)

SOURCE = """
    import sys

    ARG = sys.argv[1] if len(sys.argv) > 1 else ""

    def upper_v_only():
        if ARG == "-V":
            print("vflag 2.5.0")
        else:
            print(f"vflag: unknown option {ARG!r}", file=sys.stderr)
            sys.exit(2)

    def exits_one():
        print("vexit 0.9.1 (this tool always exits 1)")
        sys.exit(1)

    def banner():
        print("=== Banner Tool: the friendly banner printer, (c) 2026 ===")
        print("version 3.1.4")

    def no_version():
        print("hello from a tool that never says its version")

    def help_only():
        if ARG == "--help":
            print("usage: vhelp [-h] FILE...")
        else:
            print("vhelp: error: the following arguments are required: FILE", file=sys.stderr)
            sys.exit(2)

    def needs_tmux():
        print("tmux not found. vneeds requires you install tmux first.")

    def waits():
        # wait-on: --version and -V show the usage; any other word is a resource it waits for
        if ARG in ("--version", "-V", "--help"):
            print("Usage: vwait {OPTIONS} resource [...resource]")
        else:
            import time
            time.sleep(600)

    def help_subcommand_only():
        # ajv: every option is a mistake (exit 2), only the `help` subcommand answers
        if ARG == "help":
            print("Validate data file(s) against schema")
            print("    vhelpsub [validate] -s schema[.json] -d data[.json]")
        else:
            print(f"error: parameter {ARG} is unknown", file=sys.stderr)
            sys.exit(2)

    def subcommand():
        if ARG == "version":
            print("vsub version 1.7.0", file=sys.stderr)
        else:
            print("usage: vsub version | vsub run", file=sys.stderr)
            sys.exit(64)
"""
#: distribution -> (version, executable, function)
TOOLS = {
    "vflagpkg": ("2.5.0", "vflag", "upper_v_only"),
    "vexitpkg": ("0.9.1", "vexit", "exits_one"),
    "vbannerpkg": ("3.1.4", "vbanner", "banner"),
    "vnonepkg": ("1.0.0", "vnone", "no_version"),
    "vsubpkg": ("1.7.0", "vsub", "subcommand"),
    "vhelppkg": ("0.3.0", "vhelp", "help_only"),
    "vneedspkg": ("1.76.0", "vneeds", "needs_tmux"),
    "vwaitpkg": ("9.5.1", "vwait", "waits"),
    "vhelpsubpkg": ("5.0.0", "vhelpsub", "help_subcommand_only"),
}


#: An in-tree PEP 517 backend (no build requirement to download): builds the sdist's wheel.
BACKEND = """
import base64, hashlib, os, zipfile

NAME, VERSION = "vsdistpkg", "4.2.0"

def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    info = f"{NAME}-{VERSION}.dist-info"
    files = {
        "vsdistpkg.py": open("vsdistpkg.py").read(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\\nName: {NAME}\\nVersion: {VERSION}\\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
        f"{info}/entry_points.txt": "[console_scripts]\\nvsdist = vsdistpkg:main\\n",
    }
    name = f"{NAME}-{VERSION}-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
            digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
            record.append(f"{path},sha256={digest},{len(text.encode())}")
        zf.writestr(f"{info}/RECORD", "\\n".join([*record, f"{info}/RECORD,,"]) + "\\n")
    return name
"""


def build_sdist(dest: Path) -> None:
    """``vsdistpkg-4.2.0.tar.gz``: a project that publishes only an sdist (pip must build it)."""
    files = {
        "PKG-INFO": "Metadata-Version: 2.1\nName: vsdistpkg\nVersion: 4.2.0\n",
        "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n',
        "backend.py": BACKEND,
        "vsdistpkg.py": "def main():\n    print('vsdist 4.2.0')\n",
    }
    with tarfile.open(dest / "vsdistpkg-4.2.0.tar.gz", "w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"vsdistpkg-4.2.0/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory, isolation: Isolation) -> dict[str, RecipeResult]:
    """Every tool's recipe validated once, in parallel, by the native backend."""
    wheels = tmp_path_factory.mktemp("discovery-wheels")
    for dist, (version, exe, func) in TOOLS.items():
        build_wheel(wheels, dist, version, module_source=SOURCE, scripts={exe: func})
    build_sdist(wheels)
    options = NativeOptions(
        isolation=isolation,
        limits=Limits(timeout=10, install_timeout=120),
        source=PipSource(find_links=(str(wheels),)),
        caller_env={**PIP_ISOLATED_ENV, "HOME": str(tmp_path_factory.mktemp("home"))},
    )
    settings = RunSettings(
        native=options,
        workers=os.cpu_count() or 2,
        work_root=tmp_path_factory.mktemp("prefixes"),
        keep_prefixes=True,
        now=lambda: NOW,
    )
    items = [
        RecipeInput(
            exe,
            f"pypi:{dist}",
            recipe_toml(exe, dist, [exe], f"{exe} --version", pattern="{version}"),
            f"{exe}.toml",
        )
        for dist, (_, exe, _) in TOOLS.items()
    ]
    items.append(
        RecipeInput(
            "vsdist",
            "pypi:vsdistpkg",
            recipe_toml("vsdist", "vsdistpkg", ["vsdist"], "vsdist --version", pattern="{version}"),
            "vsdist.toml",
        )
    )
    return {r.name: r for r in validate_all(items, ENV, settings)}


@pytest.mark.parametrize(
    ("tool", "command", "exit_code"),
    [
        (
            "vflag",
            "vflag -V",
            0,
        ),  # --version is an unknown option (exit 2): -V is the first that prints 2.5.0
        ("vexit", "vexit --version", 1),  # prints its version and exits 1: exit_code = 1
        ("vbanner", "vbanner --version", 0),  # a banner line first: the pattern is a substring
        ("vsub", "vsub version", 0),  # only the `version` subcommand answers (on stderr)
    ],
)
def test_the_first_probe_printing_the_installed_version_is_the_verify(
    results: dict[str, RecipeResult], tool: str, command: str, exit_code: int
) -> None:
    result = results[tool]
    assert result.outcome == "pass", result.failure
    assert result.verify is not None
    assert (result.verify.command, result.verify.pattern, result.verify.exit_code, result.verify.mode) == (
        command,
        "{version}",
        exit_code,
        "version",
    )
    assert f"`{command}`" in result.reason and "found by the version probes" in result.reason


def test_a_tool_printing_no_version_fails_naming_every_probe_and_its_output(
    results: dict[str, RecipeResult],
) -> None:
    result = results["vnone"]
    assert result.outcome == "fail"
    assert result.verify is None
    assert result.failure is not None
    assert (result.failure.category, result.failure.subcategory) == (
        "validation_failed",
        "verify_pattern_mismatch",
    )
    message = result.failure.message
    assert "no version probe printed 1.0.0" in message
    for probe in PROBES:
        assert f"`vnone {probe}` exited 0: 'hello from a tool that never says its version'" in message
    assert len(message) <= 500


def test_a_tool_without_a_version_that_shows_its_usage_gets_tsukus_output_mode(
    results: dict[str, RecipeResult],
) -> None:
    """vhelp has no version flag (every probe exits 2) but answers --help: mode output with the
    tool's name as pattern and the reason, judged as committed."""
    result = results["vhelp"]
    assert result.outcome == "pass", result.failure
    assert result.verify == DiscoveredVerify(
        command="vhelp --help",
        pattern="vhelp",
        exit_code=0,
        mode="output",
        reason="prints no version of its own (`vhelp --version`, `vhelp -V`, `vhelp version`, `vhelp -v` "
        "printed none); `vhelp --help` shows it runs",
    )


def test_a_tool_whose_help_is_only_a_subcommand_gets_output_mode_from_it(
    results: dict[str, RecipeResult], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """vhelpsub refuses --help and -h (exit 2) like every option; `vhelpsub help` answers."""
    result = results["vhelpsub"]
    assert result.outcome == "pass", result.failure
    assert result.verify is not None
    assert (result.verify.command, result.verify.pattern, result.verify.mode) == (
        "vhelpsub help",
        "vhelpsub",
        "output",
    )
    (prefix,) = Path(tmp_path_factory.getbasetemp()).glob("prefixes[0-9]*/recipeline-vhelpsub-*")
    assert len(list((prefix / "logs").glob("probe-*.log"))) == len(PROBES) + len(HELP_PROBES)


def test_a_tool_that_waits_on_a_version_probe_is_still_asked_its_help(
    results: dict[str, RecipeResult], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """vwait shows its usage on --version and -V, waits on `version` (the clock stops it): no
    other version probe is asked, its --help is, and is the output-mode verify."""
    result = results["vwait"]
    assert result.outcome == "pass", result.failure
    assert result.verify is not None
    assert (result.verify.command, result.verify.pattern, result.verify.mode) == (
        "vwait --help",
        "vwait",
        "output",
    )
    assert "`vwait version`" in result.verify.reason and "`vwait -v`" not in result.verify.reason
    (prefix,) = Path(tmp_path_factory.getbasetemp()).glob("prefixes[0-9]*/recipeline-vwait-*")
    logs = sorted(p.name for p in (prefix / "logs").glob("probe-*.log"))
    assert logs == ["probe-1.log", "probe-2.log", "probe-3.log", "probe-4.log"]


def test_a_tool_that_cannot_work_here_does_not_pass_in_output_mode(results: dict[str, RecipeResult]) -> None:
    """vneeds names itself on --help, but its first line is a cause (tmux not found)."""
    result = results["vneeds"]
    assert result.outcome == "fail" and result.verify is None
    assert result.failure is not None and "tmux not found" in result.failure.message


def test_a_project_with_only_an_sdist_is_built_then_installed_offline(
    results: dict[str, RecipeResult], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No wheel to download: pip builds the sdist (its in-tree backend) in phase 1, the install
    stays offline from the cache, where the wheels of the other tools are not (one per prefix)."""
    result = results["vsdist"]
    assert result.outcome == "pass", result.failure
    assert result.installed_version == "4.2.0"
    (prefix,) = Path(tmp_path_factory.getbasetemp()).glob("prefixes[0-9]*/recipeline-vsdist-*")
    assert "Building wheel for vsdistpkg" in (prefix / "logs" / "download-1.log").read_text()
    assert [p.name for p in (prefix / "cache").iterdir()] == ["vsdistpkg-4.2.0-py3-none-any.whl"]


def test_the_probes_run_in_the_sandbox_in_order_and_stop_at_the_first_match(
    results: dict[str, RecipeResult], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """vflag answered the second probe: exactly two probe logs, --version first."""
    (prefix,) = Path(tmp_path_factory.getbasetemp()).glob("prefixes[0-9]*/recipeline-vflag-*")
    logs = sorted(p.name for p in (prefix / "logs").glob("probe-*.log"))
    assert logs == ["probe-1.log", "probe-2.log"]
    assert "unknown option '--version'" in (prefix / "logs" / "probe-1.log").read_text()
    assert "vflag 2.5.0" in (prefix / "logs" / "verify.log").read_text()


# --- the pure choice ------------------------------------------------------------------------


def test_choose_is_the_first_finished_probe_carrying_the_version() -> None:
    runs = [
        ProbeRun("t --version", 2, "usage"),
        ProbeRun("t -V", None, "1.0.0 but killed by the clock"),
        ProbeRun("t version", -9, "1.0.0", limit="killed by the 512 MiB memory limit"),
        ProbeRun("t -v", 3, "t v1.0.0"),
    ]
    chosen = choose(runs, "1.0.0")
    assert chosen == DiscoveredVerify(
        command="t -v",
        exit_code=3,
        reason="first version probe printing the installed version "
        "(tried `t --version`, `t -V`, `t version`, `t -v`)",
    )
    assert choose(runs, "") is None  # nothing to look for
    assert choose(runs[:3], "1.0.0") is None
    assert choose(runs, "1.0.0") == chosen  # deterministic


def test_summary_caps_each_probe_output() -> None:
    text = summary([ProbeRun("t --version", 0, "x" * 200 + "\nsecond"), ProbeRun("t -V", None, "")])
    assert text == f"`t --version` exited 0: '{'x' * 59}…'; `t -V` timed out"


@pytest.mark.parametrize(
    ("command", "probed"),
    [
        ("t --version", "t"),
        ("t", "t"),
        ("t -V", "t"),
        ("t net 8080", None),  # checks something else: judged as written
        ("t --help", None),
        ("sh -c 't --version'", None),
        ("other --version", None),  # not an executable of the recipe
        ("", None),
    ],
)
def test_only_version_checks_of_the_recipes_executables_are_probed(command: str, probed: str | None) -> None:
    assert probe_executable(command, ("t",)) == probed
