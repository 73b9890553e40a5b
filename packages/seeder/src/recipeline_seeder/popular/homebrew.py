"""Homebrew and Homebrew Cask: the public install analytics of formulae.brew.sh.

- formulae: ``GET {homebrew}/analytics/install-on-request/30d.json``
- casks:    ``GET {homebrew}/analytics/cask-install/30d.json``

Both answer ``{"category": ..., "total_items": n, "start_date": ..., "end_date": ...,
"total_count": n, "items": [{"number": 1, "formula"|"cask": "node", "count": "361,041",
"percent": "2.55"}, ...]}``, already sorted by count. ``count`` is a string with thousands
separators. A cask's token is its name and identifier.

Formulae are checked the way the generator's Homebrew builder reads them, before they are queued:

1. A versioned formula (``python@3.12``, ``openssl@3``: ``@`` is not a recipe-name character) or
   a tap formula (``user/tap/x``: the builder reads homebrew/core only) is dropped with the reason.
2. ``GET {homebrew}/formula/<name>.json``: the bottle the builder reads is
   ``bottle.stable.files.x86_64_linux`` (else ``all``); none: dropped (the builder answers
   ``no_bottle``).
3. That bottle's ``bin/``: ``GET {ghcr}/v2/homebrew/core/<repo>/blobs/sha256:<sha256>`` with
   Homebrew's anonymous token (GHCR redirects to its storage host; the token is not sent there),
   only its first bytes by range request. Homebrew builds bottles with GNU tar ``--sort=name``
   (reproducible bottles), so ``<formula>/<version>/bin/`` comes before ``include/``, ``lib/``,
   ``share/``: the gzip stream is inflated until a member sorts after ``bin`` (or the stream
   ends), asking four times more bytes while it does not (256 KiB first, 16 MiB at most).
   The executables are the entries directly under ``bin/`` (files and links) with a safe
   executable name, as the builder reads them. None, or only build-configuration scripts
   (``pcre2-config``, ``libpng-config``; a ``-config`` named like the formula, ``pkg-config``,
   counts): a library, dropped.

The queue name is the command (``command_name``): the formula's name when it is one of them, else
the shortest that starts the formula's name or starts with it (``sqlite`` -> ``sqlite3``), else
the first in order (``ripgrep`` -> ``rg``); the identifier is the formula.
"""

from __future__ import annotations

import io
import re
import tarfile
import zlib
from collections.abc import Iterator
from functools import partial
from typing import Any
from urllib.parse import quote

from recipeline_schema.http import HttpClient

from ..config import SourceSettings
from .common import ApiSource, FormatError, Row, count, field

#: the bottle the generator reads (its default ``--bottle-tag``), then a platform-independent one
BOTTLE_TAGS = ("x86_64_linux", "all")
#: GHCR's anonymous token, as ``brew`` sends it for public homebrew/core images
ANONYMOUS_TOKEN = "QQ=="  # noqa: S105 - public, documented anonymous value, not a secret
#: the first range asked of a bottle, and the most asked (then the formula is dropped)
HEAD_BYTES = 256 * 1024
MAX_HEAD_BYTES = 16 * 1024 * 1024
#: the most inflated bytes read from a bottle's start (a gzip bomb stops here)
MAX_INFLATED = 256 * 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")
#: the executable names the builder keeps from bin/ (its ``EXECUTABLE_RE``: coreutils' ``[`` is not one)
EXECUTABLE_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}$")


def bottle_bin(data: bytes, where: str) -> tuple[str, ...] | None:
    """The entries directly under ``bin/`` of a bottle, from its first bytes ``data``; None when
    those bytes end before the tarball gets past ``bin/``. ``FormatError`` naming ``where`` when
    they are not a gzip tarball."""
    inflater = zlib.decompressobj(wbits=31)  # gzip
    try:
        raw = inflater.decompress(data, MAX_INFLATED)
    except zlib.error as exc:
        raise FormatError(f"{where}: not a gzip file: {exc}") from None
    ended = inflater.eof
    names: set[str] = set()
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            for member in tar:
                parts = [p for p in member.name.split("/") if p not in ("", ".")]
                if len(parts) < 3:  # <formula>/ and <formula>/<version>/
                    continue
                if parts[2] == "bin":
                    linked = member.isfile() or member.issym() or member.islnk()
                    if len(parts) == 4 and linked and EXECUTABLE_RE.fullmatch(parts[3]):
                        names.add(parts[3])
                elif parts[2] > "bin":  # members are sorted by name: bin/ is complete
                    return tuple(sorted(names))
    except tarfile.TarError as exc:
        if ended or len(raw) >= MAX_INFLATED:
            raise FormatError(f"{where}: not a readable tarball: {exc}") from None
        return None
    if not ended and len(raw) >= MAX_INFLATED:
        raise FormatError(f"{where}: bin/ not reached within {MAX_INFLATED} inflated bytes")
    return tuple(sorted(names)) if ended else None


def commands_of(formula: str, executables: tuple[str, ...]) -> tuple[str, ...]:
    """The executables that are commands: build-configuration scripts (``x-config``) are not,
    unless named like the formula (``pkg-config``)."""
    return tuple(e for e in executables if e == formula or not e.endswith("-config"))


