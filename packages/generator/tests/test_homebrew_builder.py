"""The Homebrew builder against a local formula API + GHCR serving real bottle tarballs."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from generator_helpers import failure_of, recipe_of
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from recipeline_generator import BuilderRegistry, generate_batch
from recipeline_generator.__main__ import main
from recipeline_generator.homebrew import HomebrewBuilder
from recipeline_generator.recipe_index import RecipeIndex
from recipeline_schema import (
    BatchDir,
    BatchPlan,
    GenerationReport,
    Layout,
    PlannedPackage,
    load,
    recipe_from_toml,
    recipe_to_toml,
    save,
)
from recipeline_schema.http import HttpClient, HttpSettings

NOW = dt.datetime(2026, 1, 29, 10, 0, tzinfo=dt.UTC)


def bottle(
    formula: str,
    version: str,
    *,
    bins: tuple[str, ...] = (),
    libs: tuple[str, ...] = (),
    extra: tuple[str, ...] = (),
    symlinks: tuple[tuple[str, str], ...] = (),
) -> bytes:
    """A real bottle: ``<formula>/<version>/bin/*`` files, lib files, extra raw member names."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        root = tarfile.TarInfo(f"{formula}/{version}")
        root.type = tarfile.DIRTYPE
        tar.addfile(root)
        members = [f"{formula}/{version}/bin/{b}" for b in bins]
        members += [f"{formula}/{version}/lib/{lib}" for lib in libs]
        members += [f"{formula}/{version}/INSTALL_RECEIPT.json", *extra]
        for name in members:
            data = b"#!/bin/sh\necho 1.0\n"
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            tar.addfile(info, io.BytesIO(data))
        for name, target in symlinks:
            info = tarfile.TarInfo(f"{formula}/{version}/bin/{name}")
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return buf.getvalue()


@dataclass
class FakeBrew:
    """Formula API under ``/api`` and GHCR's blobs under ``/v2`` on one local server, and a second
    server standing in for GHCR's storage host.

    As GHCR does, a blob request with ``Authorization: Bearer QQ==`` is answered ``307`` with a
    ``Location`` on the storage host (a signed URL); without the token, ``401`` with a
    ``WWW-Authenticate`` challenge. The storage host refuses any request carrying
    ``Authorization`` (``400``, as signed-URL storage does) and records it.
    """

    server: HTTPServer
    storage: HTTPServer
    auth_seen: list[str] = field(default_factory=list)
    storage_auth_seen: list[str] = field(default_factory=list)
    blobs: dict[str, bytes] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return self.server.url_for("/api")

    @property
    def ghcr_url(self) -> str:
        return self.server.url_for("/")

    def publish(
        self,
        formula: str,
        version: str = "1.0",
        *,
        data: bytes | None = None,
        bins: tuple[str, ...] = ("demo",),
        libs: tuple[str, ...] = (),
        deps: list[Any] | None = None,
        bottle_tags: tuple[str, ...] = ("x86_64_linux", "arm64_sonoma"),
        revision: int = 0,
        rebuild: int = 0,
        homepage: str = "https://example.com/demo",
        desc: str = "A demo tool",
        blob: bytes | None = None,
        formula_sha: Any = None,
        extra: dict[str, Any] | None = None,
    ) -> bytes:
        """Serve the formula JSON and its bottle blob; return the bottle bytes."""
        pkg = f"{version}_{revision}" if revision else version
        payload = data if data is not None else bottle(formula, pkg, bins=bins, libs=libs)
        sha = hashlib.sha256(payload).hexdigest()
        repo = formula.replace("@", "/").replace("+", "x")
        cellars = {  # a relocatable bottle says :any / :any_skip_relocation instead of a path
            "x86_64_linux": "/home/linuxbrew/.linuxbrew/Cellar",
            "arm64_sonoma": ":any_skip_relocation",
        }
        files = {
            t: {
                "cellar": cellars.get(t, ":any"),
                "url": f"https://ghcr.invalid/v2/homebrew/core/{repo}/blobs/sha256:{sha}",
                "sha256": sha if formula_sha is None else formula_sha,
            }
            for t in bottle_tags
        }
        # every key of a formula API answer, as recorded ones have them (see the README's
        # "Checked against"): most are lists or null, ``bottle`` is {} without bottles
        doc = {
            "name": formula,
            "full_name": formula,
            "tap": "homebrew/core",
            "oldnames": [],
            "aliases": [],
            "versioned_formulae": [],
            "desc": desc,
            "license": "MIT",
            "homepage": homepage,
            "versions": {"stable": version, "head": None, "bottle": bool(bottle_tags)},
            "urls": {
                "stable": {
                    "url": f"https://example.com/{formula}-{version}.tar.gz",
                    "tag": None,
                    "revision": None,
                    "using": None,
                    "checksum": "d" * 64,
                }
            },
            "revision": revision,
            "version_scheme": 0,
            "bottle": {
                "stable": {
                    "rebuild": rebuild,
                    "root_url": "https://ghcr.invalid/v2/homebrew/core",
                    "files": files,
                }
            }
            if bottle_tags
            else {},
            "pour_bottle_only_if": None,
            "keg_only": False,
            "keg_only_reason": None,
            "options": [],
            "build_dependencies": ["pkgconf"],
            "dependencies": deps or [],
            "test_dependencies": [],
            "recommended_dependencies": [],
            "optional_dependencies": [],
            "uses_from_macos": [],
            "uses_from_macos_bounds": [],
            "requirements": [],
            "conflicts_with": [],
            "conflicts_with_reasons": [],
            "link_overwrite": [],
            "caveats": None,
            "installed": [],
            "linked_keg": None,
            "pinned": False,
            "outdated": False,
            "deprecated": False,
            "deprecation_date": None,
            "deprecation_reason": None,
            "disabled": False,
            "disable_date": None,
            "disable_reason": None,
            "post_install_defined": False,
            "service": None,
            "tap_git_head": "0" * 40,
            "ruby_source_path": f"Formula/{formula[0]}/{formula}.rb",
            "ruby_source_checksum": {"sha256": "e" * 64},
            **(extra or {}),
        }
        self.server.expect_request(f"/api/formula/{formula}.json").respond_with_json(doc)
        self.blobs[sha] = blob if blob is not None else payload
        self.server.expect_request(f"/v2/homebrew/core/{repo}/blobs/sha256:{sha}").respond_with_handler(
            self._blob
        )
        return payload

    def _blob(self, request: Request) -> Response:
        self.auth_seen.append(request.headers.get("Authorization", ""))
        if request.headers.get("Authorization") != "Bearer QQ==":
            challenge = (
                'Bearer realm="https://ghcr.invalid/token",service="ghcr.invalid",scope="repository:x:pull"'
            )
            body = '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
            return Response(
                body, 401, headers={"WWW-Authenticate": challenge}, content_type="application/json"
            )
        sha = request.path.rsplit("sha256:", 1)[1]
        location = (
            self.storage.url_for(f"/ghcr1/blobs/sha256:{sha}") + "?se=2026-12-02T22%3A00%3A00Z&sig=s1gned"
        )
        return Response("", 307, headers={"Location": location}, content_type="text/html; charset=utf-8")

    def _stored(self, request: Request) -> Response:
        if "Authorization" in request.headers:
            self.storage_auth_seen.append(request.headers["Authorization"])
            return Response(
                "<Error><Code>InvalidArgument</Code></Error>", 400, content_type="application/xml"
            )
        data = self.blobs.get(request.path.rsplit("sha256:", 1)[1])
        return Response(data, 200, content_type="application/octet-stream") if data else Response("", 404)


@pytest.fixture
def brew(httpserver: HTTPServer) -> Iterator[FakeBrew]:
    """An empty fake Homebrew API + GHCR, and GHCR's storage host; unknown paths answer 404."""
    httpserver.no_handler_status_code = 404
    storage = HTTPServer(host="127.0.0.1", port=0)
    storage.no_handler_status_code = 404
    storage.start()
    fake = FakeBrew(httpserver, storage)
    storage.expect_request(re.compile(r"^/ghcr1/blobs/sha256:[0-9a-f]{64}$")).respond_with_handler(
        fake._stored
    )
    yield fake
    httpserver.clear()
    storage.clear()
    storage.stop()


def builder_for(http: HttpClient, brew: FakeBrew, **kw: Any) -> HomebrewBuilder:
    return HomebrewBuilder(http, api_url=brew.api_url, ghcr_url=brew.ghcr_url, **kw)


def test_bottle_bin_entries_become_install_binaries_with_dependencies(
    http: HttpClient, brew: FakeBrew
) -> None:
    brew.publish(
        "advancecomp",
        "2.6",
        bins=("advzip", "advdef", "advpng"),
        deps=["zlib", "openssl@3"],
    )
    index = RecipeIndex.of(["zlib", "openssl"], {"openssl": ["openssl@3"]})
    result = recipe_of(builder_for(http, brew, recipes=index).generate("advancecomp", name="advancecomp"))
    text = recipe_to_toml(result)
    assert text == (
        "[metadata]\n"
        'name = "advancecomp"\n'
        'description = "A demo tool"\n'
        'homepage = "https://example.com/demo"\n'
        'dependencies = ["openssl", "zlib"]\n'
        "\n[[steps]]\n"
        'action = "homebrew"\n'
        'formula = "advancecomp"\n'
        "\n[[steps]]\n"
        'action = "install_binaries"\n'
        'binaries = ["bin/advdef", "bin/advpng", "bin/advzip"]\n'
        "\n[verify]\n"
        'command = "advdef --version"\n'
        'pattern = "{version}"\n'
    )
    assert recipe_from_toml(text).actions == ("homebrew", "install_binaries")
    assert brew.auth_seen and set(brew.auth_seen) == {"Bearer QQ=="}


def test_same_upstream_gives_byte_identical_toml(http: HttpClient, brew: FakeBrew) -> None:
    brew.publish("jq", "1.7.1", bins=("jq",))
    builder = builder_for(http, brew)
    first = recipe_to_toml(recipe_of(builder.generate("jq", name="jq")))
    second = recipe_to_toml(recipe_of(builder.generate("jq", name="jq")))
    assert first == second and 'binaries = ["bin/jq"]' in first


def test_symlinked_bin_entries_count_and_revision_rebuild_pick_the_tag(
    http: HttpClient, brew: FakeBrew
) -> None:
    pkg = "3.1_2"
    data = bottle("tool", pkg, bins=("tool",), symlinks=(("tool-alias", "../libexec/tool"),))
    brew.publish("tool", "3.1", data=data, revision=2, rebuild=1)
    result = recipe_of(builder_for(http, brew).generate("tool", name="tool"))
    assert result.steps[1].params["binaries"] == ("bin/tool", "bin/tool-alias")


def test_missing_dependency_recipes_are_missing_dep_with_blocked_by(http: HttpClient, brew: FakeBrew) -> None:
    brew.publish("imagemagick", bins=("magick",), deps=["libpng", "openssl@3", "zlib"])
    builder = builder_for(http, brew, recipes=RecipeIndex.of(["zlib"]))
    fail = failure_of(builder.generate("imagemagick", name="imagemagick"))
    assert (fail.category, fail.subcategory, fail.transient) == ("missing_dep", None, False)
    assert fail.blocked_by == ("libpng", "openssl")
    assert (
        fail.message == "formula imagemagick requires dependencies without tsuku recipes: libpng, openssl@3"
    )


def test_use_recipes_is_how_the_batch_hands_the_index_in(http: HttpClient, brew: FakeBrew) -> None:
    brew.publish("wget", bins=("wget",), deps=["libidn2"])
    builder = builder_for(http, brew)
    assert recipe_of(builder.generate("wget", name="wget")).metadata["dependencies"] == ("libidn2",)
    builder.use_recipes(RecipeIndex.of([]))
    assert failure_of(builder.generate("wget", name="wget")).blocked_by == ("libidn2",)


def test_library_only_formula(http: HttpClient, brew: FakeBrew) -> None:
    brew.publish("gmp", bins=(), libs=("libgmp.so.10", "libgmp.a"))
    fail = failure_of(builder_for(http, brew).generate("gmp", name="gmp"))
    assert (fail.category, fail.subcategory) == ("deterministic_insufficient", "library_only")


def test_no_bin_and_no_library_is_binary_discovery_failed(http: HttpClient, brew: FakeBrew) -> None:
    brew.publish("docs-only", bins=())
    fail = failure_of(builder_for(http, brew).generate("docs-only", name="docs-only"))
    assert fail.subcategory == "binary_discovery_failed"


def test_no_bottle_for_the_target_platform(http: HttpClient, brew: FakeBrew) -> None:
    brew.publish("mac-only", bottle_tags=("arm64_sonoma", "sonoma"))
    fail = failure_of(builder_for(http, brew).generate("mac-only", name="mac-only"))
    assert (fail.category, fail.subcategory) == ("deterministic_insufficient", "no_bottle")
    assert "x86_64_linux" in fail.message and "arm64_sonoma, sonoma" in fail.message


def test_bottle_comes_from_the_formula_sha_through_a_cross_host_redirect(
    http: HttpClient, brew: FakeBrew
) -> None:
    """The formula names the blob: no image index or manifest request; GHCR's 307 to its storage
    host is followed and the storage host never sees the registry's token."""
    brew.publish("jq", "1.7.1", bins=("jq",))
    assert recipe_of(builder_for(http, brew).generate("jq", name="jq")).steps[1].params == {
        "binaries": ("bin/jq",)
    }
    paths = [req.path for req, _ in brew.server.log]
    assert not [p for p in paths if "/manifests/" in p]
    assert len([p for p in paths if "/blobs/" in p]) == 1
    assert [req.path for req, _ in brew.storage.log] == [
        f"/ghcr1/blobs/sha256:{hashlib.sha256(brew.blobs[next(iter(brew.blobs))]).hexdigest()}"
    ]
    assert brew.storage_auth_seen == [] and brew.auth_seen == ["Bearer QQ=="]


@pytest.mark.parametrize(
    ("sha", "bottle_field"),
    [(None, None), ("", "sha256"), ("not-hex", "sha256"), (7, "sha256")],
)
def test_missing_null_or_wrong_typed_bottle_sha_is_bad_response(
    http: HttpClient, brew: FakeBrew, sha: Any, bottle_field: str | None
) -> None:
    if bottle_field is None:  # the key is absent
        doc = {
            "name": "nosha",
            "homepage": "https://example.com/demo",
            "versions": {"stable": "1.0"},
            "bottle": {"stable": {"rebuild": 0, "files": {"x86_64_linux": {"cellar": ":any", "url": "u"}}}},
        }
        brew.server.expect_request("/api/formula/nosha.json").respond_with_json(doc)
    else:
        brew.publish("nosha", formula_sha=sha)
    fail = failure_of(builder_for(http, brew).generate("nosha", name="nosha"))
    assert (fail.category, fail.subcategory) == ("api_error", "bad_response")
    assert "'bottle.stable.files.x86_64_linux.sha256'" in fail.message


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"versions": {"stable": None}}, "versions.stable"),
        ({"versions": {"stable": "1.0"}, "bottle": {"stable": {"files": []}}}, "bottle.stable.files"),
        ({"versions": {"stable": "1.0"}, "revision": "1"}, "revision"),
        (
            {
                "versions": {"stable": "1.0"},
                "bottle": {"stable": {"rebuild": None, "files": {"x86_64_linux": {"sha256": "a" * 64}}}},
                "dependencies": "x",
            },
            "dependencies",
        ),
        (
            {
                "versions": {"stable": "1.0"},
                "bottle": {"stable": {"rebuild": 0, "files": {"x86_64_linux": {"sha256": "a" * 64}}}},
                "uses_from_macos": ["zlib", None],
            },
            "'uses_from_macos[1]'",
        ),
        (
            {
                "versions": {"stable": "1.0"},
                "bottle": {"stable": {"rebuild": 0, "files": {"x86_64_linux": {"sha256": "a" * 64}}}},
                "uses_from_macos": [{"curl": 1}],
            },
            "'uses_from_macos[0]'",
        ),
    ],
)
def test_formula_fields_missing_null_or_wrong_typed(
    http: HttpClient, brew: FakeBrew, doc: dict[str, Any], field: str
) -> None:
    brew.server.expect_request("/api/formula/odd.json").respond_with_json(
        {"name": "odd", "homepage": "https://x.example"} | doc
    )
    fail = failure_of(builder_for(http, brew).generate("odd", name="odd"))
    assert (fail.category, fail.subcategory) == ("api_error", "bad_response")
    assert field in fail.message


def test_target_platform_is_configurable_and_all_bottles_serve_any(http: HttpClient, brew: FakeBrew) -> None:
    brew.publish("mac-tool", bins=("mt",), bottle_tags=("arm64_sonoma",))
    result = builder_for(http, brew, bottle_tag="arm64_sonoma").generate("mac-tool", name="mac-tool")
    assert recipe_of(result).verify is not None
    brew.publish("script-tool", bins=("st",), bottle_tags=("all",), extra={"uses_from_macos": ["ruby"]})
    script = recipe_of(builder_for(http, brew).generate("script-tool", name="st"))
    assert script.verify is not None and script.verify.command == "st --version"
    assert script.metadata["dependencies"] == ("ruby",)  # an `all` bottle on Linux: Linux dependencies


def test_broken_archive_is_archive_extraction_failed(http: HttpClient, brew: FakeBrew) -> None:
    brew.publish("broken", data=b"\x1f\x8b\x08 this is not a gzip stream")
    fail = failure_of(builder_for(http, brew).generate("broken", name="broken"))
    assert (fail.category, fail.subcategory) == ("deterministic_insufficient", "archive_extraction_failed")
    assert "not a readable gzip tarball" in fail.message


def test_member_escaping_the_keg_is_archive_extraction_failed(http: HttpClient, brew: FakeBrew) -> None:
    data = bottle("evil", "1.0", bins=("evil",), extra=("evil/1.0/bin/../../../../etc/passwd",))
    brew.publish("evil", data=data)
    fail = failure_of(builder_for(http, brew).generate("evil", name="evil"))
    assert fail.subcategory == "archive_extraction_failed" and "leaves the keg" in fail.message


def test_hostile_bin_names_never_reach_the_recipe(http: HttpClient, brew: FakeBrew) -> None:
    hostile = ('a"b', "$(rm -rf ~)", "x;y", "new\nline", "'q'", "g[")
    brew.publish("mixed", bins=("good", *hostile))
    text = recipe_to_toml(recipe_of(builder_for(http, brew).generate("mixed", name="mixed")))
    assert 'binaries = ["bin/good"]' in text
    for name in hostile:
        assert name not in text
    brew.publish("only-bad", bins=hostile)
    fail = failure_of(builder_for(http, brew).generate("only-bad", name="only-bad"))
    assert fail.subcategory == "binary_discovery_failed" and "\n" not in fail.message


def test_hostile_formula_and_dependency_names(http: HttpClient, brew: FakeBrew) -> None:
    builder = builder_for(http, brew)
    for name in ("../etc", "a/b/c", "x;rm", "Upper", 'q"', "a\nb", "..", "a..b"):
        assert not builder.can_build(name)
        assert failure_of(builder.generate(name, name="x")).subcategory == "unsupported_source"
    brew.publish("depper", deps=["../../evil"])
    fail = failure_of(builder.generate("depper", name="depper"))
    assert fail.subcategory == "unsupported_source" and "../../evil" in fail.message


def test_digest_mismatch_is_bad_response(http: HttpClient, brew: FakeBrew) -> None:
    brew.publish("tampered", blob=bottle("tampered", "1.0", bins=("other",)))
    fail = failure_of(builder_for(http, brew).generate("tampered", name="tampered"))
    assert (fail.category, fail.subcategory, fail.transient) == ("api_error", "bad_response", True)
    assert "does not match its sha256 digest" in fail.message


def test_unknown_formula_is_not_found_and_http_homepage_fails(http: HttpClient, brew: FakeBrew) -> None:
    fail = failure_of(builder_for(http, brew).generate("nothing", name="nothing"))
    assert (fail.category, fail.subcategory, fail.transient) == ("api_error", "not_found", False)
    assert "127.0.0.1" not in fail.message and "localhost" not in fail.message
    brew.publish("oldweb", homepage="http://example.com/old")  # left out: tsuku's homepage is optional
    assert recipe_of(builder_for(http, brew).generate("oldweb", name="oldweb")).homepage == ""


# --- in a batch: curated routing, the repository's recipes, the report ---------------------------


def test_batch_checks_dependencies_against_the_repository_recipes(
    tmp_path: Path, http: HttpClient, brew: FakeBrew
) -> None:
    repo = tmp_path / "repo"
    layout = Layout(repo)
    for name, body in (
        ("zlib", ""),
        ("openssl", '\n[metadata.satisfies]\nhomebrew = ["openssl@3"]\n'),
    ):
        path = layout.recipe(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'[metadata]\nname = "{name}"\n{body}\n[[steps]]\naction = "homebrew"\n')
    layout.curated.parent.mkdir(parents=True)
    layout.curated.write_text(
        json.dumps({"tool": "fd", "selected": "homebrew:fd", "alternatives": []})
        + "\n"
        + json.dumps({"tool": "hub", "selected": "github:github/hub", "alternatives": []})
        + "\n"
    )
    brew.publish("wget", bins=("wget",), deps=["openssl@3", "zlib"])
    brew.publish("imagemagick", bins=("magick", "convert"), deps=["libpng", "zlib"])
    brew.publish("fd", bins=("fd",))
    batch_dir = tmp_path / "build" / "batches" / "2026-01-29-001"
    plan = BatchPlan(
        schema_version=1,
        batch_id="2026-01-29-001",
        ecosystem="homebrew",
        created_at=NOW,
        tier=2,
        packages=(
            PlannedPackage("wget", "homebrew:wget"),
            PlannedPackage("imagemagick", "homebrew:imagemagick"),
            PlannedPackage("fd", "cargo:fd-find"),  # curated -> homebrew:fd
            PlannedPackage("hub", "homebrew:hub"),  # curated -> github: skipped
            PlannedPackage("iterm2", "cask:iterm2"),  # no cask builder in this registry: skipped
            PlannedPackage("tap-tool", "homebrew:org/tap/tool"),  # tap path: not handled
        ),
    )
    save(plan, BatchDir(batch_dir).plan)
    builders = BuilderRegistry([builder_for(http, brew, now=lambda: NOW)])

    report = generate_batch(batch_dir, repo, builders, now=lambda: NOW)

    rows = {p.name: p for p in report.packages}
    assert {n: p.outcome for n, p in rows.items()} == {
        "wget": "generated",
        "imagemagick": "failed",
        "fd": "generated",
        "hub": "skipped",
        "iterm2": "skipped",
        "tap-tool": "skipped",
    }
    assert sum(p.override for p in report.packages) == 2
    assert (rows["fd"].resolved_source, rows["fd"].override) == ("homebrew:fd", True)
    assert rows["hub"].reason.startswith("github:")
    assert "no deterministic builder for 'cask'" in rows["iterm2"].reason
    assert "does not handle 'org/tap/tool'" in rows["tap-tool"].reason
    wget = recipe_from_toml((batch_dir / "recipes" / "wget.toml").read_text())
    assert wget.metadata["dependencies"] == ["openssl", "zlib"]
    magick = rows["imagemagick"].failure
    assert magick is not None
    assert (magick.package_id, magick.category, magick.blocked_by) == (
        "homebrew:imagemagick",
        "missing_dep",
        ("libpng",),
    )
    assert load(GenerationReport, BatchDir(batch_dir).generation) == report
    assert sorted(p.name for p in (batch_dir / "recipes").iterdir()) == ["fd.toml", "wget.toml"]


def test_cli_generates_one_homebrew_recipe_with_overridden_endpoints(
    http: HttpClient, brew: FakeBrew, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    brew.publish("jq", "1.7.1", bins=("jq",), bottle_tags=("arm64_sonoma",))
    monkeypatch.setenv("RECIPELINE_HOMEBREW_URL", brew.api_url)
    monkeypatch.setenv("RECIPELINE_GHCR_URL", brew.ghcr_url)
    monkeypatch.delenv("RECIPELINE_TSUKU", raising=False)
    rate = ["--rate-limit", "homebrew=1000/1"]

    assert main(["--from", "homebrew:jq", *rate]) == 1
    assert "deterministic_insufficient/no_bottle" in capsys.readouterr().err
    assert main(["--from", "homebrew:jq", "--bottle-tag", "arm64_sonoma", *rate]) == 0
    assert 'binaries = ["bin/jq"]' in capsys.readouterr().out
    assert main(["--from", "homebrew:jq", "--bottle-tag", "x86;64", *rate]) == 64  # usage
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--bottle-tag" in err


# --- registry faults and hostile text ---------------------------------------------------------


def _slow(_request: Request) -> Response:
    time.sleep(0.6)
    return Response("{}", 200, content_type="application/json")


@pytest.mark.parametrize(
    ("respond", "subcategory"),
    [
        (lambda r: Response("slow down", 429, headers={"Retry-After": "3600"}), "rate_limited"),
        (lambda r: Response("down", 503), "upstream_unavailable"),
        (lambda r: Response("<html>", 200, content_type="text/html"), "bad_response"),
        (lambda r: Response('{"name": "cut', 200, content_type="application/json"), "bad_response"),
        (lambda r: Response("[1, 2]", 200, content_type="application/json"), "bad_response"),
        (_slow, "timeout"),
    ],
)
def test_registry_faults_end_as_api_error_records(
    brew: FakeBrew, fake_time: Any, respond: Any, subcategory: str
) -> None:
    brew.server.expect_request("/api/formula/faulty.json").respond_with_handler(respond)
    settings = HttpSettings(connect_timeout=1.0, read_timeout=0.3, max_attempts=2)
    with HttpClient(settings, sleep=fake_time.sleep, clock=fake_time.clock) as client:
        fail = failure_of(builder_for(client, brew).generate("faulty", name="faulty"))
    assert (fail.category, fail.subcategory) == ("api_error", subcategory)
    assert fail.transient is True and fail.message.startswith("formula faulty:")


def test_hostile_description_is_one_escaped_line(http: HttpClient, brew: FakeBrew) -> None:
    brew.publish("quoting", bins=("quoting",), desc='line one\nline "two" $(rm -rf ~) \\ [x]\x07')
    text = recipe_to_toml(recipe_of(builder_for(http, brew).generate("quoting", name="quoting")))
    parsed = recipe_from_toml(text)
    assert parsed.description == 'line one line "two" $(rm -rf ~) \\ [x]'
    assert text.count("\n[") == 3  # metadata, two steps, verify: no injected tables


def test_linux_dependencies_include_uses_from_macos_and_platform_variations(
    http: HttpClient, brew: FakeBrew
) -> None:
    extra = {
        "uses_from_macos": ["zlib", {"curl": "build"}, {"libxml2": ["build", "test"]}],
        "uses_from_macos_bounds": [{"since": None}, {"since": "catalina"}, {}],
        "variations": {
            "x86_64_linux": {"dependencies": ["libidn2", "openssl@3"]},
            "arm64_sonoma": {"dependencies": ["libidn2"]},
        },
    }
    brew.publish("wget", bins=("wget",), deps=["libidn2", "openssl@3", "gettext"], extra=extra)
    linux = recipe_of(builder_for(http, brew).generate("wget", name="wget"))
    assert linux.metadata["dependencies"] == ("libidn2", "openssl", "zlib")
    mac = recipe_of(builder_for(http, brew, bottle_tag="arm64_sonoma").generate("wget", name="wget"))
    assert mac.metadata["dependencies"] == ("libidn2",)
