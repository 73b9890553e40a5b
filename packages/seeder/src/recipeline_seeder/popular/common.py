"""What every popularity API source shares: HTTP through the shared client, errors, tiers.

A source's ``rows()`` reads the API and yields ``Row``s (tool name, identifier, popularity);
``fetch()`` turns them into candidates with tiers from the settings, and turns every HTTP or
format failure into one ``SourceError`` so the run records it and goes on with other sources.
Rows of a bad shape are skipped with a logged reason; names are judged later, by the merge.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from recipeline_schema.http import ApiError, HttpClient

from ..candidates import Candidate
from ..config import SourceSettings
from ..errors import SourceError

log = logging.getLogger("recipeline_seeder")

T = TypeVar("T")

#: Media types accepted for JSON bodies (some APIs label JSON as text).
JSON_TYPES = ("application/json",)


@dataclass(frozen=True, slots=True)
class Row:
    """One package an API ranked: the tool name, the source identifier, its popularity."""

    name: str
    identifier: str
    popularity: int | None


@dataclass(frozen=True, slots=True)
class Drop:
    """A package the source read and did not propose, and why (for the seeding-run record)."""

    name: str
    reason: str


class FormatError(Exception):
    """The API answered with JSON of another shape than its documented one."""


class ApiSource(ABC):
    """Base of the eight popularity sources; subclasses implement ``rows``."""

    #: the queue the candidates are for
    ecosystem: str = ""
    #: short name for messages and metrics
    label: str = ""

    def __init__(self, client: HttpClient, base_url: str, settings: SourceSettings) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.settings = settings
        #: packages read and not proposed (libraries, bad rows, failed per-item checks)
        self.dropped: list[Drop] = []

    @property
    def name(self) -> str:
        return self.label

    def fetch(self) -> tuple[Candidate, ...]:
        """Candidates in the API's order, at most ``settings.max_candidates``."""
        out: list[Candidate] = []
        self.dropped = []
        try:
            for row in self.rows():
                out.append(
                    Candidate(
                        name=row.name,
                        source=f"{self.ecosystem}:{row.identifier}",
                        priority=self.settings.priority(row.popularity),
                        popularity=row.popularity,
                        origin=self.label,
                    )
                )
                if len(out) >= self.settings.max_candidates:
                    break  # before asking for another row: sources check each one with requests
        except ApiError as exc:
            if exc.status in (404, 410):
                raise SourceError(
                    f"api_error/{exc.subcategory}: the endpoint is gone (HTTP {exc.status}): {exc}"
                ) from None
            raise SourceError(f"api_error/{exc.subcategory}: {exc}") from None
        except FormatError as exc:
            raise SourceError(f"api_error/bad_response: GET {exc}") from None
        return tuple(out)

    @abstractmethod
    def rows(self) -> Iterator[Row]:
        """The API's packages, most popular first."""

    def drop(self, name: str, reason: str) -> None:
        """Record (and log) a package read and not proposed."""
        self.dropped.append(Drop(name, reason))
        skip_row(self.label, name, reason)

    def checked(self, name: str, check: Callable[[], T]) -> T | None:
        """``check()`` for one package; a request or format failure drops that package only."""
        try:
            return check()
        except ApiError as exc:
            self.drop(name, f"api_error/{exc.subcategory}: {exc}")
        except FormatError as exc:
            self.drop(name, f"api_error/bad_response: GET {exc}")
        return None

    def get_json(self, url: str, *, content_types: tuple[str, ...] = JSON_TYPES) -> Any:
        """GET ``url`` as JSON under the shared client's rules (rate limit, retries, cap)."""
        return self.client.get_json(self.ecosystem, url, content_types=content_types)


def field(data: Any, key: str, kind: type | tuple[type, ...], url: str, where: str = "$") -> Any:
    """``data[key]`` checked to be a ``kind``; ``FormatError`` naming the URL and JSON path otherwise."""
    if not isinstance(data, dict):
        raise FormatError(f"{url}: at {where}: expected an object, got {type(data).__name__}")
    value = data.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise FormatError(f"{url}: at {where}.{key}: expected {expected}, got {type(value).__name__}")
    return value


def count(value: Any) -> int | None:
    """A download count as an int: ints >= 0, or strings like ``"1,234"``; None when not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str):
        digits = value.replace(",", "").strip()
        if digits.isascii() and digits.isdigit():
            return int(digits)
    return None


def skip_row(label: str, where: str, why: str) -> None:
    """Log a row the source drops before the merge (bad shape, not a tool)."""
    log.info("%s: %s skipped: %s", label, where, why)
