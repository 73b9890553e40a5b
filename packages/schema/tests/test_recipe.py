"""Recipes: TOML written by tomlkit, read back through the recipe schema."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import recipeline_schema as rs


def _recipe(**kw: object) -> rs.Recipe:
    base: dict[str, object] = {
        "name": "httpie",
        "description": "HTTP client",
        "homepage": "https://httpie.io",
        "steps": (rs.Step("pipx_install", {"package": "httpie", "executables": ("http", "https")}),),
        "verify": rs.Verify("http --version", "{version}"),
    }
    base.update(kw)
    return rs.Recipe(**base)  # type: ignore[arg-type]


def test_toml_has_tsukus_shape_and_reads_back() -> None:
    text = rs.recipe_to_toml(_recipe())
    assert text.startswith('[metadata]\nname = "httpie"\n')
    assert '[[steps]]\naction = "pipx_install"\npackage = "httpie"\nexecutables = ["http", "https"]' in text
    assert rs.recipe_from_toml(text) == _recipe(
        steps=(rs.Step("pipx_install", {"package": "httpie", "executables": ["http", "https"]}),)
    )


def test_rendering_is_deterministic_and_sorts_metadata() -> None:
    a = rs.recipe_to_toml(_recipe(metadata={"version_format": "semver", "curated": False}))
    b = rs.recipe_to_toml(_recipe(metadata={"curated": False, "version_format": "semver"}))
    assert a == b and a.index("curated") < a.index("version_format")


@pytest.mark.parametrize(
    "hostile",
    ['x"\n[metadata]\nname = "evil', "a\\u0000b", "'''", "$(rm -rf /)", "line1\nline2", "\x1b[31m"],
)
def test_hostile_strings_stay_values(hostile: str) -> None:
    text = rs.recipe_to_toml(_recipe(description=hostile))
    data = tomllib.loads(text)
    assert data["metadata"]["description"] == hostile
    assert list(data) == ["metadata", "steps", "verify"]


def test_when_is_an_inline_table() -> None:
    step = rs.Step("pipx_install", {"package": "black"}, {"os": ["linux"], "libc": ["glibc"]})
    text = rs.recipe_to_toml(_recipe(steps=(step,)))
    assert 'when = {libc = ["glibc"], os = ["linux"]}' in text


def test_schema_errors_name_the_file_and_step() -> None:
    bad = '[metadata]\nname = "x"\n[[steps]]\naction = "pipx_install"\nwhen = {distro = "x"}\n'
    with pytest.raises(rs.DataFileError, match=r"recipes/x/x.toml: at \$.steps\[0\].when"):
        rs.recipe_from_toml(bad, "recipes/x/x.toml")
    with pytest.raises(rs.DataFileError, match="valid TOML"):
        rs.recipe_from_toml("[metadata\n", "r.toml")


def test_recipe_path_uses_the_first_letter() -> None:
    assert rs.recipe_path("Httpie") == "recipes/h/Httpie.toml"
    with pytest.raises(rs.InvalidValueError):
        rs.recipe_path("../x")


def test_every_real_tsuku_recipe_matches_the_schema(tsuku_fixtures: Path) -> None:
    files = sorted((tsuku_fixtures / "recipes").glob("*/*.toml"))
    assert len(files) >= 10
    for path in files:
        recipe = rs.recipe_from_toml(path.read_text(), str(path))
        assert recipe.name == path.stem
