"""``homebrew`` and ``install_binaries`` in the native backend, as tsuku's own actions do them.

``homebrew`` (param ``formula``):

- phase 1 (network, in this process): the formula JSON (``<homebrew>/formula/<name>.json``) gives
  ``versions.stable``, ``revision`` and ``bottle.stable.files.<tag>.{url,sha256}`` for this host's
  tag (``x86_64_linux`` / ``arm64_linux``; not ``all``, which tsuku does not take). The file's
  ``url`` names the blob in the OCI registry; its path (``/v2/<repository>/blobs/sha256:<digest>``)
  is kept and its scheme and host are replaced by the configured ``ghcr`` base
  (``RECIPELINE_GHCR_URL``), so a mirror or a test registry serves it. An anonymous token comes
  from ``<ghcr>/token?service=<host>&scope=repository:<repository>:pull``; the blob request
  carries it, and the registry's redirect to its storage host does not (``RegistryBearer``).
  The blob's sha256 must be the formula's; it is unpacked with ``archive.extract_tar`` into
  ``<prefix>/stage/homebrew-<step>/`` (size capped), where the keg is
  ``<formula>/<version>[_<revision>]/``.
- phase 2 (network cut): placeholders are relocated in the keg as tsuku's ``homebrew_relocate``
  does for tools, towards the directory the tool is installed in (here the prefix, tsuku's
  ``tools/<name>-<version>``): in text files (no NUL byte in the first 8 KiB)
  ``@@HOMEBREW_CELLAR@@/<formula>/<keg version>`` and ``@@HOMEBREW_PREFIX@@`` become the prefix,
  a remaining ``@@HOMEBREW_CELLAR@@`` too; ELF files that carry a placeholder get
  ``patchelf --remove-rpath`` then ``--force-rpath --set-rpath '$ORIGIN/../lib'`` (or
  ``$ORIGIN/lib``, or ``$ORIGIN`` when neither directory exists in the keg), and an interpreter
  naming a placeholder becomes the system loader. Binaries are never edited as strings.

``install_binaries`` (``outputs`` or its older name ``binaries``: paths relative to the keg;
``install_mode`` ``binaries`` (default) or ``directory``): as tsuku, ``binaries`` copies each
listed file to ``<prefix>/bin/<basename>`` and nothing else of the keg, ``directory`` copies the
whole keg into the prefix first and links each listed file into ``<prefix>/bin``. So a bottle
binary that needs the bottle's own ``lib/`` runs only in ``directory`` mode, in tsuku as here.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import stat
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote, urlsplit

import requests

from recipeline_schema import EndpointError, api_base_url
from recipeline_schema.http import ApiError, HttpClient

from .archive import UnsafeArchiveError, extract_tar
from .outcome import SandboxOutcome, fail
from .output import cause_line
from .registry import api_failure, client_for
from .runner import PREFIX_DIRS, Installed, PlannedStep, StepContext, Toolchain, find_programs

if TYPE_CHECKING:
    from .native import NativeOptions

#: Bottle tag of this host's architecture (Linux); tsuku's own table.
LINUX_BOTTLE_TAGS = {
    "x86_64": "x86_64_linux",
    "amd64": "x86_64_linux",
    "aarch64": "arm64_linux",
    "arm64": "arm64_linux",
}
#: The loader an ELF interpreter naming a placeholder is set to (tsuku's choice, glibc's paths).
SYSTEM_LOADERS = {"x86_64_linux": "/lib64/ld-linux-x86-64.so.2", "arm64_linux": "/lib/ld-linux-aarch64.so.1"}
#: tsuku's formula name rule (homebrew.go validateFormulaName): no ``/``, ``..`` or ``+``.
FORMULA_RE = re.compile(r"^[A-Za-z0-9_@.-]+$")
REPOSITORY_PATH_RE = re.compile(r"^/v2/(?P<repository>[a-z0-9][a-z0-9._/-]*)/(?:blobs|manifests)/")
BLOB_PATH_RE = re.compile(
    r"^/v2/(?P<repository>[a-z0-9][a-z0-9._/-]*)/blobs/sha256:(?P<digest>[0-9a-f]{64})$"
)
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
TOKEN_CONTENT_TYPES = ("application/json", "text/plain", "")
MAX_BOTTLE_BYTES = 256 * 1024 * 1024
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024
#: Where tsuku looks for a NUL byte to call a file binary.
BINARY_SNIFF_BYTES = 8192
PLACEHOLDER = b"@@HOMEBREW"
ELF_MAGIC = b"\x7fELF"


class RegistryBearer(requests.auth.AuthBase):
    """Sends ``Authorization: Bearer <token>`` only to the registry that granted the token.

    Tokens are kept per (registry origin, repository). Set as the auth of the run's shared
    ``homebrew`` session, it is applied to every hop of a redirect chain that the shared client
    follows by hand: a request for ``/v2/<repository>/...`` at the granting origin (scheme,
    host, port) gets that repository's token, every other request goes without the header (the
    registry's storage host, which rejects it), as curl and brew do on a cross-host redirect.
    """

    def __init__(self) -> None:
        self._tokens: dict[tuple[tuple[str, str, int | None], str], str] = {}
        self._lock = threading.Lock()

    def grant(self, registry: str, repository: str, token: str) -> None:
        with self._lock:
            self._tokens[(_origin(registry), repository)] = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        url = str(request.url)
        match = REPOSITORY_PATH_RE.match(urlsplit(url).path)
        with self._lock:
            token = self._tokens.get((_origin(url), match.group("repository"))) if match else None
        if token:
            request.headers["Authorization"] = f"Bearer {token}"
        else:
            request.headers.pop("Authorization", None)
        return request


_BEARER_LOCK = threading.Lock()


def bearer_of(http: HttpClient) -> RegistryBearer:
    """The ``RegistryBearer`` of the client's ``homebrew`` session (installed on first use; it
    also keeps requests from sending ``~/.netrc`` credentials)."""
    with _BEARER_LOCK:
        session = http.session("homebrew")
        if not isinstance(session.auth, RegistryBearer):
            session.auth = RegistryBearer()
        return session.auth


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


@dataclass(frozen=True, slots=True)
class Bottle:
    """What the formula JSON says about this host's bottle."""

    formula: str
    version: str  # versions.stable: tsuku's {version}
    keg_version: str  # <stable>[_<revision>]: the keg's directory
    tag: str
    sha256: str
    repository: str  # the blob's repository in the registry (homebrew/core/<name>)
    blob_path: str  # /v2/<repository>/blobs/sha256:<digest>


