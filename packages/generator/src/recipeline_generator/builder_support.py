"""What the registry builders (cargo, npm, RubyGems, Go) share: outcomes as exceptions inside a
builder, turned into ``Failure`` records at its edge, and the one-step install recipe.

A builder's steps raise ``InsufficientError`` (``deterministic_insufficient``/subcategory, decided from
which step found nothing or which artifact was missing) or ``UpstreamError`` (``api_error``/subcategory
straight from ``ApiError.subcategory``); ``run_builder`` records either as a ``Failure``. Messages
name the package, the file and the cause, never a registry URL: failure records are committed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from recipeline_schema import Failure, Recipe, Step, Verify, check_name
from recipeline_schema.http import ApiError

from .recipes import RejectedName, check_executables, https_url, one_line_text, verify_executable


class InsufficientError(Exception):
    """Deterministic generation cannot go on (``deterministic_insufficient``/``subcategory``)."""

    def __init__(self, subcategory: str | None, message: str) -> None:
        self.subcategory = subcategory
        super().__init__(message)


class UpstreamError(Exception):
    """A registry request failed (``api_error``/``subcategory``); the message has no URL."""

    def __init__(self, subcategory: str, message: str) -> None:
        self.subcategory = subcategory
        super().__init__(message)


def upstream(exc: ApiError, what: str) -> UpstreamError:
    """``exc`` as an ``UpstreamError`` whose message says ``what`` was asked for and the cause."""
    return UpstreamError(exc.subcategory, f"{what}: {exc.detail}")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def run_builder(
    package_id: str, build: Callable[[], Recipe], now: Callable[[], dt.datetime]
) -> Recipe | Failure:
    """``build()``'s recipe, or its ``InsufficientError``/``UpstreamError`` outcome as a failure record."""
    try:
        return build()
    except UpstreamError as exc:
        return Failure.create(package_id, "api_error", exc.subcategory, str(exc), timestamp=now())
    except InsufficientError as exc:
        return Failure.create(
            package_id, "deterministic_insufficient", exc.subcategory, str(exc), timestamp=now()
        )


def safe_executables(names: Iterable[str], where: str) -> tuple[str, ...]:
    """The names sorted and unique; one unsafe name fails the package (it is not trusted)."""
    checked = check_executables(names)
    if isinstance(checked, RejectedName):
        raise InsufficientError(
            "binary_discovery_failed",
            f"{where}: executable name {checked.shown} is not a safe executable name; "
            "the package's executables are not trusted",
        )
    return checked


def text_field(data: Mapping[str, Any], key: str) -> str:
    """``data[key]`` when it is a string, else ``""`` (upstream JSON fields may be null or odd)."""
    value = data.get(key)
    return value if isinstance(value, str) else ""


def first_https(candidates: Iterable[str], *, avoid_hosts: tuple[str, ...] = ()) -> str | None:
    """The first candidate that is a plain https URL off the registry's own hosts."""
    for candidate in candidates:
        if candidate:
            url = https_url(candidate, avoid_hosts=avoid_hosts)
            if url is not None:
                return url
    return None


def hosts(*urls: str) -> tuple[str, ...]:
    """The host names of ``urls`` (a registry page is not a project homepage)."""
    out = []
    for url in urls:
        try:
            host = urlsplit(url).hostname
        except ValueError:
            continue
        if host:
            out.append(host.lower())
    return tuple(out)


def describe(summary: str, fallback: str) -> str:
    """The summary on one line (at most 300 characters), or ``fallback`` when it is empty."""
    return one_line_text(summary) or fallback


def install_recipe(
    *,
    name: str,
    action: str,
    package_key: str,
    package: str,
    executables: tuple[str, ...],
    description: str,
    homepage: str,
    project: str,
) -> Recipe:
    """A one-step ``<action>`` recipe verified by ``<executable> --version`` printing the version.

    ``project`` is the package's own short name, used to choose the verify executable.
    """
    check_name(name)
    exe = verify_executable(executables, tool=name, project=project)
    return Recipe(
        name=name,
        description=description,
        homepage=homepage,
        steps=(Step(action, {package_key: package, "executables": executables}),),
        verify=Verify(command=f"{exe} --version", pattern="{version}"),
    )
