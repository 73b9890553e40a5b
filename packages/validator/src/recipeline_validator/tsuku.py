"""Backend ``tsuku``: ``tsuku install --sandbox --json --recipe P --target-family F``.

tsuku runs the recipe in its own container sandbox, so this backend runs every action. Its
``--json`` output on failure is ``{"status": "error", "category", "message",
"missing_recipes", "exit_code"}`` (a ``subcategory`` of our taxonomy is used when present).
The category (mapped with ``recipeline_schema.map_legacy``), the exit code and the missing
recipes give the failure — never its text. A run with no JSON is judged by its exit code
(tsuku's codes, ARCHITECTURE §3.3).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recipeline_schema import (
    EXIT_CODES,
    LEGACY_CATEGORY_NAMES,
    TAXONOMY,
    Environment,
    InvalidValueError,
    check_name,
    map_legacy,
)

from . import sandbox
from .outcome import SandboxOutcome, fail
from .output import cause_line
from .sandbox import REACH_ENV_NAMES, Limits

#: tsuku categories ``map_legacy`` knows; anything else is an install failure of this recipe
#: (map_legacy's own default, deterministic_insufficient, is for generation, not validation).
TSUKU_CATEGORIES = LEGACY_CATEGORY_NAMES | {"unsafe_action"}
#: What tsuku (and the container runtime it drives) may see of the caller's environment.
TSUKU_ENV_NAMES = REACH_ENV_NAMES | {
    "PATH",
    "LANG",
    "LC_ALL",
    "DOCKER_HOST",
    "DOCKER_CONFIG",
    "CONTAINER_HOST",
    "XDG_RUNTIME_DIR",
}


@dataclass(frozen=True, slots=True)
class TsukuOptions:
    """A configured tsuku binary and how long one recipe's sandboxed install may take."""

    binary: str
    limits: Limits = field(default_factory=Limits)
    caller_env: Mapping[str, str] = field(default_factory=dict)

    @property
    def wall_seconds(self) -> float:
        return self.limits.install_timeout + self.limits.timeout


def tsuku_command(binary: str, recipe: Path, env: Environment) -> list[str]:
    """The command line for one recipe; ``--target-family`` only for Linux environments."""
    argv = [binary, "install", "--sandbox", "--json", "--recipe", str(recipe)]
    if env.family:
        argv += ["--target-family", env.family]
    return argv


def tsuku_env(caller_env: Mapping[str, str], prefix: Path) -> dict[str, str]:
    """Allow-listed variables (no tokens), a throwaway HOME and TSUKU_HOME in the prefix."""
    env = {k: v for k, v in caller_env.items() if k in TSUKU_ENV_NAMES}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env |= {
        "HOME": str(prefix / "home"),
        "TSUKU_HOME": str(prefix / "tsuku-home"),
        "TMPDIR": str(prefix / "tmp"),
    }
    return env


def run_tsuku(
    text: str, name: str, env: Environment, *, prefix: Path, options: TsukuOptions
) -> SandboxOutcome:
    """Run tsuku's sandboxed install of the recipe ``text`` and judge its result."""
    for sub in ("home", "tsuku-home", "tmp", "work", "logs", "recipe"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    recipe = prefix / "recipe" / f"{name}.toml"
    recipe.write_text(text, encoding="utf-8")
    done = sandbox.run(
        tsuku_command(options.binary, recipe, env),
        env=tsuku_env(options.caller_env, prefix),
        cwd=prefix / "work",
        log=prefix / "logs" / "tsuku.log",
        limits=options.limits.for_command(options.wall_seconds),
    )
    if done.exit_code is None:
        return fail(
            "timeout",
            f"tsuku install --sandbox {name} did not finish within {options.wall_seconds:g}s",
            category="api_error",
        )
    return judge_tsuku(done.exit_code, done.output, name)


def judge_tsuku(exit_code: int, output: str, name: str) -> SandboxOutcome:
    """Pass on exit 0; otherwise the failure from tsuku's JSON, else from its exit code (pure)."""
    if exit_code == 0:
        return SandboxOutcome(True, f"tsuku install --sandbox {name} passed")
    report = last_json_object(output)
    category = str(report.get("category") or "")
    message = str(report.get("message") or "") or cause_line(output)
    code = report.get("exit_code")
    code = code if isinstance(code, int) else exit_code
    missing = tuple(_recipe_names(report.get("missing_recipes")))
    if category in TSUKU_CATEGORIES:
        cat, sub = map_legacy(category, exit_code=code, blocked_by=missing)
        if category == "validation_failed" and sub is None:
            sub = "install_failed"
    elif missing:
        cat, sub = "missing_dep", None
    else:
        cat, sub = EXIT_CODES.get(code, ("validation_failed", "install_failed"))
    given = report.get("subcategory")
    if isinstance(given, str) and cat in TAXONOMY and given in TAXONOMY[cat].subcategories:
        sub = given  # a newer tsuku names the subcategory itself
    if cat == "missing_dep" and missing:
        message = f"missing recipes: {', '.join(missing)}" + (f" ({message})" if message else "")
    outcome = fail(sub, f"tsuku install --sandbox {name} exited {exit_code}: {message}", category=cat)
    return SandboxOutcome(
        False,
        outcome.message,
        outcome.category,
        outcome.subcategory,
        blocked_by=missing if cat == "missing_dep" else (),
        exit_code=code,
    )


def last_json_object(output: str) -> dict[str, Any]:
    """The last line of ``output`` that is a JSON object (tsuku may print progress before it),
    or the whole output when it is one pretty-printed object; ``{}`` when there is none."""
    for line in reversed(output.splitlines()):
        stripped = line.strip()
        if stripped.startswith("{"):
            try:
                value = json.loads(stripped)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    start = output.find("{")
    end = output.rfind("}")
    if 0 <= start < end:
        try:
            value = json.loads(output[start : end + 1])
        except ValueError:
            return {}
        if isinstance(value, dict):
            return value
    return {}


def _recipe_names(value: Any) -> list[str]:
    names = []
    if isinstance(value, list):
        for item in value:
            try:
                names.append(check_name(str(item)))
            except InvalidValueError:
                continue  # never let a malformed name into a failure record
    return sorted(set(names))
