"""Read curated disambiguations in both forms: one record a line, or tsuku's single object."""

from __future__ import annotations

from pathlib import Path

from .errors import DataFileError
from .io import decode, parse_json
from .models import Disambiguation


def read_curated(path: Path | str) -> tuple[Disambiguation, ...]:
    """Records of ``curated.jsonl``; a line holding ``{"disambiguations": [...]}`` is expanded.

    A missing file means no curated records. A bad line raises ``DataFileError`` naming it.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ()
    out: list[Disambiguation] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        data = parse_json(line, path, line=number)
        if isinstance(data, dict) and "disambiguations" in data:
            items = data["disambiguations"]
            if not isinstance(items, list):
                raise DataFileError(path, f"line {number}: $.disambiguations", "an array", items)
            for i, item in enumerate(items):
                where = f"line {number}: $.disambiguations[{i}]"
                out.append(decode(Disambiguation, item, path, prefix=where))
        else:
            out.append(decode(Disambiguation, data, path, prefix=f"line {number}: $"))
    return tuple(out)


def curated_by_tool(records: tuple[Disambiguation, ...]) -> dict[str, Disambiguation]:
    """Index by tool name, case-insensitively; a later line wins."""
    return {r.tool.lower(): r for r in records}
