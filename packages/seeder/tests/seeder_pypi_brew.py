"""PyPI's and Homebrew's answers in their real shapes, built for the tests (not collected).

- ``wheel``: a wheel as the build backends write it: the package, ``<dist>.data/scripts/*`` for
  projects that ship scripts (maturin's binaries: ruff, uv; awscli's ``scripts=``), then
  ``<dist>.dist-info/{METADATA,WHEEL,entry_points.txt,licenses/LICENSE,RECORD}``, ``RECORD`` last.
- ``simple_page``: a PEP 691 project page (``application/vnd.pypi.simple.v1+json``) as PyPI serves
  it: ``meta`` with ``api-version`` and ``_last-serial``, ``name``, ``versions``, and ``files``
  oldest first, each with ``filename``, ``url`` (absolute, on the file host), ``hashes``,
  ``requires-python``, ``size``, ``upload-time``, ``yanked``, and ``core-metadata`` /
  ``data-dist-info-metadata`` (``{"sha256": ...}`` for wheels, ``false`` for sdists).
- ``top_pypi``: the top-pypi-packages dataset (``last_update``, ``query``, ``rows``).
- ``bottle``: a Homebrew bottle as ``brew bottle`` writes it for homebrew/core: a gzipped pax tar
  sorted by name (GNU tar ``--sort=name --format=pax``), ``<formula>/<version>/`` holding
  ``.brew/<formula>.rb``, upper-case docs, ``INSTALL_RECEIPT.json``, then ``bin/``, ``include/``,
  ``lib/``, ``share/`` (large: the prefix read must stop before it).
- ``formula_json``: ``GET /api/formula/<name>.json`` as formulae.brew.sh serves it.
- ``analytics``: ``GET /api/analytics/install-on-request/30d.json``.
"""

from __future__ import annotations

import hashlib
import io
import random
import tarfile
import zipfile
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from werkzeug import Request, Response

SIMPLE = "application/vnd.pypi.simple.v1+json"


def _dist(project: str) -> str:
    return project.replace("-", "_").replace(".", "_").lower()


@cache
def wheel(
    project: str,
    version: str,
    *,
    tag: str = "py3-none-any",
    console: tuple[str, ...] = (),
    gui: tuple[str, ...] = (),
    scripts: tuple[str, ...] = (),
    other_groups: str = "",
    padding: int = 100_000,
) -> bytes:
    """A wheel of ``project`` whose ``entry_points.txt`` declares ``console``/``gui`` scripts
    (no such file when it declares nothing and ``other_groups`` is empty) and whose
    ``.data/scripts/`` holds ``scripts``."""
    dist = f"{_dist(project)}-{version}"
    pkg = _dist(project)
    out = io.BytesIO()
    # random bytes: the wheel stays bigger than the range read at its end
    blob = random.Random(project).randbytes(padding)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as whl:
        whl.writestr(f"{pkg}/__init__.py", f'__version__ = "{version}"\n')
        whl.writestr(f"{pkg}/_native.so", blob)
        for script in scripts:
            whl.writestr(f"{dist}.data/scripts/{script}", b"\x7fELF" + blob[:1000])
        whl.writestr(
            f"{dist}.dist-info/METADATA",
            f"Metadata-Version: 2.4\nName: {project}\nVersion: {version}\nSummary: {project}\n"
            "License-Expression: MIT\nLicense-File: LICENSE\nRequires-Python: >=3.9\n"
            "Classifier: Programming Language :: Python :: 3\n\n",
        )
        whl.writestr(
            f"{dist}.dist-info/WHEEL",
            f"Wheel-Version: 1.0\nGenerator: hatchling 1.27.0\nRoot-Is-Purelib: true\nTag: {tag}\n",
        )
        sections = ""
        if console:
            sections += "[console_scripts]\n" + "".join(f"{s} = {pkg}.cli:main\n" for s in console) + "\n"
        if gui:
            sections += "[gui_scripts]\n" + "".join(f"{s} = {pkg}.gui:main\n" for s in gui) + "\n"
        sections += other_groups
        if sections:
            whl.writestr(f"{dist}.dist-info/entry_points.txt", sections)
        whl.writestr(f"{dist}.dist-info/licenses/LICENSE", "MIT License\n")
        whl.writestr(f"{dist}.dist-info/RECORD", f"{pkg}/__init__.py,,\n{dist}.dist-info/RECORD,,\n")
    return out.getvalue()


