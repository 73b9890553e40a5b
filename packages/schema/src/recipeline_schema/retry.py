"""Retry by cause (ARCHITECTURE §12.2): transient failures back off, permanent ones wait for a fix.

A transient failure (an outage, a rate limit, a timeout) backs off and is retried: the same
request may work an hour later. A permanent one (``library_only``, ``verify_pattern_mismatch``,
``unsafe_action``...) fails the same way every hour until something changes, and what can
change it is the stage that decided it: the generator's builders for generation failures, the
validator for validation failures. So every failure names its ``producer``
(``"recipeline-generator 0.3.1"``), a permanently failed queue entry ``waits_for`` that
producer, and the first run under another version of it releases exactly those entries.

Two permanent failures keep the backoff instead: ``api_error/not_found`` (the upstream can
publish the package) and a failure with no producer (tsuku's records, the ``tsuku create``
backend: nothing says which version decided it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping

from .meta import installed_version
from .models import Failure, Queue
from .queue import replace_entries

#: The stages whose failures can be permanent, by distribution name.
PRODUCERS: tuple[str, ...] = ("recipeline-generator", "recipeline-validator")


def producer(distribution: str) -> str:
    """``"<distribution> <installed version>"``: what a stage writes into its failures."""
    return f"{distribution} {installed_version(distribution)}"


def running_versions() -> dict[str, str]:
    """The installed version of each producer (what ``release_waiting`` compares against)."""
    return {name: installed_version(name) for name in PRODUCERS}


#: Permanent failures that an upstream change can end: they back off like transient ones.
UPSTREAM_FIXABLE: frozenset[tuple[str, str | None]] = frozenset({("api_error", "not_found")})


def waits_for(failures: Iterable[Failure]) -> str:
    """The producer a package whose ``failures`` kept it out waits for; ``""`` to back off.

    It waits only when every failure is permanent, not upstream-fixable and has a producer,
    and then for the first one's producer (in the order given: generation before validation).
    """
    producers = []
    for failure in failures:
        if failure.transient or (failure.category, failure.subcategory) in UPSTREAM_FIXABLE:
            return ""
        if not failure.producer:
            return ""
        producers.append(failure.producer)
    return producers[0] if producers else ""


def split_producer(producer: str) -> tuple[str, str]:
    """``("recipeline-generator", "0.3.1")`` from ``"recipeline-generator 0.3.1"``."""
    name, _, version = producer.rpartition(" ")
    return (name, version) if name else (producer, "")


def release_waiting(queue: Queue, versions: Mapping[str, str], *, now: dt.datetime) -> tuple[Queue, int]:
    """The queue with every entry that waits for a producer now at another version released.

    ``versions`` maps a distribution name to the version running now; an entry waiting for a
    distribution not in it stays. A released entry keeps its status and failure count and is
    eligible at once; its reason says which version change released it.
    """
    changed = []
    for entry in queue.entries:
        if not entry.waits_for:
            continue
        name, version = split_producer(entry.waits_for)
        current = versions.get(name)
        if current is None or current == version:
            continue
        note = f"released: {name} {version} -> {current}"
        changed.append(
            dataclasses.replace(
                entry,
                waits_for="",
                next_retry_at=None,
                reason=f"{note} (was: {entry.reason})" if entry.reason else note,
            )
        )
    if not changed:
        return queue, 0
    return replace_entries(queue, changed, now=now), len(changed)
