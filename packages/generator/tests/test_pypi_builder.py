"""The PyPI builder against a local PEP 691 index serving real wheels."""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Callable
from typing import Any

import pytest
from generator_helpers import failure_of, recipe_of

from recipeline_generator import PypiBuilder
from recipeline_schema import Failure, Recipe, recipe_from_toml, recipe_to_toml
from recipeline_schema.http import HttpClient, HttpSettings

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
TWO_SCRIPTS = "[console_scripts]\ndemo-helper = demo.helper:main\ndemo = demo.cli:main\n\n[other]\nx = y:z\n"


def test_recipe_from_a_ranged_wheel_matches_tsuku_shape(builder: PypiBuilder, index: Any) -> None:
    entry, data = index.publish("demo", "1.2.0", entry_points=TWO_SCRIPTS, filler=300_000)
    index.add_project("demo", [entry])

    text = recipe_to_toml(recipe_of(builder.generate("demo", name="demo")))

    assert text == (
        "[metadata]\n"
        'name = "demo"\n'
        'description = "A demo command-line tool"\n'
        'homepage = "https://example.com/demo"\n'
        "\n"
        "[[steps]]\n"
        'action = "pipx_install"\n'
        'package = "demo"\n'
        'executables = ["demo", "demo-helper"]\n'
        "\n"
        "[verify]\n"
        'command = "demo --version"\n'
        'pattern = "{version}"\n'
    )
    requests = index.wheel_requests(entry["filename"])
    assert requests == ["bytes=-65536"], "one suffix range request holds EOCD, directory and dist-info"
    assert len(data) > 300_000


def test_dist_info_outside_the_tail_is_fetched_by_range(builder: PypiBuilder, index: Any) -> None:
    entry, _ = index.publish("demo", "1.0", filler=200_000, dist_info_first=True)
    index.add_project("demo", [entry])

    recipe = recipe_of(builder.generate("demo", name="demo"))

    assert recipe.steps[0].params["executables"] == ("demo",)
    requests = index.wheel_requests(entry["filename"])
    assert len(requests) >= 2
    assert all(r is not None and r.startswith("bytes=") for r in requests), "never the whole wheel"


def test_server_ignoring_range_gets_one_full_download(builder: PypiBuilder, index: Any) -> None:
    entry, _ = index.publish("demo", "1.0", ranges=False, filler=100_000)
    index.add_project("demo", [entry])

    recipe = recipe_of(builder.generate("demo", name="demo"))

    assert recipe.verify is not None and recipe.verify.command == "demo --version"
    assert len(index.wheel_requests(entry["filename"])) == 1


def test_full_download_with_a_wrong_sha256_is_a_bad_response(builder: PypiBuilder, index: Any) -> None:
    entry, _ = index.publish("demo", "1.0", ranges=False)
    entry["hashes"] = {"sha256": "0" * 64}
    index.add_project("demo", [entry])

    failure = failure_of(builder.generate("demo", name="demo"))

    assert (failure.category, failure.subcategory, failure.transient) == ("api_error", "bad_response", True)
    assert "sha256" in failure.message


@pytest.mark.parametrize("key", ["core-metadata", "data-dist-info-metadata"])
def test_pep658_metadata_is_used_when_offered(
    builder: PypiBuilder, index: Any, key: str, wheel_metadata: Callable[[bytes], bytes]
) -> None:
    entry, data = index.publish("demo", "1.0", summary="summary inside the wheel")
    served = wheel_metadata(data).replace(b"summary inside the wheel", b"summary from PEP 658")
    index.add_metadata(entry["filename"], served)
    entry[key] = {"sha256": hashlib.sha256(served).hexdigest()}
    index.add_project("demo", [entry])

    recipe = recipe_of(builder.generate("demo", name="demo"))

    assert recipe.description == "summary from PEP 658"


def test_pep658_metadata_with_a_wrong_hash_is_a_bad_response(
    builder: PypiBuilder, index: Any, wheel_metadata: Callable[[bytes], bytes]
) -> None:
    entry, data = index.publish("demo", "1.0")
    index.add_metadata(entry["filename"], wheel_metadata(data))
    entry["core-metadata"] = {"sha256": "f" * 64}
    index.add_project("demo", [entry])

    failure = failure_of(builder.generate("demo", name="demo"))

    assert (failure.category, failure.subcategory) == ("api_error", "bad_response")
    assert failure.message.startswith("metadata of demo-1.0-py3-none-any.whl")


