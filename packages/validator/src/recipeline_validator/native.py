"""Backend ``native``: install a recipe's ``pipx_install``/``npm_install`` steps in a throwaway
prefix and verify (npm: see ``npm.py``).

Phase 1 (network): ``pip download --only-binary=:all:`` of each requirement into the prefix's
cache, with pip's own configuration (index, mirrors, proxies, certificates) — ``--index-url``
and ``--find-links`` override it. Wheels only, so no package code runs while the network is up.
Phase 2 (network cut when the host allows): a venv per step, ``pip install --no-index
--find-links <cache>``, the executables linked into ``<prefix>/bin``, the installed version read
from the venv, and the ``[verify]`` command run with ``sh -c`` in a clean environment.

Layout of a prefix: ``cache/`` wheels, ``venvs/<step>/``, ``bin/``, ``home/``, ``tmp/``,
``work/`` (the verify command's working directory), ``logs/``.
"""

from __future__ import annotations

import os
import sys
import venv
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import npm, sandbox
from .npm import NpmTools, find_npm_tools
from .outcome import SandboxOutcome, fail
from .output import cause_line
from .plan import NATIVE_ACTIONS, NativePlan, PipxInstall
from .sandbox import REACH_ENV_NAMES, Isolation, Limits
from .verify import VerifySpec, expand, judge

#: Environment variables phase 1 may pass to pip: its configuration and the ways to reach an
#: index (proxies, certificates, netrc). Nothing else of the caller's environment (tokens!).
PIP_ENV_PREFIXES = ("PIP_",)
PIP_ENV_NAMES = REACH_ENV_NAMES | {
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "ALL_PROXY",
    "all_proxy",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "NETRC",
}
VERSION_SCRIPT = "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))"
VERSION_TIMEOUT = 60.0
PIP_QUIET = ("--no-input", "--disable-pip-version-check", "--progress-bar", "off")


@dataclass(frozen=True, slots=True)
class PipSource:
    """Where phase 1 downloads from; empty means the user's pip configuration decides.

    ``find_links`` without ``index_url`` means ``--no-index``: a local directory must never
    fall back to the configured index behind the operator's back.
    """

    index_url: str | None = None
    find_links: tuple[str, ...] = ()

    def arguments(self) -> list[str]:
        args: list[str] = []
        if self.index_url:
            args += ["--index-url", self.index_url]
        elif self.find_links:
            args.append("--no-index")
        for link in self.find_links:
            args += ["--find-links", link]
        return args


@dataclass(frozen=True, slots=True)
class NativeOptions:
    """Everything the native backend needs besides the recipe."""

    isolation: Isolation
    limits: Limits = field(default_factory=Limits)
    source: PipSource = field(default_factory=PipSource)
    caller_env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    npm_tools: NpmTools | None = field(default_factory=find_npm_tools)
    npm_registry: str | None = None  # default: what npm's configuration says

    def runnable(self) -> frozenset[str]:
        """The actions this host can run natively (npm_install needs npm and node)."""
        return NATIVE_ACTIONS if self.npm_tools is not None else NATIVE_ACTIONS - {"npm_install"}


def pip_env(caller_env: Mapping[str, str], prefix: Path) -> dict[str, str]:
    """Phase 1's environment: the allow-listed variables of the caller, TMPDIR in the prefix."""
    env = {k: v for k, v in caller_env.items() if k in PIP_ENV_NAMES or k.startswith(PIP_ENV_PREFIXES)}
    env.setdefault("PATH", "/usr/bin:/bin")
    env["TMPDIR"] = str(prefix / "tmp")
    return env


def clean_env(prefix: Path) -> dict[str, str]:
    """Phase 2's environment: nothing inherited (no tokens), HOME and TMPDIR inside the prefix."""
    return {
        "PATH": f"{prefix / 'bin'}:/usr/bin:/bin",
        "HOME": str(prefix / "home"),
        "LANG": "C.UTF-8",
        "TMPDIR": str(prefix / "tmp"),
    }