class BottleError(Exception):
    """The formula has no usable bottle here: ``subcategory`` and ``category`` say why."""

    def __init__(self, subcategory: str, message: str, category: str = "api_error") -> None:
        self.subcategory = subcategory
        self.category = category
        super().__init__(message)


def bottle_of(formula: str, doc: Any, tag: str) -> Bottle:
    """The bottle for ``tag`` of a formula API document; ``BottleError`` else."""
    where = f"formula {formula}"
    if not isinstance(doc, Mapping):
        raise BottleError("bad_response", f"{where}: the API answer is not a JSON object")
    versions = doc.get("versions")
    stable = versions.get("stable") if isinstance(versions, Mapping) else None
    if not isinstance(stable, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}", stable):
        raise BottleError("bad_response", f"{where}: versions.stable: expected a version, got {stable!r:.60}")
    revision = doc.get("revision") or 0
    if not isinstance(revision, int) or isinstance(revision, bool) or revision < 0:
        raise BottleError(
            "bad_response", f"{where}: revision: expected a non-negative integer, got {revision!r}"
        )
    bottle = doc.get("bottle")
    stable_bottle = bottle.get("stable") if isinstance(bottle, Mapping) else None
    files = stable_bottle.get("files") if isinstance(stable_bottle, Mapping) else None
    if not isinstance(files, Mapping):
        files = {}
    if tag not in files:
        have = ", ".join(sorted(str(t) for t in files)) or "none"
        # tsuku picks the image whose ref name is <version>.<platform tag>: an `all` bottle is
        # published under <version>.all only, so tsuku does not install it either
        also = "; tsuku installs platform bottles only, not 'all'" if "all" in files else ""
        raise BottleError(
            "install_failed",
            f"{where} has no bottle for {tag} (bottles: {have}){also}",
            category="validation_failed",
        )
    chosen = tag
    entry = files[chosen]
    field = f"{where}: bottle.stable.files.{chosen}"
    sha = entry.get("sha256") if isinstance(entry, Mapping) else None
    url = entry.get("url") if isinstance(entry, Mapping) else None
    if not isinstance(sha, str) or not SHA256_RE.fullmatch(sha):
        raise BottleError("bad_response", f"{field}.sha256: expected 64 hex digits, got {sha!r:.80}")
    path = urlsplit(url).path if isinstance(url, str) else ""
    match = BLOB_PATH_RE.fullmatch(path)
    if match is None:
        raise BottleError(
            "bad_response",
            f"{field}.url: expected .../v2/<repository>/blobs/sha256:<digest>, got {url!r:.120}",
        )
    if match.group("digest") != sha:
        raise BottleError("bad_response", f"{field}: the url's digest differs from its sha256")
    keg_version = f"{stable}_{revision}" if revision else stable
    return Bottle(formula, stable, keg_version, chosen, sha, match.group("repository"), path)


