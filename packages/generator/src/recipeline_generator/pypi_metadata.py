"""Pure reading of a wheel's core metadata (METADATA); its executables (``entry_points.txt``,
``.data/scripts``) are ``recipeline_schema.wheels``' rule, shared with the seeder."""

from __future__ import annotations

import email.parser
import email.policy
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
