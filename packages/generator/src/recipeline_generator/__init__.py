"""recipeline-generator: curated routing and deterministic builders -> tsuku recipes.

Public surface:
- ``Builder`` (protocol), ``BuilderRegistry``, ``default_registry``;
- ``PypiBuilder`` (``pypi:<project>`` -> ``pipx_install`` recipe);
- ``CargoBuilder``, ``NpmBuilder``, ``RubygemsBuilder``, ``GoBuilder`` (``cargo_install``,
  ``npm_install``, ``gem_install``, ``go_install`` recipes);
- ``HomebrewBuilder`` (``homebrew`` + ``install_binaries`` from the bottle's ``bin/``),
  ``CaskBuilder`` (``app_bundle``), ``CpanBuilder`` (``cpan_install``);
- ``TsukuBackend`` (runs ``tsuku create --deterministic-only``), ``RecipeIndex``/``read_recipe_index``
  (the recipes dependency checks compare against);
- ``route``/``Route`` (curated override, skip reasons), ``generate_package``, ``generate_batch``;
- ``GeneratorError``, ``ConfigurationError``.
"""

from __future__ import annotations

from recipeline_schema import installed_version

from .batch import generate_batch as generate_batch
from .batch import generate_package as generate_package
from .builder import Builder as Builder
from .builder import BuilderRegistry as BuilderRegistry
from .builder import default_registry as default_registry
from .cargo import CargoBuilder as CargoBuilder
from .cask import CaskBuilder as CaskBuilder
from .cpan import CpanBuilder as CpanBuilder
from .errors import ConfigurationError as ConfigurationError
from .errors import GeneratorError as GeneratorError
from .gomodule import GoBuilder as GoBuilder
from .homebrew import HomebrewBuilder as HomebrewBuilder
from .npm import NpmBuilder as NpmBuilder
from .pypi import PypiBuilder as PypiBuilder
from .recipe_index import RecipeIndex as RecipeIndex
from .recipe_index import read_recipe_index as read_recipe_index
from .routing import Route as Route
from .routing import route as route
from .rubygems import RubygemsBuilder as RubygemsBuilder
from .tsuku_backend import TsukuBackend as TsukuBackend

__version__ = installed_version("recipeline-generator")