def _version_of(program: str) -> str:
    try:
        done = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    words = done.stdout.split()
    return words[-1] if done.returncode == 0 and words else ""


def _record_path(prefix: Path, step: int) -> Path:
    return prefix / "stage" / f"homebrew-{step}.json"


class HomebrewRunner:
    """``homebrew``: the bottle from the OCI registry, checked, unpacked, relocated (Linux)."""

    action: ClassVar[str] = "homebrew"
    needs: ClassVar[tuple[str, ...]] = ("patchelf",)

    def find_toolchain(self, options: NativeOptions) -> Toolchain | str:
        if platform.system() != "Linux":
            return f"homebrew on {platform.system()} (Mach-O relocation) is not implemented yet"
        if platform.machine() not in LINUX_BOTTLE_TAGS:
            return f"no Homebrew bottles for the {platform.machine()} architecture"
        found = find_programs(["patchelf"], options.search_path)
        if isinstance(found, str):
            return found
        version = _version_of(found["patchelf"])
        if not version:
            return f"patchelf at {found['patchelf']} does not run (patchelf --version failed)"
        return Toolchain(found, {"patchelf": version})

    def download(self, step: PlannedStep, ctx: StepContext) -> SandboxOutcome | None:
        formula = step.text("formula")
        if not FORMULA_RE.fullmatch(formula) or ".." in formula:
            return fail(
                "install_failed", f"step {step.step}: formula {formula!r:.60} is not a name tsuku accepts"
            )
        env = ctx.options.caller_env
        try:
            api = api_base_url("homebrew", env)
            ghcr = api_base_url("ghcr", env)
            http = client_for(env)
        except (EndpointError, ValueError) as exc:
            return fail("install_failed", f"step {step.step}: {exc}")
        tag = LINUX_BOTTLE_TAGS[platform.machine()]
        bearer = bearer_of(http)
        try:
            bottle = bottle_of(
                formula, http.get_json("homebrew", f"{api}/formula/{quote(formula, safe='@')}.json"), tag
            )
            bearer.grant(ghcr, bottle.repository, _token(http, ghcr, bottle))
            blob = http.get("homebrew", ghcr + bottle.blob_path, max_bytes=MAX_BOTTLE_BYTES).body
        except ApiError as exc:
            return api_failure(exc, f"formula {formula}")
        except BottleError as exc:
            return fail(exc.subcategory, str(exc), category=exc.category)
        got = hashlib.sha256(blob).hexdigest()
        if got != bottle.sha256:
            return fail(
                "install_failed",
                f"bottle {bottle.keg_version}.{bottle.tag} of {formula}: checksum mismatch "
                f"(sha256 {got}, the formula says {bottle.sha256})",
            )
        archive = ctx.prefix / "cache" / f"{formula}-{bottle.keg_version}.{bottle.tag}.bottle.tar.gz"
        archive.write_bytes(blob)
        unpacked = ctx.prefix / "stage" / f"homebrew-{step.step}"
        try:
            extract_tar(archive, unpacked, max_bytes=MAX_UNPACKED_BYTES)
        except UnsafeArchiveError as exc:
            return fail("install_failed", f"bottle of {formula}: {exc}")
        keg = unpacked / formula / bottle.keg_version
        if not keg.is_dir() or keg.is_symlink():
            have = _listing(sorted(_relative_entries(unpacked, depth=2))) or "nothing"
            return fail(
                "install_failed",
                f"bottle of {formula}: no {formula}/{bottle.keg_version}/ directory (it holds: {have})",
            )
        record = {"formula": formula, "version": bottle.version, "keg_version": bottle.keg_version}
        _record_path(ctx.prefix, step.step).write_text(json.dumps(record), encoding="utf-8")
        return None

    def install(self, step: PlannedStep, ctx: StepContext) -> Installed | SandboxOutcome:
        record = json.loads(_record_path(ctx.prefix, step.step).read_text(encoding="utf-8"))
        formula, keg_version = str(record["formula"]), str(record["keg_version"])
        keg = ctx.prefix / "stage" / f"homebrew-{step.step}" / formula / keg_version
        tag = LINUX_BOTTLE_TAGS[platform.machine()]
        failure = relocate(
            keg, ctx, step, formula=formula, keg_version=keg_version, loader=SYSTEM_LOADERS[tag]
        )
        if failure is not None:
            return failure
        version = str(record["version"])
        return Installed(formula, version, latest_version=version)


