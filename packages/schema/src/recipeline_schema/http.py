"""The HTTP rules every stage that talks to a package registry follows (ARCHITECTURE §5).

Needs the ``http`` extra (``recipeline-schema[http]``: requests). This module is not
imported by ``recipeline_schema/__init__.py``, so ``import recipeline_schema`` works without the
extra; users write ``from recipeline_schema.http import HttpClient``.

What ``HttpClient`` guarantees:
- one ``requests.Session`` per ecosystem, a ``User-Agent`` of ``recipeline/<version>``;
- connect/read timeouts, a total time per attempt, and a response size cap (the body is streamed
  and the transfer aborted as soon as it passes the cap);
- retries with exponential backoff for 5xx, connection errors and timeouts; ``Retry-After`` honoured
  on 429 (and 503) up to a bound, beyond which the request fails at once as ``rate_limited``;
- a rate limiter per host (a sliding window), with the ecosystem's limit; redirects are followed by
  hand so that every hop passes the limiter of its own host; a caller's ``Authorization`` header
  goes to the origin (scheme, host, port) of the URL asked for only, never to a hop on another
  origin (as requests and curl do: a registry's redirect to its storage host must not carry the
  registry's token, and signed-URL storage refuses a request that does);
- ``sleep``, the monotonic clock and the wall clock are injectable, so tests never wait.

Every failure is one exception whose ``subcategory`` is an ``api_error`` subcategory of the
taxonomy, decided from structured facts (status code, exception type, JSON decoding, content type,
size cap), never from message text:

SchemaError
└── ApiError    a request failed; ``subcategory`` in rate_limited | upstream_unavailable | timeout |
                not_found | bad_response

Callers record it as ``Failure.create(pkg, "api_error", exc.subcategory, str(exc), timestamp=now)``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions

from .ecosystems import ECOSYSTEM_TABLE
from .endpoints import redact_url as redact_url
from .errors import SchemaError
from .meta import installed_version

ApiSubcategory = Literal["rate_limited", "upstream_unavailable", "timeout", "not_found", "bad_response"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of ``url``, the default port made explicit."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(scheme)


_CHUNK = 64 * 1024


def _default_user_agent() -> str:
    return f"recipeline/{installed_version('recipeline-schema')}"


class ApiError(SchemaError):
    """A registry request failed; ``subcategory`` says how (an ``api_error`` subcategory)."""

    def __init__(
        self, subcategory: ApiSubcategory, url: str, detail: str, *, status: int | None = None
    ) -> None:
        self.subcategory: ApiSubcategory = subcategory
        self.url = redact_url(url)
        self.status = status
        self.detail = detail
        super().__init__(f"GET {self.url}: {detail}")


# --- settings ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``calls`` requests per ``period`` seconds, per host."""

    calls: int
    period: float

    def __post_init__(self) -> None:
        if self.calls < 1 or not self.period > 0:
            raise ValueError(f"rate limit needs calls >= 1 and period > 0, got {self.calls}/{self.period}")

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """``"10/60"`` (calls per seconds), ``"1/s"``, ``"10/min"`` or ``"100/h"``."""
        m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?|s|sec|min|h)\s*", text)
        if not m:
            raise ValueError(
                f"rate limit {text!r}: expected '<calls>/<seconds>', '<calls>/min' or '<calls>/s'"
            )
        unit = {"s": 1.0, "sec": 1.0, "min": 60.0, "h": 3600.0}
        period = unit.get(m.group(2))
        return cls(int(m.group(1)), period if period is not None else float(m.group(2)))

    def __str__(self) -> str:
        return f"{self.calls}/{self.period:g}s"


