"""The Homebrew Cask builder: a cask's ``app``/``binary`` artifacts -> an ``app_bundle`` recipe.

One request (ecosystem ``cask``): ``GET <homebrew>/cask/<token>.json`` (base from
``recipeline_schema.api_base_url("homebrew")``). The recipe takes its version, URL and checksum
from tsuku's ``cask`` version provider at install time (``[version] source = "cask"``), so only
the artifacts decide whether a deterministic recipe exists, as in tsuku's ``iterm2`` recipe.

Refused (``deterministic_insufficient/unsupported_source``): ``pkg`` installers, ``installer``
scripts, ``preflight``/``postflight`` blocks and their ``_steps`` and ``uninstall_`` forms,
``shim_script`` wrappers, a ``rename`` of downloaded files, several ``app`` bundles, casks with
neither an ``app`` nor a ``binary`` (fonts, plugins, ...): ``app_bundle`` copies one bundle and
links binaries; it runs no installer and no cask Ruby code. Also refused: a
``depends_on.macos`` limit the recipe cannot express (an upper bound, an exact list, a minimum
above the validated macOS); ``depends_on.arch`` is carried as ``supported_arch``.
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

#: Artifact kinds that run code or installers at install time: never deterministic. The
#: ``*_steps`` forms are Homebrew's newer declarative blocks (``preflight_steps do ... end``:
#: copy, symlink, run, write_file), serialized in the API as artifacts too.
REFUSED_ARTIFACTS = (
    "pkg",
    "installer",
    "preflight",
    "postflight",
    "uninstall_preflight",
    "uninstall_postflight",
    "preflight_steps",
    "postflight_steps",
    "uninstall_preflight_steps",
    "uninstall_postflight_steps",
    # writes a wrapper script that runs a file of the bundle with arguments (Homebrew/brew's
    # cask fixture everything-with-variations.json); its command is not a file app_bundle links
    "shim_script",
)
#: ``depends_on.arch`` entries -> tsuku's ``supported_arch`` names.
ARCHES = {("intel", 64): "amd64", ("arm", 64): "arm64"}
#: The macOS major version the pipeline validates casks on (the batch workflow's macOS runners):
#: a lower bound at or below it is met where the recipe is proven.
VALIDATED_MACOS = 15
_MACOS_VERSION = re.compile(r"^(\d+)(?:\.\d+)*$")
#: macOS release names some API answers carry instead of numbers (``">=": ["ventura"]``).
MACOS_NAMES = {
    "el_capitan": "10.11",
    "sierra": "10.12",
    "high_sierra": "10.13",
    "mojave": "10.14",
    "catalina": "10.15",
    "big_sur": "11",
    "monterey": "12",
    "ventura": "13",
    "sonoma": "14",
    "sequoia": "15",
    "tahoe": "26",
}
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
        return bool(FORMULA_RE.fullmatch(identifier)) and ".." not in identifier

    def _generate(self, token: str, name: str) -> Recipe:
        if not self.can_build(token):
            raise InsufficientError("unsupported_source", f"{token[:60]!r} is not a homebrew/cask token")
        doc = self._get(f"cask/{quote(token, safe='@+')}.json", f"cask {token}")
        artifacts = doc.get("artifacts")
        if not isinstance(artifacts, list):
            raise UpstreamError("bad_response", f"cask {token}: 'artifacts' is not an array")
        rename = doc.get("rename")
        if rename is not None and not isinstance(rename, list):
            raise UpstreamError("bad_response", f"cask {token}: 'rename' is not an array")
        if rename:
            # [{"from", "to"}] renames files of the download before the artifacts are installed:
            # the app named in the artifacts is not in the archive app_bundle unpacks
            raise InsufficientError(
                "unsupported_source",
                f"cask {token} renames files of its download before installing; app_bundle does not",
            )
        app, binaries = self._artifacts(token, artifacts)
        arches = self._depends_on(token, doc.get("depends_on"))
        homepage = first_https([text_field(doc, "homepage")])
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
            homepage=homepage or "",
            steps=(Step("app_bundle", params),),
            verify=verify,
            metadata={"supported_os": ("darwin",), **({"supported_arch": arches} if arches else {})},
            version={"source": "cask", "cask": token},
        )

    def _artifacts(self, token: str, artifacts: list[Any]) -> tuple[str | None, tuple[str, ...]]:
        """The one ``.app`` bundle (or ``None``) and the binaries' paths, refusing installers."""
        apps: list[str] = []
        raw_binaries: list[str] = []
        for i, artifact in enumerate(artifacts):
            if not isinstance(artifact, Mapping):
                # the API once wrote artifacts as bare lists (["Docker.app"]), without their kind:
                # an app, a binary and a completion cannot be told apart, so nothing can be claimed
                raise UpstreamError(
                    "bad_response", f"cask {token}: 'artifacts[{i}]' is not an object naming its kind"
                )
            refused = (
                k for k in artifact if k in REFUSED_ARTIFACTS or (isinstance(k, str) and "flight" in k)
            )
            for kind in sorted(refused):
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
        if app is not None and not APP_RE.fullmatch(app):
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
    def _depends_on(token: str, depends_on: Any) -> tuple[str, ...]:
        """``supported_arch`` from ``depends_on.arch``; macOS limits a recipe cannot express refused.

        ``depends_on`` is ``{"macos": {"<op>": ["<version>", ...]}, "arch": [{"type", "bits"}], ...}``
        as the cask API serializes ``depends_on macos: ">= :monterey"`` / ``arch: :arm64``.
        """
        if depends_on is None:
            return ()
        if not isinstance(depends_on, Mapping):
            raise UpstreamError("bad_response", f"cask {token}: 'depends_on' is not an object")
        macos = depends_on.get("macos")
        if macos is not None:
            if not isinstance(macos, Mapping) or not macos:
                raise UpstreamError("bad_response", f"cask {token}: 'depends_on.macos' is not an object")
            for op, raw_versions in macos.items():
                versions = raw_versions
                if isinstance(raw_versions, list):
                    versions = [
                        MACOS_NAMES.get(v.lstrip(":"), v) if isinstance(v, str) else v for v in raw_versions
                    ]
                if (
                    not isinstance(versions, list)
                    or not versions
                    or not all(isinstance(v, str) and _MACOS_VERSION.match(v) for v in versions)
                ):
                    raise UpstreamError(
                        "bad_response",
                        f"cask {token}: 'depends_on.macos.{str(op)[:8]}' is not a list of versions",
                    )
                majors = [int(v.split(".")[0]) for v in versions]
                if op in (">=", ">") and max(majors) <= VALIDATED_MACOS - (op == ">"):
                    continue  # met on every macOS the recipe is validated on
                raise InsufficientError(
                    "unsupported_source",
                    f"cask {token} requires macOS {op} {', '.join(versions)}; "
                    "a recipe cannot express a macOS version limit",
                )
        arch = depends_on.get("arch")
        if arch is None:
            return ()
        if not isinstance(arch, list) or not arch:
            raise UpstreamError("bad_response", f"cask {token}: 'depends_on.arch' is not a list")
        names = []
        for i, entry in enumerate(arch):
            kind = entry.get("type") if isinstance(entry, Mapping) else None
            bits = entry.get("bits") if isinstance(entry, Mapping) else None
            name = ARCHES.get((kind, bits)) if isinstance(kind, str) and isinstance(bits, int) else None
            if name is None:
                raise UpstreamError(
                    "bad_response",
                    f"cask {token}: 'depends_on.arch[{i}]' is not {{type: intel|arm, bits: 64}}",
                )
            names.append(name)
        return tuple(sorted(set(names)))

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
            or not all(_PART_RE.fullmatch(part) for part in parts)
            or any(p.strip(".") == "" for p in parts)
        ):
            raise InsufficientError(
                "binary_discovery_failed",
                f"cask {token}: binary path {raw[:60]!r} is not a safe relative path",
            )
        return path
