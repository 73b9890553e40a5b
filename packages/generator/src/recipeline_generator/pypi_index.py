"""Pure reading of a PEP 691 project page: which wheel of which release to read.

PEP 503 normalises project names, PEP 691 is the JSON form of the simple API, PEP 658/714 offer a
wheel's METADATA beside it, PEP 592 marks yanked files, PEP 440 orders versions (``packaging``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import Version

#: PEP 691's JSON content type, version 1: what we ask for and what we accept.
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
#: PEP 508 project names (case-insensitive).
PROJECT_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_PURE_PY3 = Tag("py3", "none", "any")


class MalformedPageError(ValueError):
    """The page does not follow PEP 691; the message says where."""


def normalize_project(name: str) -> str:
    """PEP 503 normalised name: lower case, runs of ``-_.`` become one ``-``."""
    return canonicalize_name(name)


def project_url(index_url: str, project: str) -> str:
    """``<index>/<normalized project>/`` (the index URL may or may not end in ``/``)."""
    base = index_url if index_url.endswith("/") else index_url + "/"
    return urljoin(base, normalize_project(project) + "/")


@dataclass(frozen=True, slots=True)
class MetadataFile:
    """PEP 658: the wheel's METADATA served at ``url`` (``<wheel url>.metadata``)."""

    url: str
    sha256: str | None


@dataclass(frozen=True, slots=True)
class WheelFile:
    filename: str
    url: str
    version: Version
    tags: frozenset[Tag]
    sha256: str | None
    metadata: MetadataFile | None

    @property
    def pure_python3(self) -> bool:
        return _PURE_PY3 in self.tags


@dataclass(frozen=True, slots=True)
class NoWheel:
    """The project has no usable wheel; ``reason`` says what the page offered instead."""

    reason: str


def _sha256(hashes: Any) -> str | None:
    if isinstance(hashes, Mapping):
        value = hashes.get("sha256")
        if isinstance(value, str) and re.fullmatch(r"[0-9a-fA-F]{64}", value):
            return value.lower()
    return None


def _metadata(entry: Mapping[str, Any], url: str) -> MetadataFile | None:
    # PEP 714 renamed the key; older indexes still send the PEP 658 one
    value = entry.get("core-metadata", entry.get("data-dist-info-metadata"))
    if value is True or isinstance(value, Mapping):
        return MetadataFile(url + ".metadata", _sha256(value) if isinstance(value, Mapping) else None)
    return None


def _check_meta(page: Any) -> list[Any]:
    if not isinstance(page, Mapping):
        raise MalformedPageError(f"$: expected an object, got {type(page).__name__}")
    meta = page.get("meta")
    api = meta.get("api-version") if isinstance(meta, Mapping) else None
    if not isinstance(api, str) or api.split(".")[0] != "1":
        raise MalformedPageError(f"$.meta.api-version: expected '1.x', got {api!r}")
    files = page.get("files")
    if not isinstance(files, list):
        raise MalformedPageError("$.files: expected an array")
    return files


def wheels_of(page: Any, page_url: str, project: str) -> tuple[list[WheelFile], int, int]:
    """Non-yanked wheels of ``project`` on the page; also counts of all files and of yanked ones.

    Files of another project, invalid wheel names and non-http(s) URLs are ignored: the index
    is not trusted to be well-formed.
    """
    files = _check_meta(page)
    wanted = normalize_project(project)
    wheels: list[WheelFile] = []
    yanked = 0
    for i, entry in enumerate(files):
        if not isinstance(entry, Mapping):
            raise MalformedPageError(f"$.files[{i}]: expected an object")
        filename, url = entry.get("filename"), entry.get("url")
        if not isinstance(filename, str) or not isinstance(url, str):
            raise MalformedPageError(f"$.files[{i}]: expected string 'filename' and 'url'")
        flag = entry.get("yanked", False)
        if flag is True or isinstance(flag, str):  # PEP 592/691: true or a reason string
            yanked += 1
            continue
        if not filename.endswith(".whl"):
            continue
        try:
            name, version, _build, tags = parse_wheel_filename(filename)
        except InvalidWheelFilename:
            continue
        absolute = urljoin(page_url, url).partition("#")[0]
        if name != wanted or urlsplit(absolute).scheme not in ("http", "https"):
            continue
        wheels.append(
            WheelFile(
                filename, absolute, version, tags, _sha256(entry.get("hashes")), _metadata(entry, absolute)
            )
        )
    return wheels, len(files), yanked


def select_wheel(page: Any, page_url: str, project: str) -> WheelFile | NoWheel:
    """The wheel to read: newest release with a non-yanked wheel, preferring ``py3-none-any``.

    Final releases win over pre-releases (as pip chooses); a pre-release is taken only when no
    final release has a wheel. Among one release's wheels: ``py3-none-any``, then any other
    ``none-any``, then the rest, each by file name (deterministic).
    """
    wheels, total, yanked = wheels_of(page, page_url, project)
    if not wheels:
        if total == 0:
            return NoWheel("the index lists no files for this project")
        return NoWheel(f"no non-yanked wheel among {total} files ({yanked} yanked); sdists are not read")
    finals = [w for w in wheels if not w.version.is_prerelease]
    pool = finals or wheels
    newest = max(w.version for w in pool)
    candidates = [w for w in pool if w.version == newest]

    def preference(wheel: WheelFile) -> tuple[int, str]:
        if wheel.pure_python3:
            rank = 0
        elif any(t.abi == "none" and t.platform == "any" for t in wheel.tags):
            rank = 1
        else:
            rank = 2
        return rank, wheel.filename

    return min(candidates, key=preference)
