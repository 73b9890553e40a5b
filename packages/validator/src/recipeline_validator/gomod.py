"""``go_install`` in the native backend: every module the build needs downloaded, then built offline.

Phase 1 (network, no module code runs; ``go`` builds nothing here):

1. the module and its newest version from the module proxy (``API_BASE_URLS["go"]``,
   ``RECIPELINE_GO_URL`` overrides), by the GOPROXY protocol: the package path may lie below
   the module root, so, like ``go install``, the longest prefix whose ``@v/list`` the proxy
   knows is the module; the newest release of that list (else pre-release, else ``@latest``)
   is the version. ``<version>.mod``'s ``go`` directive above the host's go is this
   environment's gap (skipped, naming both versions), as ``GOTOOLCHAIN=local`` would refuse it;
2. ``go install -n <package>@<version>`` downloads every module the build needs into
   ``GOMODCACHE=<prefix>/cache/go-mod`` (``-n``: plan the build, run nothing), verified against the
   checksum database ``GOSUMDB`` (Go's default ``sum.golang.org`` unless the caller's
   environment sets ``GOSUMDB``; ``GONOSUMDB``, ``GOPRIVATE``, ``GONOPROXY``, ``GOFLAGS`` pass
   too). Go refuses a module zip with unsafe paths here;
3. the module's own ``go.sum`` is checked: ``go mod download`` in a copy of its ``go.mod`` and
   ``go.sum`` under ``<prefix>/stage/go-<step>/`` compares every pinned module with what was
   downloaded (``go install pkg@version`` alone ignores that file).

Phase 2 (network cut): ``go install <package>@<version>`` with ``GOBIN=<prefix>/go/bin``,
``GOFLAGS=-mod=mod``, ``CGO_ENABLED=0`` (pure Go, as tsuku builds) and ``GOPROXY`` the prefix's
own module cache as a ``file://`` proxy: ``GOPROXY=off`` cannot work, because ``go install
pkg@version`` looks up the module's versions for deprecation notices, which ``off`` refuses;
the cache answers that lookup and nothing else is reachable. The binaries need no runtime.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from recipeline_schema import api_base_url
from recipeline_schema.endpoints import EndpointError
from recipeline_schema.http import ApiError

from .checks import EXECUTABLE_RE
from .outcome import SandboxOutcome, fail
from .output import cause_line
from .registry import api_failure, client_for, json_object, newest, older, semver_key
from .runner import Installed, PlannedStep, StepContext, Toolchain, find_programs, link_executables

if TYPE_CHECKING:
    from .native import NativeOptions

#: A module or package path: a domain-like first element, then path elements (``go`` rules, simplified).
PACKAGE_RE = re.compile(
    r"^[a-z0-9][a-z0-9.-]*\.[a-z0-9.-]*[a-z0-9](?:/[A-Za-z0-9_~+-][A-Za-z0-9._~+-]*){0,15}$"
)
#: Go's production checksum database (used unless the caller's environment sets GOSUMDB).
DEFAULT_GOSUMDB = "sum.golang.org"
#: What the result says when the caller turned the checksum database off.
SUMDB_OFF = "GOSUMDB=off: module hashes were checked against go.sum files only, not a checksum database"
#: What phase 1's go may see of the caller's environment besides the basics: checksum and
#: privacy settings (never tokens; GOPROXY is the configured proxy, not the caller's).
GO_ENV_NAMES = frozenset({"GOSUMDB", "GONOSUMDB", "GOPRIVATE", "GONOPROXY", "GOFLAGS"})
#: The oldest go this runner drives (GOTOOLCHAIN=local, ``go -C``).
MIN_GO = "1.21"
#: Fewest path elements a module has (``mvdan.cc/gofumpt``); shorter prefixes are not tried.
MIN_MODULE_ELEMENTS = 2
_GO_DIRECTIVE = re.compile(r"^go\s+(\d+(?:\.\d+){0,2})\S*\s*(?://.*)?$")
_SOURCE_POSITION = re.compile(r"^\S+\.go:\d+(?::\d+)?: ")


def escape_path(path: str) -> str:
    """A module path or version as the proxy protocol and the module cache escape it."""
    return "".join("!" + ch.lower() if "A" <= ch <= "Z" else ch for ch in path)


def proxy_settings(caller_env: Mapping[str, str], proxy: str) -> dict[str, str]:
    """Where phase 1's go downloads from and what checks it: the configured proxy (never the
    caller's GOPROXY, nor ``direct``: no VCS is run), the caller's GOSUMDB else Go's default."""
    return {"GOPROXY": proxy, "GOSUMDB": caller_env.get("GOSUMDB") or DEFAULT_GOSUMDB}


