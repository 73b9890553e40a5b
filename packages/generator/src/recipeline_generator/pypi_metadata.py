"""Pure reading of a wheel's core metadata (METADATA) and ``entry_points.txt``."""

from __future__ import annotations

import email.parser
import email.policy
import re
import string
from dataclasses import dataclass

from .recipes import https_url, one_line_text

#: PEP 753 well-known labels of Project-URL, in the order we take a homepage from them.
HOMEPAGE_LABELS: tuple[tuple[str, ...], ...] = (
    ("homepage",),
    ("source", "sourcecode", "repository", "github", "code"),
    ("documentation", "docs"),
)
_LABEL_DROP = str.maketrans("", "", string.punctuation + string.whitespace)


@dataclass(frozen=True, slots=True)
class CoreMetadata:
    name: str
    version: str
    summary: str
    home_page: str
    project_urls: tuple[tuple[str, str], ...]  # (normalised label, url), in file order


def _text(data: bytes) -> str:
    # core metadata is UTF-8; a stray byte must not lose the whole file
    return data.decode("utf-8", errors="replace")


def parse_core_metadata(data: bytes) -> CoreMetadata:
    """The fields recipes use; absent fields are ``""`` (``UNKNOWN``, setuptools' filler, too)."""
    headers = email.parser.HeaderParser(policy=email.policy.compat32).parsestr(_text(data))

    def field(key: str) -> str:
        value = str(headers.get(key) or "").strip()
        return "" if value == "UNKNOWN" else value

    urls = []
    for raw in headers.get_all("Project-URL") or []:
        label, sep, url = str(raw).partition(",")
        if sep:
            urls.append((label.translate(_LABEL_DROP).lower(), url.strip()))
    return CoreMetadata(
        name=field("Name"),
        version=field("Version"),
        summary=field("Summary"),
        home_page=field("Home-page"),
        project_urls=tuple(urls),
    )


def pick_homepage(meta: CoreMetadata, *, avoid_hosts: tuple[str, ...] = ()) -> str | None:
    """The first https URL among Home-page, then Project-URL labels in ``HOMEPAGE_LABELS`` order.

    ``avoid_hosts`` are the package index's own hosts: a registry page is not a homepage.
    """
    candidates = [meta.home_page]
    for group in HOMEPAGE_LABELS:
        candidates += [url for label, url in meta.project_urls if label in group]
    for candidate in candidates:
        url = https_url(candidate, avoid_hosts=avoid_hosts)
        if url:
            return url
    return None


def describe(meta: CoreMetadata, project: str) -> str:
    """The recipe description: the Summary on one line, or a plain fallback naming the project."""
    return one_line_text(meta.summary) or f"Command-line tools of the Python package {project}"


def parse_entry_points(data: bytes) -> dict[str, tuple[tuple[str, str], ...]]:
    """Sections of ``entry_points.txt`` -> (name, object reference) pairs, parsed as
    ``importlib.metadata`` does: ``[section]`` headers, ``name = value`` split at the first ``=``,
    ``#``/``;`` comment lines ignored."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for line in _text(data).splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            current = sections.setdefault(stripped[1:-1].strip(), [])
            continue
        name, sep, value = stripped.partition("=")
        if current is not None and sep:
            current.append((name.strip(), value.strip()))
    return {key: tuple(pairs) for key, pairs in sections.items()}


def console_scripts(data: bytes) -> tuple[str, ...]:
    """Names of the ``console_scripts`` entry points (raw, unvalidated, in file order)."""
    return tuple(name for name, _ref in parse_entry_points(data).get("console_scripts", ()))


def entry_point_scripts(data: bytes) -> tuple[str, ...]:
    """Names of ``console_scripts`` and ``gui_scripts`` (pip links both into ``bin/`` on Linux;
    a gui script is an ordinary command there), in file order, raw."""
    sections = parse_entry_points(data)
    return tuple(name for key in ("console_scripts", "gui_scripts") for name, _ref in sections.get(key, ()))


#: A name tied to one interpreter version: ``tool-3.11``, ``pip3.11``, ``tool3.12``, ``tool-py3.12``.
INTERPRETER_BOUND = re.compile(r"(?<![0-9.])3\.\d{1,2}$")
#: ``.data/scripts`` files that never run on Linux (pip copies them anyway).
WINDOWS_SCRIPT = re.compile(r"\.(?:exe|bat|cmd|ps1|com)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Executables:
    """What a wheel installs into ``bin/`` on Linux: kept names (raw) and the names left out."""

    names: tuple[str, ...]
    left_out: tuple[str, ...]


def wheel_executables(entry_points: bytes, scripts: tuple[str, ...]) -> Executables:
    """The wheel's executables: entry point scripts and ``.data/scripts`` files, without names tied
    to one interpreter version (they exist under that Python only) and Windows-only scripts."""
    kept: list[str] = []
    left_out: list[str] = []
    for name in (*entry_point_scripts(entry_points), *scripts):
        if INTERPRETER_BOUND.search(name) or WINDOWS_SCRIPT.search(name):
            left_out.append(name)
        elif name not in kept:
            kept.append(name)
    return Executables(tuple(kept), tuple(left_out))
