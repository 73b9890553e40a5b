"""recipeline-generator: curated routing and deterministic builders -> tsuku recipes.

Public surface:
- ``Builder`` (protocol), ``BuilderRegistry``, ``default_registry``;
- ``PypiBuilder`` (``pypi:<project>`` -> ``pipx_install`` recipe);
- ``route``/``Route`` (curated override, skip reasons), ``generate_package``, ``generate_batch``;
- ``GeneratorError``, ``ConfigurationError``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .batch import generate_batch as generate_batch
from .batch import generate_package as generate_package
from .builder import Builder as Builder
from .builder import BuilderRegistry as BuilderRegistry
from .builder import default_registry as default_registry
from .errors import ConfigurationError as ConfigurationError
from .errors import GeneratorError as GeneratorError
from .pypi import PypiBuilder as PypiBuilder
from .routing import Route as Route
from .routing import route as route

try:
    __version__ = version("recipeline-generator")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"
