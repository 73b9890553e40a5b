"""The contract between the native backend and the action runners (one module per action family).

The backend (``native.run_native``) runs every applicable step of a recipe in two phases:

1. ``download(step, ctx)`` for every step, network up: resolve the version, fetch what the
   install needs into the prefix (checksums checked). No package code runs in this phase.
2. ``install(step, ctx)`` for every step, network cut (``ctx.isolation``): build or unpack into
   the prefix, put the executables in ``<prefix>/bin``, and report the installed version.

Then the backend runs the recipe's ``[verify]`` in the clean room.

A runner is a small stateless object with:

- ``action``: the tsuku action it runs (``cargo_install``); ``needs``: the toolchains it needs
  (``rust``, ``go``, ``ruby``, ``perl``, ``patchelf``, ``node``, ``python``), which the workflow
  provisions in each distribution's image (``python -m recipeline_validator toolchains``);
- ``find_toolchain(options)``: the host programs it needs, as a ``Toolchain``, or a string saying
  which one is missing or broken (an environment error: the recipe is ``skipped`` in this
  environment with that reason, never failed);
- ``download`` / ``install`` as above. A failed package is data: they return a
  ``SandboxOutcome`` (``outcome.fail``) and raise only for bugs.

Steps of one recipe share the prefix; a step may leave files for a later one (``homebrew``
unpacks the bottle under ``<prefix>/stage/``, ``install_binaries`` links from there).

Every command goes through ``sandbox.run`` (``ctx.run_download`` / ``ctx.run_offline``): its own
PID namespace and cgroup, so nothing it starts outlives it and a limit that stops it is named
(``Completed.limit``, collected in ``ctx.limit_hits``: a failed step then becomes
``resource_limit``). Phase 2 runs in the clean room (``cleanroom``): ``ctx.offline_env()`` is
PATH = ``<prefix>/bin``, this toolchain's ``runtime`` programs (linked one by one, so a node in
``/usr/bin`` brings nothing else of it) and the base utilities; nothing else of the host. An
install command that builds gets what it builds with through ``ctx.offline_env(build=[...])``:
programs (``cc``, ``ld``) or a compiler's directory as a whole (``/usr/bin`` is allowed there);
the verify never sees them. After the installs, the backend reports a linked script whose
``#!`` interpreter, or an ELF file whose shared library, is neither in the prefix nor declared
as ``undeclared_dependency``: declare what the installed tool runs with in
``Toolchain.runtime``.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from . import sandbox
from .cleanroom import clean_env
from .outcome import SandboxOutcome
from .sandbox import REACH_ENV_NAMES, Completed

if TYPE_CHECKING:
    from .native import NativeOptions

#: The directories of a prefix every runner may rely on.
PREFIX_DIRS = ("cache", "stage", "bin", "home", "tmp", "work", "logs")

#: What every download phase may see of the caller's environment besides its own settings:
#: how to reach a registry (proxies, certificates), never tokens.
DOWNLOAD_ENV_NAMES = REACH_ENV_NAMES | {
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "ALL_PROXY",
    "all_proxy",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "NETRC",
}


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """One applicable step of a recipe: its 1-based position, action and parameters."""

    step: int
    action: str
    params: Mapping[str, Any]

    @property
    def executables(self) -> tuple[str, ...]:
        value = self.params.get("executables", ())
        return tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()

    def text(self, key: str) -> str:
        """A string parameter (the rules checked its presence and shape before any install)."""
        return str(self.params.get(key, ""))


@dataclass(frozen=True, slots=True)
class Toolchain:
    """Host programs an action runs with: name -> absolute path, and the versions they report.

    ``runtime`` names the programs the installed tool itself needs to run (``node`` for npm
    tools, ``ruby`` for gems, ``perl`` for CPAN scripts): their directories go on the verify
    command's PATH, and nothing else of the host's.
    """

    programs: Mapping[str, str]
    versions: Mapping[str, str] = field(default_factory=dict)
    runtime: tuple[str, ...] = ()

    def path(self, name: str) -> str:
        return self.programs[name]

    def runtime_programs(self) -> tuple[str, ...]:
        """The runtime programs' paths: what the clean room links onto the verify's PATH."""
        return tuple(self.programs[name] for name in self.runtime)

    def runtime_dirs(self) -> tuple[str, ...]:
        dirs: list[str] = []
        for name in self.runtime:
            parent = str(Path(self.programs[name]).parent)
            if parent not in dirs:
                dirs.append(parent)
        return tuple(dirs)


def find_programs(names: Sequence[str], path: str | None) -> dict[str, str] | str:
    """Absolute paths of ``names`` on ``path``, or a message naming the first one missing."""
    found: dict[str, str] = {}
    for name in names:
        where = shutil.which(name, path=path)
        if where is None:
            return f"{name} not found on PATH"
        found[name] = where
    return found


@dataclass(frozen=True, slots=True)
class Installed:
    """What an install step put in the prefix: which package, its version, the newest one known."""

    package: str
    version: str
    latest_version: str = ""
    #: a recorded skew, e.g. "installed 1.0.0; the latest, 2.0.0, needs node >=99, this host has
    #: node 20.1.0" (part of the result's reason; the pass stands)
    note: str = ""
    #: (name, version) of the package's own dependencies as installed: a tool may print one of
    #: theirs as its version (csso-cli prints its csso library's)
    libraries: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class StepContext:
    """Everything a runner needs for one recipe: the prefix, the options, its toolchain."""

    prefix: Path
    options: NativeOptions
    toolchain: Toolchain
    #: the limits that stopped this recipe's commands (``Completed.limit``; an install's wall
    #: clock too): the backend reports a failed step as ``resource_limit`` when one is here
    limit_hits: list[str] = field(default_factory=list)

    @property
    def limits(self) -> sandbox.Limits:
        return self.options.limits

    def log(self, name: str, step: PlannedStep) -> Path:
        return self.prefix / "logs" / f"{name}-{step.step}.log"

    def download_env(
        self, *, names: frozenset[str] = frozenset(), prefixes: tuple[str, ...] = ()
    ) -> dict[str, str]:
        """Phase 1's environment: the allow-listed caller variables (plus ``names`` and variables
        starting with ``prefixes``, e.g. the tool's own configuration), TMPDIR in the prefix."""
        allowed = DOWNLOAD_ENV_NAMES | names
        env = {
            k: v
            for k, v in self.options.caller_env.items()
            if k in allowed or k.startswith(prefixes or ("\0",))
        }
        env.setdefault("PATH", "/usr/bin:/bin")
        env["TMPDIR"] = str(self.prefix / "tmp")
        return env

    def offline_env(self, *, build: Sequence[str] = ()) -> dict[str, str]:
        """Phase 2's clean environment (``cleanroom``): nothing inherited, HOME and TMPDIR in the
        prefix, PATH the prefix's bin, this toolchain's runtime programs and the base utilities.

        ``build``: programs (or directories) an install command needs besides the runtime, e.g.
        ``cc`` and ``ld`` for cargo: ``offline_env(build=[ctx.toolchain.path("cc"), ...])``, or a
        compiler's directory as a whole (``/usr/bin`` is allowed here, never for the verify).
        """
        return clean_env(self.prefix, self.toolchain.runtime_programs(), build_dirs=build)

    def run_download(self, argv: Sequence[str], *, log: Path, env: Mapping[str, str]) -> Completed:
        """A phase 1 command: network up, install time limit."""
        done = sandbox.run(
            argv,
            env=env,
            cwd=self.prefix / "work",
            log=log,
            limits=self.limits.for_command(self.limits.install_timeout),
        )
        if done.limit:  # a download's timeout stays the registry's (api_error/timeout)
            self.limit_hits.append(done.limit)
        return done

    def run_offline(
        self, argv: Sequence[str], *, log: Path, env: Mapping[str, str], cwd: Path | None = None
    ) -> Completed:
        """A phase 2 command: network cut, install time limit."""
        done = sandbox.run(
            argv,
            env=env,
            cwd=cwd or self.prefix / "work",
            log=log,
            limits=self.limits.for_command(self.limits.install_timeout),
            isolation=self.options.isolation,
        )
        if done.limit or done.timed_out:
            wall = f"killed by the {self.limits.install_timeout:g} s wall-clock limit of an install"
            self.limit_hits.append(done.limit or wall)
        return done


