"""Unpacking downloaded archives into a prefix, refusing anything that would leave it.

The one rule for every runner that unpacks (crates, gems, CPAN distributions, bottles): the
standard library's ``tarfile`` ``data`` filter (PEP 706), which refuses absolute paths, ``..``
members, links pointing outside the destination, device files and special bits. A refused
member is the install's failure, naming the member and why; nothing is left half-unpacked
under a name a later step could mistake for a complete tree.
"""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path


class UnsafeArchiveError(Exception):
    """An archive that cannot be unpacked safely (or at all); the message names the member."""


class _OverCapError(Exception):
    def __init__(self, member: str) -> None:
        self.member = member
        super().__init__(member)


def extract_tar(archive: Path, dest: Path, *, max_bytes: int | None = None) -> None:
    """Unpack the tar (any compression tarfile reads) ``archive`` into the new directory ``dest``.

    ``max_bytes`` caps the members' total size (a decompression bomb stops at the member that
    passes it). Raises ``UnsafeArchiveError`` for a hostile, oversized or unreadable archive;
    ``dest`` is then removed.
    """
    dest.mkdir(parents=True, exist_ok=False)
    total = 0

    def data_within_cap(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo | None:
        nonlocal total
        checked = tarfile.data_filter(member, path)
        total += member.size
        if max_bytes is not None and total > max_bytes:
            raise _OverCapError(member.name)
        return checked

    try:
        with tarfile.open(archive) as tar:
            tar.extractall(dest, filter=data_within_cap)  # noqa: S202 - data_filter checks each member
    except _OverCapError as exc:
        shutil.rmtree(dest, ignore_errors=True)
        raise UnsafeArchiveError(
            f"{archive.name}: unpacks to more than {max_bytes} bytes (stopped at member {exc.member!r})"
        ) from None
    except tarfile.FilterError as exc:
        shutil.rmtree(dest, ignore_errors=True)
        member = exc.tarinfo.name if exc.tarinfo is not None else "?"
        raise UnsafeArchiveError(f"{archive.name}: member {member!r} refused: {exc}") from None
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        shutil.rmtree(dest, ignore_errors=True)
        raise UnsafeArchiveError(f"{archive.name}: cannot unpack: {exc}") from None
