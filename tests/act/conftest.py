"""Fixtures of the workflow runs: the prepared Python, the local registries, a deployment."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from act.harness import Deploy, Deployment, Prepared, prepare
from flowsupport import PROJECT, LocalIndex, Wheel
from pytest_httpserver import HTTPServer
from registries.npm import build_npm_tarball, packument  # the shared local registries (tests/support)
from werkzeug import Request, Response

from recipeline_schema.endpoints import API_BASE_URLS

#: PyPI tools of the scenarios: name -> (version, what its console script prints, or None: a library)
PYPI_TOOLS: dict[str, tuple[str, str | None]] = {
    "goodtool": ("1.2.0", "goodtool 1.2.0"),
    "othertool": ("0.3.1", "othertool 0.3.1"),
    "daytool": ("2.0.0", "daytool version 2.0.0"),
    "libonly": ("3.0.0", None),
    "liar": ("2.0.0", "liar 0.0.1"),
}
#: npm tools: name -> (version, has a bin)
NPM_TOOLS: dict[str, tuple[str, bool]] = {
    "npmgood": ("2.0.0", True),
    "npmother": ("1.1.0", True),
    "npmlib": ("1.0.0", False),
}
NODE_CLI = """
    #!/usr/bin/env node
    const pkg = require("./package.json");
    console.log(pkg.name + " " + pkg.version);
"""


@pytest.fixture(scope="session")
def prepared() -> Prepared:
    """The wheelhouse and base Python every job installs from (built once, kept by requirements hash)."""
    cache = Path(os.environ.get("RECIPELINE_ACT_CACHE") or PROJECT / "build" / "act-harness")
    return prepare(cache)


@dataclass(frozen=True)
class Registries:
    """The local registries and popularity sources, as environment for the jobs."""

    env: Mapping[str, str]
    npm_searches: list[str]


def _npm_registry(server: HTTPServer, searches: list[str]) -> None:
    base = server.url_for("/").rstrip("/")
    for name, (version, has_bin) in NPM_TOOLS.items():
        manifest: dict[str, object] = {
            "name": name,
            "version": version,
            "description": f"{name}, a test tool",
            "homepage": f"https://example.org/{name}",
            "license": "MIT",
        }
        if has_bin:
            manifest["bin"] = {name: "cli.js"}
        tarball = build_npm_tarball(manifest, {"cli.js": NODE_CLI}, executable=("cli.js",))
        path = f"/tarballs/{name}-{version}.tgz"
        server.expect_request(path).respond_with_data(tarball, content_type="application/octet-stream")
        server.expect_request(f"/{name}").respond_with_json(packument(manifest, tarball, base + path))

    def search(request: Request) -> Response:
        searches.append(request.query_string.decode())
        start = int(request.args.get("from", "0"))
        names = ["seedcli", "seedother"] if start == 0 else []
        objects = [{"package": {"name": n, "version": "1.0.0"}, "score": {"final": 0.5}} for n in names]
        return Response(json.dumps({"objects": objects, "total": 2}), content_type="application/json")

    server.expect_request("/-/v1/search").respond_with_handler(search)
    for name in ("seedcli", "seedother"):  # the seeder reads each candidate's newest manifest for `bin`
        latest = {"name": name, "version": "1.0.0", "bin": {name: "cli.js"}}
        server.expect_request(f"/{name}/latest").respond_with_json(latest)
    downloads = {"seedcli": {"downloads": 5000, "package": "seedcli"}, "seedother": None}
    server.expect_request("/downloads/point/last-week/seedcli,seedother").respond_with_json(downloads)


@pytest.fixture(scope="session")
def registries() -> Iterator[Registries]:
    """A PEP 691 index with the PyPI tools, an npm registry with the npm tools (and the
    registry's search for the seeder), and a server where every other ecosystem's API answers
    404 (so nothing ever reaches the internet)."""
    pypi, npm, nowhere = (HTTPServer(host="127.0.0.1", port=0) for _ in range(3))
    for server in (pypi, npm, nowhere):
        server.start()
    index = LocalIndex(pypi)
    for name, (version, prints) in PYPI_TOOLS.items():
        index.add(Wheel(name, version, {name: prints} if prints else {}))
    searches: list[str] = []
    _npm_registry(npm, searches)
    elsewhere = nowhere.url_for("/").rstrip("/")
    env = {
        "PIP_INDEX_URL": index.url,
        "npm_config_registry": npm.url_for("/"),
        "RECIPELINE_NPM_DOWNLOADS_URL": npm.url_for("/").rstrip("/"),
        # the local registries publish no rate limit (the public ones' 1 request/s would only
        # make each batch's generate step wait)
        "RECIPELINE_RATE_LIMIT_PYPI": "50/1",
        "RECIPELINE_RATE_LIMIT_NPM": "50/1",
        **{f"RECIPELINE_{key.upper()}_URL": f"{elsewhere}/{key}" for key in API_BASE_URLS},
    }
    yield Registries(env, searches)
    for server in (pypi, npm, nowhere):
        server.clear()
        server.stop()


@pytest.fixture
def deploy(tmp_path: Path, prepared: Prepared, registries: Registries) -> Iterator[Deploy]:
    """``deploy(state, fake_options=(), pr_token=None, env={})``: a fresh deployment in tmp_path."""
    made: list[Deployment] = []

    def make(state: Mapping[str, str], **kw: Any) -> Deployment:
        env = {**registries.env, **kw.pop("env", {})}
        deployment = Deployment(tmp_path / f"deployment-{len(made)}", prepared, state=state, env=env, **kw)
        made.append(deployment)
        return deployment

    yield make
    for deployment in made:
        deployment.close()


def pytest_configure(config: pytest.Config) -> None:
    # the session runs the day of hourly runs on one worker and the other scenarios on the other
    # (pytest-xdist --dist loadgroup); without xdist the marker means nothing
    config.addinivalue_line("markers", "xdist_group(name): the scenarios that share a test worker")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The session's figures: wall time per scenario and per workflow run (RECIPELINE_ACT_TIMINGS)."""
    path = os.environ.get("RECIPELINE_ACT_TIMINGS")
    if not path or not Path(path).exists():
        return
    runs = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    per_test: dict[str, list[float]] = {}
    for run in runs:
        name = str(run["test"]).split("::")[-1].removesuffix(" (call)")
        per_test.setdefault(name, []).append(float(run["seconds"]))
    terminalreporter.section("workflow runs under act")
    for name, seconds in per_test.items():
        terminalreporter.write_line(f"{sum(seconds):7.1f} s in {len(seconds):2d} runs  {name}")
    total = sum(float(r["seconds"]) for r in runs)
    terminalreporter.write_line(f"{total:7.1f} s in {len(runs):2d} runs  (all act runs)")
