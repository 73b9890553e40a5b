"""The JSON Schema of ``dashboard.json``: shipped in the package, exported to ``data/schemas/``."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from recipeline_schema import DataFileError

from .core import Document
from .errors import DashboardError

SCHEMA_FILE = "dashboard.schema.json"
#: the installed package (an editable install or a wheel: files on disk, as the pages need)
PACKAGE_DIR = Path(__file__).resolve().parent


def schema_text() -> str:
    """The schema exactly as the package ships it."""
    return (PACKAGE_DIR / SCHEMA_FILE).read_text(encoding="utf-8")


@cache
def dashboard_schema() -> dict[str, Any]:
    """The parsed schema."""
    data: dict[str, Any] = json.loads(schema_text())
    return data


def export_schema(directory: Path) -> Path:
    """Write the schema to ``directory/dashboard.schema.json`` (the repository's ``data/schemas/``)."""
    from recipeline_schema import atomic_write_text  # a data/ file: the schema package's writer

    path = directory / SCHEMA_FILE
    try:
        atomic_write_text(path, schema_text())
    except OSError as exc:
        raise DashboardError(f"{path}: expected a writable location, got {exc.strerror or exc}") from None
    return path


def schema_drifted(directory: Path) -> bool:
    """True when ``directory`` lacks the schema or holds a different copy."""
    path = directory / SCHEMA_FILE
    return not path.is_file() or path.read_text(encoding="utf-8") != schema_text()


def check_document(document: Document, name: str = "dashboard.json") -> None:
    """Raise ``DashboardError`` naming the JSON path when ``document`` breaks the schema."""
    from recipeline_schema import validate  # only --check pays for the validator

    try:
        validate(dashboard_schema(), document, name)
    except DataFileError as exc:
        raise DashboardError(str(exc)) from None