def test_pep658_metadata_offered_but_missing_falls_back_to_the_wheel(
    builder: PypiBuilder, index: Any
) -> None:
    entry, _ = index.publish("demo", "1.0", summary="summary inside the wheel")
    entry["core-metadata"] = True  # but nothing is served at .metadata: 404
    index.add_project("demo", [entry])

    assert recipe_of(builder.generate("demo", name="demo")).description == "summary inside the wheel"


def test_newest_non_yanked_final_release_with_a_wheel_is_chosen(builder: PypiBuilder, index: Any) -> None:
    old, _ = index.publish("demo", "1.9", entry_points="[console_scripts]\nold-demo = d:m\n")
    good, _ = index.publish("demo", "1.10", entry_points="[console_scripts]\ndemo = d:m\n")
    yanked = {**index.publish("demo", "2.0")[0], "yanked": "broken release"}
    yanked_true = {**index.publish("demo", "2.1")[0], "yanked": True}
    pre, _ = index.publish("demo", "3.0rc1", entry_points="[console_scripts]\npre-demo = d:m\n")
    sdist = {"filename": "demo-4.0.tar.gz", "url": index.file_url("demo-4.0.tar.gz"), "hashes": {}}
    index.add_project("demo", [sdist, pre, yanked_true, yanked, good, old])

    recipe = recipe_of(builder.generate("demo", name="demo"))

    assert recipe.steps[0].params["executables"] == ("demo",)  # 1.10 > 1.9 by PEP 440, not by text
    assert index.wheel_requests(good["filename"]) and not index.wheel_requests(yanked["filename"])


def test_a_pre_release_is_used_when_no_final_release_has_a_wheel(builder: PypiBuilder, index: Any) -> None:
    pre, _ = index.publish("demo", "0.1b2")
    index.add_project("demo", [pre])

    assert isinstance(builder.generate("demo", name="demo"), Recipe)
    assert index.wheel_requests(pre["filename"])


def test_pure_python_wheel_is_preferred_over_other_platforms_wheels(builder: PypiBuilder, index: Any) -> None:
    platform = {
        "filename": "demo-1.0-cp312-cp312-macosx_11_0_arm64.whl",
        "url": index.file_url("demo-1.0-cp312-cp312-macosx_11_0_arm64.whl"),
        "hashes": {},
    }
    pure, _ = index.publish("demo", "1.0", tag="py2.py3-none-any")
    index.add_project("demo", [platform, pure])

    assert isinstance(builder.generate("demo", name="demo"), Recipe)
    assert index.wheel_requests(pure["filename"])


def test_relative_file_urls_resolve_against_the_page(builder: PypiBuilder, index: Any) -> None:
    entry, _ = index.publish("demo", "1.0")
    entry["url"] = f"../../files/{entry['filename']}#sha256={entry['hashes']['sha256']}"
    index.add_project("demo", [entry])

    assert isinstance(builder.generate("demo", name="demo"), Recipe)


def test_identifier_not_queue_name_is_fetched(builder: PypiBuilder, index: Any) -> None:
    entry, _ = index.publish(
        "aider-chat", "0.50.0", entry_points="[console_scripts]\naider = aider.main:main\n"
    )
    index.add_project("aider-chat", [entry])

    recipe = recipe_of(builder.generate("Aider_Chat", name="aider"))

    assert recipe.name == "aider"
    assert recipe.steps[0].params["package"] == "Aider_Chat"
    assert recipe.verify is not None and recipe.verify.command == "aider --version"


def test_unknown_project_is_not_found_and_not_transient(builder: PypiBuilder, index: Any) -> None:
    failure = failure_of(builder.generate("no-such-project", name="nsp"))

    assert (failure.package_id, failure.category, failure.subcategory) == (
        "pypi:no-such-project",
        "api_error",
        "not_found",
    )
    assert failure.transient is False
    assert "127.0.0.1" not in failure.message and "localhost" not in failure.message


def test_500_then_success_is_retried_with_backoff(
    builder: PypiBuilder, index: Any, httpserver: Any, fake_time: Any
) -> None:
    entry, _ = index.publish("demo", "1.0")
    httpserver.expect_ordered_request("/simple/demo/").respond_with_data("oops", status=500)
    index.add_project("demo", [entry])

    assert isinstance(builder.generate("demo", name="demo"), Recipe)
    assert 1.0 in fake_time.sleeps  # the first backoff step


