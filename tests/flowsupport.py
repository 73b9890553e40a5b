"""Test support for the end-to-end tests: real wheels, a local PEP 691 index, git."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from pytest_httpserver import HTTPServer, URIPattern
from werkzeug import Request, Response

PROJECT = Path(__file__).resolve().parents[1]
PEP691 = "application/vnd.pypi.simple.v1+json"


@dataclass
class Wheel:
    """A pure-Python wheel whose console script prints ``output``."""

    project: str
    version: str
    scripts: dict[str, str] = field(default_factory=dict)  # executable -> printed text
    summary: str = "a test tool"

    @property
    def filename(self) -> str:
        return f"{self.project.replace('-', '_')}-{self.version}-py3-none-any.whl"

    def build(self) -> bytes:
        module = self.project.replace("-", "_")
        dist_info = f"{module}-{self.version}.dist-info"
        files: dict[str, str] = {f"{module}/__init__.py": ""}
        for i, (_exe, text) in enumerate(sorted(self.scripts.items())):
            files[f"{module}/cli{i}.py"] = f"def main():\n    print({text!r})\n"
        files[f"{dist_info}/METADATA"] = (
            f"Metadata-Version: 2.1\nName: {self.project}\nVersion: {self.version}\n"
            f"Summary: {self.summary}\nHome-page: https://example.org/{self.project}\n"
        )
        files[f"{dist_info}/WHEEL"] = (
            "Wheel-Version: 1.0\nGenerator: recipeline-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        if self.scripts:
            lines = [f"{exe} = {module}.cli{i}:main" for i, exe in enumerate(sorted(self.scripts))]
            files[f"{dist_info}/entry_points.txt"] = "[console_scripts]\n" + "\n".join(lines) + "\n"
        record = []
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, text in files.items():
                data = text.encode()
                zf.writestr(name, data)
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                record.append(f"{name},sha256={digest},{len(data)}")
            record.append(f"{dist_info}/RECORD,,")
            zf.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
        return buf.getvalue()


class _Prefix(URIPattern):
    """Every path under a prefix (pytest-httpserver matches exact paths by default)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def match(self, uri: str) -> bool:
        return uri.startswith(self.prefix)


class LocalIndex:
    """A PEP 691 JSON simple index served from memory on a loopback port."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.wheels: dict[str, list[tuple[Wheel, bytes]]] = {}
        self.latency = 0.0  # seconds each project page waits, to make a batch take a while
        server.expect_request(_Prefix("/simple/"), method="GET").respond_with_handler(self._project)
        server.expect_request(_Prefix("/files/"), method="GET").respond_with_handler(self._file)

    @property
    def url(self) -> str:
        return self.server.url_for("/simple/")

    def add(self, wheel: Wheel) -> None:
        self.wheels.setdefault(wheel.project, []).append((wheel, wheel.build()))

    def _project(self, request: Request) -> Response:
        time.sleep(self.latency)
        name = request.path.removeprefix("/simple/").strip("/")
        if name not in self.wheels:
            return Response("not found", status=404)
        files = [
            {
                "filename": wheel.filename,
                "url": self.server.url_for(f"/files/{wheel.filename}"),
                "hashes": {"sha256": hashlib.sha256(data).hexdigest()},
            }
            for wheel, data in self.wheels[name]
        ]
        body = {"meta": {"api-version": "1.0"}, "name": name, "files": files}
        return Response(json.dumps(body), content_type=PEP691)

    def _file(self, request: Request) -> Response:
        filename = request.path.removeprefix("/files/")
        for entries in self.wheels.values():
            for wheel, data in entries:
                if wheel.filename == filename:
                    return Response(data, content_type="application/octet-stream")
        return Response("not found", status=404)


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` and return its stdout."""
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout
