"""A batch over cargo, npm, RubyGems and Go sources on one local server: routing, files, determinism."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import re
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from recipeline_generator import (
    BuilderRegistry,
    CargoBuilder,
    GoBuilder,
    NpmBuilder,
    RubygemsBuilder,
    default_registry,
    generate_batch,
)
from recipeline_generator.batch import reclassify_rejected
from recipeline_schema import (
    BatchDir,
    BatchPlan,
    Failure,
    GeneratedPackage,
    GenerationReport,
    Layout,
    PlannedPackage,
    Recipe,
    load,
    save,
)
from recipeline_schema.http import HttpClient

NOW = dt.datetime(2026, 1, 29, 10, 0, tzinfo=dt.UTC)


def gem_file(name: str, executables: list[str]) -> bytes:
    """A ``.gem`` tar whose ``metadata.gz`` is a Psych-style gemspec."""
    spec = f"--- !ruby/object:Gem::Specification\nname: {name}\nexecutables:\n"
    spec += "".join(f"- {exe}\n" for exe in executables) + "extensions: []\n"
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        payload = gzip.compress(spec.encode(), mtime=0)
        info = tarfile.TarInfo("metadata.gz")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    return out.getvalue()


def go_zip(module: str, version: str, mains: list[str]) -> bytes:
    """A module zip with a ``package main`` in each of ``mains`` (``""`` = the root)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{module}@{version}/go.mod", f"module {module}\n")
        for directory in mains:
            path = f"{directory}/main.go" if directory else "main.go"
            zf.writestr(f"{module}@{version}/{path}", "package main\n\nfunc main() {}\n")
    return buf.getvalue()


@pytest.fixture
def upstream(httpserver: HTTPServer) -> Iterator[HTTPServer]:
    """One local server playing crates.io, an npm registry, RubyGems and a Go proxy."""
    s = httpserver
    s.no_handler_status_code = 404
    s.expect_request("/cargo/crates/ripgrep").respond_with_json(
        {
            "crate": {
                "name": "ripgrep",
                "description": "line-oriented search",
                "homepage": "https://rg.example",
            },
            "versions": [{"num": "14.1.1", "yanked": False, "bin_names": ["rg"], "has_lib": False}],
        }
    )
    s.expect_request("/cargo/crates/serde").respond_with_json(
        {
            "crate": {"name": "serde", "repository": "https://serde.example"},
            "versions": [{"num": "1.0.0", "yanked": False, "bin_names": [], "has_lib": True}],
        }
    )
    s.expect_request("/npm/@acme/cli").respond_with_json(
        {
            "name": "@acme/cli",
            "dist-tags": {"latest": "1.0.0"},
            "versions": {
                "1.0.0": {
                    "bin": {"acme": "a.js", "acme-dev": "d.js"},
                    "description": "Acme",
                    "repository": "github:acme/cli",
                }
            },
        }
    )
    s.expect_request("/npm/evil").respond_with_json(
        {
            "name": "evil",
            "dist-tags": {"latest": "1.0.0"},
            "versions": {"1.0.0": {"bin": {"../../../../bin/sh": "x.js"}, "homepage": "https://e.example"}},
        }
    )
    s.expect_request("/gems/api/v1/gems/rake.json").respond_with_json(
        {
            "name": "rake",
            "version": "13.2.1",
            "platform": "ruby",
            "info": "Make-like",
            "homepage_uri": "https://rake.example",
        }
    )
    s.expect_request("/gems/rake-13.2.1.gem").respond_with_data(gem_file("rake", ["rake"]))
    s.expect_request("/go/mvdan.cc/gofumpt/@latest").respond_with_json({"Version": "v0.7.0"})
    s.expect_request("/go/mvdan.cc/gofumpt/@v/v0.7.0.zip").respond_with_data(
        go_zip("mvdan.cc/gofumpt", "v0.7.0", [""])
    )
    yield s
    s.clear()


PLAN = (
    ("rg", "cargo:ripgrep"),  # the queue name differs from the crate
    ("serde", "crates.io:serde"),  # alias of cargo; library -> failed
    ("acme", "npm:@acme/cli"),
    ("evil", "npm:evil"),  # hostile bin name -> failed, nothing written
    ("rake", "rubygems:rake"),
    ("gofumpt", "go:mvdan.cc/gofumpt"),
    ("gone", "go:example.com/nothing/here"),  # api_error/not_found
)


def fixed() -> dt.datetime:
    return NOW


