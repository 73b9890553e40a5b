"""Homebrew bottles: gzipped tarballs of ``<formula>/<keg version>/...``."""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass


@dataclass(frozen=True)
class Member:
    """One tar member: a file (``data``), a symlink (``link``) or a directory."""

    data: bytes = b""
    mode: int = 0o444
    link: str | None = None


def build_bottle(members: dict[str, Member]) -> bytes:
    """The bottle's bytes, members in the order given."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, member in members.items():
            info = tarfile.TarInfo(name)
            if member.link is not None:
                info.type, info.linkname = tarfile.SYMTYPE, member.link
                tar.addfile(info)
            else:
                info.size, info.mode = len(member.data), member.mode
                tar.addfile(info, io.BytesIO(member.data))
    return buffer.getvalue()
