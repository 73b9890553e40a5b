"""Cargo: crates.io's category ``command-line-utilities`` by downloads, checked for binaries.

1. ``GET {cargo}/crates?category=command-line-utilities&sort=downloads&page=N&per_page=M``
   answers ``{"crates": [{"id": "ripgrep", "name": "ripgrep", "downloads": 123,
   "recent_downloads": 45, "default_version": "14.1.1", "max_stable_version": "14.1.1",
   "newest_version": "14.1.1", "max_version": "14.1.1", "yanked": false, "versions": null, ...}],
   "meta": {"total": n, "next_page": "?page=2&..." | null, "prev_page": null}}``. Pages are read
   until ``max_candidates`` crates are queued, ``scan_limit`` crates were examined, an empty page,
   or ``meta.next_page`` null. Popularity is ``downloads`` (all time), the field the list is
   sorted by.
2. ``cargo-<x>`` crates are cargo subcommands (run as ``cargo <x>``, useless without cargo): they
   are dropped before any request.
3. Each other crate's ``default_version`` (crates.io's pick: the highest non-yanked stable
   release, else the highest pre-release, the version ``cargo install`` takes and the generator's
   builder chooses) is read with ``GET {cargo}/crates/<name>/<version>``, answering
   ``{"version": {"num": "14.1.1", "bin_names": ["rg"], "has_lib": false, "yanked": false,
   "dl_path": "...", ...}}``. Versions published before mid-2024 answer ``"bin_names": null`` and
   ``"has_lib": null`` (not analysed): then the ``.crate`` (``GET .../<version>/download``, a
   redirect to the static host, read whole under a 32 MiB cap) is read as cargo decides targets,
   by ``recipeline_schema.crate_archive``, the code the generator's builder uses.
4. No binary: a library, dropped with the reason; only ``cargo-*`` binaries: a subcommand,
   dropped. The queue name is the command: the crate's name when it is one of the binaries, else
   the first binary that is not ``cargo-*`` (``fd-find`` -> ``fd``); the identifier is the crate.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any
from urllib.parse import quote

from recipeline_schema.crate_archive import CrateArchiveError, read_crate

from .common import ApiSource, FormatError, Row, count, field

CATEGORY = "command-line-utilities"
SUBCOMMAND_PREFIX = "cargo-"
#: crates.io refuses uploads over 10 MB unless raised for a crate; the generator's cap too
MAX_CRATE_BYTES = 32 * 1024 * 1024


def command_name(crate: str, binaries: list[str]) -> str | None:
    """The command of a crate installing ``binaries``: its own name, else the first that is not
    a cargo subcommand; None when every binary is ``cargo-*``."""
    if crate in binaries:
        return crate
    return next((b for b in binaries if not b.startswith(SUBCOMMAND_PREFIX)), None)


class CargoSource(ApiSource):
    """crates.io command-line utilities that install a command, by all-time downloads."""

    ecosystem = "cargo"
    label = "cargo:crates.io/category/command-line-utilities"

    def rows(self) -> Iterator[Row]:
        for name, downloads, version in self._listed():
            if name.startswith(SUBCOMMAND_PREFIX):
                self.drop(name, "a cargo subcommand: run as `cargo <x>`, it needs cargo")
                continue
            command = self.checked(name, partial(self._command, name, version))
            if command is not None:
                yield Row(command, name, downloads)

    def _listed(self) -> Iterator[tuple[str, int, str]]:
        """(crate, downloads, default version) of the category's list, pages read as needed."""
        examined = 0
        page = 1
        per_page = min(self.settings.page_size, 100)  # crates.io's maximum
        while True:
            url = f"{self.base_url}/crates?category={CATEGORY}&sort=downloads&page={page}&per_page={per_page}"
            data = self.get_json(url)
            crates = field(data, "crates", list, url)
            for i, crate in enumerate(crates):
                if examined >= self.settings.scan_limit:
                    return
                examined += 1
                where = f"{url} $.crates[{i}]"
                name = crate.get("name") if isinstance(crate, dict) else None
                if not isinstance(name, str):
                    self.drop(where, "at .name: expected a string")
                    continue
                downloads = count(crate.get("downloads"))
                version = crate.get("default_version") or crate.get("max_stable_version")
                if downloads is None:
                    self.drop(name, f"{where}.downloads: expected a whole number >= 0")
                elif not isinstance(version, str):
                    got = type(version).__name__
                    self.drop(name, f"{where}.default_version: expected a string, got {got}")
                else:
                    yield name, downloads, version
            meta = data.get("meta")
            if not crates or not isinstance(meta, dict) or not meta.get("next_page"):
                return
            page += 1

    def _command(self, crate: str, num: str) -> str | None:
        url = f"{self.base_url}/crates/{quote(crate, safe='')}/{quote(num, safe='')}"
        version = field(self.get_json(url), "version", dict, url)
        bins: Any = version.get("bin_names")
        has_lib: Any = version.get("has_lib")
        if bins is None:  # not analysed (published before mid-2024): the .crate decides
            binaries, has_lib = self._crate_targets(crate, num, f"{url}/download")
            told = "its .crate's Cargo.toml and src/"
        elif isinstance(bins, list) and all(isinstance(b, str) for b in bins):
            binaries, told = bins, "bin_names is empty"
            if has_lib is not None and not isinstance(has_lib, bool):
                raise FormatError(f"{url}: at $.version.has_lib: expected null or a boolean")
        else:
            raise FormatError(f"{url}: at $.version.bin_names: expected null or a list of strings")
        if not binaries:
            what = "a library: version" if has_lib else "not a tool: version"
            self.drop(crate, f"{what} {num} has no binary target ({told})")
            return None
        command = command_name(crate, binaries)
        if command is None:
            self.drop(crate, f"a cargo subcommand: version {num} installs only {', '.join(binaries)}")
        return command

    def _crate_targets(self, crate: str, num: str, url: str) -> tuple[list[str], bool]:
        data = self.client.get(self.ecosystem, url, max_bytes=MAX_CRATE_BYTES).body
        try:
            targets = read_crate(data, crate, num)
        except CrateArchiveError as exc:
            raise FormatError(f"{url}: {crate}-{num}.crate: {exc}") from None
        return list(targets.binaries), targets.has_lib
