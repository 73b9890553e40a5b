"""Reading the pipeline's state for the control plane: control, queues, which batches exist."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from recipeline_schema import (
    BatchControl,
    BatchDir,
    DataFileError,
    InvalidValueError,
    Layout,
    Queue,
    check_batch_id,
    decode,
    load,
    read_json,
    week_start,
)
from recipeline_schema.tsuku import control_json_from_tsuku, looks_like_tsuku_control

from .control import default_control


def load_control(layout: Layout, *, now: dt.datetime) -> BatchControl:
    """batch-control.json, or the defaults (enabled, no breakers, this week's budget) when absent.

    tsuku's form of the file is read too (converted: ``recipeline_schema.tsuku``); anything else
    that does not match the contract is an error naming the file and the field."""
    if not layout.control.exists():
        return default_control(now)
    try:
        return load(BatchControl, layout.control)
    except DataFileError:
        data = read_json(layout.control)
        if not looks_like_tsuku_control(data):
            raise
        return decode(BatchControl, control_json_from_tsuku(data, week=week_start(now)), layout.control)


def load_queue(layout: Layout, ecosystem: str) -> Queue | None:
    """The ecosystem's queue, ``None`` when the file does not exist (nothing seeded yet)."""
    path = layout.queue(ecosystem)
    if not path.exists():
        return None
    return load(Queue, path)


def _ids(names: list[str]) -> set[str]:
    out = set()
    for name in names:
        try:
            out.add(check_batch_id(name))
        except InvalidValueError:
            continue  # not a batch (a .pr.md, a rollback record, a stray file)
    return out


def _batch_dirs(layout: Layout) -> list[Path]:
    root = layout.build / "batches"
    return [p for p in root.iterdir() if p.is_dir()] if root.is_dir() else []


def manifest_ids(layout: Layout) -> set[str]:
    """Batches merged here: data/batches/<id>.json."""
    d = layout.batches_dir
    return _ids([p.name.removesuffix(".json") for p in d.glob("*.json")]) if d.is_dir() else set()


def live_batches(layout: Layout) -> set[str]:
    """Batches still under way or merged: a batch directory holding its plan, or a manifest.

    A directory without a plan is what a preflight killed before it finished leaves behind;
    its entries are stale and may be selected again.
    """
    planned = _ids([p.name for p in _batch_dirs(layout) if BatchDir(p).plan.exists()])
    return planned | manifest_ids(layout)


def released_ids(layout: Layout) -> set[str]:
    """Batches reconcile released entries of: data/batches/<id>.release.json."""
    d = layout.batches_dir
    return (
        _ids([p.name.removesuffix(".release.json") for p in d.glob("*.release.json")])
        if d.is_dir()
        else set()
    )


def used_batch_ids(layout: Layout) -> set[str]:
    """Every id a new batch must not reuse: all batch directories, manifests and release records
    (a dead batch's id named its metrics line; its branch is gone)."""
    return _ids([p.name for p in _batch_dirs(layout)]) | manifest_ids(layout) | released_ids(layout)
