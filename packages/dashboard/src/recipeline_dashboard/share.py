"""Numbered work items shared by this process and one forked helper (POSIX): the reader's second core.

The items' numbers wait in a pipe; each process takes the next one when it is free, so neither
waits for the other whatever the items cost. Every item's result is accepted here, once: this
process accepts its own as it does them, and the helper appends each of its results to an
unnamed file as soon as it has it (``marshal``: plain tuples, lists, dicts and strings, ~10x
cheaper to send than pickled objects), which this process reads between its own items. So
when the items run out, what is left to take over from the helper is its last item or two, not
everything it did (that tail was ~0.25 s of a 10x tsuku build when the helper sent all at the end).

The helper ends with ``os._exit``. If it fails (killed, out of memory, an exception), this
process does the items the helper took but did not deliver: the results never depend on it.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import sys
from collections.abc import Callable
from typing import Any, Generic, TypeVar

#: the most items: their numbers (2 bytes each) fit a pipe's buffer on any POSIX system, so
#: they are written before the fork and never block
MAX_ITEMS = 2048
_ITEM = 2
_HEAD = 8  # a result record: item number (2 bytes), length (6 bytes), then the marshal data

T = TypeVar("T")


def can_fork() -> bool:
    """A fork is available and safe here: POSIX, and no other Python thread that could hold a lock."""
    if not hasattr(os, "fork"):
        return False
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1


def _identity(value: Any) -> Any:
    return value


class SharedWork(Generic[T]):
    """Items ``0 .. count-1`` (at most ``MAX_ITEMS``): a forked helper starts taking them now;
    ``finish`` takes the rest here and hands every item's result to ``accept``, once.

    ``work(item)`` returns the item's result. In the helper, ``pack`` turns it into values
    ``marshal`` takes; here ``unpack`` turns those back. The work function is the same object in
    both processes; what it changes in the helper stays in the helper's copy of memory.
    """

    def __init__(
        self,
        count: int,
        work: Callable[[int], T],
        accept: Callable[[int, T], None],
        *,
        pack: Callable[[T], Any] = _identity,
        unpack: Callable[[Any], T] = _identity,
    ) -> None:
        if not 0 < count <= MAX_ITEMS:
            raise ValueError(f"expected 1 to {MAX_ITEMS} items, got {count}")
        self._count, self._work, self._accept, self._unpack = count, work, accept, unpack
        self._done: set[int] = set()  # accepted here, whoever did them
        self._offset = 0  # how far the helper's results have been read
        tasks_r, tasks_w = os.pipe()
        try:
            os.write(tasks_w, b"".join(i.to_bytes(_ITEM, "little") for i in range(count)))
        finally:
            os.close(tasks_w)  # a reader sees the end once the items are taken
        results = _unnamed_file()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the helper; coverage does not follow a fork
            code = 1
            try:
                while (item := _next(tasks_r)) is not None:
                    data = marshal.dumps(pack(work(item)))
                    head = item.to_bytes(2, "little") + len(data).to_bytes(6, "little")
                    written = os.writev(results, [head, data])
                    if written < len(head) + len(data):  # a short write (a full disk): the rest
                        _write_all(results, (head + data)[written:])
                code = 0
            finally:
                os._exit(code)  # no atexit handlers, no flush of the parent's buffered output
        self._pid, self._tasks, self._results = pid, tasks_r, results
        self._finishing = False

    def cancel(self) -> None:
        """End the helper and let its work go, when ``finish`` will not be called (this process
        failed meanwhile): no helper is left running, or unwaited for."""
        if not self._finishing:
            self._finishing = True
            os.close(self._tasks)
            os.close(self._results)
            _end(self._pid)

    def finish(self) -> None:
        """Take the items still waiting, accepting the helper's results between them; then the
        rest of the helper's; then do here what the helper took and did not deliver."""
        status = None
        self._finishing = True
        try:
            while (item := _next(self._tasks)) is not None:
                self._done.add(item)
                self._accept(item, self._work(item))
                self._collect()
            _, status = os.waitpid(self._pid, 0)
            self._collect()
        finally:
            os.close(self._tasks)
            os.close(self._results)
            if status is None:  # interrupted: the helper is of no use now
                _end(self._pid)
        for item in range(self._count):
            if item not in self._done:  # the helper failed before delivering it
                self._accept(item, self._work(item))

    def _collect(self) -> None:
        """Accept every complete result the helper has written since the last look."""
        size = os.fstat(self._results).st_size
        while self._offset + _HEAD <= size:
            head = os.pread(self._results, _HEAD, self._offset)
            item, length = int.from_bytes(head[:2], "little"), int.from_bytes(head[2:], "little")
            if self._offset + _HEAD + length > size:
                return  # still being written
            data = _pread_all(self._results, length, self._offset + _HEAD)
            self._offset += _HEAD + length
            try:
                value = marshal.loads(data)  # noqa: S302 - written by our own fork
            except (EOFError, ValueError, TypeError):
                continue  # not delivered: done here at the end
            if item < self._count and item not in self._done:
                self._done.add(item)
                self._accept(item, self._unpack(value))


def _next(fd: int) -> int | None:
    """The next item number, or None when all are taken. Each read takes one whole number: the
    pipe holds only whole numbers and reads of a pipe are serialized."""
    chunk = os.read(fd, _ITEM)
    return int.from_bytes(chunk, "little") if chunk else None


def _unnamed_file() -> int:
    """A file the helper appends to without waiting for a reader: in memory where the system
    offers that (Linux), else an unnamed temporary file."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create("recipeline-dashboard-results", os.MFD_CLOEXEC)
    import tempfile

    with tempfile.TemporaryFile() as file:
        return os.dup(file.fileno())


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _pread_all(fd: int, length: int, offset: int) -> bytes:
    data = os.pread(fd, length, offset)
    while len(data) < length and (more := os.pread(fd, length - len(data), offset + len(data))):
        data += more
    return data


def _end(pid: int) -> None:
    import signal

    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
