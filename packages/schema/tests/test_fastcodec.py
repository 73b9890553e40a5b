"""The generated encoders/decoders give exactly what the reference walk gives, errors included."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import importlib.util
import json
import typing
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import recipeline_schema as rs
from recipeline_schema import CONTRACTS, from_json, schema_of, to_json
from recipeline_schema._codec import reference_from_json, reference_to_json
from recipeline_schema._fastcodec import FallbackError, format_time_fast, parse_time_fast
from recipeline_schema.io import _COMPACT, _LINE, render


def _sibling(name: str) -> ModuleType:
    """Another test module of this folder (test modules are not importable by name here)."""
    spec = importlib.util.spec_from_file_location(f"_codec_{name}", Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


contracts_tests = _sibling("test_contracts")
checker_tests = _sibling("test_fastcheck")
NOW = dt.datetime(2026, 1, 29, 10, 0, 0, tzinfo=dt.UTC)
ZONES = (None, dt.UTC, dt.timezone(dt.timedelta(hours=-5)), dt.timezone(dt.timedelta(hours=9)))


def _outcome(step: Any) -> tuple[str, Any]:
    """The value, or the exception's type and message: what a caller can observe."""
    try:
        return ("value", step())
    except Exception as exc:
        return (type(exc).__name__, str(exc))


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.schema_file)
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_encoding_matches_the_reference(contract: Any, data: st.DataObject) -> None:
    """to_json of generated instances equals the reference walk, key order included."""
    value = data.draw(contracts_tests._examples(contract.model))
    fast, reference = to_json(value), reference_to_json(value)
    assert json.dumps(fast) == json.dumps(reference)


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.schema_file)
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_decoding_schema_documents_matches_the_reference(contract: Any, data: st.DataObject) -> None:
    """from_json of schema-valid documents: the same value, or the same error (bad dates...)."""
    doc = data.draw(contracts_tests.from_schema(schema_of(contract.model)))
    assert _outcome(lambda: from_json(contract.model, doc)) == _outcome(
        lambda: reference_from_json(contract.model, doc)
    )


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.schema_file)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_decoding_broken_documents_matches_the_reference(contract: Any, data: st.DataObject) -> None:
    """Mutated documents (odd values, missing and extra keys): the same value or the same error."""
    doc = data.draw(checker_tests.mutated(schema_of(contract.model)))
    assert _outcome(lambda: from_json(contract.model, copy.deepcopy(doc))) == _outcome(
        lambda: reference_from_json(contract.model, copy.deepcopy(doc))
    )


ENTRY = rs.QueueEntry(name="jq", source="homebrew:jq", priority=1, added_at=NOW, blocked_by=("a",))


class Name(str):
    """A str subclass: the reference keeps it as it is, so must the fast path."""


@pytest.mark.parametrize(
    "value",
    [
        ENTRY,
        dataclasses.replace(ENTRY, blocked_by=["a", "b"]),  # type: ignore[arg-type]  # a list, not a tuple
        dataclasses.replace(ENTRY, blocked_by=("a", 1)),  # type: ignore[arg-type]
        dataclasses.replace(ENTRY, added_at=dt.datetime(2026, 1, 29, 10, 0, 0, 999)),  # naive
        dataclasses.replace(
            ENTRY, added_at=dt.datetime(2026, 1, 29, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))
        ),
        dataclasses.replace(ENTRY, added_at="2026-01-29T10:00:00Z"),  # type: ignore[arg-type]
        dataclasses.replace(ENTRY, name=Name("jq")),
        dataclasses.replace(ENTRY, priority=True),
        dataclasses.replace(ENTRY, popularity=2.5),  # type: ignore[arg-type]
        dataclasses.replace(ENTRY, reason={"k": dt.date(2026, 1, 2)}),  # type: ignore[arg-type]
        rs.Queue(schema_version=1, ecosystem="npm", updated_at=NOW, entries=(ENTRY, ENTRY)),
        rs.Queue(schema_version=1, ecosystem="npm", updated_at=NOW, entries=[ENTRY]),  # type: ignore[arg-type]
        rs.Budget(week_start=dt.date(2026, 1, 26), macos_minutes_used=3),
        rs.BatchControl(
            enabled=True,
            budget=rs.Budget(week_start=dt.date(2026, 1, 26)),
            circuit_breaker={"npm": rs.BreakerState(recent=(True, False))},
        ),
        [ENTRY, {"x": (1, 2)}],
        "text",
    ],
)
def test_odd_runtime_values_encode_like_the_reference(value: Any) -> None:
    """Values that break the type hints (a list for a tuple, naive times, subclasses) still match."""
    fast, reference = to_json(value), reference_to_json(value)
    assert json.dumps(fast) == json.dumps(reference)
    assert [type(v) for v in _leaves(fast)] == [type(v) for v in _leaves(reference)]


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


GOOD = reference_to_json(ENTRY)


