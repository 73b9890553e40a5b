"""The npm builder: the ``latest`` dist-tag of a package -> an ``npm_install`` recipe.

One request through the shared ``HttpClient`` (ecosystem ``npm``): ``GET <registry><name>``, the
packument (full JSON: the abbreviated form has no description or homepage), with a scoped name's
``/`` encoded (``@scope%2fname``) as npm itself requests it. The registry is the one npm is
configured with (``recipeline_schema.npm_registry_url``), so mirrors and proxies work; no registry
host is written here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

from recipeline_schema import Failure, Recipe, npm_registry_url
from recipeline_schema.http import ApiError, HttpClient

from .builder_support import (
    InsufficientError,
    UpstreamError,
    describe,
    first_https,
    hosts,
    run_builder,
    safe_executables,
    text_field,
    upstream,
)
from .builder_support import utcnow as _utcnow
from .recipes import install_recipe

#: npm package names: optional ``@scope/``, URL-safe characters, at most 214 characters. Upper
#: case is allowed because old packages have it (npm refuses it only for new ones).
PACKAGE_RE = re.compile(r"^(?:@[A-Za-z0-9][A-Za-z0-9._~-]*/)?[A-Za-z0-9][A-Za-z0-9._~-]*$")
PACKAGE_LIMIT = 214


def packument_path(package: str) -> str:
    """The registry path of a package: ``@scope%2fname`` for scoped names, else the name."""
    return package.replace("/", "%2f")  # the name is PACKAGE_RE-checked: nothing else to escape


def unscoped(package: str) -> str:
    """``name`` of ``@scope/name`` (and of ``name``)."""
    return package.rpartition("/")[2]


def bin_names(package: str, bin_field: Any) -> list[str] | None:
    """Executable names from a manifest's ``bin``; ``None`` when the field has an invalid shape.

    npm's rule: a string is one executable named after the unscoped package; an object maps
    names to paths. Absent or empty gives ``[]``.
    """
    if bin_field is None:
        return []
    if isinstance(bin_field, str):
        return [unscoped(package)] if bin_field.strip() else []
    if isinstance(bin_field, Mapping) and all(isinstance(k, str) for k in bin_field):
        return list(bin_field)
    return None


#: Forges whose git URLs npm itself turns into web pages (as its ``hosted-git-info`` does).
_FORGES = {"github.com": "github", "gitlab.com": "gitlab", "bitbucket.org": "bitbucket"}
_FORGE_PATH = r"(?P<owner>[A-Za-z0-9_.-]+)/(?P<repo>[A-Za-z0-9_.-]+?)(?:\.git)?/?"
_FORGE_URLS = (
    # git://host/o/r.git, git+ssh://git@host/o/r.git, ssh://git@host/o/r, git+https://host/o/r.git
    re.compile(rf"^(?:git\+)?(?:git|ssh|https?)://(?:git@)?(?P<host>[a-z.]+)/{_FORGE_PATH}$"),
    re.compile(rf"^git@(?P<host>[a-z.]+):{_FORGE_PATH}$"),  # scp-like
    re.compile(rf"^(?P<short>github|gitlab|bitbucket):{_FORGE_PATH}$"),  # npm shorthand
    re.compile(rf"^{_FORGE_PATH}$"),  # bare owner/repo means GitHub to npm
)


def repository_url(repository: Any) -> str:
    """A web URL from a manifest's ``repository``.

    Git URLs of GitHub, GitLab and Bitbucket (``git://``, ``git+ssh://``, ``git@host:o/r.git``,
    ``github:o/r``, bare ``o/r``) become ``https://<host>/<owner>/<repo>``, as npm shows them;
    another ``https://`` URL is kept without ``git+`` and ``.git``; anything else gives ``""``.
    """
    url = repository.get("url") if isinstance(repository, Mapping) else repository
    if not isinstance(url, str):
        return ""
    url = url.strip()
    for pattern in _FORGE_URLS:
        m = pattern.match(url)
        if m is None:
            continue
        groups = m.groupdict()
        short = groups.get("short")
        host = next((h for h, s in _FORGES.items() if s == short), None) if short else groups.get("host")
        if host is None and "host" not in groups and short is None:
            host = "github.com"
        if host in _FORGES and groups["owner"] not in (".", "..") and groups["repo"] not in (".", ".."):
            return f"https://{host}/{groups['owner']}/{groups['repo']}"
    url = url.removeprefix("git+")
    if url.endswith(".git"):
        url = url[:-4]
    return url if url.startswith("https://") else ""


class NpmBuilder:
    """Builds recipes for ``npm:<package>`` sources from the registry npm is configured with."""

    ecosystem = "npm"

    def __init__(
        self,
        http: HttpClient,
        *,
        registry_url: str | None = None,
        resolve_registry: Callable[[], str] = npm_registry_url,
        now: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self._http = http
        self._registry_url = registry_url
        self._resolve_registry = resolve_registry
        self._now = now

    @property
    def registry_url(self) -> str:
        """The registry URL ending in ``/``: the one given, else npm's configured one (asked once)."""
        if self._registry_url is None:
            self._registry_url = self._resolve_registry()
        return self._registry_url if self._registry_url.endswith("/") else self._registry_url + "/"

    def can_build(self, identifier: str) -> bool:
        """True for a valid npm package name (scoped or not)."""
        return len(identifier) <= PACKAGE_LIMIT and bool(PACKAGE_RE.fullmatch(identifier))

    def generate(self, identifier: str, *, name: str) -> Recipe | Failure:
        """The recipe ``name`` for package ``identifier``, or why there is none."""
        return run_builder(
            f"{self.ecosystem}:{identifier}", lambda: self._generate(identifier, name), self._now
        )

    def _packument(self, package: str) -> Mapping[str, Any]:
        url = self.registry_url + packument_path(package)
        try:
            data = self._http.get_json(self.ecosystem, url)
        except ApiError as exc:
            raise upstream(exc, f"packument of {package}") from None
        if not isinstance(data, Mapping):
            raise UpstreamError("bad_response", f"packument of {package}: expected a JSON object")
        return data

    def _generate(self, package: str, name: str) -> Recipe:
        if not self.can_build(package):
            raise InsufficientError("unsupported_source", f"{package!r} is not a valid npm package name")
        doc = self._packument(package)
        tags = doc.get("dist-tags")
        latest = tags.get("latest") if isinstance(tags, Mapping) else None
        versions = doc.get("versions")
        if not isinstance(latest, str) or not isinstance(versions, Mapping):
            raise InsufficientError(None, f"npm package {package} has no 'latest' dist-tag (unpublished?)")
        manifest = versions.get(latest)
        if not isinstance(manifest, Mapping):
            raise UpstreamError(
                "bad_response", f"packument of {package}: latest {latest!r} is not in 'versions'"
            )
        where = f"npm package {package} {latest}"
        names = bin_names(package, manifest.get("bin"))
        if names is None:
            raise UpstreamError("bad_response", f"{where}: 'bin' is neither a string nor an object")
        if not names:
            raise InsufficientError(
                "binary_discovery_failed",
                f"{where} declares no 'bin' (a library, or scripts npm does not link)",
            )
        executables = safe_executables(names, where)
        homepage = first_https(
            (
                text_field(manifest, "homepage"),
                text_field(doc, "homepage"),
                repository_url(manifest.get("repository")),
                repository_url(doc.get("repository")),
            ),
            avoid_hosts=hosts(self.registry_url),
        )
        summary = text_field(manifest, "description") or text_field(doc, "description")
        return install_recipe(
            name=name,
            action="npm_install",
            package_key="package",
            package=package,
            executables=executables,
            description=describe(summary, f"Command-line tools of the npm package {package}"),
            homepage=homepage,
            project=unscoped(package),
        )
