"""Progress of a stage over a batch: one live line on a terminal, plain lines in CI and logs."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TextIO


def eta_text(done: int, total: int, elapsed: float) -> str:
    """``eta 1m05s`` from the average so far; empty before the first item or after the last."""
    if done <= 0 or done >= total:
        return ""
    seconds = round(elapsed / done * (total - done))
    return f"eta {seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"eta {seconds}s"


def is_live(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """A live line only on an interactive terminal outside CI."""
    return stream.isatty() and not environ.get("CI") and environ.get("TERM", "") != "dumb"


class Progress:
    """Counts outcomes of ``total`` items (0: not known) of one ``stage``, reporting each one.

    On a terminal the same line is rewritten (stage, counts, the item, ETA); elsewhere each
    item is one plain line, so CI logs stay readable and greppable.
    """

    def __init__(
        self,
        stage: str,
        total: int,
        *,
        stream: TextIO | None = None,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stage = stage
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.live = is_live(self.stream, os.environ if environ is None else environ)
        self.counts: Counter[str] = Counter()
        self._clock = clock
        self._started = clock()
        self._lock = threading.Lock()  # workers of a parallel stage report from their threads

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    def item(self, name: str, outcome: str, detail: str = "") -> None:
        """Record one finished item and show it (safe to call from several threads)."""
        with self._lock:
            self._item(name, outcome, detail)

    def _item(self, name: str, outcome: str, detail: str) -> None:
        self.counts[outcome] += 1
        counts = " ".join(f"{n} {o}" for o, n in sorted(self.counts.items()))
        eta = eta_text(self.done, self.total, self._clock() - self._started)
        position = f"{self.done}/{self.total}" if self.total else str(self.done)  # 0: total unknown
        if self.live:
            line = f"[{self.stage}] {position} ({counts}) {name}: {outcome} {eta}".rstrip()
            width = 120
            self.stream.write("\r" + line[:width].ljust(width))
            if self.total and self.done >= self.total:
                self.stream.write("\n")
        else:
            suffix = f": {detail}" if detail else ""
            self.stream.write(f"{self.stage} {position} {outcome:<9} {name}{suffix}\n")
        self.stream.flush()

    def close(self) -> None:
        """End the live line (when the total was unknown or not reached)."""
        if self.live and (not self.total or self.done < self.total):
            self.stream.write("\n")
            self.stream.flush()
