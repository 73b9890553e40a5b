"""``pipx_install`` in the native backend.

Phase 1 (network): ``pip wheel --prefer-binary`` of the requirement into the prefix's cache,
with pip's own configuration (index, mirrors, proxies, certificates) — ``--index-url`` and
``--find-links`` override it. Wheels are taken as published; a package (the requirement or a
dependency) with no wheel for the version pip resolves is built into one here, as pipx would
(its build backend runs, in the sandbox, with the network up). Wheels only would make pip
backtrack to an ancient release that has no such dependency (grip 0.2.1 for grip 4.6.2, whose
docopt publishes no wheel) or fail an sdist-only tool.
Phase 2 (network cut when the host allows): a venv per step, ``pip install --no-index
--find-links <cache>``, the executables linked into ``<prefix>/bin``, the installed version read
from the venv. Phase 1 also asks pip for the index's newest release whatever its
Requires-Python (``pip install --dry-run --ignore-requires-python --report``): when pip picked
an older one, the result records the newest and why (a pass with a recorded skew).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import venv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from .checks import distribution_name
from .outcome import SandboxOutcome, fail
from .output import cause_line
from .runner import Installed, PlannedStep, StepContext, Toolchain, link_executables

if TYPE_CHECKING:
    from .native import NativeOptions

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


class PipxRunner:
    """``pipx_install``: one venv per step, wheels only, with this interpreter's pip."""

    action: ClassVar[str] = "pipx_install"
    needs: ClassVar[tuple[str, ...]] = ("python",)

    def find_toolchain(self, options: NativeOptions) -> Toolchain | str:
        return Toolchain({"python": sys.executable}, {"python": platform.python_version()})

    def download(self, step: PlannedStep, ctx: StepContext) -> SandboxOutcome | None:
        requirement = step.text("package")
        limits = ctx.limits
        done = ctx.run_download(
            [
                ctx.toolchain.path("python"), "-m", "pip", "wheel", "--prefer-binary",
                "--wheel-dir", str(ctx.prefix / "cache"), *PIP_QUIET, *ctx.options.source.arguments(),
                "--", requirement,
            ],
            env=ctx.download_env(names=frozenset({"XDG_CONFIG_HOME", "XDG_CACHE_HOME"}), prefixes=("PIP_",)),
            log=ctx.log("download", step),
        )  # fmt: skip
        if done.exit_code is None:
            return fail(
                "timeout",
                f"pip wheel {requirement} did not finish within {limits.install_timeout:g}s",
                category="api_error",
            )
        if done.exit_code != 0:
            return fail(
                "install_failed", f"pip wheel {requirement}: {cause_line(done.output)}", output=done.output
            )
        self._record_newest(step, ctx)
        return None

    def _record_newest(self, step: PlannedStep, ctx: StepContext) -> None:
        """The newest release on the index whatever its Requires-Python (pip's JSON report of a
        dry run), kept in ``<prefix>/pip-newest-<step>.json``; no answer records nothing."""
        report = newest_file(ctx.prefix, step)
        ctx.run_download(
            [
                ctx.toolchain.path("python"), "-m", "pip", "install", "--dry-run", "--ignore-installed",
                "--no-deps", "--ignore-requires-python", "--only-binary=:all:", "--report", str(report),
                *PIP_QUIET, "--quiet", *ctx.options.source.arguments(), "--",
                distribution_name(step.text("package")),
            ],
            env=ctx.download_env(names=frozenset({"XDG_CONFIG_HOME", "XDG_CACHE_HOME"}), prefixes=("PIP_",)),
            log=ctx.log("pip-newest", step),
        )  # fmt: skip

    def install(self, step: PlannedStep, ctx: StepContext) -> Installed | SandboxOutcome:
        requirement = step.text("package")
        target = ctx.prefix / "venvs" / str(step.step)
        try:
            venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt", clear=True).create(target)
        except (OSError, ValueError) as exc:  # stdlib venv wraps some failures in CalledProcessError
            return fail("install_failed", f"cannot create a virtual environment for {requirement}: {exc}")
        done = ctx.run_offline(
            [
                ctx.toolchain.path("python"), "-m", "pip", "--python", str(target / "bin" / "python"),
                "install", "--no-index", "--find-links", str(ctx.prefix / "cache"), "--only-binary=:all:",
                "--no-cache-dir", "--no-warn-script-location", *PIP_QUIET, "--", requirement,
            ],
            env=ctx.offline_env() | {"PIP_CONFIG_FILE": os.devnull},
            log=ctx.log("install", step),
        )  # fmt: skip
        if done.exit_code is None:
            return fail(
                "install_failed",
                f"pip install {requirement} did not finish within {ctx.limits.install_timeout:g}s",
            )
        if done.exit_code != 0:
            return fail(
                "install_failed", f"pip install {requirement}: {cause_line(done.output)}", output=done.output
            )
        linked = link_executables(
            step,
            target / "bin",
            ctx.prefix,
            what=requirement,
            hidden=("python", "activate", "Activate", "pip"),
        )
        if linked is not None:
            return linked
        installed = _installed_version(distribution_name(requirement), target, step, ctx)
        if isinstance(installed, SandboxOutcome):
            return installed
        return with_newest(installed, newest_file(ctx.prefix, step), platform.python_version())


def newest_file(prefix: Path, step: PlannedStep) -> Path:
    return prefix / f"pip-newest-{step.step}.json"


def with_newest(installed: Installed, report: Path, python_version: str) -> Installed:
    """``installed`` with the index's newest release, and why pip did not pick it (its
    Requires-Python excludes this interpreter, or it has no wheel pip could use here)."""
    try:
        document = json.loads(report.read_text(encoding="utf-8"))
        metadata = document["install"][0]["metadata"]
        newest = str(metadata["version"])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return installed
    note = ""
    if newest != installed.version:
        needs = metadata.get("requires_python") if isinstance(metadata, dict) else None
        note = f"installed {installed.version}, not the newest {newest}"
        if isinstance(needs, str) and needs:
            note += f": {newest} requires Python {needs}, this interpreter is {python_version}"
    return Installed(installed.package, installed.version, newest, note)


def _installed_version(
    distribution: str, target: Path, step: PlannedStep, ctx: StepContext
) -> Installed | SandboxOutcome:
    """Read the installed distribution's version inside the venv (sandboxed: .pth files run)."""
    done = ctx.run_offline(
        [str(target / "bin" / "python"), "-c", VERSION_SCRIPT, distribution],
        env=ctx.offline_env(),
        log=ctx.log("version", step),
    )
    lines = done.output.strip().splitlines()
    if done.exit_code != 0 or not lines:
        why = "timed out" if done.exit_code is None else cause_line(done.output)
        return fail(
            "install_failed",
            f"cannot read the installed version of {distribution}: {why}",
            output=done.output,
        )
    return Installed(distribution, lines[-1].strip())
