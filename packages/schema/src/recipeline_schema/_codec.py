"""Convert the frozen dataclasses to and from JSON values, with msgspec.

The JSON Schema is checked before decoding (see ``validation``), so the decoder only has to be
right for valid documents; it still raises ``DecodeError`` with the JSON path on anything it
cannot convert, so a gap between a schema and its dataclass shows up as a named path.
Times are ``timefmt.format_time``'s: UTC with ``Z``, whole seconds, a naive time taken as UTC.
msgspec writes a whole-second UTC time exactly so (what ``current_time`` and ``utc`` give);
``to_builtins`` leaves any other time (naive, another offset, fractions) as msgspec wrote it,
so the schema check of ``save`` fails on it and ``io`` asks again with ``utc_times=True``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, TypeVar

import msgspec

from .errors import DecodeError
from .timefmt import format_time

T = TypeVar("T")

_ENCODER = msgspec.json.Encoder()
#: msgspec's errors: "<what> - at `$.entries[3].priority`" (no suffix at the top level)
_MESSAGE = re.compile(r"(?s)(?P<what>.*?)(?: - at `(?P<path>[^`]*)`)?")
_EXPECTED = re.compile(r"(?s)Expected (?P<expected>.*?), got (?P<got>.*)")
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
#: msgspec's words for a string that is not a time or date -> ours
_INVALID = {
    "Invalid RFC3339 encoded datetime": "an RFC 3339 UTC time like 2026-01-29T10:00:00Z",
    "Invalid RFC3339 encoded date": "a date like 2026-01-26",
}


def to_builtins(value: Any, *, utc_times: bool = False) -> Any:
    """The JSON value of ``value`` in builtin types (arrays may be tuples), what ``save`` checks
    and writes; ``utc_times`` writes every time with ``format_time`` (a slower walk)."""
    if not utc_times:
        return msgspec.to_builtins(value)
    return _utc_times(msgspec.to_builtins(value, builtin_types=(dt.datetime,)))


def _utc_times(data: Any) -> Any:
    if isinstance(data, dt.datetime):
        return format_time(data)
    if isinstance(data, dict):
        return {k: _utc_times(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_utc_times(v) for v in data]
    return data


def to_json(value: Any) -> Any:
    """The JSON value of a dataclass instance (or of any supported value): dicts, lists, str,
    numbers, bools and None, exactly what reading its JSON text back gives."""
    return msgspec.json.decode(_ENCODER.encode(to_builtins(value, utc_times=True)))


def encode(value: Any) -> bytes:
    """Compact JSON text of ``value`` (a dataclass or a JSON value), UTF-8."""
    return _ENCODER.encode(value)


def encode_lines(values: Any) -> bytes:
    """Compact JSON text of each of ``values``, one a line (each line ends with a newline)."""
    return _ENCODER.encode_lines(values)


def from_json(cls: type[T], data: Any, path: str = "$") -> T:
    """Build ``cls`` from a JSON value; ``DecodeError`` names the JSON path (under ``path``).

    A rule of the dataclass itself (``__post_init__``) that refuses the value is a
    ``ValueError`` naming the rule, at the path of the object that broke it.
    """
    try:
        return msgspec.convert(data, cls)
    except msgspec.ValidationError as exc:
        raise _decode_error(str(exc), data, path) from None


def _decode_error(message: str, data: Any, prefix: str) -> DecodeError | ValueError:
    match = _MESSAGE.fullmatch(message)
    what, where = (match["what"], match["path"]) if match else (message, None)
    path = prefix + (where or "$")[1:]
    if what in _INVALID:
        return DecodeError(path, _INVALID[what], _value_at(data, where or "$"))
    expected = _EXPECTED.fullmatch(what)
    if expected is None:  # the dataclass's own rule (e.g. the taxonomy) refused the value
        return _RuleError(path, what)
    return DecodeError(path, expected["expected"].replace("`", ""), _Shown(expected["got"].replace("`", "")))


def _value_at(data: Any, path: str) -> Any:
    """The value at msgspec's JSON path (``$.entries[3].added_at``) of ``data``; None where the
    path does not say (msgspec writes a mapping's key as ``[...]``)."""
    if "[...]" in path:
        return None
    for key, index in _STEP.findall(path[1:]):
        data = data[int(index)] if index else data[key]
    return data


class _RuleError(ValueError):
    """A ``__post_init__`` rule refused a value; ``path`` is where the object is."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(message)


class _Shown(str):
    """msgspec's word for what it got (a type name), shown as it is."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)