def registry(http: HttpClient, server: HTTPServer) -> BuilderRegistry:
    return BuilderRegistry(
        [
            CargoBuilder(http, api_url=server.url_for("/cargo"), now=fixed),
            NpmBuilder(http, registry_url=server.url_for("/npm/"), now=fixed),
            RubygemsBuilder(http, api_url=server.url_for("/gems/api/v1"), now=fixed),
            GoBuilder(http, proxy_url=server.url_for("/go"), now=fixed),
        ]
    )


def run(tmp_path: Path, label: str, http: HttpClient, server: HTTPServer) -> tuple[Path, GenerationReport]:
    batch_dir = tmp_path / label
    plan = BatchPlan(
        schema_version=1,
        batch_id="2026-01-29-001",
        ecosystem="cargo",
        created_at=NOW,
        tier=2,
        packages=tuple(PlannedPackage(name, source) for name, source in PLAN),
    )
    save(plan, BatchDir(batch_dir).plan)
    repo = tmp_path / "repo"
    Layout(repo).curated.parent.mkdir(parents=True, exist_ok=True)
    Layout(repo).curated.write_text("")
    return batch_dir, generate_batch(batch_dir, repo, registry(http, server), now=lambda: NOW)


def test_batch_writes_recipes_and_failures_for_every_registry(
    tmp_path: Path, http: HttpClient, upstream: HTTPServer
) -> None:
    batch_dir, report = run(tmp_path, "a", http, upstream)

    outcomes = {p.name: (p.outcome, p.failure.subcategory if p.failure else None) for p in report.packages}
    assert outcomes == {
        "rg": ("generated", None),
        "serde": ("failed", "library_only"),
        "acme": ("generated", None),
        "evil": ("failed", "binary_discovery_failed"),
        "rake": ("generated", None),
        "gofumpt": ("generated", None),
        "gone": ("failed", "not_found"),
    }
    failures = {p.name: p.failure for p in report.packages if p.failure}
    assert failures["serde"].package_id == "crates.io:serde"  # the queue's key (§3.1)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == [
        "a/generation.json",
        "a/manifest.json",
        "a/recipes/acme.toml",
        "a/recipes/gofumpt.toml",
        "a/recipes/rake.toml",
        "a/recipes/rg.toml",
        "repo/data/disambiguations/curated.jsonl",
    ]
    assert load(GenerationReport, BatchDir(batch_dir).generation) == report
    assert 'crate = "ripgrep"' in (batch_dir / "recipes" / "rg.toml").read_text()


def test_every_fixture_generated_twice_gives_the_same_bytes(
    tmp_path: Path, http: HttpClient, upstream: HTTPServer
) -> None:
    first, report_a = run(tmp_path, "a", http, upstream)
    second, report_b = run(tmp_path, "b", http, upstream)

    names = sorted(p.name for p in (first / "recipes").iterdir())
    assert names == sorted(p.name for p in (second / "recipes").iterdir()) and len(names) == 4
    for name in names:
        assert (first / "recipes" / name).read_bytes() == (second / "recipes" / name).read_bytes(), name
    reports = [json.loads(BatchDir(d).generation.read_text()) for d in (first, second)]
    for data in reports:
        del data["duration_seconds"]  # wall time of the run, the one field allowed to differ
    assert reports[0] == reports[1]
    assert report_a.packages == report_b.packages


def test_default_registry_has_the_four_registry_builders(http: HttpClient) -> None:
    builders = default_registry(http, index_url="http://127.0.0.1:9/simple/")

    for ecosystem, kind in (
        ("cargo", CargoBuilder),
        ("npm", NpmBuilder),
        ("rubygems", RubygemsBuilder),
        ("go", GoBuilder),
    ):
        assert isinstance(builders.get(ecosystem), kind)


