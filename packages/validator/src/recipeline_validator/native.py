"""Backend ``native``: run a recipe's steps in a throwaway prefix as tsuku's actions do, then verify.

Every action has a runner (``runner.ActionRunner``; registered in ``RUNNERS``, one module per
action family). For one recipe: each step's toolchain is found, then every step downloads
(network up, no package code runs), then every step installs (network cut when the host
allows), then the ``[verify]`` command runs with ``sh -c`` in the clean room: a clean
environment whose PATH holds the prefix's ``bin``, the runtime the recipe's actions declare
(node for npm tools, ...) and the base, nothing else of the host's.

Layout of a prefix: ``cache/`` downloads, ``stage/`` unpacked sources and bottles, ``venvs/``,
``bin/``, ``home/``, ``tmp/``, ``work/`` (the commands' working directory), ``logs/``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recipeline_schema.models import DiscoveredVerify

from . import cleanroom, probes, sandbox
from .cargo import CargoRunner
from .cask import AppBundleRunner
from .cpan import CpanRunner
from .gem import GemRunner
from .gomod import GoRunner
from .homebrew import HomebrewRunner, InstallBinariesRunner
from .npm import NpmRunner, NpmTools, find_npm_tools
from .outcome import SandboxOutcome, fail
from .pipx import PipSource, PipxRunner
from .plan import NativePlan
from .runner import PREFIX_DIRS, ActionRunner, Installed, StepContext, Toolchain
from .sandbox import Isolation, Limits
from .verify import VerifySpec, expand, judge

__all__ = ["NATIVE_ACTIONS", "RUNNERS", "NativeOptions", "PipSource", "clean_env", "run_native"]

#: Every action the native backend runs, by name.
RUNNERS: Mapping[str, ActionRunner] = {
    runner.action: runner
    for runner in (
        PipxRunner(),
        NpmRunner(),
        HomebrewRunner(),
        InstallBinariesRunner(),
        AppBundleRunner(),
        CargoRunner(),
        GoRunner(),
        GemRunner(),
        CpanRunner(),
    )
}
NATIVE_ACTIONS: frozenset[str] = frozenset(RUNNERS)


@dataclass(frozen=True, slots=True)
class NativeOptions:
    """Everything the native backend needs besides the recipe."""

    isolation: Isolation
    limits: Limits = field(default_factory=Limits)
    source: PipSource = field(default_factory=PipSource)
    caller_env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    npm_tools: NpmTools | None = field(default_factory=find_npm_tools)
    npm_registry: str | None = None  # default: what npm's configuration says
    #: where toolchains are looked up (default: the caller's PATH)
    tool_path: str | None = None

    @property
    def search_path(self) -> str | None:
        return self.tool_path or self.caller_env.get("PATH")

    def runnable(self) -> frozenset[str]:
        """Every action the backend has a runner for (see ``unavailable`` for this host's gaps)."""
        return NATIVE_ACTIONS

    def unavailable(self) -> dict[str, str]:
        """Actions whose toolchain this host lacks, each with the reason (found once per options)."""
        return {action: found for action in RUNNERS if isinstance(found := self.toolchain(action), str)}

    def toolchain(self, action: str) -> Toolchain | str:
        """The action's toolchain on this host, or why there is none (cached per search path)."""
        key = (action, self.search_path, self.npm_tools)
        with _TOOLCHAIN_LOCK:
            if key not in _TOOLCHAINS:
                _TOOLCHAINS[key] = RUNNERS[action].find_toolchain(self)
            return _TOOLCHAINS[key]


_TOOLCHAINS: dict[tuple[str, str | None, NpmTools | None], Toolchain | str] = {}
_TOOLCHAIN_LOCK = threading.Lock()


def clean_env(
    prefix: Path, runtime_dirs: Sequence[str] = (), *, build_dirs: Sequence[str] = ()
) -> dict[str, str]:
    """Phase 2's environment (``cleanroom.clean_env``): nothing inherited (no tokens), HOME and
    TMPDIR inside the prefix, PATH the prefix's bin, the declared runtime (programs, linked one by
    one, or a toolchain's own directory), ``build_dirs`` (installs only) and the base utilities."""
    return cleanroom.clean_env(prefix, runtime_dirs, build_dirs=build_dirs)


@dataclass(frozen=True, slots=True)
class _Ran:
    """What the install phase established: the version to verify, and what to record."""

    version: str
    latest_version: str
    toolchain: dict[str, str]
    packages: str
    notes: tuple[str, ...] = ()  # e.g. why the newest release was not the one installed
    libraries: tuple[tuple[str, str], ...] = ()  # the first package's dependencies (name, version)


def run_native(plan: NativePlan, spec: VerifySpec, *, prefix: Path, options: NativeOptions) -> SandboxOutcome:
    """Download, then install every step of ``plan`` into ``prefix``, then run the verify ``spec``."""
    for sub in PREFIX_DIRS:
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    contexts: list[StepContext] = []
    toolchain_versions: dict[str, str] = {}
    runtime: list[str] = []
    programs: set[str] = set()
    for step in plan.installs:
        found = options.toolchain(step.action)
        if isinstance(found, str):  # an environment's gap, not the package's failure
            return SandboxOutcome(False, f"step {step.step}: {step.action}: {found}", skipped=True)
        contexts.append(StepContext(prefix, options, found))
        toolchain_versions |= {k: v for k, v in found.versions.items() if v}
        runtime += [p for p in found.runtime_programs() if p not in runtime]
        programs.update(found.programs.values())
    # phase 1: everything that needs the network, before any package code runs
    for step, ctx in zip(plan.installs, contexts, strict=True):
        failure = RUNNERS[step.action].download(step, ctx)
        if failure is not None:
            return _limited(failure, step.step, ctx)
    # phase 2: offline (network namespace when the host allows it)
    installed: list[Installed] = []
    for step, ctx in zip(plan.installs, contexts, strict=True):
        done = RUNNERS[step.action].install(step, ctx)
        if isinstance(done, SandboxOutcome):
            return _limited(done, step.step, ctx)
        installed.append(done)
    # the first step that knows its version is the recipe's version (tsuku's {version})
    first = next((i for i in installed if i.version), Installed("", ""))
    packages = ", ".join(i.package for i in installed if i.package)
    notes = tuple(i.note for i in installed if i.note)
    ran = _Ran(first.version, first.latest_version, toolchain_versions, packages, notes, first.libraries)
    gap = _undeclared(plan, prefix, options, runtime, programs)
    if gap is not None:
        return (
            fail("undeclared_dependency", gap.message())
            if not ran.version
            else SandboxOutcome(False, gap.message(), subcategory="undeclared_dependency", **_recorded(ran))
        )
    return _verify(plan, spec, prefix=prefix, options=options, ran=ran, runtime=runtime)


def _limited(failure: SandboxOutcome, step: int, ctx: StepContext) -> SandboxOutcome:
    """A failed step whose commands a limit stopped is ``resource_limit``, naming the limit."""
    if failure.passed or failure.skipped or not ctx.limit_hits:
        return failure
    return fail("resource_limit", f"step {step}: {ctx.limit_hits[-1]}: {failure.message}")


def _undeclared(
    plan: NativePlan, prefix: Path, options: NativeOptions, runtime: list[str], programs: set[str]
) -> cleanroom.Gap | None:
    """The first thing the installed tool needs that the clean room lacks (see ``cleanroom``)."""
    path = clean_env(prefix, runtime)["PATH"]
    executables = [exe for step in plan.installs for exe in step.executables]
    gaps = cleanroom.shebang_gaps(prefix, executables, path, options.search_path)
    if not gaps:
        gaps = cleanroom.library_gaps(prefix, cleanroom.provided_libraries(programs))
    return gaps[0] if gaps else None


def _verify(
    plan: NativePlan, spec: VerifySpec, *, prefix: Path, options: NativeOptions, ran: _Ran, runtime: list[str]
) -> SandboxOutcome:
    limits = options.limits
    recorded = _recorded(ran)
    executables = [exe for step in plan.installs for exe in step.executables]
    runs, discovered = _probe(spec, executables, prefix=prefix, options=options, ran=ran, runtime=runtime)
    if discovered is not None:  # the verify the merger commits is the one the recipe is judged by
        spec = VerifySpec(discovered.command, (discovered.pattern,), discovered.mode, discovered.exit_code)
    command = expand(spec.command, version=ran.version, install_dir=str(prefix))
    done = sandbox.run(
        ["/bin/sh", "-c", command],
        env=clean_env(prefix, runtime),
        cwd=prefix / "work",
        log=prefix / "logs" / "verify.log",
        limits=limits.for_command(limits.timeout),
        isolation=options.isolation,
    )
    limited = SandboxOutcome(
        False, f"verify command `{command}` {done.limit}", subcategory="resource_limit", **recorded
    )
    if done.exit_code is None:
        if done.limit:  # stopped by a limit first (a fork bomb spinning until the wall clock)
            return limited
        message = f"verify command `{command}` did not finish within {limits.timeout:g}s"
        return SandboxOutcome(False, message, subcategory="verify_timeout", **recorded)
    verdict = judge(
        spec, exit_code=done.exit_code, output=done.output, version=ran.version, install_dir=str(prefix)
    )
    if not verdict.passed:
        if done.limit:  # a verify that failed after a limit stopped it (or a process of it)
            return limited
        if done.exit_code == 127:
            gap = cleanroom.missing_command(command, clean_env(prefix, runtime)["PATH"], options.search_path)
            if gap is not None:
                return SandboxOutcome(False, gap.message(), subcategory="undeclared_dependency", **recorded)
        message = verdict.message
        if runs and verdict.subcategory == "verify_pattern_mismatch":
            message += f"; no version probe printed {ran.version}: {probes.summary(runs)}"
        return SandboxOutcome(
            False,
            message,
            subcategory=verdict.subcategory or "install_failed",
            output=done.output,
            **recorded,
        )
    checked = (
        f"matched {list(spec.patterns)}" if spec.patterns else f"exited {spec.exit_code} (mode {spec.mode})"
    )
    isolation = options.isolation.description
    notes = "".join(f"; {note}" for note in ran.notes)
    found = " (found by the version probes)" if discovered is not None else ""
    message = (
        f"installed {ran.packages} {ran.version}{notes}; `{command}` {checked}{found}; isolation: {isolation}"
    )
    return SandboxOutcome(True, message, verify=discovered, **recorded)


def _probe(
    spec: VerifySpec,
    executables: Sequence[str],
    *,
    prefix: Path,
    options: NativeOptions,
    ran: _Ran,
    runtime: list[str],
) -> tuple[list[probes.ProbeRun], DiscoveredVerify | None]:
    """Run the version probes of the verify executable in order, as the verify runs (``sh -c`` in
    the clean room, network cut, the sandbox's limits), until one prints the installed version;
    when none does, the help probes in order until one answers (``probes.output_verify``). The
    version probes run and the verify found.

    A probe that runs out of time ends its kind of probing: a tool that waits on one version probe
    (``wait-on version`` waits for a file named ``version``) is asked no other version probe,
    but still its help; a help probe that times out ends the help probes. Nothing is probed
    without a known version.
    """
    exe = probes.probe_executable(spec.command, executables)
    if exe is None or not ran.version:
        return [], None
    limits = options.limits.for_command(min(options.limits.timeout, probes.PROBE_TIMEOUT))

    def probe(number: int, command: str) -> probes.ProbeRun:
        done = sandbox.run(
            ["/bin/sh", "-c", command],
            env=clean_env(prefix, runtime),
            cwd=prefix / "work",
            log=prefix / "logs" / f"probe-{number}.log",
            limits=limits,
            isolation=options.isolation,
        )
        return probes.ProbeRun(command, done.exit_code, done.output, done.limit)

    runs: list[probes.ProbeRun] = []
    for number, command in enumerate(probes.probe_commands(exe), 1):
        runs.append(probe(number, command))
        if runs[-1].exit_code is None:
            break
        found = probes.choose(runs, ran.version)
        if found is not None:
            return runs, found
    for number, command in enumerate(probes.help_commands(exe), len(runs) + 1):
        helped = probe(number, command)
        found = probes.output_verify(helped, exe, runs, ran.libraries)
        if found is not None or helped.exit_code is None:
            return runs, found
    return runs, None


def _recorded(ran: _Ran) -> dict[str, Any]:
    return {
        "installed_version": ran.version,
        "latest_version": ran.latest_version,
        "toolchain": ran.toolchain,
    }
