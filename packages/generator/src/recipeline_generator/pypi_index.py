"""Pure reading of a PEP 691 project page: which wheel of which release to read.

PEP 503 normalises project names, PEP 691 is the JSON form of the simple API, PEP 658/714 offer a
wheel's METADATA beside it, PEP 592 marks yanked files, PEP 440 orders versions (``packaging``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urljoin, urlsplit

from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import Version

#: PEP 691's JSON content type, version 1: what we ask for and what we accept.
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
#: PEP 508 project names (case-insensitive).
PROJECT_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_PURE_PY3 = Tag("py3", "none", "any")

#: The target a recipe is generated for first (tsuku's most common Linux environment,
#: ``linux-*-glibc-x86_64``): CPython 3.8 to 3.14 on glibc up to 2.39, newest first. Its wheel is
#: the one pip would install there; the other targets only break ties when none fits it.
TARGET_PYTHONS: tuple[tuple[int, int], ...] = tuple((3, minor) for minor in range(14, 7, -1))
GLIBC_MINORS = range(39, 4, -1)
#: ``manylinux1``/``2010``/``2014`` are the old names of glibc 2.5/2.12/2.17 (PEP 600).
_LEGACY_MANYLINUX = {5: "manylinux1", 12: "manylinux2010", 17: "manylinux2014"}


def linux_platforms(arch: str, *, libc: str = "glibc") -> tuple[str, ...]:
    """Platform tags pip accepts on a Linux ``arch`` host, most specific first (PEP 600/656)."""
    if libc == "musl":
        return (*(f"musllinux_1_{minor}_{arch}" for minor in range(2, -1, -1)), f"linux_{arch}")
    out: list[str] = []
    for minor in GLIBC_MINORS:
        out.append(f"manylinux_2_{minor}_{arch}")
        if minor in _LEGACY_MANYLINUX:
            out.append(f"{_LEGACY_MANYLINUX[minor]}_{arch}")
    return (*out, f"linux_{arch}")


@cache
def target_tags(arch: str = "x86_64", libc: str = "glibc") -> tuple[dict[Tag, int], ...]:
    """Per CPython of ``TARGET_PYTHONS``: every tag it accepts on that Linux -> pip's rank (0 best)."""
    platforms = linux_platforms(arch, libc=libc)
    out = []
    for version in TARGET_PYTHONS:
        interpreter = f"cp{version[0]}{version[1]}"
        ranks: dict[Tag, int] = {}
        tags = (
            *cpython_tags(version, platforms=platforms),
            *compatible_tags(version, interpreter, platforms),
        )
        for tag in tags:
            ranks.setdefault(tag, len(ranks))
        out.append(ranks)
    return tuple(out)


#: Targets in order: the first a wheel fits decides its rank (then the tag's own rank).
TARGETS: tuple[tuple[str, str], ...] = (("x86_64", "glibc"), ("x86_64", "musl"), ("aarch64", "glibc"))


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


def target_rank(wheel: WheelFile, targets: Sequence[tuple[str, str]] = TARGETS) -> tuple[int, int, int]:
    """(the first target the wheel fits, pip's rank of its best tag under the Python that likes it
    most, that Python's position in ``TARGET_PYTHONS``); ``(len(targets), 0, 0)`` when none fits."""
    for position, (arch, libc) in enumerate(targets):
        fitting = [
            (ranks[tag], python)
            for python, ranks in enumerate(target_tags(arch, libc))
            for tag in wheel.tags
            if tag in ranks
        ]
        if fitting:
            return (position, *min(fitting))
    return len(targets), 0, 0


def select_wheel(page: Any, page_url: str, project: str) -> WheelFile | NoWheel:
    """The wheel to read: the one pip would install on the first target (``TARGETS``).

    The release: the newest with a non-yanked wheel that fits the first target any wheel of the
    project fits (so a Windows-only newest release does not hide the Linux one); final releases
    win over pre-releases, as pip chooses. Among that release's wheels: the best-ranked tag for
    that target (``packaging.tags``, as pip orders them: a ``manylinux`` x86_64 or
    ``py3-none-any`` wheel, never an ``armv6l`` or ``win`` one while one of those exists); ties
    and wheels fitting no target by file name (deterministic).
    """
    wheels, total, yanked = wheels_of(page, page_url, project)
    if not wheels:
        if total == 0:
            return NoWheel("the index lists no files for this project")
        return NoWheel(f"no non-yanked wheel among {total} files ({yanked} yanked); sdists are not read")
    best_target = min(target_rank(w)[0] for w in wheels)
    fitting = [w for w in wheels if target_rank(w)[0] == best_target]
    finals = [w for w in fitting if not w.version.is_prerelease]
    pool = finals or fitting
    newest = max(w.version for w in pool)
    candidates = [w for w in pool if w.version == newest]
    return min(candidates, key=lambda w: (target_rank(w), w.filename))