@dataclass(frozen=True)
class File:
    """One file of a project page: its name and bytes (served at ``/packages/<name>``)."""

    filename: str
    data: bytes
    yanked: bool | str = False


def simple_page(project: str, files_base: str, files: list[File], serial: int = 25_000_000) -> dict[str, Any]:
    """A PEP 691 project page listing ``files`` (oldest first)."""
    entries = []
    versions: list[str] = []
    for f in files:
        sha = hashlib.sha256(f.data).hexdigest()
        is_wheel = f.filename.endswith(".whl")
        meta: Any = (
            {"sha256": hashlib.sha256(b"metadata of " + f.data[:64]).hexdigest()} if is_wheel else False
        )
        version = f.filename.split("-")[1].removesuffix(".tar.gz")
        if version not in versions:
            versions.append(version)
        entries.append(
            {
                "core-metadata": meta,
                "data-dist-info-metadata": meta,
                "filename": f.filename,
                "hashes": {"sha256": sha},
                "requires-python": ">=3.9",
                "size": len(f.data),
                "upload-time": "2026-10-01T12:00:00.123456Z",
                "url": f"{files_base}/packages/{sha[:2]}/{sha[2:4]}/{sha[4:]}/{f.filename}",
                "yanked": f.yanked,
            }
        )
    return {
        "files": entries,
        "meta": {"_last-serial": serial, "api-version": "1.1"},
        "name": project,
        "versions": versions,
    }


def top_pypi(rows: list[tuple[str, int]]) -> dict[str, Any]:
    """The top-pypi-packages dataset: ``rows`` most downloaded first."""
    return {
        "last_update": "2026-11-01 07:21:39",
        "query": {
            "bytes_billed": 1_144_919_408_640,
            "bytes_processed": 1_144_918_972_345,
            "cached": False,
            "estimated_cost": "5.21",
        },
        "rows": [{"download_count": n, "project": p} for p, n in rows],
    }


# --- Homebrew ---------------------------------------------------------------------------------


def _add(
    tar: tarfile.TarFile, name: str, data: bytes = b"", *, kind: bytes = tarfile.REGTYPE, link: str = ""
) -> None:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mtime = 1_730_000_000
    info.mode = 0o755 if kind == tarfile.DIRTYPE or "/bin/" in name else 0o644
    if kind == tarfile.SYMTYPE:
        info.linkname = link
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