def own_home(caller_env: Mapping[str, str], prefix: Path) -> dict[str, str]:
    """HOME and the XDG directories in the prefix (go writes its telemetry counters under the
    user's config directory), the caller's ``~/.netrc`` still found for a private proxy."""
    home = prefix / "home"
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
    }
    netrc = Path(caller_env["HOME"]) / ".netrc" if caller_env.get("HOME") else None
    if "NETRC" not in caller_env and netrc is not None and netrc.is_file():
        env["NETRC"] = str(netrc)
    return env


def go_directive(go_mod: str) -> str:
    """The version of a go.mod's ``go`` directive (empty when there is none)."""
    for line in go_mod.splitlines():
        m = _GO_DIRECTIVE.match(line.strip())
        if m:
            return m.group(1)
    return ""


def go_cause(output: str) -> str:
    """The line of go's output that says what failed: a checksum mismatch (with both hashes),
    the first compiler error, else go's last ``go:`` line."""
    lines = [" ".join(raw.split()) for raw in output.splitlines() if raw.strip()]
    for n, line in enumerate(lines):
        if line.startswith("verifying ") and "checksum mismatch" in line:
            hashes = [x for x in lines[n + 1 : n + 3] if x.startswith(("downloaded:", "go.sum:"))]
            return line + (f" ({'; '.join(hashes)})" if hashes else "")
    compiler = [line for line in lines if _SOURCE_POSITION.match(line)]
    if compiler:
        return compiler[0]
    gos = [line for line in lines if line.startswith("go: ")]
    return gos[-1] if gos else cause_line(output)


