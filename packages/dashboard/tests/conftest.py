from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from recipeline_schema import Failure, FailureRecord, MetricsLine, Queue, QueueEntry

T0 = dt.datetime(2026, 2, 1, 10, 0, 0, tzinfo=dt.UTC)

MakeRecord = Callable[..., FailureRecord]
MakeMetrics = Callable[..., MetricsLine]


@pytest.fixture
def now() -> dt.datetime:
    """The dashboard's generation time."""
    return dt.datetime(2026, 2, 15, 12, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def pypi_queue() -> Queue:
    """A pypi queue with one entry in each of pending (x2), failed, success and in_progress."""
    return Queue(
        schema_version=1,
        ecosystem="pypi",
        updated_at=T0,
        entries=(
            QueueEntry(name="black", source="pypi:black", priority=1, popularity=100),
            QueueEntry(name="tox", source="pypi:tox", priority=3),
            QueueEntry(
                name="httpie",
                source="pypi:httpie",
                priority=2,
                status="failed",
                failure_count=3,
                next_retry_at=T0 + dt.timedelta(hours=8),
            ),
            QueueEntry(name="poetry", source="pypi:poetry", priority=1, popularity=50, status="success"),
            QueueEntry(
                name="nox", source="pypi:nox", priority=2, status="in_progress", batch_id="2026-02-01-001"
            ),
        ),
    )


@pytest.fixture
def cargo_queue() -> Queue:
    """A cargo queue with a pending and a blocked entry."""
    return Queue(
        schema_version=1,
        ecosystem="cargo",
        updated_at=T0,
        entries=(
            QueueEntry(name="ripgrep", source="cargo:ripgrep", priority=1, popularity=1_000),
            QueueEntry(name="bat", source="cargo:bat", priority=2, status="blocked", blocked_by=("libgit2",)),
        ),
    )


@pytest.fixture
def make_record() -> MakeRecord:
    """Build a failure record: ``make_record(ecosystem, batch_id, [(package_id, category, sub, minute)])``."""

    def make(
        ecosystem: str,
        batch_id: str,
        failures: list[tuple[str, str, str | None, int]],
        environment: str = "linux-debian-glibc-x86_64",
    ) -> FailureRecord:
        return FailureRecord(
            schema_version=1,
            ecosystem=ecosystem,  # type: ignore[arg-type]
            environment=environment,
            batch_id=batch_id,
            updated_at=T0,
            failures=tuple(
                Failure.create(
                    package_id,
                    category,
                    sub,
                    f"{package_id} failed: {category}",
                    timestamp=T0 + dt.timedelta(minutes=minute),
                )
                for package_id, category, sub, minute in failures
            ),
        )

    return make


@pytest.fixture
def make_metrics() -> MakeMetrics:
    """Build a batch metrics line: ``make_metrics(batch_id, ecosystem, hour, merged=..., total=...)``."""

    def make(batch_id: str, ecosystem: str, hour: int, *, merged: int = 1, total: int = 2) -> MetricsLine:
        return MetricsLine(
            batch_id=batch_id,
            ecosystem=ecosystem,  # type: ignore[arg-type]
            total=total,
            generated=total,
            failed=total - merged,
            blocked=0,
            validated_linux=merged,
            validated_macos=merged,
            merged=merged,
            excluded=0,
            success_rate=merged / total,
            used_disambiguation=0,
            duration_seconds=60.0,
            macos_minutes=1.5,
            linux_minutes=3.0,
            timestamp=T0 + dt.timedelta(hours=hour),
        )

    return make


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty recipeline repository root (data/ with its usual directories)."""
    root = tmp_path / "repo"
    for sub in ("queues", "failures", "metrics"):
        (root / "data" / sub).mkdir(parents=True)
    return root


def write_json(path: Path, value: object, *, pretty: bool = False) -> None:
    """Write ``value`` as JSON (tsuku's files are written raw: they break this project's contracts)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2 if pretty else None) + "\n", encoding="utf-8")


