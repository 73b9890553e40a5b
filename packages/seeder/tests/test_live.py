"""Opt-in checks against the real registries the user's pip and npm are configured with.

Run with ``python -m pytest -m live``; deselected by default (no network in the normal suite).
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from dataclasses import replace
from urllib.parse import quote

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from recipeline_schema import npm_registry_url, pypi_index_url
from recipeline_schema.http import HttpClient
from recipeline_seeder import SourceError
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


@pytest.mark.live
def test_live_npm_top_50(httpserver: HTTPServer) -> None:
    """The npm seed's top 50 with the live registry's newest manifests: first the whole source
    against the live registry (its search may be unavailable behind a mirror: then that is
    printed), then the test list's search (``test_npm_gems_go_seeds.NPM``, served here) with
    every ``<name>/latest`` forwarded to the live registry; prints each queued command with the
    test's judgement (``-s``) and fails when a live manifest installs another command."""
    from test_npm_gems_go_seeds import NPM, serve_npm_search

    registry = npm_registry_url()
    truth = {p.name: p for p in NPM}
    with HttpClient() as client:
        live = NpmSource(
            client, registry, DEFAULT_SETTINGS["npm"], downloads_url=downloads_base_url(registry, os.environ)
        )
        try:
            got = live.fetch()[:50]
        except SourceError as exc:
            print(f"\nnpm live: the registry's search: {str(exc).split(': GET')[0]}")
        else:
            judged = [(c.name, "?" if (p := truth.get(c.source[4:])) is None else p.tool) for c in got]
            print(f"\nnpm live search: {len(got)} queued in the top 50: {judged}")
            assert len(got) == 50
            assert not {c.source[4:] for c in got} & {p.name for p in NPM if p.bin is None}

    def forward(request: Request) -> Response:
        name = request.path.removeprefix("/registry/").removesuffix("/latest")
        try:
            with urllib.request.urlopen(f"{registry}{quote(name, safe='@')}/latest", timeout=60) as resp:
                return Response(resp.read(), resp.status, content_type="application/json")
        except urllib.error.HTTPError as exc:
            return Response(exc.read(), exc.code, content_type="application/json")

    serve_npm_search(httpserver, NPM, page_size=25)
    for p in NPM:
        httpserver.expect_request(f"/registry/{p.name}/latest").respond_with_handler(forward)
    with HttpClient() as client:
        source = NpmSource(
            client,
            httpserver.url_for("/registry/"),
            replace(DEFAULT_SETTINGS["npm"], page_size=25),
            downloads_url=None,
        )
        queued = source.fetch()
    top = queued[:50]
    lines = [f"{c.name}{'' if truth[c.source[4:]].tool else ' (helper)'}" for c in top]
    tools = sum(truth[c.source[4:]].tool for c in top)
    differs = [
        (c.source[4:], c.name, truth[c.source[4:]].command)
        for c in queued
        if c.name != truth[c.source[4:]].command
    ]
    gone = sorted({d.name for d in source.dropped} - {p.name for p in NPM if p.command is None})
    print(
        f"npm live manifests: {len(queued)} queued; the top {len(top)}: {tools} real tools: "
        + ", ".join(lines)
    )
    print(
        f"npm live: commands other than the test list's: {differs}; "
        f"dropped although the list has a bin: {gone}"
    )
    assert (len(top), tools) == (50, 31)
    assert differs == [] and gone == []
