"""Read a few ``.dist-info`` files of a remote wheel, fetching only the bytes they need.

A wheel is a zip: its end-of-central-directory record and central directory sit at the end, and
the ``.dist-info`` files are written last, so one suffix range request usually holds everything.
``RangeFile`` gives ``zipfile`` a seekable view of the remote file that serves reads from the
bytes already fetched and fetches what is missing with range requests (the approach of pip's
``lazy_wheel``). A server that ignores ``Range`` sends the whole wheel, read under the size cap
and checked against the index's sha256.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from packaging.utils import canonicalize_name

from recipeline_schema.http import ApiError, HttpClient, Tail

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
