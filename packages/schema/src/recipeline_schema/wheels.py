"""Python wheels: which wheel pip installs on Linux x86-64, and the executables it installs.

One home for the rule the generator's PyPI builder and the seeder's PyPI source both apply, so
that the seeder queues exactly the projects the builder can turn into a recipe:

1. **Which wheel** (pure): the PEP 691 JSON project page's non-yanked wheels (PEP 592), the
   release and the file pip would install on the first target of ``TARGETS`` (``packaging.tags``
   ranking; PEP 440 order, final releases before pre-releases).
2. **Reading it** (``read_dist_info``): a wheel is a zip whose end-of-central-directory record
   and central directory sit at the end, and the ``.dist-info`` files are written last, so one
   suffix range request usually holds everything. ``RangeFile`` gives ``zipfile`` a seekable view
   of the remote file that serves reads from the bytes already fetched and fetches what is missing
   with range requests (the approach of pip's ``lazy_wheel``). A server that ignores ``Range``
   sends the whole wheel, read under the size cap and checked against the index's sha256.
3. **Its executables** (pure): ``console_scripts`` and ``gui_scripts`` entry points of
   ``entry_points.txt`` and the files of ``<name>-<version>.data/scripts/`` (pip links or copies
   all of them into ``bin/`` on Linux), without names tied to one interpreter version
   (``tool-3.11``) and Windows-only scripts. None left: a library.

PEP 503 normalises project names, PEP 691 is the JSON form of the simple API, PEP 658/714 offer a
wheel's METADATA beside it. Needs the ``http`` extra (``read_dist_info`` takes the shared client).
"""

from __future__ import annotations

import configparser
import hashlib
import io
import re
import struct
import tarfile
import tomllib
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urljoin, urlsplit

from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from .http import ApiError, HttpClient, Tail

# --- which wheel -------------------------------------------------------------------------------

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


# --- reading it ------------------------------------------------------------------------------

#: what ``zipfile`` raises on untrusted bytes it cannot read (a damaged or hostile archive)
UNREADABLE_ZIP: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,  # a compression method zipfile lacks
    EOFError,
    OSError,
    ValueError,
    struct.error,
    zlib.error,
)

#: First request: the last bytes of the wheel (EOCD + central directory + dist-info, usually).
TAIL_BYTES = 64 * 1024
#: Smallest follow-up range request (zipfile reads headers in small pieces).
MIN_FETCH = 16 * 1024
#: Largest uncompressed dist-info file we read (a zip bomb stops here).
MEMBER_CAP = 8 * 1024 * 1024
_DIST_INFO = re.compile(r"^([^/]+)\.dist-info/")


class WheelError(Exception):
    """The wheel cannot be read as a zip with one ``.dist-info`` directory; the message says why."""


class RangeFile(io.RawIOBase):
    """A read-only, seekable file of ``size`` bytes whose missing parts come from ``fetch``.

    ``fetch(start, length)`` returns those bytes; every fetched byte counts against ``budget``.
    """

    def __init__(self, fetch: Callable[[int, int], bytes], tail: Tail, *, budget: int) -> None:
        super().__init__()
        self._fetch = fetch
        self._size = tail.size
        self._pos = 0
        self._segments: list[tuple[int, bytes]] = [(tail.offset, tail.data)]
        self._budget = budget - len(tail.data)
        self.requests = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise OSError(f"seek to {base + offset} before the start of the file")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        count = max(0, min(len(buffer), self._size - self._pos))
        if count == 0:
            return 0
        data = self._read(self._pos, count)
        buffer[:count] = data
        self._pos += count
        return count

    def _read(self, start: int, count: int) -> bytes:
        for seg_start, seg in self._segments:
            if seg_start <= start and start + count <= seg_start + len(seg):
                return seg[start - seg_start : start - seg_start + count]
        length = min(max(count, MIN_FETCH), self._size - start)
        if length > self._budget:
            raise WheelError(f"reading the wheel needs more than the size cap allows ({length} more bytes)")
        data = self._fetch(start, length)
        self.requests += 1
        self._budget -= len(data)
        if len(data) < count:
            raise WheelError(f"range at {start} returned {len(data)} bytes, expected {count}")
        self._segments.append((start, data))
        return data[:count]


