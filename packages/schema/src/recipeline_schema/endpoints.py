"""Where the registries are: PyPI and npm from the user's own client configuration, the others
from one table that users can override (ARCHITECTURE §5).

No registry host of PyPI or npm is written here: the PyPI simple index comes from ``PIP_INDEX_URL``,
then pip's configuration (as ``pip config list`` reports it), then pip's built-in default asked from
pip at run time; the npm registry comes from ``npm_config_registry``, then ``npm config get
registry``, then ``~/.npmrc``. A mirror or a corporate proxy configured for pip or npm is therefore
what recipeline uses too.
"""

from __future__ import annotations

import ast
import base64
import binascii
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

from .ecosystems import ECOSYSTEM_TABLE
from .errors import SchemaError

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


class EndpointError(SchemaError):
    """No usable endpoint was found (or a configured one is not an http(s) URL)."""


#: Public API base URLs of the ecosystems whose endpoint is not a client setting, from the
#: ecosystem table. Override one with ``RECIPELINE_<KEY>_URL`` (key upper-cased), e.g.
#: ``RECIPELINE_CARGO_URL``.
API_BASE_URLS: Mapping[str, str] = {key: url for row in ECOSYSTEM_TABLE for key, url in row.endpoints}

#: In which order pip configuration keys name the index: the generated recipes run ``pip install``
#: (through pipx), so its section wins over ``global``; ``download`` is the last resort.
PIP_INDEX_KEYS: tuple[str, ...] = ("install.index-url", "global.index-url", "download.index-url")

_PIP_DEFAULT_INDEX = "from pip._internal.models.index import PyPI; print(PyPI.simple_url)"


def redact_url(url: str) -> str:
    """``url`` without a password or token in its user part (safe for messages and logs)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()


_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")


def scrub_secret(text: str, secret: str, mask: str = "***") -> str:
    """``text`` without ``secret`` in any form a remote or a library may echo it in.

    Literal, percent-encoded (``quote`` and ``quote_plus``), and inside base64 (standard or URL-safe),
    whatever comes before it: HTTP Basic credentials are ``base64("user:" + secret)``, and the user
    name shifts the alignment, so every base64-looking run of ``text`` is decoded and replaced when
    the decoded bytes contain the secret.
    """
    if not secret:
        return text
    for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
        text = text.replace(form, mask)
    needle = secret.encode()

    def hide(match: re.Match[str]) -> str:
        run = match.group(0)
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            for cut in range(4):  # a run glued to a neighbouring word: try the aligned tails
                chunk = run[cut:]
                try:
                    if needle in decode(chunk + "=" * (-len(chunk) % 4)):
                        return mask
                except (binascii.Error, ValueError):
                    continue
        return run

    return _BASE64_RUN.sub(hide, text)


def _check_url(url: str, origin: str) -> str:
    """``url`` stripped, if it is an absolute http(s) URL; ``EndpointError`` naming ``origin`` else."""
    value = url.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise EndpointError(f"{origin}: expected an http(s) URL, got {redact_url(value)!r}")
    return value


def _environ(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def _run(run: Runner, argv: Sequence[str], environ: Mapping[str, str], timeout: float) -> str | None:
    """stdout of ``argv``, or ``None`` when the program is missing, fails or hangs."""
    try:
        proc = run(
            list(argv), env=dict(environ), capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None


# --- PyPI -------------------------------------------------------------------------------------


def parse_pip_config_list(text: str) -> dict[str, str]:
    """Parse ``pip config list`` output (``section.key='value'`` lines) into a dict."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, raw = line.partition("=")
        if not sep:
            continue
        try:
            value: Any = ast.literal_eval(raw.strip())
        except (ValueError, SyntaxError):
            value = raw.strip().strip("'\"")
        # pip accepts index_url as well as index-url in files
        out[key.strip().replace("_", "-")] = str(value)
    return out