@pytest.mark.parametrize(
    "doc",
    [
        GOOD,
        {**GOOD, "priority": 1.0},  # valid for the schema, not an int for the dataclass
        {**GOOD, "priority": True},
        {**GOOD, "status": "done"},
        {**GOOD, "status": ["pending"]},  # unhashable where a literal is expected
        {**GOOD, "added_at": "2026-02-30T10:00:00Z"},
        {**GOOD, "added_at": "٢٠٢٦-01-29T10:00:00Z"},  # non-ASCII digits: strptime reads them
        {**GOOD, "added_at": 5},
        {**GOOD, "blocked_by": ("a",)},
        {**GOOD, "blocked_by": ["a", 2]},
        {**GOOD, "extra": 1},  # the decoder ignores it (the schema refuses it)
        {k: v for k, v in GOOD.items() if k != "source"},
        {k: v for k, v in GOOD.items() if k in ("name", "source", "priority")},
        [],
        None,
    ],
)
def test_entry_documents_decode_like_the_reference(doc: Any) -> None:
    """Hand-picked awkward documents: from_json returns or raises exactly as the reference."""
    assert _outcome(lambda: from_json(rs.QueueEntry, doc)) == _outcome(
        lambda: reference_from_json(rs.QueueEntry, doc)
    )
    queue = {
        "schema_version": 1,
        "ecosystem": "homebrew",
        "updated_at": "2026-01-29T10:00:00Z",
        "entries": [doc],
    }
    assert _outcome(lambda: from_json(rs.Queue, queue, "line 3: $")) == _outcome(
        lambda: reference_from_json(rs.Queue, queue, "line 3: $")
    )


def test_failure_invariants_raise_like_the_reference() -> None:
    """A dataclass invariant (__post_init__) raises the same ValueError through either path."""
    doc = {
        "package_id": "npm:x",
        "category": "api_error",
        "subcategory": "nope",
        "message": "m",
        "timestamp": "2026-01-29T10:00:00Z",
    }
    fast = _outcome(lambda: from_json(rs.Failure, doc))
    assert fast == _outcome(lambda: reference_from_json(rs.Failure, doc))
    assert fast[0] == "InvalidValueError"


time_texts = st.builds(
    lambda *parts: "{}-{}-{}T{}:{}:{}Z".format(*parts),
    st.from_regex(r"\A[0-9]{4}\Z"),
    *[st.from_regex(r"\A[0-9]{2}\Z")] * 5,
) | st.text(alphabet="0123456789-:TZ ٢", max_size=22)


@settings(max_examples=400, deadline=None)
@given(text=time_texts)
def test_fast_time_parsing_accepts_and_rejects_like_parse_time(text: str) -> None:
    """fromisoformat (gated by an ASCII regex) reads exactly the times strptime reads."""
    try:
        expected: Any = rs.parse_time(text)
    except ValueError:
        expected = ValueError
    try:
        got: Any = parse_time_fast(text)
    except (ValueError, FallbackError):
        got = ValueError
    if got is ValueError and expected is not ValueError:
        # the fast path may only decline what it cannot read: non-ASCII digits (strptime reads them)
        assert not text.isascii()
        return
    assert got == expected
    if got is not ValueError:
        assert got.tzinfo is dt.UTC


@settings(max_examples=200, deadline=None)
@given(
    value=st.datetimes(
        min_value=dt.datetime(1, 1, 2),
        max_value=dt.datetime(9999, 12, 30),
        timezones=typing.cast(Any, st.sampled_from(ZONES)),
    )
)
def test_fast_time_formatting_matches_format_time(value: dt.datetime) -> None:
    """isoformat for UTC values writes what format_time writes, for every year and microsecond."""
    assert format_time_fast(value) == rs.format_time(value)


def _old_render(data: Any) -> str:
    """render as it was written first (json.dumps per line): the text must not change."""
    if not isinstance(data, dict):
        return json.dumps(data, ensure_ascii=False, allow_nan=False) + "\n"
    lines = []
    for key, value in data.items():
        name = json.dumps(key, ensure_ascii=False)
        if isinstance(value, list) and value:
            items = ",\n".join("    " + json.dumps(v, ensure_ascii=False, allow_nan=False) for v in value)
            lines.append(f"  {name}: [\n{items}\n  ]")
        else:
            lines.append(f"  {name}: {json.dumps(value, ensure_ascii=False, allow_nan=False)}")
    return "{\n" + ",\n".join(lines) + "\n}\n" if lines else "{}\n"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(data=st.dictionaries(st.text(max_size=6), json_values, max_size=4) | json_values)
def test_prebuilt_encoders_write_the_same_text_as_json_dumps(data: Any) -> None:
    """The C encoder called directly gives json.dumps' text (unicode, escapes, floats, nesting)."""
    assert render(data) == _old_render(data)
    assert _COMPACT(data) == json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    assert list(_LINE.many([data, data])) == [json.dumps(data, ensure_ascii=False, allow_nan=False)] * 2


def test_nan_is_refused_as_before() -> None:
    """allow_nan=False is kept: NaN never reaches a data file."""
    with pytest.raises(ValueError, match="JSON compliant"):
        render({"x": [float("nan")]})
    with pytest.raises(ValueError, match="JSON compliant"):
        _COMPACT(float("inf"))
