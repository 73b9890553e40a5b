"""Routing over the real default registry: all eight ecosystems, the tsuku backend, skips."""

from __future__ import annotations

import pytest

from recipeline_generator import (
    CaskBuilder,
    CpanBuilder,
    HomebrewBuilder,
    TsukuBackend,
    default_registry,
    route,
)
from recipeline_schema import ECOSYSTEMS, Disambiguation, PlannedPackage
from recipeline_schema.http import HttpClient

SOURCES = {
    "homebrew": "homebrew:jq",
    "cask": "cask:iterm2",
    "cargo": "cargo:ripgrep",
    "npm": "npm:prettier",
    "pypi": "pypi:httpie",
    "rubygems": "rubygems:bundler",
    "go": "go:github.com/go-delve/delve/cmd/dlv",
    "cpan": "cpan:App::Ack",
}


def test_every_ecosystem_has_a_deterministic_builder(http: HttpClient) -> None:
    builders = default_registry(http, index_url="http://127.0.0.1:9/simple/")
    assert builders.ecosystems == tuple(sorted(ECOSYSTEMS))
    assert isinstance(builders.get("homebrew"), HomebrewBuilder)
    assert isinstance(builders.get("cask"), CaskBuilder)
    assert isinstance(builders.get("cpan"), CpanBuilder)
    for eco, source in SOURCES.items():
        target = route(PlannedPackage("tool", source), {}, builders)
        assert target.source is not None and target.source.ecosystem == eco, target.skip


@pytest.mark.parametrize("eco", sorted(SOURCES))
def test_no_builder_takes_an_identifier_with_a_trailing_newline(http: HttpClient, eco: str) -> None:
    builders = default_registry(http, index_url="http://127.0.0.1:9/simple/")
    identifier = SOURCES[eco].partition(":")[2]
    builder = builders.get(eco)
    assert builder is not None
    assert builder.can_build(identifier)
    assert not builder.can_build(identifier + "\n")


def test_bottle_tag_reaches_the_homebrew_builder(http: HttpClient) -> None:
    builder = default_registry(http, bottle_tag="arm64_sonoma").get("homebrew")
    assert isinstance(builder, HomebrewBuilder) and builder.bottle_tag == "arm64_sonoma"


@pytest.mark.parametrize("tsuku", [None, "/opt/tsuku"])
def test_llm_sources_and_unknown_ecosystems_are_skipped_with_or_without_tsuku(
    http: HttpClient, tsuku: str | None
) -> None:
    builders = default_registry(http, tsuku=tsuku)
    curated = {"gh": Disambiguation("gh", "github:cli/cli")}
    gh = route(PlannedPackage("gh", "homebrew:gh"), curated, builders)
    assert (gh.source, gh.override) == (None, True) and gh.skip.startswith("github:")
    nix = route(PlannedPackage("hello", "nix:hello"), {}, builders)
    assert nix.source is None and nix.skip


def test_tsuku_replaces_every_builder(http: HttpClient) -> None:
    builders = default_registry(http, tsuku="/opt/tsuku")
    assert builders.ecosystems == tuple(sorted(ECOSYSTEMS))
    for eco in ECOSYSTEMS:
        backend = builders.get(eco)
        assert isinstance(backend, TsukuBackend) and backend.tsuku == "/opt/tsuku"
    target = route(
        PlannedPackage("rg", "cargo:ripgrep"), {"rg": Disambiguation("rg", "homebrew:ripgrep")}, builders
    )
    assert target.override and target.source is not None and target.source.ecosystem == "homebrew"
