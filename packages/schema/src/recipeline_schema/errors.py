"""Exceptions of recipeline-schema.

SchemaError                  base of every error this package raises
├── DataFileError            a data file is unreadable, malformed or breaks its schema
├── DecodeError              a JSON value cannot become the dataclass (path + expectation)
├── InvalidValueError        a value (name, source, id, ecosystem) breaks a contract rule
└── LockTimeoutError         another writer holds the lock for longer than we wait
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class SchemaError(Exception):
    """Base of every error raised by recipeline-schema."""


class DecodeError(SchemaError):
    """A JSON value does not fit the expected type at ``path``."""

    def __init__(self, path: str, expected: str, got: Any) -> None:
        self.path = path
        self.expected = expected
        self.got = got
        super().__init__(f"{path}: expected {expected}, got {_short(got)}")


class DataFileError(SchemaError):
    """A data file cannot be used; says which file, where in it, and what was expected."""

    def __init__(self, file: Path | str, path: str, expected: str, got: Any = None) -> None:
        self.file = Path(file)
        self.path = path
        self.expected = expected
        self.got = got
        suffix = "" if got is None else f", got {_short(got)}"
        super().__init__(f"{self.file}: at {path}: expected {expected}{suffix}")


class InvalidValueError(SchemaError, ValueError):
    """A value breaks a rule of the contract (for example a source without ``:``)."""


class LockTimeoutError(SchemaError):
    """The writer lock was not released within the wait time."""


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