class ActionRunner(Protocol):
    """One tsuku action run natively (see the module docstring)."""

    action: ClassVar[str]
    needs: ClassVar[tuple[str, ...]]

    def find_toolchain(self, options: NativeOptions) -> Toolchain | str: ...

    def download(self, step: PlannedStep, ctx: StepContext) -> SandboxOutcome | None: ...

    def install(self, step: PlannedStep, ctx: StepContext) -> Installed | SandboxOutcome: ...


def link_executables(
    step: PlannedStep, bin_dir: Path, prefix: Path, *, what: str, hidden: tuple[str, ...] = ()
) -> SandboxOutcome | None:
    """Symlink each of the step's executables from ``bin_dir`` into ``<prefix>/bin``.

    An executable the install did not provide is the step's failure, naming what it did provide
    (leaving out names starting with ``hidden``, such as a venv's own ``python``).
    """
    from .outcome import fail

    listed = sorted(p.name for p in bin_dir.iterdir()) if bin_dir.is_dir() else []
    provided = [name for name in listed if not (hidden and name.startswith(hidden))]
    for exe in step.executables:
        source = bin_dir / exe
        if not source.exists():
            return fail(
                "install_failed",
                f"step {step.step}: executable {exe!r} was not installed by {what} "
                f"(it installed: {', '.join(provided) or 'no executables'})",
            )
        link = prefix / "bin" / exe
        link.unlink(missing_ok=True)
        link.symlink_to(source)
    return None