@dataclass(frozen=True, slots=True)
class DistInfo:
    """Files of the wheel's ``.dist-info`` directory that were asked for (absent ones missing)."""

    directory: str
    files: dict[str, bytes]
    ranged: bool
    #: file names directly under ``<name>-<version>.data/scripts/`` (pip installs them into bin/)
    data_scripts: tuple[str, ...] = ()


def data_scripts(names: list[str], directory: str) -> tuple[str, ...]:
    """Files directly under the wheel's ``.data/scripts/`` (the ``.data`` beside ``directory``)."""
    prefix = directory.removesuffix(".dist-info") + ".data/scripts/"
    return tuple(
        sorted(
            {
                name[len(prefix) :]
                for name in names
                if name.startswith(prefix) and "/" not in name[len(prefix) :]
            }
            - {""}
        )
    )


def _dist_info_dir(names: list[str], project: str) -> str:
    dirs = sorted({m.group(1) for name in names if (m := _DIST_INFO.match(name))})
    mine = [d for d in dirs if canonicalize_name(d.rpartition("-")[0] or d) == canonicalize_name(project)]
    if len(mine) == 1:
        return mine[0] + ".dist-info"
    if not mine and len(dirs) == 1:
        return dirs[0] + ".dist-info"
    raise WheelError(f"expected one .dist-info directory for {project}, found {len(dirs)}: {dirs[:5]}")


def read_dist_info(
    http: HttpClient,
    ecosystem: str,
    url: str,
    *,
    project: str,
    wanted: tuple[str, ...],
    sha256: str | None,
    max_bytes: int,
) -> DistInfo:
    """Read ``wanted`` files (e.g. ``entry_points.txt``) of the wheel at ``url``.

    Raises ``ApiError`` for transport failures and ``WheelError`` when the bytes are not a
    usable wheel (bad zip, CRC mismatch, no or several dist-info directories, a member too big).
    """
    tail = http.get_tail(ecosystem, url, TAIL_BYTES, max_bytes=max_bytes)
    fileobj: io.RawIOBase | io.BytesIO
    if tail.ranged:
        fileobj = RangeFile(
            lambda start, length: http.get_range(ecosystem, url, start, length, max_bytes=max_bytes),
            tail,
            budget=max_bytes,
        )
    else:
        if sha256 and hashlib.sha256(tail.data).hexdigest() != sha256:
            raise ApiError("bad_response", url, "wheel does not match the sha256 the index lists")
        fileobj = io.BytesIO(tail.data)
    try:
        with zipfile.ZipFile(fileobj) as archive:
            names = archive.namelist()
            directory = _dist_info_dir(names, project)
            scripts = data_scripts(names, directory)
            files = {}
            for member in wanted:
                try:
                    info = archive.getinfo(f"{directory}/{member}")
                except KeyError:
                    continue
                if info.file_size > MEMBER_CAP:
                    raise WheelError(f"{info.filename} is {info.file_size} bytes, over the {MEMBER_CAP} cap")
                with archive.open(info) as fh:
                    data = fh.read(MEMBER_CAP + 1)
                if len(data) > MEMBER_CAP:
                    raise WheelError(f"{info.filename} inflates past the {MEMBER_CAP} byte cap")
                files[member] = data
    except UNREADABLE_ZIP as exc:
        # the bytes are untrusted: whatever zipfile trips over is "not a readable wheel"
        raise WheelError(f"not a readable wheel: {type(exc).__name__}: {exc}") from None
    return DistInfo(directory, files, tail.ranged, scripts)


# --- its executables ------------------------------------------------------------------------


