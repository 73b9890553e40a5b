"""The reader's second core: work items shared with a forked helper, and reading in two processes."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from recipeline_dashboard import build_dashboard, read_repository, reading, render
from recipeline_dashboard.bench import write_corpus
from recipeline_dashboard.share import MAX_ITEMS, SharedWork, can_fork

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the helper is a fork (POSIX only)")
NOW = dt.datetime(2026, 8, 15, tzinfo=dt.UTC)


class Squares:
    """Items whose work is a square, recorded with the pid that did it; this process is slowed
    down so that the helper certainly takes items too."""

    def __init__(self, fail_in_helper_at: int | None = None) -> None:
        self.parent = os.getpid()
        self.done: dict[int, tuple[int, int]] = {}
        self.fail_at = fail_in_helper_at

    def work(self, item: int) -> None:
        if os.getpid() == self.parent:
            time.sleep(0.002)
        elif item == self.fail_at:
            os._exit(3)  # the helper dies with items taken and not reported
        self.done[item] = (item * item, os.getpid())

    def report(self) -> dict[int, tuple[int, int]]:
        return self.done


def test_every_item_is_done_once_and_the_helpers_share_comes_back() -> None:
    squares = Squares()
    shared = SharedWork(100, squares.work, squares.report)
    report = shared.finish()
    assert isinstance(report, dict)
    mine = dict(squares.done)
    assert not set(mine) & set(report), "no item done by both processes"
    assert set(mine) | set(report) == set(range(100))
    assert {pid for _, pid in report.values()} - {squares.parent}, "the helper did items"
    assert {i: sq for i, (sq, _) in {**mine, **report}.items()} == {i: i * i for i in range(100)}


def test_a_helper_that_dies_costs_time_not_results() -> None:
    squares = Squares(fail_in_helper_at=5)
    report = SharedWork(40, squares.work, squares.report).finish()
    assert report is None  # the helper could not report: its items were done here
    assert {i: sq for i, (sq, _) in squares.done.items()} == {i: i * i for i in range(40)}
    assert {pid for _, pid in squares.done.values()} == {squares.parent}


def test_item_counts_are_bounded() -> None:
    squares = Squares()
    for count in (0, MAX_ITEMS + 1):
        with pytest.raises(ValueError, match=f"expected 1 to {MAX_ITEMS} items, got {count}"):
            SharedWork(count, squares.work, squares.report)


def test_no_fork_while_another_thread_runs() -> None:
    assert can_fork()
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert not can_fork()  # it could hold a lock the helper would then wait on forever
    finally:
        release.set()
        thread.join()
    assert can_fork()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,157 failure files in tsuku's two formats: above the threshold for a helper."""
    root = tmp_path_factory.mktemp("corpus")
    counts = write_corpus(root, scale=1, divisor=5)
    assert counts["failure_files"] >= reading.PARALLEL_MIN_FILES
    return root


def test_two_processes_read_what_one_does(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    serial = render(build_dashboard(read_repository(corpus, workers=1), NOW))
    helped: list[int] = []
    real = SharedWork.finish

    def finish(self: SharedWork) -> Any:
        report = real(self)
        helped.append(len(report[0]) if isinstance(report, tuple) else -1)  # the helper's events
        return report

    monkeypatch.setattr(SharedWork, "finish", finish)
    monkeypatch.setattr(reading, "CHUNK_FILES", 4)  # many small items: both processes take some
    parallel = render(build_dashboard(read_repository(corpus, workers=2), NOW))
    assert len(helped) == 1 and helped[0] > 0, "the helper read some of the files"
    assert parallel == serial  # byte for byte, whichever process read which file


def test_a_helper_that_dies_while_reading_changes_nothing(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial = render(build_dashboard(read_repository(corpus, workers=1), NOW))
    parent, real = os.getpid(), reading._failure_files

    def dying(*args: object, **kwargs: object) -> object:
        if os.getpid() != parent:
            os._exit(9)  # as if killed mid-read
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(reading, "_failure_files", dying)
    assert render(build_dashboard(read_repository(corpus, workers=2), NOW)) == serial


def test_below_the_threshold_or_with_one_worker_no_helper_starts(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("no helper expected")

    monkeypatch.setattr(reading, "SharedWork", refuse)
    read_repository(corpus, workers=1)
    monkeypatch.setattr(reading, "PARALLEL_MIN_FILES", 10_000)
    read_repository(corpus, workers=2)
