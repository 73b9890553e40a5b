"""Check JSON values against a JSON Schema; the first error names the file, path and expectation."""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator

from .errors import DataFileError


@cache
def _validator(schema_id: str, schema_json: str) -> Draft202012Validator:
    import json

    return Draft202012Validator(json.loads(schema_json))


def validator_for(schema: dict[str, Any]) -> Draft202012Validator:
    import json

    return _validator(str(schema.get("$id", "")), json.dumps(schema, sort_keys=True))


def validate(schema: dict[str, Any], data: Any, file: str, *, prefix: str = "$") -> None:
    """Raise ``DataFileError`` for the most relevant schema violation of ``data``."""
    error = jsonschema.exceptions.best_match(validator_for(schema).iter_errors(data))
    if error is None:
        return
    path = prefix + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    # for a missing or extra field the whole object is noise; the expectation names the field
    got = None if error.validator in ("required", "additionalProperties") else error.instance
    raise DataFileError(file, path, _expectation(error), got)


def _expectation(error: jsonschema.ValidationError) -> str:
    v, kw = error.validator_value, error.validator
    if kw == "required":
        names = list(v) if isinstance(v, list) else []
        missing = [k for k in names if isinstance(error.instance, dict) and k not in error.instance]
        return f"required field(s) {missing}"
    if kw == "additionalProperties":
        return f"no other fields ({error.message})"
    if kw == "type":
        return f"type {v}"
    if kw == "enum":
        return f"one of {v}"
    if kw == "const":
        return f"the value {v!r}"
    if kw == "pattern":
        return f"a string matching {v}"
    return f"{kw} {v!r} ({error.message})"
