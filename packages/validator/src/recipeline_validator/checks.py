"""Static checks of one recipe: TOML, the recipe JSON Schema, tsuku's rules, and safety.

Pure: text in, ``RecipeCheck`` out. A recipe that fails here is ``validation_failed/
schema_invalid`` and is never installed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from recipeline_schema import (
    Recipe,
    SafetyVerdict,
    SchemaError,
    parse_recipe_toml,
    recipe_from_toml,
)

from .safety import analyze

#: Executable names (ARCHITECTURE §5); they become file names under ``<prefix>/bin``.
EXECUTABLE_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+-]*$")
#: A pip requirement as a recipe may give it: a distribution name, optional extras and an
#: optional ``==`` pin. Anything else (options, URLs, paths) could steer pip outside the cache.
REQUIREMENT_RE = re.compile(
    r"^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)"
    r"(?:\[[A-Za-z0-9._-]+(?:,[A-Za-z0-9._-]+)*\])?"
    r"(?:==[A-Za-z0-9.!+_-]+)?$"
)


@dataclass(frozen=True, slots=True)
class RecipeCheck:
    """The outcome of the static checks; ``problems`` empty means the recipe may be installed."""

    safety: SafetyVerdict
    recipe: Recipe | None = None
    document: Mapping[str, Any] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems and self.recipe is not None

    @property
    def message(self) -> str:
        """The problems as one line (the first ones when there are many)."""
        shown = "; ".join(self.problems[:3])
        more = len(self.problems) - 3
        return shown + (f" (and {more} more)" if more > 0 else "")


def check_recipe(text: str, file: str = "<recipe>") -> RecipeCheck:
    """Parse, schema-check, rule-check and safety-analyse a recipe's TOML text."""
    try:
        document = parse_recipe_toml(text, file)
    except SchemaError as exc:
        unparsed = SafetyVerdict(auto_merge=False, findings=("recipe does not parse as TOML",))
        return RecipeCheck(safety=unparsed, problems=(str(exc),))
    safety = analyze(document)
    try:
        recipe = recipe_from_toml(text, file)
    except SchemaError as exc:
        return RecipeCheck(safety=safety, document=document, problems=(str(exc),))
    problems = tuple(f"{file}: {problem}" for problem in rule_problems(document))
    return RecipeCheck(safety=safety, recipe=recipe, document=document, problems=problems)


def rule_problems(document: Mapping[str, Any]) -> list[str]:
    """tsuku's rules beyond the schema, for a document that passed it."""
    problems: list[str] = []
    homepage = document["metadata"].get("homepage")
    if isinstance(homepage, str) and homepage and not homepage.startswith("https://"):
        problems.append(f"metadata.homepage: expected an https:// URL, got {homepage!r}")
    verify = document.get("verify")
    if not isinstance(verify, Mapping):
        problems.append("verify: expected a [verify] table with a command")
    else:
        command = verify.get("command")
        if not isinstance(command, str) or not command.strip():
            problems.append("verify.command: expected a non-empty command")
        if "pattern" in verify and "patterns" in verify:
            problems.append("verify: expected `pattern` or `patterns`, not both")
    for number, step in enumerate(document["steps"], start=1):
        problems.extend(f"steps[{number - 1}]: {p}" for p in _step_problems(step))
    return problems


def _step_problems(step: Mapping[str, Any]) -> list[str]:
    problems = [
        f"{key}: path {value!r} must not contain a '..' segment"
        for key, value in _strings(step)
        if ".." in re.split(r"[/\\]", value)
    ]
    if step["action"] == "pipx_install":
        package = step.get("package")
        if not isinstance(package, str) or not REQUIREMENT_RE.match(package):
            problems.append(
                f"package: expected a distribution name (optional [extras] and ==version), got {package!r}"
            )
        executables = step.get("executables")
        if not isinstance(executables, list) or not executables:
            problems.append("executables: expected a non-empty list of executable names")
        else:
            problems.extend(
                f"executables: {exe!r} is not a valid executable name (expected {EXECUTABLE_RE.pattern})"
                for exe in executables
                if not isinstance(exe, str) or not EXECUTABLE_RE.match(exe) or ".." in exe
            )
    return problems


def _strings(value: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(path or "value", value)]
    if isinstance(value, Mapping):
        return [item for k, v in value.items() for item in _strings(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, list):
        return [item for i, v in enumerate(value) for item in _strings(v, f"{path}[{i}]")]
    return []


def distribution_name(requirement: str) -> str:
    """The distribution part of a checked requirement (``black[d]==24.1`` -> ``black``)."""
    match = REQUIREMENT_RE.match(requirement)
    return match.group("name") if match else requirement