class GoRunner:
    """``go_install``: modules downloaded and checked with the network, ``go install`` offline."""

    action: ClassVar[str] = "go_install"
    needs: ClassVar[tuple[str, ...]] = ("go",)

    def find_toolchain(self, options: NativeOptions) -> Toolchain | str:
        found = find_programs(("go",), options.search_path)
        if isinstance(found, str):
            return found
        # no HOME: go env needs none, and writes no telemetry counters without a config directory
        probe_env = {"PATH": options.search_path or "/usr/bin:/bin", "GOTOOLCHAIN": "local", "GOENV": "off"}
        try:
            done = subprocess.run(
                [found["go"], "env", "GOROOT", "GOVERSION"],
                capture_output=True,
                text=True,
                env=probe_env,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"go does not run ({found['go']} env: {exc})"
        lines = done.stdout.split()
        if done.returncode != 0 or len(lines) != 2 or not lines[1].startswith("go"):
            return f"go does not run ({found['go']} env GOROOT GOVERSION: {cause_line(done.stderr)})"
        # the toolchain's own binary (a launcher such as a Python wrapper has no place in the room)
        real = Path(lines[0]) / "bin" / "go"
        go = str(real) if real.is_file() else found["go"]
        version = re.sub(r"^go", "", lines[1]).split()[0]
        if older(version, MIN_GO):
            return f"go {version} is older than {MIN_GO}, the first with GOTOOLCHAIN and go -C"
        return Toolchain({"go": go}, {"go": version})

    # --- phase 1 ------------------------------------------------------------------------------

    def download(self, step: PlannedStep, ctx: StepContext) -> SandboxOutcome | None:
        package = step.text("module")
        if not PACKAGE_RE.fullmatch(package) or ".." in package.split("/"):
            return fail("schema_invalid", f"step {step.step}: module {package!r} is not a Go package path")
        bad = [exe for exe in step.executables if not EXECUTABLE_RE.fullmatch(exe) or ".." in exe]
        if bad:
            return fail("schema_invalid", f"step {step.step}: executable {bad[0]!r} is not a file name")
        try:
            proxy = api_base_url("go", ctx.options.caller_env)
        except EndpointError as exc:
            return fail("install_failed", f"Go module proxy: {exc}")
        found = self._resolve(package, proxy, ctx)
        if isinstance(found, SandboxOutcome):
            return found
        module, version, go_mod = found
        host = ctx.toolchain.versions.get("go", "")
        needed = go_directive(go_mod)
        if needed and host and older(host, needed):
            return SandboxOutcome(
                False,
                f"step {step.step}: {module}@{version} needs go {needed} (its go.mod's go directive), "
                f"this host has go {host}",
                skipped=True,
            )
        env = (
            self._env(ctx, ctx.download_env(names=GO_ENV_NAMES))
            | proxy_settings(ctx.options.caller_env, proxy)
            | own_home(ctx.options.caller_env, ctx.prefix)
        )
        target = f"{package}@{version}"
        done = ctx.run_download(
            [ctx.toolchain.path("go"), "install", "-n", target], env=env, log=ctx.log("go-download", step)
        )
        failed = _failed(done.exit_code, f"go install -n {target} (download)", done.output, ctx)
        if failed is not None:
            return failed
        checked = self._check_go_sum(step, ctx, env, module, version)
        if checked is not None:
            return checked
        resolved = {"module": module, "package": package, "version": version, "gosumdb": env["GOSUMDB"]}
        (_stage(ctx.prefix, step) / "resolved.json").write_text(json.dumps(resolved), encoding="utf-8")
        return None

    def _resolve(self, package: str, proxy: str, ctx: StepContext) -> tuple[str, str, str] | SandboxOutcome:
        """(module, version, its go.mod) for a package path, as ``go install pkg@latest`` finds them."""
        client = client_for(ctx.options.caller_env)
        elements = package.split("/")
        for count in range(len(elements), MIN_MODULE_ELEMENTS - 1, -1):
            module = "/".join(elements[:count])
            base = f"{proxy}/{escape_path(module)}/@"
            try:
                listed = client.get("go", base + "v/list").body.decode("utf-8", "replace").split()
                version = newest(listed)
                if version is None:
                    # the protocol names no content type for @latest: static hosts serve any
                    latest = json_object(client.get("go", base + "latest").body)
                    version = latest.get("Version") if latest is not None else None
                    if not isinstance(version, str) or semver_key(version) is None:
                        return fail(
                            "bad_response",
                            f"{base}latest: expected a JSON object with a valid 'Version'",
                            category="api_error",
                        )
                go_mod = client.get("go", f"{base}v/{escape_path(version)}.mod").body.decode(
                    "utf-8", "replace"
                )
            except ApiError as exc:
                if exc.subcategory == "not_found":
                    continue  # not a module: try the next shorter prefix, as go does
                return api_failure(exc, f"module {module} from the proxy {proxy}")
            return module, version, go_mod
        return fail(
            "not_found",
            f"{package}: the module proxy {proxy} knows no module for this path or its prefixes",
            category="api_error",
        )

    def _check_go_sum(
        self, step: PlannedStep, ctx: StepContext, env: Mapping[str, str], module: str, version: str
    ) -> SandboxOutcome | None:
        """Check the downloaded modules against the module's own go.sum (when it has one)."""
        source = _mod_cache(ctx.prefix) / f"{escape_path(module)}@{escape_path(version)}"
        stage = _stage(ctx.prefix, step)
        stage.mkdir(parents=True, exist_ok=True)
        if not (source / "go.sum").is_file() or not (source / "go.mod").is_file():
            return None  # a module without dependencies pins nothing
        for name in ("go.mod", "go.sum"):
            shutil.copyfile(source / name, stage / name)
        done = ctx.run_download(
            [ctx.toolchain.path("go"), "-C", str(stage), "mod", "download"],
            env=env,
            log=ctx.log("go-sum", step),
        )
        return _failed(done.exit_code, f"checking the go.sum of {module}@{version}", done.output, ctx)

    # --- phase 2 ------------------------------------------------------------------------------

    def install(self, step: PlannedStep, ctx: StepContext) -> Installed | SandboxOutcome:
        resolved = json.loads((_stage(ctx.prefix, step) / "resolved.json").read_text(encoding="utf-8"))
        package, version = str(resolved["package"]), str(resolved["version"])
        bin_dir = ctx.prefix / "go" / "bin"
        cache = _mod_cache(ctx.prefix) / "cache" / "download"
        env = self._env(ctx, ctx.offline_env()) | {
            "GOBIN": str(bin_dir),
            "GOPROXY": cache.as_uri(),
            "GOSUMDB": "off",  # phase 1 verified every module; phase 2 reads only that cache
            "GOFLAGS": "-mod=mod -modcacherw",
        }
        target = f"{package}@{version}"
        done = ctx.run_offline(
            [ctx.toolchain.path("go"), "install", target], env=env, log=ctx.log("go-install", step)
        )
        if done.exit_code is None:
            return fail(
                "install_failed", f"go install {target} did not finish within {ctx.limits.install_timeout:g}s"
            )
        if done.exit_code != 0:
            return fail("install_failed", f"go install {target}: {go_cause(done.output)}", output=done.output)
        linked = link_executables(step, bin_dir, ctx.prefix, what=target)
        if linked is not None:
            return linked
        number = version.removeprefix("v")  # tsuku's {version} of a Go module has no "v"
        # said once per recipe: by its first go_install step
        first = not any(
            int(p.parent.name[3:]) < step.step for p in ctx.prefix.glob("stage/go-*/resolved.json")
        )
        note = SUMDB_OFF if resolved.get("gosumdb") == "off" and first else ""
        return Installed(package, number, number, note=note)

    def _env(self, ctx: StepContext, base: Mapping[str, str]) -> dict[str, str]:
        """``base`` with Go's state inside the prefix, no toolchain switching, no cgo."""
        cache = ctx.prefix / "cache"
        flags = " ".join(filter(None, [base.get("GOFLAGS", ""), "-modcacherw"]))
        return dict(base) | {
            "GOPATH": str(cache / "go-path"),
            "GOMODCACHE": str(_mod_cache(ctx.prefix)),
            "GOCACHE": str(cache / "go-build"),
            "GOTMPDIR": str(ctx.prefix / "tmp"),
            "GOTOOLCHAIN": "local",
            "GOENV": "off",
            "CGO_ENABLED": "0",
            "GOFLAGS": flags,
        }


def _failed(exit_code: int | None, what: str, output: str, ctx: StepContext) -> SandboxOutcome | None:
    """Phase 1's outcome of a go command: a timeout is transient (it waits on the proxy)."""
    if exit_code is None:
        return fail(
            "timeout", f"{what} did not finish within {ctx.limits.install_timeout:g}s", category="api_error"
        )
    if exit_code != 0:
        return fail("install_failed", f"{what}: {go_cause(output)}", output=output)
    return None


def _stage(prefix: Path, step: PlannedStep) -> Path:
    return prefix / "stage" / f"go-{step.step}"


def _mod_cache(prefix: Path) -> Path:
    return prefix / "cache" / "go-mod"
