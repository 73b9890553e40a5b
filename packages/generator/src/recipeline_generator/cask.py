"""The Homebrew Cask builder: a cask's ``app``/``binary`` artifacts -> an ``app_bundle`` recipe.

One request (ecosystem ``cask``): ``GET <homebrew>/cask/<token>.json`` (base from
``recipeline_schema.api_base_url("homebrew")``). The recipe takes its version, URL and checksum
from tsuku's ``cask`` version provider at install time (``[version] source = "cask"``), so only
the artifacts decide whether a deterministic recipe exists, as in tsuku's ``iterm2`` recipe.

Refused (``deterministic_insufficient/unsupported_source``): ``pkg`` installers, ``installer``
scripts, ``preflight``/``postflight`` (and their ``uninstall_`` forms) blocks, several ``app``
bundles, and casks with neither an ``app`` nor a ``binary`` (fonts, plugins, ...): ``app_bundle``
copies one bundle and links binaries; it runs no installer and no cask Ruby code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from recipeline_schema import Recipe, Step, Verify, check_name

from .bottle import FORMULA_RE
from .builder_support import (
    ApiBuilder,
    InsufficientError,
    UpstreamError,
    describe,
    first_https,
    safe_executables,
    text_field,
)

#: Artifact kinds that run code or installers at install time: never deterministic.
REFUSED_ARTIFACTS = (
    "pkg",
    "installer",
    "preflight",
    "postflight",
    "uninstall_preflight",
    "uninstall_postflight",
)
#: An ``.app`` bundle name: no quotes, ``$``, ``/`` or control characters (spaces are fine).
APP_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._+()-]{0,120}\.app$")
#: One component of a path inside the bundle or the staged download.
_PART_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9 ._+()-]{0,120}$")
_APPDIR_PREFIXES = ("$APPDIR/", "{{appdir}}/", "#{appdir}/")
_APP_VERIFY_REASON = (
    "macOS applications do not have version flags; verification checks that the .app bundle was installed"
)


def _names(value: Any) -> list[str]:
    """The string entries of an artifact's argument list (options dicts like ``target`` skipped)."""
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, str)]


class CaskBuilder(ApiBuilder):
    """Builds recipes for ``cask:<token>`` sources (macOS only)."""

    ecosystem = "cask"
    api_key = "homebrew"

    def can_build(self, identifier: str) -> bool:
        """True for a homebrew/cask token (lower case, digits, ``@+._-``; no tap paths)."""
        return bool(FORMULA_RE.match(identifier)) and ".." not in identifier

    def _generate(self, token: str, name: str) -> Recipe:
        if not self.can_build(token):
            raise InsufficientError("unsupported_source", f"{token[:60]!r} is not a homebrew/cask token")
        doc = self._get(f"cask/{quote(token, safe='@+')}.json", f"cask {token}")
        artifacts = doc.get("artifacts")
        if not isinstance(artifacts, list):
            raise UpstreamError("bad_response", f"cask {token}: 'artifacts' is not an array")
        app, binaries = self._artifacts(token, artifacts)
        homepage = first_https([text_field(doc, "homepage")])
        if homepage is None:
            raise InsufficientError(None, f"cask {token}: no https homepage (tsuku requires one)")
        check_name(name)
        names = doc.get("name")
        title = names[0] if isinstance(names, list) and names and isinstance(names[0], str) else ""
        params: dict[str, Any] = {"url": "{version.url}", "checksum": "{version.checksum}"}
        if app is not None:
            params["app_name"] = app
        if binaries:
            params["binaries"] = binaries
        if binaries:
            exe = sorted(path.rsplit("/", 1)[-1] for path in binaries)[0]
            verify = Verify(command=f"{exe} --version", pattern="{version}")
        else:
            verify = Verify(
                command=f"test -d $TSUKU_HOME/apps/{name}-*.app", mode="output", reason=_APP_VERIFY_REASON
            )
        return Recipe(
            name=name,
            description=describe(
                text_field(doc, "desc") or title, f"macOS application {token} (Homebrew Cask)"
            ),
            homepage=homepage,
            steps=(Step("app_bundle", params),),
            verify=verify,
            metadata={"supported_os": ("darwin",)},
            version={"source": "cask", "cask": token},
        )

    def _artifacts(self, token: str, artifacts: list[Any]) -> tuple[str | None, tuple[str, ...]]:
        """The one ``.app`` bundle (or ``None``) and the binaries' paths, refusing installers."""
        apps: list[str] = []
        raw_binaries: list[str] = []
        for artifact in artifacts:
            if not isinstance(artifact, Mapping):
                continue
            for kind in sorted(k for k in artifact if k in REFUSED_ARTIFACTS):
                raise InsufficientError(
                    "unsupported_source",
                    f"cask {token} has a {kind} artifact; app_bundle runs no installers or cask scripts",
                )
            if "app" in artifact:
                apps += _names(artifact["app"])[:1]  # later strings are options' values, never apps
            if "binary" in artifact:
                raw_binaries += _names(artifact["binary"])[:1]
        if len(apps) > 1:
            raise InsufficientError(
                "unsupported_source",
                f"cask {token} installs {len(apps)} app bundles; app_bundle installs one",
            )
        app = apps[0] if apps else None
        if app is not None and not APP_RE.match(app):
            raise InsufficientError(
                "binary_discovery_failed", f"cask {token}: app name {app[:60]!r} is not a safe bundle name"
            )
        if app is None and not raw_binaries:
            raise InsufficientError(
                "unsupported_source", f"cask {token} has no app or binary artifact (not an application)"
            )
        binaries = tuple(sorted({self._binary_path(token, raw, app) for raw in raw_binaries}))
        safe_executables((path.rsplit("/", 1)[-1] for path in binaries), f"cask {token}")
        return app, binaries

    @staticmethod
    def _binary_path(token: str, raw: str, app: str | None) -> str:
        """A binary's path inside the app bundle (``Contents/...``) or the staged download."""
        path = raw
        for prefix in _APPDIR_PREFIXES:
            if path.startswith(prefix):
                path = path[len(prefix) :]
                if app is not None and path.startswith(app + "/"):
                    path = path[len(app) + 1 :]
                break
        parts = path.split("/")
        if (
            not path
            or not all(_PART_RE.match(part) for part in parts)
            or any(p.strip(".") == "" for p in parts)
        ):
            raise InsufficientError(
                "binary_discovery_failed",
                f"cask {token}: binary path {raw[:60]!r} is not a safe relative path",
            )
        return path
