"""The eight ecosystems' popularity sources and the factory that builds one from configuration."""

from __future__ import annotations

from .cargo import CargoSource as CargoSource
from .common import ApiSource as ApiSource
from .common import Row as Row
from .cpan import CpanSource as CpanSource
from .factory import Endpoints as Endpoints
from .factory import popularity_source as popularity_source
from .go import GoSource as GoSource
from .homebrew import CaskSource as CaskSource
from .homebrew import HomebrewSource as HomebrewSource
from .npm import NpmSource as NpmSource
from .pypi import PypiSource as PypiSource
from .rubygems import RubyGemsSource as RubyGemsSource