def _token(http: HttpClient, ghcr: str, bottle: Bottle) -> str:
    """The registry's anonymous pull token for the bottle's repository (the Docker token
    protocol: ``service`` is the registry's host, as tsuku and brew send it; the answer is JSON
    with ``token`` or ``access_token``, whatever content type it is labelled with)."""
    scope = quote(f"repository:{bottle.repository}:pull", safe=":/")
    service = quote(urlsplit(ghcr).netloc, safe=":")
    url = f"{ghcr}/token?service={service}&scope={scope}"
    doc = http.get_json("homebrew", url, content_types=TOKEN_CONTENT_TYPES)
    token = (doc.get("token") or doc.get("access_token")) if isinstance(doc, Mapping) else None
    if not isinstance(token, str) or not token:
        raise BottleError("bad_response", f"GET {ghcr}/token: expected a JSON object with a 'token' string")
    return token


def _listing(names: list[str], limit: int = 20) -> str:
    """Names for a one-line message, at most ``limit`` of them."""
    more = f" (+{len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _relative_entries(root: Path, *, depth: int) -> list[str]:
    """Paths under ``root`` down to ``depth`` levels, for messages."""
    found: list[str] = []
    for current, dirs, files in os.walk(root):
        level = len(Path(current).relative_to(root).parts)
        for name in dirs + files:
            found.append(str((Path(current) / name).relative_to(root)))
        if level + 1 >= depth:
            dirs.clear()
    return found


# --- relocation -------------------------------------------------------------------------------


