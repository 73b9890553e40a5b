"""recipeline-schema: the data contracts every recipeline stage meets through.

Public surface (import from here, not from private modules):
- models: ``Queue``/``QueueEntry``, ``Failure``/``FailureRecord``, ``MetricsLine``, ``SeedingRun``,
  ``BatchControl``/``BreakerState``/``Budget``, ``Disambiguation``, the batch directory files
  (``BatchPlan``, ``GenerationReport``, ``ValidationReport``), ``BatchManifest``, ``RollbackRecord``,
  ``ReleaseRecord``;
- recipes: ``Recipe``/``Step``/``Verify``, ``recipe_to_toml``, ``recipe_from_toml``;
- IO: ``load``/``save``, ``read_jsonl``/``append_jsonl``/``write_jsonl``, ``atomic_write_*``,
  ``file_lock``; paths: ``Layout``, ``BatchDir``;
- rules: taxonomy, ecosystems, environments, queue order and selection, batch ids, time;
- endpoints: ``pypi_index_url``/``npm_registry_url`` from the user's pip/npm configuration,
  ``api_base_url`` for the other ecosystems.

The shared HTTP client needs the ``http`` extra and is imported from its module, so this package
imports without requests: ``from recipeline_schema.http import HttpClient, ApiError``.

The public names are listed once, in ``__init__.pyi``: type checkers read it as this module's
stub, and lazy_loader reads it at import to import each name from its submodule on first use
(PEP 562). So ``import recipeline_schema`` loads no submodule, and a stage that needs the layout
and the time rules does not pay for tomlkit, msgspec, the contracts or the endpoint
configuration (importing every submodule costs about 100 ms; the bare import about 10 ms).
"""

from __future__ import annotations

import lazy_loader

_getattr, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)


def __getattr__(name: str) -> object:
    """A public name, imported from its submodule on first use; ``__version__``, read from the
    installed metadata on first use (``importlib.metadata`` costs more at import than a reader of
    a few data files spends on its work)."""
    if name != "__version__":
        return _getattr(name)
    from .meta import installed_version

    found = globals()["__version__"] = installed_version("recipeline-schema")
    return found
