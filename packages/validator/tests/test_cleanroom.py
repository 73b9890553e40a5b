"""The clean room: the verify sees the prefix, the declared runtime and the base, nothing else;
a tool needing an undeclared program or library is ``undeclared_dependency``, naming it.

Real tools built here: wheels whose scripts need ``node`` or a C library, C programs compiled
with gcc against a library in a temporary directory, against the host's zlib, and against a
library shipped beside them with RPATH ``$ORIGIN`` (the case that must pass).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from validator_helpers import PIP_ISOLATED_ENV, TOOL_SOURCE, build_wheel, recipe_toml

from recipeline_schema import RecipeResult, parse_environment
from recipeline_validator import (
    Isolation,
    Limits,
    NativeOptions,
    PipSource,
    RecipeInput,
    RunSettings,
    cleanroom,
    validate_all,
)
from recipeline_validator.cleanroom import BASE_UTILITIES, clean_env, interpreter_of
from recipeline_validator.elfdeps import read_deps

ENV = parse_environment("linux-debian-glibc-x86_64")
NOW = dt.datetime(2026, 1, 29, 10, 0, tzinfo=dt.UTC)
GCC = shutil.which("gcc")
NODE = shutil.which("node")
ZLIB_PLACES = ("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib")
HOST_ZLIB = next((f"{d}/libz.so.1" for d in ZLIB_PLACES if Path(f"{d}/libz.so.1").exists()), None)
needs_gcc = pytest.mark.skipif(GCC is None, reason="gcc not found on PATH (.ci/run installs it)")

MAIN_C = """#include <stdio.h>
extern const char *greeting(void);
int main(void) { printf("%s 1.0.0\\n", greeting()); return 0; }
"""
LIB_C = 'const char *greeting(void) { return "elfok"; }\n'
ZLIB_C = """#include <stdio.h>
extern const char *zlibVersion(void);
int main(void) { printf("zlibtool 1.0.0 %s\\n", zlibVersion()); return 0; }
"""


def _gcc(*args: str | Path) -> None:
    assert GCC is not None
    subprocess.run([GCC, *map(str, args)], check=True, capture_output=True, timeout=120)


@dataclass
class Run:
    results: dict[str, RecipeResult]
    work: Path


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, isolation: Isolation) -> Run:
    """Build the tools, validate every scenario once (in parallel), keep the prefixes."""
    wheels = tmp_path_factory.mktemp("cleanroom-wheels")
    build = tmp_path_factory.mktemp("cleanroom-build")
    node_script = b"#!/usr/bin/env node\nconsole.log('nodetool 1.0.0');\n"
    build_wheel(
        wheels,
        "nodepkg",
        "1.0.0",
        module_source=TOOL_SOURCE,
        scripts={},
        data_scripts={"nodetool": node_script},
    )
    build_wheel(wheels, "plainpkg", "1.2.3", module_source=TOOL_SOURCE, scripts={"oktool": "ok"})
    scenarios = {
        "node-shebang": recipe_toml(
            "node-shebang", "nodepkg", ["nodetool"], "nodetool", pattern="nodetool {version}"
        ),
        "node-verify": recipe_toml("node-verify", "plainpkg", ["oktool"], "node -e 1", pattern=""),
        "plain": recipe_toml("plain", "plainpkg", ["oktool"], "oktool", pattern="oktool {version}"),
    }
    if GCC is not None:
        (build / "main.c").write_text(MAIN_C)
        (build / "lib.c").write_text(LIB_C)
        _gcc("-shared", "-fPIC", "-o", build / "libgreet.so", build / "lib.c")
        # linked against a library in a temporary directory, no run path: undeclared
        _gcc("-o", build / "elfgreet", build / "main.c", f"-L{build}", "-lgreet")
        # the library shipped beside the program, found through RPATH $ORIGIN: passes
        _gcc("-o", build / "elfok", build / "main.c", f"-L{build}", "-lgreet", "-Wl,-rpath,$ORIGIN")
        greet_lib = (build / "libgreet.so").read_bytes()
        elfgreet = {"elfgreet": (build / "elfgreet").read_bytes()}
        build_wheel(wheels, "elfgreetpkg", "1.0.0", module_source="", scripts={}, data_scripts=elfgreet)
        elfok = {"elfok": (build / "elfok").read_bytes(), "libgreet.so": greet_lib}
        build_wheel(wheels, "elfokpkg", "1.0.0", module_source="", scripts={}, data_scripts=elfok)
        scenarios["elf-undeclared"] = recipe_toml(
            "elf-undeclared", "elfgreetpkg", ["elfgreet"], "elfgreet", pattern="{version}"
        )
        scenarios["elf-ok"] = recipe_toml("elf-ok", "elfokpkg", ["elfok"], "elfok", pattern="elfok {version}")
        if HOST_ZLIB is not None:
            (build / "zlib.c").write_text(ZLIB_C)
            _gcc("-o", build / "zlibtool", build / "zlib.c", HOST_ZLIB)
            zlibtool = {"zlibtool": (build / "zlibtool").read_bytes()}
            build_wheel(wheels, "zlibpkg", "1.0.0", module_source="", scripts={}, data_scripts=zlibtool)
            scenarios["elf-host-lib"] = recipe_toml(
                "elf-host-lib", "zlibpkg", ["zlibtool"], "zlibtool", pattern="{version}"
            )
    work = tmp_path_factory.mktemp("cleanroom-prefixes")
    options = NativeOptions(
        isolation=isolation,
        limits=Limits(timeout=20, install_timeout=120),
        source=PipSource(find_links=(str(wheels),)),
        caller_env=PIP_ISOLATED_ENV,
        npm_tools=None,
    )
    settings = RunSettings(native=options, workers=4, work_root=work, keep_prefixes=True, now=lambda: NOW)
    items = [RecipeInput(name, f"pypi:{name}", text, f"{name}.toml") for name, text in scenarios.items()]
    return Run({r.name: r for r in validate_all(items, ENV, settings)}, work)


def _failure(run: Run, name: str) -> tuple[str, str, str]:
    failure = run.results[name].failure
    assert failure is not None, run.results[name]
    return failure.category, failure.subcategory or "", failure.message


def test_the_clean_path_holds_the_prefix_the_runtime_and_the_base_only(tmp_path: Path) -> None:
    env = clean_env(tmp_path, ["/usr/bin/node" if NODE is None else NODE, "/usr/bin"])
    path = env["PATH"].split(os.pathsep)
    assert path == [str(tmp_path / "bin"), str(tmp_path / "runtime" / "bin"), str(tmp_path / "base" / "bin")]
    assert "/usr/bin" not in path and "/bin" not in path  # a system directory is never on it whole
    base = sorted(p.name for p in (tmp_path / "base" / "bin").iterdir())
    assert "sh" in base and "env" in base and set(base) <= set(BASE_UTILITIES)
    assert shutil.which("python3", path=env["PATH"]) is None
    assert [p.name for p in (tmp_path / "runtime" / "bin").iterdir()] == ["node"]
    build = clean_env(tmp_path, [], build_dirs=["/usr/bin"])["PATH"].split(os.pathsep)
    assert build == [str(tmp_path / "bin"), "/usr/bin", str(tmp_path / "base" / "bin")]  # installs only


def test_a_script_needing_undeclared_node_is_an_undeclared_dependency(run: Run) -> None:
    category, subcategory, message = _failure(run, "node-shebang")
    assert (category, subcategory) == ("validation_failed", "undeclared_dependency")
    assert "bin/nodetool needs the program node" in message
    if NODE is not None:
        assert f"this host has it at {NODE}" in message
    assert run.results["node-shebang"].installed_version == "1.0.0"


def test_a_verify_command_not_in_the_clean_room_is_named(run: Run) -> None:
    category, subcategory, message = _failure(run, "node-verify")
    assert (category, subcategory) == ("validation_failed", "undeclared_dependency")
    assert message.startswith("the verify command needs the program node")


def test_a_plain_tool_passes_in_the_clean_room(run: Run) -> None:
    assert run.results["plain"].outcome == "pass", run.results["plain"]


def test_the_shebang_reader_knows_env_and_absolute_interpreters(tmp_path: Path) -> None:
    for text, expected in (
        ("#!/usr/bin/env node\n", ("node", True)),
        ("#!/usr/bin/env -S deno run\n", ("deno", True)),
        ("#!/opt/py/bin/python3 -E\n", ("/opt/py/bin/python3", False)),
    ):
        (tmp_path / "s").write_text(text)
        assert interpreter_of(tmp_path / "s") == expected
    (tmp_path / "s").write_bytes(b"\x7fELF")
    assert interpreter_of(tmp_path / "s") is None


@needs_gcc
def test_an_elf_linked_against_a_library_outside_the_prefix_is_undeclared(run: Run) -> None:
    category, subcategory, message = _failure(run, "elf-undeclared")
    assert (category, subcategory) == ("validation_failed", "undeclared_dependency")
    assert "needs the library libgreet.so" in message
    assert "this host does not have it either" in message


@needs_gcc
def test_an_elf_needing_a_host_library_names_where_the_host_has_it(run: Run) -> None:
    if HOST_ZLIB is None:
        pytest.skip("the host has no libz.so.1 to link against")
    category, subcategory, message = _failure(run, "elf-host-lib")
    assert (category, subcategory) == ("validation_failed", "undeclared_dependency")
    assert "needs the library libz.so.1" in message and "this host has it at" in message


@needs_gcc
def test_an_elf_with_its_library_in_the_prefix_passes(run: Run) -> None:
    result = run.results["elf-ok"]
    assert result.outcome == "pass", result
    (prefix,) = run.work.glob("recipeline-elf-ok-*")
    deps = read_deps((prefix / "bin" / "elfok").resolve())
    assert deps is not None and "libgreet.so" in deps.needed and deps.runpath + deps.rpath == ("$ORIGIN",)


def test_the_verify_commands_words_in_command_position(tmp_path: Path) -> None:
    from recipeline_validator.cleanroom import command_words, missing_command

    assert command_words("cd /tmp && node -e 1 | grep x") == ["cd", "node", "grep"]
    assert command_words("FOO=1 tool -v; command -v jq; command mytool") == ["tool", "mytool"]
    assert command_words("if true; then exec foo; fi 2>&1") == ["true", "foo"]
    path = clean_env(tmp_path)["PATH"]
    assert missing_command("cd / && type sh && grep -q x /dev/null", path, None) is None  # builtins, base
    gap = missing_command("cd / && grep x /dev/null | jq .", path, "/nonexistent")
    assert gap is not None and (gap.name, gap.host_has) == ("jq", "")


@needs_gcc
def test_a_prebuilt_binary_for_another_os_is_no_gap(tmp_path: Path) -> None:
    """node-gyp-build packages ship prebuilds for every platform: an Android build that needs a
    library this host lacks is never loaded here; the same file in a Linux directory is a gap."""
    (tmp_path / "lib.c").write_text("int greet(void) { return 1; }\n")
    (tmp_path / "main.c").write_text("int greet(void);\nint main(void) { return greet(); }\n")
    _gcc("-shared", "-fPIC", "-o", tmp_path / "libgreet.so", tmp_path / "lib.c")
    _gcc("-o", tmp_path / "tool", tmp_path / "main.c", f"-L{tmp_path}", "-lgreet")
    prefix = tmp_path / "prefix"
    for platform in ("android-x64", "linux-x64"):
        where = prefix / "npm" / "node_modules" / "bare-url" / "prebuilds" / platform
        where.mkdir(parents=True)
        shutil.copy(tmp_path / "tool", where / "bare-url.bare")

    gaps = cleanroom.library_gaps(prefix, set())

    assert [(gap.name, gap.needed_by) for gap in gaps] == [
        ("libgreet.so", "npm/node_modules/bare-url/prebuilds/linux-x64/bare-url.bare")
    ]
