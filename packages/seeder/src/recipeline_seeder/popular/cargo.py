"""Cargo: crates.io's category ``command-line-utilities`` sorted by downloads.

``GET {cargo}/crates?category=command-line-utilities&sort=downloads&page=N&per_page=M`` answers
``{"crates": [{"id": "ripgrep", "name": "ripgrep", "downloads": 123, "recent_downloads": 45,
...}], "meta": {"total": n, "next_page": "?page=2&..." | null}}``. Pages are read until
``max_candidates`` crates, an empty page, or ``meta.next_page`` null. Popularity is
``downloads`` (all time), the field the list is sorted by.
"""

from __future__ import annotations

from collections.abc import Iterator

from .common import ApiSource, Row, count, field, skip_row

CATEGORY = "command-line-utilities"


class CargoSource(ApiSource):
    """crates.io command-line utilities by all-time downloads."""

    ecosystem = "cargo"
    label = "cargo:crates.io/category/command-line-utilities"

    def rows(self) -> Iterator[Row]:
        seen = 0
        page = 1
        per_page = min(self.settings.page_size, 100)  # crates.io's maximum
        while seen < self.settings.max_candidates:
            url = f"{self.base_url}/crates?category={CATEGORY}&sort=downloads&page={page}&per_page={per_page}"
            data = self.get_json(url)
            crates = field(data, "crates", list, url)
            for i, crate in enumerate(crates):
                name = crate.get("name") if isinstance(crate, dict) else None
                downloads = count(crate.get("downloads")) if isinstance(crate, dict) else None
                if not isinstance(name, str) or downloads is None:
                    skip_row(self.label, f"{url} $.crates[{i}]", "expected 'name' and a numeric 'downloads'")
                    continue
                seen += 1
                yield Row(name, name, downloads)
            meta = data.get("meta")
            if not crates or not isinstance(meta, dict) or not meta.get("next_page"):
                return
            page += 1
