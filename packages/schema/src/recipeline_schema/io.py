"""File IO for data contracts: atomic writes, a writer lock, reads that validate.

Rules kept here so no stage has to remember them:
- every write goes to a temporary file in the same directory, is fsynced, then renamed over
  the target (and the directory fsynced), so a reader or a crash sees the old or the new file;
- every document is checked against its JSON Schema before it is written;
- every read is checked, and errors name the file, the JSON path and what was expected; a
  file that fails is left exactly as it is.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import itertools
import json
import os
import tempfile
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from ._codec import from_json, to_json
from ._gcpause import gc_paused
from .contracts import schema_of
from .errors import DataFileError, DecodeError, LockTimeoutError
from .validation import validate

T = TypeVar("T")


# --- raw atomic writes ----------------------------------------------------------------------


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (temp file + fsync + rename + dir fsync)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).chmod(path.stat().st_mode & 0o777 if path.exists() else 0o644)
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(tmp).unlink()
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: Path | str, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- locking ---------------------------------------------------------------------------------


@contextlib.contextmanager
def file_lock(path: Path | str, *, timeout: float = 0.0, what: str = "data/") -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if needed) for the ``with`` body.

    ``timeout`` 0 refuses at once when another process holds it; otherwise waits that long.
    The lock dies with its process, so a killed writer never leaves a stale lock behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _read_holder(path)
                    raise LockTimeoutError(
                        f"another recipeline writer holds {path} ({holder}); "
                        f"it is writing {what} — wait for it to finish"
                    ) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _read_holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "pid unknown"
    except OSError:
        return "pid unknown"


def _model(value: Any) -> Hashable:
    return value if isinstance(value, type) else type(value)


# --- JSON documents --------------------------------------------------------------------------


class _Encoder:
    """``json.dumps(value, **options)`` prebuilt, for one value or many (same text, less overhead).

    ``json.dumps`` with any non-default option builds a new encoder on every call, which costs
    more than encoding a queue entry. ``JSONEncoder.encode`` runs the C encoder made by
    ``c_make_encoder`` (no indent, one shot); calling that directly also skips the Python
    wrapper, and ``many`` maps it over a list without a Python frame per item. ``markers``
    None drops the cycle check: JSON values from ``to_json`` or ``json.loads`` are trees.
    """

    def __init__(self, **options: Any) -> None:
        encoder = json.JSONEncoder(**options)
        make = getattr(json.encoder, "c_make_encoder", None)
        self.c_encode: Callable[[Any, int], Iterable[str]] | None = None
        self.encode: Callable[[Any], str] = encoder.encode
        if make is not None:  # None without the C accelerator (another Python implementation)
            basestring = json.encoder.encode_basestring
            if encoder.ensure_ascii:
                basestring = json.encoder.encode_basestring_ascii
            self.c_encode = make(
                None,
                encoder.default,
                basestring,
                None,
                encoder.key_separator,
                encoder.item_separator,
                encoder.sort_keys,
                encoder.skipkeys,
                encoder.allow_nan,
            )

    def __call__(self, value: Any) -> str:
        if self.c_encode is None:
            return self.encode(value)
        return "".join(self.c_encode(value, 0))

    def many(self, values: Iterable[Any]) -> Iterator[str]:
        if self.c_encode is None:
            return map(self.encode, values)
        return map("".join, map(self.c_encode, values, itertools.repeat(0)))


_LINE = _Encoder(ensure_ascii=False, allow_nan=False)
_COMPACT = _Encoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def dumps(value: Any, *, compact: bool = False) -> str:
    """JSON text of a dataclass: the document form (see ``render``) or one compact line."""
    data = to_json(value)
    if compact:
        return _COMPACT(data)
    return render(data)


def render(data: Any) -> str:
    """The document form of a JSON object: one top-level field a line, one array item a line.

    A queue entry, a manifest package or a failure is then exactly one line, so a git diff of
    a state change shows the entries that changed and nothing else; and every line is written
    by the C encoder (``indent`` would fall back to the pure-Python one, 15x slower).
    """
    if not isinstance(data, dict):
        return _LINE(data) + "\n"
    lines = []
    for key, value in data.items():
        name = json.dumps(key, ensure_ascii=False)
        if isinstance(value, _Rendered) and value:
            lines.append(f"  {name}: [\n    " + ",\n    ".join(value) + "\n  ]")
        elif isinstance(value, list) and value:
            items = "    " + ",\n    ".join(_LINE.many(value))
            lines.append(f"  {name}: [\n{items}\n  ]")
        else:
            lines.append(f"  {name}: {_LINE(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n" if lines else "{}\n"


def read_json(path: Path | str) -> Any:
    """Parse a JSON file; a missing, unreadable or malformed file raises ``DataFileError``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataFileError(path, "$", "the file to exist") from None
    except OSError as exc:
        raise DataFileError(path, "$", "a readable file", str(exc)) from None
    return parse_json(raw, path)


def parse_json(raw: bytes | str, path: Path | str, *, line: int | None = None) -> Any:
    """Parse JSON text; ``line`` is the line number of a JSON Lines record, for the error."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return json.loads(text)
    except UnicodeDecodeError as exc:
        where = f"line {line}, " if line else ""
        raise DataFileError(path, f"{where}byte {exc.start}", "UTF-8 text") from None
    except json.JSONDecodeError as exc:
        where = f"line {line}, column {exc.colno}" if line else f"line {exc.lineno}, column {exc.colno}"
        raise DataFileError(path, where, "valid JSON", exc.msg) from None


def decode(model: type[T], data: Any, path: Path | str, *, prefix: str = "$") -> T:
    """Validate ``data`` against ``model``'s schema, then build the dataclass."""
    validate(schema_of(_model(model)), data, str(path), prefix=prefix)
    try:
        return from_json(model, data, prefix)
    except DecodeError as exc:
        raise DataFileError(path, exc.path, exc.expected, exc.got) from None
    except ValueError as exc:  # a dataclass invariant (e.g. taxonomy) broke
        raise DataFileError(path, prefix, "values that keep the contract's rules", str(exc)) from None


