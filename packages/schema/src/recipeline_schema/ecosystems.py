"""Ecosystem ids, the aliases found in tsuku's data, and the ``<ecosystem>:<identifier>`` source."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

from .errors import InvalidValueError

Ecosystem = Literal["homebrew", "cask", "cargo", "npm", "pypi", "rubygems", "go", "cpan"]
ECOSYSTEMS: tuple[Ecosystem, ...] = get_args(Ecosystem)

#: Order of the hourly rotation (``--ecosystem auto``): UTC hour mod 8 indexes this tuple.
ROTATION: tuple[Ecosystem, ...] = ("homebrew", "cargo", "npm", "pypi", "rubygems", "go", "cpan", "cask")

ALIASES: dict[str, str] = {
    "crates.io": "cargo",
    "crates": "cargo",
    "gem": "rubygems",
    "gems": "rubygems",
    "pip": "pypi",
    "python": "pypi",
    "brew": "homebrew",
    "homebrew-cask": "cask",
    "golang": "go",
    "metacpan": "cpan",
}

#: Tool / recipe names: what becomes ``recipes/<first letter>/<name>.toml``. ``@`` is allowed
#: after the first character for versioned formulae (``python@3.14``, ``openssl@3``).
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+@-]{0,127}$")
NAME_PATTERN = NAME_RE.pattern
#: Identifiers after the ``:``: printable, no whitespace, no ``..`` path segment.
IDENTIFIER_RE = re.compile(r"^[A-Za-z0-9_@][A-Za-z0-9._+@/:~-]{0,255}$")
SOURCE_PATTERN = r"^[a-z][a-z0-9.-]*:[A-Za-z0-9_@][A-Za-z0-9._+@/:~-]{0,255}$"


def normalize_ecosystem(value: str) -> Ecosystem:
    """Return the ecosystem id for ``value`` (aliases mapped); raise for an unknown one."""
    key = value.strip().lower()
    key = ALIASES.get(key, key)
    if key not in ECOSYSTEMS:
        raise InvalidValueError(f"unknown ecosystem {value!r}; expected one of {list(ECOSYSTEMS)}")
    return key


@dataclass(frozen=True, slots=True)
class Source:
    """A parsed ``<ecosystem>:<identifier>``; the ecosystem may be one without a builder."""

    ecosystem: str
    identifier: str

    def __str__(self) -> str:
        return f"{self.ecosystem}:{self.identifier}"


def parse_source(text: str) -> Source:
    """Split ``text`` at the first ``:``; map ecosystem aliases; reject unsafe identifiers.

    ``github:owner/repo`` parses (ecosystem ``github``) so routing can skip it with a reason.
    """
    eco, sep, ident = text.partition(":")
    if not sep or not eco or not ident:
        raise InvalidValueError(f"source {text!r}: expected '<ecosystem>:<identifier>'")
    eco = eco.strip().lower()
    eco = ALIASES.get(eco, eco)
    if not IDENTIFIER_RE.fullmatch(ident) or ".." in ident.split("/"):
        raise InvalidValueError(
            f"source {text!r}: identifier must match {IDENTIFIER_RE.pattern} without '..' segments"
        )
    return Source(eco, ident)


def check_name(name: str) -> str:
    """Return ``name`` if it is a safe tool/recipe name; raise with the rule otherwise."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name) or ".." in name:
        raise InvalidValueError(f"name {name!r}: expected {NAME_PATTERN} and no '..'")
    return name
