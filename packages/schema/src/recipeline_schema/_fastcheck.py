"""A yes/no JSON Schema checker compiled to Python source, for the keywords our schemas use.

jsonschema walks the schema for every value it checks (about 150 µs per queue entry); this
module turns a schema into one Python function per ``$defs`` entry, once, so that checking a
100,000-entry queue costs a few tenths of a second. It only answers *valid or not*: when the
answer is no (or the function raises), ``validation.validate`` runs jsonschema to find and word
the error, so messages stay exactly those of the reference.

Each keyword is compiled to mirror jsonschema 4 (draft 2020-12) exactly: the same type rules
(``bool`` is not a number, ``1.0`` is an integer, ``object`` means ``dict``, ``array`` means
``list``), ``re.search`` for ``pattern``, and keywords that ignore values of other types. A
schema with any keyword outside the supported set is not compiled (``compile_checker`` returns
``None``) and is checked by jsonschema alone. tests/test_fastcheck.py checks the two agree on
generated valid and invalid documents of every contract.
"""

from __future__ import annotations

import numbers
import operator
import re
from collections.abc import Callable
from typing import Any

from jsonschema._utils import equal as _json_equal

Checker = Callable[[Any], bool]

#: keywords that never change validity (only allowed where they cannot change resolution)
_ANNOTATIONS = frozenset({"title", "description", "default", "examples", "$comment", "deprecated"})
_ROOT_ONLY = frozenset({"$schema", "$id", "$defs"})
_KEYWORDS = frozenset(
    {
        "type", "const", "enum", "pattern", "maxLength", "minLength", "minimum", "maximum",
        "maxItems", "minItems", "items", "required", "properties", "additionalProperties",
        "anyOf", "$ref",
    }
)  # fmt: skip

#: the Python test for each JSON type, on variable ``{v}`` (jsonschema's draft 2020-12 checker)
_TYPE_TESTS = {
    "object": "isinstance({v}, dict)",
    "array": "isinstance({v}, list)",
    "string": "isinstance({v}, str)",
    "boolean": "({v} is True or {v} is False)",
    "null": "{v} is None",
    "integer": (
        "({v}.__class__ is int or (isinstance({v}, int) and not isinstance({v}, bool))"
        " or (isinstance({v}, float) and {v}.is_integer()))"
    ),
    "number": (
        "({v}.__class__ is int or {v}.__class__ is float"
        " or (not isinstance({v}, bool) and isinstance({v}, _Number)))"
    ),
}
#: which keywords apply only to values of one JSON type (others ignore the keyword)
_APPLIES_TO = {
    "pattern": "string",
    "maxLength": "string",
    "minLength": "string",
    "minimum": "number",
    "maximum": "number",
    "maxItems": "array",
    "minItems": "array",
    "items": "array",
    "required": "object",
    "properties": "object",
    "additionalProperties": "object",
}


class UnsupportedSchemaError(Exception):
    """The schema uses something this compiler does not mirror; jsonschema checks it alone."""


def compile_checker(schema: dict[str, Any]) -> Checker | None:
    """A function answering whether a value is valid for ``schema``, or ``None`` if unsupported."""
    try:
        return _Compiler(schema).build()
    except UnsupportedSchemaError:
        return None


def checker_source(schema: dict[str, Any]) -> str:
    """The generated source for ``schema`` (for reading and debugging)."""
    return _Compiler(schema).source()


