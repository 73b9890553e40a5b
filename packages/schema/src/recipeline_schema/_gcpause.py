"""Pause the cyclic garbage collector around bulk work on acyclic data.

Decoding or encoding a 100,000-entry queue allocates a few hundred thousand containers; each
700 allocations start a collection, and the older generations scan the whole (growing) heap:
that doubles the time of ``json.loads``, ``to_json`` and ``from_json`` at that size. JSON
values and our dataclasses hold no reference cycles, so reference counting frees everything
anyway; the collector is switched back on (if it was on) when the block ends.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Run the ``with`` body with the cyclic collector off; restore its previous state."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
