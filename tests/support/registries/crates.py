"""``.crate`` files, as ``cargo package`` writes them."""

from __future__ import annotations

import io
import tarfile


def build_crate(
    name: str, version: str, files: dict[str, str], *, links: dict[str, str] | None = None
) -> bytes:
    """A ``.crate`` (gzipped tar of ``<name>-<version>/...``); a path starting with ``../`` is
    written as it is (a hostile member), ``links`` are symlinks (path -> target)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path if path.startswith("../") else f"{name}-{version}/{path}")
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
        for path, target in (links or {}).items():
            info = tarfile.TarInfo(f"{name}-{version}/{path}")
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return buffer.getvalue()
