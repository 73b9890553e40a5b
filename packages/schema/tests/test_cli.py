"""python -m recipeline_schema: schema export, drift check, data file checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import recipeline_schema as rs
from recipeline_schema.exitcodes import EXIT_USAGE


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "recipeline_schema", *args], capture_output=True, text=True)


def test_export_then_check_schemas(tmp_path: Path) -> None:
    assert _run("export-schemas", str(tmp_path)).returncode == 0
    assert (tmp_path / "queue.schema.json").is_file() and (tmp_path / "recipe.schema.json").is_file()
    assert _run("check-schemas", str(tmp_path)).returncode == 0
    (tmp_path / "queue.schema.json").write_text("{}\n")
    result = _run("check-schemas", str(tmp_path))
    assert result.returncode == 1 and "queue.schema.json: differs" in result.stderr


def test_check_names_the_broken_file(tmp_path: Path) -> None:
    queues = tmp_path / "data" / "queues"
    good = queues / "priority-queue-pypi.json"
    rs.save(rs.Queue(1, "pypi", rs.parse_time("2026-01-01T00:00:00Z"), ()), good)
    assert _run("check", str(good)).returncode == 0
    bad = queues / "priority-queue-npm.json"
    bad.write_text('{"schema_version": 1}')
    result = _run("check", str(good), str(bad))
    assert result.returncode == 1
    expected = "expected required field(s) ['ecosystem', 'updated_at', 'entries']"
    assert result.stderr.strip() == f"{bad}: at $: {expected}"
    assert _run("check", str(tmp_path / "unknown.txt")).returncode == EXIT_USAGE


def test_check_knows_release_records_beside_the_manifests(tmp_path: Path) -> None:
    layout = rs.Layout(tmp_path)
    now = rs.parse_time("2026-01-29T10:00:00Z")
    release = rs.Release(now, "batch_died", "pending", ("pypi:httpie",), branch="batch/2026-01-29-001")
    rs.save(
        rs.ReleaseRecord(1, "2026-01-29-001", "pypi", (release,)), layout.release_record("2026-01-29-001")
    )
    assert _run("check", str(layout.release_record("2026-01-29-001"))).returncode == 0
    layout.release_record("2026-01-29-002").write_text('{"schema_version": 1, "batch_id": "2026-01-29-002"}')
    result = _run("check", str(layout.release_record("2026-01-29-002")))
    assert result.returncode == 1 and "release.json: at $: expected required field(s)" in result.stderr


def test_the_exit_code_table_has_one_name_per_code_and_the_help_quotes_it() -> None:
    from recipeline_schema.exitcodes import EXIT_TABLE

    codes = [code for code, _, _ in EXIT_TABLE]
    assert codes == sorted(set(codes)) and codes[0] == 0
    assert len({name for _, name, _ in EXIT_TABLE}) == len(EXIT_TABLE)
    help_text = _run("--help").stdout
    assert "exit codes: 0 ok; 1 error; 2 partial; 3 stopped" in " ".join(help_text.split())