def run_native(plan: NativePlan, spec: VerifySpec, *, prefix: Path, options: NativeOptions) -> SandboxOutcome:
    """Install every step of ``plan`` into ``prefix`` and run the verify ``spec``."""
    for sub in ("cache", "venvs", "bin", "home", "tmp", "work", "logs"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    limits = options.limits
    tools = options.npm_tools if plan.npm else None
    registry = ""
    if plan.npm:
        if tools is None:
            return SandboxOutcome(False, "npm or node not found on PATH", skipped=True)
        found = npm.resolve_registry(tools, options.npm_registry, options.caller_env, prefix, limits)
        if isinstance(found, SandboxOutcome):
            return found
        registry = found
    # phase 1: everything that needs the network, before any package code runs
    for install in plan.installs:
        if isinstance(install, PipxInstall):
            failure = _download(install, prefix, options)
        else:
            assert tools is not None
            failure = npm.download(
                install, tools, registry, prefix=prefix, caller_env=options.caller_env, limits=limits
            )
        if failure is not None:
            return failure
    # phase 2: offline (network namespace when the host allows it)
    env = clean_env(prefix) | {"PATH": npm.verify_path(prefix, tools)}
    version = ""
    for install in plan.installs:
        found_version: str | SandboxOutcome
        if isinstance(install, PipxInstall):
            failure = _install(install, prefix, options)
            found_version = _installed_version(install, prefix, options) if failure is None else ""
        else:
            assert tools is not None
            failure = npm.install_offline(
                install,
                tools,
                registry,
                prefix=prefix,
                env=env,
                limits=limits,
                isolation=options.isolation,
            )
            found_version = npm.installed_version(install, prefix) if failure is None else ""
        if failure is not None:
            return failure
        if isinstance(found_version, SandboxOutcome):
            return found_version
        version = version or found_version
    command = expand(spec.command, version=version, install_dir=str(prefix))
    done = sandbox.run(
        ["/bin/sh", "-c", command],
        env=env,
        cwd=prefix / "work",
        log=prefix / "logs" / "verify.log",
        limits=limits.for_command(limits.timeout),
        isolation=options.isolation,
    )
    if done.exit_code is None:
        return fail("verify_timeout", f"verify command `{command}` did not finish within {limits.timeout:g}s")
    verdict = judge(
        spec, exit_code=done.exit_code, output=done.output, version=version, install_dir=str(prefix)
    )
    if not verdict.passed:
        return fail(verdict.subcategory or "install_failed", verdict.message)
    packages = ", ".join(i.distribution if isinstance(i, PipxInstall) else i.package for i in plan.installs)
    checked = (
        f"matched {list(spec.patterns)}" if spec.patterns else f"exited {spec.exit_code} (mode {spec.mode})"
    )
    return SandboxOutcome(
        True,
        f"installed {packages} {version}; `{command}` {checked}; isolation: {options.isolation.description}",
    )


def _download(install: PipxInstall, prefix: Path, options: NativeOptions) -> SandboxOutcome | None:
    limits = options.limits
    done = sandbox.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--only-binary=:all:",
            "--dest",
            str(prefix / "cache"),
            *PIP_QUIET,
            *options.source.arguments(),
            "--",
            install.requirement,
        ],
        env=pip_env(options.caller_env, prefix),
        cwd=prefix / "work",
        log=prefix / "logs" / f"download-{install.step}.log",
        limits=limits.for_command(limits.install_timeout),
    )
    if done.exit_code is None:
        return fail(
            "timeout",
            f"pip download {install.requirement} did not finish within {limits.install_timeout:g}s",
            category="api_error",
        )
    if done.exit_code != 0:
        return fail("install_failed", f"pip download {install.requirement}: {cause_line(done.output)}")
    return None


def _install(install: PipxInstall, prefix: Path, options: NativeOptions) -> SandboxOutcome | None:
    limits = options.limits
    target = prefix / "venvs" / str(install.step)
    try:
        venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt", clear=True).create(target)
    except (OSError, ValueError) as exc:  # stdlib venv wraps some failures in CalledProcessError
        return fail("install_failed", f"cannot create a virtual environment for {install.requirement}: {exc}")
    env = clean_env(prefix) | {"PIP_CONFIG_FILE": os.devnull}
    done = sandbox.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(target / "bin" / "python"),
            "install",
            "--no-index",
            "--find-links",
            str(prefix / "cache"),
            "--only-binary=:all:",
            "--no-cache-dir",
            "--no-warn-script-location",
            *PIP_QUIET,
            "--",
            install.requirement,
        ],
        env=env,
        cwd=prefix / "work",
        log=prefix / "logs" / f"install-{install.step}.log",
        limits=limits.for_command(limits.install_timeout),
        isolation=options.isolation,
    )
    if done.exit_code is None:
        return fail(
            "install_failed",
            f"pip install {install.requirement} did not finish within {limits.install_timeout:g}s",
        )
    if done.exit_code != 0:
        return fail("install_failed", f"pip install {install.requirement}: {cause_line(done.output)}")
    return _link_executables(install, target, prefix)


def _link_executables(install: PipxInstall, target: Path, prefix: Path) -> SandboxOutcome | None:
    provided = sorted(
        p.name
        for p in (target / "bin").iterdir()
        if not p.name.startswith(("python", "activate", "Activate", "pip"))
    )
    for exe in install.executables:
        source = target / "bin" / exe
        if not source.is_file():
            return fail(
                "install_failed",
                f"step {install.step}: executable {exe!r} was not installed by {install.requirement} "
                f"(it installed: {', '.join(provided) or 'no executables'})",
            )
        link = prefix / "bin" / exe
        link.unlink(missing_ok=True)
        link.symlink_to(source)
    return None


def _installed_version(install: PipxInstall, prefix: Path, options: NativeOptions) -> str | SandboxOutcome:
    """Read the installed distribution's version inside the venv (sandboxed: .pth files run)."""
    timeout = min(VERSION_TIMEOUT, options.limits.install_timeout)
    done = sandbox.run(
        [
            str(prefix / "venvs" / str(install.step) / "bin" / "python"),
            "-c",
            VERSION_SCRIPT,
            install.distribution,
        ],
        env=clean_env(prefix),
        cwd=prefix / "work",
        log=prefix / "logs" / f"version-{install.step}.log",
        limits=options.limits.for_command(timeout),
        isolation=options.isolation,
    )
    lines = done.output.strip().splitlines()
    if done.exit_code != 0 or not lines:
        why = "timed out" if done.exit_code is None else cause_line(done.output)
        return fail("install_failed", f"cannot read the installed version of {install.distribution}: {why}")
    return lines[-1].strip()
