"""Per-dataclass encoders and decoders generated once from the type hints.

The reference codec in ``_codec`` walks a value and its type hints recursively for every field
of every entry; for a 100,000-entry queue that is seconds. Here each dataclass gets one Python
function for each direction, generated from its fields, with the conversion of each field
written inline. Both are shortcuts, never a second definition:

- an encoder checks the runtime class of each field value and hands anything unexpected (a
  list where a tuple was declared, a datetime subclass, ...) to the reference ``to_json``;
- a decoder raises ``FallbackError`` on anything it does not take exactly as the reference would;
  ``from_json`` then runs the reference decoder, which returns the value or raises the
  ``DecodeError`` with its JSON path.

tests/test_fastcodec.py checks both against the reference on generated values and documents.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import operator
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from .timefmt import format_time

Encoder = Callable[[Any], Any]
Decoder = Callable[[Any], Any]

_UTC = dt.UTC
# the strict time form with ASCII digits only: for these, datetime.fromisoformat accepts and
# rejects exactly what timefmt.parse_time's strptime does (tests/test_fastcodec.py)
_ASCII_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z")
_fromisoformat = dt.datetime.fromisoformat
_TIME_CACHE: dict[str, dt.datetime] = {}
_TIME_CACHE_LIMIT = 65536


class FallbackError(Exception):
    """The generated decoder does not take this value; the reference decoder decides."""


def parse_time_fast(text: Any) -> dt.datetime:
    """``timefmt.parse_time`` for the ASCII strict form, memoised; anything else: ``FallbackError``."""
    value = _TIME_CACHE.get(text) if text.__class__ is str else None
    if value is not None:
        return value
    if not isinstance(text, str) or not _ASCII_TIME.match(text):
        raise FallbackError
    value = _fromisoformat(text)  # 3.11 reads the ``Z`` as UTC; ValueError on a bad calendar day
    if len(_TIME_CACHE) >= _TIME_CACHE_LIMIT:
        _TIME_CACHE.clear()
    _TIME_CACHE[text] = value
    return value


def format_time_fast(value: dt.datetime) -> str:
    """``timefmt.format_time``: ``isoformat`` for UTC values (same digits, whole seconds)."""
    if value.tzinfo is _UTC:
        return value.isoformat()[:19] + "Z"
    return format_time(value)


# --- generation -------------------------------------------------------------------------------


class UnsupportedTypeError(Exception):
    """The dataclass has a shape the generator does not handle; the reference codec is used."""


class _Source:
    """Generated code and the names it refers to."""

    def __init__(self, env: dict[str, Any]) -> None:
        self.env = env
        self.counter = 0

    def name(self, value: Any, hint: str = "c") -> str:
        for key, known in self.env.items():
            if known is value and key.startswith(hint + "_"):
                return key
        self.counter += 1
        key = f"{hint}_{self.counter}"
        self.env[key] = value
        return key

    def var(self) -> str:
        self.counter += 1
        return f"x_{self.counter}"


def fields_of(cls: type) -> tuple[list[dataclasses.Field[Any]], dict[str, Any]]:
    """The fields and resolved type hints of ``cls`` (``UnsupportedTypeError`` if not a plain dataclass)."""
    if not (dataclasses.is_dataclass(cls) and isinstance(cls, type)):
        raise UnsupportedTypeError(f"{cls!r} is not a dataclass")
    try:
        hints = typing.get_type_hints(cls)
    except Exception as exc:  # an unresolvable annotation: leave the class to the reference
        raise UnsupportedTypeError(str(exc)) from None
    return list(dataclasses.fields(cls)), hints


#: classes whose values the reference ``to_json`` returns unchanged
SELF_ENCODING = frozenset({str, int, float, bool, type(None)})


def build_encoder(cls: type, encoder_for: Callable[[type], Encoder | None], reference: Encoder) -> Encoder:
    """A function returning ``reference(value)`` for instances of exactly ``cls``, faster.

    One dict display in field order. Fields declared as plain values (str, int, float, bool,
    literals, optional ones) are their own JSON value when their runtime class is plain, which
    one C-level set test checks for all of them first; if any is not, the whole value goes to
    the reference. The other fields (times, tuples, nested dataclasses) get an inline
    conversion that hands any unexpected class to the reference.
    """
    fields, hints = fields_of(cls)
    if not fields:
        return lambda o: {}
    plain = [f.name for f in fields if _plain_class(hints[f.name]) is not None]
    src = _Source(
        {
            "_ref": reference,
            "_time": lambda x: format_time(x) if x.__class__ is dt.datetime else reference(x),
            "_UTC": _UTC,
            "_dt": dt.datetime,
            "_date": dt.date,
            "_plain": SELF_ENCODING,
            "_plain_fields": _getter(plain),
        }
    )
    lines = ["def encode(o):"]
    if plain:
        lines.append("    if not _plain.issuperset(map(type, _plain_fields(o))): return _ref(o)")
    items = []
    for f in fields:
        if f.name in plain:
            items.append(f"{f.name!r}: o.{f.name}")
            continue
        x = src.var()
        lines.append(f"    {x} = o.{f.name}")
        expr = _encode_expr(hints[f.name], x, src, encoder_for)
        if _optional(hints[f.name]):
            expr = f"None if {x} is None else ({expr})"
        items.append(f"{f.name!r}: ({expr})")
    lines.append("    return {" + ", ".join(items) + "}")
    code = "\n".join(lines) + "\n"
    return _compile(code, src.env, "encode", f"<encoder {cls.__qualname__}>")


def _optional(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in typing.get_args(tp)


def _getter(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    """``attrgetter`` that always returns a tuple (for one name it returns the bare value)."""
    if len(names) == 1:
        name = names[0]
        return lambda o: (getattr(o, name),)
    return operator.attrgetter(*names)


def _encode_expr(tp: Any, x: str, src: _Source, encoder_for: Callable[[type], Any]) -> str:
    """An expression with the JSON value of ``x``, a field value that is not plain."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            tp, args = rest[0], typing.get_args(rest[0])  # None is plain: handled by the caller
    if tp is dt.datetime:
        # format_time_fast inline: the common case without a call
        return f"{x}.isoformat()[:19] + 'Z' if {x}.__class__ is _dt and {x}.tzinfo is _UTC else _time({x})"
    if tp is dt.date:
        return f"{x}.isoformat() if {x}.__class__ is _date else _ref({x})"
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        enc = encoder_for(tp)
        if enc is not None:
            return f"{src.name(enc, 'e')}({x}) if {x}.__class__ is {src.name(tp)} else _ref({x})"
    if typing.get_origin(tp) is tuple and args and _plain_class(args[0]) is not None:
        # a tuple of plain values is the list of the same values
        return f"[*{x}] if {x}.__class__ is tuple and _plain.issuperset(map(type, {x})) else _ref({x})"
    if (
        typing.get_origin(tp) is tuple
        and args
        and isinstance(args[0], type)
        and dataclasses.is_dataclass(args[0])
    ):
        enc = encoder_for(args[0])
        if enc is not None:
            e, c = src.name(enc, "e"), src.name(args[0])
            # one C-level pass over the item classes, then a C-level map over the items
            return (
                f"(list(map({e}, {x})) if {src.name(frozenset({args[0]}))}.issuperset(map(type, {x}))"
                f" else [{e}(i) if i.__class__ is {c} else _ref(i) for i in {x}])"
                f" if {x}.__class__ is tuple else _ref({x})"
            )
    return f"_ref({x})"


