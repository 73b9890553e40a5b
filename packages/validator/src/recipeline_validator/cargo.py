"""``cargo_install`` in the native backend: the crate's source fetched and locked, built offline.

Phase 1 (network, no crate code runs):

1. the registry's sparse index (``API_BASE_URLS["cargo_index"]``, ``RECIPELINE_CARGO_INDEX_URL``
   overrides): ``config.json`` gives the download URL template ``dl``; the crate's index file
   (``1/<n>``, ``2/<n>``, ``3/<c>/<n>``, ``<ab>/<cd>/<name>``) lists its versions, one JSON object
   a line; the newest non-yanked one is taken (releases before pre-releases, as ``cargo
   install`` picks), and a ``rust_version`` above the host's rustc is this environment's gap;
2. the ``.crate`` is downloaded, its sha256 checked against the index's ``cksum``, and unpacked
   with ``archive.extract_tar`` into ``<prefix>/stage/cargo-<step>/``;
3. ``cargo fetch --locked`` downloads its dependencies into ``CARGO_HOME=<prefix>/cache/cargo-home``,
   whose ``config.toml`` makes the registry replace crates-io (unless it is crates-io's own
   index). A crate published without ``Cargo.lock`` gets one from ``cargo generate-lockfile``
   here (the newest compatible dependencies, as ``cargo install`` without ``--locked`` would
   take), and the result says so. Neither command runs build scripts.

Phase 2 (network cut): ``cargo install --path <src> --root <prefix>/cargo --locked --offline``
with that ``CARGO_HOME``; the C linker's directory (``cc``) is on the install's PATH (the clean
room's ``build`` programs), never on the verify's. Build state (``CARGO_HOME``, the target
directory) stays under ``<prefix>/cache/``. The executables are linked
from ``<prefix>/cargo/bin``. The binaries need no runtime.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from recipeline_schema import api_base_url
from recipeline_schema.endpoints import EndpointError
from recipeline_schema.http import ApiError

from .archive import UnsafeArchiveError, extract_tar
from .checks import EXECUTABLE_RE
from .outcome import SandboxOutcome, fail
from .output import cause_line
from .registry import api_failure, client_for, json_object, newest, older, version_number
from .runner import Installed, PlannedStep, StepContext, Toolchain, find_programs, link_executables

if TYPE_CHECKING:
    from .native import NativeOptions

#: crates.io's rule for crate names (ASCII letter first, then letters, digits, ``-``, ``_``).
CRATE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
#: crates.io's own sparse index: no source replacement is written for it (cargo refuses a
#: replacement of crates-io by the same index).
CRATES_IO_INDEX = "https://index.crates.io"
#: The markers ``config.json``'s ``dl`` may hold; without any, ``/{crate}/{version}/download``.
DL_MARKERS = ("{crate}", "{version}", "{prefix}", "{lowerprefix}", "{sha256-checksum}")
#: Phase 1's cargo may see its own network settings (proxies, CA files), never tokens.
CARGO_ENV_NAMES = frozenset({"CARGO_HTTP_CAINFO", "CARGO_HTTP_PROXY", "CARGO_HTTP_TIMEOUT"})
CARGO_QUIET = {"CARGO_TERM_COLOR": "never", "CARGO_TERM_PROGRESS_WHEN": "never"}
TOOL_PROBE_TIMEOUT = 60.0
#: What the result says of a crate published without Cargo.lock.
LOCK_GENERATED = "published without Cargo.lock: its dependencies were resolved at validation"
#: The first cargo that reads sparse registries without an unstable flag.
SPARSE_CARGO = "1.68"


def index_base(environ: Mapping[str, str]) -> str:
    """The sparse index's http(s) URL, no trailing ``/`` (cargo's config adds ``sparse+``)."""
    return api_base_url("cargo_index", environ)


def index_path(crate: str) -> str:
    """Where a crate's index file is, relative to the index root (cargo's documented layout)."""
    return _layout(crate.lower())


def _layout(name: str) -> str:
    if len(name) <= 2:
        return f"{len(name)}/{name}"
    if len(name) == 3:
        return f"3/{name[0]}/{name}"
    return f"{name[:2]}/{name[2:4]}/{name}"


def download_url(dl: str, crate: str, version: str, checksum: str) -> str:
    """The ``.crate`` URL from ``config.json``'s ``dl`` template (cargo's registry rules)."""
    if not any(marker in dl for marker in DL_MARKERS):
        return f"{dl.rstrip('/')}/{quote(crate)}/{quote(version)}/download"
    values = {
        "{crate}": crate,
        "{version}": version,
        "{prefix}": _layout(crate).rsplit("/", 1)[0],
        "{lowerprefix}": index_path(crate).rsplit("/", 1)[0],
        "{sha256-checksum}": checksum,
    }
    for marker, value in values.items():
        dl = dl.replace(marker, value)
    return dl


@dataclass(frozen=True, slots=True)
class CrateVersion:
    """One version of the crate's index file that may be installed."""

    name: str  # as published (the index's spelling: the .crate's directory and URL use it)
    version: str
    checksum: str
    rust_version: str