#: ARCHITECTURE §5 defaults, by ecosystem (the ecosystem table's ``rate_limit``); GHCR is reached
#: by the homebrew/cask clients.
DEFAULT_RATE_LIMITS: Mapping[str, RateLimit] = {row.id: RateLimit(*row.rate_limit) for row in ECOSYSTEM_TABLE}
#: Limit for an ecosystem key not in the table (e.g. a seeder's extra source).
FALLBACK_RATE_LIMIT = RateLimit(1, 1.0)


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """Timeouts, caps, retry policy and rate limits of an ``HttpClient``."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    #: wall time allowed for one attempt, body included (a server that trickles bytes)
    total_timeout: float = 300.0
    max_bytes: int = 64 * 1024 * 1024
    max_attempts: int = 4
    backoff_base: float = 1.0
    backoff_max: float = 30.0
    #: longest ``Retry-After`` we wait for; a longer one fails at once as ``rate_limited``
    max_retry_after: float = 120.0
    max_redirects: int = 5
    rate_limits: Mapping[str, RateLimit] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    #: limits by host name, for hosts shared or special (wins over the ecosystem's limit)
    host_rate_limits: Mapping[str, RateLimit] = field(default_factory=dict)

    def rate_limit(self, ecosystem: str, host: str) -> RateLimit:
        return self.host_rate_limits.get(host) or self.rate_limits.get(ecosystem) or FALLBACK_RATE_LIMIT

    def with_rate_limits(self, overrides: Mapping[str, RateLimit]) -> HttpSettings:
        """These settings with some ecosystems' limits replaced."""
        return replace(self, rate_limits={**self.rate_limits, **overrides})

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> HttpSettings:
        """Defaults, with ``RECIPELINE_RATE_LIMIT_<ECOSYSTEM>=<calls>/<seconds>`` applied."""
        prefix = "RECIPELINE_RATE_LIMIT_"
        overrides = {}
        for key, value in environ.items():
            if key.startswith(prefix) and key != prefix:
                try:
                    overrides[key[len(prefix) :].lower()] = RateLimit.parse(value)
                except ValueError as exc:
                    raise ValueError(f"environment variable {key}: {exc}") from None
        return cls().with_rate_limits(overrides)


