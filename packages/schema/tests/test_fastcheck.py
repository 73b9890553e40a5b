"""The compiled checker and jsonschema give the same verdict; errors keep jsonschema's words.

jsonschema is the reference. Documents come from two sides: the schema-side generator of
test_contracts (valid documents) and mutations of those (a value replaced by an odd one, a key
dropped or added), which are mostly invalid. Every one must get the same verdict from both.
"""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recipeline_schema import CONTRACTS, RECIPE_SCHEMA, DataFileError, schema_of
from recipeline_schema._fastcheck import checker_source, compile_checker
from recipeline_schema.validation import fast_checker, validate, validate_with_jsonschema, validator_for


def _sibling(name: str) -> ModuleType:
    """Another test module of this folder (test modules are not importable by name here)."""
    spec = importlib.util.spec_from_file_location(f"_schema_{name}", Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


contracts_tests = _sibling("test_contracts")
SCHEMAS: dict[str, dict[str, Any]] = {c.schema_file: schema_of(c.model) for c in CONTRACTS}
CONTRACT_SCHEMAS = sorted(SCHEMAS)  # the generator builds these (the recipe schema has open objects)
SCHEMAS["recipe.schema.json"] = RECIPE_SCHEMA

#: values a mutation puts in place of another: every JSON type, edge numbers, near-miss strings
ODD_VALUES: tuple[Any, ...] = (
    None, True, False, 0, 1, -1, 1.0, 2.5, 3, 4, 10**12, -0.5, "", "x", "a b", "pkg\n", "pypi:x",
    "2026-01-29T10:00:00Z", "2026-01-29", "2026-01-29-001", "pending", "auto", "linux-debian-glibc-x86_64",
    "x" * 501, [], [1], ["a"], [None], {}, {"a": 1}, {"pypi": {}},
)  # fmt: skip


def _paths(doc: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``doc`` (the document itself included)."""
    out = [here]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*here, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*here, i))
    return out


def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        doc = doc[step]
    return doc


@st.composite
def mutated(draw: st.DrawFn, schema: dict[str, Any]) -> Any:
    """A document valid for ``schema`` with one change: a value replaced, a key dropped or added."""
    doc = copy.deepcopy(draw(contracts_tests.from_schema(schema)))
    path = draw(st.sampled_from(_paths(doc)))
    target = _at(doc, path)
    how = draw(st.sampled_from(("replace", "drop", "add") if isinstance(target, dict) else ("replace",)))
    if how == "drop" and target:
        del target[draw(st.sampled_from(sorted(target)))]
    elif how == "add":
        target[draw(st.sampled_from(("extra", "name", "status", "a")))] = draw(st.sampled_from(ODD_VALUES))
    elif not path:
        doc = draw(st.sampled_from(ODD_VALUES))
    else:
        _at(doc, path[:-1])[path[-1]] = copy.deepcopy(draw(st.sampled_from(ODD_VALUES)))
    return doc


def _reference_verdict(schema: dict[str, Any], doc: Any) -> bool:
    return bool(validator_for(schema).is_valid(doc))


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_contract_schema_compiles(name: str) -> None:
    """No contract falls back to jsonschema for valid documents (that would be the slow path)."""
    assert compile_checker(SCHEMAS[name]) is not None, checker_source(SCHEMAS[name])


@pytest.mark.parametrize("name", CONTRACT_SCHEMAS)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_valid_documents_pass_both(name: str, data: st.DataObject) -> None:
    """Documents the schema allows are valid for the compiled checker too."""
    schema = SCHEMAS[name]
    doc = data.draw(contracts_tests.from_schema(schema))
    check = fast_checker(schema)
    assert check is not None
    assert check(doc) is True
    assert _reference_verdict(schema, doc)


@pytest.mark.parametrize("name", CONTRACT_SCHEMAS)
@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_mutated_documents_get_the_same_verdict(name: str, data: st.DataObject) -> None:
    """One change to a valid document: both checkers agree, and the error is jsonschema's."""
    schema = SCHEMAS[name]
    doc = data.draw(mutated(schema))
    check = fast_checker(schema)
    assert check is not None
    expected = _reference_verdict(schema, doc)
    assert check(doc) is expected
    if not expected:
        with pytest.raises(DataFileError) as reference:
            validate_with_jsonschema(schema, doc, "data/x.json")
        with pytest.raises(DataFileError) as fast:
            validate(schema, doc, "data/x.json")
        assert str(fast.value) == str(reference.value)


RECIPES = [
    {"metadata": {"name": "jq"}, "steps": [{"action": "download"}]},
    {
        "metadata": {"name": "jq", "tier": 1.0, "extra": [1]},
        "steps": [{"action": "x", "when": {"os": ["linux"]}}],
    },
    {"metadata": {"name": "jq"}, "steps": []},
    {"metadata": {"name": "jq"}, "steps": [{"action": "Bad"}]},
    {"metadata": {"name": "jq"}, "steps": [{"action": "x", "when": {"os": 3}}]},
    {"metadata": {"name": "jq"}, "steps": [{"action": "x", "when": {"zone": "y"}}]},
    {"metadata": {"name": "jq", "tier": True}, "steps": [{"action": "x"}]},
    {"metadata": {"name": "jq"}, "steps": [{"action": "x"}], "verify": {"command": "jq", "mode": "exact"}},
    {"metadata": {"name": "jq"}, "steps": [{"action": "x"}], "verify": {"command": "jq", "mode": "output"}},
    {"metadata": {}, "steps": [{"action": "x"}]},
    {"steps": [{"action": "x"}]},
]


@pytest.mark.parametrize("doc", RECIPES)
def test_recipe_documents_get_the_same_verdict(doc: dict[str, Any]) -> None:
    """The recipe schema (open objects, minItems, anyOf of a string or a list) agrees too."""
    check = fast_checker(RECIPE_SCHEMA)
    assert check is not None
    assert check(doc) is _reference_verdict(RECIPE_SCHEMA, doc)


#: small schemas that pin each keyword's corner: bool is not a number, 1.0 is an integer,
#: ``pattern`` searches (``$`` also matches before a final newline), keywords skip other types
KEYWORD_SCHEMAS: list[dict[str, Any]] = [
    {"type": "integer", "minimum": 1, "maximum": 3},
    {"type": "number", "minimum": 0, "maximum": 1},
    {"minimum": 0},
    {"type": "string", "pattern": "^[a-z]+$", "maxLength": 3},
    {"pattern": "b"},
    {"type": "string", "pattern": "^[0-9]{1}[a-c]{2}$"},  # fixed shape: memoised matches
    {"maxLength": 2, "minLength": 1},
    {"const": 1},
    {"const": "a"},
    {"const": None},
    {"enum": [0, 1, 2]},
    {"enum": ["a", "b"]},
    {"enum": [None, True, "a", 1.5]},
    {"type": ["string", "null"]},
    {"type": "boolean"},
    {"type": "null"},
    {"type": "array", "items": {"type": "integer"}, "maxItems": 2, "minItems": 1},
    {"items": {"type": "string"}},
    {"type": "object", "additionalProperties": {"type": "integer"}},
    {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": {"type": "string"}},
    {"type": "object", "properties": {"a": {}}, "required": ["a"], "additionalProperties": False},
    {"required": ["a"]},
    {"anyOf": [{"type": "string"}, {"type": "integer", "minimum": 5}]},
    {"anyOf": [{"type": "string", "pattern": "^x"}, {"type": "null"}]},
    {"$defs": {"N": {"type": "array", "items": {"$ref": "#/$defs/N"}}}, "$ref": "#/$defs/N"},
    {"type": "object", "properties": {"next": {"$ref": "#"}}, "additionalProperties": False},
    {"$ref": "#/$defs/A", "$defs": {"A": {"type": "integer"}}, "minimum": 2},
]
KEYWORD_VALUES: list[Any] = [
    None, True, False, 0, 1, 2, 3, 4, 1.0, 0.5, 2.0, -1, 10**20, "", "a", "ab", "abc", "abcd",
    "abc\n", "b", "x1", "Abc", "1ab", "1ab", "1ab\n", "1abc", "9cc", "1ab ", "١ab",
    [], [1], [1, 2], [1, 2, 3], [1.0], [True], ["a"], [[]], [[[1]]],
    {}, {"a": 1}, {"a": "x"}, {"b": "x"}, {"b": 1}, {"a": 1, "b": "y"}, {"next": {}},
    {"next": {"next": {"x": 1}}}, {"a": True},
]  # fmt: skip


@pytest.mark.parametrize("schema", KEYWORD_SCHEMAS, ids=lambda s: str(s)[:60])
def test_keyword_corners_match_jsonschema(schema: dict[str, Any]) -> None:
    """Each keyword behaves as jsonschema's on every value of a fixed, awkward set."""
    check = compile_checker(schema)
    assert check is not None, schema
    for value in KEYWORD_VALUES:
        assert check(value) is _reference_verdict(schema, value), (schema, value)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "format": "date"},
        {"oneOf": [{"type": "string"}]},
        {"items": {"$defs": {}}},
        {"$ref": "other.json#/x"},
        {"type": "decimal"},
        {"items": False},
    ],
)
def test_unsupported_schemas_are_left_to_jsonschema(schema: dict[str, Any]) -> None:
    """A keyword the compiler does not mirror means no compiled checker, and validate still works."""
    assert compile_checker(schema) is None
    assert _outcome(validate, schema, "text") == _outcome(validate_with_jsonschema, schema, "text")
    assert _outcome(validate, schema, 7) == _outcome(validate_with_jsonschema, schema, 7)


def _outcome(validator: Any, schema: dict[str, Any], value: Any) -> str:
    try:
        validator(schema, value, "f.json")
    except Exception as exc:  # the same exception, whatever jsonschema makes of the schema
        return f"{type(exc).__name__}: {exc}"
    return "valid"


def test_a_checker_that_raises_defers_to_jsonschema() -> None:
    """Values the compiled code cannot handle (here: unhashable enum candidates) go to jsonschema."""
    schema = {"enum": [[1], "a"]}
    assert _reference_verdict(schema, [1])
    validate(schema, [1], "f.json")
    with pytest.raises(DataFileError, match="one of"):
        validate(schema, {"x": 1}, "f.json")
