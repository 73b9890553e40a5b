"""Convert frozen dataclasses to and from JSON values, driven by their type hints.

The JSON Schema is checked before decoding (see ``validation``), so the decoder only has to be
right for valid documents; it still raises ``DecodeError`` with the JSON path on anything it
cannot convert, so a gap between a schema and its dataclass shows up as a named path.

``reference_to_json``/``reference_from_json`` are the definition: a recursive walk over values
and type hints. ``to_json``/``from_json`` use per-dataclass functions generated from the same
hints (``_fastcodec``) and defer to the reference for anything those do not take, so the two
always give the same result and the same errors (tests/test_fastcodec.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from . import _fastcodec
from ._gcpause import gc_paused
from .errors import DecodeError
from .timefmt import format_date, format_time, parse_date, parse_time

T = TypeVar("T")

_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def to_json(value: Any) -> Any:
    """Return the JSON value of a dataclass instance (or of any supported value)."""
    encode = _ENCODERS.get(value.__class__, _NOT_BUILT)
    if encode is _NOT_BUILT:
        encode = _encoder_for(value.__class__)
    if encode is None:
        return reference_to_json(value)
    with gc_paused():
        return typing.cast(Callable[[Any], Any], encode)(value)


def from_json(cls: type[T], data: Any, path: str = "$") -> T:
    """Build ``cls`` from a JSON value that already passed the JSON Schema of ``cls``."""
    decode = _DECODERS.get(cls, _NOT_BUILT)
    if decode is _NOT_BUILT:
        decode = _decoder_for(cls)
    if decode is not None:
        try:
            with gc_paused():
                return typing.cast(T, typing.cast(Callable[[Any], Any], decode)(data))
        except Exception:  # noqa: S110 - the reference decides: the value, or its error
            pass
    return reference_from_json(cls, data, path)


# --- generated per-dataclass functions -------------------------------------------------------

_NOT_BUILT = object()
#: by class: its generated function, or None when the reference handles it
_ENCODERS: dict[Any, Callable[[Any], Any] | None] = {}
_DECODERS: dict[Any, Callable[[Any], Any] | None] = {}
_BUILD_LOCK = threading.RLock()  # re-entrant: a class's generation builds its fields' classes
_BUILDING: set[Any] = set()  # classes being generated (a self-reference uses the reference)


def _encoder_for(cls: Any) -> Callable[[Any], Any] | None:
    return _generated(_ENCODERS, cls, lambda: _fastcodec.build_encoder(cls, _encoder_for, reference_to_json))


def _decoder_for(cls: Any) -> Callable[[Any], Any] | None:
    return _generated(_DECODERS, cls, lambda: _fastcodec.build_decoder(cls, _decoder_for, _decode_field))


def _generated(
    cache: dict[Any, Callable[[Any], Any] | None], cls: Any, build: Callable[[], Callable[[Any], Any]]
) -> Callable[[Any], Any] | None:
    with _BUILD_LOCK:  # one thread generates; another must not see a half-built class as None
        if cls in cache:
            return cache[cls]
        if cls in _BUILDING:
            return None
        if not (dataclasses.is_dataclass(cls) and isinstance(cls, type)):
            cache[cls] = None
            return None
        _BUILDING.add(cls)
        try:
            fn: Callable[[Any], Any] | None = build()
        except _fastcodec.UnsupportedTypeError:
            fn = None
        finally:
            _BUILDING.discard(cls)
        cache[cls] = fn
        return fn


def _decode_field(tp: Any, data: Any) -> Any:
    return _decode(tp, data, "$")  # a DecodeError here sends the whole value to the reference


# --- the reference ----------------------------------------------------------------------------


def reference_to_json(value: Any) -> Any:
    """The JSON value of ``value`` by walking it (the definition ``to_json`` must match)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: reference_to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dt.datetime):
        return format_time(value)
    if isinstance(value, dt.date):
        return format_date(value)
    if isinstance(value, tuple | list):
        return [reference_to_json(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): reference_to_json(v) for k, v in value.items()}
    return value


def reference_from_json(cls: type[T], data: Any, path: str = "$") -> T:
    """``cls`` from a JSON value by walking the type hints (the definition of ``from_json``)."""
    return typing.cast(T, _decode(cls, data, path))


def _decode(tp: Any, data: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    if tp is Any:
        return data
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if data is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _decode(arg, data, path)
            except DecodeError as exc:
                errors.append(exc)
        raise errors[0] if errors else DecodeError(path, f"a value of {tp}", data)
    if origin is typing.Literal:
        if data not in typing.get_args(tp):
            raise DecodeError(path, f"one of {list(typing.get_args(tp))}", data)
        return data
    if origin is tuple:
        if not isinstance(data, list):
            raise DecodeError(path, "an array", data)
        (item,) = typing.get_args(tp)[:1]
        return tuple(_decode(item, v, f"{path}[{i}]") for i, v in enumerate(data))
    if origin in (dict, Mapping):
        if not isinstance(data, dict):
            raise DecodeError(path, "an object", data)
        _key, val = typing.get_args(tp)
        return {k: _decode(val, v, f"{path}.{k}") for k, v in data.items()}
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(data, dict):
            raise DecodeError(path, f"an object ({tp.__name__})", data)
        hints = _hints(tp)
        kwargs = {}
        for f in dataclasses.fields(tp):
            if f.name in data:
                kwargs[f.name] = _decode(hints[f.name], data[f.name], f"{path}.{f.name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise DecodeError(f"{path}.{f.name}", "a required field", None)
        return tp(**kwargs)
    if tp is dt.datetime:
        try:
            return parse_time(data)
        except (TypeError, ValueError):
            raise DecodeError(path, "an RFC 3339 UTC time like 2026-01-29T10:00:00Z", data) from None
    if tp is dt.date:
        try:
            return parse_date(data)
        except (TypeError, ValueError):
            raise DecodeError(path, "a date like 2026-01-26", data) from None
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise DecodeError(path, "a number", data)
        return float(data)
    if tp in (str, int, bool):
        if not isinstance(data, tp) or (tp is int and isinstance(data, bool)):
            raise DecodeError(path, f"a {tp.__name__}", data)
        return data
    raise DecodeError(path, f"a supported type (no decoder for {tp!r})", data)