def command_name(formula: str, commands: tuple[str, ...]) -> str:
    """The queue name: the formula's own name when it is a command; else the shortest command
    that starts the formula's name or starts with it (``sqlite`` -> ``sqlite3``, ``rust`` ->
    ``rustc``, ``awscli`` -> ``aws``); else the first in order (``ripgrep`` -> ``rg``)."""
    if formula in commands:
        return formula
    near = [c for c in commands if c.startswith(formula) or formula.startswith(c)]
    return min(near, key=lambda c: (len(c), c)) if near else commands[0]


class _Analytics(ApiSource):
    path = ""
    key = ""

    def items(self) -> Iterator[tuple[str, int]]:
        url = f"{self.base_url}/{self.path}"
        items = field(self.get_json(url), "items", list, url)
        for i, item in enumerate(items):
            name = item.get(self.key) if isinstance(item, dict) else None
            installs = count(item.get("count")) if isinstance(item, dict) else None
            if not isinstance(name, str) or installs is None:
                self.drop(f"{url} $.items[{i}]", f"expected {self.key!r} and a numeric 'count'")
                continue
            yield name, installs


class HomebrewSource(_Analytics):
    """homebrew/core formulae whose Linux bottle installs a command, by installs on request."""

    ecosystem = "homebrew"
    label = "homebrew:analytics/install-on-request/30d"
    path = "analytics/install-on-request/30d.json"
    key = "formula"

    def __init__(self, client: HttpClient, base_url: str, settings: SourceSettings, *, ghcr_url: str) -> None:
        super().__init__(client, base_url, settings)
        self.ghcr_url = ghcr_url.rstrip("/")

    def rows(self) -> Iterator[Row]:
        for scanned, (formula, installs) in enumerate(self.items()):
            if scanned >= self.settings.scan_limit:
                break
            if "/" in formula:
                self.drop(formula, "a tap formula (user/tap/name): the generator builds homebrew/core only")
                continue
            if "@" in formula:
                self.drop(
                    formula,
                    "a versioned formula ('@' is not a recipe-name character; the unversioned "
                    "formula is the tool)",
                )
                continue
            command = self.checked(formula, partial(self._command, formula))
            if command is not None:
                yield Row(command, formula, installs)

    def _command(self, formula: str) -> str | None:
        url = f"{self.base_url}/formula/{quote(formula, safe='+')}.json"
        doc = self.get_json(url)
        if not isinstance(doc, dict):
            raise FormatError(f"{url}: at $: expected an object, got {type(doc).__name__}")
        files = _bottle_files(doc, url)
        tag = next((t for t in BOTTLE_TAGS if t in files), None)
        if tag is None:
            have = ", ".join(sorted(files)) or "none"
            self.drop(formula, f"no {BOTTLE_TAGS[0]} bottle (bottles: {have}); the generator reads it")
            return None
        info = files[tag]
        sha = info.get("sha256") if isinstance(info, dict) else None
        if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
            raise FormatError(f"{url}: at $.bottle.stable.files.{tag}.sha256: expected 64 hex digits")
        repo = formula.replace("+", "x")  # Homebrew's image name (no '@' is left here)
        blob = f"{self.ghcr_url}/v2/homebrew/core/{quote(repo)}/blobs/sha256:{sha}"
        executables = self._bottle_bin(blob)
        commands = commands_of(formula, executables)
        if not commands:
            found = f" (only {', '.join(executables)})" if executables else ""
            self.drop(formula, f"its {tag} bottle installs no command in bin/{found} (a library)")
            return None
        return command_name(formula, commands)

    def _bottle_bin(self, blob: str) -> tuple[str, ...]:
        length = HEAD_BYTES
        while True:
            data = self.client.get_range(
                self.ecosystem,
                blob,
                0,
                length,
                max_bytes=MAX_HEAD_BYTES,  # the range's own bound, not the API answers' cap
                headers={"Authorization": f"Bearer {ANONYMOUS_TOKEN}"},
            )
            names = bottle_bin(data, blob)
            if names is not None:
                return names
            if len(data) < length:
                raise FormatError(f"{blob}: the bottle ends before its tarball does")
            if length >= MAX_HEAD_BYTES:
                raise FormatError(f"{blob}: bin/ not listed within the first {MAX_HEAD_BYTES} bytes")
            length *= 4


def _bottle_files(doc: dict[str, Any], url: str) -> dict[str, Any]:
    """``bottle.stable.files`` of a formula document (``{}`` when it has no bottle: ``"bottle": {}``)."""
    bottle = doc.get("bottle")
    if bottle is None or bottle == {}:
        return {}
    if not isinstance(bottle, dict):
        raise FormatError(f"{url}: at $.bottle: expected an object, got {type(bottle).__name__}")
    stable = bottle.get("stable")
    if stable is None:
        return {}
    if not isinstance(stable, dict):
        raise FormatError(f"{url}: at $.bottle.stable: expected an object, got {type(stable).__name__}")
    files = stable.get("files")
    if not isinstance(files, dict):
        raise FormatError(f"{url}: at $.bottle.stable.files: expected an object, got {type(files).__name__}")
    return files


class CaskSource(_Analytics):
    """Casks by installs over 30 days."""

    ecosystem = "cask"
    label = "cask:analytics/cask-install/30d"
    path = "analytics/cask-install/30d.json"
    key = "cask"

    def rows(self) -> Iterator[Row]:
        for name, installs in self.items():
            yield Row(name, name, installs)
