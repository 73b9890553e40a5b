"""PyPI: the top-PyPI-packages list, filtered to console tools.

1. ``GET {top_pypi}/top-pypi-packages.min.json`` (a public dataset rebuilt monthly from PyPI's
   download statistics) answers ``{"last_update": "...", "rows": [{"download_count": n,
   "project": "boto3"}, ...]}``, most downloaded first.
2. Each project, up to ``scan_limit`` of them, is checked on the index pip is configured with
   (PEP 691 JSON simple API: ``GET {index}<project>/`` with ``Accept:
   application/vnd.pypi.simple.v1+json``) and the PEP 658 metadata of its newest wheel
   (``GET <wheel url>.metadata``): it is kept when that metadata has the classifier
   ``Environment :: Console``. A project without a wheel, or whose newest wheel has no
   metadata file on the index (404), is skipped. The metadata file is asked for even when the
   page does not advertise ``core-metadata``: some mirrors drop the key but serve the file.

The classifier is the console signal the index serves cheaply (two small requests); the
authoritative check (``console_scripts`` in the wheel) is the generator's, which records a
``generation_failed`` failure for a project that has none.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.parser import HeaderParser
from urllib.parse import quote, urljoin

from recipeline_schema.http import ApiError, HttpClient

from ..config import SourceSettings
from .common import ApiSource, Row, count, field, skip_row

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
CONSOLE = "Environment :: Console"


class PypiSource(ApiSource):
    """The most downloaded PyPI projects that are console tools."""

    ecosystem = "pypi"
    label = "pypi:top-pypi-packages"

    def __init__(
        self, client: HttpClient, base_url: str, settings: SourceSettings, *, index_url: str
    ) -> None:
        super().__init__(client, base_url, settings)
        self.index_url = index_url if index_url.endswith("/") else index_url + "/"

    def rows(self) -> Iterator[Row]:
        url = f"{self.base_url}/top-pypi-packages.min.json"
        ranked = field(self.get_json(url), "rows", list, url)
        for i, row in enumerate(ranked[: self.settings.scan_limit]):
            project = row.get("project") if isinstance(row, dict) else None
            downloads = count(row.get("download_count")) if isinstance(row, dict) else None
            if not isinstance(project, str) or downloads is None:
                skip_row(self.label, f"$.rows[{i}]", "expected 'project' and a numeric 'download_count'")
                continue
            if self._is_console_tool(project):
                yield Row(project, project, downloads)

    def _is_console_tool(self, project: str) -> bool:
        page_url = f"{self.index_url}{quote(project, safe='')}/"
        page = self.client.get_json(
            self.ecosystem, page_url, accept=SIMPLE_JSON, content_types=(SIMPLE_JSON,)
        )
        files = page.get("files") if isinstance(page, dict) else None
        wheel = None
        for file in files if isinstance(files, list) else []:
            if (
                isinstance(file, dict)
                and str(file.get("filename", "")).endswith(".whl")
                and isinstance(file.get("url"), str)
                and not file.get("yanked")
            ):
                wheel = file  # files are listed oldest first: the last one is the newest
        if wheel is None:
            skip_row(self.label, project, "no wheel whose metadata could be checked")
            return False
        # asked even when the page does not advertise it (some mirrors drop the key but serve
        # the file); a 404 means the index has no PEP 658 metadata for this wheel
        meta_url = urljoin(page_url, wheel["url"].split("#", 1)[0]) + ".metadata"
        try:
            raw = self.client.get(self.ecosystem, meta_url, max_bytes=2 * 1024 * 1024).body
        except ApiError as exc:
            if exc.subcategory != "not_found":
                raise
            skip_row(self.label, project, "the index serves no PEP 658 metadata for its newest wheel")
            return False
        headers = HeaderParser().parsestr(raw.decode("utf-8", "replace"))
        if CONSOLE not in [c.strip() for c in headers.get_all("Classifier") or []]:
            skip_row(self.label, project, f"no '{CONSOLE}' classifier")
            return False
        return True
