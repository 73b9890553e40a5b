"""Which steps of a recipe apply to an environment, and what the native backend will run.

Pure: a checked ``Recipe`` and an ``Environment`` in, a ``NativePlan`` out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from recipeline_schema import Environment, Recipe, Step

from .runner import PlannedStep

#: tsuku names architectures as Go does; environments use the kernel's names.
GO_ARCH = {"x86_64": "amd64", "arm64": "arm64"}
PACKAGE_MANAGER = {
    "debian": "apt",
    "rhel": "dnf",
    "arch": "pacman",
    "suse": "zypper",
    "alpine": "apk",
}


@dataclass(frozen=True, slots=True)
class NativePlan:
    """What to install for one environment, or why the native backend cannot (``skip_reason``)."""

    installs: tuple[PlannedStep, ...] = ()
    skip_reason: str = ""


def _values(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v).lower() for v in value]
    return [str(value).lower()]


def step_applies(when: Mapping[str, Any] | None, env: Environment) -> bool:
    """True when every condition of a step's ``when`` holds for ``env`` (no ``when``: always)."""
    if not when:
        return True
    arch_names = {env.arch, GO_ARCH[env.arch]}
    facts: dict[str, set[str]] = {
        "os": {env.os},
        "arch": arch_names,
        "libc": {env.libc} if env.libc else set(),
        "linux_family": {env.family} if env.family else set(),
        "package_manager": {PACKAGE_MANAGER[env.family] if env.family else "brew"},
        "platform": {f"{env.os}/{a}" for a in arch_names} | {f"{env.os}-{a}" for a in arch_names},
    }
    for key, wanted in when.items():
        have = facts.get(key)
        if have is None or not have.intersection(_values(wanted)):
            return False
    return True


def applicable_steps(recipe: Recipe, env: Environment) -> list[tuple[int, Step]]:
    """The (1-based number, step) pairs that run in ``env``."""
    return [(n, step) for n, step in enumerate(recipe.steps, start=1) if step_applies(step.when, env)]


def native_plan(
    recipe: Recipe,
    env: Environment,
    runnable: frozenset[str] | None = None,
    unavailable: Mapping[str, str] | None = None,
) -> NativePlan:
    """The steps the native backend runs for ``recipe`` in ``env``, or why it skips it.

    ``runnable`` is every action the backend has a runner for (default: all of them);
    ``unavailable`` maps an action to why this host cannot run it now (its toolchain is
    missing, or it runs on macOS only): an environment's limit, not the recipe's failure.
    """
    if runnable is None:
        from .native import NATIVE_ACTIONS

        runnable = NATIVE_ACTIONS
    steps = applicable_steps(recipe, env)
    if not steps:
        return NativePlan(skip_reason=f"no step of the recipe applies to {env.id}")
    unsupported = [f"step {n}: {step.action}" for n, step in steps if step.action not in runnable]
    if unsupported:
        return NativePlan(
            skip_reason="the native backend cannot run " + ", ".join(unsupported) + " here (it runs "
            f"{', '.join(sorted(runnable)) or 'nothing'}); not validated in {env.id}"
        )
    gaps = unavailable or {}
    blocked = [f"step {n}: {step.action}: {gaps[step.action]}" for n, step in steps if step.action in gaps]
    if blocked:
        return NativePlan(skip_reason=f"not validated in {env.id}: " + "; ".join(blocked))
    return NativePlan(installs=tuple(PlannedStep(n, step.action, step.params) for n, step in steps))
