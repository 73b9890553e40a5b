"""Opt-in (``-m live``): real CLIs from the registries named by the user's pip and npm configuration."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from validator_helpers import npm_recipe, recipe_toml

from recipeline_schema import parse_environment
from recipeline_validator import (
    EnvironmentDetectionError,
    Limits,
    NativeOptions,
    RecipeInput,
    RunSettings,
    detect_host_environment,
    probe_isolation,
    validate_all,
)

pytestmark = pytest.mark.live

RECIPES = {
    "pyflakes": recipe_toml("pyflakes", "pyflakes", ["pyflakes"], "pyflakes --version", pattern="{version}"),
    "ruff": recipe_toml("ruff", "ruff", ["ruff"], "ruff --version", pattern="ruff {version}"),
    "prettier": npm_recipe("prettier", "prettier", ["prettier"], "prettier --version", "{version}"),
    "json5": npm_recipe("json5", "json5", ["json5"], "json5 --version", "{version}"),
}


def test_real_clis_install_offline_and_verify() -> None:
    try:
        environment = parse_environment(detect_host_environment())
    except EnvironmentDetectionError as exc:
        pytest.skip(f"unknown host: {exc}")
    options = NativeOptions(isolation=probe_isolation(), limits=Limits(timeout=120, install_timeout=600))
    settings = RunSettings(native=options, workers=os.cpu_count() or 2, now=lambda: dt.datetime.now(dt.UTC))
    items = [
        RecipeInput(name, f"{'npm' if 'npm_install' in text else 'pypi'}:{name}", text, f"{name}.toml")
        for name, text in RECIPES.items()
    ]
    results = validate_all(items, environment, settings)
    failed = {r.name: r.failure.message for r in results if r.failure is not None}
    assert not failed, failed
    assert [r.outcome for r in results] == ["pass"] * len(RECIPES)
