"""What sources propose and what the merge decided about each proposal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from recipeline_schema import QueueEntry

#: Priority of a candidate whose source gives none: 3, "standard" (ARCHITECTURE §3.1).
DEFAULT_PRIORITY = 3


@dataclass(frozen=True, slots=True)
class Candidate:
    """A package a source proposes for a queue. Nothing in it is trusted until the merge checks it."""

    name: str
    source: str
    priority: int = DEFAULT_PRIORITY
    popularity: int | None = None
    #: where the proposal came from, for messages (``data/seeds/pypi.txt:12``, ``crates.io``)
    origin: str = ""
    #: set by the disambiguation step: ``requires_manual`` when the source is ambiguous
    status: Literal["pending", "requires_manual"] = "pending"
    #: ``curated`` when a curated disambiguation chose the source
    confidence: Literal["auto", "curated"] = "auto"
    #: why the disambiguation decided what it did (becomes the entry's ``reason``)
    reason: str = ""
    #: true when a disambiguation rule (curated or documented) decided the source
    disambiguated: bool = False

    def describe(self) -> str:
        """``'black' (data/seeds/pypi.txt:3)``: the name, escaped, and where it came from."""
        return f"{self.name!r} ({self.origin})" if self.origin else repr(self.name)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A valid candidate the merge did not add (already queued, has a recipe, over the limit, ...)."""

    candidate: Candidate
    reason: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """A candidate that breaks a rule (unsafe name or source, wrong ecosystem); never written."""

    candidate: Candidate
    reason: str


@dataclass(frozen=True, slots=True)
class MergeReport:
    """What one merge did: entries added (in queue order), candidates skipped and rejected."""

    added: tuple[QueueEntry, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    rejected: tuple[Rejected, ...] = ()

    @property
    def changed(self) -> bool:
        """True when the queue gained entries (and so must be written)."""
        return bool(self.added)

    @property
    def usable(self) -> int:
        """How many candidates were valid: added, or skipped for a reason that is not an error."""
        return len(self.added) + len(self.skipped)
