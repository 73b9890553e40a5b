"""The Go builder: a module's latest version and its zip -> ``go_install`` recipe(s).

Requests, all through the shared ``HttpClient`` (ecosystem ``go``), against the module proxy from
``recipeline_schema.api_base_url("go")`` (``RECIPELINE_GO_URL`` overrides), paths escaped as the
GOPROXY protocol says (an upper-case letter becomes ``!`` and the letter in lower case):
1. ``GET <proxy>/<module>/@v/list`` (one version per line): the highest release version, else
   the highest pre-release, as the go command resolves ``@latest``; only when the list is empty
   (a module without tags) or the proxy does not know the path there, ``GET <proxy>/<module>/
   @latest`` (an optional endpoint in the protocol: its ``.info`` JSON, ``Version`` read). A
   source may name a package inside a module (``github.com/go-delve/delve/cmd/dlv``): like
   ``go install``, the longest prefix of the path that the proxy knows as a module is the module,
   the rest is the package directory;
2. ``GET <proxy>/<module>/@v/<version>.zip``, read by range requests
   (``recipeline_schema.wheels.RangeFile``): the central directory and the few ``.go`` files of
   the candidate directories only.

Executables: a package path names one main package, the binary named after its last element
(a ``/vN`` major-version suffix skipped, as ``go install`` names it). A module path: its root
when that is a main package, and every ``cmd/<x>`` main package. One ``go_install`` step per main
package (``module`` = the package path, as tsuku writes it), in executable-name order.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from recipeline_schema import Failure, Recipe, Step, Verify, api_base_url, check_name
from recipeline_schema.http import ApiError, HttpClient
from recipeline_schema.wheels import UNREADABLE_ZIP, RangeFile, WheelError

from .builder_support import InsufficientError, UpstreamError, run_builder, safe_executables, upstream
from .builder_support import utcnow as _utcnow
from .cargo import SemverKey, semver_key
from .forges import FORGE_HOSTS
from .recipes import one_line_text, verify_executable

#: a module zip that cannot be read: what zipfile raises, or the ranged reader's own refusal
_UNREADABLE_MODULE_ZIP: tuple[type[Exception], ...] = (WheelError, *UNREADABLE_ZIP)

#: A module or package path: a domain-like first element, then path elements (``go`` rules, simplified).
MODULE_RE = re.compile(
    r"^[a-z0-9][a-z0-9.-]*\.[a-z0-9.-]*[a-z0-9](?:/[A-Za-z0-9_~+-][A-Za-z0-9._~+-]*){0,15}$"
)
_VERSION_RE = re.compile(r"^v[0-9]+\.[0-9]+\.[0-9]+(?:[-+][0-9A-Za-z.+-]+)?$")
_MAJOR_RE = re.compile(r"^v[0-9]+$")
#: The go command's pseudo-version form (``module.IsPseudoVersion``): a time stamp and a commit.
_PSEUDO_RE = re.compile(
    r"^v[0-9]+\.(0\.0-|\d+\.\d+-([^+]*\.)?0\.)\d{14}-[A-Za-z0-9]+(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$"
)
_PACKAGE_CLAUSE = re.compile(r"package[ \t]+([A-Za-z_][A-Za-z0-9_]*)")
#: The GOPROXY protocol names no content type for ``@latest``: static-file proxies serve the
#: JSON as text or bytes. The body must still be JSON with a valid ``Version``.
LATEST_TYPES = ("application/json", "text/plain", "application/octet-stream", "")
#: First request: the end of the zip (EOCD and central directory, usually all of it).
TAIL_BYTES = 256 * 1024
#: Bytes read from each .go file: the package clause comes after the comments at the top.
SOURCE_HEAD = 64 * 1024
#: Fewest path elements a module has (``mvdan.cc/gofumpt``); shorter prefixes are not tried.
MIN_MODULE_ELEMENTS = 2
MAX_MAINS = 32


def is_pseudo_version(version: str) -> bool:
    """True for a Go pseudo-version (``v0.0.0-20240101000000-abcdefabcdef`` and its two other forms)."""
    return version.count("-") >= 2 and bool(_PSEUDO_RE.fullmatch(version))


def newest_listed(listing: bytes) -> str | None:
    """The highest release in an ``@v/list`` body, else the highest pre-release; ``None`` if empty.

    As the go command reads the list (``proxyRepo.Versions``): the first field of each line only
    (some proxies add a timestamp after the version), lines that are not canonical semantic
    versions (``v1.2.3[-pre][+incompatible]``) and pseudo-versions are ignored.
    """
    best: tuple[tuple[bool, SemverKey], str] | None = None
    for line in listing.decode("utf-8", "replace").split("\n"):
        fields = line.split()
        raw = fields[0] if fields else ""
        if not _VERSION_RE.fullmatch(raw) or is_pseudo_version(raw):
            continue
        key = semver_key(raw[1:])
        if key is None:
            continue
        rank = (key[3] == 1, key)
        if best is None or rank > best[0]:
            best = (rank, raw)
    return None if best is None else best[1]


def escape_path(path: str) -> str:
    """A module path or version as the proxy protocol escapes it (``Azure`` -> ``!azure``)."""
    return "".join("!" + ch.lower() if "A" <= ch <= "Z" else ch for ch in path)


def binary_name(package_path: str) -> str:
    """The file ``go install`` writes for a main package: its last element, skipping ``/vN``."""
    elements = package_path.split("/")
    if len(elements) > 1 and _MAJOR_RE.fullmatch(elements[-1]):
        return elements[-2]
    return elements[-1]


def package_clause(source: str) -> tuple[str | None, str]:
    """The package name a Go file declares and its ``//go:build`` (or ``// +build``) constraint."""
    i, n, constraint = 0, len(source), ""
    if source.startswith("\ufeff"):
        i = 1
    while i < n:
        if source.startswith("//", i):
            end = source.find("\n", i)
            end = n if end < 0 else end
            line = source[i:end].strip()
            if line.startswith("//go:build "):
                constraint = line[len("//go:build ") :].strip()
            elif line.startswith("// +build ") and not constraint:
                constraint = line[len("// +build ") :].strip()
            i = end + 1
        elif source.startswith("/*", i):
            end = source.find("*/", i + 2)
            if end < 0:
                return None, constraint
            i = end + 2
        elif source[i].isspace():
            i += 1
        else:
            break
    m = _PACKAGE_CLAUSE.match(source, i)
    return (m[1] if m else None), constraint