def write_lines(path: Path, lines: list[object | str]) -> None:
    """Write JSON Lines; a ``str`` item is written verbatim (a malformed line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join((item if isinstance(item, str) else json.dumps(item)) + "\n" for item in lines)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def tsuku_repo(tmp_path: Path) -> Path:
    """A repository in tsuku's layout, built here: unified queue, both failure line formats (with
    malformed lines), pretty-printed metrics, tsuku's batch-control.json and single-object curated.jsonl."""
    return write_tsuku_repo(tmp_path / "tsuku")


@pytest.fixture(scope="module")
def tsuku_repo_module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``tsuku_repo`` layout, once per test module (for the browser tests' site)."""
    return write_tsuku_repo(tmp_path_factory.mktemp("tsuku"))


def write_tsuku_repo(root: Path) -> Path:
    """Write the tsuku-layout repository of ``tsuku_repo`` under ``root``."""
    data = root / "data"
    write_json(
        data / "queues" / "priority-queue.json",
        {
            "schema_version": 1,
            "updated_at": "2026-02-03T10:00:00Z",
            "entries": [
                {
                    "name": "jq",
                    "source": "homebrew:jq",
                    "priority": 1,
                    "status": "success",
                    "failure_count": 0,
                },
                {
                    "name": "fd",
                    "source": "homebrew:fd",
                    "priority": 1,
                    "status": "pending",
                    "failure_count": 0,
                },
                {
                    "name": "node",
                    "source": "homebrew:node",
                    "priority": 1,
                    "status": "blocked",
                    "failure_count": 4,
                },
                {
                    "name": "watchexec",
                    "source": "crates.io:watchexec",
                    "priority": 2,
                    "status": "failed",
                    "failure_count": 2,
                    "next_retry_at": "1734-01-01T00:00:00Z",
                },
                {
                    "name": "ffmpeg",
                    "source": "homebrew:ffmpeg",
                    "priority": 3,
                    "status": "blocked",
                    "failure_count": 1,
                },
            ],
        },
        pretty=True,
    )
    # superseded by the unified queue: never counted twice
    write_json(
        data / "queues" / "priority-queue-homebrew.json",
        {
            "schema_version": 1,
            "packages": [{"id": "homebrew:jq", "name": "jq", "tier": 1, "status": "success"}],
        },
    )
    banner = "Warning: Skipping recipe review (--yes). The recipe will be installed without confirmation.\n"
    write_lines(
        data / "failures" / "homebrew-2026-02-07T03-03-36Z.jsonl",
        [
            {
                "schema_version": 1,
                "ecosystem": "homebrew",
                "environment": "linux-glibc-x86_64",
                "updated_at": "2026-02-07T03-03-36Z",
                "failures": [
                    {
                        "package_id": "homebrew:node",
                        "category": "missing_dep",
                        "blocked_by": ["ada-url"],
                        "message": "Error: registry: recipe ada-url not found in registry\n\nSuggestion: x",
                        "timestamp": "2026-02-07T03:03:36.69166035Z",
                    },
                    {
                        "package_id": "homebrew:ffmpeg",
                        "category": "recipe_not_found",
                        "blocked_by": ["node"],
                        "message": banner + "Error: registry: recipe node not found in registry",
                        "timestamp": "2026-02-07T03:03:40Z",
                    },
                    {
                        "package_id": "homebrew:bdw-gc",
                        "category": "generation_failed",
                        "message": banner + "Inspecting bottle contents... failed\ndeterministic generation "
                        "failed: [complex_archive] formula bdw-gc bottle contains no binaries in bin/",
                        "timestamp": "2026-02-07T03:03:50Z",
                    },
                ],
            },
            "this is not valid json",
        ],
    )
    write_lines(
        data / "failures" / "batch-2026-02-18T14-01-11Z.jsonl",
        [
            {
                "schema_version": 1,
                "recipe": "watchexec",
                "platform": p,
                "exit_code": 6,
                "category": "deterministic",
                "timestamp": "2026-02-18T14:01:11Z",
            }
            for p in ("linux-alpine-musl-x86_64", "linux-alpine-musl-arm64", "linux-debian-glibc-x86_64")
        ]
        + [
            {"recipe": "valid1", "platform": "linux", "exit_code": 0, "category": "success"},
            '{"incomplete": json',
        ],
    )
    (data / "failures" / "batch-2026-02-23T02-26-39Z.jsonl").write_text("")  # tsuku left one empty
    for stamp, merged in (("2026-03-11T21-36-10Z", 1), ("2026-06-26T20-51-08Z", 0)):
        write_json(
            data / "metrics" / f"batch-runs-{stamp}.jsonl",
            {
                "batch_id": stamp[:10],
                "ecosystems": {"homebrew": 1, "crates.io": 1},
                "total": 1 if merged else 0,
                "generated": 1,
                "merged": merged,
                "excluded": 0,
                "constrained": 0,
                "timestamp": stamp[:10] + "T" + stamp[11:19].replace("-", ":") + "Z",
                "duration_seconds": 15,
            },
            pretty=True,
        )
    legacy = data / "metrics" / "batch-runs.jsonl"
    legacy.write_text(
        "".join(
            json.dumps(
                {
                    "batch_id": f"2026-02-0{d}-homebrew",
                    "ecosystem": "homebrew",
                    "total": 2,
                    "generated": 2,
                    "merged": d % 2,
                    "timestamp": f"2026-02-0{d}T04:58:07Z",
                    "duration_seconds": 6,
                },
                indent=2,
            )
            + "\n"
            for d in (3, 4)
        )
    )
    write_lines(
        data / "disambiguations" / "curated.jsonl",
        [
            {
                "schema_version": 1,
                "ecosystem": "curated",
                "disambiguations": [
                    {
                        "tool": "bat",
                        "selected": "github:sharkdp/bat",
                        "alternatives": [],
                        "selection_reason": "curated",
                        "high_risk": False,
                    },
                    {
                        "tool": "rg",
                        "selected": "cargo:ripgrep",
                        "alternatives": ["homebrew:ripgrep"],
                        "selection_reason": "10x_popularity_gap",
                        "high_risk": True,
                    },
                ],
            }
        ],
    )
    write_json(
        root / "batch-control.json",
        {
            "enabled": True,
            "disabled_ecosystems": [],
            "disabled_at": "",
            "expected_resume": "",
            "circuit_breaker": {
                "homebrew": {
                    "state": "open",
                    "failures": 957,
                    "last_failure": "2026-06-26T20:51:01Z",
                    "opens_at": "2026-06-26T21:51:01Z",
                },
                "crates.io": {"state": "closed", "failures": 0},
                "default": {"state": "closed", "failures": 0},
            },
            "budget": {
                "macos_minutes_used": 0,
                "linux_minutes_used": 0,
                "week_start": "",
                "sampling_active": False,
            },
        },
        pretty=True,
    )
    return root


SNAPSHOT = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "tsuku-snapshot.tar.gz"


@pytest.fixture(scope="session")
def tsuku_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tsuku's whole snapshot (``../shared/fixtures/tsuku-snapshot.tar.gz``: data/ and
    batch-control.json of 2026-08-15), unpacked once into a temporary directory, never into the
    repository; skipped, saying so, when ``../shared`` is absent."""
    if not SNAPSHOT.is_file():
        pytest.skip(f"tsuku's snapshot is not present at {SNAPSHOT} (../shared is absent)")
    import tarfile

    root = tmp_path_factory.mktemp("tsuku-snapshot")
    with tarfile.open(SNAPSHOT) as archive:  # what the dashboard reads (not the 4,059 audits, not website/)
        wanted = [m for m in archive.getmembers() if not m.name.startswith(_SNAPSHOT_UNREAD)]
        archive.extractall(root, members=wanted, filter="data")
    return root


_SNAPSHOT_UNREAD = ("data/disambiguations/audit/", "website/")
