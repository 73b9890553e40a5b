"""npm package tarballs (``package/...``, as ``npm pack`` writes them) and their packuments."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import textwrap


def build_npm_tarball(
    manifest: dict[str, object], files: dict[str, str], executable: tuple[str, ...] = ()
) -> bytes:
    """An npm package tarball: ``package.json`` from ``manifest``, then ``files`` (dedented)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        entries = {"package.json": json.dumps(manifest, indent=2), **files}
        for path, text in entries.items():
            data = textwrap.dedent(text).lstrip().encode()
            info = tarfile.TarInfo(f"package/{path}")
            info.size = len(data)
            info.mode = 0o755 if path in executable else 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def packument(manifest: dict[str, object], tarball: bytes, url: str) -> dict[str, object]:
    """The registry document of a one-version package whose tarball is served at ``url``."""
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    version = str(manifest["version"])
    dist = {
        "tarball": url,
        "shasum": hashlib.sha1(tarball, usedforsecurity=False).hexdigest(),
        "integrity": integrity,
    }
    entry = json.loads(json.dumps(manifest)) | {"dist": dist}
    return {"name": manifest["name"], "dist-tags": {"latest": version}, "versions": {version: entry}}