def relocate(
    keg: Path, ctx: StepContext, step: PlannedStep, *, formula: str, keg_version: str, loader: str
) -> SandboxOutcome | None:
    """Replace the Homebrew placeholders of the keg's files (see the module docstring)."""
    target = str(ctx.prefix).encode()
    cellar_keg = f"@@HOMEBREW_CELLAR@@/{formula}/{keg_version}".encode()
    elves: list[Path] = []
    for current, _dirs, files in os.walk(keg):
        for name in files:
            path = Path(current) / name
            if path.is_symlink() or not path.is_file():
                continue
            content = path.read_bytes()
            if PLACEHOLDER not in content:
                continue
            if b"\0" in content[:BINARY_SNIFF_BYTES]:
                if content.startswith(ELF_MAGIC):
                    elves.append(path)
                continue  # other binaries (archives, compiled bytecode) are left as they are
            text = content.replace(b"@@HOMEBREW_PREFIX@@", target).replace(cellar_keg, target)
            text = text.replace(b"@@HOMEBREW_CELLAR@@", target)
            with _Writable(path):
                path.write_bytes(text)
    for path in elves:
        failure = _patch_elf(path, ctx, step, loader)
        if failure is not None:
            return failure
    return None


class _Writable:
    """Make a (read-only, as bottles ship them) file writable for a moment, then restore its mode."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.mode = stat.S_IMODE(path.stat().st_mode)

    def __enter__(self) -> None:
        if not self.mode & stat.S_IWUSR:
            self.path.chmod(self.mode | stat.S_IWUSR)

    def __exit__(self, *exc: object) -> None:
        self.path.chmod(self.mode)


def rpath_for(path: Path) -> str:
    """tsuku's choice: the keg's ``lib/`` beside the file or one level up, relative; else $ORIGIN."""
    for lib in (path.parent / "lib", path.parent.parent / "lib"):
        if lib.is_dir():
            relative = os.path.relpath(lib, path.parent)
            return "$ORIGIN" if relative == "." else f"$ORIGIN/{relative}"  # a library in lib/
    return "$ORIGIN"


def _patch_elf(path: Path, ctx: StepContext, step: PlannedStep, loader: str) -> SandboxOutcome | None:
    patchelf = ctx.toolchain.path("patchelf")
    env = ctx.offline_env()
    log = ctx.log("patchelf", step)
    name = path.name
    with _Writable(path):
        ctx.run_offline([patchelf, "--remove-rpath", str(path)], env=env, log=log)  # none is fine
        done = ctx.run_offline(
            [patchelf, "--force-rpath", "--set-rpath", rpath_for(path), str(path)], env=env, log=log
        )
        if done.exit_code != 0:
            return fail(
                "install_failed",
                f"patchelf --set-rpath {name}: {cause_line(done.output)}",
                output=done.output,
            )
        shown = ctx.run_offline([patchelf, "--print-interpreter", str(path)], env=env, log=log)
        if shown.exit_code == 0 and "HOMEBREW" in shown.output:  # shared libraries have none
            done = ctx.run_offline([patchelf, "--set-interpreter", loader, str(path)], env=env, log=log)
            if done.exit_code != 0:
                return fail(
                    "install_failed",
                    f"patchelf --set-interpreter {name}: {cause_line(done.output)}",
                    output=done.output,
                )
    return None


# --- install_binaries -------------------------------------------------------------------------

INSTALL_MODES = ("binaries", "directory")
#: The prefix's own directories: a ``directory`` install must not merge a keg into them.
_PREFIX_OWN = frozenset(PREFIX_DIRS) - {"bin"}


class InstallBinariesRunner:
    """``install_binaries`` after ``homebrew``: the keg's listed files into ``<prefix>/bin``."""

    action: ClassVar[str] = "install_binaries"
    needs: ClassVar[tuple[str, ...]] = ()

    def find_toolchain(self, options: NativeOptions) -> Toolchain | str:
        return Toolchain({})

    def download(self, step: PlannedStep, ctx: StepContext) -> SandboxOutcome | None:
        return None

    def install(self, step: PlannedStep, ctx: StepContext) -> Installed | SandboxOutcome:
        keg = _keg_before(ctx.prefix, step.step)
        if keg is None:
            return fail(
                "install_failed", f"step {step.step}: install_binaries needs a homebrew step before it"
            )
        raw = step.params.get("outputs", step.params.get("binaries"))
        outputs = [str(v) for v in raw] if isinstance(raw, list | tuple) else []
        mode = step.text("install_mode") or "binaries"
        if mode not in INSTALL_MODES:
            return fail(
                "install_failed",
                f"step {step.step}: install_mode {mode!r}: expected one of {list(INSTALL_MODES)}",
            )
        sources: list[tuple[str, Path]] = []
        for output in outputs:
            source = keg / output
            if output.startswith("/") or ".." in output:
                return fail("install_failed", f"step {step.step}: {output!r} is not a path inside the keg")
            if not source.is_file():  # also a link whose target is missing
                have = _listing(_keg_programs(keg)) or "no bin/ or sbin/ files"
                return fail(
                    "install_failed",
                    f"step {step.step}: {output!r} is not in the keg of {keg.parent.name} (it has: {have})",
                )
            if not _inside(source, keg):
                return fail("install_failed", f"step {step.step}: {output!r} resolves outside the keg")
            sources.append((output, source))
        bin_dir = ctx.prefix / "bin"
        if mode == "directory":
            failure = _copy_keg(keg, ctx.prefix, step)
            if failure is not None:
                return failure
            for output, _source in sources:
                installed = ctx.prefix / output
                link = bin_dir / Path(output).name
                if link != installed:
                    link.unlink(missing_ok=True)
                    link.symlink_to(installed)
        else:
            for _output, source in sources:
                dest = bin_dir / source.name
                dest.unlink(missing_ok=True)
                shutil.copyfile(source, dest)  # follows a link in the keg, as tsuku's copy does
                dest.chmod(0o755)
        return Installed("", "")


