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
def test_live_pypi_command_check() -> None:
    with HttpClient() as client:
        source = PypiSource(
            client, "http://127.0.0.1:9", DEFAULT_SETTINGS["pypi"], index_url=pypi_index_url()
        )
        # black's wheel declares console_scripts black and blackd; urllib3's declares none
        assert source.command("black") == "black"
        assert source.command("pytest") == "pytest"  # py.test and pytest: the project's own name
        assert source.command("urllib3") is None
        assert "installs no command" in {d.name: d.reason for d in source.dropped}["urllib3"]


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


@pytest.mark.live
def test_live_pypi_top_projects() -> None:
    """The per-project check over the head of a real-looking top list against the live index
    (the test corpus's names, in its order): prints what it queues and drops (``-s``)."""
    from test_pypi_homebrew_seeds import PYPI

    names = [p.name for p in PYPI if p.name != "thonny"]
    with HttpClient() as client:
        source = PypiSource(
            client, "http://127.0.0.1:9", DEFAULT_SETTINGS["pypi"], index_url=pypi_index_url()
        )
        queued = [(name, command) for name in names if (command := source.command(name)) is not None]
    truth = {p.name: p for p in PYPI}
    head = set(names[:50])
    in_head = [(n, c) for n, c in queued if n in head]
    top = queued[:50]
    tools = [n for n, _c in top if truth[n].tool]
    differs = [(n, c, truth[n].command) for n, c in queued if c != truth[n].command]
    print(f"\npypi live: the first 50 of the list: {len(in_head)} queued {in_head}")
    print(
        f"pypi live: {len(names)} checked, {len(queued)} queued; "
        f"the seed's top {len(top)}: {len(tools)} real tools"
    )
    print(f"pypi live: helper commands queued: {[(n, c) for n, c in top if not truth[n].tool]}")
    print(f"pypi live: commands other than the test corpus's: {differs}")
    print(f"pypi live: dropped: {[(d.name, d.reason[:90]) for d in source.dropped]}")
    assert dict(queued)["pytest"] == "pytest" and dict(queued)["black"] == "black"
    assert not {"boto3", "urllib3", "requests", "setuptools"} & dict(queued).keys()
