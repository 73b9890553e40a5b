"""Pure routing of a planned package: curated override, then a builder or a reason to skip."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from recipeline_schema import Disambiguation, InvalidValueError, PlannedPackage, Source, parse_source

from .builder import BuilderRegistry

#: Sources that only an LLM-assisted builder could turn into a recipe.
LLM_ECOSYSTEMS = frozenset({"github"})


@dataclass(frozen=True, slots=True)
class Route:
    """Where a planned package goes: ``source`` to build, or ``skip`` with the reason."""

    resolved_source: str
    override: bool
    source: Source | None = None
    skip: str = ""


def route(planned: PlannedPackage, curated: Mapping[str, Disambiguation], builders: BuilderRegistry) -> Route:
    """Apply a curated record matched on the entry name (case-insensitive), then pick the builder.

    ``override`` is true when the curated record changed the source. A source that cannot be
    parsed, needs an LLM, has no builder yet, or that its builder does not handle is skipped.
    """
    record = curated.get(planned.name.lower())
    resolved = record.selected if record is not None else planned.package_id
    override = resolved != planned.package_id
    try:
        source = parse_source(resolved)
    except InvalidValueError as exc:
        return Route(resolved, override, skip=f"source cannot be used: {exc}")
    if source.ecosystem in LLM_ECOSYSTEMS:
        return Route(resolved, override, skip=f"{source.ecosystem}: sources need an LLM-assisted builder")
    builder = builders.get(source.ecosystem)
    if builder is None:
        have = ", ".join(builders.ecosystems) or "none"
        return Route(
            resolved, override, skip=f"no deterministic builder for {source.ecosystem!r} yet (have: {have})"
        )
    if not builder.can_build(source.identifier):
        return Route(
            resolved, override, skip=f"the {source.ecosystem} builder does not handle {source.identifier!r}"
        )
    return Route(resolved, override, source=source)
