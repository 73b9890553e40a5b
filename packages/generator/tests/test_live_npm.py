"""Opt-in (``-m live``): real recipes from the npm registry npm is configured with."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from recipeline_generator import NpmBuilder, __version__
from recipeline_schema import Recipe, recipe_from_toml, recipe_to_toml
from recipeline_schema.http import HttpClient

pytestmark = pytest.mark.live

#: (package, an executable it is known to ship)
CLIS = [
    ("eslint", "eslint"),
    ("prettier", "prettier"),
    ("typescript", "tsc"),
    ("npm-check-updates", "ncu"),
    ("http-server", "http-server"),
    ("nodemon", "nodemon"),
    ("serve", "serve"),
    ("pnpm", "pnpm"),
    ("yarn", "yarn"),
    ("@angular/cli", "ng"),
    ("concurrently", "concurrently"),
    ("rimraf", "rimraf"),
]


@pytest.fixture(scope="module")
def live_npm() -> Iterator[NpmBuilder]:
    """A builder on the registry from the user's npm configuration, with the default rate limits."""
    with HttpClient(user_agent=f"recipeline/{__version__}") as http:
        yield NpmBuilder(http)


@pytest.mark.parametrize(("package", "executable"), CLIS)
def test_real_cli_gets_a_recipe(live_npm: NpmBuilder, package: str, executable: str) -> None:
    name = package.rpartition("/")[2]
    result = live_npm.generate(package, name=name)

    assert isinstance(result, Recipe), result
    text = recipe_to_toml(result)
    parsed = recipe_from_toml(text)
    assert parsed.homepage.startswith("https://")
    assert parsed.steps[0].action == "npm_install" and parsed.steps[0].params["package"] == package
    assert executable in parsed.steps[0].params["executables"]
    again = live_npm.generate(package, name=name)
    assert isinstance(again, Recipe) and recipe_to_toml(again) == text, "same registry data, same bytes"
