"""Every result records the version installed and, when the registry's newest is another one,
the newest and why it was not installed (a pass with a recorded skew, not hidden).

npm skips a latest whose ``engines.node`` this node does not satisfy; pip skips a release whose
Requires-Python excludes this interpreter. Both against local registries built here.
"""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from registries.npm import build_npm_tarball
from validator_helpers import PIP_ISOLATED_ENV, build_wheel, npm_recipe, recipe_toml

from recipeline_schema import RecipeResult, parse_environment
from recipeline_validator import (
    Isolation,
    Limits,
    NativeOptions,
    PipSource,
    RecipeInput,
    RunSettings,
    find_npm_tools,
    validate_all,
)

ENV = parse_environment("linux-debian-glibc-x86_64")
NOW = dt.datetime(2026, 1, 29, 10, 0, tzinfo=dt.UTC)
NPM_TOOLS = find_npm_tools()

VERSION_SOURCE = """
    import importlib.metadata

    def main():
        print("skewtool", importlib.metadata.version("skewpkg"))
"""
NPM_CLI = """
    #!/usr/bin/env node
    console.log("npmskew " + require("./package.json").version);
"""


def _node_version() -> str:
    assert NPM_TOOLS is not None
    done = subprocess.run(
        [NPM_TOOLS.node, "--version"], capture_output=True, text=True, timeout=30, check=True
    )
    return done.stdout.strip().removeprefix("v")


@pytest.fixture(scope="module")
def npm_skew_registry() -> Iterator[str]:
    """``npmskew``: 1.0.0 for any node, and a latest 2.0.0 that needs node >=99."""
    import base64
    import hashlib

    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    base = server.url_for("/").rstrip("/")
    versions: dict[str, object] = {}
    for version, engines in (("1.0.0", None), ("2.0.0", {"node": ">=99"})):
        manifest: dict[str, object] = {"name": "npmskew", "version": version, "bin": {"npmskew": "cli.js"}}
        if engines:
            manifest["engines"] = engines
        tarball = build_npm_tarball(manifest, {"cli.js": NPM_CLI}, executable=("cli.js",))
        path = f"/tarballs/npmskew-{version}.tgz"
        server.expect_request(path).respond_with_data(tarball, content_type="application/octet-stream")
        integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
        versions[version] = manifest | {"dist": {"tarball": base + path, "integrity": integrity}}
    document = {"name": "npmskew", "dist-tags": {"latest": "2.0.0"}, "versions": versions}
    server.expect_request("/npmskew").respond_with_json(document)
    yield base + "/"
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture(scope="module")
def results(
    tmp_path_factory: pytest.TempPathFactory, isolation: Isolation, npm_skew_registry: str
) -> dict[str, RecipeResult]:
    wheels = tmp_path_factory.mktemp("version-wheels")
    build_wheel(wheels, "skewpkg", "1.0.0", module_source=VERSION_SOURCE, scripts={"skewtool": "main"})
    build_wheel(
        wheels,
        "skewpkg",
        "2.0.0",
        module_source=VERSION_SOURCE,
        scripts={"skewtool": "main"},
        requires_python=">=99",
    )
    build_wheel(wheels, "evenpkg", "3.1.0", module_source=VERSION_SOURCE.replace("skewpkg", "evenpkg"),
                scripts={"eventool": "main"})  # fmt: skip
    scenarios = {
        "pip-skew": recipe_toml(
            "pip-skew", "skewpkg", ["skewtool"], "skewtool", pattern="skewtool {version}"
        ),
        "pip-even": recipe_toml("pip-even", "evenpkg", ["eventool"], "eventool", pattern="{version}"),
    }
    if NPM_TOOLS is not None:
        scenarios["npm-skew"] = npm_recipe("npm-skew", "npmskew", ["npmskew"], "npmskew", "npmskew {version}")
    options = NativeOptions(
        isolation=isolation,
        limits=Limits(timeout=20, install_timeout=120),
        source=PipSource(find_links=(str(wheels),)),
        caller_env=PIP_ISOLATED_ENV | {"HOME": str(tmp_path_factory.mktemp("home"))},
        npm_registry=npm_skew_registry,
    )
    work = tmp_path_factory.mktemp("version-prefixes")
    settings = RunSettings(native=options, workers=3, work_root=work, now=lambda: NOW)
    items = [RecipeInput(name, f"pypi:{name}", text, f"{name}.toml") for name, text in scenarios.items()]
    return {r.name: r for r in validate_all(items, ENV, settings)}


def test_pip_records_a_newest_release_this_python_cannot_install(results: dict[str, RecipeResult]) -> None:
    result = results["pip-skew"]
    assert result.outcome == "pass", result
    assert (result.installed_version, result.latest_version) == ("1.0.0", "2.0.0")
    python = platform.python_version()
    note = f"installed 1.0.0, not the newest 2.0.0: 2.0.0 requires Python >=99, this interpreter is {python}"
    assert note in result.reason


def test_pip_records_the_newest_when_it_is_the_one_installed(results: dict[str, RecipeResult]) -> None:
    result = results["pip-even"]
    assert result.outcome == "pass", result
    assert (result.installed_version, result.latest_version) == ("3.1.0", "3.1.0")
    assert "not the newest" not in result.reason


@pytest.mark.skipif(NPM_TOOLS is None, reason="npm or node not found on PATH")
def test_npm_records_a_latest_this_node_cannot_run(results: dict[str, RecipeResult]) -> None:
    result = results["npm-skew"]
    assert result.outcome == "pass", result
    assert (result.installed_version, result.latest_version) == ("1.0.0", "2.0.0")
    note = (
        f"installed 1.0.0, not the latest 2.0.0: 2.0.0 needs node >=99, this host has node {_node_version()}"
    )
    assert note in result.reason
    assert result.toolchain["node"] == _node_version()