def _plain_class(tp: Any) -> type | None:
    """The class whose values are their own JSON value (the reference returns them as they are)."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
        tp = args[0] if args[1] is type(None) else args[1]  # None is its own JSON value too
    if tp in (str, int, float, bool):
        return typing.cast(type, tp)
    if typing.get_origin(tp) is typing.Literal:
        classes = {type(a) for a in typing.get_args(tp)}
        if len(classes) == 1 and next(iter(classes)) in (str, int, bool):
            return next(iter(classes))
    return None


def build_decoder(
    cls: type, decoder_for: Callable[[type], Decoder | None], reference: Callable[[Any, Any], Any]
) -> Decoder:
    """A function returning ``cls`` built from a JSON object, or raising ``FallbackError``.

    ``reference(tp, value)`` is the generic decoder, used for field types without inline code.
    """
    fields, hints = fields_of(cls)
    # positional arguments in field order: only when __init__ takes exactly the fields (no
    # init=False, keyword-only or InitVar parameters)
    params = list(inspect.signature(cls).parameters.values())
    if [p.name for p in params] != [f.name for f in fields] or any(
        p.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD for p in params
    ):
        raise UnsupportedTypeError(f"{cls.__qualname__}.__init__ does not take exactly its fields")
    src = _Source(
        {"_F": FallbackError, "_cls": cls, "_M": _MISSING, "_ref": reference, "_time": parse_time_fast}
    )
    lines = ["def decode(d):", "    if not isinstance(d, dict): raise _F", "    g = d.get"]
    args = []
    for f in fields:
        x = src.var()
        args.append(x)
        lines.append(f"    {x} = g({f.name!r}, _M)")
        if f.default is not dataclasses.MISSING:
            default = f"{src.name(f.default, 'default')}"
        elif f.default_factory is not dataclasses.MISSING:
            default = f"{src.name(f.default_factory, 'factory')}()"
        else:
            default = ""
        convert = _decode_lines(hints[f.name], x, src, decoder_for)
        if default:
            lines.append(f"    if {x} is _M: {x} = {default}")
            if convert:
                lines.append("    else:")
                lines.extend("        " + line for line in convert)
        else:
            lines.append(f"    if {x} is _M: raise _F")
            lines.extend("    " + line for line in convert)
    lines.append(f"    return _cls({', '.join(args)})")
    code = "\n".join(lines) + "\n"
    return _compile(code, src.env, "decode", f"<decoder {cls.__qualname__}>")


def _decode_lines(tp: Any, x: str, src: _Source, decoder_for: Callable[[type], Any]) -> list[str]:
    """Statements turning JSON value ``x`` into the field value in place (or raising ``_F``)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return []
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and len(args) == 2:
            inner = _decode_lines(rest[0], x, src, decoder_for)
            return [f"if {x} is not None:", *("    " + line for line in inner)] if inner else []
    if tp is str or tp is bool:
        return [f"if not isinstance({x}, {tp.__name__}): raise _F"]
    if tp is int:
        return [f"if not isinstance({x}, int) or isinstance({x}, bool): raise _F"]
    if tp is float:
        return [
            f"if isinstance({x}, bool) or not isinstance({x}, (int, float)): raise _F",
            f"{x} = float({x})",
        ]
    if origin is typing.Literal:
        return [f"if {x} not in {src.name(frozenset(args), 'literal')}: raise _F"]
    if tp is dt.datetime:
        return [f"{x} = _time({x})"]
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        dec = decoder_for(tp)
        if dec is not None:
            return [f"{x} = {src.name(dec, 'd')}({x})"]
    if origin is tuple and args:
        item = args[0]
        if item in (str, bool):
            return [
                f"if not isinstance({x}, list): raise _F",
                f"for i in {x}:",
                f"    if not isinstance(i, {item.__name__}): raise _F",
                f"{x} = tuple({x})",
            ]
        if dataclasses.is_dataclass(item) and isinstance(item, type):
            dec = decoder_for(item)
            if dec is not None:
                return [
                    f"if not isinstance({x}, list): raise _F",
                    f"{x} = tuple(map({src.name(dec, 'd')}, {x}))",
                ]
    if origin in (dict, Mapping) and len(args) == 2:
        value = args[1]
        if dataclasses.is_dataclass(value) and isinstance(value, type):
            dec = decoder_for(value)
            if dec is not None:
                d = src.name(dec, "d")
                return [
                    f"if not isinstance({x}, dict): raise _F",
                    f"{x} = {{k: {d}(v) for k, v in {x}.items()}}",
                ]
    # anything else: the reference decoder for this field (its DecodeError makes us fall back)
    return [f"{x} = _ref({src.name(tp, 'type')}, {x})"]


class _Missing:
    """A key absent from the JSON object."""


_MISSING = _Missing()


def _compile(code: str, env: dict[str, Any], name: str, filename: str) -> Callable[[Any], Any]:
    namespace = dict(env)
    exec(compile(code, filename, "exec"), namespace)  # noqa: S102 - generated from our dataclasses
    return typing.cast(Callable[[Any], Any], namespace[name])
