"""The recipe index dependency checks compare against: real recipe files in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from recipeline_generator.recipe_index import RecipeIndex, read_recipe_index, recipe_name_for

FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "tsuku" / "recipes"


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_names_and_satisfies_from_the_recipes_directory(tmp_path: Path) -> None:
    recipes = tmp_path / "recipes"
    write(
        recipes,
        "o/openssl.toml",
        '[metadata]\nname = "openssl"\n[metadata.satisfies]\nhomebrew = ["openssl@3"]\n',
    )
    write(recipes, "z/zlib.toml", '[metadata]\nname = "zlib"\n')
    write(recipes, "b/broken.toml", "[metadata\nname = ")  # unparseable: still exists
    write(recipes, "x/..evil.toml", "")  # not a recipe name: ignored
    write(recipes, "README.md", "not a recipe")
    index = read_recipe_index(recipes)
    assert index.recipe_for("OpenSSL@3") == "openssl"
    assert index.recipe_for("zlib") == "zlib"
    assert index.recipe_for("broken") == "broken"
    assert index.recipe_for("..evil") is None and index.recipe_for("libpng") is None
    assert len(index) == 4


def test_a_recipe_name_wins_over_another_recipes_alias() -> None:
    index = RecipeIndex.of(["python"], {"python-standalone": ["python"]})
    assert index.recipe_for("python") == "python"


def test_missing_directory_is_an_empty_index(tmp_path: Path) -> None:
    assert len(read_recipe_index(tmp_path / "nope")) == 0


@pytest.mark.parametrize(
    ("dependency", "name"),
    [("zlib", "zlib"), ("openssl@3", "openssl"), ("python@3.12", "python"), ("org/tap/tool", "tool")],
)
def test_blocked_by_names_are_recipe_names(dependency: str, name: str) -> None:
    assert recipe_name_for(dependency) == name


def test_reads_tsukus_real_recipes() -> None:
    if not FIXTURES.is_dir():
        pytest.skip(f"tsuku fixtures not present at {FIXTURES}")
    index = read_recipe_index(FIXTURES)
    assert index.recipe_for("gdbm") == "gdbm"
    assert index.recipe_for("aws") == "awscli"  # [metadata.satisfies] aliases = ["aws"]
