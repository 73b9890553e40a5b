"""Numbered work items shared by this process and one forked helper (POSIX): the reader's second core.

The items' numbers wait in a pipe; each process takes the next one when it is free, so neither
waits for the other whatever the items cost. The helper then sends back what ``report`` returns
(``marshal``: plain tuples, lists, dicts and strings, ~10x cheaper than pickling objects) and
ends with ``os._exit``. The work function is the same object in both processes: what it fills
in is the helper's own copy after the fork, which is why ``report`` must return only what was
filled in since the fork.

If the helper cannot report (killed, out of memory, an exception), this process does the items
the helper had taken, so the result never depends on the helper.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import sys
from collections.abc import Callable
from typing import Any

#: the most items: their numbers (2 bytes each) fit a pipe's buffer on any POSIX system, so
#: they are written before the fork and never block
MAX_ITEMS = 2048
_ITEM = 2


def can_fork() -> bool:
    """A fork is available and safe here: POSIX, and no other Python thread that could hold a lock."""
    if not hasattr(os, "fork"):
        return False
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1


class SharedWork:
    """Items ``0 .. count-1``: a forked helper starts taking them now; ``finish`` takes the rest here.

    ``count`` is at most ``MAX_ITEMS``. Call ``finish`` exactly once.
    """

    def __init__(self, count: int, work: Callable[[int], None], report: Callable[[], Any]) -> None:
        if not 0 < count <= MAX_ITEMS:
            raise ValueError(f"expected 1 to {MAX_ITEMS} items, got {count}")
        self._count, self._work = count, work
        self._mine: list[int] = []
        tasks_r, tasks_w = os.pipe()
        try:
            os.write(tasks_w, b"".join(i.to_bytes(_ITEM, "little") for i in range(count)))
        finally:
            os.close(tasks_w)  # a reader sees the end once the items are taken
        result_r, result_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the helper; coverage does not follow a fork
            code = 1
            try:
                os.close(result_r)
                _take(tasks_r, work, [])
                data = marshal.dumps(report())
                _write_all(result_w, len(data).to_bytes(8, "little"))
                _write_all(result_w, data)
                code = 0
            finally:
                os._exit(code)  # no atexit handlers, no flush of the parent's buffered output
        os.close(result_w)
        self._pid, self._tasks, self._result = pid, tasks_r, result_r

    def finish(self) -> Any:
        """Take the items still waiting; then the helper's report (what ``report`` returned, as
        ``marshal`` gives it back), or None when the helper failed (its items are then done here)."""
        status = None
        try:
            _take(self._tasks, self._work, self._mine)
            data = _read_all(self._result)
            _, status = os.waitpid(self._pid, 0)
        finally:
            os.close(self._tasks)
            os.close(self._result)
            if status is None:  # interrupted: the helper is of no use now
                _end(self._pid)
        assert status is not None  # set unless the try above raised
        if os.waitstatus_to_exitcode(status) == 0:
            try:
                return marshal.loads(data)  # noqa: S302 - written by our own fork, just now
            except (EOFError, ValueError, TypeError):
                pass
        for item in sorted(set(range(self._count)) - set(self._mine)):
            self._work(item)
        return None


def _take(fd: int, work: Callable[[int], None], taken: list[int]) -> None:
    # each read takes one whole number: the pipe holds only whole numbers and reads are serialized
    while chunk := os.read(fd, _ITEM):
        item = int.from_bytes(chunk, "little")
        taken.append(item)
        work(item)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_all(fd: int) -> bytes | bytearray:
    """The helper's report: its length, then that many bytes read into one buffer (no pieces
    joined: the report is ~13 MB at 10x tsuku's data); b"" when the helper ended without one."""
    header = os.read(fd, 8)
    if len(header) < 8:
        return b""
    buffer = bytearray(int.from_bytes(header, "little"))
    view, got = memoryview(buffer), 0
    while got < len(buffer) and (n := os.readv(fd, [view[got:]])):
        got += n
    return buffer if got == len(buffer) else b""


def _end(pid: int) -> None:
    import signal

    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
