"""The Cask builder against a local Homebrew cask API serving the documented JSON."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from recipeline_generator.__main__ import main
from recipeline_generator.cask import CaskBuilder
from recipeline_schema import Failure, Recipe, recipe_from_toml, recipe_to_toml
from recipeline_schema.http import HttpClient

FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "tsuku" / "recipes"


def cask_doc(token: str, artifacts: list[Any], **extra: Any) -> dict[str, Any]:
    """A ``/api/cask/<token>.json`` answer with the fields the cask API sends (the shape of
    Homebrew/brew's own test fixtures ``test/support/fixtures/cask/everything*.json``):
    ``uninstall``/``zap`` artifacts are lists of objects, ``depends_on.macos`` versions strings,
    per-platform ``variations`` override the download only."""
    doc: dict[str, Any] = {
        "token": token,
        "full_token": token,
        "old_tokens": [],
        "tap": "homebrew/cask",
        "name": ["iTerm2"],
        "desc": "Terminal emulator as alternative to Apple's Terminal app",
        "homepage": "https://iterm2.com/",
        "url": "https://iterm2.com/downloads/stable/iTerm2-3_5_10.zip",
        "url_specs": {},
        "version": "3.5.10",
        "autobump": True,
        "no_autobump_message": None,
        "skip_livecheck": False,
        "installed": None,
        "installed_time": None,
        "bundle_version": None,
        "bundle_short_version": None,
        "outdated": False,
        "sha256": "a" * 64,
        "artifacts": artifacts,
        "caveats": None,
        "depends_on": {"macos": {">=": ["12"]}},
        "conflicts_with": None,
        "container": None,
        "auto_updates": True,
        "deprecated": False,
        "deprecation_date": None,
        "deprecation_reason": None,
        "disabled": False,
        "disable_date": None,
        "disable_reason": None,
        "tap_git_head": "0" * 40,
        "languages": [],
        "ruby_source_path": f"Casks/{token[0]}/{token}.rb",
        "ruby_source_checksum": {"sha256": "b" * 64},
        "variations": {
            "sonoma": {
                "url": "https://iterm2.com/downloads/stable/iTerm2-3_5_10-intel.zip",
                "sha256": "c" * 64,
            }
        },
    }
    doc.update(extra)
    return doc


@pytest.fixture
def casks(httpserver: HTTPServer) -> Iterator[HTTPServer]:
    """A local cask API (``/api/cask/<token>.json``); unknown tokens answer 404."""
    httpserver.no_handler_status_code = 404
    yield httpserver
    httpserver.clear()


def serve(server: HTTPServer, doc: dict[str, Any]) -> None:
    server.expect_request(f"/api/cask/{doc['token']}.json").respond_with_json(doc)


def build(http: HttpClient, server: HTTPServer, token: str, name: str | None = None) -> Recipe | Failure:
    return CaskBuilder(http, api_url=server.url_for("/api")).generate(token, name=name or token)


def test_app_cask_gives_the_iterm2_shape(http: HttpClient, casks: HTTPServer) -> None:
    serve(casks, cask_doc("iterm2", [{"app": ["iTerm.app"]}, {"zap": [{"trash": ["~/Library/x"]}]}]))
    result = build(http, casks, "iterm2")
    assert isinstance(result, Recipe)
    text = recipe_to_toml(result)
    assert text == (
        "[metadata]\n"
        'name = "iterm2"\n'
        'description = "Terminal emulator as alternative to Apple\'s Terminal app"\n'
        'homepage = "https://iterm2.com/"\n'
        'supported_os = ["darwin"]\n'
        "\n[version]\n"
        'cask = "iterm2"\n'
        'source = "cask"\n'
        "\n[[steps]]\n"
        'action = "app_bundle"\n'
        'url = "{version.url}"\n'
        'checksum = "{version.checksum}"\n'
        'app_name = "iTerm.app"\n'
        "\n[verify]\n"
        'command = "test -d $TSUKU_HOME/apps/iterm2-*.app"\n'
        'mode = "output"\n'
        'reason = "macOS applications do not have version flags; verification checks that the .app bundle '
        'was installed"\n'
    )
    assert text == recipe_to_toml(build(http, casks, "iterm2"))  # type: ignore[arg-type]


def test_matches_the_real_iterm2_recipe(http: HttpClient, casks: HTTPServer) -> None:
    real = FIXTURES / "i" / "iterm2.toml"
    if not real.is_file():
        pytest.skip(f"tsuku fixtures not present at {FIXTURES}")
    serve(casks, cask_doc("iterm2", [{"app": ["iTerm.app"]}]))
    ours = build(http, casks, "iterm2")
    assert isinstance(ours, Recipe)
    theirs = recipe_from_toml(real.read_text(), str(real))
    assert ours.steps[0].action == theirs.steps[0].action == "app_bundle"
    assert ours.steps[0].params == theirs.steps[0].params
    assert ours.version == theirs.version
    assert ours.metadata["supported_os"] == tuple(theirs.metadata["supported_os"])
    assert ours.verify == theirs.verify


def test_binary_artifacts_inside_the_app_and_verify_by_binary(http: HttpClient, casks: HTTPServer) -> None:
    artifacts = [
        {"app": ["Visual Studio Code.app"]},
        {"binary": ["$APPDIR/Visual Studio Code.app/Contents/Resources/app/bin/code", {"target": "code"}]},
        {"uninstall": [{"quit": "com.microsoft.VSCode"}]},
    ]
    serve(casks, cask_doc("visual-studio-code", artifacts, desc="Open-source code editor"))
    result = build(http, casks, "visual-studio-code", "code")
    assert isinstance(result, Recipe)
    assert result.steps[0].params["binaries"] == ("Contents/Resources/app/bin/code",)
    assert result.steps[0].params["app_name"] == "Visual Studio Code.app"
    assert result.verify is not None and result.verify.command == "code --version"


@pytest.mark.parametrize(
    "kind",
    [
        "pkg",
        "installer",
        "preflight",
        "postflight",
        "uninstall_postflight",
        "preflight_steps",
        "postflight_steps",
        "uninstall_preflight_steps",
        "shim_script",
    ],
)
def test_installers_and_scripts_are_refused(http: HttpClient, casks: HTTPServer, kind: str) -> None:
    # the API serializes a Ruby block as null, a *_steps block as its list of steps, an installer
    # script and a shim script as Homebrew/brew's cask fixtures have them
    value: Any = ["Install.pkg"] if kind == "pkg" else None
    if kind.endswith("_steps"):
        value = [{"symlink": ["share/x", "x"], "source_base": "staged_path"}, {"run": "/usr/bin/true"}]
    if kind == "installer":
        value = [{"script": {"executable": "Risky.app/install.sh", "args": ["--silent"], "sudo": True}}]
    if kind == "shim_script":
        value = ["Risky.app/Contents/MacOS/Risky", {"target": "riskyctl", "args": ["--cli"]}]
    serve(casks, cask_doc("risky", [{"app": ["Risky.app"]}, {kind: value}]))
    result = build(http, casks, "risky")
    assert isinstance(result, Failure)
    assert (result.category, result.subcategory) == ("deterministic_insufficient", "unsupported_source")
    assert kind in result.message


@pytest.mark.parametrize(
    ("depends_on", "arch"),
    [
        ({"macos": {">=": ["12"]}}, None),
        ({"macos": {">=": ["ventura"]}}, None),  # some answers name the release
        ({"macos": {">=": ["10.15"]}, "arch": [{"type": "arm", "bits": 64}]}, ("arm64",)),
        ({"arch": [{"type": "intel", "bits": 64}]}, ("amd64",)),
        (None, None),
        ({}, None),
    ],
)
def test_depends_on_arch_is_carried_and_a_met_minimum_macos_is_fine(
    http: HttpClient, casks: HTTPServer, depends_on: Any, arch: tuple[str, ...] | None
) -> None:
    serve(casks, cask_doc("limited", [{"app": ["Limited.app"]}], depends_on=depends_on))
    result = build(http, casks, "limited")
    assert isinstance(result, Recipe), result
    assert result.metadata.get("supported_arch") == arch
    text = recipe_to_toml(result)
    assert ("supported_arch" in text) == (arch is not None)


@pytest.mark.parametrize(
    "macos",
    [{"<=": ["13"]}, {"<": ["14"]}, {"==": ["13", "14"]}, {">=": ["26"]}, {">": ["15"]}, {">=": ["tahoe"]}],
)
def test_macos_limits_a_recipe_cannot_express_are_refused(
    http: HttpClient, casks: HTTPServer, macos: dict[str, list[str]]
) -> None:
    serve(casks, cask_doc("old-mac", [{"app": ["Old.app"]}], depends_on={"macos": macos}))
    result = build(http, casks, "old-mac")
    assert isinstance(result, Failure)
    assert (result.category, result.subcategory) == ("deterministic_insufficient", "unsupported_source")
    assert "a recipe cannot express a macOS version limit" in result.message
    assert next(iter(macos)) in result.message


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"depends_on": "macos"}, "'depends_on'"),
        ({"depends_on": {"macos": ">= 12"}}, "'depends_on.macos'"),
        ({"depends_on": {"macos": {">=": [12]}}}, "'depends_on.macos.>='"),
        ({"depends_on": {"macos": {">=": None}}}, "'depends_on.macos.>='"),
        ({"depends_on": {"arch": "arm64"}}, "'depends_on.arch'"),
        ({"depends_on": {"arch": [{"type": "arm", "bits": None}]}}, "'depends_on.arch[0]'"),
        ({"depends_on": {"arch": [{"type": "ppc", "bits": 32}]}}, "'depends_on.arch[0]'"),
        ({"artifacts": None}, "'artifacts'"),
        ({"rename": {"from": "A.app", "to": "B.app"}}, "'rename'"),
        # the kind-less form of formulae.brew.sh's 2022 API sample (cask_docker.md)
        (
            {"artifacts": [{"quit": "com.x"}, ["Odd.app"], ["/Applications/Odd.app/x", {"target": "y"}]]},
            "'artifacts[1]'",
        ),
        ({"artifacts": {"app": ["X.app"]}}, "'artifacts'"),
    ],
)
def test_missing_null_or_wrong_typed_cask_fields_are_bad_response(
    http: HttpClient, casks: HTTPServer, doc: dict[str, Any], field: str
) -> None:
    serve(casks, cask_doc("odd", [{"app": ["Odd.app"]}]) | doc)
    result = build(http, casks, "odd")
    assert isinstance(result, Failure)
    assert (result.category, result.subcategory) == ("api_error", "bad_response")
    assert field in result.message


def test_a_rename_of_the_download_is_refused(http: HttpClient, casks: HTTPServer) -> None:
    renamed = [{"from": "Risky-*.app", "to": "Risky.app"}]
    serve(casks, cask_doc("renamed", [{"app": ["Risky.app"]}], rename=renamed))
    serve(casks, cask_doc("plain", [{"app": ["Plain.app"]}], rename=[]))
    result = build(http, casks, "renamed")
    assert isinstance(result, Failure)
    assert (result.category, result.subcategory) == ("deterministic_insufficient", "unsupported_source")
    assert "renames" in result.message
    assert isinstance(build(http, casks, "plain"), Recipe)


def test_no_app_or_binary_and_several_apps_are_refused(http: HttpClient, casks: HTTPServer) -> None:
    serve(casks, cask_doc("font-x", [{"font": ["X.ttf"]}]))
    serve(casks, cask_doc("suite", [{"app": ["A.app"]}, {"app": ["B.app"]}]))
    for token in ("font-x", "suite"):
        result = build(http, casks, token)
        assert isinstance(result, Failure) and result.subcategory == "unsupported_source"


@pytest.mark.parametrize(
    "artifacts",
    [
        [{"app": ['Evil".app']}],
        [{"app": ["$(touch x).app"]}],
        [{"app": ["A.app"]}, {"binary": ["$APPDIR/A.app/Contents/../../../../bin/sh"]}],
        [{"binary": ["/usr/local/bin/tool"]}],
        [{"binary": ["bin/to;ol"]}],
        [{"binary": ["bin/new\nline"]}],
        [{"binary": ["bin/'quoted'"]}],
    ],
)
def test_hostile_artifact_names_never_reach_a_recipe(
    http: HttpClient, casks: HTTPServer, artifacts: list[Any]
) -> None:
    serve(casks, cask_doc("hostile", artifacts))
    result = build(http, casks, "hostile")
    assert isinstance(result, Failure)
    assert (result.category, result.subcategory) == ("deterministic_insufficient", "binary_discovery_failed")
    assert "\n" not in result.message


def test_hostile_tokens_are_not_requested(http: HttpClient, casks: HTTPServer) -> None:
    builder = CaskBuilder(http, api_url=casks.url_for("/api"))
    for token in ("../x", "a/b", "x y", "X", "a;b", 'a"b'):
        assert not builder.can_build(token)
        result = builder.generate(token, name="x")
        assert isinstance(result, Failure) and result.subcategory == "unsupported_source"
    assert len(casks.log) == 0


def test_unknown_cask_and_bad_json(http: HttpClient, casks: HTTPServer) -> None:
    result = build(http, casks, "nothing")
    assert isinstance(result, Failure) and (result.category, result.subcategory) == ("api_error", "not_found")
    casks.expect_request("/api/cask/weird.json").respond_with_json({"token": "weird", "artifacts": "nope"})
    result = build(http, casks, "weird")
    assert isinstance(result, Failure) and (result.category, result.subcategory) == (
        "api_error",
        "bad_response",
    )


def test_cli_from_cask_writes_the_recipe(
    casks: HTTPServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    serve(casks, cask_doc("iterm2", [{"app": ["iTerm.app"]}]))
    monkeypatch.setenv("RECIPELINE_HOMEBREW_URL", casks.url_for("/api"))
    monkeypatch.delenv("RECIPELINE_TSUKU", raising=False)
    out = tmp_path / "iterm2.toml"
    assert main(["--from", "cask:iterm2", "--output", str(out), "--rate-limit", "cask=1000/1"]) == 0
    assert recipe_from_toml(out.read_text()).version == {"source": "cask", "cask": "iterm2"}
    assert capsys.readouterr().err == ""
