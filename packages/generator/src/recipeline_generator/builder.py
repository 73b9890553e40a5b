"""The builder interface (ARCHITECTURE §5) and the registry that routes an ecosystem to its builder."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from recipeline_schema import Failure, Recipe
from recipeline_schema.http import HttpClient

from .pypi import PypiBuilder


@runtime_checkable
class Builder(Protocol):
    """Turns one source identifier of its ecosystem into a recipe, deterministically.

    ``generate`` receives the identifier after the ``:`` of the source (never the queue name) and
    the recipe name; it returns a ``Recipe`` or a ``Failure`` whose ``package_id`` is
    ``<ecosystem>:<identifier>`` (the batch replaces it with the queue entry's source). It raises
    only for configuration errors, never for a package or registry problem.
    """

    ecosystem: str

    def can_build(self, identifier: str) -> bool:
        """False when the identifier is not a form this builder handles (the entry is skipped)."""
        ...

    def generate(self, identifier: str, *, name: str) -> Recipe | Failure: ...


class BuilderRegistry:
    """Builders by ecosystem; an ecosystem without one is routed to ``skipped``."""

    def __init__(self, builders: Iterable[Builder] = ()) -> None:
        self._builders: dict[str, Builder] = {}
        for builder in builders:
            self.register(builder)

    def register(self, builder: Builder) -> None:
        if builder.ecosystem in self._builders:
            raise ValueError(f"a builder for {builder.ecosystem!r} is already registered")
        self._builders[builder.ecosystem] = builder

    def get(self, ecosystem: str) -> Builder | None:
        return self._builders.get(ecosystem)

    @property
    def ecosystems(self) -> tuple[str, ...]:
        return tuple(sorted(self._builders))


def default_registry(http: HttpClient, *, index_url: str | None = None) -> BuilderRegistry:
    """The builders that exist today (PyPI), sharing one HTTP client."""
    return BuilderRegistry([PypiBuilder(http, index_url=index_url)])
