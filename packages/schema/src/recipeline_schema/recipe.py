"""tsuku recipes: a typed view, TOML in and out through tomlkit, and the recipe JSON Schema.

A recipe's steps carry action-specific parameters, so ``Step.params`` keeps them as a mapping;
the validator applies tsuku's per-action rules on top of the schema.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import tomlkit
import tomlkit.exceptions

from .ecosystems import NAME_PATTERN
from .errors import DataFileError

_WHEN = {
    "type": "object",
    "properties": {
        "os": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "arch": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "libc": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "platform": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "linux_family": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "package_manager": {"type": "string"},
    },
    "additionalProperties": False,
}
_STRINGS = {"type": "array", "items": {"type": "string"}}

RECIPE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://recipeline.invalid/schemas/recipe.schema.json",
    "title": "tsuku recipe",
    "description": "A tsuku install recipe (TOML), as parsed into JSON values.",
    "type": "object",
    "required": ["metadata", "steps"],
    "properties": {
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "pattern": NAME_PATTERN},
                "description": {"type": "string"},
                "homepage": {"type": "string"},
                "version_format": {"type": "string"},
                "requires_sudo": {"type": "boolean"},
                "tier": {"type": "integer"},
                "type": {"type": "string"},
                "llm_validation": {"type": "string"},
                "curated": {"type": "boolean"},
                "dependencies": _STRINGS,
                "runtime_dependencies": _STRINGS,
                "extra_dependencies": _STRINGS,
                "binaries": _STRINGS,
                "supported_os": _STRINGS,
                "supported_arch": _STRINGS,
                "supported_libc": _STRINGS,
                "unsupported_platforms": _STRINGS,
                "satisfies": {"type": "object"},
            },
            "additionalProperties": True,
        },
        "version": {
            "type": "object",
            "description": "where tsuku resolves the tool's version (source and its parameters)",
            "properties": {
                key: {"type": "string"}
                for key in (
                    "source",
                    "github_repo",
                    "tag_prefix",
                    "module",
                    "formula",
                    "cask",
                    "tap",
                    "url",
                    "version_path",
                    "fossil_repo",
                    "project_name",
                    "version_separator",
                    "timeline_tag",
                )
            },
            "additionalProperties": True,
        },
        "patches": {
            "type": "array",
            "description": "patches applied to sources (url or data, optional sha256 checksum)",
            "items": {
                "type": "object",
                "properties": {
                    "url": {"type": "string"},
                    "data": {"type": "string"},
                    "checksum": {"type": "string"},
                },
                "additionalProperties": True,
            },
        },
        "steps": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["action"],
                "properties": {
                    "action": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                    "when": _WHEN,
                },
                "additionalProperties": True,
            },
        },
        "verify": {
            "type": "object",
            "properties": {
                "command": {"type": "string"},
                "pattern": {"type": "string"},
                "patterns": _STRINGS,
                "mode": {"enum": ["version", "output"]},
                "reason": {"type": "string"},
                "exit_code": {"type": "integer"},
                "version_format": {"type": "string"},
                "additional": {
                    "type": "array",
                    "description": "further verify commands, each with its pattern",
                    "items": {
                        "type": "object",
                        "properties": {"command": {"type": "string"}, "pattern": {"type": "string"}},
                        "additionalProperties": True,
                    },
                },
            },
            "additionalProperties": True,
        },
    },
    "additionalProperties": True,
}


@dataclass(frozen=True, slots=True)
class Step:
    action: str
    params: Mapping[str, Any] = field(default_factory=dict)
    when: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Verify:
    command: str
    pattern: str | None = None
    mode: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Recipe:
    """A recipe as the generator emits it: metadata, steps, verify (and an optional version)."""

    name: str
    description: str
    homepage: str
    steps: tuple[Step, ...]
    verify: Verify | None
    metadata: Mapping[str, Any] = field(default_factory=dict)  # extra metadata keys
    version: Mapping[str, Any] | None = None

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(step.action for step in self.steps)


def recipe_to_toml(recipe: Recipe) -> str:
    """Render ``recipe`` as tsuku TOML; deterministic for equal recipes, values escaped by tomlkit."""
    doc = tomlkit.document()
    meta = tomlkit.table()
    meta.add("name", recipe.name)
    meta.add("description", recipe.description)
    if recipe.homepage:  # optional in tsuku (its own recipes without one exist); never empty
        meta.add("homepage", recipe.homepage)
    for key in sorted(recipe.metadata):
        meta.add(key, _plain(recipe.metadata[key]))
    doc.add("metadata", meta)
    if recipe.version:
        version = tomlkit.table()
        for key in sorted(recipe.version):
            version.add(key, _plain(recipe.version[key]))
        doc.add("version", version)
    steps = tomlkit.aot()
    for step in recipe.steps:
        table = tomlkit.table()
        table.add("action", step.action)
        if step.when:
            inline = tomlkit.inline_table()
            for key in sorted(step.when):
                inline.append(key, _plain(step.when[key]))
            table.add("when", inline)
        for key in step.params:  # builder order is meaningful (package before executables)
            table.add(key, _plain(step.params[key]))
        steps.append(table)
    doc.add("steps", steps)
    if recipe.verify is not None:
        verify = tomlkit.table()
        verify.add("command", recipe.verify.command)
        for key in ("pattern", "mode", "reason"):
            value = getattr(recipe.verify, key)
            if value is not None:
                verify.add(key, value)
        doc.add("verify", verify)
    return tomlkit.dumps(doc)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _duplicate_key(file: str, exc: Exception) -> DataFileError:
    key = str(exc).split('"')[1] if str(exc).count('"') >= 2 else str(exc)
    return DataFileError(file, key, "each key once per table", f"duplicate key {key!r}")


def parse_recipe_toml(text: str, file: str = "<recipe>") -> dict[str, Any]:
    """Parse TOML into plain JSON values; a syntax error becomes a ``DataFileError``."""
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        if isinstance(exc.__cause__, tomlkit.exceptions.KeyAlreadyPresent):  # tomlkit >= 0.14 wraps it
            raise _duplicate_key(file, exc.__cause__) from None
        raise DataFileError(file, f"line {exc.line}, column {exc.col}", "valid TOML", str(exc)) from None
    except tomlkit.exceptions.KeyAlreadyPresent as exc:  # a table's key written twice
        raise _duplicate_key(file, exc) from None
    except tomlkit.exceptions.TOMLKitError as exc:  # any other structural refusal
        raise DataFileError(file, "(document)", "valid TOML", str(exc)) from None
    return copy.deepcopy(doc.unwrap())


def recipe_from_toml(text: str, file: str = "<recipe>") -> Recipe:
    """Read a recipe, checking it against ``RECIPE_SCHEMA`` (errors name the file and path)."""
    from .validation import validate  # local: validation imports contracts, which import this

    data = parse_recipe_toml(text, file)
    validate(RECIPE_SCHEMA, data, file)
    meta = dict(data["metadata"])
    steps = []
    for raw in data["steps"]:
        params = {k: v for k, v in raw.items() if k not in ("action", "when")}
        steps.append(Step(raw["action"], params, raw.get("when")))
    verify_raw = data.get("verify")
    verify = None
    if isinstance(verify_raw, dict) and "command" in verify_raw:
        verify = Verify(
            verify_raw["command"], verify_raw.get("pattern"), verify_raw.get("mode"), verify_raw.get("reason")
        )
    return Recipe(
        name=meta.pop("name"),
        description=meta.pop("description", ""),
        homepage=meta.pop("homepage", ""),
        steps=tuple(steps),
        verify=verify,
        metadata=meta,
        version=data.get("version"),
    )


def recipe_path(name: str) -> str:
    """Repository-relative path of a recipe: ``recipes/<first letter>/<name>.toml``."""
    from .ecosystems import check_name

    check_name(name)
    return f"recipes/{name[0].lower()}/{name}.toml"


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
