"""The cargo builder: a crate's newest non-yanked version -> a ``cargo_install`` recipe.

Requests, all through the shared ``HttpClient`` (ecosystem ``cargo``), against the crates.io API
base URL from ``recipeline_schema.api_base_url("cargo")`` (``RECIPELINE_CARGO_URL`` overrides):
1. ``GET <api>/crates/<name>``: the crate (description, homepage, repository) and its versions;
   ``GET <api>/crates/<name>/versions`` when that answer carries no version list;
2. only when the chosen version's ``bin_names`` is ``null`` or absent (crates.io analyses targets
   only for versions published since mid-2024; older ones answer ``null``, also from the
   per-version endpoint, which is therefore never asked): ``GET <api>/crates/<name>/<version>/
   download`` (crates.io redirects it to its static host), the ``.crate`` read whole under a
   32 MiB cap, and its binaries decided from ``Cargo.toml`` and ``src/`` as cargo does
   (``recipeline_schema.crate_archive``, shared with the seeder).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from recipeline_schema import Recipe
from recipeline_schema.crate_archive import CrateArchiveError, CrateTargets, read_crate
from recipeline_schema.http import ApiError

from .builder_support import (
    ApiBuilder,
    InsufficientError,
    UpstreamError,
    describe,
    first_https,
    hosts,
    safe_executables,
    text_field,
    upstream,
)
from .recipes import install_recipe

#: crates.io's rule for crate names (ASCII letter first, then letters, digits, ``-``, ``_``).
CRATE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$"
)

SemverKey = tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]
#: A ``.crate`` is read whole (gzip has no random access); crates.io refuses uploads over 10 MB
#: unless raised for a crate, so this cap leaves room and still bounds memory.
MAX_CRATE_BYTES = 32 * 1024 * 1024


def semver_key(text: str) -> SemverKey | None:
    """A sort key giving SemVer 2.0 precedence (build metadata ignored), or ``None`` if invalid."""
    m = _SEMVER.match(text)
    if m is None:
        return None
    major, minor, patch, pre = int(m[1]), int(m[2]), int(m[3]), m[4]
    if pre is None:
        return (major, minor, patch, 1, ())
    # numeric identifiers sort below alphanumeric ones; a shorter list below a longer one
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (major, minor, patch, 0, parts)


def newest_version(versions: list[Any]) -> Mapping[str, Any] | None:
    """The newest non-yanked version object, stable releases first (as ``cargo install`` picks)."""
    best: tuple[tuple[bool, SemverKey], Mapping[str, Any]] | None = None
    for version in versions:
        if not isinstance(version, Mapping) or version.get("yanked") is not False:
            continue  # yanked, or a shape we cannot trust to say it is not
        key = semver_key(text_field(version, "num"))
        if key is None:
            continue
        rank = (key[3] == 1, key)
        if best is None or rank > best[0]:
            best = (rank, version)
    return None if best is None else best[1]


class CargoBuilder(ApiBuilder):
    """Builds recipes for ``cargo:<crate>`` sources from the crates.io API."""

    ecosystem = "cargo"
    api_key = "cargo"

    def can_build(self, identifier: str) -> bool:
        """True for a valid crate name."""
        return bool(CRATE_RE.fullmatch(identifier))

    def _generate(self, crate: str, name: str) -> Recipe:
        if not self.can_build(crate):
            raise InsufficientError("unsupported_source", f"{crate!r} is not a valid crate name")
        base = quote(crate, safe="")
        doc = self._get(f"crates/{base}", f"crate {crate}")
        info = doc.get("crate")
        if not isinstance(info, Mapping):
            raise UpstreamError("bad_response", f"crate {crate}: answer has no 'crate' object")
        versions = doc.get("versions")
        if not isinstance(versions, list):
            versions = self._get(f"crates/{base}/versions", f"versions of {crate}").get("versions")
            if not isinstance(versions, list):
                raise UpstreamError("bad_response", f"versions of {crate}: answer has no 'versions' list")
        chosen = newest_version(versions)
        if chosen is None:
            raise InsufficientError(
                "archive_extraction_failed", f"crate {crate} has no non-yanked version with a SemVer number"
            )
        num = text_field(chosen, "num")
        targets = self._targets(crate, num, chosen, versions.index(chosen))
        targets_source = (
            "bin_names is empty"
            if chosen.get("bin_names") is not None
            else "Cargo.toml and src/ of the .crate"
        )
        if not targets.binaries:
            if targets.has_lib:
                raise InsufficientError(
                    "library_only", f"crate {crate} {num} is a library: no bin targets ({targets_source})"
                )
            raise InsufficientError(
                "binary_discovery_failed", f"crate {crate} {num} has no bin targets ({targets_source})"
            )
        bins = targets.binaries
        executables = safe_executables(bins, f"crate {crate} {num}")
        homepage = first_https(
            (text_field(info, key) for key in ("homepage", "repository", "documentation")),
            avoid_hosts=hosts(self.api_url),
        )
        return install_recipe(
            name=name,
            action="cargo_install",
            package_key="crate",
            package=crate,
            executables=executables,
            description=describe(text_field(info, "description"), f"Command-line tools of the crate {crate}"),
            homepage=homepage,
            project=crate,
        )

    def _targets(self, crate: str, num: str, version: Mapping[str, Any], position: int) -> CrateTargets:
        """Binaries: ``bin_names``/``has_lib`` when crates.io analysed the version, else the ``.crate``."""
        bins = version.get("bin_names")
        if bins is None:
            return self._crate_targets(crate, num)
        if not isinstance(bins, list) or not all(isinstance(b, str) for b in bins):
            raise UpstreamError(
                "bad_response",
                f"crate {crate}: 'versions[{position}].bin_names' is not null or a list of strings",
            )
        has_lib = version.get("has_lib")
        if has_lib is not None and not isinstance(has_lib, bool):
            raise UpstreamError(
                "bad_response", f"crate {crate}: 'versions[{position}].has_lib' is not null or a boolean"
            )
        return CrateTargets(tuple(bins), has_lib is True)

    def _crate_targets(self, crate: str, num: str) -> CrateTargets:
        what = f"{crate}-{num}.crate"
        url = f"{self.api_url}/crates/{quote(crate, safe='')}/{quote(num, safe='')}/download"
        try:
            data = self._http.get(self.ecosystem, url, max_bytes=MAX_CRATE_BYTES).body
        except ApiError as exc:
            raise upstream(exc, what) from None
        try:
            return read_crate(data, crate, num)
        except CrateArchiveError as exc:
            raise InsufficientError("archive_extraction_failed", f"{what}: {exc}") from None
