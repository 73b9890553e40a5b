"""Helpers shared by the generator's builder tests (importable: ``pythonpath = ["tests"]``)."""

from __future__ import annotations

from recipeline_schema import Failure, Recipe


def recipe_of(result: Recipe | Failure) -> Recipe:
    """The recipe a builder returned (the failure it returned instead fails the test)."""
    assert isinstance(result, Recipe), result
    return result


def failure_of(result: Recipe | Failure) -> Failure:
    """The failure a builder returned (the recipe it returned instead fails the test)."""
    assert isinstance(result, Failure), result
    return result
