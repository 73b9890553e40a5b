"""Fixtures: real wheels built with zipfile, a PEP 691 index on a local HTTP server, fake time."""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from recipeline_generator import PypiBuilder
from recipeline_schema.http import HttpClient
from recipeline_schema.testing import FakeTime, fake_time_client

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


def build_wheel(
    project: str,
    version: str,
    *,
    entry_points: str | None = "[console_scripts]\ndemo = demo.cli:main\n",
    summary: str = "A demo command-line tool",
    home_page: str | None = "https://example.com/demo",
    project_urls: tuple[str, ...] = (),
    filler: int = 0,
    dist_info_first: bool = False,
    tag: str = "py3-none-any",
    data_scripts: dict[str, bytes] | None = None,
) -> bytes:
    """A real wheel: package module, optional incompressible filler, ``<dist>.data/scripts/``
    files (``data_scripts``: name -> content), dist-info with RECORD."""
    dist = re.sub(r"[-_.]+", "_", project)
    info = f"{dist}-{version}.dist-info"
    metadata = ["Metadata-Version: 2.1", f"Name: {project}", f"Version: {version}", f"Summary: {summary}"]
    if home_page is not None:
        metadata.append(f"Home-page: {home_page}")
    metadata += [f"Project-URL: {url}" for url in project_urls]
    members: list[tuple[str, bytes]] = [(f"{dist}/__init__.py", b"def main():\n    return 0\n")]
    if filler:
        members.append((f"{dist}/blob.bin", random.Random(project).randbytes(filler)))
    for script, content in sorted((data_scripts or {}).items()):
        members.append((f"{dist}-{version}.data/scripts/{script}", content))
    dist_files = [
        (f"{info}/METADATA", ("\n".join(metadata) + "\n\nLong description.\n").encode()),
        (
            f"{info}/WHEEL",
            f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {tag}\n".encode(),
        ),
    ]
    if entry_points is not None:
        dist_files.append((f"{info}/entry_points.txt", entry_points.encode()))
    members = dist_files + members if dist_info_first else members + dist_files
    record = "".join(
        f"{name},sha256={hashlib.sha256(data).hexdigest()},{len(data)}\n" for name, data in members
    )
    members.append((f"{info}/RECORD", (record + f"{info}/RECORD,,\n").encode()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def metadata_of(wheel: bytes) -> bytes:
    """The METADATA file inside ``wheel`` (what an index serves for PEP 658)."""
    with zipfile.ZipFile(io.BytesIO(wheel)) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return zf.read(name)


def _range_response(data: bytes, header: str | None) -> Response:
    if not header:
        return Response(data, 200, content_type="application/octet-stream")
    m = re.fullmatch(r"bytes=(\d*)-(\d*)", header)
    assert m, header
    if m.group(1) == "":
        start, end = max(0, len(data) - int(m.group(2))), len(data) - 1
    else:
        start = int(m.group(1))
        end = min(int(m.group(2)), len(data) - 1) if m.group(2) else len(data) - 1
    return Response(
        data[start : end + 1],
        206,
        headers={"Content-Range": f"bytes {start}-{end}/{len(data)}"},
        content_type="application/octet-stream",
    )


@dataclass
class FakeIndex:
    """A PEP 691 index served by pytest-httpserver; records the Range header of every wheel GET."""

    server: HTTPServer
    range_log: list[tuple[str, str | None]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url_for("/simple/")

    def file_url(self, filename: str) -> str:
        return self.server.url_for(f"/files/{filename}")

    def add_wheel(self, filename: str, data: bytes, *, ranges: bool = True) -> dict[str, Any]:
        """Serve ``data`` (honouring Range when ``ranges``); return its PEP 691 file entry."""

        def handler(request: Request) -> Response:
            header = request.headers.get("Range")
            self.range_log.append((filename, header))
            return _range_response(data, header if ranges else None)

        self.server.expect_request(f"/files/{filename}").respond_with_handler(handler)
        return {
            "filename": filename,
            "url": self.file_url(filename),
            "hashes": {"sha256": hashlib.sha256(data).hexdigest()},
            "yanked": False,
        }

    def add_metadata(self, filename: str, data: bytes) -> None:
        self.server.expect_request(f"/files/{filename}.metadata").respond_with_data(
            data, content_type="application/octet-stream"
        )

    def add_project(self, project: str, files: list[dict[str, Any]], *, api_version: str = "1.1") -> None:
        page = {"meta": {"api-version": api_version}, "name": project, "files": files}
        self.server.expect_request(f"/simple/{project}/").respond_with_data(
            json.dumps(page), content_type=SIMPLE_JSON
        )

    def publish(
        self, project: str, version: str, *, ranges: bool = True, tag: str = "py3-none-any", **wheel: Any
    ) -> tuple[dict[str, Any], bytes]:
        """Build a wheel of ``project`` ``version`` (``build_wheel`` options) and serve it."""
        data = build_wheel(project, version, tag=tag, **wheel)
        filename = f"{re.sub(r'[-_.]+', '_', project)}-{version}-{tag}.whl"
        return self.add_wheel(filename, data, ranges=ranges), data

    def wheel_requests(self, filename: str) -> list[str | None]:
        return [header for name, header in self.range_log if name == filename]


@pytest.fixture
def fake_time() -> FakeTime:
    """Clock and sleep for HttpClient: rate limits and backoff cost no real time."""
    return FakeTime()


@pytest.fixture
def index(httpserver: HTTPServer) -> Iterator[FakeIndex]:
    """An empty PEP 691 index on the local test server; unknown paths answer 404 as an index does."""
    httpserver.no_handler_status_code = 404
    yield FakeIndex(httpserver)
    httpserver.clear()


@pytest.fixture
def http(fake_time: FakeTime) -> Iterator[HttpClient]:
    """An HttpClient with the default rules, fake time and short timeouts."""
    with fake_time_client(fake_time) as client:
        yield client


@pytest.fixture
def builder(http: HttpClient, index: FakeIndex) -> PypiBuilder:
    """A PyPI builder pointed at the fake index."""
    return PypiBuilder(http, index_url=index.url, resolve_index=_no_resolution)


def _no_resolution() -> str:
    raise AssertionError("tests give the index URL explicitly")


@pytest.fixture
def wheel_metadata() -> Callable[[bytes], bytes]:
    """Extract a wheel's METADATA (what an index serves for PEP 658)."""
    return metadata_of
