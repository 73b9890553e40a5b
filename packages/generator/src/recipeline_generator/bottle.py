"""Pure reading of Homebrew bottles: the formula's bottle facts and the tarball.

Homebrew publishes each bottle as a blob of ``ghcr.io/homebrew/core/<repo>``, named in the formula
JSON (``bottle.stable.files.<tag>`` = ``{cellar, url, sha256}``, the url ending in
``/blobs/sha256:<sha256>``). The tarball holds ``<formula>/<pkg version>/{bin,lib,include,share,...}``.
"""

from __future__ import annotations

import io
import re
import tarfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .recipes import EXECUTABLE_RE

#: Homebrew/core formula and cask names: lower case, digits and ``@+._-`` (no tap paths).
FORMULA_RE = re.compile(r"^[a-z0-9][a-z0-9@+._-]{0,99}$")
#: A version string we put into a URL path (Homebrew versions: digits, letters, ``._+-``).
VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
_LIBRARY_SUFFIX = re.compile(r"\.(a|dylib|so|pc)$|\.so\.\d")


class BottleFormatError(ValueError):
    """The formula JSON or image index does not have the shape Homebrew documents."""


@dataclass(frozen=True, slots=True)
class BottleFacts:
    """What the formula JSON says about its bottles."""

    stable: str
    revision: int
    rebuild: int
    files: Mapping[str, str]  # bottle tag -> sha256 ("" when not given)

    @property
    def pkg_version(self) -> str:
        return f"{self.stable}_{self.revision}" if self.revision else self.stable

    def bottle_for(self, target: str) -> str | None:
        """The bottle tag serving ``target``: itself, or ``all`` (platform-independent bottles)."""
        for tag in (target, "all"):
            if tag in self.files:
                return tag
        return None


def _int(value: Any, where: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BottleFormatError(f"{where}: expected a non-negative integer, got {value!r}")
    return value


def bottle_facts(formula: Mapping[str, Any]) -> BottleFacts:
    """The stable version, revision, rebuild and bottle files of a formula API document."""
    versions = formula.get("versions")
    stable = versions.get("stable") if isinstance(versions, Mapping) else None
    if not isinstance(stable, str) or not VERSION_RE.fullmatch(stable):
        raise BottleFormatError(f"versions.stable: expected a version string, got {str(stable)[:40]!r}")
    revision = _int(formula.get("revision"), "revision")
    bottle = formula.get("bottle")
    stable_bottle = bottle.get("stable") if isinstance(bottle, Mapping) else None
    files: dict[str, str] = {}
    rebuild = 0
    if isinstance(stable_bottle, Mapping):
        rebuild = _int(stable_bottle.get("rebuild"), "bottle.stable.rebuild")
        raw_files = stable_bottle.get("files")
        if raw_files is not None and not isinstance(raw_files, Mapping):
            kind = type(raw_files).__name__
            raise BottleFormatError(f"bottle.stable.files: expected an object, got {kind}")
        if isinstance(raw_files, Mapping):
            for tag, info in raw_files.items():
                if isinstance(tag, str) and re.fullmatch(r"[a-z0-9_]{1,40}", tag):
                    sha = info.get("sha256") if isinstance(info, Mapping) else None
                    valid = isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha)
                    files[tag] = sha if isinstance(sha, str) and valid else ""
    return BottleFacts(stable, revision, rebuild, files)


def ghcr_repository(formula: str) -> str:
    """The GHCR image name of a formula (Homebrew's ``image_formula_name``: ``@``->``/``, ``+``->``x``)."""
    return formula.replace("@", "/").replace("+", "x")


@dataclass(frozen=True, slots=True)
class BottleContents:
    """Executables directly under ``bin/`` (safe names, sorted), names dropped, and library evidence."""

    executables: tuple[str, ...]
    dropped: tuple[str, ...]
    has_library: bool


class ArchiveError(ValueError):
    """The bottle is not a readable gzip tarball, or a member path tries to leave the keg."""


def list_bottle(data: bytes) -> BottleContents:
    """Read the tarball's member list (nothing is extracted) and sort out ``bin/`` and ``lib/``.

    Members are ``<formula>/<version>/<dir>/...``. An absolute member path or a ``..`` part makes
    the whole archive untrusted (``ArchiveError``). Entries of ``bin/`` that are not safe
    executable names (``g[`` of coreutils, or hostile text) are dropped and reported.
    """
    executables: set[str] = set()
    dropped: set[str] = set()
    has_library = False
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar:
                name = member.name
                while name.startswith("./"):
                    name = name[2:]
                parts = [p for p in name.split("/") if p]
                if name.startswith("/") or ".." in parts:
                    raise ArchiveError(f"member {name[:80]!r} leaves the keg")
                if len(parts) < 4 or member.isdir():
                    continue
                top = parts[2]
                if top == "bin" and len(parts) == 4 and (member.isfile() or member.issym() or member.islnk()):
                    if EXECUTABLE_RE.fullmatch(parts[3]):
                        executables.add(parts[3])
                    else:
                        dropped.add(repr(parts[3])[:40])
                elif top in ("lib", "include") and (top == "include" or _LIBRARY_SUFFIX.search(parts[-1])):
                    has_library = True
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise ArchiveError(f"not a readable gzip tarball ({type(exc).__name__}: {str(exc)[:80]})") from None
    return BottleContents(tuple(sorted(executables)), tuple(sorted(dropped)), has_library)