class _Compiler:
    def __init__(self, schema: dict[str, Any]) -> None:
        if not isinstance(schema, dict):
            raise UnsupportedSchemaError("a boolean schema")
        self.root = schema
        self.defs: dict[str, Any] = schema.get("$defs", {})
        if not isinstance(self.defs, dict):
            raise UnsupportedSchemaError("$defs is not an object")
        self.names: dict[str, str] = {name: f"d_{i}" for i, name in enumerate(self.defs)}
        self.env: dict[str, Any] = {"_Number": numbers.Number, "_M": _MISSING, "_equal": _json_equal}
        self.functions: list[list[str]] = []
        self.counter = 0

    def build(self) -> Checker:
        code = compile(self.source(), f"<checker {self.root.get('$id', '')}>", "exec")
        namespace = dict(self.env)
        exec(code, namespace)  # noqa: S102 - source generated from our own schema, names only
        fn: Checker = namespace["check"]
        return fn

    def source(self) -> str:
        if not self.functions:
            self.function("check", self.root, root=True)
            for name, node in self.defs.items():
                self.function(self.names[name], node)
        return "\n\n".join("\n".join(lines) for lines in self.functions) + "\n"

    # --- code generation -------------------------------------------------------------------

    def function(self, name: str, node: Any, *, root: bool = False) -> None:
        lines = [f"def {name}(v):"]
        self.node(node, "v", 1, lines, root=root)
        lines.append("    return True")
        self.functions.append(lines)

    def const(self, value: Any) -> str:
        """A name for ``value`` in the generated code (short strings and numbers inline)."""
        if type(value) in (str, int) or (type(value) is float and value == value and abs(value) != _INF):
            return repr(value)
        return self.named(value)

    def named(self, value: Any) -> str:
        self.counter += 1
        name = f"c_{self.counter}"
        self.env[name] = value
        return name

    def var(self) -> str:
        self.counter += 1
        return f"x_{self.counter}"

    def node(self, node: Any, v: str, depth: int, out: list[str], *, root: bool = False) -> None:
        """Append statements that ``return False`` when ``v`` breaks ``node``."""
        pad = "    " * depth
        if node is True or node == {}:
            return
        if not isinstance(node, dict):
            raise UnsupportedSchemaError(f"schema node {node!r}")
        for key in node:
            if key in _ANNOTATIONS or key in _KEYWORDS or (root and key in _ROOT_ONLY):
                continue
            raise UnsupportedSchemaError(f"keyword {key!r}")

        known = None  # the JSON type ``v`` is known to have once the type test passed
        if "type" in node:
            kinds = node["type"] if isinstance(node["type"], list) else [node["type"]]
            if not kinds or any(k not in _TYPE_TESTS for k in kinds):
                raise UnsupportedSchemaError(f"type {node['type']!r}")
            test = " or ".join(_TYPE_TESTS[k].format(v=v) for k in kinds)
            out.append(f"{pad}if not ({test}): return False")
            known = kinds[0] if len(kinds) == 1 else None

        if "const" in node:
            out.append(f"{pad}if not ({self.equals(v, [node['const']])}): return False")
        if "enum" in node:
            if not isinstance(node["enum"], list):
                raise UnsupportedSchemaError("enum is not an array")
            out.append(f"{pad}if not ({self.equals(v, node['enum'])}): return False")

        # keywords grouped by the type they apply to; a group is guarded unless the type is known
        for kind in ("string", "number", "array", "object"):
            keys = [k for k in node if _APPLIES_TO.get(k) == kind]
            if not keys:
                continue
            body: list[str] = []
            inner = depth if _implies(known, kind) else depth + 1
            getattr(self, f"_{kind}")(node, v, inner, body)
            if not body:
                continue
            if inner != depth:
                out.append(f"{pad}if {_TYPE_TESTS[kind].format(v=v)}:")
            out.extend(body)

        if "anyOf" in node:
            self.any_of(node["anyOf"], v, depth, out)
        if "$ref" in node:
            out.append(f"{pad}if not {self.ref(node['$ref'])}({v}): return False")

    def equals(self, v: str, values: list[Any]) -> str:
        """A test that ``v`` equals one of ``values`` the way jsonschema's ``equal`` does.

        Strings and numbers (what JSON gives) are looked up in a set; anything else, and any
        enum mixing other values, goes through ``equal`` itself.
        """
        generic = f"any(_equal(e, {v}) for e in {self.named(tuple(values))})"
        if values and all(isinstance(x, str) for x in values):
            return f"({v} in {self.named(frozenset(values))} if {v}.__class__ is str else {generic})"
        if values and all(isinstance(x, int | float) and not isinstance(x, bool) for x in values):
            # a set lookup is ``==``, which equal() also uses for numbers (1.0 equals 1);
            # equal() keeps True/False apart from 1/0, and bool is not int's exact class
            numbers = self.named(frozenset(values))
            return f"({v} in {numbers} if {v}.__class__ is int or {v}.__class__ is float else {generic})"
        return generic

    def _string(self, node: dict[str, Any], v: str, depth: int, out: list[str]) -> None:
        pad = "    " * depth
        if "pattern" in node:
            search = self.named(re.compile(node["pattern"]).search)
            if _FIXED_SHAPE.match(node["pattern"]):
                # times, dates, batch ids: few distinct values, each seen many times
                seen = self.named(_Seen(node["pattern"]))
                out.append(
                    f"{pad}if {v} not in {seen} and not {seen}.add_if({search}({v}), {v}): return False"
                )
            else:
                out.append(f"{pad}if not {search}({v}): return False")
        if "maxLength" in node:
            out.append(f"{pad}if len({v}) > {int(node['maxLength'])}: return False")
        if "minLength" in node:
            out.append(f"{pad}if len({v}) < {int(node['minLength'])}: return False")

    def _number(self, node: dict[str, Any], v: str, depth: int, out: list[str]) -> None:
        pad = "    " * depth
        for key, op in (("minimum", "<"), ("maximum", ">")):
            if key in node:
                bound = node[key]
                if isinstance(bound, bool) or not isinstance(bound, int | float):
                    raise UnsupportedSchemaError(f"{key} {bound!r}")
                out.append(f"{pad}if {v} {op} {self.const(bound)}: return False")

    def _array(self, node: dict[str, Any], v: str, depth: int, out: list[str]) -> None:
        pad = "    " * depth
        if "maxItems" in node:
            out.append(f"{pad}if len({v}) > {int(node['maxItems'])}: return False")
        if "minItems" in node:
            out.append(f"{pad}if len({v}) < {int(node['minItems'])}: return False")
        if "items" in node:
            items = node["items"]
            if isinstance(items, dict) and set(items) - _ANNOTATIONS == {"$ref"}:
                # the common case, a list of objects: one C-level loop over the def's function
                out.append(f"{pad}if not all(map({self.ref(items['$ref'])}, {v})): return False")
                return
            body: list[str] = []
            x = self.var()
            self.node(items, x, depth + 1, body)
            if body:
                out.append(f"{pad}for {x} in {v}:")
                out.extend(body)

    def _object(self, node: dict[str, Any], v: str, depth: int, out: list[str]) -> None:
        pad = "    " * depth
        props = node.get("properties", {})
        required = node.get("required", [])
        if not isinstance(props, dict) or not isinstance(required, list):
            raise UnsupportedSchemaError("properties/required of the wrong shape")
        extra = node.get("additionalProperties", True)
        # a closed object whose keys are all present (what every writer emits) reads all values
        # at once in C; other objects take the key-by-key path
        closed = extra is False and len(props) >= 2 and all(isinstance(k, str) for k in props)
        required_test = " or ".join(f"{self.const(k)} not in {v}" for k in required)
        if required and not (closed and set(required) <= set(props)):
            out.append(f"{pad}if {required_test}: return False")
            required_test = ""
        if extra is False:
            out.append(f"{pad}if not {self.named(frozenset(props))}.issuperset({v}): return False")
        elif extra is not True:
            if not isinstance(extra, dict):
                raise UnsupportedSchemaError(f"additionalProperties {extra!r}")
            body: list[str] = []
            k, x = self.var(), self.var()
            self.node(extra, x, depth + 1, body)
            if body:
                out.append(f"{pad}for {k}, {x} in {v}.items():")
                if props:
                    out.append(f"{pad}    if {k} in {self.named(frozenset(props))}: continue")
                out.extend(body)
        if not closed:
            self._properties(props, set(required), v, depth, out)
            return
        names = [self.var() for _ in props]
        getter = self.named(operator.itemgetter(*props))
        out.append(f"{pad}if len({v}) == {len(props)}:")
        out.append(f"{pad}    {', '.join(names)} = {getter}({v})")
        for x, sub in zip(names, props.values(), strict=True):
            self.node(sub, x, depth + 1, out)
        out.append(f"{pad}else:")
        if required_test:
            out.append(f"{pad}    if {required_test}: return False")
        general: list[str] = []
        self._properties(props, set(required), v, depth + 1, general)
        out.extend(general or [f"{pad}    pass"])

    def _properties(
        self, props: dict[str, Any], required: set[str], v: str, depth: int, out: list[str]
    ) -> None:
        """Each property's checks, reading the properties one by one (absent ones skipped)."""
        pad = "    " * depth
        for key, sub in props.items():
            body: list[str] = []
            x = self.var()
            present = key in required  # checked already, so no ``if present`` block
            self.node(sub, x, depth if present else depth + 1, body)
            if not body:
                continue
            name = self.const(key)
            if present:
                out.append(f"{pad}{x} = {v}[{name}]")
                out.extend(body)
            else:
                out.append(f"{pad}{x} = {v}.get({name}, _M)")
                out.append(f"{pad}if {x} is not _M:")
                out.extend(body)

    def any_of(self, branches: Any, v: str, depth: int, out: list[str]) -> None:
        pad = "    " * depth
        if not isinstance(branches, list) or not branches:
            raise UnsupportedSchemaError("anyOf is not a non-empty array")
        nulls = [b for b in branches if b == {"type": "null"}]
        others = [b for b in branches if b != {"type": "null"}]
        if nulls and len(others) == 1:
            # ``X or null``: null is valid, anything else must be valid for X
            body: list[str] = []
            self.node(others[0], v, depth + 1, body)
            if body:
                out.append(f"{pad}if {v} is not None:")
                out.extend(body)
            return
        names = []
        for branch in branches:
            self.counter += 1
            name = f"a_{self.counter}"
            self.function(name, branch)
            names.append(f"{name}({v})")
        out.append(f"{pad}if not ({' or '.join(names)}): return False")

    def ref(self, ref: Any) -> str:
        if ref == "#":
            return "check"
        prefix = "#/$defs/"
        if not isinstance(ref, str) or not ref.startswith(prefix) or ref[len(prefix) :] not in self.names:
            raise UnsupportedSchemaError(f"$ref {ref!r}")
        return self.names[ref[len(prefix) :]]


#: a pattern for fixed-shape strings: anchored, only character classes, literals and ``{n}``
_FIXED_SHAPE = re.compile(r"^\^(\[[^\]]+\]|\{[0-9]+\}|[-A-Za-z0-9:_T])+\$$")
_SEEN_LIMIT = 65536


class _Seen(set[str]):
    """Strings known to match one fixed-shape pattern (a bounded memo of ``search`` hits)."""

    def __init__(self, pattern: str) -> None:
        super().__init__()
        self.pattern = pattern

    def add_if(self, hit: object, value: str) -> bool:
        if hit is None:
            return False
        if len(self) >= _SEEN_LIMIT:
            self.clear()
        self.add(value)
        return True


class _Missing:
    """A key absent from an object (``None`` is a JSON value)."""


_MISSING = _Missing()
_INF = float("inf")


def _implies(known: str | None, kind: str) -> bool:
    return known == kind or (known == "integer" and kind == "number")
