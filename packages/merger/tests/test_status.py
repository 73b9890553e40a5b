"""`status`: one screen that says whether the pipeline is healthy."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from recipeline_merger import merge
from recipeline_merger.pullrequest import LocalPublisher, PullRequestRequest, PullRequestState
from recipeline_merger.status import Landed, read_status, status_lines
from recipeline_schema import (
    BatchControl,
    BreakerState,
    Budget,
    Layout,
    MetricsLine,
    PullRequestRef,
    Queue,
    QueueEntry,
    save,
)

if TYPE_CHECKING:
    from .conftest import Git, Make, WriteBatch

NOW = dt.datetime(2026, 1, 29, 12, 0, tzinfo=dt.UTC)


def _metrics(batch_id: str, ecosystem: str, merged: int, hours_ago: float) -> MetricsLine:
    return MetricsLine(
        batch_id, ecosystem, 3, 3, 0, 0, 3, 0, merged, 3 - merged, merged / 3, 0, 60.0, 0.0, 1.0,  # type: ignore[arg-type]
        NOW - dt.timedelta(hours=hours_ago),
    )  # fmt: skip


def test_status_shows_stops_breakers_queues_and_time_since_a_merge() -> None:
    queue = Queue(1, "pypi", NOW, (
        QueueEntry("a", "pypi:a", 1), QueueEntry("b", "pypi:b", 1, status="failed"),
        QueueEntry("c", "pypi:c", 1, status="excluded"),
    ))  # fmt: skip
    control = BatchControl(
        enabled=True,
        budget=Budget(week_start=dt.date(2026, 1, 26), macos_minutes_used=850),
        disabled_ecosystems=("npm",),
        circuit_breaker={
            "cargo": BreakerState(state="open", opened_at=NOW, half_open_after=NOW + dt.timedelta(hours=1))
        },
    )
    metrics = [_metrics("2026-01-29-001", "pypi", 2, 5.0), _metrics("2026-01-29-002", "pypi", 0, 1.0)]

    landed = Landed("2026-01-29-001", NOW - dt.timedelta(hours=5), 2)
    lines = status_lines({"pypi": queue}, control, metrics, NOW, landed=landed)

    assert lines[0] == "recipeline status at 2026-01-29T12:00:00Z: pipeline running"
    assert "macOS 850/1000 min (sampled)" in lines[1]
    rows = {line.split()[0]: line.split() for line in lines[4:12]}
    assert rows["pypi"][1:7] == ["1", "0", "0", "1", "0", "1"]  # pending .. blocked, other
    assert rows["cargo"][7] == "open" and rows["npm"][8] == "yes" and rows["pypi"][8] == "-"
    assert rows["pypi"][9] == "2026-01-29-002"  # the newest batch of the ecosystem
    # no manifest for it: the metrics' "merged" is said for what it counts
    assert lines[rows_index(lines, "pypi")].endswith(
        "2026-01-29-002 0/3 committed on its batch branch (no manifest)"
    )
    assert lines[-1] == "last recipes on the default branch 5.0 h ago (batch 2026-01-29-001, 2 recipes)"


def rows_index(lines: list[str], ecosystem: str) -> int:
    return next(i for i, line in enumerate(lines) if line.split()[:1] == [ecosystem])


def test_a_batch_whose_run_died_is_said_released() -> None:
    line = dataclasses.replace(_metrics("2026-01-29-003", "pypi", 0, 1.0), released=3, generated=0)
    control = BatchControl(enabled=True, budget=Budget(week_start=dt.date(2026, 1, 26)))
    lines = status_lines({}, control, [line], NOW)
    assert lines[rows_index(lines, "pypi")].endswith(
        "2026-01-29-003 3/3 released (its run died before merging)"
    )


def test_status_of_a_stopped_pipeline_says_so_first() -> None:
    control = BatchControl(enabled=False, budget=Budget(week_start=dt.date(2026, 1, 26)), reason="incident 7")
    lines = status_lines({}, control, [], NOW)
    assert lines[0].endswith("PIPELINE STOPPED: incident 7")
    assert lines[-1] == "no recipe on the default branch yet"


BATCH = "2026-01-29-001"
BRANCH = f"batch/{BATCH}"


class GitHubStandIn(LocalPublisher):
    """Opens PR #12 (writes no local body) and answers its state as ``state``."""

    remote = True

    def __init__(self, layout: Layout, state: str | None) -> None:
        super().__init__(layout)
        self.state = state

    def publish(self, request: PullRequestRequest) -> PullRequestRef | None:
        return PullRequestRef(12, "https://github.example/o/r/pull/12")

    def pull_request_state(self, branch: str) -> PullRequestState | None:
        if self.state is None:
            return None
        return PullRequestState(12, "https://github.example/o/r/pull/12", branch, self.state)  # type: ignore[arg-type]


