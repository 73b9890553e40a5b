"""Opt-in checks against the real registries the user's pip and npm are configured with.

Run with ``python -m pytest -m live``; deselected by default (no network in the normal suite).
"""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

from recipeline_schema import npm_registry_url, pypi_index_url
from recipeline_schema.http import HttpClient
from recipeline_seeder.config import DEFAULT_SETTINGS
from recipeline_seeder.popular import NpmSource, PypiSource
from recipeline_seeder.popular.npm import downloads_base_url


@pytest.mark.live
def test_live_pypi_console_check() -> None:
    with HttpClient() as client:
        source = PypiSource(
            client, "http://127.0.0.1:9", DEFAULT_SETTINGS["pypi"], index_url=pypi_index_url()
        )
        # black declares "Environment :: Console"; a pure library like idna does not
        assert source._is_console_tool("black")
        assert not source._is_console_tool("idna")


@pytest.mark.live
def test_live_npm_search() -> None:
    registry = npm_registry_url()
    with HttpClient() as client:
        source = NpmSource(
            client,
            registry,
            replace(DEFAULT_SETTINGS["npm"], max_candidates=20, page_size=20),
            downloads_url=downloads_base_url(registry, os.environ),
        )
        got = source.fetch()
    assert len(got) >= 10
    assert all(c.source.startswith("npm:") and "/" not in c.name for c in got)