def test_429_waits_for_retry_after(builder: PypiBuilder, index: Any, httpserver: Any, fake_time: Any) -> None:
    entry, _ = index.publish("demo", "1.0")
    httpserver.expect_ordered_request("/simple/demo/").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "7"}
    )
    index.add_project("demo", [entry])

    assert isinstance(builder.generate("demo", name="demo"), Recipe)
    assert 7.0 in fake_time.sleeps


def test_429_always_ends_as_rate_limited(builder: PypiBuilder, httpserver: Any) -> None:
    httpserver.expect_request("/simple/demo/").respond_with_data(
        "no", status=429, headers={"Retry-After": "2"}
    )

    failure = failure_of(builder.generate("demo", name="demo"))

    assert (failure.category, failure.subcategory, failure.transient) == ("api_error", "rate_limited", True)


def test_persistent_503_is_upstream_unavailable(builder: PypiBuilder, httpserver: Any) -> None:
    httpserver.expect_request("/simple/demo/").respond_with_data("down", status=503)

    failure = failure_of(builder.generate("demo", name="demo"))

    assert failure.subcategory == "upstream_unavailable"
    assert "after 4 attempts" in failure.message


@pytest.mark.parametrize(
    ("body", "content_type", "detail"),
    [
        ('{"meta": {"api-version": "1.1"}, "files": [', SIMPLE_JSON, "invalid JSON"),
        ("<html><body>simple</body></html>", "text/html", "content type"),
        ('{"meta": {"api-version": "2.0"}, "files": []}', SIMPLE_JSON, "api-version"),
        ('{"meta": {"api-version": "1.0"}, "files": {}}', SIMPLE_JSON, "$.files"),
        ('["not", "an", "object"]', SIMPLE_JSON, "expected an object"),
    ],
)
def test_garbage_index_pages_are_bad_responses(
    builder: PypiBuilder, httpserver: Any, body: str, content_type: str, detail: str
) -> None:
    httpserver.expect_request("/simple/demo/").respond_with_data(body, content_type=content_type)

    failure = failure_of(builder.generate("demo", name="demo"))

    assert (failure.category, failure.subcategory) == ("api_error", "bad_response")
    assert detail in failure.message


def test_page_over_the_size_cap_is_a_bad_response(index: Any, fake_time: Any) -> None:
    entry, _ = index.publish("demo", "1.0")
    index.add_project("demo", [entry] + [{**entry, "filename": f"pad-{i}.tar.gz"} for i in range(200)])
    settings = HttpSettings(max_bytes=4096)
    with HttpClient(settings, sleep=fake_time.sleep, clock=fake_time.clock) as http:
        failure = failure_of(PypiBuilder(http, index_url=index.url).generate("demo", name="demo"))

    assert (failure.subcategory, "cap" in failure.message) == ("bad_response", True)


@pytest.mark.parametrize(
    "entry_points",
    [
        None,
        "",
        "[console_scripts]\n# nothing\n",
        "[console_scripts]\ndemo-3.11 = d:m\npip3.12 = d:m\n",
        "[other]\ndemo = d:m\n",
    ],
    ids=["no-file", "empty", "comment-only", "interpreter-bound-only", "other-section"],
)
def test_no_console_scripts_is_binary_discovery_failed(
    builder: PypiBuilder, index: Any, entry_points: str | None
) -> None:
    entry, _ = index.publish("demo", "1.0", entry_points=entry_points)
    index.add_project("demo", [entry])

    failure = failure_of(builder.generate("demo", name="demo"))

    assert (failure.category, failure.subcategory) == (
        "deterministic_insufficient",
        "binary_discovery_failed",
    )
    assert failure.transient is False


@pytest.mark.parametrize(
    "hostile",
    [
        "../../bin/sh",
        'x"; rm -rf ~ #',
        "$(curl evil)",
        "a b",
        "`id`",
        "-rf",
        ".hidden",
        "semi;colon",
        "a\tb",
        "naïve",
        "x" * 129,
    ],
)
def test_hostile_entry_point_names_never_reach_a_recipe(
    builder: PypiBuilder, index: Any, hostile: str
) -> None:
    entry, _ = index.publish("demo", "1.0", entry_points=f"[console_scripts]\ndemo = d:m\n{hostile} = d:m\n")
    index.add_project("demo", [entry])

    failure = failure_of(builder.generate("demo", name="demo"))

    assert failure.subcategory == "binary_discovery_failed"
    assert "\n" not in failure.message and "not a safe executable name" in failure.message