def parse_entry_points(data: bytes) -> dict[str, tuple[tuple[str, str], ...]]:
    """Sections of ``entry_points.txt`` -> (name, object reference) pairs, parsed as
    ``importlib.metadata`` does: ``[section]`` headers, ``name = value`` split at the first ``=``,
    ``#``/``;`` comment lines ignored."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for line in data.decode("utf-8", errors="replace").splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            current = sections.setdefault(stripped[1:-1].strip(), [])
            continue
        name, sep, value = stripped.partition("=")
        if current is not None and sep:
            current.append((name.strip(), value.strip()))
    return {key: tuple(pairs) for key, pairs in sections.items()}


def console_scripts(data: bytes) -> tuple[str, ...]:
    """Names of the ``console_scripts`` entry points (raw, unvalidated, in file order)."""
    return tuple(name for name, _ref in parse_entry_points(data).get("console_scripts", ()))


def entry_point_scripts(data: bytes) -> tuple[str, ...]:
    """Names of ``console_scripts`` and ``gui_scripts`` (pip links both into ``bin/`` on Linux;
    a gui script is an ordinary command there), in file order, raw."""
    sections = parse_entry_points(data)
    return tuple(name for key in ("console_scripts", "gui_scripts") for name, _ref in sections.get(key, ()))


#: A name tied to one interpreter version: ``tool-3.11``, ``pip3.11``, ``tool3.12``, ``tool-py3.12``.
INTERPRETER_BOUND = re.compile(r"(?<![0-9.])3\.\d{1,2}$")
#: ``.data/scripts`` files that never run on Linux (pip copies them anyway).
WINDOWS_SCRIPT = re.compile(r"\.(?:exe|bat|cmd|ps1|com)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Executables:
    """What a wheel installs into ``bin/`` on Linux: kept names (raw) and the names left out."""

    names: tuple[str, ...]
    left_out: tuple[str, ...]


def wheel_executables(entry_points: bytes, scripts: tuple[str, ...]) -> Executables:
    """The wheel's executables: entry point scripts and ``.data/scripts`` files, without names tied
    to one interpreter version (they exist under that Python only) and Windows-only scripts."""
    kept: list[str] = []
    left_out: list[str] = []
    for name in (*entry_point_scripts(entry_points), *scripts):
        if INTERPRETER_BOUND.search(name) or WINDOWS_SCRIPT.search(name):
            left_out.append(name)
        elif name not in kept:
            kept.append(name)
    return Executables(tuple(kept), tuple(left_out))


# --- a project that publishes only an sdist ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class SdistFile:
    filename: str
    url: str
    version: Version
    sha256: str | None


#: The largest sdist read (downloaded whole: a .tar.gz has no index to range-read).
SDIST_CAP = 32 * 1024 * 1024
#: setuptools writes the entry points into the sdist's egg-info (at its top, or under ``src/``).
_EGG_ENTRY_POINTS = re.compile(r"(?:src/)?[^/]+\.egg-info/entry_points\.txt")


def select_sdist(page: Any, page_url: str, project: str) -> SdistFile | None:
    """The newest non-yanked ``.tar.gz`` sdist of ``project`` (final releases first, as pip
    chooses), for a project without a usable wheel; ``None`` when there is none."""
    wanted = normalize_project(project)
    found: list[SdistFile] = []
    for entry in _check_meta(page):
        if not isinstance(entry, Mapping) or entry.get("yanked", False) not in (False, None):
            continue
        filename, url = entry.get("filename"), entry.get("url")
        if not isinstance(filename, str) or not isinstance(url, str) or not filename.endswith(".tar.gz"):
            continue
        try:
            name, version = parse_sdist_filename(filename)
        except InvalidSdistFilename:
            continue
        absolute = urljoin(page_url, url).partition("#")[0]
        if name == wanted and urlsplit(absolute).scheme in ("http", "https"):
            found.append(SdistFile(filename, absolute, version, _sha256(entry.get("hashes"))))
    finals = [s for s in found if not s.version.is_prerelease] or found
    return max(finals, key=lambda s: (s.version, s.filename)) if finals else None


@dataclass(frozen=True, slots=True)
class SdistInfo:
    """What an sdist says without a build: ``PKG-INFO`` and its entry points, as
    ``entry_points.txt`` text (from ``*.egg-info/``, else ``[project.scripts]`` /
    ``[project.gui-scripts]`` of ``pyproject.toml``, else ``[options.entry_points]`` of
    ``setup.cfg``), and the script files ``[options] scripts`` of ``setup.cfg`` installs (by
    name); ``where`` names the file they came from (``""``: none declared)."""

    metadata: bytes
    entry_points: bytes
    where: str
    scripts: tuple[str, ...] = ()


def read_sdist(body: bytes) -> SdistInfo:
    """The metadata and entry points of an sdist (``WheelError`` when it is not a readable one).

    Nothing is built and no code of the package runs: an sdist whose commands come only from
    ``setup.py`` has none readable here (``where`` is ``""``)."""
    try:
        with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
            members = {m.name: m for m in archive.getmembers() if m.isfile()}
            roots = {name.partition("/")[0] for name in members}
            if len(roots) != 1:
                raise WheelError(f"expected one top directory, found {len(roots)}")
            (root,) = roots

            def read(name: str) -> bytes | None:
                member = members.get(f"{root}/{name}")
                if member is None or member.size > MEMBER_CAP:
                    return None
                handle = archive.extractfile(member)
                return handle.read() if handle is not None else None

            metadata = read("PKG-INFO")
            if metadata is None:
                raise WheelError("no PKG-INFO at its top")
            inside = sorted(name.partition("/")[2] for name in members)
            egg = [name for name in inside if _EGG_ENTRY_POINTS.fullmatch(name)]
            if egg and (text := read(egg[0])) is not None:
                return SdistInfo(metadata, text, egg[0])
            pyproject = read("pyproject.toml")
            scripts = _pyproject_scripts(pyproject) if pyproject is not None else b""
            if scripts:
                return SdistInfo(metadata, scripts, "pyproject.toml")
            setup_cfg = read("setup.cfg")
            if setup_cfg is None:
                return SdistInfo(metadata, b"", "")
            scripts, files = _setup_cfg_scripts(setup_cfg)
            return SdistInfo(metadata, scripts, "setup.cfg" if scripts or files else "", files)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise WheelError(f"not a readable .tar.gz: {exc}") from None


def _pyproject_scripts(data: bytes) -> bytes:
    try:
        project = tomllib.loads(data.decode("utf-8", "replace")).get("project", {})
    except tomllib.TOMLDecodeError:
        return b""
    sections = []
    for key, section in (("scripts", "console_scripts"), ("gui-scripts", "gui_scripts")):
        table = project.get(key) if isinstance(project, Mapping) else None
        if isinstance(table, Mapping) and table:
            lines = "".join(f"{name} = {ref}\n" for name, ref in table.items() if isinstance(ref, str))
            sections.append(f"[{section}]\n{lines}")
    return "".join(sections).encode()


def _setup_cfg_scripts(data: bytes) -> tuple[bytes, tuple[str, ...]]:
    """The entry points (as ``entry_points.txt`` text) and script file names of a setup.cfg."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(data.decode("utf-8", "replace"))
    except configparser.Error:
        return b"", ()
    sections = []
    for section in ("console_scripts", "gui_scripts"):
        raw = parser.get("options.entry_points", section, fallback="")
        lines = [line.strip() for line in raw.splitlines() if "=" in line]
        if lines:
            sections.append(f"[{section}]\n" + "".join(f"{line}\n" for line in lines))
    listed = parser.get("options", "scripts", fallback="").split()
    return "".join(sections).encode(), tuple(path.rpartition("/")[2] for path in listed)
