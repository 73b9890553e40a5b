"""The ``generate`` stage over a real batch directory and repository in tmp_path."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from recipeline_generator import BuilderRegistry, PypiBuilder, generate_batch
from recipeline_generator.__main__ import main
from recipeline_schema import (
    BatchDir,
    BatchPlan,
    EndpointError,
    GeneratedPackage,
    GenerationReport,
    Layout,
    PlannedPackage,
    load,
    recipe_from_toml,
    save,
)
from recipeline_schema.http import HttpClient
from recipeline_schema.meta import installed_version

NOW = dt.datetime(2026, 1, 29, 10, 0, tzinfo=dt.UTC)


def write_plan(batch_dir: Path, *packages: tuple[str, str]) -> None:
    plan = BatchPlan(
        schema_version=1,
        batch_id="2026-01-29-001",
        ecosystem="pypi",
        created_at=NOW,
        tier=2,
        packages=tuple(PlannedPackage(name, source) for name, source in packages),
    )
    save(plan, BatchDir(batch_dir).plan)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose curated.jsonl uses tsuku's single-object form."""
    root = tmp_path / "repo"
    curated = Layout(root).curated
    curated.parent.mkdir(parents=True)
    records = [
        {"tool": "aider", "selected": "pypi:aider-chat", "alternatives": [], "selection_reason": "curated"},
        {"tool": "hub", "selected": "github:github/hub", "alternatives": ["homebrew:hub"]},
    ]
    curated.write_text(json.dumps({"disambiguations": records}) + "\n")
    return root


@pytest.fixture
def published(index: Any) -> Any:
    """The index holds demo (ok), aider-chat (ok), lib-only (no console_scripts)."""
    for project, scripts in (
        ("demo", "[console_scripts]\ndemo = d:m\n"),
        ("aider-chat", "[console_scripts]\naider = a:m\n"),
        ("lib-only", None),
    ):
        entry, _ = index.publish(project, "1.0", entry_points=scripts)
        index.add_project(project, [entry])
    return index


PLAN = (
    ("demo", "pypi:demo"),
    ("aider", "pypi:aider"),  # curated -> pypi:aider-chat
    ("hub", "homebrew:hub"),  # curated -> github: skipped
    ("ripgrep", "cargo:ripgrep"),  # no builder yet: skipped
    ("lib-only", "pypi:lib-only"),  # failed: binary discovery
    ("gone", "pypi:gone"),  # failed: 404
)


def test_generate_batch_writes_recipes_and_one_outcome_per_planned_package(
    tmp_path: Path, repo: Path, http: HttpClient, published: Any
) -> None:
    batch_dir = tmp_path / "build" / "batches" / "2026-01-29-001"
    write_plan(batch_dir, *PLAN)
    builders = BuilderRegistry([PypiBuilder(http, index_url=published.url, now=lambda: NOW)])

    report = generate_batch(batch_dir, repo, builders, now=lambda: NOW)

    assert report == load(GenerationReport, BatchDir(batch_dir).generation)
    rows = {p.name: p for p in report.packages}
    assert [p.name for p in report.packages] == [name for name, _ in PLAN]
    assert {n: p.outcome for n, p in rows.items()} == {
        "demo": "generated",
        "aider": "generated",
        "hub": "skipped",
        "ripgrep": "skipped",
        "lib-only": "failed",
        "gone": "failed",
    }
    assert (rows["aider"].resolved_source, rows["aider"].override) == ("pypi:aider-chat", True)
    assert (rows["demo"].override, rows["hub"].override) == (False, True)
    assert rows["hub"].reason.startswith("github:") and "cargo" in rows["ripgrep"].reason
    assert rows["aider"].recipe == "recipes/aider.toml"
    aider = recipe_from_toml((batch_dir / "recipes" / "aider.toml").read_text())
    assert (aider.name, aider.steps[0].params["package"]) == ("aider", "aider-chat")
    gone = rows["gone"].failure
    assert gone is not None and (gone.package_id, gone.subcategory) == ("pypi:gone", "not_found")
    lib = rows["lib-only"].failure
    assert lib is not None and lib.subcategory == "binary_discovery_failed"
    assert sorted(p.name for p in (batch_dir / "recipes").iterdir()) == ["aider.toml", "demo.toml"]


def test_failure_of_an_overridden_entry_is_keyed_by_the_entry_source(
    tmp_path: Path, repo: Path, http: HttpClient, index: Any
) -> None:
    batch_dir = tmp_path / "b"
    write_plan(batch_dir, ("aider", "pypi:aider"))  # curated to pypi:aider-chat, which is absent
    builders = BuilderRegistry([PypiBuilder(http, index_url=index.url)])

    (row,) = generate_batch(batch_dir, repo, builders, now=lambda: NOW).packages

    assert row.outcome == "failed" and row.failure is not None
    assert (row.package_id, row.failure.package_id, row.resolved_source) == (
        "pypi:aider",
        "pypi:aider",
        "pypi:aider-chat",
    )
    # the stage that decided it: a permanent failure waits for another version of it
    assert row.failure.producer == f"recipeline-generator {installed_version('recipeline-generator')}"