def build_sdist(project: str, version: str, files: dict[str, str]) -> bytes:
    """A real ``.tar.gz`` sdist: ``<project>-<version>/`` with PKG-INFO and ``files``."""
    root = f"{project.replace('-', '_')}-{version}"
    pkg_info = (
        f"Metadata-Version: 2.1\nName: {project}\nVersion: {version}\nSummary: A tool from an sdist\n"
        f"Home-page: https://example.com/{project}\n"
    )
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as archive:
        for name, text in {"PKG-INFO": pkg_info, "setup.py": "import setuptools\n", **files}.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{root}/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.mark.parametrize(
    ("files", "executables"),
    [
        # setuptools writes the entry points into the sdist's egg-info (buku, howdoi)
        ({"demo.egg-info/entry_points.txt": "[console_scripts]\ndemo = demo:main\n"}, ["demo"]),
        ({"src/demo.egg-info/entry_points.txt": "[console_scripts]\ndemo = demo:main\n"}, ["demo"]),
        ({"pyproject.toml": '[project]\nname = "demo"\n[project.scripts]\ndemo = "demo:main"\n'}, ["demo"]),
        # trash-cli's form: script files listed in setup.cfg
        ({"setup.cfg": "[options]\nscripts =\n    trash\n    bin/trash-put\n"}, ["trash", "trash-put"]),
    ],
)
def test_a_project_with_only_an_sdist_is_read_without_a_build(
    builder: PypiBuilder, index: Any, files: dict[str, str], executables: list[str]
) -> None:
    """pipx builds an sdist-only project; its commands are read from what the sdist declares."""
    data = build_sdist("demo", "1.0", files)
    index.add_project("demo", [index.add_wheel("demo-1.0.tar.gz", data)])

    recipe = recipe_of(builder.generate("demo", name="demo"))

    assert recipe.steps[0].params == {"package": "demo", "executables": tuple(executables)}
    assert (recipe.description, recipe.homepage) == ("A tool from an sdist", "https://example.com/demo")


def test_an_sdist_whose_commands_only_setup_py_knows_is_binary_discovery_failed(
    builder: PypiBuilder, index: Any
) -> None:
    data = build_sdist("demo", "1.0", {"setup.cfg": "[egg_info]\ntag_build =\n"})
    index.add_project("demo", [index.add_wheel("demo-1.0.tar.gz", data)])

    failure = failure_of(builder.generate("demo", name="demo"))

    assert (failure.category, failure.subcategory) == (
        "deterministic_insufficient",
        "binary_discovery_failed",
    )
    assert (
        "demo-1.0.tar.gz (the project publishes no wheel)" in failure.message
        and "setup.py" in failure.message
    )


def test_an_sdist_that_is_not_a_tarball_or_does_not_match_its_hash_is_refused(
    builder: PypiBuilder, index: Any
) -> None:
    entry = index.add_wheel("demo-1.0.tar.gz", b"not gzip" * 10)
    index.add_project("demo", [entry])
    assert failure_of(builder.generate("demo", name="demo")).subcategory == "archive_extraction_failed"
    index.server.clear()
    entry = index.add_wheel("demo-1.0.tar.gz", build_sdist("demo", "1.0", {}))
    index.add_project("demo", [{**entry, "hashes": {"sha256": "0" * 64}}])
    failure = failure_of(builder.generate("demo", name="demo"))
    assert (failure.category, failure.subcategory) == ("api_error", "bad_response")


def test_a_wheel_that_is_not_a_zip_is_archive_extraction_failed(builder: PypiBuilder, index: Any) -> None:
    entry = index.add_wheel("demo-1.0-py3-none-any.whl", b"this is not a zip file" * 100)
    index.add_project("demo", [entry])

    failure = failure_of(builder.generate("demo", name="demo"))

    assert failure.subcategory == "archive_extraction_failed"


