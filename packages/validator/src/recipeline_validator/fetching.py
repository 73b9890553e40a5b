"""Phase 1 downloads over HTTP for the runners that resolve versions themselves
(``gem_install``, ``cpan_install``).

Every request goes through the run's ``HttpClient`` (``registry.client_for``: the generator's
rules, a rate limit per host shared by the run's recipes). A failed request is the recipe's
``api_error/<subcategory>`` (``registry.api_failure``: from the status code or exception, never
from text); a file whose sha256 is not the one the registry publishes is
``validation_failed/install_failed``. Inside a runner's phase 1 these raise ``FetchError``,
whose ``outcome`` the runner returns.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recipeline_schema.endpoints import EndpointError, api_base_url
from recipeline_schema.http import ApiError, HttpClient

from .outcome import SandboxOutcome, fail
from .output import cause_line
from .registry import api_failure

if TYPE_CHECKING:
    from .runner import StepContext

SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")


class FetchError(Exception):
    """A phase 1 step failed; ``outcome`` is the recipe's failure."""

    def __init__(self, outcome: SandboxOutcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


def base_url(key: str, caller_env: Mapping[str, str]) -> str:
    """``api_base_url(key)`` with the caller's ``RECIPELINE_<KEY>_URL``; a bad override fails the step."""
    try:
        return api_base_url(key, caller_env)
    except EndpointError as exc:
        raise FetchError(fail("install_failed", str(exc))) from None


def bad_response(url: str, detail: str) -> FetchError:
    """An answer that is not what the registry documents."""
    return FetchError(fail("bad_response", f"GET {url}: {detail}", category="api_error"))


def get_json(http: HttpClient, ecosystem: str, url: str, what: str) -> Any:
    """The decoded JSON at ``url``; any failure raised as ``FetchError``."""
    try:
        return http.get_json(ecosystem, url)
    except ApiError as exc:
        raise FetchError(api_failure(exc, what)) from None


def fetch_file(
    http: HttpClient, ecosystem: str, url: str, dest: Path, *, sha256: str | None, what: str
) -> None:
    """Download ``url`` to ``dest``, checking its sha256 when the registry published one."""
    try:
        body = http.get(ecosystem, url).body
    except ApiError as exc:
        raise FetchError(api_failure(exc, what)) from None
    if sha256 is not None:
        got = hashlib.sha256(body).hexdigest()
        if got != sha256.lower():
            raise FetchError(
                fail(
                    "install_failed",
                    f"{what}: checksum mismatch: sha256 {got}, the registry publishes {sha256}",
                )
            )
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(body)


def published_sha256(value: object, url: str) -> str | None:
    """A registry's sha256 field: None when absent, a bad_response when it is not 64 hex digits."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not SHA256_RE.fullmatch(value):
        raise bad_response(url, f"sha256 {str(value)[:80]!r} is not 64 hex digits")
    return value


def program_version(argv: list[str]) -> str | None:
    """The first line ``argv`` prints (a toolchain's version), or None when it does not start."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = done.stdout.strip().splitlines()
    return lines[0].strip() if done.returncode == 0 and lines else None


def helper_json(ctx: StepContext, argv: list[str], *, log: Path, what: str) -> Any:
    """The JSON object a toolchain helper (``ruby -e``, ``perl -e``: the toolchain's own code,
    never the package's) prints as its last line; run offline, in the clean environment."""
    done = ctx.run_offline(argv, env=ctx.offline_env(), log=log)
    lines = [line for line in done.output.splitlines() if line.startswith("{")]
    if done.exit_code != 0 or not lines:
        why = "timed out" if done.exit_code is None else cause_line(done.output)
        raise FetchError(fail("install_failed", f"{what}: {why}", output=done.output))
    try:
        value = json.loads(lines[-1])
    except ValueError as exc:
        raise FetchError(fail("install_failed", f"{what}: unreadable helper output: {exc}")) from None
    if not isinstance(value, dict):
        raise FetchError(fail("install_failed", f"{what}: expected a JSON object from the helper"))
    return value
