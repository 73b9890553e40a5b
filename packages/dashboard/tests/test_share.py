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
    """Items whose result is a square and the pid that computed it; this process is slowed down
    so that the helper certainly takes items too."""

    def __init__(self, fail_in_helper_at: int | None = None) -> None:
        self.parent = os.getpid()
        self.accepted: list[tuple[int, int, int]] = []
        self.fail_at = fail_in_helper_at

    def work(self, item: int) -> tuple[int, int]:
        if os.getpid() == self.parent:
            time.sleep(0.002)
        elif item == self.fail_at:
            os._exit(3)  # the helper dies with items taken and not delivered
        return item * item, os.getpid()

    def accept(self, item: int, result: tuple[int, int]) -> None:
        assert os.getpid() == self.parent, "results are accepted in this process only"
        self.accepted.append((item, *result))


@pytest.mark.parametrize("memfd", [True, False], ids=["memfd", "temporary-file"])
def test_every_items_result_is_accepted_once_whoever_did_it(
    memfd: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not memfd:  # as on macOS and the BSDs: the helper's results go to an unnamed temporary file
        monkeypatch.delattr(os, "memfd_create", raising=False)
    squares = Squares()
    SharedWork(100, squares.work, squares.accept, unpack=tuple).finish()
    items = [item for item, _, _ in squares.accepted]
    assert sorted(items) == list(range(100)), "each item once"
    assert all(square == item * item for item, square, _ in squares.accepted)
    assert {pid for _, _, pid in squares.accepted} - {squares.parent}, "the helper did items"


def test_a_helper_that_dies_costs_time_not_results() -> None:
    squares = Squares(fail_in_helper_at=5)
    SharedWork(40, squares.work, squares.accept, unpack=tuple).finish()
    assert sorted(item for item, _, _ in squares.accepted) == list(range(40))
    assert all(square == item * item for item, square, _ in squares.accepted)
    redone = [pid for item, _, pid in squares.accepted if item == 5]
    assert redone == [squares.parent]  # the item the helper died on was done here
    assert {pid for _, _, pid in squares.accepted} - {squares.parent}, "what it delivered counts"


def test_item_counts_are_bounded() -> None:
    squares = Squares()
    for count in (0, MAX_ITEMS + 1):
        with pytest.raises(ValueError, match=f"expected 1 to {MAX_ITEMS} items, got {count}"):
            SharedWork(count, squares.work, squares.accept)


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
    from_helper: list[int] = []
    real = reading._unpack_chunk

    def unpack(value: Any) -> Any:
        from_helper.append(len(value[0]))  # the events of a chunk the helper read
        return real(value)

    monkeypatch.setattr(reading, "_unpack_chunk", unpack)
    monkeypatch.setattr(reading, "CHUNK_FILES", 4)  # many small items: both processes take some
    parallel = render(build_dashboard(read_repository(corpus, workers=2), NOW))
    assert from_helper and sum(from_helper) > 0, "the helper read some of the files"
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


def test_no_helper_is_left_behind_when_reading_fails(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[SharedWork[Any]] = []
    real_init = SharedWork.__init__

    def init(self: SharedWork[Any], *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        started.append(self)

    def broken(*args: object) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(SharedWork, "__init__", init)
    monkeypatch.setattr(reading, "_read_queues", broken)
    with pytest.raises(OSError, match="disk gone"):
        read_repository(corpus, workers=2)
    assert len(started) == 1, "a helper had started"
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # and none is left, running or unwaited for