@pytest.mark.parametrize("ranges", [True, False], ids=["ranged", "full"])
def test_corrupted_wheels_end_as_records_never_exceptions(
    builder: PypiBuilder, index: Any, httpserver: Any, ranges: bool
) -> None:
    _, pristine = index.publish("demo", "1.0")
    outcomes = set()
    for offset in range(len(pristine) - 1, len(pristine) - 1200, -23):
        httpserver.clear()
        corrupt = bytearray(pristine)
        corrupt[offset] ^= 0xFF
        entry = index.add_wheel("demo-1.0-py3-none-any.whl", bytes(corrupt), ranges=ranges)
        entry["hashes"] = {}  # no hash to catch it: the zip reader must
        index.add_project("demo", [entry])
        result = builder.generate("demo", name="demo")
        outcomes.add(result.subcategory if isinstance(result, Failure) else "recipe")
    assert "archive_extraction_failed" in outcomes
    assert outcomes <= {"archive_extraction_failed", "binary_discovery_failed", "recipe"}


def test_no_https_homepage_gives_a_recipe_without_one(builder: PypiBuilder, index: Any) -> None:
    """An http Home-page and a tracker link are no homepage; tsuku's is optional (https when
    present), so the recipe has none rather than the tool being refused."""
    entry, _ = index.publish(
        "demo",
        "1.0",
        home_page="http://example.com/demo",
        project_urls=("Tracker, https://example.com/issues",),
    )
    index.add_project("demo", [entry])

    recipe = recipe_of(builder.generate("demo", name="demo"))

    assert recipe.homepage == ""
    assert "homepage" not in recipe_to_toml(recipe)


def test_homepage_comes_from_project_urls_and_never_from_the_index_host(
    builder: PypiBuilder, index: Any
) -> None:
    index_page = index.server.url_for("/project/demo/").replace("http://", "https://")
    entry, _ = index.publish(
        "demo",
        "1.0",
        home_page=index_page,
        project_urls=("Documentation, https://docs.example.com", "Source Code, https://git.example.com/demo"),
    )
    index.add_project("demo", [entry])

    assert recipe_of(builder.generate("demo", name="demo")).homepage == "https://git.example.com/demo"


def test_generation_is_deterministic(builder: PypiBuilder, index: Any, httpserver: Any) -> None:
    entry, _ = index.publish(
        "demo", "1.0", entry_points="[console_scripts]\nzz = a:b\ndemo = a:b\naa = a:b\n"
    )
    other, _ = index.publish("demo", "0.9")
    index.add_project("demo", [entry, other])

    first = recipe_to_toml(recipe_of(builder.generate("demo", name="demo")))
    again = recipe_to_toml(recipe_of(builder.generate("demo", name="demo")))
    httpserver.clear()  # the same facts served in another order
    entry, _ = index.publish(
        "demo", "1.0", entry_points="[console_scripts]\naa = a:b\nzz = a:b\ndemo = a:b\n"
    )
    other, _ = index.publish("demo", "0.9")
    index.add_project("demo", [other, entry])
    reordered = recipe_to_toml(recipe_of(builder.generate("demo", name="demo")))

    assert first.encode() == again.encode() == reordered.encode()
    assert recipe_from_toml(first).steps[0].params["executables"] == ["aa", "demo", "zz"]


def test_rate_limit_spaces_requests_to_one_host(index: Any, fake_time: Any) -> None:
    entry, _ = index.publish("demo", "1.0", filler=200_000, dist_info_first=True)
    index.add_project("demo", [entry])
    with HttpClient(sleep=fake_time.sleep, clock=fake_time.clock) as http:  # default: pypi 1 request/s
        assert isinstance(PypiBuilder(http, index_url=index.url).generate("demo", name="demo"), Recipe)

    requests = 1 + len(index.wheel_requests(entry["filename"]))
    assert requests >= 3
    assert sum(fake_time.sleeps) == pytest.approx(requests - 1)


def test_gui_scripts_and_data_scripts_are_executables(builder: PypiBuilder, index: Any) -> None:
    """pip links gui_scripts and ``.data/scripts`` files into bin/ on Linux: they are commands."""
    entry, _ = index.publish(
        "demo",
        "1.0",
        entry_points="[console_scripts]\ndemo = d:m\ndemo-3.11 = d:m\n[gui_scripts]\ndemo-gui = d:m\n",
        data_scripts={"demo-rs": b"\x7fELF", "demo.bat": b"@echo off", "demo-tool3.12": b"#!/bin/sh\n"},
    )
    index.add_project("demo", [entry])

    recipe = recipe_of(builder.generate("demo", name="demo"))

    # tool-3.11 / tool3.12 exist under that one Python only; .bat never runs on Linux
    assert recipe.steps[0].params["executables"] == ("demo", "demo-gui", "demo-rs")