@cache
def bottle(
    formula: str,
    pkg_version: str,
    *,
    bins: tuple[str, ...] = (),
    links: tuple[tuple[str, str], ...] = (),
    libs: tuple[str, ...] = (),
    share_bytes: int = 400_000,
) -> bytes:
    """A bottle tarball: every member sorted by name, as GNU tar ``--sort=name`` writes them."""
    root = f"{formula}/{pkg_version}"
    rng = random.Random(formula)
    members: dict[str, tuple[bytes, bytes, str]] = {
        f"{formula}": (b"", tarfile.DIRTYPE, ""),
        root: (b"", tarfile.DIRTYPE, ""),
        f"{root}/.brew": (b"", tarfile.DIRTYPE, ""),
        f"{root}/.brew/{formula}.rb": (
            f"class X < Formula\n  desc {formula!r}\nend\n".encode(),
            tarfile.REGTYPE,
            "",
        ),
        f"{root}/AUTHORS": (b"A. Author\n", tarfile.REGTYPE, ""),
        f"{root}/COPYING": (b"GPL\n" * 500, tarfile.REGTYPE, ""),
        f"{root}/INSTALL_RECEIPT.json": (
            b'{"homebrew_version":"4.4.0","built_as_bottle":true}',
            tarfile.REGTYPE,
            "",
        ),
        f"{root}/README.md": (b"# readme\n" * 200, tarfile.REGTYPE, ""),
        f"{root}/share": (b"", tarfile.DIRTYPE, ""),
        f"{root}/share/doc": (b"", tarfile.DIRTYPE, ""),
        # incompressible: the bottle is much bigger than its first range
        f"{root}/share/doc/{formula}.dat": (rng.randbytes(share_bytes), tarfile.REGTYPE, ""),
    }
    if bins or links:
        members[f"{root}/bin"] = (b"", tarfile.DIRTYPE, "")
    for b in bins:
        members[f"{root}/bin/{b}"] = (b"\x7fELF" + rng.randbytes(20_000), tarfile.REGTYPE, "")
    for name, target in links:
        members[f"{root}/bin/{name}"] = (b"", tarfile.SYMTYPE, target)
    if libs:
        members[f"{root}/include"] = (b"", tarfile.DIRTYPE, "")
        members[f"{root}/include/{formula}.h"] = (b"int f(void);\n", tarfile.REGTYPE, "")
        members[f"{root}/lib"] = (b"", tarfile.DIRTYPE, "")
        members[f"{root}/lib/pkgconfig"] = (b"", tarfile.DIRTYPE, "")
        members[f"{root}/lib/pkgconfig/{formula}.pc"] = (b"Name: x\n", tarfile.REGTYPE, "")
        for lib in libs:
            members[f"{root}/lib/{lib}"] = (rng.randbytes(50_000), tarfile.REGTYPE, "")
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        # GNU tar --sort=name: each directory's entries in byte order, depth first
        for name in sorted(members, key=lambda n: n.split("/")):
            data, kind, link = members[name]
            _add(tar, name, data, kind=kind, link=link)
    return out.getvalue()


def formula_json(
    name: str,
    version: str,
    ghcr: str,
    sha: str | None,
    *,
    tags: tuple[str, ...] = ("x86_64_linux",),
    revision: int = 0,
) -> dict[str, Any]:
    """A formula document of formulae.brew.sh's API (``sha``: the bottle blob; None: no bottle)."""
    repo = name.replace("@", "/").replace("+", "x")
    cellars = {
        "x86_64_linux": "/home/linuxbrew/.linuxbrew/Cellar",
        "arm64_linux": "/home/linuxbrew/.linuxbrew/Cellar",
    }
    files = {
        tag: {
            "cellar": cellars.get(tag, ":any_skip_relocation"),
            "url": f"{ghcr}/v2/homebrew/core/{repo}/blobs/sha256:{sha}",
            "sha256": sha,
        }
        for tag in ("arm64_sequoia", "arm64_sonoma", "sonoma", *tags)
    }
    return {
        "name": name,
        "full_name": name,
        "tap": "homebrew/core",
        "oldnames": [],
        "aliases": [],
        "versioned_formulae": [],
        "desc": f"{name} from the tests",
        "license": "MIT",
        "homepage": f"https://example.org/{name}",
        "versions": {"stable": version, "head": "HEAD", "bottle": sha is not None},
        "urls": {
            "stable": {
                "url": f"https://example.org/{name}-{version}.tar.gz",
                "tag": None,
                "revision": None,
                "using": None,
                "checksum": "0" * 64,
            },
            "head": {"url": f"https://example.org/{name}.git", "branch": "main", "using": None},
        },
        "revision": revision,
        "version_scheme": 0,
        "compatibility_version": None,
        "autobump": True,
        "no_autobump_message": None,
        "skip_livecheck": False,
        "bottle": {"stable": {"rebuild": 0, "root_url": f"{ghcr}/v2/homebrew/core", "files": files}}
        if sha is not None
        else {},
        "pour_bottle_only_if": None,
        "keg_only": False,
        "keg_only_reason": None,
        "options": [],
        "build_dependencies": ["pkgconf"],
        "dependencies": [],
        "test_dependencies": [],
        "recommended_dependencies": [],
        "optional_dependencies": [],
        "uses_from_macos": ["zlib"],
        "uses_from_macos_bounds": [{}],
        "requirements": [],
        "conflicts_with": [],
        "conflicts_with_reasons": [],
        "link_overwrite": [],
        "caveats": None,
        "installed": [],
        "linked_keg": None,
        "pinned": False,
        "outdated": False,
        "deprecated": False,
        "deprecation_date": None,
        "deprecation_reason": None,
        "deprecation_replacement_formula": None,
        "deprecation_replacement_cask": None,
        "disabled": False,
        "disable_date": None,
        "disable_reason": None,
        "disable_replacement_formula": None,
        "disable_replacement_cask": None,
        "post_install_defined": False,
        "service": None,
        "tap_git_head": "0123456789abcdef0123456789abcdef01234567",
        "ruby_source_path": f"Formula/{name[0]}/{name}.rb",
        "ruby_source_checksum": {"sha256": "1" * 64},
    }


