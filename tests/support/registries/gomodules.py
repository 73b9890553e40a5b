"""Go module zips (the ``<module>@<version>/...`` layout) and their ``h1:`` hashes."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from dataclasses import dataclass


def h1(files: dict[str, bytes]) -> str:
    """Go's ``h1:`` directory hash (dirhash.Hash1) of named files."""
    summary = "".join(f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n" for name in sorted(files))
    return "h1:" + base64.b64encode(hashlib.sha256(summary.encode()).digest()).decode()


@dataclass
class Module:
    """One module version of a proxy: its files (relative to the module root)."""

    path: str
    version: str
    files: dict[str, str]

    def zip(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in self.named().items():
                archive.writestr(name, data)
        return buffer.getvalue()

    def named(self) -> dict[str, bytes]:
        return {f"{self.path}@{self.version}/{name}": text.encode() for name, text in self.files.items()}

    def go_sum_lines(self) -> str:
        mod = h1({"go.mod": self.files["go.mod"].encode()})
        return f"{self.path} {self.version} {h1(self.named())}\n{self.path} {self.version}/go.mod {mod}\n"