def test_binary_only_in_data_scripts_is_found(builder: PypiBuilder, index: Any) -> None:
    """ruff/uv-style wheels: a Rust binary in ``.data/scripts/`` and no entry points at all."""
    entry, _ = index.publish(
        "rtool",
        "0.5.0",
        tag="py3-none-manylinux_2_17_x86_64",
        entry_points=None,
        data_scripts={"rtool": b"\x7fELF"},
    )
    index.add_project("rtool", [entry])

    recipe = recipe_of(builder.generate("rtool", name="rtool"))

    assert recipe.steps[0].params["executables"] == ("rtool",)
    assert recipe.verify is not None and recipe.verify.command == "rtool --version"


def test_hostile_data_script_name_fails_the_package(builder: PypiBuilder, index: Any) -> None:
    entry, _ = index.publish("demo", "1.0", data_scripts={"x;rm -rf ~": b"#!/bin/sh\n"})
    index.add_project("demo", [entry])

    failure = failure_of(builder.generate("demo", name="demo"))

    assert failure.subcategory == "binary_discovery_failed"
    assert "'x;rm -rf ~'" in failure.message and ".data/scripts" in failure.message


LINUX_X86_64 = "py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64"


@pytest.mark.parametrize(
    ("tags", "chosen"),
    [
        # sorted by file name, armv6l and win come first: they must not be read
        (
            ["py3-none-linux_armv6l", "py3-none-win_amd64", LINUX_X86_64, "py3-none-macosx_11_0_arm64"],
            LINUX_X86_64,
        ),
        (["py3-none-linux_armv6l", "py3-none-any"], "py3-none-any"),
        (
            ["cp312-abi3-manylinux_2_28_aarch64", "py3-none-musllinux_1_2_x86_64"],
            "py3-none-musllinux_1_2_x86_64",
        ),
        (
            ["cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-win32", "py3-none-any"],
            "cp311-cp311-manylinux_2_17_x86_64",
        ),
    ],
    ids=["manylinux-over-armv6l-win", "any-over-armv6l", "musl-x86_64-over-aarch64", "platform-over-pure"],
)
def test_the_wheel_read_is_the_one_a_linux_x86_64_user_installs(
    builder: PypiBuilder, index: Any, tags: list[str], chosen: str
) -> None:
    """The wheel is chosen by its tags as pip on CPython/Linux x86_64 (glibc) would; the failure
    message names the wheel that was read."""
    entries = [index.publish("demo", "1.0", tag=tag, entry_points="[console_scripts]\n")[0] for tag in tags]
    index.add_project("demo", entries)

    failure = failure_of(builder.generate("demo", name="demo"))

    assert failure.subcategory == "binary_discovery_failed"
    assert failure.message.startswith(f"demo-1.0-{chosen}.whl ")
    read = {name for name, _ in index.range_log}
    assert read == {f"demo-1.0-{chosen}.whl"}


def test_a_newer_release_without_a_linux_wheel_does_not_hide_the_linux_one(
    builder: PypiBuilder, index: Any
) -> None:
    old, _ = index.publish("demo", "1.0", tag=LINUX_X86_64)
    new, _ = index.publish("demo", "2.0", tag="py3-none-win_amd64")
    index.add_project("demo", [old, new])

    recipe_of(builder.generate("demo", name="demo"))

    assert {name for name, _ in index.range_log} == {f"demo-1.0-{LINUX_X86_64}.whl"}


@pytest.mark.parametrize(
    ("project", "action"),
    [("pipx", "pipx_install"), ("PipX", "pipx_install")],
)
def test_a_recipe_for_the_installer_itself_is_installs_itself(
    builder: PypiBuilder, index: Any, project: str, action: str
) -> None:
    entry, _ = index.publish(project, "1.0", entry_points="[console_scripts]\npipx = pipx.main:cli\n")
    index.add_project(project.lower(), [entry])

    failure = failure_of(builder.generate(project, name="pipx"))

    assert (failure.category, failure.subcategory) == ("deterministic_insufficient", "installs_itself")
    assert action in failure.message and project in failure.message
