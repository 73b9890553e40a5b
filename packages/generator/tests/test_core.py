"""The pure rules: executable names, verify choice, homepages, entry points, wheel selection."""

from __future__ import annotations

import re
from typing import Any

import pytest
from packaging.version import Version

from recipeline_generator.pypi_metadata import describe, parse_core_metadata, pick_homepage
from recipeline_generator.recipes import (
    RejectedName,
    check_executables,
    https_url,
    installs_itself,
    one_line_text,
    verify_executable,
)
from recipeline_schema import Recipe, Step
from recipeline_schema.wheels import (
    MalformedPageError,
    NoWheel,
    WheelFile,
    console_scripts,
    parse_entry_points,
    project_url,
    select_wheel,
    wheel_executables,
)

PAGE = "https://index.example/simple/demo/"


@pytest.mark.parametrize(
    ("executables", "tool", "project", "expected"),
    [
        (("aider",), "aider", "aider-chat", "aider"),
        (("black", "blackd"), "black", "black", "black"),
        (("http", "httpie", "https"), "httpie", "httpie", "httpie"),
        (("pre-commit", "pre-commit-hook"), "precommit", "pre_commit", "pre-commit"),
        (("Tool_X", "other"), "toolx", "tool.x", "Tool_X"),
        (("zz-long-name", "ab", "aa"), "unrelated", "unrelated-pkg", "aa"),
    ],
)
def test_verify_executable_prefers_the_tool_then_the_project(
    executables: tuple[str, ...], tool: str, project: str, expected: str
) -> None:
    assert verify_executable(executables, tool=tool, project=project) == expected


def test_check_executables_sorts_and_deduplicates() -> None:
    assert check_executables(["b", "a", "b", "A+1.x_y-z"]) == ("A+1.x_y-z", "a", "b")


@pytest.mark.parametrize("bad", ["../x", "a/b", "x\ny", "", ".x", "-x", "x y", "é", 'q"', "x" * 129])
def test_check_executables_rejects_the_whole_set_for_one_bad_name(bad: str) -> None:
    result = check_executables(["good", bad])
    assert isinstance(result, RejectedName)
    assert "\n" not in result.shown and len(result.shown) <= 60


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/x", "https://example.com/x"),
        ("  https://example.com/x  ", "https://example.com/x"),
        ("http://example.com/x", None),
        ("https://user:pw@example.com/", None),
        ("https:///nohost", None),
        ("https://example.com/a b", None),
        ("https://example.com/\x00", None),
        ("javascript:alert(1)", None),
        ("https://index.example/project/demo/", None),
        ("https://sub.index.example/", None),
        ("https://notindex.example/", "https://notindex.example/"),
    ],
)
def test_https_url(url: str, expected: str | None) -> None:
    assert https_url(url, avoid_hosts=("index.example",)) == expected


def test_one_line_text_collapses_control_characters_and_cuts() -> None:
    assert one_line_text("a\nb\t\x1b[31mc  d") == "a b [31mc d"
    assert one_line_text("x" * 400, limit=10) == "x" * 9 + "…"


def _meta(*lines: str) -> bytes:
    return (
        "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n" + "".join(f"{line}\n" for line in lines)
    ).encode()


def test_core_metadata_fields_and_project_url_labels() -> None:
    meta = parse_core_metadata(
        _meta(
            "Summary: Does\n things",
            "Home-page: UNKNOWN",
            "Project-URL: Source Code, https://git.example/demo",
            "Project-URL: Home-Page, http://old.example",
        )
        + b"\nbody text with Home-page: https://not-a-header.example\n"
    )
    assert (meta.name, meta.version, meta.home_page) == ("demo", "1.0", "")
    assert meta.project_urls == (
        ("sourcecode", "https://git.example/demo"),
        ("homepage", "http://old.example"),
    )
    assert describe(meta, "demo") == "Does things"
    assert pick_homepage(meta) == "https://git.example/demo"


def test_homepage_order_home_page_then_homepage_then_source_then_docs() -> None:
    meta = parse_core_metadata(
        _meta(
            "Project-URL: Documentation, https://docs.example",
            "Project-URL: Repository, https://repo.example",
            "Project-URL: Homepage, https://home.example",
            "Home-page: https://field.example",
        )
    )
    assert pick_homepage(meta) == "https://field.example"
    assert pick_homepage(meta, avoid_hosts=("field.example",)) == "https://home.example"
    assert (
        pick_homepage(parse_core_metadata(_meta("Project-URL: Docs, https://d.example")))
        == "https://d.example"
    )
    assert pick_homepage(parse_core_metadata(_meta("Project-URL: Tracker, https://t.example"))) is None


def test_description_fallback_names_the_project() -> None:
    assert describe(parse_core_metadata(_meta()), "demo") == "Command-line tools of the Python package demo"