def pick_version(crate: str, text: str) -> CrateVersion | str:
    """The newest non-yanked version of an index file's lines, or what is wrong with them."""
    entries: dict[str, CrateVersion] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry: Any = json.loads(line)
        except ValueError:
            return f"line {number} is not JSON"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("vers"), str):
            return f"line {number}: expected an object with a 'vers' string"
        if entry.get("yanked") is not False:
            continue  # yanked, or a shape we cannot trust to say it is not
        checksum = entry.get("cksum")
        if not isinstance(checksum, str) or not re.fullmatch(r"[0-9a-f]{64}", checksum):
            return f"line {number} ({entry['vers']}): expected a sha256 'cksum'"
        rust = entry.get("rust_version")
        published = entry.get("name")
        name = published if isinstance(published, str) else crate
        entries[entry["vers"]] = CrateVersion(
            name, entry["vers"], checksum, rust if isinstance(rust, str) else ""
        )
    chosen = newest(entries)
    if chosen is None:
        return f"crate {crate} has no version that is not yanked"
    return entries[chosen]


def _probe(argv: Sequence[str], env: Mapping[str, str]) -> str | None:
    """The first stdout line of a toolchain probe, or ``None`` when it cannot run."""
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, env=dict(env), timeout=TOOL_PROBE_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = done.stdout.strip().splitlines()
    return lines[0].strip() if done.returncode == 0 and lines else None


def cargo_cause(output: str) -> str:
    """The first ``error`` line of cargo's output (the compiler's own message comes first)."""
    for raw in output.splitlines():
        line = " ".join(raw.split())
        if line.startswith("error") and not line.startswith("error: aborting due to"):
            return line
    return cause_line(output)


