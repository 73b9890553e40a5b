"""Writing the site: ``dashboard.json`` (atomically, keys sorted) and the static pages beside it.

The pages (HTML, CSS, JS) are package data under ``static/``; every build copies them to the
output directory, so ``website/pipeline/`` is always a complete, self-contained site.

The site is derived output, not a ``data/`` file: it is replaced atomically (temporary file,
then rename: a reader sees the old site or the new one, never half a file) but not fsynced,
since a crash leaves the previous complete site and the next build writes it again. The fsyncs
and ``recipeline_schema.io``'s imports cost ~10% of a whole build of tsuku's data.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson

from .core import SECTIONS, Dashboard, Document
from .errors import OutputError

DASHBOARD_FILE = "dashboard.json"
#: the installed package: its static/ pages are copied next to dashboard.json
PACKAGE_DIR = Path(__file__).resolve().parent


def render(document: Document) -> str:
    """Deterministic JSON text: keys sorted (no object's key order means anything), compact."""
    return _dumps(document).decode("utf-8") + "\n"


def _dumps(value: object) -> bytes:
    """Compact UTF-8 JSON, keys sorted: orjson (~10x the standard library's speed here: 0.02 s
    against 0.18 s for the queue section at 10x tsuku's data, same bytes). What orjson refuses
    (an integer beyond 64 bits, a lone surrogate that a file spelled ``\\ud800``) the standard
    library writes, with non-ASCII characters escaped so that the bytes are valid UTF-8."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return json.dumps(value, sort_keys=True, separators=(",", ":")).encode("ascii")


def render_dashboard(dash: Dashboard) -> str:
    """``render(dash.document())``, built one section at a time (``dashboard_pieces``)."""
    return b"".join(dashboard_pieces(dash)).decode("utf-8")


def dashboard_pieces(dash: Dashboard) -> Iterator[bytes]:
    """The bytes of ``render(dash.document())`` in pieces, each section built when its turn
    comes, so that a writer holds one section's text at a time, never the whole document twice
    (its objects and its text: 16 MB of text at 10x tsuku's data)."""
    yield b"{"
    for index, name in enumerate(SECTIONS):
        yield b"%s%s:" % (b"," if index else b"", _dumps(name))
        yield _dumps(dash.section(name))
    yield b"}\n"


def write_dashboard(source: Document | Dashboard, output_dir: Path) -> Path:
    """Write ``output_dir/dashboard.json`` atomically (from a built document, or from a
    ``Dashboard`` whose sections are built as they are written: ``dashboard_pieces``); return
    its path."""
    path = output_dir / DASHBOARD_FILE
    pieces = dashboard_pieces(source) if isinstance(source, Dashboard) else [_dumps(source), b"\n"]
    try:
        replace_file(path, pieces)
    except OSError as exc:
        raise OutputError(f"{path}: expected a writable location, got {exc.strerror or exc}") from None
    return path


def replace_file(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Replace ``path`` with ``data`` (bytes, or bytes in pieces written as they come) atomically:
    a temporary file beside it, then a rename (mode: the replaced file's, else 0644; parents
    created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        try:
            os.fchmod(fd, mode)
            for piece in [data] if isinstance(data, bytes) else data:
                view = memoryview(piece)
                while view:
                    view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


#: the site's pages (file stem -> title). They differ in these two only, so the package ships
#: one template, ``static/page.html``, and every page is written from it; ``app.js`` renders
#: the page its ``<body data-page>`` names.
PAGES = {
    "index": "Health",
    "queue": "Queue",
    "failures": "Failures",
    "package": "Package",
    "runs": "Runs",
    "run": "Run",
    "blockers": "Blockers",
}
PAGE_TEMPLATE = "page.html"


def static_files() -> list[tuple[str, bytes]]:
    """``(relative name, content)`` of every file of the site but ``dashboard.json``: the
    package's assets, and each of ``PAGES`` from the template."""
    root = PACKAGE_DIR / "static"
    files = [(e.name, e.read_bytes()) for e in root.iterdir() if e.is_file() and e.name != PAGE_TEMPLATE]
    template = (root / PAGE_TEMPLATE).read_text(encoding="utf-8")
    for page, title in PAGES.items():
        text = template.replace("{{page}}", page).replace("{{title}}", title)
        files.append((f"{page}.html", text.encode("utf-8")))
    return sorted(files)


def write_site(source: Document | Dashboard, output_dir: Path) -> Path:
    """Write the pages and ``dashboard.json`` into ``output_dir``; return the dashboard's path."""
    for name, content in static_files():
        target = output_dir / name
        try:
            if not target.is_file() or target.read_bytes() != content:
                replace_file(target, content)
        except OSError as exc:
            raise OutputError(f"{target}: expected a writable location, got {exc.strerror or exc}") from None
    return write_dashboard(source, output_dir)
