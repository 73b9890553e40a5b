"""Which steps of a recipe apply to an environment, and what the native backend will run.

Pure: a checked ``Recipe`` and an ``Environment`` in, a ``NativePlan`` out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from recipeline_schema import Environment, Recipe, Step

from .checks import NPM_SPEC_RE, distribution_name

#: The actions the native backend can run; any other applicable step makes the recipe skipped.
NATIVE_ACTIONS: frozenset[str] = frozenset({"pipx_install", "npm_install"})

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
class PipxInstall:
    """One ``pipx_install`` step to run: a requirement and the executables it must provide."""

    step: int  # 1-based position in the recipe
    requirement: str
    executables: tuple[str, ...]

    @property
    def distribution(self) -> str:
        return distribution_name(self.requirement)


@dataclass(frozen=True, slots=True)
class NpmInstall:
    """One ``npm_install`` step to run: a package spec and the executables it must provide."""

    step: int
    spec: str  # name, optionally @version (checked against NPM_SPEC_RE)
    executables: tuple[str, ...]

    @property
    def package(self) -> str:
        match = NPM_SPEC_RE.match(self.spec)
        return match.group("name") if match else self.spec


Install = PipxInstall | NpmInstall


@dataclass(frozen=True, slots=True)
class NativePlan:
    """What to install for one environment, or why the native backend cannot (``skip_reason``)."""

    installs: tuple[Install, ...] = ()
    skip_reason: str = ""

    @property
    def pip(self) -> tuple[PipxInstall, ...]:
        return tuple(i for i in self.installs if isinstance(i, PipxInstall))

    @property
    def npm(self) -> tuple[NpmInstall, ...]:
        return tuple(i for i in self.installs if isinstance(i, NpmInstall))


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


def native_plan(recipe: Recipe, env: Environment, runnable: frozenset[str] = NATIVE_ACTIONS) -> NativePlan:
    """The installs the native backend runs for ``recipe`` in ``env``, or why it skips it.

    ``runnable`` is what this host can run (``npm_install`` needs npm and node on PATH).
    """
    steps = applicable_steps(recipe, env)
    if not steps:
        return NativePlan(skip_reason=f"no step of the recipe applies to {env.id}")
    unsupported = [f"step {n}: {step.action}" for n, step in steps if step.action not in runnable]
    if unsupported:
        return NativePlan(
            skip_reason="the native backend cannot run " + ", ".join(unsupported) + " here (it runs "
            f"{', '.join(sorted(runnable)) or 'nothing'}); not validated in {env.id}"
        )
    installs: list[Install] = []
    for n, step in steps:
        executables = tuple(str(e) for e in step.params["executables"])
        if step.action == "npm_install":
            installs.append(NpmInstall(step=n, spec=str(step.params["package"]), executables=executables))
        else:
            installs.append(
                PipxInstall(step=n, requirement=str(step.params["package"]), executables=executables)
            )
    return NativePlan(installs=tuple(installs))