def _merged_batch(
    repo: Path, layout: Layout, make: Make, write_batch: WriteBatch, publisher: LocalPublisher | None
) -> None:
    """Batch BATCH of cargo: rg and bat pass, fd fails; merged with ``publisher`` (None: local)."""
    packages = [("rg", "cargo:ripgrep"), ("bat", "cargo:bat"), ("fd", "cargo:fd-find")]
    save(
        make.queue([make.entry(n, p, status="in_progress", batch_id=BATCH) for n, p in packages]),
        layout.queue("cargo"),
    )
    report = make.report(make.linux, [
        make.result("rg", "cargo:ripgrep"), make.result("bat", "cargo:bat"),
        make.result("fd", "cargo:fd-find", "fail", failure=make.failure("cargo:fd-find")),
    ])  # fmt: skip
    bdir = write_batch(
        layout, make.plan(packages), make.generation([make.generated(n, p) for n, p in packages]), [report],
        {n: make.recipe_text(n) for n, _ in packages},
    )  # fmt: skip
    merge(repo, bdir.path, now=make.now, publisher=publisher)


def _cargo_row(lines: list[str]) -> str:
    return lines[rows_index(lines, "cargo")]


def test_read_status_after_a_local_merge_says_no_pr(
    repo: Path, layout: Layout, make: Make, write_batch: WriteBatch
) -> None:
    _merged_batch(repo, layout, make, write_batch, None)
    lines = read_status(repo, make.now)
    assert _cargo_row(lines).endswith(f"{BATCH} 2/3 on batch branch, no PR; 1/3 generated")
    assert lines[-1] == "no recipe on the default branch yet"


@pytest.mark.parametrize(
    ("state", "words"),
    [
        ("open", "2/3 in PR #12 open"),
        ("closed", "2/3 validated, PR #12 closed without merging"),
        ("merged", "2/3 on the default branch"),  # GitHub merged it; the clone has not fetched it
        (None, "2/3 on batch branch"),  # GitHub knows no PR of the branch: nothing claimed
    ],
)
def test_read_status_asks_github_about_the_prs(
    repo: Path, layout: Layout, make: Make, write_batch: WriteBatch, state: str | None, words: str
) -> None:
    _merged_batch(repo, layout, make, write_batch, GitHubStandIn(layout, "open"))
    assert not (layout.batches_dir / f"{BATCH}.pr.md").exists()
    lines = read_status(repo, make.now, publisher=GitHubStandIn(layout, state))
    assert _cargo_row(lines).endswith(f"{BATCH} {words}; 1/3 generated")
    assert lines[-1] == "no recipe on the default branch yet"  # the default branch here holds none


def test_read_status_counts_only_recipes_on_the_default_branch(
    repo: Path, layout: Layout, make: Make, write_batch: WriteBatch, git: Git
) -> None:
    _merged_batch(repo, layout, make, write_batch, None)
    git(repo, "add", "-A", "data", "batch-control.json")
    git(repo, "commit", "-q", "-m", "chore(data): batch state")
    git(repo, "merge", "--squash", "-q", BRANCH)
    git(repo, "commit", "-q", "-C", BRANCH)  # the batch commit's message: its trailer names the batch
    committed = dt.datetime.fromtimestamp(int(git(repo, "log", "-1", "--format=%ct")), dt.UTC)
    later = committed + dt.timedelta(hours=3)
    lines = read_status(repo, later)
    assert _cargo_row(lines).endswith(f"{BATCH} 2/3 on the default branch; 1/3 generated")
    assert lines[-1] == f"last recipes on the default branch 3.0 h ago (batch {BATCH}, 2 recipes)"
    # a commit without a batch's trailer is not taken for a batch's landing
    (repo / "recipes" / "x").mkdir()
    (repo / "recipes" / "x" / "xx.toml").write_text("by hand\n")
    git(repo, "add", "recipes")
    git(repo, "commit", "-q", "-m", "a recipe by hand")
    assert read_status(repo, later)[-1] == lines[-1]