def load(model: type[T], path: Path | str) -> T:
    """Read and validate one JSON document of a contract."""
    with gc_paused():
        data = read_json(path)
        value = decode(model, data, path)
        _CHECKED.remember(value, data)
        return value


def save(value: Any, path: Path | str) -> None:
    """Validate ``value`` against its contract and write it atomically (document form)."""
    with gc_paused():
        text = _checked_text(value, path)
    atomic_write_text(path, text)


class _Rendered(list[str]):
    """Array items already rendered as lines (``render`` writes them as they are)."""


class _CheckedLines:
    """The validated JSON of each list item of recently loaded documents, by the item's identity.

    A queue of 100,000 entries is loaded, a batch of 25 is marked, and the queue is saved: the
    99,975 untouched entries are the very objects ``load`` decoded from JSON it had validated,
    so ``save`` renders that JSON again and encodes and validates only the changed entries.
    Only items whose JSON was complete and in field order are remembered (it is then exactly
    what encoding them gives); the objects are kept alive with it, so an id is never reused
    while remembered, and only the last few documents are kept. Nothing is rendered at load:
    a document that is never saved costs only the bookkeeping.
    """

    def __init__(self, documents: int = 2) -> None:
        self._maps: list[dict[int, tuple[object, Any]]] = []
        self._documents = documents

    def remember(self, value: Any, data: Any) -> None:
        checked: dict[int, tuple[object, Any]] = {}
        for name, items in _item_lists(value):
            raws = data.get(name) if isinstance(data, dict) else None
            if not isinstance(raws, list) or len(raws) != len(items):
                continue
            names = [f.name for f in dataclasses.fields(items[0])]
            checked.update(
                (id(item), (item, raw)) for item, raw in zip(items, raws, strict=True) if list(raw) == names
            )
        if checked:
            self._maps = [checked, *self._maps][: self._documents]

    def __bool__(self) -> bool:
        return bool(self._maps)

    def json_of(self, item: object) -> Any | None:
        """The validated JSON ``item`` was decoded from, or ``None``."""
        for checked in self._maps:
            hit = checked.get(id(item))
            if hit is not None and hit[0] is item:
                return hit[1]
        return None


_CHECKED = _CheckedLines()


def _item_lists(value: Any) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """The top-level fields of ``value`` that hold a non-empty tuple of dataclass instances."""
    for f in dataclasses.fields(value):
        items = getattr(value, f.name)
        if isinstance(items, tuple) and items and dataclasses.is_dataclass(items[0]):
            yield f.name, items


def _checked_text(value: Any, path: Path | str) -> str:
    """The document form of ``value``, every part validated: JSON remembered from a validated
    read is rendered again, everything else is encoded and checked against the contract."""
    known = {}
    if _CHECKED:
        for name, items in _item_lists(value):
            raws = [_CHECKED.json_of(item) for item in items]
            if any(raw is not None for raw in raws):
                known[name] = (items, raws)
    schema = schema_of(_model(value))
    if not known:
        data = to_json(value)
        validate(schema, data, str(path))
        return render(data)
    fresh = {name: tuple(i for i, raw in zip(items, raws, strict=True) if raw is None)
             for name, (items, raws) in known.items()}  # fmt: skip
    data = to_json(dataclasses.replace(value, **fresh))
    try:
        validate(schema, data, str(path))
    except DataFileError:  # word the error with the item's real index in the whole list
        validate(schema, to_json(value), str(path))
        raise
    for name, (_items, raws) in known.items():
        new = iter(data[name])
        data[name] = _Rendered(_LINE.many(raw if raw is not None else next(new) for raw in raws))
    return render(data)


# --- JSON Lines --------------------------------------------------------------------------------


def read_jsonl(model: type[T], path: Path | str) -> list[T]:
    """Read every line of a JSON Lines file; the first bad line raises with its line number."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    out = []
    with gc_paused():
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            data = parse_json(line, path, line=number)
            out.append(decode(model, data, path, prefix=f"line {number}: $"))
    return out


def write_jsonl(values: Iterable[Any], path: Path | str) -> None:
    """Write a whole JSON Lines file atomically, each value validated."""
    lines = []
    for value in values:
        data = to_json(value)
        validate(schema_of(_model(value)), data, str(path))
        lines.append(_COMPACT(data))
    atomic_write_text(path, "".join(line + "\n" for line in lines))


def append_jsonl(values: Iterable[Any], path: Path | str) -> None:
    """Append validated lines to a JSON Lines file, atomically.

    The existing bytes are kept as they are (even lines this version cannot read), the new
    lines are added, and the whole file is renamed into place: a crash leaves the old file or
    the new one, never half a line.
    """
    path = Path(path)
    new = []
    for value in values:
        data = to_json(value)
        validate(schema_of(_model(value)), data, str(path))
        new.append(_COMPACT(data) + "\n")
    try:
        old = path.read_bytes()
    except FileNotFoundError:
        old = b""
    if old and not old.endswith(b"\n"):
        old += b"\n"
    atomic_write_bytes(path, old + "".join(new).encode("utf-8"))
