"""Writing the site: ``dashboard.json`` (atomically, keys sorted) and the static pages beside it.

The pages (HTML, CSS, JS) are package data under ``static/``; every build copies them to the
output directory, so ``website/pipeline/`` is always a complete, self-contained site.
"""

from __future__ import annotations

import json
from pathlib import Path

from recipeline_schema import atomic_write_bytes, atomic_write_text

from .core import Document
from .errors import OutputError

DASHBOARD_FILE = "dashboard.json"
#: the installed package: its static/ pages are copied next to dashboard.json
PACKAGE_DIR = Path(__file__).resolve().parent


def render(document: Document) -> str:
    """Deterministic JSON text: keys sorted (no object's key order means anything), compact."""
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


def write_dashboard(document: Document, output_dir: Path) -> Path:
    """Write ``output_dir/dashboard.json`` atomically; return its path."""
    path = output_dir / DASHBOARD_FILE
    try:
        atomic_write_text(path, render(document))
    except OSError as exc:
        raise OutputError(f"{path}: expected a writable location, got {exc.strerror or exc}") from None
    return path


def static_files() -> list[tuple[str, bytes]]:
    """``(relative name, content)`` of every page asset shipped in the package."""
    root = PACKAGE_DIR / "static"
    return sorted((entry.name, entry.read_bytes()) for entry in root.iterdir() if entry.is_file())


def write_site(document: Document, output_dir: Path) -> Path:
    """Write the pages and ``dashboard.json`` into ``output_dir``; return the dashboard's path."""
    for name, content in static_files():
        target = output_dir / name
        try:
            if not target.is_file() or target.read_bytes() != content:
                atomic_write_bytes(target, content)
        except OSError as exc:
            raise OutputError(f"{target}: expected a writable location, got {exc.strerror or exc}") from None
    return write_dashboard(document, output_dir)
