"""tsuku's recipe rules beyond the JSON Schema (pure: a parsed document in, problems out).

The rules follow tsuku's own validator (``tsuku validate``): name, https homepage, known actions
("did you mean"), the parameters each action requires, ``pattern`` xor ``patterns``, ``mode =
"output"`` needs a ``reason``, no ``..`` in path parameters, sha256 format, a verify command for
tools. Dangerous verify commands are not problems but safety findings (``verify_findings``):
tsuku warns about them, and here they send the recipe to a human instead of failing it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

#: Every action tsuku registers (internal/actions), with what it needs. A tuple inside the
#: requirement list means "one of these".
ACTION_PARAMETERS: dict[str, tuple[str | tuple[str, ...], ...]] = {
    # ecosystem installers
    "pipx_install": ("package", "executables"),
    "pip_install": ("package",),
    "npm_install": ("package", "executables"),
    "cargo_install": ("crate", "executables"),
    "gem_install": ("gem", "executables"),
    "go_install": ("module", "executables"),
    "cpan_install": ("distribution", "executables"),
    "nix_install": ("package",),
    "homebrew": ("formula",),
    "homebrew_bottle": ("formula",),
    "homebrew_source": ("formula",),
    "homebrew_relocate": (),
    "app_bundle": ("url", "app_name"),
    # download / extract / install primitives
    "download": ("url",),
    "download_file": ("url",),
    "download_archive": ("url",),
    "github_archive": ("repo", "asset_pattern"),
    "github_file": ("repo", ("asset_pattern", "file")),
    "fossil_archive": ("repo",),
    "hashicorp_release": ("product",),
    "extract": ("archive",),
    "chmod": ("files",),
    "install_binaries": (("binaries", "outputs"),),
    "install_libraries": (),
    "install_program_files": (),
    "install_gem_direct": (),
    "link_dependencies": (),
    "set_rpath": (),
    # code that runs, or changes to the system
    "run_command": ("command",),
    "set_env": ("vars",),
    "apply_patch": (("url", "data"),),
    "apply_patch_file": (),
    "text_replace": ("file", "pattern"),
    "install_shell_init": (),
    "install_completions": (),
    "npm_exec": (),
    "gem_exec": (),
    "pip_exec": (),
    "cargo_build": (),
    "go_build": (),
    "configure_make": (),
    "cmake_build": (),
    "meson_build": (),
    "setup_build_env": (),
    "nix_realize": (),
    "apt_install": ("packages",),
    "apt_repo": (),
    "apt_ppa": (),
    "apk_install": ("packages",),
    "dnf_install": ("packages",),
    "dnf_repo": (),
    "yum_install": ("packages",),
    "pacman_install": ("packages",),
    "zypper_install": ("packages",),
    "brew_install": ("packages",),
    "brew_cask": (),
    "group_add": ("group",),
    "service_enable": ("service",),
    "service_start": ("service",),
    "require_command": ("command",),
    "require_system": (),
    "manual": ("text",),
}
KNOWN_ACTIONS: frozenset[str] = frozenset(ACTION_PARAMETERS)
#: Parameters holding a path (or list of paths) inside the tool's directory.
PATH_PARAMETERS = (
    "dest",
    "archive",
    "binary",
    "src",
    "path",
    "file",
    "files",
    "binaries",
    "outputs",
    "executables",
)
#: Parameters that must be lists of non-empty strings when present.
LIST_PARAMETERS = ("executables", "binaries", "outputs", "files", "packages")
SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")
CHECKSUM_PARAMETERS = ("sha256", "checksum")
VERIFY_MODES = ("version", "output")
RECIPE_TYPES = ("", "tool", "library")
DANGEROUS_SCHEMES = ("javascript:", "data:", "vbscript:")

#: Shell constructs a verify command has no business using, with why (tsuku's list, widened).
DANGEROUS_VERIFY: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\|\s*(?:sudo\s+)?(?:ba|z|k|da)?sh\b"), "pipes into a shell"),
    (re.compile(r"\$\("), "command substitution $( )"),
    (re.compile(r"`"), "command substitution with backticks"),
    (re.compile(r"(?:^|[\s;&|(])rm\s"), "removes files (rm)"),
    (re.compile(r"(?:^|[\s;&|(])(?:eval|exec|source)\s"), "runs arbitrary code (eval/exec/source)"),
    (re.compile(r"(?:^|[\s;&|(])sudo\s"), "uses sudo"),
    (re.compile(r"(?:^|[\s;&|(])(?:curl|wget|nc|ncat|telnet)\s"), "needs the network (curl/wget/nc)"),
    (re.compile(r"\b(?:https?|ftp)://"), "needs the network (a URL)"),
    (re.compile(r"(?<![0-9&])>>?\s*/(?!dev/null\b)"), "writes outside the tool directory (> /...)"),
    (re.compile(r"\|\|"), "conditional execution (||): use exit_code instead"),
    (re.compile(r"&&"), "conditional execution (&&)"),
)


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def suggest_action(name: str) -> str | None:
    """The known action closest to ``name`` (edit distance <= 3, else a prefix), or None."""
    lowered = name.lower().replace("-", "_").strip()
    if lowered in KNOWN_ACTIONS:
        return lowered
    best = min(sorted(KNOWN_ACTIONS), key=lambda known: levenshtein(known, lowered))
    if levenshtein(best, lowered) <= 3:
        return best
    for known in sorted(KNOWN_ACTIONS):
        if lowered and (
            known.startswith(lowered) or (lowered.startswith(known) and len(lowered) - len(known) <= 3)
        ):
            return known
    return None


def rule_problems(document: Mapping[str, Any]) -> list[str]:
    """Every rule broken by a document that passed the recipe schema (field: what is expected)."""
    problems: list[str] = []
    metadata = document.get("metadata")
    meta: Mapping[str, Any] = metadata if isinstance(metadata, Mapping) else {}
    problems += _metadata_problems(meta)
    steps = document.get("steps")
    if isinstance(steps, Sequence) and not isinstance(steps, str):
        for index, step in enumerate(steps):
            if isinstance(step, Mapping):
                problems += [f"steps[{index}].{p}" for p in step_problems(step)]
    if meta.get("type") != "library":
        problems += verify_problems(document.get("verify"))
    return problems


def _metadata_problems(meta: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    name = meta.get("name")
    if isinstance(name, str) and (not name or any(c.isspace() for c in name)):
        problems.append(f"metadata.name: expected a name without spaces (kebab-case), got {name!r}")
    homepage = meta.get("homepage")
    if isinstance(homepage, str) and homepage:
        if not homepage.startswith("https://"):
            problems.append(f"metadata.homepage: expected an https:// URL, got {homepage!r}")
        lowered = homepage.lower()
        problems += [
            f"metadata.homepage: contains the dangerous scheme {scheme!r}"
            for scheme in DANGEROUS_SCHEMES
            if scheme in lowered
        ]
    kind = meta.get("type", "")
    if kind not in RECIPE_TYPES:
        problems.append(f"metadata.type: expected tool or library, got {kind!r}")
    return problems


def step_problems(step: Mapping[str, Any]) -> list[str]:
    """Problems of one step, each starting with the parameter it concerns."""
    action = step.get("action")
    if not isinstance(action, str):
        return ["action: expected an action name"]
    problems: list[str] = []
    if action not in KNOWN_ACTIONS:
        hint = suggest_action(action)
        problems.append(f"action: unknown action {action!r}" + (f" (did you mean {hint!r}?)" if hint else ""))
    else:
        for required in ACTION_PARAMETERS[action]:
            names = required if isinstance(required, tuple) else (required,)
            if not any(_present(step.get(n)) for n in names):
                problems.append(f"{'/'.join(names)}: {action} requires {' or '.join(repr(n) for n in names)}")
    for key in LIST_PARAMETERS:
        value = step.get(key)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)
        ):
            problems.append(f"{key}: expected a list of non-empty strings, got {value!r}")
    for key in PATH_PARAMETERS:
        for value in _string_values(step.get(key)):
            if ".." in re.split(r"[/\\]", value):
                problems.append(f"{key}: path {value!r} must not contain a '..' segment")
    for key in CHECKSUM_PARAMETERS:
        value = step.get(key)
        if (
            isinstance(value, str)
            and "{" not in value
            and not SHA256_RE.fullmatch(value.removeprefix("sha256:"))
        ):
            problems.append(f"{key}: expected 64 hexadecimal characters (sha256), got {value!r}")
    url = step.get("url")
    if isinstance(url, str) and "{" not in url and not url.startswith(("https://", "http://")):
        problems.append(f"url: expected an http(s) URL, got {url!r}")
    return problems


def verify_problems(verify: Any) -> list[str]:
    """Problems of the ``[verify]`` table of a tool recipe."""
    if not isinstance(verify, Mapping):
        return ["verify: expected a [verify] table with a command"]
    problems: list[str] = []
    command = verify.get("command")
    if not isinstance(command, str) or not command.strip():
        problems.append("verify.command: expected a non-empty command")
    if "pattern" in verify and "patterns" in verify:
        problems.append("verify: expected `pattern` or `patterns`, not both")
    patterns = verify.get("patterns")
    if isinstance(patterns, list):
        if not patterns:
            problems.append("verify.patterns: is set but empty; remove it or add an entry")
        problems += [
            f"verify.patterns[{i}]: expected a non-empty pattern" for i, p in enumerate(patterns) if p == ""
        ]
    mode = verify.get("mode", "version")
    if mode not in VERIFY_MODES:
        problems.append(f"verify.mode: expected one of {list(VERIFY_MODES)}, got {mode!r}")
    if mode == "output":
        reason = verify.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            problems.append('verify.reason: mode = "output" needs a reason (why no version can be checked)')
    return problems


def verify_findings(document: Mapping[str, Any]) -> list[str]:
    """Safety findings of the verify commands (``[verify]`` and ``[[verify.additional]]``)."""
    verify = document.get("verify")
    if not isinstance(verify, Mapping):
        return []
    commands: list[tuple[str, Any]] = [("verify.command", verify.get("command"))]
    additional = verify.get("additional")
    if isinstance(additional, list):
        commands += [
            (f"verify.additional[{i}].command", a.get("command"))
            for i, a in enumerate(additional)
            if isinstance(a, Mapping)
        ]
    findings = []
    for where, command in commands:
        if not isinstance(command, str):
            continue
        for pattern, why in DANGEROUS_VERIFY:
            if pattern.search(command):
                findings.append(f"{where}: {why}")
    return findings


def _present(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | Mapping):
        return bool(value)
    return value is not None


def _string_values(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []
