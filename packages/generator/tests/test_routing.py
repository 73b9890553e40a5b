"""Curated routing and skip reasons (pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from recipeline_generator import BuilderRegistry, route
from recipeline_schema import Disambiguation, Failure, PlannedPackage, Recipe, Source


class RecordingBuilder:
    """A builder for one ecosystem that handles identifiers without a slash."""

    def __init__(self, ecosystem: str) -> None:
        self.ecosystem = ecosystem

    def can_build(self, identifier: str) -> bool:
        return "/" not in identifier

    def generate(self, identifier: str, *, name: str) -> Recipe | Failure:
        return Failure.create(
            f"{self.ecosystem}:{identifier}",
            "api_error",
            "not_found",
            "unused",
            timestamp=dt.datetime.now(dt.UTC),
        )


BUILDERS = BuilderRegistry([RecordingBuilder("pypi"), RecordingBuilder("cargo")])
CURATED = {
    "rg": Disambiguation("rg", "cargo:ripgrep"),
    "aider": Disambiguation("aider", "pypi:aider-chat"),
    "hub": Disambiguation("hub", "github:github/hub"),
    "same": Disambiguation("same", "pypi:same"),
}


def test_curated_record_overrides_the_source_matched_case_insensitively() -> None:
    r = route(PlannedPackage("RG", "pypi:rg"), {k.lower(): v for k, v in CURATED.items()}, BUILDERS)
    assert (r.resolved_source, r.override, r.source, r.skip) == (
        "cargo:ripgrep",
        True,
        Source("cargo", "ripgrep"),
        "",
    )


def test_curated_record_naming_the_same_source_is_not_an_override() -> None:
    r = route(PlannedPackage("same", "pypi:same"), CURATED, BUILDERS)
    assert (r.override, r.source) == (False, Source("pypi", "same"))


def test_without_a_curated_record_the_entry_source_is_built_by_identifier() -> None:
    r = route(PlannedPackage("aider-cli", "pip:aider-chat"), CURATED, BUILDERS)
    assert (r.resolved_source, r.override, r.source) == (
        "pip:aider-chat",
        False,
        Source("pypi", "aider-chat"),
    )


@pytest.mark.parametrize(
    ("planned", "reason"),
    [
        (PlannedPackage("hub", "homebrew:hub"), "github: sources need an LLM-assisted builder"),
        (
            PlannedPackage("jq", "homebrew:jq"),
            "no deterministic builder for 'homebrew' yet (have: cargo, pypi)",
        ),
        (PlannedPackage("x", "cargo:a/b"), "the cargo builder does not handle 'a/b'"),
        (PlannedPackage("y", "weird:thing"), "no deterministic builder for 'weird' yet"),
    ],
)
def test_unbuildable_sources_are_skipped_with_a_reason(planned: PlannedPackage, reason: str) -> None:
    r = route(planned, CURATED, BUILDERS)
    assert r.source is None
    assert r.skip.startswith(reason)


def test_a_curated_source_that_cannot_be_parsed_is_skipped() -> None:
    r = route(PlannedPackage("bad", "pypi:bad"), {"bad": Disambiguation("bad", "pypi:../etc")}, BUILDERS)
    assert (r.source, r.override) == (None, True)
    assert "source cannot be used" in r.skip


def test_registry_refuses_two_builders_for_one_ecosystem() -> None:
    with pytest.raises(ValueError, match="already registered"):
        BuilderRegistry([RecordingBuilder("pypi"), RecordingBuilder("pypi")])
