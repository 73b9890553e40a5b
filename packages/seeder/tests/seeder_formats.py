"""The registries' file formats, built for the tests (not collected: no ``test_`` prefix).

- ``gem_file``: a ``.gem`` as ``gem build`` writes it: a plain tar of ``metadata.gz`` (the
  gzipped YAML gemspec, Ruby's tags included), ``data.tar.gz`` and ``checksums.yaml.gz``.
- ``wheel_file``: a wheel (zip) with ``<name>-<v>.dist-info/{METADATA,entry_points.txt,RECORD}``.
- ``serve_ranged``: a handler answering ``Range: bytes=a-b`` and ``bytes=-n`` with 206 and a
  ``Content-Range``, as the registries' file hosts do.
"""

from __future__ import annotations

import gzip
import io
import re
import tarfile
import zipfile

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

_GEMSPEC = """--- !ruby/object:Gem::Specification
name: {name}
version: !ruby/object:Gem::Version
  version: {version}
platform: ruby
authors:
- A. Author
bindir: exe
cert_chain: []
date: 2026-11-01 00:00:00.000000000 Z
dependencies:
- !ruby/object:Gem::Dependency
  name: json
  requirement: !ruby/object:Gem::Requirement
    requirements:
    - - ">="
      - !ruby/object:Gem::Version
        version: '0'
  type: :runtime
  prerelease: false
  version_requirements: !ruby/object:Gem::Requirement
    requirements:
    - - ">="
      - !ruby/object:Gem::Version
        version: '0'
email:
- author@example.org
executables:{executables}
extensions: []
extra_rdoc_files: []
files:
- lib/{name}.rb
homepage: https://example.org/{name}
licenses:
- MIT
metadata: {{}}
rdoc_options: []
require_paths:
- lib
required_ruby_version: !ruby/object:Gem::Requirement
  requirements:
  - - ">="
    - !ruby/object:Gem::Version
      version: '2.7'
required_rubygems_version: !ruby/object:Gem::Requirement
  requirements:
  - - ">="
    - !ruby/object:Gem::Version
      version: '0'
requirements: []
rubygems_version: 3.5.22
signing_key:
specification_version: 4
summary: {name}
test_files: []
"""


def _tar_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o444
    tar.addfile(info, io.BytesIO(data))


def gem_file(name: str, version: str, executables: list[str], *, data_size: int = 200_000) -> bytes:
    """A ``.gem`` of ``name``-``version`` whose gemspec lists ``executables``."""
    listed = "".join(f"\n- {e}" for e in executables) if executables else " []"
    spec = _GEMSPEC.format(name=name, version=version, executables=listed)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        _tar_member(tar, "metadata.gz", gzip.compress(spec.encode()))
        _tar_member(tar, "data.tar.gz", bytes(range(256)) * (data_size // 256))
        _tar_member(tar, "checksums.yaml.gz", gzip.compress(b"---\nSHA256: {}\n"))
    return out.getvalue()


def wheel_file(project: str, version: str, console_scripts: list[str], *, padding: int = 300_000) -> bytes:
    """A wheel whose ``entry_points.txt`` declares ``console_scripts`` (none: no such file)."""
    dist = f"{project.replace('-', '_')}-{version}.dist-info"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as whl:
        pkg = project.replace("-", "_")
        whl.writestr(f"{pkg}/__init__.py", "x = 1\n")
        # incompressible bytes, so the wheel is bigger than the range read at its end
        whl.writestr(zipfile.ZipInfo(f"{pkg}/_data.bin"), bytes(range(256)) * (padding // 256))
        whl.writestr(
            f"{dist}/METADATA",
            f"Metadata-Version: 2.1\nName: {project}\nVersion: {version}\n"
            "Classifier: Programming Language :: Python :: 3\n\n",
        )
        whl.writestr(
            f"{dist}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        if console_scripts:
            lines = "".join(f"{s} = {pkg}.cli:main\n" for s in console_scripts)
            whl.writestr(f"{dist}/entry_points.txt", f"[console_scripts]\n{lines}\n[other.group]\nx = y\n")
        whl.writestr(f"{dist}/RECORD", "")
    return out.getvalue()


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def serve_ranged(server: HTTPServer, path: str, data: bytes, *, content_type: str) -> None:
    """Serve ``data`` at ``path``, honouring single byte ranges like the registries' file hosts."""

    def handler(request: Request) -> Response:
        m = _RANGE.fullmatch(request.headers.get("Range", ""))
        if not m:
            return Response(data, 200, content_type=content_type)
        first, last = m.group(1), m.group(2)
        if first:
            start, end = int(first), min(int(last) if last else len(data) - 1, len(data) - 1)
        else:
            start, end = max(len(data) - int(last), 0), len(data) - 1
        return Response(
            data[start : end + 1],
            206,
            content_type=content_type,
            headers={"Content-Range": f"bytes {start}-{end}/{len(data)}", "Accept-Ranges": "bytes"},
        )

    server.expect_request(path).respond_with_handler(handler)


def module_zip(path: str, version: str, files: list[str], *, padding: int = 400_000) -> bytes:
    """A Go module zip as the proxy serves it: every file under ``<path>@<version>/``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as mod:
        prefix = f"{path}@{version}/"
        mod.writestr(prefix + "go.mod", f"module {path}\n\ngo 1.22\n")
        mod.writestr(zipfile.ZipInfo(prefix + "testdata/blob.bin"), bytes(range(256)) * (padding // 256))
        for name in files:
            package = "main" if name.endswith("main.go") else "lib"
            mod.writestr(prefix + name, f"package {package}\n")
    return out.getvalue()