def is_main_source(source: str) -> bool:
    """True for a ``package main`` file that is built (not excluded by an ``ignore`` constraint)."""
    package, constraint = package_clause(source)
    return package == "main" and constraint.split() != ["ignore"]


@dataclass(frozen=True, slots=True)
class ModuleZip:
    """The ``.go`` sources that matter of a module zip: by directory (``""`` = root), name order."""

    sources: Mapping[str, tuple[str, ...]]
    go_mod: str | None


def _wanted_dir(rel: str, package_dir: str) -> str | None:
    """The candidate directory of a zip member path (relative to the module root), or ``None``."""
    directory, _, filename = rel.rpartition("/")
    if not filename.endswith(".go") or filename.endswith("_test.go") or filename[0] in "._":
        return None
    if package_dir:
        return directory if directory == package_dir else None
    if directory == "" or (directory.startswith("cmd/") and directory.count("/") == 1):
        return directory
    return None


def read_module_zip(archive: zipfile.ZipFile, prefix: str, package_dir: str) -> ModuleZip:
    """Read the candidate ``.go`` files (their first ``SOURCE_HEAD`` bytes) and ``go.mod``."""
    sources: dict[str, list[str]] = {}
    go_mod = None
    for info in sorted(archive.infolist(), key=lambda i: i.filename):
        if not info.filename.startswith(prefix) or info.is_dir():
            continue  # a member outside module@version/ is never read
        rel = info.filename[len(prefix) :]
        if rel == "go.mod":
            with archive.open(info) as fh:
                go_mod = fh.read(SOURCE_HEAD).decode("utf-8", "replace")
            continue
        directory = _wanted_dir(rel, package_dir)
        if directory is None:
            continue
        with archive.open(info) as fh:
            head = fh.read(SOURCE_HEAD)
        sources.setdefault(directory, []).append(head.decode("utf-8", "replace"))
    return ModuleZip({d: tuple(s) for d, s in sources.items()}, go_mod)


