"""Exceptions of recipeline-seeder.

SeederError                  base of every error this package raises
├── SourceError              a popularity source could not produce candidates (the run goes on)
│   └── SeedListError        a seed list file is unreadable or a line breaks the list format
├── QueueMismatchError       the queue file holds another ecosystem than the one being seeded
├── ConfigError              the seeder configuration file breaks its format
└── TsukuImportError         a tsuku data directory cannot be converted
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class SeederError(Exception):
    """Base of every error raised by recipeline-seeder."""


class SourceError(SeederError):
    """A source failed as a whole; other sources of the same run still count."""


class SeedListError(SourceError):
    """A seed list cannot be used; says which file, which line, which field and what was expected."""

    def __init__(self, file: Path | str, line: int | None, expected: str, got: Any = None) -> None:
        self.file = Path(file)
        self.line = line
        self.expected = expected
        self.got = got
        where = str(file) if line is None else f"{file}:{line}"
        suffix = "" if got is None else f", got {got!r}"
        super().__init__(f"{where}: expected {expected}{suffix}")


class QueueMismatchError(SeederError):
    """The queue file's ``ecosystem`` is not the ecosystem being seeded."""

    def __init__(self, file: Path | str, expected: str, got: str) -> None:
        self.file = Path(file)
        self.expected = expected
        self.got = got
        super().__init__(f"{file}: at $.ecosystem: expected {expected!r} (the ecosystem seeded), got {got!r}")


class ConfigError(SeederError):
    """The seeder configuration (tier thresholds, fetch bounds) is not valid."""

    def __init__(self, file: Path | str, at: str, expected: str, got: Any = None) -> None:
        suffix = "" if got is None else f", got {got!r}"
        super().__init__(f"{file}: at {at}: expected {expected}{suffix}")


class TsukuImportError(SeederError):
    """A tsuku data directory (or one of its queue files) cannot be converted."""