# --- responses --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Response:
    """A complete response: final URL (after redirects), status, lower-cased headers, body."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def media_type(self) -> str:
        """The content type without parameters, lower-cased (``""`` when absent)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def json(self, content_types: tuple[str, ...] = ("application/json",)) -> Any:
        """The body as JSON, after checking the content type; ``ApiError(bad_response)`` otherwise."""
        if self.media_type not in content_types:
            raise ApiError(
                "bad_response",
                self.url,
                f"content type {self.media_type or '(none)'!r}, expected one of {list(content_types)}",
                status=self.status,
            )
        try:
            return json.loads(self.body)
        except UnicodeDecodeError as exc:
            raise ApiError("bad_response", self.url, f"JSON body is not UTF-8 (byte {exc.start})") from None
        except json.JSONDecodeError as exc:
            raise ApiError(
                "bad_response", self.url, f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None


@dataclass(frozen=True, slots=True)
class Tail:
    """The last bytes of a remote file: ``data`` starts at ``offset`` of a file of ``size`` bytes.

    ``ranged`` is false when the server ignored the ``Range`` header: ``data`` is then the whole
    file (downloaded under the size cap) and ``offset`` is 0.
    """

    data: bytes
    offset: int
    size: int
    ranged: bool


_CONTENT_RANGE = re.compile(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", re.IGNORECASE)


def _content_range(resp: Response) -> tuple[int, int, int | None] | None:
    """``(start, end, total)`` of a 206 answer; ``None`` when the header is malformed or does not
    match the body (the caller then reads the file with a plain ``GET``)."""
    m = _CONTENT_RANGE.fullmatch(resp.headers.get("content-range", ""))
    if not m:
        return None
    start, end = int(m.group(1)), int(m.group(2))
    total = None if m.group(3) == "*" else int(m.group(3))
    if end < start or len(resp.body) != end - start + 1 or (total is not None and end >= total):
        return None
    return start, end, total


# --- the client -------------------------------------------------------------------------------


class _TransientError(Exception):
    """One attempt failed in a way worth retrying (connection, timeout, truncated body)."""

    def __init__(self, subcategory: ApiSubcategory, detail: str) -> None:
        self.subcategory: ApiSubcategory = subcategory
        self.detail = detail
        super().__init__(detail)


class _HostLimiter:
    """A sliding window per host: at most ``limit.calls`` requests in any ``limit.period`` seconds.

    ``acquire`` computes the wait from the oldest request in the window and sleeps once (through
    the injectable ``sleep``), so a test clock that the sleep advances never spins.
    """

    def __init__(self, limit: RateLimit, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.limit = limit
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()

    def acquire(self) -> None:
        now = self._clock()
        while self._sent and now - self._sent[0] >= self.limit.period:
            self._sent.popleft()
        if len(self._sent) >= self.limit.calls:
            self._sleep(self._sent[0] + self.limit.period - now)
            now = max(self._clock(), self._sent[0] + self.limit.period)
            self._sent.popleft()
        self._sent.append(now)


class HttpClient:
    """Registry HTTP for several ecosystems: a session each, a limiter per host, shared rules.

    Use as a context manager (or call ``close``) to release the sessions.
    """

    def __init__(
        self,
        settings: HttpSettings | None = None,
        *,
        user_agent: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        session_factory: Callable[[], requests.Session] = requests.Session,
    ) -> None:
        self.settings = settings or HttpSettings()
        self.user_agent = user_agent or _default_user_agent()
        self._sleep = sleep
        self._clock = clock
        self._now = now
        self._session_factory = session_factory
        self._sessions: dict[str, requests.Session] = {}
        self._limiters: dict[str, _HostLimiter] = {}

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for session in self._sessions.values():
            session.close()
        self._sessions.clear()

    def session(self, ecosystem: str) -> requests.Session:
        """The ecosystem's session (created on first use)."""
        session = self._sessions.get(ecosystem)
        if session is None:
            session = self._session_factory()
            session.headers["User-Agent"] = self.user_agent
            self._sessions[ecosystem] = session
        return session

    def limiter(self, ecosystem: str, host: str) -> _HostLimiter:
        """The limiter of ``host``; its limit is that of the first ecosystem that reached it."""
        limiter = self._limiters.get(host)
        if limiter is None:
            limit = self.settings.rate_limit(ecosystem, host)
            limiter = self._limiters[host] = _HostLimiter(limit, self._clock, self._sleep)
        return limiter

    # --- public requests ----------------------------------------------------------------------

    def get(
        self,
        ecosystem: str,
        url: str,
        *,
        accept: str | None = None,
        headers: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> Response:
        """GET ``url`` (200 only), under every rule of this client."""
        hdrs = dict(headers or {})
        if accept:
            hdrs["Accept"] = accept
        return self._send(ecosystem, url, hdrs, max_bytes, ok=(200,))

    def get_json(
        self,
        ecosystem: str,
        url: str,
        *,
        accept: str = "application/json",
        content_types: tuple[str, ...] = ("application/json",),
        max_bytes: int | None = None,
    ) -> Any:
        """GET ``url`` and decode JSON after checking the content type is one of ``content_types``."""
        return self.get(ecosystem, url, accept=accept, max_bytes=max_bytes).json(content_types)

    def get_range(
        self,
        ecosystem: str,
        url: str,
        start: int,
        length: int,
        *,
        max_bytes: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> bytes:
        """Bytes ``[start, start + length)`` of ``url`` (fewer at the end of the file).

        A server that ignores ``Range`` (answers 200), or answers 206 with a ``Content-Range``
        that is malformed or does not match its body, is read with one plain ``GET`` under the
        size cap and sliced. ``headers`` go with the request (an ``Authorization`` is dropped on a
        redirect to another origin, as for ``get``).
        """
        if start < 0 or length < 1:
            raise ValueError(f"range needs start >= 0 and length >= 1, got {start}, {length}")
        resp, got = self._ranged(
            ecosystem, url, f"bytes={start}-{start + length - 1}", max_bytes, start=start, extra=headers
        )
        if got is None:
            return resp.body[start : start + length]
        return resp.body[:length]

    def get_tail(self, ecosystem: str, url: str, length: int, *, max_bytes: int | None = None) -> Tail:
        """The last ``length`` bytes of ``url`` and the file's size (suffix range ``bytes=-n``).

        When the server ignores ``Range``, or its range answer is unusable, the whole file comes
        back from one plain ``GET`` (``Tail.ranged`` false).
        """
        if length < 1:
            raise ValueError(f"tail length must be >= 1, got {length}")
        resp, got = self._ranged(ecosystem, url, f"bytes=-{length}", max_bytes, start=None)
        if got is None or got[2] is None:
            return Tail(resp.body, 0, len(resp.body), ranged=False)
        return Tail(resp.body, got[0], got[2], ranged=True)

    def _ranged(
        self,
        ecosystem: str,
        url: str,
        byte_range: str,
        max_bytes: int | None,
        *,
        start: int | None,
        extra: Mapping[str, str] | None = None,
    ) -> tuple[Response, tuple[int, int, int | None] | None]:
        """A range request and its checked ``Content-Range``; ``None`` with a whole-file answer."""
        headers = {**(extra or {}), "Accept-Encoding": "identity"}
        resp = self._send(ecosystem, url, {**headers, "Range": byte_range}, max_bytes, ok=(200, 206))
        if resp.status == 200:
            return resp, None
        got = _content_range(resp)
        usable = got is not None and (
            got[0] == start if start is not None else got[2] is not None and got[1] == got[2] - 1
        )
        if not usable:  # a range the server got wrong: the whole file, once, under the cap
            return self._send(ecosystem, url, headers, max_bytes, ok=(200,)), None
        return resp, got

    # --- retries ------------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        # integer exponent bounded before the float product: no overflow however many attempts
        return float(min(self.settings.backoff_max, self.settings.backoff_base * (2 ** min(attempt - 1, 32))))

    def _send(
        self,
        ecosystem: str,
        url: str,
        headers: dict[str, str],
        max_bytes: int | None,
        *,
        ok: tuple[int, ...],
    ) -> Response:
        limit = self.settings.max_bytes if max_bytes is None else max_bytes
        attempts = max(1, self.settings.max_attempts)
        attempt = 0
        while True:
            attempt += 1
            last = attempt >= attempts
            try:
                resp = self._follow(ecosystem, url, headers, limit, ok)
            except _TransientError as exc:
                if last:
                    raise ApiError(exc.subcategory, url, f"{exc.detail} (after {attempt} attempts)") from None
                self._sleep(self._backoff(attempt))
                continue
            status = resp.status
            if status in ok:
                return resp
            if status in (404, 410):
                raise ApiError("not_found", resp.url, f"HTTP {status}", status=status)
            if status == 429 or (status == 403 and resp.headers.get("x-ratelimit-remaining") == "0"):
                wait = self._retry_after(resp)
                if wait is not None and wait > self.settings.max_retry_after:
                    raise ApiError(
                        "rate_limited",
                        resp.url,
                        f"HTTP {status}, Retry-After {wait:g} s is over the "
                        f"{self.settings.max_retry_after:g} s bound",
                        status=status,
                    )
                if last:
                    raise ApiError(
                        "rate_limited", resp.url, f"HTTP {status} (after {attempt} attempts)", status=status
                    )
                self._sleep(wait if wait is not None else self._backoff(attempt))
                continue
            if 500 <= status <= 599:
                if last:
                    raise ApiError(
                        "upstream_unavailable",
                        resp.url,
                        f"HTTP {status} (after {attempt} attempts)",
                        status=status,
                    )
                wait = self._retry_after(resp) if status == 503 else None
                if wait is None or wait > self.settings.max_retry_after:
                    wait = self._backoff(attempt)
                self._sleep(wait)
                continue
            raise ApiError("bad_response", resp.url, f"unexpected HTTP {status}", status=status)

    def _retry_after(self, resp: Response) -> float | None:
        """Seconds from a ``Retry-After`` header (seconds or HTTP date); ``None`` when absent/invalid."""
        value = resp.headers.get("retry-after", "").strip()
        if not value:
            return None
        if re.fullmatch(r"\d+(\.\d+)?", value):
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        # measure against the server's own clock when it sent one (no skew), else ours
        reference = None
        if resp.headers.get("date"):
            try:
                reference = email.utils.parsedate_to_datetime(resp.headers["date"])
            except (TypeError, ValueError):
                reference = None
        if reference is None:
            reference = self._now()
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        if reference.tzinfo is None:
            reference = reference.replace(tzinfo=dt.UTC)
        return max(0.0, (when - reference).total_seconds())

    # --- one attempt --------------------------------------------------------------------------

    def _follow(
        self, ecosystem: str, url: str, headers: dict[str, str], limit: int, ok: tuple[int, ...]
    ) -> Response:
        """One attempt: follow redirects hop by hop, each hop through its host's limiter."""
        session = self.session(ecosystem)
        current = url
        origin = _origin(url)
        for _hop in range(self.settings.max_redirects + 1):
            parts = urlsplit(current)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ApiError("bad_response", current, "only http(s) URLs with a host can be fetched")
            self.limiter(ecosystem, parts.hostname.lower()).acquire()
            started = self._clock()
            hop_headers = (
                headers
                if _origin(current) == origin
                else {k: v for k, v in headers.items() if k.lower() != "authorization"}
            )
            try:
                raw = session.get(
                    current,
                    headers=hop_headers,
                    stream=True,
                    allow_redirects=False,
                    timeout=(self.settings.connect_timeout, self.settings.read_timeout),
                )
            except requests.Timeout as exc:
                raise _TransientError("timeout", f"timed out ({type(exc).__name__})") from None
            except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema) as exc:
                raise ApiError("bad_response", current, f"invalid URL ({type(exc).__name__})") from None
            except requests.ConnectionError as exc:
                raise _TransientError(
                    "upstream_unavailable", f"connection failed ({type(exc).__name__})"
                ) from None
            except requests.RequestException as exc:
                raise _TransientError(
                    "upstream_unavailable", f"request failed ({type(exc).__name__})"
                ) from None
            with raw:
                if raw.status_code in _REDIRECTS and raw.headers.get("location"):
                    target = urljoin(current, raw.headers["location"])
                    if parts.scheme == "https" and urlsplit(target).scheme != "https":
                        raise ApiError("bad_response", current, "redirect from https to a non-https URL")
                    current = target
                    continue
                headers_out = {k.lower(): v for k, v in raw.headers.items()}
                body = b""
                if raw.status_code in ok:
                    body = self._read_body(raw, current, limit, started)
                return Response(current, raw.status_code, headers_out, body)
        raise ApiError("bad_response", url, f"more than {self.settings.max_redirects} redirects")

    def _read_body(self, raw: requests.Response, url: str, limit: int, started: float) -> bytes:
        declared = raw.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise ApiError(
                "bad_response",
                url,
                f"body of {declared} bytes is over the {limit} byte cap",
                status=raw.status_code,
            )
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in raw.iter_content(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ApiError(
                        "bad_response",
                        url,
                        f"body is over the {limit} byte cap (aborted)",
                        status=raw.status_code,
                    )
                if self._clock() - started > self.settings.total_timeout:
                    raise _TransientError(
                        "timeout", f"body not received within {self.settings.total_timeout:g} s"
                    )
                chunks.append(chunk)
        except requests.ConnectionError as exc:
            # requests wraps a read timeout while streaming in ConnectionError: look at the cause
            if exc.args and isinstance(exc.args[0], urllib3.exceptions.ReadTimeoutError):
                raise _TransientError("timeout", "timed out reading the body") from None
            raise _TransientError(
                "upstream_unavailable", f"connection broke reading the body ({type(exc).__name__})"
            ) from None
        except requests.exceptions.ChunkedEncodingError as exc:
            raise _TransientError("upstream_unavailable", f"body truncated ({type(exc).__name__})") from None
        except requests.exceptions.ContentDecodingError:
            raise ApiError("bad_response", url, "body cannot be decoded (Content-Encoding)") from None
        return b"".join(chunks)
