"""The binaries ``cargo install`` builds from a ``.crate`` archive, decided as cargo decides them.

A ``.crate`` is a gzipped tar of ``<name>-<version>/...`` holding the normalized ``Cargo.toml``
and the sources. Cargo's target rules (The Cargo Book, "Cargo Targets" / "Target
auto-discovery"):

- explicit ``[[bin]]`` tables name binaries (``name``; a ``path`` only says where the source is);
- unless ``[package] autobins = false``, binaries are also inferred: ``src/main.rs`` builds one
  named like the package, ``src/bin/<x>.rs`` and ``src/bin/<x>/main.rs`` one named ``<x>``; an
  explicit ``[[bin]]`` of the same name replaces the inferred one. In the 2015 edition inference
  is off when at least one ``[[bin]]`` is written (cargo's compatibility rule);
- ``cargo install`` builds default features, so a binary whose ``required-features`` are not all
  enabled by ``[features] default`` is not installed.

Only the member list and ``Cargo.toml`` are read, in memory; nothing is extracted to disk.

Shared by the generator's cargo builder (the executables of a recipe) and the seeder's cargo
source (is a candidate a tool, and what is its command), so that both decide alike; pure, no
request. Imported from its module: ``from recipeline_schema.crate_archive import read_crate``.
"""

from __future__ import annotations

import io
import tarfile
import tomllib
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Largest ``Cargo.toml`` read (real ones are a few KiB).
MANIFEST_CAP = 1024 * 1024


class CrateArchiveError(ValueError):
    """The ``.crate`` is not a readable gzip tar of ``<name>-<version>/``, or its Cargo.toml is unusable."""


@dataclass(frozen=True, slots=True)
class CrateTargets:
    """What the archive says: the binaries ``cargo install`` builds, and whether it has a library."""

    binaries: tuple[str, ...]
    has_lib: bool


def read_crate(data: bytes, name: str, version: str) -> CrateTargets:
    """The targets of ``<name>-<version>.crate`` given as bytes; ``CrateArchiveError`` when unreadable."""
    root = f"{name}-{version}/"
    manifest: bytes | None = None
    sources: set[str] = set()
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar:
                path = member.name.removeprefix("./")
                parts = path.split("/")
                if path.startswith("/") or ".." in parts or not path.startswith(root):
                    raise CrateArchiveError(f"member {path[:80]!r} is outside {root}")
                inner = path[len(root) :]
                if inner == "Cargo.toml" and member.isfile():
                    if member.size > MANIFEST_CAP:
                        raise CrateArchiveError(f"Cargo.toml is over {MANIFEST_CAP} bytes")
                    fh = tar.extractfile(member)
                    assert fh is not None  # a regular file always has one
                    manifest = fh.read()
                elif inner.startswith("src/") and (member.isfile() or member.issym()):
                    sources.add(inner)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise CrateArchiveError(f"not a readable gzip tar ({type(exc).__name__}: {str(exc)[:80]})") from None
    if manifest is None:
        raise CrateArchiveError(f"no {root}Cargo.toml")
    try:
        doc = tomllib.loads(manifest.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CrateArchiveError(f"Cargo.toml is not TOML: {str(exc)[:80]}") from None
    return targets(doc, sources, name)


def _table(doc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, Mapping):
        raise CrateArchiveError(f"Cargo.toml: '{key}' is not a table")
    return value


def inferred_binaries(sources: set[str], package: str) -> dict[str, str]:
    """Cargo's auto-discovered binaries: name -> source path."""
    found: dict[str, str] = {}
    if "src/main.rs" in sources:
        found[package] = "src/main.rs"
    for path in sorted(sources):
        rest = path.removeprefix("src/bin/")
        if rest == path:
            continue
        if "/" not in rest and rest.endswith(".rs"):
            found.setdefault(rest[:-3], path)
        elif rest.count("/") == 1 and rest.endswith("/main.rs"):
            found.setdefault(rest.split("/")[0], path)
    return found


def targets(doc: Mapping[str, Any], sources: set[str], crate: str) -> CrateTargets:
    """The binaries and library of a parsed ``Cargo.toml`` and the archive's ``src/`` paths."""
    package = _table(doc, "package")
    if package.get("name") != crate:
        raise CrateArchiveError(
            f"Cargo.toml: 'package.name' is {str(package.get('name'))[:60]!r}, not {crate!r}"
        )
    edition = package.get("edition", "2015")
    explicit = doc.get("bin", [])
    if not isinstance(explicit, list) or not all(isinstance(b, Mapping) for b in explicit):
        raise CrateArchiveError("Cargo.toml: 'bin' is not an array of tables")
    autobins = package.get("autobins", not (edition == "2015" and explicit))
    if not isinstance(autobins, bool):
        raise CrateArchiveError("Cargo.toml: 'package.autobins' is not a boolean")
    features = _table(doc, "features")
    default = features.get("default", [])
    enabled = set(default) if isinstance(default, list) else set()
    bins: dict[str, Mapping[str, Any]] = {}
    if autobins:
        bins = {bin_name: {} for bin_name in inferred_binaries(sources, crate)}
    for i, table in enumerate(explicit):
        bin_name = table.get("name")
        if not isinstance(bin_name, str):
            raise CrateArchiveError(f"Cargo.toml: 'bin[{i}].name' is missing or not a string")
        bins[bin_name] = table
    installed = []
    for bin_name, table in bins.items():
        required = table.get("required-features", [])
        if isinstance(required, list) and not set(required) <= enabled:
            continue  # cargo install (default features) skips it
        installed.append(bin_name)
    has_lib = "lib" in doc or (package.get("autolib", True) is not False and "src/lib.rs" in sources)
    return CrateTargets(tuple(sorted(installed)), has_lib)
