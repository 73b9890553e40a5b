"""One recipe name, one source: who else holds a name before a PR is opened (ARCHITECTURE §3.6). Pure.

The seeder already routes a name queued in two ecosystems (curated record, same-unit gap, else
``requires_manual``). Between seeding and a PR the name can still be taken: a recipe landed on
the default branch, or another ecosystem's batch proposes the same name (its entry is
``in_progress`` while its batch or PR is open) or has merged it (``success``). A recipe this
batch would commit under a held name is kept out, and its queue entry becomes
``requires_manual`` with the holder as the reason (the dashboard's package page shows it), so
two batch branches never carry two ``recipes/<x>/<name>.toml``.

A curated record for the name decides first: when it selects this package's source, other
queues do not hold the name (their own PR meets the record); when it selects another source, the
name is held by that record. A recipe already on the default branch always holds its name: a
batch never overwrites one. A ``pending`` or ``failed`` entry elsewhere holds nothing yet: of two
entries both pending (an import), the first to reach a PR takes the name and the second meets
it here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from recipeline_schema import Disambiguation, Queue, recipe_path

#: Statuses of another ecosystem's entry that hold its name: an open batch or PR, or merged.
HOLDING = frozenset({"in_progress", "success"})


@dataclass(frozen=True, slots=True)
class NameClaims:
    """What holds recipe names outside this batch."""

    #: repository paths of recipes on the base commit
    recipes: Collection[str] = frozenset()
    #: casefolded name -> sources of other ecosystems' entries that hold it (``HOLDING``)
    elsewhere: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: curated records by casefolded tool name
    curated: Mapping[str, Disambiguation] = field(default_factory=dict)

    def holder(self, name: str, source: str, resolved: str = "") -> str:
        """Why ``name`` may not be committed from ``source`` (the queue entry's; ``resolved`` the
        source the batch built from, when a curated record routed it), or ``""`` when it is free."""
        path = recipe_path(name)
        if path in self.recipes:
            return f"{path} already exists on the default branch; not overwritten"
        record = self.curated.get(name.casefold())
        if record is not None:
            if record.selected in (source, resolved):
                return ""
            return f"the curated disambiguation selects {record.selected} for {name!r}"
        others = self.elsewhere.get(name.casefold(), ())
        if others:
            return (
                f"{name!r} is also proposed or merged as {', '.join(others)}; "
                "add a curated disambiguation to choose"
            )
        return ""


def claims(
    ecosystem: str,
    queues: Iterable[Queue],
    *,
    recipes: Collection[str],
    curated: Iterable[Disambiguation],
) -> NameClaims:
    """The claims on names seen from a batch of ``ecosystem``: the base commit's recipes, the
    other ecosystems' holding entries and the curated records."""
    elsewhere: dict[str, list[str]] = {}
    for queue in queues:
        if queue.ecosystem == ecosystem:
            continue
        for entry in queue.entries:
            if entry.status in HOLDING:
                elsewhere.setdefault(entry.name.casefold(), []).append(f"{entry.source} ({entry.status})")
    return NameClaims(
        recipes=frozenset(recipes),
        elsewhere={name: tuple(sorted(sources)) for name, sources in elsewhere.items()},
        curated={record.tool.casefold(): record for record in curated},
    )
