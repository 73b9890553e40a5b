"""Which recipes exist: what dependency checks (Homebrew's ``missing_dep``) compare against.

``RecipeIndex`` is pure; ``read_recipe_index`` is the IO edge that walks ``<repo>/recipes/``.
A recipe provides its own name and every string of its ``[metadata.satisfies]`` lists (tsuku's
way of saying "the recipe ``openssl`` satisfies the Homebrew dependency ``openssl@3``").
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from recipeline_schema import check_name

_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}$")


@dataclass(frozen=True, slots=True)
class RecipeIndex:
    """Recipe names, and the names other recipes satisfy, each mapped to the recipe (lower case keys)."""

    provides: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, names: Iterable[str], satisfies: Mapping[str, Iterable[str]] | None = None) -> RecipeIndex:
        """An index of ``names``; ``satisfies`` maps a recipe name to the other names it provides."""
        provides: dict[str, str] = {}
        for recipe, aliases in sorted((satisfies or {}).items()):
            for alias in aliases:
                provides.setdefault(alias.lower(), recipe)
        for name in names:  # a recipe's own name wins over another recipe's alias
            provides[name.lower()] = name
        return cls(provides)

    def recipe_for(self, dependency: str) -> str | None:
        """The recipe that provides ``dependency`` (case-insensitive), or ``None``."""
        return self.provides.get(dependency.lower())

    def __len__(self) -> int:
        return len(self.provides)


@runtime_checkable
class UsesRecipeIndex(Protocol):
    """A builder that checks dependencies against the recipes that exist (the batch hands them in)."""

    def use_recipes(self, index: RecipeIndex) -> None: ...


def recipe_name_for(dependency: str) -> str:
    """The recipe name a missing dependency is reported as (``blocked_by`` holds recipe names).

    A Homebrew name that is not a recipe name (``openssl@3``, ``python@3.12``) is reported by its
    part before ``@``; a tap path (``org/tap/x``) by its last part.
    """
    candidate = dependency.rsplit("/", 1)[-1]
    if not _NAME_RE.fullmatch(candidate) or ".." in candidate:
        candidate = candidate.split("@", 1)[0]
    return candidate


def _satisfied_names(meta: object) -> list[str]:
    if not isinstance(meta, dict):
        return []
    satisfies = meta.get("satisfies")
    names: list[str] = []
    if isinstance(satisfies, dict):
        for values in satisfies.values():
            if isinstance(values, list):
                names += [v for v in values if isinstance(v, str)]
    return names


def read_recipe_index(recipes_dir: Path) -> RecipeIndex:
    """Index ``recipes_dir/*/*.toml`` (a missing directory is an empty index).

    A file that does not parse still provides its file name (the recipe exists; the validator,
    not the generator, judges it); its ``satisfies`` is unknown.
    """
    names: list[str] = []
    satisfies: dict[str, list[str]] = {}
    if not recipes_dir.is_dir():
        return RecipeIndex()
    for path in sorted(recipes_dir.glob("*/*.toml")):
        name = path.stem
        try:
            check_name(name)
        except ValueError:
            continue
        names.append(name)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        aliases = _satisfied_names(data.get("metadata"))
        if aliases:
            satisfies[name] = aliases
    return RecipeIndex.of(names, satisfies)