def declared_module(go_mod: str) -> str | None:
    """The path of the ``module`` directive of a go.mod file."""
    for line in go_mod.splitlines():
        m = re.match(r'^\s*module\s+"?([^"\s/][^"\s]*)"?\s*(?://.*)?$', line)
        if m:
            return m[1]
    return None


class GoBuilder:
    """Builds recipes for ``go:<module or package path>`` sources from the Go module proxy."""

    ecosystem = "go"

    def __init__(
        self,
        http: HttpClient,
        *,
        proxy_url: str | None = None,
        now: Callable[[], dt.datetime] = _utcnow,
        max_bytes: int | None = None,
    ) -> None:
        self._http = http
        self._proxy_url = proxy_url.rstrip("/") if proxy_url else None
        self._now = now
        self._max_bytes = max_bytes if max_bytes is not None else http.settings.max_bytes

    @property
    def proxy_url(self) -> str:
        """The module proxy base URL: the one given, else the configured one."""
        if self._proxy_url is None:
            self._proxy_url = api_base_url("go")
        return self._proxy_url

    def can_build(self, identifier: str) -> bool:
        """True for a module or package path of the form ``host.tld/path``."""
        return bool(MODULE_RE.fullmatch(identifier)) and ".." not in identifier.split("/")

    def generate(self, identifier: str, *, name: str) -> Recipe | Failure:
        """The recipe ``name`` for the module or package ``identifier``, or why there is none."""
        return run_builder(
            f"{self.ecosystem}:{identifier}", lambda: self._generate(identifier, name), self._now
        )

    # --- steps --------------------------------------------------------------------------------

    def _latest(self, path: str) -> str | None:
        """The version ``go install <path>@latest`` uses, or ``None`` when the proxy does not know it."""
        try:
            listing = self._http.get(
                self.ecosystem, f"{self.proxy_url}/{escape_path(path)}/@v/list", accept="text/plain"
            ).body
        except ApiError as exc:
            if exc.subcategory != "not_found":
                raise upstream(exc, f"version list of {path}") from None
        else:
            chosen = newest_listed(listing)
            if chosen is not None:
                return chosen
        return self._latest_info(path)

    def _latest_info(self, path: str) -> str | None:
        """``@latest``'s ``Version`` (a module without tagged versions), ``None`` when unknown."""
        try:
            data = self._http.get_json(
                self.ecosystem, f"{self.proxy_url}/{escape_path(path)}/@latest", content_types=LATEST_TYPES
            )
        except ApiError as exc:
            if exc.subcategory == "not_found":
                return None
            raise upstream(exc, f"latest version of {path}") from None
        version = data.get("Version") if isinstance(data, Mapping) else None
        if not isinstance(version, str) or not _VERSION_RE.fullmatch(version):
            raise UpstreamError("bad_response", f"latest version of {path}: no valid 'Version' in the answer")
        return version

    def _resolve(self, path: str) -> tuple[str, str, str]:
        """(module, version, package directory in the module) for a module or package path."""
        elements = path.split("/")
        for count in range(len(elements), MIN_MODULE_ELEMENTS - 1, -1):
            module = "/".join(elements[:count])
            version = self._latest(module)
            if version is not None:
                return module, version, "/".join(elements[count:])
        raise UpstreamError(
            "not_found", f"{path}: the module proxy knows no module for this path or its prefixes"
        )

    def _zip(self, module: str, version: str, package_dir: str) -> ModuleZip:
        url = f"{self.proxy_url}/{escape_path(module)}/@v/{escape_path(version)}.zip"
        what = f"{module}@{version}.zip"
        try:
            tail = self._http.get_tail(self.ecosystem, url, TAIL_BYTES, max_bytes=self._max_bytes)
            fileobj: io.RawIOBase | io.BytesIO
            if tail.ranged:
                fileobj = RangeFile(
                    lambda start, length: self._http.get_range(
                        self.ecosystem, url, start, length, max_bytes=self._max_bytes
                    ),
                    tail,
                    budget=self._max_bytes,
                )
            else:
                fileobj = io.BytesIO(tail.data)
            with zipfile.ZipFile(fileobj) as archive:
                return read_module_zip(archive, f"{module}@{version}/", package_dir)
        except ApiError as exc:
            raise upstream(exc, what) from None
        except _UNREADABLE_MODULE_ZIP as exc:
            # the bytes are untrusted: whatever zipfile trips over is "not a readable module zip"
            raise InsufficientError(
                "archive_extraction_failed", f"{what}: not a readable module zip: {type(exc).__name__}"
            ) from None

    def _generate(self, path: str, name: str) -> Recipe:
        if not self.can_build(path):
            raise InsufficientError("unsupported_source", f"{path!r} is not a Go module or package path")
        module, version, package_dir = self._resolve(path)
        found = self._zip(module, version, package_dir)
        what = f"{module}@{version}"
        if found.go_mod is not None and declared_module(found.go_mod) not in (module, None):
            raise InsufficientError(
                "archive_extraction_failed", f"{what}: go.mod declares another module path"
            )
        mains = sorted(d for d, sources in found.sources.items() if any(map(is_main_source, sources)))
        if package_dir:
            if package_dir not in mains:
                raise InsufficientError(
                    "binary_discovery_failed", f"{what}: {package_dir} is not a main package"
                )
            mains = [package_dir]
        if not mains:
            raise InsufficientError(
                "binary_discovery_failed",
                f"{what}: no main package at the module root or in cmd/<name> (a library, or commands "
                "elsewhere)",
            )
        if len(mains) > MAX_MAINS:
            raise InsufficientError(
                "binary_discovery_failed", f"{what}: {len(mains)} main packages, over {MAX_MAINS}"
            )
        packages = {f"{module}/{d}" if d else module: None for d in mains}
        by_exe = {binary_name(pkg): pkg for pkg in packages}
        if len(by_exe) != len(packages):
            raise InsufficientError(
                "binary_discovery_failed", f"{what}: two main packages build the same binary name"
            )
        executables = safe_executables(by_exe, what)
        return go_recipe(name=name, module=module, packages=[(exe, by_exe[exe]) for exe in executables])


def homepage_of(module: str) -> str:
    """The repository page of a module on a known forge, else its page on the Go package site."""
    elements = module.split("/")
    if elements[0] in FORGE_HOSTS and len(elements) >= 3:
        return "https://" + "/".join(elements[:3])
    return f"https://pkg.go.dev/{module}"


def go_recipe(*, name: str, module: str, packages: list[tuple[str, str]]) -> Recipe:
    """One ``go_install`` step per (executable, package path), verified by ``--version``."""
    check_name(name)
    executables = tuple(exe for exe, _ in packages)
    exe = verify_executable(executables, tool=name, project=binary_name(module))
    listed = ", ".join(executables)
    noun = "command" if len(executables) == 1 else "commands"
    return Recipe(
        name=name,
        description=one_line_text(f"Go {noun} {listed} from the module {module}"),
        homepage=homepage_of(module),
        steps=tuple(Step("go_install", {"module": pkg, "executables": (exe,)}) for exe, pkg in packages),
        verify=Verify(command=f"{exe} --version", pattern="{version}"),
    )