def test_entry_points_are_parsed_like_importlib_metadata() -> None:
    text = (
        b"; comment\n[console_scripts]\n a = m:f \nb=m:g [extra]\n# c = x:y\nnot an entry\n"
        b"\n[gui_scripts]\ng = m:h\n"
    )
    assert parse_entry_points(text) == {
        "console_scripts": (("a", "m:f"), ("b", "m:g [extra]")),
        "gui_scripts": (("g", "m:h"),),
    }
    assert console_scripts(text) == ("a", "b")
    assert console_scripts(b"x = y:z\n") == ()  # outside any section


def _file(filename: str, **extra: Any) -> dict[str, Any]:
    return {"filename": filename, "url": f"../../files/{filename}", "hashes": {}, **extra}


def _page(*files: dict[str, Any]) -> dict[str, Any]:
    return {"meta": {"api-version": "1.1"}, "files": list(files)}


def test_select_wheel_resolves_urls_and_reads_pep658_flags() -> None:
    choice = select_wheel(
        _page(_file("Demo-1.0-py3-none-any.whl", **{"core-metadata": {"sha256": "AB" * 32}})), PAGE, "demo"
    )
    assert isinstance(choice, WheelFile)
    assert choice.url == "https://index.example/files/Demo-1.0-py3-none-any.whl"
    assert choice.version == Version("1.0")
    assert choice.metadata is not None and choice.metadata.sha256 == "ab" * 32
    assert choice.metadata.url == choice.url + ".metadata"


def test_select_wheel_ignores_other_projects_bad_names_and_unsafe_urls() -> None:
    page = _page(
        _file("other-9.0-py3-none-any.whl"),
        _file("demo-notaversion-py3-none-any.whl"),
        {**_file("demo-5.0-py3-none-any.whl"), "url": "file:///etc/passwd"},
        _file("demo-1.0-py3-none-any.whl", **{"core-metadata": False}),
    )
    choice = select_wheel(page, PAGE, "demo")
    assert isinstance(choice, WheelFile)
    assert (str(choice.version), choice.metadata) == ("1.0", None)


def test_select_wheel_without_wheels_says_why() -> None:
    assert select_wheel(_page(), PAGE, "demo") == NoWheel("the index lists no files for this project")
    only_yanked = select_wheel(_page(_file("demo-1.0-py3-none-any.whl", yanked="")), PAGE, "demo")
    assert isinstance(only_yanked, NoWheel) and "(1 yanked)" in only_yanked.reason


@pytest.mark.parametrize(
    ("page", "where"),
    [
        ({"files": []}, "api-version"),
        ({"meta": {"api-version": 1}, "files": []}, "api-version"),
        ({"meta": {"api-version": "1.0"}}, "$.files"),
        ({"meta": {"api-version": "1.0"}, "files": ["x"]}, "$.files[0]"),
        ({"meta": {"api-version": "1.0"}, "files": [{"filename": 3, "url": "u"}]}, "$.files[0]"),
    ],
)
def test_malformed_pages_name_the_place(page: Any, where: str) -> None:
    with pytest.raises(MalformedPageError, match=re.escape(where)):
        select_wheel(page, PAGE, "demo")


def test_project_url_normalizes_the_name() -> None:
    assert project_url("https://i.example/simple", "Foo_Bar.baz") == "https://i.example/simple/foo-bar-baz/"
    assert project_url("https://i.example/simple/", "x") == "https://i.example/simple/x/"


@pytest.mark.parametrize(
    ("action", "params", "refused"),
    [
        ("pipx_install", {"package": "pipx"}, True),
        ("pipx_install", {"package": "PipX[extra]==1.0"}, True),
        ("pipx_install", {"package": "pipx-tools"}, False),
        ("npm_install", {"package": "npm"}, True),
        ("npm_install", {"package": "@scope/npm"}, False),
        ("cargo_install", {"crate": "cargo"}, True),
        ("cargo_install", {"crate": "cargo-edit"}, False),
        ("gem_install", {"gem": "rubygems-update"}, True),
        ("go_install", {"module": "golang.org/toolchain"}, True),
        ("cpan_install", {"distribution": "App-cpanminus"}, True),
        ("cpan_install", {"distribution": "App-cpanminus-reporter"}, False),
        ("homebrew", {"formula": "pipx"}, False),  # another action's installer is a fine recipe
    ],
)
def test_installs_itself_table(action: str, params: dict[str, str], refused: bool) -> None:
    recipe = Recipe("x", "d", "https://x.example", (Step(action, params),), None)
    assert (installs_itself(recipe) is not None) is refused


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("tool", True),
        ("tool-3.11", False),
        ("pip3.11", False),
        ("tool3.12", False),
        ("tool-py3.9", False),
        ("pip3", True),
        ("x13.5", True),
        ("tool-2.0", True),
        ("demo.exe", False),
        ("demo.ps1", False),
    ],
)
def test_interpreter_bound_and_windows_names_are_left_out(name: str, kept: bool) -> None:
    found = wheel_executables(b"", (name,))
    assert (found.names == (name,), found.left_out == (name,)) == (kept, not kept)
