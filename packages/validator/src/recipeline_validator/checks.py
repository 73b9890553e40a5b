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

from . import rules
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
#: An npm package as a recipe may give it: optional scope, a name, an optional exact version.
#: Never a URL, git spec, tarball or path (they would fetch from elsewhere than the registry).
NPM_SPEC_RE = re.compile(
    r"^(?P<name>(?:@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*)(?:@(?P<version>[0-9A-Za-z.+-]+))?$"
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
    """tsuku's rules (``rules.rule_problems``) plus what the native backend relies on: installer
    parameters that cannot steer pip or npm, and executable names that are plain file names."""
    problems = rules.rule_problems(document)
    for index, step in enumerate(document["steps"]):
        problems.extend(f"steps[{index}].{p}" for p in _installer_problems(step))
    return problems


def _installer_problems(step: Mapping[str, Any]) -> list[str]:
    action = step["action"]
    if action not in ("pipx_install", "npm_install"):
        return []
    problems = []
    package = step.get("package")
    if action == "pipx_install" and (not isinstance(package, str) or not REQUIREMENT_RE.fullmatch(package)):
        problems.append(
            f"package: expected a distribution name (optional [extras] and ==version), got {package!r}"
        )
    if action == "npm_install" and (not isinstance(package, str) or not NPM_SPEC_RE.fullmatch(package)):
        problems.append(
            f"package: expected an npm package name (optional @scope/ and @version), got {package!r}"
        )
    executables = step.get("executables")
    if isinstance(executables, list):  # missing or empty: rules.step_problems says so
        problems.extend(
            f"executables: {exe!r} is not a valid executable name (expected {EXECUTABLE_RE.pattern})"
            for exe in executables
            if not isinstance(exe, str) or not EXECUTABLE_RE.fullmatch(exe) or ".." in exe
        )
    return problems


def distribution_name(requirement: str) -> str:
    """The distribution part of a checked requirement (``black[d]==24.1`` -> ``black``)."""
    match = REQUIREMENT_RE.fullmatch(requirement)
    return match.group("name") if match else requirement
