"""``npm_install`` in the native backend: resolve with the network, install offline in the sandbox.

Phase 1 (network, no package code runs): ``npm install --global --ignore-scripts`` into a
staging prefix with the prefix's own cache. It resolves the whole dependency tree and leaves
every packument and tarball in the cache. The registry is the one npm's configuration names
(``npm config get registry``), or ``--npm-registry``; phase 2 must use the same URL because
npm's cache is keyed by it.
Phase 2 (network cut): ``npm install --global --offline --ignore-scripts`` from that cache into
``<prefix>/npm`` with empty npm configuration files. No install script runs in either phase:
tsuku's ``npm_install`` installs with ``ignore_scripts`` (its ``npm_exec`` step), so a tool that
works only once a script ran (a download, a native build) does not work for tsuku's users either.
Executables are linked from ``<prefix>/npm/bin`` into ``<prefix>/bin``; the version is read
from the installed ``package.json`` (plain JSON, no package code). Phase 1 also asks the
registry for ``dist-tags.latest`` and its ``engines`` (``npm view <name>@latest``): when npm
installed an older version (it skips versions whose ``engines.node`` this node does not
satisfy), the result records the latest and why (a pass with a recorded skew).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from . import sandbox
from .checks import NPM_SPEC_RE
from .outcome import SandboxOutcome, fail
from .output import cause_line
from .runner import Installed, PlannedStep, StepContext, Toolchain, link_executables
from .sandbox import REACH_ENV_NAMES, Limits

if TYPE_CHECKING:
    from .native import NativeOptions

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


def sandbox_env(base: Mapping[str, str], prefix: Path) -> dict[str, str]:
    """Phase 2's environment: the clean one (node on its PATH), npm configuration files empty."""
    empty = prefix / "npm-empty.rc"
    empty.touch()
    global_rc = prefix / "npm-empty-global.rc"
    global_rc.touch()
    return dict(base) | {
        "npm_config_userconfig": str(empty),
        "npm_config_globalconfig": str(global_rc),
        "npm_config_update_notifier": "false",
    }


#: npm's lines that say where a failure happened, not what it was.
NPM_WHERE = ("code ", "errno ", "signal ", "A complete log", "syscall ", "path ")
#: Lines of a node program's crash that state no cause: stack frames and node's version.
NODE_NOISE = re.compile(r"^(?:at \S.*|Node\.js v\d\S*|\^+)$")


def npm_lines(output: str) -> list[str]:
    """What npm said after its ``npm error`` (npm 10+) or ``npm ERR!`` prefix, in order."""
    lines = []
    for raw in output.splitlines():
        line = raw.strip()
        for prefix in ("npm error", "npm ERR!"):
            if line.startswith(prefix):
                lines.append(line.removeprefix(prefix).strip())
    return lines


def npm_cause(output: str) -> str:
    """What failed, on one line: for a script npm ran (``command failed``), the package, the
    script, how it ended and the cause in the script's own output (``script_cause``); else npm's
    first line that is not where (``code E404``, ``path``, the log pointer)."""
    lines = npm_lines(output)
    if "command failed" in lines:
        return script_cause(lines)
    causes = [line for line in lines if line and not line.startswith(NPM_WHERE)]
    return causes[0] if causes else cause_line(output)


def script_cause(lines: list[str]) -> str:
    """A failed script from npm's lines: ``code N`` (or ``signal S``) and ``path <package dir>``,
    then ``command failed``, ``command sh -c <script>`` and the script's output, e.g.
    ``install script of docsify (`npx husky install`) exited 127: sh: 1: npx: not found``."""
    at = lines.index("command failed")
    rest = lines[at + 1 :]
    shell = rest[0].removeprefix("command ") if rest and rest[0].startswith("command ") else ""
    script = shell.split(" -c ", 1)[1] if " -c " in shell else shell
    said = [line for line in rest[1:] if line and not line.startswith("A complete log")]
    detail = cause_line("\n".join(line for line in said if not NODE_NOISE.match(line)))
    where = next((line.removeprefix("path ") for line in lines[:at] if line.startswith("path ")), "")
    package = where.rsplit("node_modules/", 1)[-1] if "node_modules/" in where else where
    code = next((line for line in lines[:at] if line.startswith(("code ", "signal "))), "")
    ended = code.replace("code ", "exited ", 1).replace("signal ", "was killed by ", 1) or "failed"
    named = f" of {package}" if package else ""
    return f"install script{named} (`{script}`) {ended}: {detail}"


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


def package_name(spec: str) -> str:
    """The package of an npm spec (``@scope/name@1.2`` -> ``@scope/name``)."""
    match = NPM_SPEC_RE.fullmatch(spec)
    return match.group("name") if match else spec


def _version_of(program: str) -> str:
    try:
        done = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip().removeprefix("v") if done.returncode == 0 else ""


