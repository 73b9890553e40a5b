"""The ``[verify]`` contract of a recipe and the verdict on a verify command's result (pure)."""

from __future__ import annotations

import signal
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .output import cause_line, first_line


@dataclass(frozen=True, slots=True)
class VerifySpec:
    """What the verify command must do: exit with ``exit_code`` and (mode version) print patterns.

    ``patterns`` empty means only the exit code counts (a recipe without pattern, or mode
    ``output``, whose point is that the tool prints no comparable version).
    """

    command: str
    patterns: tuple[str, ...] = ()
    mode: str = "version"
    exit_code: int = 0


@dataclass(frozen=True, slots=True)
class Verdict:
    """``passed``, or the failure's subcategory and one-line message."""

    passed: bool
    subcategory: str | None = None
    message: str = ""


def verify_spec(document: Mapping[str, Any]) -> VerifySpec:
    """The spec from a checked recipe document (``pattern``/``patterns``, ``mode``, ``exit_code``)."""
    raw = document.get("verify")
    verify: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    mode = str(verify.get("mode") or "version")
    patterns: tuple[str, ...] = ()
    if mode != "output":
        if isinstance(verify.get("patterns"), list):
            patterns = tuple(str(p) for p in verify["patterns"])
        elif isinstance(verify.get("pattern"), str):
            patterns = (verify["pattern"],)
    exit_code = verify.get("exit_code", 0)
    return VerifySpec(
        command=str(verify.get("command", "")),
        patterns=patterns,
        mode=mode,
        exit_code=exit_code if isinstance(exit_code, int) else 0,
    )


def expand(text: str, *, version: str, install_dir: str) -> str:
    """Replace tsuku's ``{version}`` and ``{install_dir}`` placeholders."""
    return text.replace("{version}", version).replace("{install_dir}", install_dir)


def judge(spec: VerifySpec, *, exit_code: int, output: str, version: str, install_dir: str) -> Verdict:
    """The verdict for a verify command that finished (timeouts are judged by the caller)."""
    command = expand(spec.command, version=version, install_dir=install_dir)
    if exit_code != spec.exit_code:
        # A verify that ran and answered wrongly is a verify failure (tsuku's exit 7 maps to
        # verify_pattern_mismatch); one killed by a signal (our CPU/memory/file limits) means
        # the installed tool cannot run here at all, which is an install failure.
        return Verdict(
            passed=False,
            subcategory="install_failed" if exit_code < 0 else "verify_pattern_mismatch",
            message=f"verify command `{command}` {exit_text(exit_code)}"
            + (f" (expected {spec.exit_code})" if spec.exit_code else "")
            + f": {cause_line(output)}",
        )
    for pattern in spec.patterns:
        expected = expand(pattern, version=version, install_dir=install_dir)
        if expected not in output:
            return Verdict(
                passed=False,
                subcategory="verify_pattern_mismatch",
                message=f"verify command `{command}`: expected {expected!r} (pattern {pattern!r}) in "
                f"its output, first line was {first_line(output)!r}",
            )
    return Verdict(passed=True)


def exit_text(exit_code: int) -> str:
    """``exited 3`` or ``was killed by SIGXCPU (CPU time limit)`` for a negative return code."""
    if exit_code >= 0:
        return f"exited {exit_code}"
    try:
        name = signal.Signals(-exit_code).name
    except ValueError:
        name = f"signal {-exit_code}"
    why = {
        "SIGXCPU": " (CPU time limit)",
        "SIGXFSZ": " (file size limit)",
        "SIGKILL": " (killed)",
        "SIGSEGV": " (crashed; possibly the memory limit)",
    }.get(name, "")
    return f"was killed by {name}{why}"
