"""PyPI: the top-PyPI-packages list, keeping the projects whose wheel installs a command.

1. ``GET {top_pypi}/top-pypi-packages.min.json`` (a public dataset rebuilt monthly from PyPI's
   download statistics) answers ``{"last_update": "...", "rows": [{"download_count": n,
   "project": "boto3"}, ...]}``, most downloaded first.
2. Each project, up to ``scan_limit`` of them, is checked the way the generator's PyPI builder
   reads it (``recipeline_schema.wheels``, the one home of the rule): its page on the index pip
   is configured with (PEP 691 JSON, ``GET {index}<normalized project>/`` with ``Accept:
   application/vnd.pypi.simple.v1+json``), the wheel pip would install on Linux x86-64 (newest
   non-yanked release, ``packaging.tags`` ranking), and that wheel's ``entry_points.txt`` and file
   listing, read by range requests at the end of the zip. Its executables are the
   ``console_scripts`` and ``gui_scripts`` entry points and the files of ``.data/scripts/``,
   without names bound to one interpreter (``tool-3.11``). None: a library, dropped. A project
   whose best wheel fits no Linux target (``pywin32``: Windows wheels only) is dropped too.

The queue name is the command: the project's own name when it is one of the executables
(compared as PEP 503 names), else the first one (``Pygments`` -> ``pygmentize``); the identifier
is the project. A project page answering 404, a project without a wheel or an unreadable wheel
drops that project only, with the reason in the seeding-run record. A project that publishes
only an sdist is read as the builder reads it: the newest sdist, never built (egg-info entry
points, ``[project.scripts]``, setup.cfg). Reasons name the project and
the file, never the index URL (it is the user's configuration, and the record is committed).
"""

from __future__ import annotations

from collections.abc import Iterator

from recipeline_schema.http import ApiError, HttpClient
from recipeline_schema.wheels import (
    SDIST_CAP,
    SIMPLE_JSON,
    TARGETS,
    MalformedPageError,
    NoWheel,
    SdistFile,
    WheelError,
    normalize_project,
    project_url,
    read_dist_info,
    read_sdist,
    select_sdist,
    select_wheel,
    target_rank,
    wheel_executables,
)

from ..config import SourceSettings
from .common import ApiSource, Row, count, field


def command_name(project: str, executables: tuple[str, ...]) -> str:
    """The queue name: the executable named like the project (PEP 503), else the first one."""
    own = normalize_project(project)
    for name in executables:
        if normalize_project(name) == own:
            return name
    return executables[0]


class PypiSource(ApiSource):
    """The most downloaded PyPI projects whose wheel installs a command."""

    ecosystem = "pypi"
    label = "pypi:top-pypi-packages"

    def __init__(
        self, client: HttpClient, base_url: str, settings: SourceSettings, *, index_url: str
    ) -> None:
        super().__init__(client, base_url, settings)
        self.index_url = index_url if index_url.endswith("/") else index_url + "/"

    def rows(self) -> Iterator[Row]:
        url = f"{self.base_url}/top-pypi-packages.min.json"
        ranked = field(self.get_json(url), "rows", list, url)
        for i, row in enumerate(ranked[: self.settings.scan_limit]):
            project = row.get("project") if isinstance(row, dict) else None
            downloads = count(row.get("download_count")) if isinstance(row, dict) else None
            if not isinstance(project, str) or downloads is None:
                self.drop(f"{url} $.rows[{i}]", "expected 'project' and a numeric 'download_count'")
                continue
            command = self.command(project)
            if command is not None:
                yield Row(command, project, downloads)

    def command(self, project: str) -> str | None:
        """The command ``project``'s wheel installs; None (and a drop with the reason) otherwise."""
        try:
            resp = self.client.get(self.ecosystem, project_url(self.index_url, project), accept=SIMPLE_JSON)
            page = resp.json((SIMPLE_JSON,))
            choice = select_wheel(page, resp.url, project)
        except ApiError as exc:
            self.drop(project, f"api_error/{exc.subcategory}: index page of {project}: {exc.detail}")
            return None
        except MalformedPageError as exc:
            self.drop(project, f"api_error/bad_response: index page of {project} is not PEP 691 JSON: {exc}")
            return None
        if isinstance(choice, NoWheel):
            sdist = select_sdist(page, resp.url, project)
            if sdist is None:
                self.drop(project, choice.reason)
                return None
            return self._sdist_command(project, sdist)
        if target_rank(choice)[0] == len(TARGETS):
            self.drop(project, f"no wheel for Linux ({choice.filename} is its best); recipes target Linux")
            return None
        try:
            dist = read_dist_info(
                self.client,
                self.ecosystem,
                choice.url,
                project=project,
                wanted=("entry_points.txt",),
                sha256=choice.sha256,
                max_bytes=self.client.settings.max_bytes,
            )
        except ApiError as exc:
            self.drop(project, f"api_error/{exc.subcategory}: wheel {choice.filename}: {exc.detail}")
            return None
        except WheelError as exc:
            self.drop(project, f"api_error/bad_response: wheel {choice.filename}: {exc}")
            return None
        found = wheel_executables(dist.files.get("entry_points.txt", b""), dist.data_scripts)
        if not found.names:
            left = f" (left out: {', '.join(found.left_out)})" if found.left_out else ""
            self.drop(
                project,
                f"{choice.filename} installs no command: no console_scripts or gui_scripts entry "
                f"points and no .data/scripts files{left} (a library)",
            )
            return None
        return command_name(project, found.names)

    def _sdist_command(self, project: str, sdist: SdistFile) -> str | None:
        """The command of a project that publishes only an sdist, read as the builder reads it
        (the sdist downloaded whole under the cap, never built)."""
        cap = min(SDIST_CAP, self.client.settings.max_bytes)
        try:
            info = read_sdist(self.client.get(self.ecosystem, sdist.url, max_bytes=cap).body)
        except ApiError as exc:
            self.drop(project, f"api_error/{exc.subcategory}: sdist {sdist.filename}: {exc.detail}")
            return None
        except WheelError as exc:
            self.drop(project, f"api_error/bad_response: sdist {sdist.filename}: {exc}")
            return None
        found = wheel_executables(info.entry_points, info.scripts)
        if not found.names:
            self.drop(project, f"{sdist.filename} (no wheel) declares no command readable without a build")
            return None
        return command_name(project, found.names)
