"""Seed list files: a hand-kept list of packages for one ecosystem (``data/seeds/<ecosystem>.txt``).

Format, one package a line::

    # comment                      (a line whose first non-blank character is '#')
    name [source] [priority [popularity]]   # trailing comment

- fields are separated by whitespace; ``#`` at the start of a field starts a comment;
- ``source`` is recognised by its ``:`` (``pypi:aider-chat``); missing or ``-`` means
  ``<ecosystem>:<name>``;
- ``priority`` is 1, 2 or 3; missing or ``-`` means 3;
- ``popularity`` is a whole number >= 0 in the ecosystem's own unit; missing or ``-`` means none.

The format is parsed strictly: a line that does not fit fails the whole list with the file, the
line, the field and what was expected, so a typo is fixed rather than half-applied. Names and
sources are *not* checked here; the merge rejects unsafe ones with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .candidates import DEFAULT_PRIORITY, Candidate
from .errors import SeedListError

DEFAULT = "-"


def parse_seed_list(text: str, *, ecosystem: str, file: Path | str) -> tuple[Candidate, ...]:
    """Candidates of a seed list's ``text``; ``file`` names it in origins and errors."""
    out = []
    # split on "\n" only, so line numbers match what an editor shows
    for number, raw in enumerate(text.split("\n"), start=1):
        fields = _fields(raw.removesuffix("\r"))
        if fields:
            out.append(_candidate(fields, ecosystem=ecosystem, file=file, line=number))
    return tuple(out)


def _fields(line: str) -> list[str]:
    fields = []
    for field in line.split():
        if field.startswith("#"):
            break
        fields.append(field)
    return fields


def _candidate(fields: list[str], *, ecosystem: str, file: Path | str, line: int) -> Candidate:
    name, rest = fields[0], fields[1:]
    source = f"{ecosystem}:{name}"
    if rest and (":" in rest[0] or rest[0] == DEFAULT):
        if rest[0] != DEFAULT:
            source = rest[0]
        rest = rest[1:]
    if len(rest) > 2:
        raise SeedListError(file, line, "at most 4 fields: name [source] [priority [popularity]]", rest[2])
    priority = DEFAULT_PRIORITY
    popularity = None
    if rest and rest[0] != DEFAULT:
        priority = _whole_number(rest[0], file, line, "priority 1, 2 or 3 (or '-')")
        if not 1 <= priority <= 3:
            raise SeedListError(file, line, "priority 1, 2 or 3 (or '-')", rest[0])
    if len(rest) > 1 and rest[1] != DEFAULT:
        popularity = _whole_number(rest[1], file, line, "popularity as a whole number >= 0 (or '-')")
    return Candidate(
        name=name, source=source, priority=priority, popularity=popularity, origin=f"{file}:{line}"
    )


def _whole_number(text: str, file: Path | str, line: int, expected: str) -> int:
    # "1_000" and "+3" are accepted by int(); a seed list should say plain digits
    if not text.isascii() or not text.isdigit():
        raise SeedListError(file, line, expected, text)
    return int(text)


@dataclass(frozen=True, slots=True)
class SeedListSource:
    """A seed list file as a source: its candidates, all of one ecosystem's queue."""

    path: Path
    ecosystem: str

    @property
    def name(self) -> str:
        return f"file:{self.path}"

    def fetch(self) -> tuple[Candidate, ...]:
        """Read and parse the file; raise ``SeedListError`` when it cannot be used."""
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise SeedListError(self.path, None, "a readable seed list file", exc.strerror) from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise SeedListError(self.path, line, "UTF-8 text") from None
        return parse_seed_list(text.removeprefix("\ufeff"), ecosystem=self.ecosystem, file=self.path)