class CargoRunner:
    """``cargo_install``: the ``.crate`` from the sparse index, dependencies fetched, built offline."""

    action: ClassVar[str] = "cargo_install"
    needs: ClassVar[tuple[str, ...]] = ("rust",)

    def find_toolchain(self, options: NativeOptions) -> Toolchain | str:
        found = find_programs(("cargo", "rustc", "cc"), options.search_path)
        if isinstance(found, str):
            return found
        # rustup's proxies need the caller's rustup settings; the sysroot's own binaries do not
        probe_env = {
            k: v
            for k, v in options.caller_env.items()
            if k in ("HOME", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN", "CARGO_HOME")
        } | {"PATH": options.search_path or "/usr/bin:/bin"}
        sysroot = _probe([found["rustc"], "--print", "sysroot"], probe_env)
        if sysroot is None:
            return f"rustc does not run ({found['rustc']} --print sysroot failed)"
        programs = dict(found)
        for name in ("cargo", "rustc"):
            real = Path(sysroot) / "bin" / name
            if real.is_file():
                programs[name] = str(real)
        versions = {}
        for name in ("cargo", "rustc", "cc"):
            line = _probe([programs[name], "--version"], probe_env)
            if line is None:
                return f"{name} does not run ({programs[name]} --version failed)"
            versions[name] = version_number(line)
        if older(versions["cargo"], SPARSE_CARGO):
            return f"cargo {versions['cargo']} cannot read sparse registries (needs {SPARSE_CARGO} or newer)"
        return Toolchain(programs, versions)

    # --- phase 1 ------------------------------------------------------------------------------

    def download(self, step: PlannedStep, ctx: StepContext) -> SandboxOutcome | None:
        crate = step.text("crate")
        if not CRATE_RE.fullmatch(crate):
            return fail("schema_invalid", f"step {step.step}: crate {crate!r} is not a crate name")
        bad = [exe for exe in step.executables if not EXECUTABLE_RE.fullmatch(exe) or ".." in exe]
        if bad:
            return fail("schema_invalid", f"step {step.step}: executable {bad[0]!r} is not a file name")
        try:
            base = index_base(ctx.options.caller_env)
        except EndpointError as exc:  # a malformed override
            return fail("install_failed", f"cargo registry: {exc}")
        client = client_for(ctx.options.caller_env)
        try:
            config = json_object(client.get("cargo", f"{base}/config.json").body)
            dl = config.get("dl") if config is not None else None
            if not isinstance(dl, str) or not dl:
                return fail(
                    "bad_response",
                    f"{base}/config.json: expected a JSON object with a 'dl' string",
                    category="api_error",
                )
            listing = client.get("cargo", f"{base}/{index_path(crate)}").body.decode("utf-8", "replace")
        except ApiError as exc:
            return api_failure(exc, f"crate {crate} in the index {base}")
        chosen = pick_version(crate, listing)
        if isinstance(chosen, str):
            return fail("bad_response", f"index file of {crate}: {chosen}", category="api_error")
        rustc = ctx.toolchain.versions.get("rustc", "")
        if chosen.rust_version and rustc and older(rustc, chosen.rust_version):
            return SandboxOutcome(
                False,
                f"step {step.step}: {crate} {chosen.version} needs rustc {chosen.rust_version}, this "
                f"host has rustc {rustc}",
                skipped=True,
            )
        crate = chosen.name
        what = f"{crate}-{chosen.version}.crate"
        try:
            data = client.get("cargo", download_url(dl, crate, chosen.version, chosen.checksum)).body
        except ApiError as exc:
            return api_failure(exc, what)
        digest = hashlib.sha256(data).hexdigest()
        if digest != chosen.checksum:
            return fail(
                "install_failed",
                f"{what}: checksum mismatch: sha256 {digest}, the index says {chosen.checksum}",
            )
        archive = ctx.prefix / "cache" / what
        archive.write_bytes(data)
        stage = _stage(ctx.prefix, step)
        try:
            extract_tar(archive, stage)
        except UnsafeArchiveError as exc:
            return fail("install_failed", f"{crate} {chosen.version}: {exc}")
        source = stage / f"{crate}-{chosen.version}"
        if not (source / "Cargo.toml").is_file():
            return fail("install_failed", f"{what}: no {crate}-{chosen.version}/Cargo.toml in the crate")
        return self._fetch(step, ctx, base, crate, chosen.version, source)

    def _fetch(
        self, step: PlannedStep, ctx: StepContext, base: str, crate: str, version: str, source: Path
    ) -> SandboxOutcome | None:
        home = _cargo_home(ctx.prefix)
        home.mkdir(parents=True, exist_ok=True)
        config = "[net]\nretry = 2\n"
        if base != CRATES_IO_INDEX:
            config += (
                '\n[source.crates-io]\nreplace-with = "recipeline"\n\n'
                f'[source.recipeline]\nregistry = "sparse+{base}/"\n'
            )
        (home / "config.toml").write_text(config, encoding="utf-8")
        env = self._env(ctx, ctx.download_env(names=CARGO_ENV_NAMES))
        manifest = str(source / "Cargo.toml")
        generated = not (source / "Cargo.lock").is_file()
        cargo = ctx.toolchain.path("cargo")
        commands = [[cargo, "fetch", "--locked", "--manifest-path", manifest]]
        if generated:
            commands.insert(0, [cargo, "generate-lockfile", "--manifest-path", manifest])
        for argv in commands:
            done = ctx.run_download(argv, env=env, log=ctx.log(f"cargo-{argv[1]}", step))
            if done.exit_code is None:
                return fail(
                    "timeout",
                    f"cargo {argv[1]} of {crate} {version} did not finish within "
                    f"{ctx.limits.install_timeout:g}s",
                    category="api_error",
                )
            if done.exit_code != 0:
                return fail(
                    "install_failed",
                    f"cargo {argv[1]} of {crate} {version}: {cargo_cause(done.output)}",
                    output=done.output,
                )
        resolved = {"crate": crate, "version": version, "source": str(source), "lock_generated": generated}
        (_stage(ctx.prefix, step) / "resolved.json").write_text(json.dumps(resolved), encoding="utf-8")
        return None

    # --- phase 2 ------------------------------------------------------------------------------

    def install(self, step: PlannedStep, ctx: StepContext) -> Installed | SandboxOutcome:
        resolved = json.loads((_stage(ctx.prefix, step) / "resolved.json").read_text(encoding="utf-8"))
        crate, version = str(resolved["crate"]), str(resolved["version"])
        root = ctx.prefix / "cargo"
        # the C linker rustc calls (cc, and the binutils it runs) is on the install's PATH only
        linker_dir = str(Path(ctx.toolchain.path("cc")).parent)
        env = self._env(ctx, ctx.offline_env(build=[linker_dir])) | {
            "CARGO_NET_OFFLINE": "true",
            "CARGO_TARGET_DIR": str(ctx.prefix / "cache" / "cargo-target"),
            "CARGO_INCREMENTAL": "0",
        }
        done = ctx.run_offline(
            [
                ctx.toolchain.path("cargo"), "install", "--path", str(resolved["source"]),
                "--root", str(root), "--locked", "--offline", "--no-track",
            ],
            env=env,
            log=ctx.log("cargo-install", step),
        )  # fmt: skip
        if done.exit_code is None:
            return fail(
                "install_failed",
                f"cargo install {crate} {version} did not finish within {ctx.limits.install_timeout:g}s",
            )
        if done.exit_code != 0:
            return fail(
                "install_failed",
                f"cargo install {crate} {version}: {cargo_cause(done.output)}",
                output=done.output,
            )
        linked = link_executables(step, root / "bin", ctx.prefix, what=f"crate {crate}")
        if linked is not None:
            return linked
        note = LOCK_GENERATED if resolved.get("lock_generated") else ""
        return Installed(crate, version, version, note=note)

    def _env(self, ctx: StepContext, base: Mapping[str, str]) -> dict[str, str]:
        """``base`` with this recipe's CARGO_HOME and the toolchain's rustc (no rustup proxy)."""
        home = {"CARGO_HOME": str(_cargo_home(ctx.prefix)), "RUSTC": ctx.toolchain.path("rustc")}
        return dict(base) | CARGO_QUIET | home


def _stage(prefix: Path, step: PlannedStep) -> Path:
    return prefix / "stage" / f"cargo-{step.step}"


def _cargo_home(prefix: Path) -> Path:
    return prefix / "cache" / "cargo-home"
