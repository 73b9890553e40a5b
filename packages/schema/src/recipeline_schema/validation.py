"""Check JSON values against a JSON Schema; the first error names the file, path and expectation.

jsonschema-rs (compiled, draft 2020-12) gives the verdict. Only when it says no does jsonschema
run, to find the most relevant error (``best_match``) and word it, so valid documents cost the
compiled check alone and invalid ones get the wording they always had. Where jsonschema sees no
error the compiled validator found (its regexes are Python's, where ``$`` also matches before a
final newline; JSON Schema's and jsonschema-rs's do not), jsonschema-rs's own error is worded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jsonschema_rs

from .errors import DataFileError

if TYPE_CHECKING:
    import jsonschema

#: compiled validators by schema identity: our schemas are module constants or cached and never
#: changed once in use (hashing a schema's JSON on every call would cost more than checking a
#: small document); each entry keeps its schema alive, so an id is never reused while cached
_VALIDATORS: dict[int, tuple[dict[str, Any], jsonschema_rs.Validator]] = {}
_VALIDATORS_LIMIT = 256  # a caller building a new schema dict per call must not grow this forever


def compiled(schema: dict[str, Any]) -> jsonschema_rs.Validator:
    """The jsonschema-rs validator of ``schema``, compiled once."""
    entry = _VALIDATORS.get(id(schema))
    if entry is None or entry[0] is not schema:
        if len(_VALIDATORS) >= _VALIDATORS_LIMIT:
            _VALIDATORS.clear()
        entry = (schema, jsonschema_rs.validator_for(schema))
        _VALIDATORS[id(schema)] = entry
    return entry[1]


def is_valid(schema: dict[str, Any], data: Any) -> bool:
    """Whether ``data`` is valid for ``schema``."""
    return bool(compiled(schema).is_valid(data))


def validate(schema: dict[str, Any], data: Any, file: str, *, prefix: str = "$") -> None:
    """Raise ``DataFileError`` for the most relevant schema violation of ``data``.

    ``data`` may hold tuples where JSON has arrays (what ``msgspec.to_builtins`` gives).
    """
    validator = compiled(schema)
    if validator.is_valid(data):
        return
    import msgspec

    plain = msgspec.json.decode(msgspec.json.encode(data))  # tuples -> lists, for jsonschema
    _raise_worded(schema, plain, file, prefix)
    error = _most_relevant(next(iter(validator.iter_errors(data))))
    raise DataFileError(file, _path(prefix, error.instance_path), _rs_expectation(error), error.instance)


def _raise_worded(schema: dict[str, Any], data: Any, file: str, prefix: str) -> None:
    """jsonschema's most relevant error, worded; returns when jsonschema sees none."""
    import jsonschema.exceptions

    error = jsonschema.exceptions.best_match(_wording_validator(schema).iter_errors(data))
    if error is None:
        return
    # for a missing or extra field the whole object is noise; the expectation names the field
    got = None if error.validator in ("required", "additionalProperties") else error.instance
    raise DataFileError(file, _path(prefix, error.absolute_path), _expectation(error), got)


def _wording_validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema)


def _path(prefix: str, parts: Any) -> str:
    return prefix + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


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


def _most_relevant(error: jsonschema_rs.ValidationError) -> jsonschema_rs.ValidationError:
    """Inside an ``anyOf`` (an optional field), the branch's own error rather than "not null"."""
    context = getattr(error.kind, "context", None)
    if not context:
        return error
    inner = [e for branch in context for e in branch]
    chosen = next(
        (e for e in inner if not isinstance(e.kind, jsonschema_rs.ValidationErrorKind.Type)), inner[0]
    )
    return _most_relevant(chosen)


def _rs_expectation(error: jsonschema_rs.ValidationError) -> str:
    pattern = getattr(error.kind, "pattern", None)
    if isinstance(pattern, str):
        return f"a string matching {pattern}"
    return error.message
