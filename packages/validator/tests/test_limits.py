"""Limits that measure use, end to end: a verify stopped by a limit is ``resource_limit`` naming
the limit, never a pattern mismatch; address space a tool only reserves is not counted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from validator_helpers import PIP_ISOLATED_ENV, build_wheel, recipe_toml

from recipeline_schema import RecipeResult, parse_environment
from recipeline_validator import (
    Isolation,
    Limits,
    NativeOptions,
    PipSource,
    RecipeInput,
    RunSettings,
    cgroup,
    validate_all,
)
from recipeline_validator.sandbox import MIB

ENV = parse_environment("linux-debian-glibc-x86_64")
NOW = dt.datetime(2026, 1, 29, 10, 0, tzinfo=dt.UTC)
PIDS = 32

LIMITED_SOURCE = """
    import mmap, os, signal, time

    def reserve():
        # what V8 does for each WebAssembly memory: reserve 10 GiB, use a little of it
        cage = mmap.mmap(-1, 10 << 30, prot=0)  # PROT_NONE
        used = bytearray(64 << 20)
        print(f"reserver 1.0.0 reserved {len(cage) >> 30} GiB, used {len(used) >> 20} MiB")

    def bomb():
        for _ in range(200):
            if os.fork() == 0:
                time.sleep(30)
                os._exit(0)
        print("bomb 1.0.0")

    def survivor():
        import subprocess, sys
        child = subprocess.run([sys.executable, "-c", "bytearray(1 << 30)"], check=False)
        print(f"survivor 1.0.0 (its helper ended with {child.returncode})")

    def writer():
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # as a C program has it (Python ignores it)
        with open(os.path.join(os.environ["TMPDIR"], "big"), "wb") as fh:
            fh.write(b"x" * (4 << 20))
        print("writer 1.0.0")
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory, isolation: Isolation) -> dict[str, RecipeResult]:
    wheels = tmp_path_factory.mktemp("limit-wheels")
    scripts = {"reserver": "reserve", "bomb": "bomb", "writer": "writer", "survivor": "survivor"}
    build_wheel(wheels, "limitedpkg", "1.0.0", module_source=LIMITED_SOURCE, scripts=scripts)
    # a .pth file runs when the venv's python starts: the install's version read allocates 1 GiB
    hog_pth = {"hog.pth": b"import sys; sys.flags.isolated or bytearray(1 << 30)\n"}
    build_wheel(wheels, "pthhogpkg", "1.0.0", module_source=LIMITED_SOURCE, scripts={"pthtool": "reserve"},
                extra_files=hog_pth)  # fmt: skip
    options = NativeOptions(
        isolation=isolation,
        limits=Limits(
            timeout=20, install_timeout=120, memory_bytes=512 * MIB, pids=PIDS, file_size_bytes=2 * MIB
        ),
        source=PipSource(find_links=(str(wheels),)),
        caller_env=PIP_ISOLATED_ENV,
        npm_tools=None,
    )
    work = tmp_path_factory.mktemp("limit-prefixes")
    settings = RunSettings(native=options, workers=3, work_root=work, now=lambda: NOW)
    items = [
        RecipeInput(
            exe, f"pypi:{exe}", recipe_toml(exe, "limitedpkg", [exe], exe, pattern=f"{exe} {{version}}"), "r"
        )
        for exe in scripts
    ]
    items.append(
        RecipeInput("pthhog", "pypi:pthhogpkg", recipe_toml("pthhog", "pthhogpkg", ["pthtool"], "true"), "r")
    )
    return {r.name: r for r in validate_all(items, ENV, settings)}


def test_reserved_address_space_is_not_counted_as_memory(results: dict[str, RecipeResult]) -> None:
    result = results["reserver"]
    assert result.outcome == "pass", result  # RLIMIT_AS at 512 MiB would refuse the 10 GiB mmap


def test_a_fork_bomb_is_a_resource_limit(results: dict[str, RecipeResult]) -> None:
    if "pids" not in cgroup.probe().controllers:
        pytest.skip(f"no pids cgroup here: {cgroup.probe().description}")
    failure = results["bomb"].failure
    assert failure is not None
    assert (failure.category, failure.subcategory) == ("validation_failed", "resource_limit")
    assert (
        failure.message == f"verify command `bomb` stopped by the {PIDS}-process limit (a fork was refused)"
    )
    assert results["bomb"].installed_version == "1.0.0"


def test_a_file_above_the_size_limit_is_a_resource_limit(results: dict[str, RecipeResult]) -> None:
    failure = results["writer"].failure
    assert failure is not None
    assert (failure.category, failure.subcategory) == ("validation_failed", "resource_limit")
    assert failure.message == "verify command `writer` killed by the 2 MiB file size limit"


def test_the_report_says_what_was_in_force(isolation: Isolation, tmp_path: Path) -> None:
    settings = RunSettings(native=NativeOptions(isolation=isolation, npm_tools=None), work_root=tmp_path)
    text = settings.isolation
    assert text.startswith(isolation.description + "; ")
    assert "limits: memory 2 GiB (" in text and "file size 1 GiB (RLIMIT_FSIZE)" in text
    groups = cgroup.probe()
    expected = f"memory 2 GiB (cgroup v{groups.version})" if "memory" in groups.controllers else "RLIMIT_DATA"
    assert expected in text


def test_an_install_step_stopped_by_a_limit_is_a_resource_limit(results: dict[str, RecipeResult]) -> None:
    if "memory" not in cgroup.probe().controllers:
        pytest.skip(f"no memory cgroup here ({cgroup.probe().description})")
    failure = results["pthhog"].failure
    assert failure is not None
    assert (failure.category, failure.subcategory) == ("validation_failed", "resource_limit")
    assert failure.message.startswith(
        "step 1: killed by the 512 MiB memory limit: cannot read the installed version"
    )


def test_a_verify_that_passes_although_a_helper_hit_a_limit_passes(results: dict[str, RecipeResult]) -> None:
    if "memory" not in cgroup.probe().controllers:
        pytest.skip(f"no memory cgroup here ({cgroup.probe().description})")
    result = results["survivor"]
    assert result.outcome == "pass", result  # the tool handled its helper's OOM kill and answered
