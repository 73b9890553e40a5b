"""Check JSON values against a JSON Schema; the first error names the file, path and expectation.

Two checkers, one answer: a schema is first compiled into a yes/no Python function
(``_fastcheck``, about 1,000x faster than walking it with jsonschema); only when that says no
does jsonschema run, to find the most relevant error and word it. So valid documents cost the
fast check alone and invalid ones get exactly jsonschema's verdict and message.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from .errors import DataFileError

if TYPE_CHECKING:
    import jsonschema
    from jsonschema import Draft202012Validator

    from ._fastcheck import Checker

#: imported on first use, not with the package: jsonschema (and ``_fastcheck``, which uses it)
#: cost more than most readers of data files spend reading them
_LAZY = {
    "jsonschema": ("jsonschema", None),
    "Draft202012Validator": ("jsonschema", "Draft202012Validator"),
    "Checker": ("recipeline_schema._fastcheck", "Checker"),
    "compile_checker": ("recipeline_schema._fastcheck", "compile_checker"),
}


def __getattr__(name: str) -> Any:
    """This module's lazily imported names (``jsonschema``, ``Draft202012Validator``, ...)."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module_name, attr = _LAZY[name]
    module = importlib.import_module(module_name)
    return module if attr is None else getattr(module, attr)


@cache
def _validator(schema_id: str, schema_json: str) -> Draft202012Validator:
    import json

    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(schema_json))


def validator_for(schema: dict[str, Any]) -> Draft202012Validator:
    import json

    return _validator(str(schema.get("$id", "")), json.dumps(schema, sort_keys=True))


#: compiled checkers by schema identity: our schemas are module constants or cached, and are
#: never changed once in use (hashing the schema's JSON on every call, as ``validator_for``
#: does, would cost more than checking a small document)
_CHECKERS: dict[int, tuple[dict[str, Any], Checker | None]] = {}
_CHECKERS_LIMIT = 256  # a caller building a new schema dict per call must not grow this forever


def fast_checker(schema: dict[str, Any]) -> Checker | None:
    """The compiled yes/no checker of ``schema`` (``None`` when it uses unsupported keywords)."""
    entry = _CHECKERS.get(id(schema))
    if entry is None or entry[0] is not schema:
        if len(_CHECKERS) >= _CHECKERS_LIMIT:
            _CHECKERS.clear()
        from ._fastcheck import compile_checker

        entry = (schema, compile_checker(schema))  # the entry keeps ``schema`` alive: ids stay unique
        _CHECKERS[id(schema)] = entry
    return entry[1]


def is_valid(schema: dict[str, Any], data: Any) -> bool:
    """Whether ``data`` is valid for ``schema`` (the fast checker, else jsonschema)."""
    if _passes(fast_checker(schema), data):
        return True
    return bool(validator_for(schema).is_valid(data))


def _passes(check: Checker | None, data: Any) -> bool:
    """Whether the fast checker accepts ``data``; no (and jsonschema decides) if it raised."""
    if check is None:
        return False
    try:
        return check(data)
    except Exception:  # an odd value (a deep or exotic structure): jsonschema decides
        return False


def validate(schema: dict[str, Any], data: Any, file: str, *, prefix: str = "$") -> None:
    """Raise ``DataFileError`` for the most relevant schema violation of ``data``."""
    if _passes(fast_checker(schema), data):
        return
    validate_with_jsonschema(schema, data, file, prefix=prefix)


def validate_with_jsonschema(schema: dict[str, Any], data: Any, file: str, *, prefix: str = "$") -> None:
    """``validate`` by jsonschema alone: the reference, and the wording of every error."""
    import jsonschema.exceptions

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
