"""What the runners that ask a registry themselves share (``cargo_install``, ``go_install``).

- One ``HttpClient`` per rate-limit configuration (``recipeline_schema.http``: timeouts, size
  cap, retries, ``Retry-After``, a limiter per host shared by every recipe of the run), with the
  limits of ``RECIPELINE_RATE_LIMIT_<ECOSYSTEM>`` in the caller's environment;
- ``api_failure``: an ``ApiError`` as the recipe's ``api_error/<subcategory>`` outcome, the
  subcategory decided by the client from the status and exception type, never from text;
- SemVer 2.0 precedence, for picking the newest version as ``cargo install`` and ``go install
  @latest`` do: the newest release, else the newest pre-release.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from recipeline_schema.http import ApiError, HttpClient, HttpSettings

from .outcome import SandboxOutcome, fail

_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$"
)
SemverKey = tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]

_CLIENTS: dict[tuple[tuple[str, str], ...], HttpClient] = {}
_CLIENTS_LOCK = threading.Lock()


def client_for(caller_env: Mapping[str, str]) -> HttpClient:
    """The run's HTTP client for these rate-limit settings (created once, shared by recipes)."""
    key = tuple(sorted((k, v) for k, v in caller_env.items() if k.startswith("RECIPELINE_RATE_LIMIT_")))
    with _CLIENTS_LOCK:
        if key not in _CLIENTS:
            _CLIENTS[key] = HttpClient(HttpSettings.from_env(dict(key)))
        return _CLIENTS[key]


def api_failure(exc: ApiError, what: str) -> SandboxOutcome:
    """A registry fault of phase 1 as the recipe's ``api_error`` outcome, naming what was asked."""
    return fail(exc.subcategory, f"{what}: {exc}", category="api_error")


def json_object(body: bytes) -> Mapping[str, Any] | None:
    """A registry answer's JSON object, whatever content type a static host gave it; ``None``
    when the bytes are not a JSON object."""
    try:
        value = json.loads(body)
    except ValueError:  # UnicodeDecodeError included
        return None
    return value if isinstance(value, Mapping) else None


def semver_key(text: str) -> SemverKey | None:
    """A sort key giving SemVer 2.0 precedence (a leading ``v`` and build metadata ignored),
    or ``None`` when ``text`` is not SemVer."""
    m = _SEMVER.match(text)
    if m is None:
        return None
    major, minor, patch, pre = int(m[1]), int(m[2]), int(m[3]), m[4]
    if pre is None:
        return (major, minor, patch, 1, ())
    # numeric identifiers sort below alphanumeric ones; a shorter list below a longer one
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (major, minor, patch, 0, parts)


def newest(versions: Iterable[str]) -> str | None:
    """The newest SemVer of ``versions``: releases before pre-releases; ``None`` when none is."""
    best: tuple[tuple[bool, SemverKey], str] | None = None
    for version in versions:
        key = semver_key(version)
        if key is None:
            continue
        rank = (key[3] == 1, key)
        if best is None or rank > best[0]:
            best = (rank, version)
    return None if best is None else best[1]


def version_number(text: str) -> str:
    """The first ``N.N[.N]`` of a tool's ``--version`` line (``cargo 1.95.0 (...)`` -> ``1.95.0``)."""
    m = re.search(r"\d+\.\d+(?:\.\d+)?", text)
    return m.group(0) if m else ""


def older(have: str, need: str) -> bool:
    """True when version ``have`` (``1.27.3``) is below ``need`` (``1.30``, ``1.99.0``)."""

    def parts(text: str) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", text)[:3])

    return parts(have) < parts(need)
