"""The prefixes (work folders) of a validation run: claimed while in use, removed after, and the
ones a killed run left behind removed by the next run.

A prefix is ``recipeline-<name>-<random>`` in the work root (the temporary directory unless
``--work-root`` says otherwise). While a run uses it, the run holds an exclusive ``flock`` on
``<prefix>/.recipeline-lock``; the kernel drops the lock when the run's process dies, however
it dies. So a prefix whose lock can be taken is stale: its run is gone. ``remove_stale`` removes
those, and only those: a prefix of a live run (lock held) survives, and so does one kept on
purpose (``--keep-prefixes`` writes ``.recipeline-kept``). A prefix without a lock file is
either one a run has just created (the lock follows within microseconds) or one left by a
validator older than the lock: it is removed once it is older than ``UNLOCKED_GRACE_SECONDS``,
and only when it has a prefix's layout (other stages name temporary directories
``recipeline-*`` too).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import stat
import tempfile
import threading
import time
from pathlib import Path

PREFIX_GLOB = "recipeline-*-*"
LOCK_NAME = ".recipeline-lock"
KEPT_NAME = ".recipeline-kept"
UNLOCKED_GRACE_SECONDS = 3600.0
#: What every validator prefix holds (runner.PREFIX_DIRS): an unlocked directory without it is
#: not one (``recipeline-tsuku-*``, ``recipeline-askpass-*`` are other stages' temporary dirs).
LEGACY_LAYOUT = ("logs", "work")

_swept: set[Path] = set()
_swept_lock = threading.Lock()


def remove_stale(root: Path) -> list[Path]:
    """Remove the prefixes under ``root`` that no live run holds; returns what was removed."""
    removed = []
    for prefix in sorted(root.glob(PREFIX_GLOB)):
        if prefix.is_symlink() or not prefix.is_dir() or (prefix / KEPT_NAME).exists():
            continue
        lock = prefix / LOCK_NAME
        if not lock.exists():
            if not all((prefix / sub).is_dir() for sub in LEGACY_LAYOUT):
                continue  # another tool's temporary directory that happens to match the name
            try:
                age = time.time() - prefix.stat().st_mtime
            except OSError:
                continue
            if age > UNLOCKED_GRACE_SECONDS:
                remove_tree(prefix)
                removed.append(prefix)
            continue
        try:
            fd = os.open(lock, os.O_RDWR | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: a live run's prefix
            os.close(fd)
            continue
        try:
            remove_tree(prefix)
            removed.append(prefix)
        finally:
            os.close(fd)
    return removed


def sweep_once(root: Path | None) -> None:
    """``remove_stale`` for ``root`` (default: the temporary directory), once per process."""
    where = (root or Path(tempfile.gettempdir())).resolve()
    with _swept_lock:
        if where in _swept:
            return
        _swept.add(where)
    with contextlib.suppress(OSError):
        remove_stale(where)


class ClaimedPrefix:
    """A new prefix for one recipe under ``root``, locked until ``release``.

    Raises OSError when it cannot be created (the caller reports that as the recipe's result).
    """

    def __init__(self, name: str, root: Path | None) -> None:
        sweep_once(root)
        self.path = Path(tempfile.mkdtemp(prefix=f"recipeline-{name}-", dir=root))
        self._fd = os.open(self.path / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self, *, keep: bool = False) -> None:
        """Remove the prefix (with ``keep``: mark it kept and leave it), then drop the lock."""
        try:
            if keep:
                (self.path / KEPT_NAME).touch()
            else:
                remove_tree(self.path)
        finally:
            os.close(self._fd)


def remove_tree(path: Path) -> None:
    """Remove ``path`` entirely, also read-only directories (Go's module cache makes them)."""

    def writable(_function: object, name: str, _exc: object) -> None:
        failed = Path(name)
        with contextlib.suppress(OSError):
            failed.parent.chmod(stat.S_IRWXU)
            if failed.is_dir() and not failed.is_symlink():
                failed.chmod(stat.S_IRWXU)
                shutil.rmtree(failed, ignore_errors=True)
            else:
                failed.unlink()

    shutil.rmtree(path, onerror=writable)
    if path.exists():
        shutil.rmtree(path, ignore_errors=True)