def pypi_index_url(
    environ: Mapping[str, str] | None = None,
    *,
    python: str = sys.executable,
    run: Runner = subprocess.run,
    timeout: float = 60.0,
) -> str:
    """The PyPI simple index URL pip would install from, ending in ``/``.

    Order: ``PIP_INDEX_URL``; pip's configuration files as pip orders them (``<python> -m pip config
    list``, keys in ``PIP_INDEX_KEYS`` order); pip's built-in default. ``EndpointError`` when none.
    """
    env = _environ(environ)
    if env.get("PIP_INDEX_URL", "").strip():
        return _slash(_check_url(env["PIP_INDEX_URL"], "environment variable PIP_INDEX_URL"))
    listed = _run(run, [python, "-m", "pip", "config", "list"], env, timeout)
    if listed is not None:
        config = parse_pip_config_list(listed)
        for key in PIP_INDEX_KEYS:
            if config.get(key, "").strip():
                return _slash(_check_url(config[key], f"pip configuration {key}"))
    default = _run(run, [python, "-c", _PIP_DEFAULT_INDEX], env, timeout)
    if default and default.strip():
        return _slash(_check_url(default.strip().splitlines()[-1], f"pip's default index ({python})"))
    raise EndpointError(
        "no PyPI index: PIP_INDEX_URL is not set, pip's configuration has no index-url, and "
        f"{python} -m pip could not be asked for its default; set PIP_INDEX_URL or pass --index-url"
    )


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


# --- npm --------------------------------------------------------------------------------------


def _npmrc_registry(path: Path) -> str | None:
    """The ``registry=`` value of an ``.npmrc`` file, or ``None``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    found = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        key, sep, value = stripped.partition("=")
        if sep and key.strip() == "registry":
            found = value.strip().strip("'\"")  # npm: a later line wins
    return found or None


def npm_registry_url(
    environ: Mapping[str, str] | None = None,
    *,
    npm: str = "npm",
    run: Runner = subprocess.run,
    home: Path | None = None,
    timeout: float = 60.0,
) -> str:
    """The npm registry URL npm would use, ending in ``/``.

    Order: ``npm_config_registry`` (any case, as npm reads it); ``npm config get registry``; the
    user's ``.npmrc`` (``NPM_CONFIG_USERCONFIG`` or ``~/.npmrc``). ``EndpointError`` when none.
    """
    env = _environ(environ)
    for key, value in sorted(env.items()):
        if key.lower() == "npm_config_registry" and value.strip():
            return _slash(_check_url(value, f"environment variable {key}"))
    out = _run(run, [npm, "config", "get", "registry"], env, timeout)
    if out is not None:
        value = out.strip().splitlines()[-1].strip() if out.strip() else ""
        if value and value not in ("undefined", "null"):
            return _slash(_check_url(value, "npm config get registry"))
    userconfig = next((v for k, v in env.items() if k.lower() == "npm_config_userconfig" and v), None)
    if userconfig:
        rc = Path(userconfig)
    else:
        base = home if home is not None else Path(env["HOME"]) if env.get("HOME") else Path.home()
        rc = base / ".npmrc"
    found = _npmrc_registry(rc)
    if found:
        return _slash(_check_url(found, f"{rc}: registry"))
    raise EndpointError(
        f"no npm registry: npm_config_registry is not set, {npm!r} could not be run, and {rc} has no "
        "'registry=' line; set npm_config_registry"
    )


# --- the other ecosystems ---------------------------------------------------------------------


def api_base_url(key: str, environ: Mapping[str, str] | None = None) -> str:
    """Base URL for ``key`` of ``API_BASE_URLS`` (no trailing ``/``), ``RECIPELINE_<KEY>_URL`` first."""
    if key not in API_BASE_URLS:
        raise EndpointError(f"unknown API {key!r}; expected one of {sorted(API_BASE_URLS)}")
    var = f"RECIPELINE_{key.upper()}_URL"
    override = _environ(environ).get(var, "").strip()
    if override:
        return _check_url(override, f"environment variable {var}").rstrip("/")
    return API_BASE_URLS[key]