def _keg_before(prefix: Path, step: int) -> Path | None:
    """The keg the latest ``homebrew`` step before ``step`` unpacked."""
    steps = sorted(
        int(p.stem.removeprefix("homebrew-"))
        for p in (prefix / "stage").glob("homebrew-*.json")
        if p.stem.removeprefix("homebrew-").isdigit()
    )
    earlier = [n for n in steps if n < step]
    if not earlier:
        return None
    record = json.loads(_record_path(prefix, earlier[-1]).read_text(encoding="utf-8"))
    return prefix / "stage" / f"homebrew-{earlier[-1]}" / str(record["formula"]) / str(record["keg_version"])


def _inside(path: Path, root: Path) -> bool:
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root + os.sep)


def _keg_programs(keg: Path) -> list[str]:
    return sorted(
        f"{sub}/{p.name}" for sub in ("bin", "sbin") if (keg / sub).is_dir() for p in (keg / sub).iterdir()
    )


def _copy_keg(keg: Path, prefix: Path, step: PlannedStep) -> SandboxOutcome | None:
    """``install_mode = "directory"``: the whole keg into the prefix (its links must stay in it)."""
    clash = sorted(p.name for p in keg.iterdir() if p.name in _PREFIX_OWN)
    if clash:
        return fail(
            "install_failed",
            f"step {step.step}: the keg's {', '.join(clash)} collide with the prefix's own directories",
        )
    for current, dirs, files in os.walk(keg):
        for name in dirs + files:
            path = Path(current) / name
            if path.is_symlink() and not _inside(path, keg):
                return fail(
                    "install_failed",
                    f"step {step.step}: {path.relative_to(keg)} links outside the keg ({path.readlink()})",
                )
    shutil.copytree(keg, prefix, symlinks=True, dirs_exist_ok=True)
    return None
