"""The Homebrew builder: a formula's bottle for the target platform -> ``homebrew`` +
``install_binaries`` recipe, or a failure record.

Requests (ecosystem ``homebrew``; bases from ``recipeline_schema.api_base_url``, overridable with
``RECIPELINE_HOMEBREW_URL`` / ``RECIPELINE_GHCR_URL`` or the constructor):
1. ``GET <homebrew>/formula/<name>.json``: description, homepage, runtime ``dependencies``,
   ``versions.stable``, ``revision``, ``bottle.stable.{rebuild,files}``;
2. ``GET <ghcr>/v2/homebrew/core/<repo>/blobs/sha256:<bottle.stable.files.<tag>.sha256>`` with
   the anonymous bearer token ``QQ==`` (as Homebrew itself sends): the bottle, sha256 checked, and
   its member list read in memory (nothing is extracted to disk). GHCR answers with a redirect to
   its signed-URL storage host; the shared ``HttpClient`` drops ``Authorization`` on a redirect
   to another origin. No image index or manifest is asked for: the formula JSON already names the
   blob (``bottle.stable.files.<tag>.url`` is ``.../blobs/sha256:<sha256>``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from recipeline_schema import Failure, Recipe, Step, Verify, api_base_url, check_name
from recipeline_schema.http import ApiError, HttpClient, Response

from .bottle import (
    FORMULA_RE,
    ArchiveError,
    BottleContents,
    BottleFacts,
    BottleFormatError,
    bottle_facts,
    ghcr_repository,
    list_bottle,
)
from .builder_support import (
    InsufficientError,
    UpstreamError,
    describe,
    first_https,
    run_builder,
    text_field,
    upstream,
)
from .builder_support import utcnow as _utcnow
from .recipe_index import RecipeIndex, recipe_name_for
from .recipes import verify_executable

#: Default bottle tag: recipes are validated on Linux first (ARCHITECTURE §2), so Linux bottles
#: decide what ``bin/`` holds. ``arm64_sonoma`` etc. work too.
DEFAULT_BOTTLE_TAG = "x86_64_linux"
#: GHCR's anonymous token, as ``brew`` sends it for public homebrew/core images.
ANONYMOUS_TOKEN = "QQ=="  # noqa: S105 - public, documented anonymous value, not a secret
#: Bottles are bigger than API answers; the cap still bounds memory (a 400 MiB bottle fails).
DEFAULT_MAX_BOTTLE_BYTES = 256 * 1024 * 1024


class MissingDependenciesError(Exception):
    """Runtime dependencies without a recipe (``missing_dep``, ``blocked_by`` = recipe names)."""

    def __init__(self, blocked_by: tuple[str, ...], message: str) -> None:
        self.blocked_by = blocked_by
        super().__init__(message)


def runtime_dependencies(doc: Mapping[str, Any], bottle_tag: str, formula: str) -> list[str]:
    """The formula's runtime dependencies on the bottle's platform.

    ``variations.<bottle tag>`` replaces ``dependencies``/``uses_from_macos`` when it has them
    (the API's per-platform differences); on Linux, ``uses_from_macos`` names without a build/test
    context are real dependencies (Homebrew installs them there), on macOS they are the system's.
    """
    variations = doc.get("variations")
    variation = variations.get(bottle_tag) if isinstance(variations, Mapping) else None
    source = variation if isinstance(variation, Mapping) else {}

    def field(key: str) -> Any:
        return source[key] if key in source else doc.get(key)

    deps = field("dependencies") or []
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise UpstreamError("bad_response", f"formula {formula}: 'dependencies' is not a list of names")
    names = list(deps)
    if bottle_tag.endswith("_linux"):
        macos = field("uses_from_macos") or []
        if not isinstance(macos, list):
            raise UpstreamError("bad_response", f"formula {formula}: 'uses_from_macos' is not a list")
        for i, entry in enumerate(macos):
            names += _uses_from_macos_runtime(entry, f"formula {formula}: 'uses_from_macos[{i}]'")
    return sorted(set(names))


#: Contexts of a ``uses_from_macos`` entry that do not make it a run-time dependency.
_NOT_RUNTIME = frozenset({"build", "test", "optional"})


def _uses_from_macos_runtime(entry: Any, what: str) -> list[str]:
    """The run-time name of one ``uses_from_macos`` entry (``[]`` when only needed to build/test).

    The API writes ``"zlib"``, ``{"curl": "build"}`` or ``{"m4": ["build", "test"]}``.
    """
    if isinstance(entry, str):
        return [entry]
    contexts = next(iter(entry.values())) if isinstance(entry, Mapping) and len(entry) == 1 else None
    if isinstance(contexts, str):
        contexts = [contexts]
    if not isinstance(contexts, list) or not contexts or not all(isinstance(c, str) for c in contexts):
        raise UpstreamError("bad_response", f"{what} is not a name or {{name: context(s)}}")
    return [] if set(contexts) <= _NOT_RUNTIME else [next(iter(entry))]


class HomebrewBuilder:
    """Builds recipes for ``homebrew:<formula>`` sources from the formula's bottle."""

    ecosystem = "homebrew"

    def __init__(
        self,
        http: HttpClient,
        *,
        api_url: str | None = None,
        ghcr_url: str | None = None,
        bottle_tag: str = DEFAULT_BOTTLE_TAG,
        recipes: RecipeIndex | None = None,
        now: Callable[[], dt.datetime] = _utcnow,
        max_bottle_bytes: int = DEFAULT_MAX_BOTTLE_BYTES,
    ) -> None:
        self._http = http
        self._api_url = api_url
        self._ghcr_url = ghcr_url
        self.bottle_tag = bottle_tag
        self._recipes = recipes
        self._now = now
        self._max_bottle_bytes = max_bottle_bytes

    def use_recipes(self, index: RecipeIndex) -> None:
        """Check runtime dependencies against ``index`` (the batch passes the repository's recipes)."""
        self._recipes = index

    @property
    def _api(self) -> str:
        """The homebrew API base URL: the one given, else ``api_base_url("homebrew")`` (resolved on use)."""
        return (self._api_url or api_base_url("homebrew")).rstrip("/")

    @property
    def _ghcr(self) -> str:
        """The ghcr API base URL: the one given, else ``api_base_url("ghcr")`` (resolved on use)."""
        return (self._ghcr_url or api_base_url("ghcr")).rstrip("/")

    def can_build(self, identifier: str) -> bool:
        """True for a homebrew/core formula name (tap paths ``org/tap/x`` are not handled)."""
        return bool(FORMULA_RE.fullmatch(identifier)) and ".." not in identifier

    def generate(self, identifier: str, *, name: str) -> Recipe | Failure:
        """The recipe ``name`` for formula ``identifier``, or why there is none."""
        package_id = f"{self.ecosystem}:{identifier}"
        try:
            return run_builder(package_id, lambda: self._generate(identifier, name), self._now)
        except MissingDependenciesError as exc:
            return Failure.create(
                package_id, "missing_dep", None, str(exc), timestamp=self._now(), blocked_by=exc.blocked_by
            )

    # --- steps --------------------------------------------------------------------------------

    def _generate(self, formula: str, name: str) -> Recipe:
        if not self.can_build(formula):
            raise InsufficientError(
                "unsupported_source", f"{formula[:60]!r} is not a homebrew/core formula name"
            )
        doc = self._formula(formula)
        try:
            facts = bottle_facts(doc)
        except BottleFormatError as exc:
            raise UpstreamError("bad_response", f"formula {formula}: {exc}") from None
        bottle_tag = facts.bottle_for(self.bottle_tag)
        if bottle_tag is None:
            have = ", ".join(sorted(facts.files)) or "none"
            raise InsufficientError(
                "no_bottle", f"formula {formula} has no bottle for {self.bottle_tag} (bottles: {have})"
            )
        homepage = first_https([text_field(doc, "homepage")])
        # the target platform's dependencies, also when an `all` bottle serves it
        dependencies = self._dependencies(formula, runtime_dependencies(doc, self.bottle_tag, formula))
        digest = self._bottle_digest(formula, facts, bottle_tag)
        contents = self._contents(formula, facts, bottle_tag, digest)
        exe = verify_executable(contents.executables, tool=name, project=formula)
        check_name(name)
        metadata: dict[str, Any] = {}
        if dependencies:
            metadata["dependencies"] = dependencies
        return Recipe(
            name=name,
            description=describe(text_field(doc, "desc"), f"Homebrew formula {formula}"),
            homepage=homepage or "",
            steps=(
                Step("homebrew", {"formula": formula}),
                Step("install_binaries", {"binaries": tuple(f"bin/{e}" for e in contents.executables)}),
            ),
            verify=Verify(command=f"{exe} --version", pattern="{version}"),
            metadata=metadata,
        )

    def _formula(self, formula: str) -> Mapping[str, Any]:
        url = f"{self._api}/formula/{quote(formula, safe='@+')}.json"
        try:
            doc = self._http.get_json(self.ecosystem, url)
        except ApiError as exc:
            raise upstream(exc, f"formula {formula}") from None
        if not isinstance(doc, Mapping):
            raise UpstreamError("bad_response", f"formula {formula}: the API answer is not a JSON object")
        return doc

    def _dependencies(self, formula: str, raw: list[str]) -> tuple[str, ...]:
        """Recipe names of the runtime dependencies; ``MissingDependenciesError`` when some have none."""
        for dep in raw:
            if not FORMULA_RE.fullmatch(dep) or ".." in dep:
                raise InsufficientError(
                    "unsupported_source",
                    f"formula {formula} depends on {dep[:60]!r}, which is not a homebrew/core formula name",
                )
        index = self._recipes
        if index is None:  # no repository to compare with (one-off --from): name them as recipes
            return tuple(sorted({recipe_name_for(d) for d in raw}))
        found = {dep: index.recipe_for(dep) for dep in raw}
        missing = sorted(dep for dep, recipe in found.items() if recipe is None)
        if missing:
            raise MissingDependenciesError(
                tuple(sorted({recipe_name_for(d) for d in missing})),
                f"formula {formula} requires dependencies without tsuku recipes: {', '.join(missing)}",
            )
        return tuple(sorted({recipe for recipe in found.values() if recipe is not None}))

    def _ghcr_get(self, formula: str, path: str, what: str, *, max_bytes: int | None) -> Response:
        url = f"{self._ghcr}/v2/homebrew/core/{quote(ghcr_repository(formula), safe='/')}/{path}"
        try:
            return self._http.get(
                self.ecosystem,
                url,
                headers={"Authorization": f"Bearer {ANONYMOUS_TOKEN}"},
                max_bytes=max_bytes,
            )
        except ApiError as exc:
            raise upstream(exc, f"{what} of {formula}") from None

    @staticmethod
    def _bottle_digest(formula: str, facts: BottleFacts, bottle_tag: str) -> str:
        """The blob digest the formula names for ``bottle_tag`` (``bottle.stable.files.<tag>.sha256``)."""
        sha = facts.files.get(bottle_tag)
        if not sha:
            raise UpstreamError(
                "bad_response",
                f"formula {formula}: 'bottle.stable.files.{bottle_tag}.sha256' "
                "is missing or not 64 hex digits",
            )
        return f"sha256:{sha}"

    def _contents(self, formula: str, facts: BottleFacts, bottle_tag: str, digest: str) -> BottleContents:
        what = f"bottle {facts.pkg_version}.{bottle_tag}"
        data = self._ghcr_get(formula, f"blobs/{digest}", what, max_bytes=self._max_bottle_bytes).body
        if hashlib.sha256(data).hexdigest() != digest.removeprefix("sha256:"):
            raise UpstreamError("bad_response", f"{what} of {formula} does not match its sha256 digest")
        try:
            contents = list_bottle(data)
        except ArchiveError as exc:
            raise InsufficientError("archive_extraction_failed", f"{what} of {formula}: {exc}") from None
        if not contents.executables:
            if contents.dropped:
                raise InsufficientError(
                    "binary_discovery_failed",
                    f"{what} of {formula}: no bin/ entry has a safe executable name "
                    f"(dropped: {', '.join(contents.dropped[:5])})",
                )
            if contents.has_library:
                raise InsufficientError(
                    "library_only", f"{what} of {formula} has no bin/ executables, only libraries"
                )
            raise InsufficientError("binary_discovery_failed", f"{what} of {formula} has no bin/ executables")
        return contents