def test_default_registry_takes_every_base_url_from_the_environment(
    http: HttpClient, upstream: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECIPELINE_CARGO_URL", upstream.url_for("/cargo"))
    monkeypatch.setenv("RECIPELINE_RUBYGEMS_URL", upstream.url_for("/gems/api/v1/"))
    monkeypatch.setenv("RECIPELINE_GO_URL", upstream.url_for("/go"))
    monkeypatch.setenv("npm_config_registry", upstream.url_for("/npm"))  # npm's own setting
    builders = default_registry(http, index_url="http://127.0.0.1:9/simple/")

    for source, name in (
        ("cargo:ripgrep", "rg"),
        ("npm:@acme/cli", "acme"),
        ("rubygems:rake", "rake"),
        ("go:mvdan.cc/gofumpt", "gofumpt"),
    ):
        ecosystem, _, identifier = source.partition(":")
        builder = builders.get(ecosystem)
        assert builder is not None
        result = builder.generate(identifier, name=name)
        assert isinstance(result, Recipe), (source, result)


def _server_error(_request: Request) -> Response:
    return Response('{"errors":[{"detail":"Internal Server Error"}]}', 500, content_type="application/json")


def _batch(
    tmp_path: Path, http: HttpClient, server: HTTPServer, plan: tuple[tuple[str, str], ...]
) -> GenerationReport:
    batch_dir = tmp_path / "batch"
    packages = tuple(PlannedPackage(name, source) for name, source in plan)
    save(BatchPlan(1, "2026-01-29-002", "cargo", NOW, 2, packages), BatchDir(batch_dir).plan)
    repo = tmp_path / "repo"
    Layout(repo).curated.parent.mkdir(parents=True, exist_ok=True)
    Layout(repo).curated.write_text("")
    return generate_batch(batch_dir, repo, registry(http, server), now=lambda: NOW)


def test_a_persistent_500_for_one_package_while_the_registry_answers_others_is_request_rejected(
    tmp_path: Path, http: HttpClient, upstream: HTTPServer, fake_time: Any
) -> None:
    upstream.expect_request("/cargo/crates/broken").respond_with_handler(_server_error)
    report = _batch(
        tmp_path,
        http,
        upstream,
        (("rg", "cargo:ripgrep"), ("broken", "cargo:broken"), ("acme", "npm:@acme/cli")),
    )

    broken = next(p for p in report.packages if p.name == "broken")
    assert broken.failure is not None
    assert (broken.failure.category, broken.failure.subcategory) == ("api_error", "request_rejected")
    assert broken.failure.transient is False and broken.reason == broken.failure.message
    assert "HTTP 500" in broken.failure.message and "answered other cargo packages" in broken.failure.message
    assert len([r for r, _ in upstream.log if r.path == "/cargo/crates/broken"]) == 4  # retried first
    assert load(GenerationReport, BatchDir(tmp_path / "batch").generation) == report


def test_the_same_500_for_every_package_of_the_registry_stays_upstream_unavailable(
    tmp_path: Path, http: HttpClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(re.compile("^/cargo/crates/.*")).respond_with_handler(_server_error)
    httpserver.expect_request("/npm/acme").respond_with_json(
        {
            "name": "acme",
            "dist-tags": {"latest": "1.0.0"},
            "versions": {"1.0.0": {"bin": "a.js", "homepage": "https://a.example"}},
        }
    )
    report = _batch(
        tmp_path,
        http,
        httpserver,
        (("rg", "cargo:ripgrep"), ("serde", "crates.io:serde"), ("acme", "npm:acme")),
    )

    outcomes = {
        p.name: (p.outcome, p.failure and (p.failure.subcategory, p.failure.transient))
        for p in report.packages
    }
    # another registry (npm) answering says nothing about crates.io: an outage stays transient
    assert outcomes == {
        "rg": ("failed", ("upstream_unavailable", True)),
        "serde": ("failed", ("upstream_unavailable", True)),
        "acme": ("generated", None),
    }


def test_connection_errors_and_404s_are_never_request_rejected(
    tmp_path: Path, http: HttpClient, upstream: HTTPServer
) -> None:
    """Only a persistent 5xx is a rejected request; a 404 is not_found, an unreachable host an outage."""
    dead = CargoBuilder(http, api_url="http://127.0.0.1:9/cargo", now=fixed)
    plan = (("rg", "cargo:ripgrep"), ("nothing", "cargo:nothing"))
    report = _batch(tmp_path, http, upstream, plan)
    assert [p.failure.subcategory for p in report.packages if p.failure] == ["not_found"]
    lone = dead.generate("ripgrep", name="rg")
    assert isinstance(lone, Failure) and lone.subcategory == "upstream_unavailable"
    reclassified = reclassify_rejected(
        [
            GeneratedPackage("rg", "cargo:ripgrep", "cargo:ripgrep", "generated", recipe="recipes/rg.toml"),
            GeneratedPackage("x", "cargo:x", "cargo:x", "failed", reason=lone.message, failure=lone),
        ],
        {},  # no 5xx recorded for x: a connection error
    )
    assert reclassified[1].failure == lone
