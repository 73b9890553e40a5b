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


@dataclass(frozen=True, slots=True)
class EcosystemInfo:
    """What every stage needs to know about one ecosystem, in one row of ``ECOSYSTEM_TABLE``.

    Adding an ecosystem is a row here plus its builder (generator), its popularity source
    (seeder) and its install backend (validator); endpoints, HTTP limits, aliases, display
    names and the validator's action rules are derived from the row.
    """

    id: Ecosystem
    display_name: str
    #: other names found in tsuku's data and in operators' hands (``crates.io``, ``brew``)
    aliases: tuple[str, ...]
    #: endpoint key -> default base URL (``RECIPELINE_<KEY>_URL`` overrides one); PyPI's and
    #: npm's registries come from the user's pip and npm configuration instead
    endpoints: tuple[tuple[str, str], ...]
    #: requests per period per host (ARCHITECTURE §5), as ``(calls, seconds)``
    rate_limit: tuple[int, float]
    #: the install action its recipes use, and that action's parameter naming the package
    action: str
    package_parameter: str | None
    #: what the seeder ranks this ecosystem's candidates by (shown in seeding records)
    popularity: str


ECOSYSTEM_TABLE: tuple[EcosystemInfo, ...] = (
    EcosystemInfo(
        "homebrew",
        "Homebrew",
        ("brew",),
        (("homebrew", "https://formulae.brew.sh/api"), ("ghcr", "https://ghcr.io")),
        (1, 1.0),
        "homebrew",
        "formula",
        "installs on request (30 days)",
    ),
    EcosystemInfo(
        "cask", "Homebrew Cask", ("homebrew-cask",), (), (1, 1.0), "app_bundle", None, "installs (30 days)"
    ),
    EcosystemInfo(
        "cargo",
        "Cargo",
        ("crates.io", "crates"),
        (("cargo", "https://crates.io/api/v1"), ("cargo_index", "https://index.crates.io")),
        (1, 1.0),
        "cargo_install",
        "crate",
        "recent downloads",
    ),
    EcosystemInfo("npm", "npm", (), (), (1, 1.0), "npm_install", "package", "weekly downloads"),
    EcosystemInfo(
        "pypi",
        "PyPI",
        ("pip", "python"),
        (("top_pypi", "https://hugovk.github.io/top-pypi-packages"),),
        (1, 1.0),
        "pipx_install",
        "package",
        "downloads (30 days)",
    ),
    EcosystemInfo(
        "rubygems",
        "RubyGems",
        ("gem", "gems"),
        (
            ("rubygems", "https://rubygems.org/api/v1"),
            ("rubygems_v2", "https://rubygems.org/api/v2"),
            ("rubygems_source", "https://rubygems.org"),
        ),
        (10, 60.0),
        "gem_install",
        "gem",
        "downloads",
    ),
    EcosystemInfo(
        "go",
        "Go",
        ("golang",),
        (("go", "https://proxy.golang.org"), ("go_index", "https://index.golang.org")),
        (1, 1.0),
        "go_install",
        "module",
        "versions published in the window",
    ),
    EcosystemInfo(
        "cpan",
        "CPAN",
        ("metacpan",),
        (("cpan", "https://fastapi.metacpan.org/v1"), ("cpan_mirror", "https://cpan.metacpan.org")),
        (1, 1.0),
        "cpan_install",
        "distribution",
        "MetaCPAN favourites",
    ),
)
ECOSYSTEM_INFO: dict[str, EcosystemInfo] = {row.id: row for row in ECOSYSTEM_TABLE}
ALIASES: dict[str, str] = {alias: row.id for row in ECOSYSTEM_TABLE for alias in row.aliases}
#: installer action -> (ecosystem, the parameter naming the package)
ACTION_PACKAGES: dict[str, tuple[str, str]] = {
    row.action: (row.id, row.package_parameter) for row in ECOSYSTEM_TABLE if row.package_parameter
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