def analytics(rows: list[tuple[str, int]]) -> dict[str, Any]:
    """install-on-request over 30 days: ``count`` strings with thousands separators."""
    total = sum(n for _, n in rows)
    return {
        "category": "install_on_request",
        "total_items": len(rows),
        "start_date": "2026-10-31",
        "end_date": "2026-11-30",
        "total_count": total,
        "items": [
            {"number": i, "formula": f, "count": f"{n:,}", "percent": f"{100 * n / total:.2f}"}
            for i, (f, n) in enumerate(rows, start=1)
        ],
    }


@dataclass
class Storage:
    """GHCR's signed-URL storage host: serves blobs by range and refuses any ``Authorization``."""

    blobs: dict[str, bytes] = field(default_factory=dict)
    auth_seen: list[str] = field(default_factory=list)
    ranges: list[str] = field(default_factory=list)

    def handle(self, request: Request) -> Response:
        if "Authorization" in request.headers:
            self.auth_seen.append(request.headers["Authorization"])
            return Response(
                "<Error><Code>InvalidArgument</Code></Error>", 400, content_type="application/xml"
            )
        data = self.blobs.get(request.path.rsplit("sha256:", 1)[1])
        if data is None:
            return Response("", 404)
        wanted = request.headers.get("Range", "")
        self.ranges.append(wanted)
        if not wanted.startswith("bytes="):
            return Response(data, 200, content_type="application/octet-stream")
        first, _, last = wanted.removeprefix("bytes=").partition("-")
        start, end = int(first), min(int(last), len(data) - 1)
        return Response(
            data[start : end + 1],
            206,
            content_type="application/octet-stream",
            headers={"Content-Range": f"bytes {start}-{end}/{len(data)}", "Accept-Ranges": "bytes"},
        )


def ghcr_blob(storage_url: str) -> Any:
    """GHCR's blob endpoint: ``401`` without Homebrew's anonymous token, else ``307`` to storage."""

    def handle(request: Request) -> Response:
        if request.headers.get("Authorization") != "Bearer QQ==":
            return Response(
                '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                401,
                headers={
                    "WWW-Authenticate": 'Bearer realm="https://ghcr.invalid/token",service="ghcr.invalid"'
                },
                content_type="application/json",
            )
        sha = request.path.rsplit("sha256:", 1)[1]
        location = f"{storage_url}/ghcr1/blobs/sha256:{sha}?se=2026-12-03T14%3A00%3A00Z&sig=s1gned"
        return Response("", 307, headers={"Location": location}, content_type="text/html; charset=utf-8")

    return handle


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
