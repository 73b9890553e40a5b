"""The JSON Schemas and the dataclasses describe the same documents.

Both directions are generated: instances of each dataclass must be valid for its schema and
decode back equal, and documents the schema accepts must decode and encode back unchanged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import recipeline_schema as rs
from recipeline_schema import CONTRACTS, DataFileError, decode, schema_of, to_json, validate
from recipeline_schema.__main__ import drifted_schemas

REPO_ROOT = Path(__file__).resolve().parents[3]

times = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
).map(rs.utc)
names = st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9_+-]{0,20}\Z")
sources = st.builds(lambda e, n: f"{e}:{n}", st.sampled_from(rs.ECOSYSTEMS), names)
batch_ids = st.from_regex(r"\A20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])-[0-9]{3}\Z")

# Counters and durations are never negative; JSON has no NaN.
st.register_type_strategy(int, st.integers(0, 10**9))
st.register_type_strategy(float, st.floats(0, 1e9, allow_nan=False, allow_infinity=False))
st.register_type_strategy(dt.datetime, times)

#: strategies for fields whose strings follow a pattern, by field name
FIELD_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "name": names,
    "tool": names,
    "source": sources,
    "package_id": sources,
    "selected": sources,
    "probe": st.none() | sources,
    "batch_id": batch_ids,
    "sha256": st.none() | st.from_regex(r"\A[0-9a-f]{64}\Z"),
    "environment": st.sampled_from((*rs.ENVIRONMENTS, "generation")),
    "blocked_by": st.lists(names, max_size=3).map(lambda xs: tuple(sorted(set(xs)))),
    "recent": st.lists(st.booleans(), max_size=20).map(tuple),
    "priority": st.integers(1, 3),
    "tier": st.integers(1, 3),
    "success_rate": st.floats(0, 1),
}


def _examples(model: type) -> st.SearchStrategy[Any]:
    fields = {f.name for f in dataclasses.fields(model)}
    overrides = {k: v for k, v in FIELD_STRATEGIES.items() if k in fields}
    if model is rs.QueueEntry:
        overrides["batch_id"] = st.none() | batch_ids
    if model is rs.SeedingRun:
        overrides["exit_code"] = st.sampled_from((0, 1, 2))
    return st.builds(model, **overrides)


for _model in (
    rs.QueueEntry,
    rs.PlannedPackage,
    rs.GeneratedPackage,
    rs.RecipeResult,
    rs.ManifestPackage,
    rs.Disambiguation,
    rs.BreakerState,
):
    st.register_type_strategy(_model, _examples(_model))
st.register_type_strategy(
    rs.Failure,
    st.builds(
        lambda src, cat, msg, ts, data: rs.Failure.create(
            src,
            cat,
            data.draw(st.sampled_from((None, *rs.TAXONOMY[cat].subcategories))),
            msg,
            timestamp=ts,
            blocked_by=tuple(data.draw(st.lists(names, max_size=3))),
        ),
        sources,
        st.sampled_from(rs.CATEGORIES),
        st.text(max_size=600),
        times,
        st.data(),
    ),
)


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.schema_file)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_dataclass_examples_validate_and_round_trip(contract: Any, data: st.DataObject) -> None:
    """Every instance the dataclass can hold is valid for its schema and decodes back equal."""
    value = data.draw(_examples(contract.model))
    doc = json.loads(json.dumps(to_json(value), allow_nan=False))
    validate(schema_of(contract.model), doc, "<generated>")
    assert decode(contract.model, doc, "<generated>") == value


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.schema_file)
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_schema_examples_decode_and_encode_back(contract: Any, data: st.DataObject) -> None:
    """Every document the schema accepts becomes a dataclass that encodes to the same document."""
    doc = data.draw(from_schema(schema_of(contract.model)))
    try:
        value = decode(contract.model, doc, "<generated>")
    except DataFileError as exc:
        # Two rules need code, not shapes: real calendar dates, and category/subcategory pairs.
        # Anything else is a disagreement between schema and dataclass and fails here.
        assume("RFC 3339" in exc.expected or "date like" in exc.expected or "subcategory" in str(exc.got))
        return
    encoded = to_json(value)
    assert _covers(encoded, doc)  # omitted optional fields come back with their defaults
    assert decode(contract.model, encoded, "<encoded>") == value


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Documents valid for one of our derived schemas.

    Covers exactly the keywords ``_jsonschema`` emits (type, const, enum, pattern, anyOf,
    $ref, items, objects with required and optional properties, minimum/maximum,
    maxLength/maxItems); an unknown keyword fails loudly so the generator cannot fall behind.
    """
    defs = schema.get("$defs", {})
    known = {
        "$schema", "$id", "$defs", "title", "description", "type", "const", "enum", "pattern",
        "anyOf", "$ref", "items", "properties", "required", "additionalProperties", "minimum",
        "maximum", "maxLength", "maxItems",
    }  # fmt: skip

    def gen(node: dict[str, Any]) -> st.SearchStrategy[Any]:
        unknown = set(node) - known
        assert not unknown, f"generator does not know {unknown}"
        if "$ref" in node:
            return st.deferred(lambda: gen(defs[node["$ref"].rsplit("/", 1)[1]]))
        if "anyOf" in node:
            return st.one_of([gen(b) for b in node["anyOf"]])
        if "const" in node:
            return st.just(node["const"])
        if "enum" in node:
            return st.sampled_from(node["enum"])
        kind = node.get("type")
        if kind == "null":
            return st.none()
        if kind == "boolean":
            return st.booleans()
        if kind == "integer":
            return st.integers(node.get("minimum", -(2**31)), node.get("maximum", 2**31))
        if kind == "number":
            return st.floats(node.get("minimum", -1e9), node.get("maximum", 1e9), allow_nan=False)
        if kind == "string":
            if "pattern" in node:
                return st.from_regex(node["pattern"], fullmatch=True)
            return st.text(max_size=node.get("maxLength", 40))
        if kind == "array":
            return st.lists(gen(node.get("items", {})), max_size=min(node.get("maxItems", 3), 3))
        if kind == "object" and "properties" in node:
            props, required = node["properties"], set(node.get("required", ()))
            return st.fixed_dictionaries(
                {k: gen(v) for k, v in props.items() if k in required},
                optional={k: gen(v) for k, v in props.items() if k not in required},
            )
        if kind == "object":
            keys = st.sampled_from(rs.ECOSYSTEMS)
            return st.dictionaries(keys, gen(node["additionalProperties"]), max_size=2)
        raise AssertionError(f"generator cannot build {node}")

    return gen(schema)


def _covers(full: Any, part: Any) -> bool:
    """``full`` holds every value of ``part`` (objects may add defaulted keys; 1 == 1.0)."""
    a, b = full, part
    if isinstance(a, dict) and isinstance(b, dict):
        return b.keys() <= a.keys() and all(_covers(a[k], b[k]) for k in b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_covers(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, int | float) and isinstance(b, int | float) and math.isclose(a, b)
    return bool(a == b and type(a) is type(b))


def test_committed_schemas_match_the_package() -> None:
    """data/schemas/ holds exactly what the package derives (run export-schemas after a change)."""
    assert drifted_schemas(REPO_ROOT / "data" / "schemas") == []
