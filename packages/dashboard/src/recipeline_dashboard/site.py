"""Writing the dashboard: ``dashboard.json``, atomically, with sorted keys."""

from __future__ import annotations

import json
from pathlib import Path

from recipeline_schema import atomic_write_text

from .core import Document
from .errors import OutputError

DASHBOARD_FILE = "dashboard.json"


def render(document: Document) -> str:
    """Deterministic JSON text: keys sorted (no object's key order means anything), 2 spaces."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_dashboard(document: Document, output_dir: Path) -> Path:
    """Write ``output_dir/dashboard.json`` atomically; return its path."""
    path = output_dir / DASHBOARD_FILE
    try:
        atomic_write_text(path, render(document))
    except OSError as exc:
        raise OutputError(f"{path}: expected a writable location, got {exc.strerror or exc}") from None
    return path
