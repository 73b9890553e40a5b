"""What the registry builders (cargo, npm, RubyGems, Go) share: outcomes as exceptions inside a
builder, turned into ``Failure`` records at its edge, and the one-step install recipe.

A builder's steps raise ``InsufficientError`` (``deterministic_insufficient``/subcategory, decided from
which step found nothing or which artifact was missing) or ``UpstreamError`` (``api_error``/subcategory
straight from ``ApiError.subcategory``); ``run_builder`` records either as a ``Failure``. Messages
name the package, the file and the cause, never a registry URL: failure records are committed.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from recipeline_schema import Failure, Recipe, api_base_url
from recipeline_schema.http import ApiError, HttpClient

from .recipes import RejectedName, check_executables, https_url, installs_itself, one_line_text


class InsufficientError(Exception):
    """Deterministic generation cannot go on (``deterministic_insufficient``/``subcategory``)."""

    def __init__(self, subcategory: str | None, message: str) -> None:
        self.subcategory = subcategory
        super().__init__(message)


class UpstreamError(Exception):
    """A registry request failed (``api_error``/``subcategory``); the message has no URL.

    ``status`` is the HTTP status of the last answer when there was one (a 5xx that persisted
    across the client's retries, a 404, ...), ``None`` for connection errors and timeouts.
    """

    def __init__(self, subcategory: str, message: str, *, status: int | None = None) -> None:
        self.subcategory = subcategory
        self.status = status
        super().__init__(message)


def upstream(exc: ApiError, what: str) -> UpstreamError:
    """``exc`` as an ``UpstreamError`` whose message says ``what`` was asked for and the cause."""
    return UpstreamError(exc.subcategory, f"{what}: {exc.detail}", status=exc.status)


#: The HTTP status of a persistent 5xx that ended the package being generated in this context
#: (set by ``run_builder``, taken by the batch: ``take_server_error``). Failure records carry no
#: HTTP status, and the batch needs it to tell a rejected request from an outage.
_SERVER_ERROR: contextvars.ContextVar[int | None] = contextvars.ContextVar("server_error", default=None)


def take_server_error() -> int | None:
    """The 5xx status recorded by the last ``run_builder`` of this context, and forget it."""
    status = _SERVER_ERROR.get()
    _SERVER_ERROR.set(None)
    return status


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ApiBuilder:
    """A builder over one registry's JSON API (cargo, RubyGems, CPAN, Cask).

    It holds the shared client, the API base URL (the one given, else the configured
    ``api_base_url(api_key)``, resolved on first use so tests and mirrors can override it), and
    turns the steps' exceptions into failure records in ``generate``.
    """

    ecosystem: str
    api_key: str  # the key of recipeline_schema.api_base_url

    def __init__(
        self, http: HttpClient, *, api_url: str | None = None, now: Callable[[], dt.datetime] = utcnow
    ) -> None:
        self._http = http
        self._api_url = api_url.rstrip("/") if api_url else None
        self._now = now

    @property
    def api_url(self) -> str:
        if self._api_url is None:
            self._api_url = api_base_url(self.api_key).rstrip("/")
        return self._api_url

    def generate(self, identifier: str, *, name: str) -> Recipe | Failure:
        """The recipe ``name`` for ``identifier``, or why there is none."""
        return run_builder(
            f"{self.ecosystem}:{identifier}", lambda: self._generate(identifier, name), self._now
        )

    def _generate(self, identifier: str, name: str) -> Recipe:
        raise NotImplementedError

    def _get(self, path: str, what: str) -> Mapping[str, Any]:
        """GET ``<api>/<path>`` as a JSON object; failures as ``UpstreamError`` naming ``what``."""
        try:
            data = self._http.get_json(self.ecosystem, f"{self.api_url}/{path}")
        except ApiError as exc:
            raise upstream(exc, what) from None
        if not isinstance(data, Mapping):
            raise UpstreamError("bad_response", f"{what}: expected a JSON object")
        return data


def run_builder(
    package_id: str, build: Callable[[], Recipe], now: Callable[[], dt.datetime]
) -> Recipe | Failure:
    """``build()``'s recipe, or its ``InsufficientError``/``UpstreamError`` outcome as a failure record."""
    _SERVER_ERROR.set(None)
    try:
        recipe = build()
        # a recipe that installs its own action's installer (recipes.INSTALLERS) depends on itself
        reason = installs_itself(recipe)
        if reason is not None:
            raise InsufficientError("installs_itself", reason)
        return recipe
    except UpstreamError as exc:
        if exc.status is not None and 500 <= exc.status <= 599:
            _SERVER_ERROR.set(exc.status)
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
