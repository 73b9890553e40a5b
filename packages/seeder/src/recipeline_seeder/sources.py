"""The ``Source`` interface every popularity source implements, and collecting from several.

A source is anything with a ``name`` and a ``fetch()`` that returns candidates for one
ecosystem's queue: today a seed list file (``SeedListSource``); later the ecosystems' popularity
APIs. A source that fails raises ``SourceError`` (or an ``OSError``, which ``requests`` errors
are); the failure is recorded and the other sources still count.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from recipeline_schema import one_line

from .candidates import Candidate
from .errors import SourceError


class Source(Protocol):
    """A popularity source for one ecosystem's queue."""

    @property
    def name(self) -> str:
        """Short name for messages and metrics (``file:data/seeds/pypi.txt``)."""
        ...

    def fetch(self) -> Sequence[Candidate]:
        """The candidates, best known first; raise ``SourceError`` when the source fails."""
        ...


@dataclass(frozen=True, slots=True)
class SourceFailure:
    """One source that produced nothing, and why (one line)."""

    source: str
    message: str


@dataclass(frozen=True, slots=True)
class Harvest:
    """What a run's sources gave: every candidate in source order, and the sources that failed."""

    candidates: tuple[Candidate, ...]
    attempted: tuple[str, ...]
    failures: tuple[SourceFailure, ...]
    #: ``name: reason`` of every package a source read and did not propose (a library, a bad row)
    dropped: tuple[str, ...] = ()

    @property
    def all_failed(self) -> bool:
        return len(self.failures) == len(self.attempted)


def harvest(sources: Iterable[Source]) -> Harvest:
    """Fetch every source in order; a failing source is recorded and does not stop the others."""
    candidates: list[Candidate] = []
    attempted: list[str] = []
    failures: list[SourceFailure] = []
    dropped: list[str] = []
    for source in sources:
        attempted.append(source.name)
        try:
            got = tuple(source.fetch())
        except (SourceError, OSError) as exc:
            failures.append(SourceFailure(source.name, one_line(str(exc) or type(exc).__name__)))
            continue
        finally:
            # sources that check packages one by one say which they left out (``Drop``s)
            for drop in getattr(source, "dropped", ()):
                dropped.append(one_line(f"{drop.name}: {drop.reason}"))
        candidates.extend(got)
    return Harvest(tuple(candidates), tuple(attempted), tuple(failures), tuple(dropped))
