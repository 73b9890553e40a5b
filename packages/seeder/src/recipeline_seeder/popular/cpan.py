"""CPAN: MetaCPAN's favourites leaderboard, keeping ``App-*`` distributions.

``GET {cpan}/favorite/leaderboard`` answers ``{"leaderboard": [{"key": "App-cpanminus",
"doc_count": 412}, ...], "took": n, "total": n}`` (the 100 most favourited distributions).
Only ``App-*`` distributions are kept: by CPAN convention they are the ones that ship a
command-line application, while the rest of the leaderboard is libraries (Moose, DBI). The tool
name is the part after ``App-``, lower-cased (``App-Ack`` -> ``ack``); the identifier is the
distribution. Popularity is the favourite count.
"""

from __future__ import annotations

from collections.abc import Iterator

from .common import ApiSource, Row, count, field, skip_row

PREFIX = "App-"


class CpanSource(ApiSource):
    """MetaCPAN's most favourited ``App-*`` distributions."""

    ecosystem = "cpan"
    label = "cpan:favorite/leaderboard"

    def rows(self) -> Iterator[Row]:
        url = f"{self.base_url}/favorite/leaderboard"
        board = field(self.get_json(url), "leaderboard", list, url)
        rows = []
        for i, item in enumerate(board):
            dist = item.get("key") if isinstance(item, dict) else None
            favourites = count(item.get("doc_count")) if isinstance(item, dict) else None
            if not isinstance(dist, str) or favourites is None:
                skip_row(self.label, f"$.leaderboard[{i}]", "expected 'key' and a numeric 'doc_count'")
            elif dist.startswith(PREFIX) and len(dist) > len(PREFIX):
                rows.append(Row(dist[len(PREFIX) :].lower(), dist, favourites))
        # the leaderboard is sorted already; sort again so a reordered answer gives the same queue
        yield from sorted(rows, key=lambda r: (-(r.popularity or 0), r.name))
