"""The CLI on a temporary repository written through recipeline_schema, plus tsuku's real data."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from recipeline_dashboard import RepositoryData, build_dashboard, dashboard_schema, read_repository
from recipeline_dashboard.__main__ import main
from recipeline_dashboard.bench import timed, unpack_snapshot, write_corpus
from recipeline_dashboard.errors import DashboardError
from recipeline_dashboard.schema import check_document, schema_drifted
from recipeline_schema import FailureRecord, Layout, MetricsLine, Queue, append_jsonl, save, write_jsonl
from recipeline_schema.exitcodes import EXIT_USAGE

MakeRecord = Callable[..., FailureRecord]
MakeMetrics = Callable[..., MetricsLine]
NOW = "2026-02-15T12:00:00Z"
SHARED = Path(__file__).resolve().parents[3].parent / "shared"
TSUKU = SHARED / "fixtures" / "tsuku"


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def populated(
    repo: Path, pypi_queue: Queue, cargo_queue: Queue, make_record: MakeRecord, make_metrics: MakeMetrics
) -> Path:
    """A repository with pypi and cargo queues, two failure files (one with a malformed line), metrics."""
    layout = Layout(repo)
    save(pypi_queue, layout.queue("pypi"))
    save(cargo_queue, layout.queue("cargo"))
    pypi_failures = layout.failures_dir / "pypi-2026-02-01T10-00-00Z.jsonl"
    write_jsonl(
        [
            make_record(
                "pypi", "2026-02-01-001", [("pypi:httpie", "validation_failed", "install_failed", 1)]
            ),
            make_record(
                "pypi",
                "2026-02-01-001",
                [("pypi:tox", "api_error", "timeout", 2)],
                environment="darwin-arm64",
            ),
        ],
        pypi_failures,
    )
    cargo_failures = layout.failures_dir / "cargo-2026-02-01T11-00-00Z.jsonl"
    write_jsonl(
        [make_record("cargo", "2026-02-01-002", [("cargo:bat", "missing_dep", None, 3)])], cargo_failures
    )
    with cargo_failures.open("a") as fh:
        fh.write('{"schema_version": 1, "ecosystem": "cargo", "failures": [\n')  # truncated by a crash
        fh.write("\n")
        fh.write(
            json.dumps(
                {
                    "schema_version": 1,
                    "ecosystem": "cargo",
                    "environment": "darwin-arm64",
                    "batch_id": "2026-02-01-002",
                    "updated_at": "2026-02-01T10:00:00Z",
                    "failures": [
                        {
                            "package_id": "cargo:fd",
                            "category": "exploded",
                            "message": "x",
                            "timestamp": "2026-02-01T10:00:00Z",
                        }
                    ],
                }
            )
            + "\n"
        )
    write_jsonl(
        [make_metrics("2026-02-01-001", "pypi", 1), make_metrics("2026-02-01-002", "cargo", 2, merged=0)],
        layout.metrics,
    )
    return repo


def dashboard(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_build_counts_everything_and_reports_the_malformed_lines(
    populated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "build", "--repo", populated, "--now", NOW)
    assert code == 0
    output = populated / "website" / "pipeline" / "dashboard.json"
    assert out == f"wrote {output}: 7 queue entries, 3 failures, 2 runs, 2 data errors\n"
    doc = dashboard(output)
    assert doc["generated_at"] == NOW
    assert doc["queue"]["total"] == 7
    assert {eco: v["total"] for eco, v in doc["queue"]["by_ecosystem"].items()} == {"pypi": 5, "cargo": 2}
    assert doc["queue"]["by_status"]["pending"] == 3
    assert doc["failures"]["by_category"] == {
        "validation_failed": 1,
        "api_error": 1,
        "missing_dep": 1,
        "deterministic_insufficient": 0,
    }
    assert [f["package"] for f in doc["recent_failures"]] == ["cargo:bat", "pypi:tox", "pypi:httpie"]
    assert doc["recent_failures"][1]["environments"] == ["darwin-arm64"]
    assert [r["batch_id"] for r in doc["runs"]] == ["2026-02-01-002", "2026-02-01-001"]

    errors = doc["errors"]
    assert errors["count"] == 2
    bad_json, bad_category = errors["items"]
    assert (bad_json["file"], bad_json["line"]) == ("data/failures/cargo-2026-02-01T11-00-00Z.jsonl", 2)
    assert bad_json["message"].startswith("expected valid JSON")
    assert (bad_category["file"], bad_category["line"]) == (
        "data/failures/cargo-2026-02-01T11-00-00Z.jsonl",
        4,
    )
    assert "$.failures[0].category" in bad_category["message"]
    assert "data/failures/cargo-2026-02-01T11-00-00Z.jsonl:2: expected valid JSON" in err


def test_output_is_deterministic_and_written_where_asked(
    populated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "out1", tmp_path / "deep" / "out2"
    assert run(capsys, "build", "--repo", populated, "--output", first, "--now", NOW)[0] == 0
    assert run(capsys, "build", "--repo", populated, "--output", second, "--now", NOW)[0] == 0
    text = (first / "dashboard.json").read_text()
    assert text == (second / "dashboard.json").read_text()
    assert (
        text == json.dumps(json.loads(text), sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
    )
    assert not (populated / "website").exists()
    pages = {
        "index.html",
        "queue.html",
        "failures.html",
        "package.html",
        "runs.html",
        "run.html",
        "blockers.html",
        "failure.html",
    }
    # the whole site, and no temp file left behind
    assert sorted(p.name for p in first.iterdir()) == sorted(
        pages | {"app.js", "style.css", "dashboard.json", "data"}
    )
    # each page's data, and the package files: every bucket, nothing else, no temp file
    assert sorted(p.name for p in (first / "data").iterdir()) == sorted(
        [p.replace(".html", ".json") for p in pages] + ["packages"]
    )
    assert sorted(p.name for p in (first / "data" / "packages").iterdir()) == sorted(
        f"{n}.json" for n in range(128)
    )


def test_json_only_writes_the_document_alone(
    populated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run(capsys, "build", "--repo", populated, "--output", tmp_path / "o", "--now", NOW, "--json-only")[0]
        == 0
    )
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["dashboard.json"]


def test_a_malformed_queue_file_is_reported_not_fatal(
    populated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = Layout(populated).queue("npm")
    broken.write_text('{"schema_version": 1, "ecosystem": "npm", "updated_at": "2026-01-01T00:00:00Z"}\n')
    code, _, _ = run(capsys, "build", "--repo", populated, "--now", NOW)
    assert code == 0
    doc = dashboard(populated / "website" / "pipeline" / "dashboard.json")
    assert doc["queue"]["total"] == 7
    (problem,) = [e for e in doc["errors"]["items"] if e["file"] == "data/queues/priority-queue-npm.json"]
    assert problem["line"] is None and "entries" in problem["message"]


def test_recipeline_records_are_refused_in_the_schema_packages_words(populated: Path) -> None:
    """A queue entry and a metrics line that break their contracts: the problem says where and
    what, as every stage words it; the rest is read."""
    layout = Layout(populated)
    queue = json.loads(layout.queue("pypi").read_text(encoding="utf-8"))
    queue["entries"][0]["priority"] = 7
    layout.queue("pypi").write_text(json.dumps(queue), encoding="utf-8")
    metrics = layout.metrics.read_text(encoding="utf-8").splitlines()
    bad = json.loads(metrics[0])
    bad["success_rate"] = 2
    layout.metrics.write_text("\n".join([json.dumps(bad), *metrics[1:]]) + "\n", encoding="utf-8")
    doc = build_dashboard(read_repository(populated), dt.datetime(2026, 2, 15, 12, tzinfo=dt.UTC))
    by_file = {(e["file"], e["line"]): e["message"] for e in doc["errors"]["items"]}
    assert by_file[("data/queues/priority-queue-pypi.json", None)].startswith(
        "at $.entries[0].priority: expected"
    )
    assert by_file[("data/metrics/batch-runs.jsonl", 1)].startswith("at $.success_rate: expected")
    assert doc["queue"]["total"] == 6  # the pypi entry with priority 7 is left out, the rest read
    assert [r["batch_id"] for r in doc["runs"]] == ["2026-02-01-002"]


def test_an_empty_repository_gives_an_empty_dashboard(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.rmtree(repo / "data")
    (repo / "data").mkdir()  # an empty data/ is a repository with nothing in it yet (no data/: refused)
    code, out, _ = run(capsys, "build", "--repo", repo, "--now", NOW)
    assert code == 0
    assert "0 queue entries, 0 failures, 0 runs, 0 data errors" in out


@pytest.mark.parametrize(
    "args",
    [["build", "--repo", "{missing}"], ["build", "--repo", "{empty}"], ["build", "--now", "soon"], ["paint"]],
    ids=["repo", "no-data", "now", "cmd"],
)
def test_usage_errors_exit_64_with_one_line(
    tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    code, out, err = run(
        capsys, *[a.format(missing=tmp_path / "missing", empty=tmp_path / "empty") for a in args]
    )
    assert code == EXIT_USAGE and out == ""
    (line,) = err.splitlines()
    assert line.startswith("recipeline-dashboard") and "error:" in line
    assert list((tmp_path / "empty").iterdir()) == []  # no empty dashboard


def test_a_folder_without_data_is_named_with_the_command_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "build", "--repo", tmp_path)
    assert code == EXIT_USAGE
    assert err == (
        f"recipeline-dashboard: error: --repo {tmp_path} is not a recipeline repository "
        f"(no data/ directory); start one with: invoke seed --ecosystem ECOSYSTEM --repo {tmp_path}\n"
    )


def test_an_unwritable_output_is_an_error(
    populated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code, _, err = run(capsys, "build", "--repo", populated, "--output", blocker, "--now", NOW)
    assert code == 1
    assert err.startswith(f"recipeline-dashboard: error: {blocker / 'app.js'}: expected a writable")
    assert len(err.splitlines()) == 1


def test_module_runs_as_a_subprocess(populated: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "recipeline_dashboard",
            "build",
            "--repo",
            str(populated),
            "--output",
            str(tmp_path / "site"),
            "--now",
            NOW,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert dashboard(tmp_path / "site" / "dashboard.json")["queue"]["total"] == 7
    # the process ends with os._exit: what it printed to pipes must still arrive, codes kept
    assert proc.stdout.startswith("wrote ") and "7 queue entries" in proc.stdout
    bad = [sys.executable, "-m", "recipeline_dashboard", "build", "--repo", str(tmp_path / "missing")]
    failed = subprocess.run(bad, capture_output=True, text=True, check=False, timeout=60)
    assert failed.returncode == EXIT_USAGE and failed.stdout == ""
    expected = f"recipeline-dashboard: error: --repo {tmp_path / 'missing'}: no such directory\n"
    assert failed.stderr == expected


@pytest.mark.skipif(not TSUKU.is_dir(), reason=f"tsuku fixtures not present at {TSUKU}")
def test_tsukus_real_data_builds_a_valid_dashboard(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "build", "--repo", TSUKU, "--output", tmp_path, "--now", NOW, "--check")
    assert code == 0, err
    assert "5305 queue entries" in out and "0 data errors" in out
    check_document(dashboard(tmp_path / "dashboard.json"))


@pytest.mark.skipif(not TSUKU.is_dir(), reason=f"tsuku fixtures not present at {TSUKU}")
def test_tsukus_malformed_jsonl_lines_are_each_reported(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(TSUKU / "upstream-testdata" / "malformed.jsonl", repo / "data" / "failures" / "x.jsonl")
    code, _, _ = run(capsys, "build", "--repo", repo, "--now", NOW)
    assert code == 0
    doc = dashboard(repo / "website" / "pipeline" / "dashboard.json")
    items = doc["errors"]["items"]
    assert [i["line"] for i in items if i["message"].startswith("expected valid JSON")] == [2, 4]
    assert [i["line"] for i in items if "'success'" in i["message"]] == [1]  # not a failure category
    assert doc["failures"]["by_legacy_category"] == {"success": 1, "api_error": 1, "missing_dep": 1}


def test_built_documents_validate_against_the_schema(
    populated: Path, tsuku_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, root in (("native", populated), ("tsuku", tsuku_repo)):
        code, _, err = run(
            capsys, "build", "--repo", root, "--output", tmp_path / name, "--now", NOW, "--check"
        )
        assert code == 0, err
        check_document(dashboard(tmp_path / name / "dashboard.json"))


def test_a_document_that_breaks_the_schema_is_named() -> None:
    with pytest.raises(DashboardError, match=r"at \$\.queue: expected"):
        check_document(
            {**build_dashboard(RepositoryData(), dt.datetime(2026, 1, 1, tzinfo=dt.UTC)), "queue": 3}
        )


def test_schema_export_and_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "schemas"
    assert run(capsys, "schema", target, "--check")[0] == 1
    code, out, _ = run(capsys, "schema", target)
    assert code == 0 and out == f"wrote {target / 'dashboard.schema.json'}\n"
    assert json.loads((target / "dashboard.schema.json").read_text()) == dashboard_schema()
    assert run(capsys, "schema", target, "--check")[0] == 0


def test_the_committed_schema_copy_is_current() -> None:
    schemas = Path(__file__).resolve().parents[3] / "data" / "schemas"
    assert not schema_drifted(schemas), "run: python -m recipeline_dashboard schema data/schemas"


def test_bench_corpus_is_shaped_like_tsukus_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    counts = write_corpus(tmp_path, scale=1, divisor=50)
    assert counts == {"failure_files": 115, "failure_lines": 132, "metrics_files": 33, "queue_entries": 106}
    assert len(list((tmp_path / "data" / "failures").glob("*.jsonl"))) == 115
    code, out, _ = run(capsys, "build", "--repo", tmp_path, "--now", NOW, "--check")
    assert code == 0 and "106 queue entries" in out and "33 runs, 0 data errors" in out


SNAPSHOT = SHARED / "fixtures" / "tsuku-snapshot.tar.gz"


@pytest.mark.skipif(not SNAPSHOT.is_file(), reason=f"tsuku's snapshot not present at {SNAPSHOT}")
def test_bench_scales_tsukus_snapshot_by_copying_its_failure_files(tmp_path: Path) -> None:
    """At scale 2 every failure file has one copy, byte for byte, named <stem>-d1.jsonl (the
    ecosystem prefix still parses)."""
    files = unpack_snapshot(SNAPSHOT, tmp_path, scale=2)
    failures = tmp_path / "data" / "failures"
    copies = sorted(failures.glob("*-d1.jsonl"))
    assert files == 2 * len(copies) == len(list(failures.glob("*.jsonl"))) > 5000
    for copy in copies[:: len(copies) // 50]:
        original = copy.with_name(copy.name.replace("-d1.jsonl", ".jsonl"))
        assert copy.read_bytes() == original.read_bytes()


def test_bench_times_a_child_and_reads_its_peak_memory() -> None:
    """A child that holds 64 MiB reports at least that much (not the bench process's size)."""
    wall, peak = timed(
        [sys.executable, "-c", "x = bytearray(64 << 20); x[::4096] = b'1' * len(x[::4096])"], {}
    )
    assert wall > 0
    if shutil.which("time", path="/usr/bin:/bin"):
        assert peak is not None and 64 <= peak < 200
    else:
        assert peak is None


def test_reading_does_not_import_the_validation_or_metadata_machinery() -> None:
    # jsonschema, tomlkit, the schema package's IO and contracts and importlib.metadata cost more
    # at start than a build of tsuku's data spends reading it: they are imported only when needed
    code = (
        "import sys, recipeline_dashboard, recipeline_dashboard.__main__;"
        "recipeline_dashboard.__main__.build_parser();"
        "heavy = ('jsonschema', 'importlib.metadata', 'multiprocessing', 'tomlkit', 'shutil',"
        " 'recipeline_schema.io', 'recipeline_schema.contracts', 'recipeline_schema.endpoints');"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    import recipeline_dashboard

    assert recipeline_dashboard.__version__ == "0.1.0"


def test_the_site_is_replaced_atomically_keeping_the_files_mode(tmp_path: Path) -> None:
    from recipeline_dashboard.site import replace_file

    target = tmp_path / "site" / "dashboard.json"
    replace_file(target, b"{}\n")  # parents created, 0644 like the schema package's writer
    assert target.read_bytes() == b"{}\n" and target.stat().st_mode & 0o777 == 0o644
    target.chmod(0o664)
    replace_file(target, b"x" * 300_000)  # a large file: every byte written, the mode kept
    assert target.read_bytes() == b"x" * 300_000 and target.stat().st_mode & 0o777 == 0o664
    assert sorted(p.name for p in target.parent.iterdir()) == ["dashboard.json"]  # no temporary left
    (tmp_path / "file").write_text("")
    with pytest.raises(OSError):
        replace_file(tmp_path / "file" / "dashboard.json", b"{}")  # a parent that is a file


def test_a_released_batch_is_read_and_shown_with_its_run(repo: Path, make_metrics: MakeMetrics) -> None:
    """What the merger's reconcile records: a dead batch's metrics line (``released``) and the
    release record beside the manifests; the run lists the release and the document validates."""
    from recipeline_dashboard import read_repository
    from recipeline_schema import PullRequestRef, Release, ReleaseRecord, append_jsonl

    layout = Layout(repo)
    when = dt.datetime(2026, 2, 1, 12, 0, 0, tzinfo=dt.UTC)
    line = make_metrics("2026-02-01-003", "pypi", 11, merged=0, total=2)
    append_jsonl([dataclasses.replace(line, released=2)], layout.metrics)
    died = Release(when, "batch_died", "pending", ("pypi:black", "pypi:tox"), branch="batch/2026-02-01-003")
    closed = Release(
        when, "pr_closed", "failed", ("pypi:nox",), branch="batch/2026-02-01-003-review",
        pull_request=PullRequestRef(7, "https://github.example/o/r/pull/7"), reason="PR #7 closed",
    )  # fmt: skip
    save(ReleaseRecord(1, "2026-02-01-003", "pypi", (died, closed)), layout.release_record("2026-02-01-003"))

    data = read_repository(repo)
    assert data.problems == ()  # the release record is not mistaken for a manifest
    document = build_dashboard(data, dt.datetime(2026, 2, 2, tzinfo=dt.UTC))
    check_document(document)
    (run,) = document["runs"]
    assert [r["cause"] for r in run["released"]] == ["batch_died", "pr_closed"]
    assert run["released"][1]["pull_request"] == "https://github.example/o/r/pull/7"
    assert run["released"][0]["packages"] == ["pypi:black", "pypi:tox"] and run["merged"] == 0


def test_a_run_shows_the_version_installed_and_the_newest_where_they_differ(
    repo: Path, make_metrics: MakeMetrics
) -> None:
    """The manifest's per-environment installed versions reach the run page, with the skew."""
    from recipeline_dashboard import read_repository
    from recipeline_schema import BatchManifest, ManifestPackage

    layout = Layout(repo)
    when = dt.datetime(2026, 2, 1, 12, 0, 0, tzinfo=dt.UTC)
    append_jsonl([make_metrics("2026-02-01-004", "npm", 11, merged=2, total=2)], layout.metrics)
    linux, alpine = "linux-debian-glibc-x86_64", "linux-alpine-musl-x86_64"
    eslint = ManifestPackage("eslint", "npm:eslint", "npm:eslint", "merged")
    packages = (
        dataclasses.replace(eslint, installed_versions={linux: "8.57.1"}, latest_version="9.4.0"),
        ManifestPackage(
            "tldr", "npm:tldr", "npm:tldr", "merged", installed_versions={linux: "3.4", alpine: "3.3"}
        ),
    )
    save(BatchManifest(1, "2026-02-01-004", "npm", when, when, "batch/2026-02-01-004", packages),
         layout.manifest("2026-02-01-004"))  # fmt: skip

    document = build_dashboard(read_repository(repo), dt.datetime(2026, 2, 2, tzinfo=dt.UTC))
    check_document(document)
    (run,) = document["runs"]
    shown = {p["name"]: (p["installed"], p["latest"]) for p in run["manifest"]["packages"]}
    assert shown == {"eslint": ("8.57.1", "9.4.0"), "tldr": (f"{alpine}: 3.3, {linux}: 3.4", "")}
