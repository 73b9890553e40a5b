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
from collections.abc import Callable, Iterable, Iterator
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
    return _document_pieces(SECTIONS, lambda name: _dumps(dash.section(name)))


def _document_pieces(names: Iterable[str], text_of: Callable[[str], bytes]) -> Iterator[bytes]:
    yield b"{"
    for index, name in enumerate(names):
        yield b"%s%s:" % (b"," if index else b"", _dumps(name))
        yield text_of(name)
    yield b"}\n"


def write_dashboard(source: Document | Dashboard, output_dir: Path) -> Path:
    """Write ``output_dir/dashboard.json`` atomically (from a built document, or from a
    ``Dashboard`` whose sections are built as they are written: ``dashboard_pieces``); return
    its path."""
    path = output_dir / DASHBOARD_FILE
    pieces = dashboard_pieces(source) if isinstance(source, Dashboard) else [_dumps(source), b"\n"]
    _replace(path, pieces)
    return path


def _replace(path: Path, data: bytes | Iterable[bytes]) -> None:
    try:
        replace_file(path, data)
    except OSError as exc:
        raise OutputError(f"{path}: expected a writable location, got {exc.strerror or exc}") from None


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
    "failure": "Failure",
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


#: per page, the sections of ``dashboard.json`` it reads (``data/<page>.json``): no page fetches
#: the whole document. ``queue_summary`` is the queue section without its package lists.
PAGE_SECTIONS: dict[str, tuple[str, ...]] = {
    "index": (
        "generated_at", "layouts", "health", "series", "queue_summary", "failures", "recent_failures",
        "blockers", "disambiguations", "errors",
    ),
    "queue": ("generated_at", "queue", "disambiguations"),
    "failures": ("generated_at", "failures", "failure_details"),
    "package": ("generated_at", "health", "blockers"),
    "failure": ("generated_at",),
    "runs": ("generated_at", "health", "runs", "empty_runs"),
    "run": ("generated_at", "runs", "empty_runs", "failure_details"),
    "blockers": ("generated_at", "blockers"),
}  # fmt: skip
#: the package pages' data: ``data/packages/<bucket>.json``, the bucket ``package_bucket(id)``
PACKAGE_BUCKETS = 128
DATA_DIR = "data"


def package_bucket(key: str, buckets: int = PACKAGE_BUCKETS) -> int:
    """FNV-1a (32 bits) of the key's UTF-8 bytes, modulo ``buckets``; ``app.js`` computes the same."""
    h = 0x811C9DC5
    for byte in key.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h % buckets


def write_site(source: Document | Dashboard, output_dir: Path, dash: Dashboard | None = None) -> Path:
    """Write the pages, ``dashboard.json`` (the whole document, for programs) and each page's
    data (``data/<page>.json``, ``data/packages/<n>.json``) into ``output_dir``; return the
    dashboard's path. The package files need the ``Dashboard`` (every failure of every package,
    with its whole cause): ``source`` itself, or ``dash`` beside a built document."""
    dash = source if isinstance(source, Dashboard) else dash
    if dash is None:
        raise TypeError("write_site needs the Dashboard for the package files (pass dash=)")
    for name, content in static_files():
        target = output_dir / name
        try:
            if not target.is_file() or target.read_bytes() != content:
                replace_file(target, content)
        except OutputError:
            raise
        except OSError as exc:
            raise OutputError(f"{target}: expected a writable location, got {exc.strerror or exc}") from None
    queue = source["queue"] if isinstance(source, dict) else dash.section("queue")
    texts = {
        "queue": _dumps(queue),
        "queue_summary": _dumps({k: v for k, v in queue.items() if k != "packages"}),
    }

    def text_of(name: str) -> bytes:
        if name not in texts:
            texts[name] = _dumps(source[name] if isinstance(source, dict) else dash.section(name))
        return texts[name]

    path = output_dir / DASHBOARD_FILE
    _replace(path, _document_pieces(SECTIONS, text_of))
    for page, names in PAGE_SECTIONS.items():
        _replace(output_dir / DATA_DIR / f"{page}.json", _document_pieces(names, text_of))
    texts.clear()
    for bucket, doc in package_files(dash, queue).items():
        _replace(output_dir / DATA_DIR / "packages" / f"{bucket}.json", [_dumps(doc), b"\n"])
    return path


def package_files(dash: Dashboard, queue: Document | None = None) -> dict[int, Document]:
    """``data/packages/<bucket>.json``: ``{"entries": {id: entry}}``, an id in the bucket of
    ``package_bucket(id)``. A queue source's entry holds its queue rows and its whole failure
    history (newest first, each with its whole cause, run, PR and recipe path); a name that is
    not a source (``node`` of ``homebrew:node``) holds ``{"see": [sources]}``. Each whole cause is
    written once per file (``details``); a failure's ``detail`` is its index there."""
    entries: dict[str, Document] = {}
    for status_rows in (queue or dash.section("queue"))["packages"].values():
        for row in status_rows:
            entries.setdefault(row["source"], {"packages": [], "failures": []})["packages"].append(row)
    for row in dash.history():
        entries.setdefault(row["package"], {"packages": [], "failures": []})["failures"].append(row)
    names: dict[str, set[str]] = {}
    for source, entry in entries.items():
        for row in entry["packages"]:
            if row["name"] != source:
                names.setdefault(row["name"], set()).add(source)
    for name, sources in names.items():
        if name not in entries:
            entries[name] = {"see": sorted(sources)}
    files: dict[int, Document] = {b: {"entries": {}, "details": []} for b in range(PACKAGE_BUCKETS)}
    seen: list[dict[str, int]] = [{} for _ in range(PACKAGE_BUCKETS)]
    for key, entry in entries.items():
        bucket = package_bucket(key)
        files[bucket]["entries"][key] = entry
        texts, index = files[bucket]["details"], seen[bucket]
        for row in entry.get("failures", ()):
            # a whole cause is written once per file, a row names it by its index: tsuku's runs
            # repeat the same output batch after batch
            text = row.get("detail")
            if text is not None:
                at = index.get(text)
                if at is None:
                    at = index[text] = len(texts)
                    texts.append(text)
                row["detail"] = at
    return files
