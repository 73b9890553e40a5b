"""The PyPI builder: a project's newest wheel -> a ``pipx_install`` recipe, or a failure record.

Requests, all through the shared ``HttpClient`` (ecosystem ``pypi``):
1. ``GET <index>/<normalized project>/`` as PEP 691 JSON;
2. the chosen wheel's METADATA from ``<wheel url>.metadata`` when the index offers it (PEP 658/714,
   sha256 checked), else from the wheel;
3. ``entry_points.txt`` and the zip's listing (``.data/scripts/``) from the wheel, by range
   requests when the server honours them; for a project that publishes no wheel, its newest
   sdist, downloaded whole (capped) and read without a build (``wheels.read_sdist``).

Failure messages name the project, file and cause but never the index URL: they end up in
committed data files, and the index host is the user's configuration, not ours to publish.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from urllib.parse import urlsplit

from recipeline_schema import Failure, Recipe, pypi_index_url
from recipeline_schema.http import ApiError, HttpClient
from recipeline_schema.wheels import (
    MEMBER_CAP,
    PROJECT_RE,
    SDIST_CAP,
    SIMPLE_JSON,
    MalformedPageError,
    NoWheel,
    SdistFile,
    WheelError,
    WheelFile,
    normalize_project,
    project_url,
    read_dist_info,
    read_sdist,
    select_sdist,
    select_wheel,
    wheel_executables,
)

from .pypi_metadata import describe, parse_core_metadata, pick_homepage
from .recipes import RejectedName, check_executables, install_recipe, installs_itself


class _InsufficientError(Exception):
    """Deterministic generation cannot go on (``deterministic_insufficient``/``subcategory``)."""

    def __init__(self, subcategory: str | None, message: str) -> None:
        self.subcategory = subcategory
        super().__init__(message)


class _UpstreamError(Exception):
    """A request failed; ``message`` says which without the URL."""

    def __init__(self, subcategory: str, message: str) -> None:
        self.subcategory = subcategory
        super().__init__(message)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class PypiBuilder:
    """Builds recipes for ``pypi:<project>`` sources from the PyPI index pip is configured with."""

    ecosystem = "pypi"

    def __init__(
        self,
        http: HttpClient,
        *,
        index_url: str | None = None,
        resolve_index: Callable[[], str] = pypi_index_url,
        now: Callable[[], dt.datetime] = _utcnow,
        max_bytes: int | None = None,
    ) -> None:
        self._http = http
        self._index_url = index_url
        self._resolve_index = resolve_index
        self._now = now
        self._max_bytes = max_bytes if max_bytes is not None else http.settings.max_bytes

    @property
    def index_url(self) -> str:
        """The simple index URL: the one given, else resolved from pip's configuration once."""
        if self._index_url is None:
            self._index_url = self._resolve_index()
        return self._index_url

    def can_build(self, identifier: str) -> bool:
        """True for a valid PEP 508 project name."""
        return bool(PROJECT_RE.fullmatch(identifier))

    def generate(self, identifier: str, *, name: str) -> Recipe | Failure:
        """The recipe ``name`` for project ``identifier``, or why there is none."""
        package_id = f"{self.ecosystem}:{identifier}"
        try:
            return self._generate(identifier, name)
        except _UpstreamError as exc:
            return Failure.create(package_id, "api_error", exc.subcategory, str(exc), timestamp=self._now())
        except _InsufficientError as exc:
            return Failure.create(
                package_id, "deterministic_insufficient", exc.subcategory, str(exc), timestamp=self._now()
            )

    # --- steps --------------------------------------------------------------------------------

    def _generate(self, project: str, name: str) -> Recipe:
        if not self.can_build(project):
            raise _InsufficientError("unsupported_source", f"{project!r} is not a valid PyPI project name")
        choice = self._select(project)
        if isinstance(choice, SdistFile):
            metadata, entry_points, scripts = self._read_sdist(choice)
        else:
            metadata, entry_points, scripts = self._read_wheel(choice, project)
        meta = parse_core_metadata(metadata)
        found = wheel_executables(entry_points, scripts)
        filename = choice.filename
        # every name is checked, also those left out: hostile metadata is not trusted at all
        unsafe = check_executables((*found.names, *found.left_out))
        if isinstance(unsafe, RejectedName):
            raise _InsufficientError(
                "binary_discovery_failed",
                f"{filename}: executable name {unsafe.shown} (console_scripts, gui_scripts or "
                ".data/scripts) is not a safe executable name; the package's executables are not trusted",
            )
        if not found.names:
            left = f"; left out: {', '.join(sorted(found.left_out))}" if found.left_out else ""
            declared = (
                "declares no console_scripts or gui_scripts entry points and has no .data/scripts files"
                if isinstance(choice, WheelFile)
                else "(the project publishes no wheel) declares no entry points or scripts readable without "
                "a build (egg-info, pyproject.toml [project.scripts], setup.cfg): only its setup.py says"
            )
            raise _InsufficientError(
                "binary_discovery_failed",
                f"{filename} {declared}{left} (a library, or commands only for one Python version)",
            )
        checked = check_executables(found.names)
        assert not isinstance(checked, RejectedName)  # a subset of the names checked above
        homepage = pick_homepage(meta, avoid_hosts=self._index_hosts(choice.url))
        recipe = install_recipe(
            name=name,
            action="pipx_install",
            package_key="package",
            package=project,
            project=project,
            executables=checked,
            description=describe(meta, project),
            homepage=homepage,
        )
        reason = installs_itself(recipe)
        if reason is not None:
            raise _InsufficientError("installs_itself", f"{filename}: {reason}")
        return recipe

    def _read_wheel(self, wheel: WheelFile, project: str) -> tuple[bytes, bytes, tuple[str, ...]]:
        """METADATA, entry_points.txt and the .data/scripts names of the wheel."""
        metadata = self._metadata_file(wheel) if wheel.metadata else None
        wanted = ("entry_points.txt",) if metadata is not None else ("entry_points.txt", "METADATA")
        try:
            dist = read_dist_info(
                self._http,
                self.ecosystem,
                wheel.url,
                project=project,
                wanted=wanted,
                sha256=wheel.sha256,
                max_bytes=self._max_bytes,
            )
        except ApiError as exc:
            raise _UpstreamError(exc.subcategory, f"wheel {wheel.filename}: {exc.detail}") from None
        except WheelError as exc:
            raise _InsufficientError("archive_extraction_failed", f"wheel {wheel.filename}: {exc}") from None
        if metadata is None:
            metadata = dist.files.get("METADATA")
            if metadata is None:
                raise _InsufficientError(
                    "archive_extraction_failed", f"wheel {wheel.filename} has no METADATA"
                )
        return metadata, dist.files.get("entry_points.txt", b""), dist.data_scripts

    def _read_sdist(self, sdist: SdistFile) -> tuple[bytes, bytes, tuple[str, ...]]:
        """PKG-INFO, the entry points and the script names of a project that publishes only an
        sdist: downloaded whole (capped), sha256 checked, read without building it."""
        try:
            body = self._http.get(self.ecosystem, sdist.url, max_bytes=min(SDIST_CAP, self._max_bytes)).body
        except ApiError as exc:
            raise _UpstreamError(exc.subcategory, f"sdist {sdist.filename}: {exc.detail}") from None
        if sdist.sha256 and hashlib.sha256(body).hexdigest() != sdist.sha256:
            raise _UpstreamError("bad_response", f"sdist {sdist.filename} does not match its sha256")
        try:
            info = read_sdist(body)
        except WheelError as exc:
            raise _InsufficientError("archive_extraction_failed", f"sdist {sdist.filename}: {exc}") from None
        return info.metadata, info.entry_points, info.scripts

    def _select(self, project: str) -> WheelFile | SdistFile:
        url = project_url(self.index_url, project)
        try:
            resp = self._http.get(self.ecosystem, url, accept=SIMPLE_JSON, max_bytes=self._max_bytes)
            page = resp.json((SIMPLE_JSON,))
            choice = select_wheel(page, resp.url, project)
        except ApiError as exc:
            raise _UpstreamError(
                exc.subcategory, f"index page of {normalize_project(project)}: {exc.detail}"
            ) from None
        except MalformedPageError as exc:
            raise _UpstreamError(
                "bad_response", f"index page of {normalize_project(project)} is not PEP 691 JSON: {exc}"
            ) from None
        if isinstance(choice, NoWheel):
            sdist = select_sdist(page, resp.url, project)
            if sdist is None:
                raise _InsufficientError(
                    "archive_extraction_failed", f"{normalize_project(project)}: {choice.reason}"
                )
            return sdist  # pip (and pipx) build it; its commands are read without a build
        return choice

    def _metadata_file(self, wheel: WheelFile) -> bytes | None:
        """PEP 658 METADATA, or ``None`` when the index offers it but does not serve it (404)."""
        assert wheel.metadata is not None
        try:
            body = self._http.get(self.ecosystem, wheel.metadata.url, max_bytes=MEMBER_CAP).body
        except ApiError as exc:
            if exc.subcategory == "not_found":
                return None  # the wheel itself still has METADATA
            raise _UpstreamError(exc.subcategory, f"metadata of {wheel.filename}: {exc.detail}") from None
        if wheel.metadata.sha256 and hashlib.sha256(body).hexdigest() != wheel.metadata.sha256:
            raise _UpstreamError("bad_response", f"metadata of {wheel.filename} does not match its sha256")
        return body

    def _index_hosts(self, file_url: str) -> tuple[str, ...]:
        return tuple(
            host for host in (urlsplit(self.index_url).hostname, urlsplit(file_url).hostname) if host
        )
