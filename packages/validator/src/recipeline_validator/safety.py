"""Safety analysis of a parsed recipe (ARCHITECTURE §6.2): which recipes may auto-merge.

It reads the parsed TOML values, never the text: quoting styles, inline tables, unicode escapes
and comments cannot hide an action from it. Every step counts, including steps whose ``when``
does not apply to the validating environment, because the merged recipe ships all of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from recipeline_schema import SafetyVerdict
from recipeline_schema.ecosystems import ACTION_PACKAGES

from .rules import verify_findings

#: Actions that install from an ecosystem's own package format or place downloaded files, and
#: may therefore merge without a human. Everything else runs arbitrary code or touches the
#: system (run_command, apt/apk/brew/dnf/... installs, *_exec, set_env, patches, shell init,
#: services, builds) or is unknown to us, and needs review.
AUTO_MERGE_ACTIONS: frozenset[str] = frozenset(
    {
        # ecosystem installers
        "pipx_install",
        "npm_install",
        "cargo_install",
        "gem_install",
        "go_install",
        "cpan_install",
        "homebrew",
        "install_binaries",
        "app_bundle",
        # download / extract primitives (files land in the tool's own directory)
        "download",
        "download_file",
        "download_archive",
        "extract",
        "chmod",
        "github_archive",
        "github_file",
        "hashicorp_release",
    }
)

#: Known actions that need review, with why (shown in the finding). Unlisted ones are "unknown".
REVIEW_REASONS: dict[str, str] = {
    "run_command": "runs a shell command",
    "set_env": "changes the environment",
    "apply_patch": "patches sources",
    "apply_patch_file": "patches sources",
    "text_replace": "rewrites files",
    "install_shell_init": "edits shell startup",
    "install_completions": "edits shell startup",
    "service_enable": "manages a service",
    "service_start": "manages a service",
    "group_add": "changes system groups",
    "configure_make": "builds from source",
    "cmake_build": "builds from source",
    "meson_build": "builds from source",
    "cargo_build": "builds from source",
    "go_build": "builds from source",
    "setup_build_env": "builds from source",
    "homebrew_source": "builds from source",
    "npm_exec": "runs package code",
    "gem_exec": "runs package code",
    "pip_exec": "runs package code",
    "nix_install": "uses a system package manager",
    "nix_realize": "uses a system package manager",
    "require_command": "depends on a system command",
    "manual": "needs manual steps",
}
UNKNOWN = "unknown action"
#: The parameter naming the package of each allowed installer: an allowed action is only safe
#: while it installs a package by name (not an option, a URL, a path or a shell word).
PACKAGE_PARAMETER = {action: parameter for action, (_, parameter) in ACTION_PACKAGES.items()}
PLAIN_PACKAGE_RE = re.compile(r"^[A-Za-z0-9_@][A-Za-z0-9._+@/:~\[\],=-]{0,255}$")
SYSTEM_PACKAGE_MANAGERS = ("apt", "apk", "brew", "dnf", "yum", "pacman", "zypper", "snap", "flatpak")


def review_reason(action: str) -> str:
    """Why ``action`` needs a human (empty for an auto-merge action)."""
    if action in AUTO_MERGE_ACTIONS:
        return ""
    if action in REVIEW_REASONS:
        return REVIEW_REASONS[action]
    if action.split("_", 1)[0] in SYSTEM_PACKAGE_MANAGERS:
        return "uses a system package manager"
    if action.endswith("_exec"):
        return "runs package code"
    if action.endswith("_build"):
        return "builds from source"
    return UNKNOWN


def analyze(document: Mapping[str, Any]) -> SafetyVerdict:
    """The verdict for a parsed recipe document (``parse_recipe_toml`` output).

    Findings read ``step 3: run_command (when os=linux)`` (``step 2: frob (unknown action)`` for
    an action we do not know). Malformed steps, an ``action`` anywhere outside the top-level
    steps (inside a ``when``, a parameter table, ``[[metadata.steps]]`` ...), ``[[patches]]``,
    dangerous or networked verify commands and ``requires_sudo`` are findings too, so a document
    that escaped the schema check still cannot auto-merge by accident.
    """
    findings: list[str] = []
    steps = document.get("steps")
    if not isinstance(steps, Sequence) or isinstance(steps, str | bytes) or not steps:
        findings.append("recipe has no [[steps]] list")
        steps = []
    for number, step in enumerate(steps, start=1):
        if not isinstance(step, Mapping):
            findings.append(f"step {number}: not a table")
            continue
        action = step.get("action")
        if not isinstance(action, str) or not action:
            findings.append(f"step {number}: no action name")
        elif action not in AUTO_MERGE_ACTIONS:
            unknown = " (unknown action)" if review_reason(action) == UNKNOWN else ""
            findings.append(f"step {number}: {action}{_when_text(step.get('when'))}{unknown}")
        elif action in PACKAGE_PARAMETER:
            key = PACKAGE_PARAMETER[action]
            value = step.get(key)
            if value is not None and not (isinstance(value, str) and _plain_package(value)):
                findings.append(f"step {number}: {action} {key} {value!r} is not a plain package name")
        for key, value in step.items():
            if key != "action":
                findings += _hidden_actions(value, f"step {number}: {key}")
    for key, value in document.items():
        if key != "steps":
            findings += _hidden_actions(value, key)
    patches = document.get("patches")
    if patches:
        count = len(patches) if isinstance(patches, list) else 1
        findings.append(f"patches: {count} patch(es) applied to the sources")
    findings += verify_findings(document)
    metadata = document.get("metadata")
    if isinstance(metadata, Mapping) and metadata.get("requires_sudo") is True:
        findings.append("metadata: requires_sudo = true")
    return SafetyVerdict(auto_merge=not findings, findings=tuple(findings))


def _plain_package(value: str) -> bool:
    return bool(PLAIN_PACKAGE_RE.fullmatch(value)) and "://" not in value and ".." not in value.split("/")


def _hidden_actions(value: Any, where: str) -> list[str]:
    """Every ``action`` key nested in ``value``: tsuku variants and composite actions may run
    them, and a recipe has no honest reason to put one anywhere but in ``[[steps]]``."""
    found: list[str] = []
    if isinstance(value, Mapping):
        action = value.get("action")
        if "action" in value:
            found.append(f"{where}: action {action!r} outside the top-level [[steps]]")
        for key, inner in value.items():
            if key != "action":
                found += _hidden_actions(inner, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for index, inner in enumerate(value):
            found += _hidden_actions(inner, f"{where}[{index}]")
    return found


def _when_text(when: Any) -> str:
    if not isinstance(when, Mapping) or not when:
        return ""
    parts = []
    for key in sorted(when):
        value = when[key]
        shown = "|".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
        parts.append(f"{key}={shown}")
    return f" (when {', '.join(parts)})"