def test_a_rerun_removes_the_recipe_of_a_package_that_now_fails(
    tmp_path: Path, repo: Path, http: HttpClient, published: Any, httpserver: Any
) -> None:
    batch_dir = tmp_path / "b"
    write_plan(batch_dir, ("demo", "pypi:demo"))
    builders = BuilderRegistry([PypiBuilder(http, index_url=published.url)])
    generate_batch(batch_dir, repo, builders, now=lambda: NOW)
    assert (batch_dir / "recipes" / "demo.toml").exists()
    httpserver.clear()  # the project disappears upstream

    (row,) = generate_batch(batch_dir, repo, builders, now=lambda: NOW).packages

    assert row.outcome == "failed"
    assert not (batch_dir / "recipes" / "demo.toml").exists()


def test_no_configured_index_stops_the_batch_before_any_report(
    tmp_path: Path, repo: Path, http: HttpClient
) -> None:
    def unconfigured() -> str:
        raise EndpointError("no PyPI index: PIP_INDEX_URL is not set")

    batch_dir = tmp_path / "b"
    write_plan(batch_dir, ("ripgrep", "cargo:ripgrep"), ("demo", "pypi:demo"))
    builders = BuilderRegistry([PypiBuilder(http, resolve_index=unconfigured)])

    with pytest.raises(EndpointError, match="no PyPI index"):
        generate_batch(batch_dir, repo, builders, now=lambda: NOW)
    # what was done before the stop is recorded, but never as a complete report
    partial = load(GenerationReport, BatchDir(batch_dir).generation)
    assert not partial.complete and [p.name for p in partial.packages] == ["ripgrep"]


def test_the_report_grows_after_each_package_and_ends_complete(
    tmp_path: Path, repo: Path, http: HttpClient, published: Any
) -> None:
    """A validator following the batch sees each recipe as soon as it exists."""
    batch_dir = tmp_path / "b"
    write_plan(batch_dir, ("demo", "pypi:demo"), ("ripgrep", "github:BurntSushi/ripgrep"), ("x", "pypi:demo"))
    builders = BuilderRegistry([PypiBuilder(http, index_url=published.url)])
    seen: list[tuple[int, bool]] = []

    def progress(_: GeneratedPackage) -> None:
        path = BatchDir(batch_dir).generation
        if path.exists():
            report = load(GenerationReport, path)
            seen.append((len(report.packages), report.complete))

    final = generate_batch(batch_dir, repo, builders, now=lambda: NOW, progress=progress)
    # progress runs before each write: it sees the report of the packages before the current one
    assert seen == [(1, False), (2, False)]
    assert final.complete and len(final.packages) == 3
    assert load(GenerationReport, BatchDir(batch_dir).generation) == final


def test_duplicate_names_in_a_plan_are_skipped_after_the_first(
    tmp_path: Path, repo: Path, http: HttpClient, published: Any
) -> None:
    batch_dir = tmp_path / "b"
    write_plan(batch_dir, ("demo", "pypi:demo"), ("Demo", "pypi:demo"))
    builders = BuilderRegistry([PypiBuilder(http, index_url=published.url)])

    first, second = generate_batch(batch_dir, repo, builders, now=lambda: NOW).packages

    assert (first.outcome, second.outcome) == ("generated", "skipped")
    assert "duplicate" in second.reason


def test_generate_command_end_to_end(
    tmp_path: Path,
    repo: Path,
    published: Any,
    httpserver: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    batch_dir = tmp_path / "build" / "batches" / "2026-01-29-001"
    write_plan(batch_dir, *PLAN)
    # the CLI's registry has a cargo builder: its API is the local server, where ripgrep is unknown
    monkeypatch.setenv("RECIPELINE_CARGO_URL", httpserver.url_for("/crates-api"))
    httpserver.expect_request("/crates-api/crates/ripgrep").respond_with_data("", status=404)

    code = main(
        [
            "generate",
            "--batch-dir",
            str(batch_dir),
            "--repo",
            str(repo),
            "--index-url",
            published.url,
            "--rate-limit",
            "pypi=1000/1",
        ]
    )

    out = capsys.readouterr()
    assert code == 0, out.err
    assert "2 generated, 3 failed, 1 skipped, 2 curated overrides" in out.out
    report = load(GenerationReport, BatchDir(batch_dir).generation)
    assert [p.outcome for p in report.packages].count("generated") == 2


def test_generate_command_on_a_broken_plan_exits_2_with_one_line(
    tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch_dir = tmp_path / "b"
    batch_dir.mkdir()
    (batch_dir / "manifest.json").write_text('{"schema_version": 1, "batch_id": "nope"}')

    code = main(
        ["generate", "--batch-dir", str(batch_dir), "--repo", str(repo), "--index-url", "http://x.invalid/"]
    )

    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "manifest.json" in err and "Traceback" not in err
