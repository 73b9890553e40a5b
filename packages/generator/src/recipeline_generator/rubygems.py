"""The RubyGems builder: a gem's current version and its ``.gem`` metadata -> a ``gem_install`` recipe.

Requests, all through the shared ``HttpClient`` (ecosystem ``rubygems``, 10 requests/min by
default), against the API base from ``recipeline_schema.api_base_url("rubygems")``
(``RECIPELINE_RUBYGEMS_URL`` overrides):
1. ``GET <api>/gems/<name>.json``: current version, platform and URLs (its ``info`` is the long
   description; the short ``summary`` is only in the gemspec);
2. ``GET <origin>/gems/<name>-<version>[-<platform>].gem`` on the API's own host (the URL is built,
   not taken from the answer's ``gem_uri``, so an API answer cannot send us to another host),
   its first 256 KiB by a range request (the whole file only when ``metadata.gz`` does not fit);
   ``executables`` and ``summary`` are read from its ``metadata.gz`` (``gem_archive``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from recipeline_schema import Recipe
from recipeline_schema.http import ApiError

from .builder_support import (
    ApiBuilder,
    InsufficientError,
    UpstreamError,
    describe,
    first_https,
    hosts,
    safe_executables,
    text_field,
    upstream,
)
from .forges import https_on_forge
from .gem_archive import GemError, GemSpec, NeedMoreError, read_gemspec
from .recipes import install_recipe

#: Gem names as RubyGems accepts them (letters, digits, ``.``, ``-``, ``_``).
GEM_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
#: First request for a ``.gem``: its start, which holds ``metadata.gz`` (the first member).
HEAD_BYTES = 256 * 1024
#: What a version or platform may be before it goes into a file name we request.
_PART_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")


class RubygemsBuilder(ApiBuilder):
    """Builds recipes for ``rubygems:<gem>`` sources from the RubyGems API and ``.gem`` files."""

    ecosystem = "rubygems"
    api_key = "rubygems"

    def can_build(self, identifier: str) -> bool:
        """True for a valid gem name."""
        return bool(GEM_RE.fullmatch(identifier)) and ".." not in identifier

    def gem_url(self, full_name: str) -> str:
        """``<scheme>://<api host>/gems/<full_name>.gem``: where RubyGems serves gem files."""
        parts = urlsplit(self.api_url)
        return f"{parts.scheme}://{parts.netloc}/gems/{full_name}.gem"

    def _info(self, gem: str) -> Mapping[str, Any]:
        return self._get(f"gems/{gem}.json", f"gem {gem}")

    def _gemspec(self, full_name: str) -> GemSpec:
        """The gemspec of ``<full_name>.gem``: from its first bytes, else from the whole file."""
        url = self.gem_url(full_name)
        try:
            try:
                head = self._http.get_range(self.ecosystem, url, 0, HEAD_BYTES)
                return read_gemspec(head, complete=len(head) < HEAD_BYTES)
            except NeedMoreError:
                return read_gemspec(self._http.get(self.ecosystem, url).body)
        except ApiError as exc:
            raise upstream(exc, f"{full_name}.gem") from None
        except GemError as exc:
            raise InsufficientError("archive_extraction_failed", f"{full_name}.gem: {exc}") from None

    def _generate(self, gem: str, name: str) -> Recipe:
        if not self.can_build(gem):
            raise InsufficientError("unsupported_source", f"{gem!r} is not a valid gem name")
        info = self._info(gem)
        version = text_field(info, "version")
        if not _PART_RE.fullmatch(version) or ".." in version:
            raise UpstreamError(
                "bad_response", f"gem {gem}: 'version' is missing, not a string or not a safe name"
            )
        platform = info.get("platform")
        platform = "ruby" if platform is None else platform
        if not isinstance(platform, str) or not _PART_RE.fullmatch(platform) or ".." in platform:
            raise UpstreamError("bad_response", f"gem {gem}: 'platform' is not a string or not a safe name")
        full_name = f"{gem}-{version}" if platform == "ruby" else f"{gem}-{version}-{platform}"
        spec = self._gemspec(full_name)
        if spec.name != gem:
            raise InsufficientError(
                "archive_extraction_failed",
                f"{full_name}.gem: its gemspec names another gem ({spec.name[:60]!r})",
            )
        if not spec.executables:
            raise InsufficientError(
                "binary_discovery_failed", f"{full_name}.gem declares no executables (a library gem)"
            )
        executables = safe_executables(spec.executables, f"{full_name}.gem")
        links = [text_field(info, key) for key in ("homepage_uri", "source_code_uri", "documentation_uri")]
        # older gems list only http:// links: a forge's page is the same page over https
        homepage = first_https(
            (https_on_forge(link) or link for link in links), avoid_hosts=hosts(self.api_url)
        )
        return install_recipe(
            name=name,
            action="gem_install",
            package_key="gem",
            package=gem,
            executables=executables,
            description=describe(
                spec.summary or text_field(info, "info"), f"Command-line tools of the gem {gem}"
            ),
            homepage=homepage,
            project=gem,
        )
