"""JSON in and out through orjson: the standard library's results, and its turn where orjson refuses."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from recipeline_dashboard import Dashboard, build_dashboard, read_repository, render, render_dashboard
from recipeline_dashboard.bench import write_corpus

NOW = dt.datetime(2026, 8, 15, tzinfo=dt.UTC)


def stdlib_render(document: object) -> str:
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


def test_the_dashboard_is_written_as_the_standard_library_writes_it(tsuku_repo: Path, tmp_path: Path) -> None:
    write_corpus(tmp_path, scale=1, divisor=50)
    for root in (tsuku_repo, tmp_path):
        data = read_repository(root)
        document = build_dashboard(data, NOW)
        assert render(document) == stdlib_render(document)
        assert render_dashboard(Dashboard(data, NOW)) == render(document)  # one section at a time


def test_what_orjson_refuses_is_read_and_written_all_the_same(tsuku_repo: Path) -> None:
    failures = tsuku_repo / "data" / "failures"
    odd = {
        "schema_version": 1,
        "ecosystem": "homebrew",
        "environment": "linux-glibc-x86_64",
        "updated_at": "2026-02-08T02-33-27Z",
        "failures": [
            {  # a lone surrogate escape and an exit code beyond 64 bits: valid for the stdlib
                "package_id": "homebrew:odd",
                "category": "validation_failed",
                "message": "Error: bad byte \\ud800 in output",
                "timestamp": "2026-02-08T02:33:27Z",
                "exit_code": 1 << 70,
            }
        ],
    }
    text = json.dumps(odd).replace("\\\\ud800", "\\ud800")  # the file spells the escape itself
    (failures / "homebrew-2026-02-08T02-33-27Z.jsonl").write_text(text + "\n", encoding="utf-8")
    metrics = tsuku_repo / "data" / "metrics"
    (metrics / "batch-runs-nan.jsonl").write_text(
        '{"batch_id": "2026-02-09", "total": 3, "merged": 1, "timestamp": "2026-02-09T01:00:00Z",'
        ' "duration_seconds": NaN}\n',
        encoding="utf-8",
    )
    data = read_repository(tsuku_repo)
    odd_events = [f for f in data.failures if f.package == "homebrew:odd"]
    assert len(odd_events) == 1 and "\ud800" in odd_events[0].message  # as json.loads reads it
    assert odd_events[0].exit_code == 1 << 70  # exact: the standard library read this line
    run = next(r for r in data.runs if r.batch_id == "2026-02-09")
    assert run.duration_seconds == 0.0  # NaN is not a duration
    text = render(build_dashboard(data, NOW))
    parsed = json.loads(text)  # valid JSON, the odd values escaped by the standard library
    row = next(f for f in parsed["failure_details"] if f["package"] == "homebrew:odd")
    assert row["message"] == "Error: bad byte \ud800 in output" and row["exit_code"] == 1 << 70
    assert "NaN" not in text
    text.encode("utf-8")  # no lone surrogate left in the text itself
