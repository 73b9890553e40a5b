"""Derive a JSON Schema (draft 2020-12) from a frozen dataclass and its field metadata.

The dataclasses are the single source of each contract; ``data/schemas/*.schema.json`` are
exports of what this module derives (``python -m recipeline_schema export-schemas``), and a test
checks the committed copies against it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from collections.abc import Mapping
from typing import Any

from .timefmt import DATE_PATTERN, TIME_PATTERN


def meta(description: str = "", **constraints: Any) -> dict[str, Any]:
    """Field metadata: a description and JSON Schema keywords (pattern, minimum, ...)."""
    return {"description": description, "json": constraints}


def schema_for(cls: type, *, title: str, schema_id: str) -> dict[str, Any]:
    """The JSON Schema document for dataclass ``cls``."""
    defs: dict[str, Any] = {}
    root = _object(cls, defs)
    doc: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        "title": title,
    }
    if cls.__doc__:
        doc["description"] = " ".join(cls.__doc__.split())
    doc.update(root)
    if defs:
        doc["$defs"] = dict(sorted(defs.items()))
    return doc


def _object(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    props: dict[str, Any] = {}
    required: list[str] = []
    for f in dataclasses.fields(cls):
        sub = _type(hints[f.name], defs)
        extra = dict(f.metadata.get("json", {}))
        if extra:
            sub = _constrain(sub, extra)
        if f.metadata.get("description"):
            sub = {"description": f.metadata["description"], **sub}
        props[f.name] = sub
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(f.name)
    return {
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }


def _constrain(sub: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Apply keywords to the non-null branch of an optional type, else to the type itself."""
    if "anyOf" in sub:
        branches = [b if b.get("type") == "null" else {**b, **_for(b, extra)} for b in sub["anyOf"]]
        return {"anyOf": branches}
    return {**sub, **_for(sub, extra)}


def _for(branch: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    # array item constraints are given as items=...; everything else applies directly
    if branch.get("type") == "array" and "items" in extra:
        return {**extra, "items": {**branch["items"], **extra["items"]}}
    return extra


def _type(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    origin = typing.get_origin(tp)
    if tp is Any:
        return {}
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        branches = [_type(a, defs) for a in args]
        if type(None) in typing.get_args(tp):
            branches.append({"type": "null"})
        return branches[0] if len(branches) == 1 else {"anyOf": branches}
    if origin is typing.Literal:
        values = list(typing.get_args(tp))
        return {"const": values[0]} if len(values) == 1 else {"enum": values}
    if origin is tuple:
        return {"type": "array", "items": _type(typing.get_args(tp)[0], defs)}
    if origin in (dict, Mapping):
        return {"type": "object", "additionalProperties": _type(typing.get_args(tp)[1], defs)}
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if tp.__name__ not in defs:
            defs[tp.__name__] = {}  # placeholder against recursion
            defs[tp.__name__] = _object(tp, defs)
        return {"$ref": f"#/$defs/{tp.__name__}"}
    if tp is dt.datetime:
        return {"type": "string", "pattern": TIME_PATTERN}
    if tp is dt.date:
        return {"type": "string", "pattern": DATE_PATTERN}
    simple = {str: "string", int: "integer", float: "number", bool: "boolean"}
    if tp in simple:
        return {"type": simple[tp]}
    raise TypeError(f"no JSON Schema for {tp!r}")
