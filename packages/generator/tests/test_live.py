"""Opt-in (``-m live``): real recipes from the PyPI index pip is configured with."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from recipeline_generator import PypiBuilder, __version__
from recipeline_schema import Recipe, recipe_from_toml, recipe_to_toml
from recipeline_schema.http import HttpClient

pytestmark = pytest.mark.live

#: (project, an executable it is known to ship)
CLIS = [
    ("httpie", "http"),
    ("black", "black"),
    ("poetry", "poetry"),
    ("pre-commit", "pre-commit"),
    ("tox", "tox"),
    ("flake8", "flake8"),
    ("isort", "isort"),
    ("twine", "twine"),
    ("cookiecutter", "cookiecutter"),
    ("yamllint", "yamllint"),
    ("pipenv", "pipenv"),
    ("mypy", "mypy"),
]


@pytest.fixture(scope="module")
def live_builder() -> Iterator[PypiBuilder]:
    """A builder on the index from the user's pip configuration, with the default rate limits."""
    with HttpClient(user_agent=f"recipeline/{__version__}") as http:
        yield PypiBuilder(http)


@pytest.mark.parametrize(("project", "executable"), CLIS)
def test_real_cli_gets_a_recipe(live_builder: PypiBuilder, project: str, executable: str) -> None:
    result = live_builder.generate(project, name=project)

    assert isinstance(result, Recipe), result
    text = recipe_to_toml(result)
    parsed = recipe_from_toml(text)
    assert parsed.homepage.startswith("https://")
    assert executable in parsed.steps[0].params["executables"]
    assert parsed.verify is not None and parsed.verify.command.endswith(" --version")
