"""Shared fixtures: a wheel directory, a PEP 503 index, a local npm registry, the probed isolation,
a loopback server."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from registries.npm import build_npm_tarball, packument
from validator_helpers import (
    NODE_HELPER,
    NODE_HOOK,
    NODE_TOOL,
    NODE_WRAPPER,
    TOOL_SOURCE,
    LoopbackServer,
    Wheelhouse,
    build_wheel,
)

from recipeline_validator import Isolation, probe_isolation


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Wheelhouse:
    """The test distributions as wheels in one directory (usable as --find-links)."""
    path = tmp_path_factory.mktemp("wheelhouse")
    specs = {
        "okpkg": ("1.2.3", {"oktool": "ok"}, ()),
        "brokenpkg": ("0.1.0", {"brokentool": "ok"}, ("recipeline-no-such-dependency>=1",)),
        "liarpkg": ("2.0.0", {"liar": "liar"}, ()),
        "sleepypkg": ("1.0.0", {"sleepy": "sleepy"}, ()),
        "quietpkg": ("0.5.0", {"quiet": "quiet"}, ()),
        "netpkg": ("1.0.0", {"nettool": "net"}, ()),
        "hogpkg": ("1.0.0", {"hog": "hog"}, ()),
    }
    for dist, (version, scripts, requires) in specs.items():
        build_wheel(path, dist, version, module_source=TOOL_SOURCE, scripts=scripts, requires=requires)
    return Wheelhouse(path, {dist: spec[0] for dist, spec in specs.items()})


@pytest.fixture()
def pep503_index(httpserver: HTTPServer, wheelhouse: Wheelhouse) -> str:
    """A PEP 503 simple index of the wheelhouse served on loopback; returns its URL."""
    projects = []
    for wheel in sorted(wheelhouse.path.glob("*.whl")):
        project = wheel.name.split("-")[0].replace("_", "-")
        projects.append(project)
        data = wheel.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        httpserver.expect_request(f"/files/{wheel.name}").respond_with_data(
            data, content_type="application/octet-stream"
        )
        page = f'<html><body><a href="/files/{wheel.name}#sha256={digest}">{wheel.name}</a></body></html>'
        httpserver.expect_request(f"/simple/{project}/").respond_with_data(page, content_type="text/html")
    root = "".join(f'<a href="/simple/{p}/">{p}</a>' for p in projects)
    httpserver.expect_request("/simple/").respond_with_data(
        f"<html><body>{root}</body></html>", content_type="text/html"
    )
    return httpserver.url_for("/simple/")


@pytest.fixture(scope="session")
def isolation() -> Isolation:
    """This host's network isolation, probed once (printed so a skip's reason is visible)."""
    found = probe_isolation()
    print(f"\nnetwork isolation on this host: {found.description}")
    return found


@pytest.fixture(scope="module")
def loopback_server() -> Iterator[LoopbackServer]:
    """A listening loopback socket outside any sandbox; tools inside one must not reach it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.2)
    server = LoopbackServer(sock.getsockname()[1], [])
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, addr = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            server.accepted.append(f"{addr[0]}:{addr[1]}")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server
    stop.set()
    thread.join(timeout=5)
    sock.close()


@pytest.fixture(scope="module")
def npm_registry(loopback_server: LoopbackServer) -> Iterator[str]:
    """A local npm registry (packuments + tarballs built here) on loopback; yields its URL.

    ``npmtool`` 1.4.0 depends on ``npmhelper``; ``npmliar`` claims version 9.9.9; ``npmnet``
    has a postinstall script that tries to reach the loopback server (it must not: no phase runs
    scripts, and phase 2 has no network); ``npmhook``'s postinstall leaves ``HOOK_MARKER`` in its
    package directory, says on stderr that it cannot build and exits 3 (as a failing native
    build does); ``npmwrap`` 4.0.2 prints the version of its library ``npmengine`` 5.0.5 as its
    own (csso-cli does), shows its usage on ``--help`` and refuses other options.
    """
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    base = server.url_for("/").rstrip("/")
    reach = f"require('net').connect({loopback_server.port}, '127.0.0.1').on('error', () => {{}})"
    packages: dict[str, tuple[dict[str, object], dict[str, str]]] = {
        "npmhelper": (
            {"name": "npmhelper", "version": "1.0.0", "main": "index.js"},
            {"index.js": NODE_HELPER},
        ),
    }
    packages["npmengine"] = ({"name": "npmengine", "version": "5.0.5", "main": "index.js"}, {"index.js": ""})
    wrapper: dict[str, object] = {"name": "npmwrap", "version": "4.0.2", "bin": {"npmwrap": "cli.js"}}
    packages["npmwrap"] = (wrapper | {"dependencies": {"npmengine": "5"}}, {"cli.js": NODE_WRAPPER})
    for name, version, extra in (
        ("npmtool", "1.4.0", {}),
        ("npmliar", "2.0.0", {"claims": "9.9.9"}),
        ("npmnet", "1.0.0", {"scripts": {"postinstall": f'node -e "{reach}"'}}),
        ("npmhook", "1.1.0", {"scripts": {"postinstall": "node hook.js"}}),
    ):
        manifest: dict[str, object] = {
            "name": name,
            "version": version,
            "bin": {name: "cli.js"},
            "dependencies": {"npmhelper": "^1.0.0"},
            **extra,
        }
        packages[name] = (manifest, {"cli.js": NODE_TOOL, "hook.js": NODE_HOOK})
    for name, (document, files) in packages.items():
        tarball = build_npm_tarball(document, files, executable=("cli.js",))
        path = f"/tarballs/{name}-{document['version']}.tgz"
        server.expect_request(path).respond_with_data(tarball, content_type="application/octet-stream")
        server.expect_request(f"/{name}").respond_with_json(packument(document, tarball, base + path))
    # a package the registry does not have: a 404, as a real registry answers (not a 500 npm retries)
    server.expect_request("/npmmissing").respond_with_json({"error": "Not found"}, status=404)
    yield base + "/"
    server.clear()
    if server.is_running():
        server.stop()
