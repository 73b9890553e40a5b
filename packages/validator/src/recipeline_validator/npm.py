"""``npm_install`` in the native backend: resolve with the network, install offline in the sandbox.

Phase 1 (network, no package code runs): ``npm install --global --ignore-scripts`` into a
staging prefix with the prefix's own cache. It resolves the whole dependency tree and leaves
every packument and tarball in the cache. The registry is the one npm's configuration names
(``npm config get registry``), or ``--npm-registry``; phase 2 must use the same URL because
npm's cache is keyed by it.
Phase 2 (network cut): ``npm install --global --offline`` from that cache into
``<prefix>/npm`` with empty npm configuration files; install scripts run here, sandboxed.
Executables are linked from ``<prefix>/npm/bin`` into ``<prefix>/bin``; the version is read
from the installed ``package.json`` (plain JSON, no package code).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from . import sandbox
from .outcome import SandboxOutcome, fail
from .output import cause_line
from .plan import NpmInstall
from .sandbox import REACH_ENV_NAMES, Isolation, Limits

NPM_QUIET = ("--no-audit", "--no-fund", "--no-update-notifier", "--loglevel=error")
#: Environment variables phase 1 may pass to npm besides the basic ones: its configuration.
NPM_ENV_PREFIXES = ("npm_config_", "NPM_CONFIG_")
BASE_ENV_NAMES = REACH_ENV_NAMES | {"PATH", "HOME", "LANG", "LC_ALL", "NODE_EXTRA_CA_CERTS"}
#: Secrets never leave the caller's environment, even under an npm_config_ name (npm reads
#: registry credentials from its own .npmrc files, which phase 1 still sees through HOME).
SECRET_WORDS = ("token", "auth", "password", "secret")


@dataclass(frozen=True, slots=True)
class NpmTools:
    """The npm and node executables of this host (npm's shims need node on PATH)."""

    npm: str
    node: str

    @property
    def node_dir(self) -> str:
        return str(Path(self.node).parent)


def find_npm_tools(path: str | None = None) -> NpmTools | None:
    """npm and node from ``path`` (default PATH), or None when either is missing."""
    npm = shutil.which("npm", path=path)
    node = shutil.which("node", path=path)
    return NpmTools(npm, node) if npm and node else None


def npm_env(caller_env: Mapping[str, str], prefix: Path) -> dict[str, str]:
    """Phase 1's environment: allow-listed variables and npm configuration, never secrets."""
    env = {
        k: v
        for k, v in caller_env.items()
        if (k in BASE_ENV_NAMES or k.startswith(NPM_ENV_PREFIXES))
        and not any(word in k.lower() for word in SECRET_WORDS)
    }
    env.setdefault("PATH", "/usr/bin:/bin")
    env["TMPDIR"] = str(prefix / "tmp")
    return env


def sandbox_env(base: Mapping[str, str], prefix: Path, tools: NpmTools) -> dict[str, str]:
    """Phase 2's environment: the clean one, node on PATH, npm configuration files empty."""
    empty = prefix / "npm-empty.rc"
    empty.touch()
    global_rc = prefix / "npm-empty-global.rc"
    global_rc.touch()
    return dict(base) | {
        "PATH": f"{prefix / 'bin'}:{tools.node_dir}:/usr/bin:/bin",
        "npm_config_userconfig": str(empty),
        "npm_config_globalconfig": str(global_rc),
        "npm_config_update_notifier": "false",
    }


def npm_cause(output: str) -> str:
    """The line of npm's output that says what failed (not ``code E404`` or the log path)."""
    lines = []
    for raw in output.splitlines():
        line = raw.strip()
        for prefix in ("npm error", "npm ERR!"):
            if line.startswith(prefix):
                rest = line.removeprefix(prefix).strip()
                if rest and not rest.startswith(("code ", "errno ", "A complete log", "syscall ", "path ")):
                    lines.append(rest)
    return lines[0] if lines else cause_line(output)


def resolve_registry(
    tools: NpmTools, override: str | None, caller_env: Mapping[str, str], prefix: Path, limits: Limits
) -> str | SandboxOutcome:
    """The registry URL phase 1 and 2 use: ``override``, else what npm's configuration says."""
    if override:
        return override if override.endswith("/") else override + "/"
    done = sandbox.run(
        [tools.npm, "config", "get", "registry"],
        env=npm_env(caller_env, prefix),
        cwd=prefix / "work",
        log=prefix / "logs" / "npm-registry.log",
        limits=limits.for_command(min(60.0, limits.install_timeout)),
    )
    lines = [line.strip() for line in done.output.splitlines() if line.strip().startswith("http")]
    if done.exit_code != 0 or not lines:
        why = "timed out" if done.exit_code is None else npm_cause(done.output)
        return fail("install_failed", f"cannot read the npm registry from npm's configuration: {why}")
    return lines[-1]


def download(
    install: NpmInstall,
    tools: NpmTools,
    registry: str,
    *,
    prefix: Path,
    caller_env: Mapping[str, str],
    limits: Limits,
) -> SandboxOutcome | None:
    """Phase 1: resolve and fetch the package and its dependencies into ``<prefix>/npm-cache``."""
    done = sandbox.run(
        [
            tools.npm,
            "install",
            "--global",
            "--ignore-scripts",
            "--prefix",
            str(prefix / "npm-stage" / str(install.step)),
            "--cache",
            str(prefix / "npm-cache"),
            "--registry",
            registry,
            *NPM_QUIET,
            install.spec,
        ],
        env=npm_env(caller_env, prefix),
        cwd=prefix / "work",
        log=prefix / "logs" / f"npm-download-{install.step}.log",
        limits=limits.for_command(limits.install_timeout),
    )
    if done.exit_code is None:
        return fail(
            "timeout",
            f"npm install {install.spec} (download) did not finish within {limits.install_timeout:g}s",
            category="api_error",
        )
    if done.exit_code != 0:
        return fail("install_failed", f"npm install {install.spec}: {npm_cause(done.output)}")
    return None


def install_offline(
    install: NpmInstall,
    tools: NpmTools,
    registry: str,
    *,
    prefix: Path,
    env: Mapping[str, str],
    limits: Limits,
    isolation: Isolation,
) -> SandboxOutcome | None:
    """Phase 2: install from the cache only, in the sandbox, and link the executables."""
    target = prefix / "npm"
    done = sandbox.run(
        [
            tools.npm,
            "install",
            "--global",
            "--offline",
            "--prefix",
            str(target),
            "--cache",
            str(prefix / "npm-cache"),
            "--registry",
            registry,
            *NPM_QUIET,
            install.spec,
        ],
        env=sandbox_env(env, prefix, tools),
        cwd=prefix / "work",
        log=prefix / "logs" / f"npm-install-{install.step}.log",
        limits=limits.for_command(limits.install_timeout),
        isolation=isolation,
    )
    if done.exit_code is None:
        return fail(
            "install_failed", f"npm install {install.spec} did not finish within {limits.install_timeout:g}s"
        )
    if done.exit_code != 0:
        return fail("install_failed", f"npm install {install.spec}: {npm_cause(done.output)}")
    return _link_executables(install, target, prefix)


def _link_executables(install: NpmInstall, target: Path, prefix: Path) -> SandboxOutcome | None:
    bin_dir = target / "bin"
    provided = sorted(p.name for p in bin_dir.iterdir()) if bin_dir.is_dir() else []
    for exe in install.executables:
        source = bin_dir / exe
        if not source.exists():
            return fail(
                "install_failed",
                f"step {install.step}: executable {exe!r} was not installed by {install.spec} "
                f"(it installed: {', '.join(provided) or 'no executables'})",
            )
        link = prefix / "bin" / exe
        link.unlink(missing_ok=True)
        link.symlink_to(source)
    return None


def installed_version(install: NpmInstall, prefix: Path) -> str | SandboxOutcome:
    """The installed package's version, from its package.json (read as data, never run)."""
    manifest = prefix / "npm" / "lib" / "node_modules" / install.package / "package.json"
    try:
        version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError, AttributeError) as exc:
        return fail("install_failed", f"cannot read the installed version of {install.package}: {exc}")
    if not isinstance(version, str) or not version:
        return fail("install_failed", f"{manifest}: expected a version string")
    return version


def verify_path(prefix: Path, tools: NpmTools | None) -> str:
    """PATH of the verify command: the prefix's bin, node's directory when npm tools run."""
    parts = [str(prefix / "bin")]
    if tools is not None and tools.node_dir not in ("/usr/bin", "/bin"):
        parts.append(tools.node_dir)
    return os.pathsep.join([*parts, "/usr/bin", "/bin"])