class NpmRunner:
    """``npm_install``: resolved with the network (no scripts), installed offline from the cache.

    The registry is resolved once per recipe in phase 1 and kept in ``<prefix>/npm-registry``,
    because npm's cache is keyed by its URL and phase 2 must use the same one.
    """

    action: ClassVar[str] = "npm_install"
    needs: ClassVar[tuple[str, ...]] = ("node",)

    def find_toolchain(self, options: NativeOptions) -> Toolchain | str:
        tools = options.npm_tools
        if tools is None:
            return "npm or node not found on PATH"
        versions = {"node": _version_of(tools.node), "npm": _version_of(tools.npm)}
        return Toolchain({"node": tools.node, "npm": tools.npm}, versions, runtime=("node",))

    def download(self, step: PlannedStep, ctx: StepContext) -> SandboxOutcome | None:
        tools = NpmTools(ctx.toolchain.path("npm"), ctx.toolchain.path("node"))
        found = resolve_registry(
            tools, ctx.options.npm_registry, ctx.options.caller_env, ctx.prefix, ctx.limits
        )
        if isinstance(found, SandboxOutcome):
            return found
        (ctx.prefix / "npm-registry").write_text(found, encoding="utf-8")
        spec = step.text("package")
        done = ctx.run_download(
            [
                tools.npm, "install", "--global", "--ignore-scripts",
                "--prefix", str(ctx.prefix / "npm-stage" / str(step.step)),
                "--cache", str(ctx.prefix / "npm-cache"), "--registry", found, *NPM_QUIET, spec,
            ],
            env=npm_env(ctx.options.caller_env, ctx.prefix),
            log=ctx.log("npm-download", step),
        )  # fmt: skip
        if done.exit_code is None:
            return fail(
                "timeout",
                f"npm install {spec} (download) did not finish within {ctx.limits.install_timeout:g}s",
                category="api_error",
            )
        if done.exit_code != 0:
            return fail("install_failed", f"npm install {spec}: {npm_cause(done.output)}")
        self._record_latest(step, ctx, tools, found)
        return None

    def _record_latest(self, step: PlannedStep, ctx: StepContext, tools: NpmTools, registry: str) -> None:
        """Ask the registry for ``dist-tags.latest`` and its ``engines`` (``npm view``), kept in
        ``<prefix>/npm-latest-<step>.json`` for phase 2; without an answer nothing is recorded."""
        name = package_name(step.text("package"))
        done = ctx.run_download(
            [
                tools.npm, "view", f"{name}@latest", "version", "engines", "--json",
                "--cache", str(ctx.prefix / "npm-cache"), "--registry", registry, *NPM_QUIET,
            ],
            env=npm_env(ctx.options.caller_env, ctx.prefix),
            log=ctx.log("npm-latest", step),
        )  # fmt: skip
        if done.exit_code == 0:
            latest_file(ctx.prefix, step).write_text(done.output, encoding="utf-8")

    def install(self, step: PlannedStep, ctx: StepContext) -> Installed | SandboxOutcome:
        spec = step.text("package")
        registry = (ctx.prefix / "npm-registry").read_text(encoding="utf-8")
        target = ctx.prefix / "npm"
        done = ctx.run_offline(
            [
                ctx.toolchain.path("npm"), "install", "--global", "--offline", "--ignore-scripts",
                "--prefix", str(target),
                "--cache", str(ctx.prefix / "npm-cache"), "--registry", registry, *NPM_QUIET, spec,
            ],
            env=sandbox_env(ctx.offline_env(), ctx.prefix),
            log=ctx.log("npm-install", step),
        )  # fmt: skip
        if done.exit_code is None:
            return fail(
                "install_failed", f"npm install {spec} did not finish within {ctx.limits.install_timeout:g}s"
            )
        if done.exit_code != 0:
            return fail("install_failed", f"npm install {spec}: {npm_cause(done.output)}")
        linked = link_executables(step, target / "bin", ctx.prefix, what=spec)
        if linked is not None:
            return linked
        installed = installed_version(package_name(spec), ctx.prefix)
        if isinstance(installed, SandboxOutcome):
            return installed
        return with_latest(installed, latest_file(ctx.prefix, step), ctx.toolchain.versions.get("node", ""))


def latest_file(prefix: Path, step: PlannedStep) -> Path:
    return prefix / f"npm-latest-{step.step}.json"


def with_latest(installed: Installed, answer: Path, node_version: str) -> Installed:
    """``installed`` with the registry's latest version, and why it was not the one installed
    (npm picks the newest version whose ``engines.node`` this node satisfies)."""
    try:
        view = json.loads(answer.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return installed
    # ``npm view <name>@latest version engines --json`` answers an object, or only the version's
    # string when that version declares no engines
    latest = view.get("version") if isinstance(view, dict) else view
    if not isinstance(latest, str) or not latest:
        return installed
    note = ""
    if latest != installed.version:
        engines = view.get("engines") if isinstance(view, dict) else None
        needs = engines.get("node") if isinstance(engines, dict) else None
        note = f"installed {installed.version}, not the latest {latest}"
        if isinstance(needs, str) and needs:
            note += f": {latest} needs node {needs}, this host has node {node_version or 'unknown'}"
    return Installed(installed.package, installed.version, latest, note, installed.libraries)


def installed_version(package: str, prefix: Path) -> Installed | SandboxOutcome:
    """The installed package's version and its dependencies' (``libraries``), from their
    package.json files (read as data, never run)."""
    root = prefix / "npm" / "lib" / "node_modules"
    manifest = root / package / "package.json"
    try:
        document = json.loads(manifest.read_text(encoding="utf-8"))
        version = document.get("version")
    except (OSError, ValueError, AttributeError) as exc:
        return fail("install_failed", f"cannot read the installed version of {package}: {exc}")
    if not isinstance(version, str) or not version:
        return fail("install_failed", f"{manifest}: expected a version string")
    needs = document.get("dependencies")
    libraries = []
    for name in sorted(needs) if isinstance(needs, dict) else ():
        # npm nests a global package's dependencies in its own node_modules (hoisted beside it
        # only by older layouts)
        for place in (root / package / "node_modules" / name, root / name):
            try:
                found = json.loads((place / "package.json").read_text(encoding="utf-8")).get("version")
            except (OSError, ValueError, AttributeError):
                continue
            if isinstance(found, str) and found:
                libraries.append((name, found))
            break
    return Installed(package, version, libraries=tuple(libraries))
