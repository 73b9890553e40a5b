"""Build an ecosystem's popularity source from configuration.

Base URLs come from ``recipeline_schema``: ``api_base_url`` (the overridable table,
``RECIPELINE_<KEY>_URL``) for every API but PyPI's index and npm's registry, which come from the
user's pip and npm configuration. Endpoints are resolved when the source is fetched, so a
missing configuration fails that source (recorded, the run goes on) instead of the run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from recipeline_schema import EndpointError, api_base_url, npm_registry_url, pypi_index_url
from recipeline_schema.http import HttpClient

from ..candidates import Candidate
from ..config import SourceSettings
from ..errors import SourceError
from .cargo import CargoSource
from .common import ApiSource, Drop
from .cpan import CpanSource
from .go import GoSource
from .homebrew import CaskSource, HomebrewSource
from .npm import NpmSource, downloads_base_url
from .pypi import PypiSource
from .rubygems import RubyGemsSource


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Resolves base URLs; tests and callers may replace any of the three functions."""

    environ: Mapping[str, str]
    base: Callable[[str, Mapping[str, str]], str] = api_base_url
    npm: Callable[[Mapping[str, str]], str] = npm_registry_url
    pypi: Callable[[Mapping[str, str]], str] = pypi_index_url

    def api(self, key: str) -> str:
        return self.base(key, self.environ)


_LABELS = {
    "homebrew": HomebrewSource.label,
    "cask": CaskSource.label,
    "cargo": CargoSource.label,
    "npm": NpmSource.label,
    "pypi": PypiSource.label,
    "rubygems": RubyGemsSource.label,
    "go": GoSource.label,
    "cpan": CpanSource.label,
}


class LazySource:
    """A source built when fetched, so that a missing endpoint is one failed source."""

    def __init__(self, name: str, build: Callable[[], ApiSource]) -> None:
        self.name = name
        self.build = build
        #: what the last fetch read and did not propose
        self.dropped: tuple[Drop, ...] = ()

    def fetch(self) -> tuple[Candidate, ...]:
        try:
            source = self.build()
        except EndpointError as exc:
            raise SourceError(str(exc)) from None
        try:
            return source.fetch()
        finally:
            self.dropped = tuple(source.dropped)


def popularity_source(
    ecosystem: str,
    client: HttpClient,
    settings: SourceSettings,
    endpoints: Endpoints,
    *,
    now: dt.datetime,
) -> LazySource:
    """The popularity source of ``ecosystem`` (an ecosystem id, already normalised)."""

    def build() -> ApiSource:
        if ecosystem == "homebrew":
            return HomebrewSource(client, endpoints.api("homebrew"), settings, ghcr_url=endpoints.api("ghcr"))
        if ecosystem == "cask":
            return CaskSource(client, endpoints.api("homebrew"), settings)
        if ecosystem == "cargo":
            return CargoSource(client, endpoints.api("cargo"), settings)
        if ecosystem == "npm":
            registry = endpoints.npm(endpoints.environ)
            return NpmSource(
                client, registry, settings, downloads_url=downloads_base_url(registry, endpoints.environ)
            )
        if ecosystem == "pypi":
            return PypiSource(
                client, endpoints.api("top_pypi"), settings, index_url=endpoints.pypi(endpoints.environ)
            )
        if ecosystem == "rubygems":
            return RubyGemsSource(client, endpoints.api("rubygems"), settings)
        if ecosystem == "go":
            return GoSource(
                client, endpoints.api("go_index"), settings, now=now, proxy_url=endpoints.api("go")
            )
        if ecosystem == "cpan":
            return CpanSource(client, endpoints.api("cpan"), settings)
        raise SourceError(f"no popularity source for ecosystem {ecosystem!r}")

    return LazySource(_LABELS.get(ecosystem, ecosystem), build)
