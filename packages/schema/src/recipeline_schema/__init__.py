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

Imports are lazy (PEP 562): ``import recipeline_schema`` loads no submodule, and each public name
imports its own submodule on first use, so a stage that needs the layout and the time rules does
not pay for tomlkit, the contracts or the endpoint configuration.
"""

from __future__ import annotations

import importlib

# not ``typing.TYPE_CHECKING``: importing typing would cost more than this whole module
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._codec import from_json as from_json
    from ._codec import to_json as to_json
    from .contracts import CONTRACTS as CONTRACTS
    from .contracts import all_schemas as all_schemas
    from .contracts import schema_of as schema_of
    from .disambiguation import curated_by_tool as curated_by_tool
    from .disambiguation import read_curated as read_curated
    from .ecosystems import ECOSYSTEMS as ECOSYSTEMS
    from .ecosystems import ROTATION as ROTATION
    from .ecosystems import Ecosystem as Ecosystem
    from .ecosystems import Source as Source
    from .ecosystems import check_name as check_name
    from .ecosystems import normalize_ecosystem as normalize_ecosystem
    from .ecosystems import parse_source as parse_source
    from .endpoints import API_BASE_URLS as API_BASE_URLS
    from .endpoints import EndpointError as EndpointError
    from .endpoints import api_base_url as api_base_url
    from .endpoints import npm_registry_url as npm_registry_url
    from .endpoints import pypi_index_url as pypi_index_url
    from .endpoints import redact_url as redact_url
    from .environments import ENVIRONMENTS as ENVIRONMENTS
    from .environments import Environment as Environment
    from .environments import environment_for as environment_for
    from .environments import parse_environment as parse_environment
    from .errors import DataFileError as DataFileError
    from .errors import DecodeError as DecodeError
    from .errors import InvalidValueError as InvalidValueError
    from .errors import LockTimeoutError as LockTimeoutError
    from .errors import SchemaError as SchemaError
    from .ids import check_batch_id as check_batch_id
    from .io import append_jsonl as append_jsonl
    from .io import atomic_write_bytes as atomic_write_bytes
    from .io import atomic_write_text as atomic_write_text
    from .io import decode as decode
    from .io import dumps as dumps
    from .io import file_lock as file_lock
    from .io import load as load
    from .io import read_json as read_json
    from .io import read_jsonl as read_jsonl
    from .io import save as save
    from .io import write_jsonl as write_jsonl
    from .layout import BatchDir as BatchDir
    from .layout import Layout as Layout
    from .meta import installed_version as installed_version
    from .models import BUDGET_PAUSE_AT as BUDGET_PAUSE_AT
    from .models import BUDGET_SAMPLE_AT as BUDGET_SAMPLE_AT
    from .models import CONFIDENCES as CONFIDENCES
    from .models import QUEUE_STATUSES as QUEUE_STATUSES
    from .models import BatchControl as BatchControl
    from .models import BatchManifest as BatchManifest
    from .models import BatchPlan as BatchPlan
    from .models import BatchPullRequest as BatchPullRequest
    from .models import BreakerState as BreakerState
    from .models import Budget as Budget
    from .models import Disambiguation as Disambiguation
    from .models import Failure as Failure
    from .models import FailureRecord as FailureRecord
    from .models import Gate as Gate
    from .models import GeneratedPackage as GeneratedPackage
    from .models import GenerationReport as GenerationReport
    from .models import ManifestPackage as ManifestPackage
    from .models import MetricsLine as MetricsLine
    from .models import PlannedPackage as PlannedPackage
    from .models import PullRequestRef as PullRequestRef
    from .models import Queue as Queue
    from .models import QueueEntry as QueueEntry
    from .models import RecipeResult as RecipeResult
    from .models import Release as Release
    from .models import ReleaseRecord as ReleaseRecord
    from .models import RollbackRecord as RollbackRecord
    from .models import SafetyVerdict as SafetyVerdict
    from .models import SeedingRun as SeedingRun
    from .models import ValidationReport as ValidationReport
    from .models import one_line as one_line
    from .progress import Progress as Progress
    from .queue import is_eligible as is_eligible
    from .queue import mark_in_progress as mark_in_progress
    from .queue import next_batch_id as next_batch_id
    from .queue import order_key as order_key
    from .queue import ordered as ordered
    from .queue import replace_entries as replace_entries
    from .queue import select_batch as select_batch
    from .recipe import RECIPE_SCHEMA as RECIPE_SCHEMA
    from .recipe import Recipe as Recipe
    from .recipe import Step as Step
    from .recipe import Verify as Verify
    from .recipe import parse_recipe_toml as parse_recipe_toml
    from .recipe import recipe_from_toml as recipe_from_toml
    from .recipe import recipe_path as recipe_path
    from .recipe import recipe_to_toml as recipe_to_toml
    from .recipe import sha256_text as sha256_text
    from .taxonomy import CATEGORIES as CATEGORIES
    from .taxonomy import EXIT_CODES as EXIT_CODES
    from .taxonomy import LEGACY_CATEGORY_NAMES as LEGACY_CATEGORY_NAMES
    from .taxonomy import TAXONOMY as TAXONOMY
    from .taxonomy import is_transient as is_transient
    from .taxonomy import map_legacy as map_legacy
    from .timefmt import CLOCK_VARIABLE as CLOCK_VARIABLE
    from .timefmt import current_time as current_time
    from .timefmt import format_file_time as format_file_time
    from .timefmt import format_time as format_time
    from .timefmt import parse_time as parse_time
    from .timefmt import parse_time_lenient as parse_time_lenient
    from .timefmt import utc as utc
    from .validation import validate as validate

#: each public name -> the submodule that defines it
_EXPORTS: dict[str, str] = {
    "from_json": "_codec",
    "to_json": "_codec",
    "CONTRACTS": "contracts",
    "all_schemas": "contracts",
    "schema_of": "contracts",
    "curated_by_tool": "disambiguation",
    "read_curated": "disambiguation",
    "ECOSYSTEMS": "ecosystems",
    "ROTATION": "ecosystems",
    "Ecosystem": "ecosystems",
    "Source": "ecosystems",
    "check_name": "ecosystems",
    "normalize_ecosystem": "ecosystems",
    "parse_source": "ecosystems",
    "API_BASE_URLS": "endpoints",
    "EndpointError": "endpoints",
    "api_base_url": "endpoints",
    "npm_registry_url": "endpoints",
    "pypi_index_url": "endpoints",
    "redact_url": "endpoints",
    "ENVIRONMENTS": "environments",
    "Environment": "environments",
    "environment_for": "environments",
    "parse_environment": "environments",
    "DataFileError": "errors",
    "DecodeError": "errors",
    "InvalidValueError": "errors",
    "LockTimeoutError": "errors",
    "SchemaError": "errors",
    "append_jsonl": "io",
    "atomic_write_bytes": "io",
    "atomic_write_text": "io",
    "decode": "io",
    "dumps": "io",
    "file_lock": "io",
    "load": "io",
    "read_json": "io",
    "read_jsonl": "io",
    "save": "io",
    "write_jsonl": "io",
    "BatchDir": "layout",
    "Layout": "layout",
    "BUDGET_PAUSE_AT": "models",
    "BUDGET_SAMPLE_AT": "models",
    "CONFIDENCES": "models",
    "QUEUE_STATUSES": "models",
    "BatchControl": "models",
    "BatchManifest": "models",
    "BatchPullRequest": "models",
    "BatchPlan": "models",
    "BreakerState": "models",
    "Budget": "models",
    "Disambiguation": "models",
    "Failure": "models",
    "FailureRecord": "models",
    "Gate": "models",
    "GeneratedPackage": "models",
    "GenerationReport": "models",
    "ManifestPackage": "models",
    "MetricsLine": "models",
    "PlannedPackage": "models",
    "PullRequestRef": "models",
    "Queue": "models",
    "QueueEntry": "models",
    "RecipeResult": "models",
    "Release": "models",
    "ReleaseRecord": "models",
    "RollbackRecord": "models",
    "SafetyVerdict": "models",
    "SeedingRun": "models",
    "ValidationReport": "models",
    "one_line": "models",
    "Progress": "progress",
    "check_batch_id": "ids",
    "is_eligible": "queue",
    "mark_in_progress": "queue",
    "next_batch_id": "queue",
    "order_key": "queue",
    "ordered": "queue",
    "replace_entries": "queue",
    "select_batch": "queue",
    "RECIPE_SCHEMA": "recipe",
    "Recipe": "recipe",
    "Step": "recipe",
    "Verify": "recipe",
    "parse_recipe_toml": "recipe",
    "recipe_from_toml": "recipe",
    "recipe_path": "recipe",
    "recipe_to_toml": "recipe",
    "sha256_text": "recipe",
    "CATEGORIES": "taxonomy",
    "EXIT_CODES": "taxonomy",
    "LEGACY_CATEGORY_NAMES": "taxonomy",
    "TAXONOMY": "taxonomy",
    "is_transient": "taxonomy",
    "map_legacy": "taxonomy",
    "installed_version": "meta",
    "CLOCK_VARIABLE": "timefmt",
    "current_time": "timefmt",
    "format_file_time": "timefmt",
    "format_time": "timefmt",
    "parse_time": "timefmt",
    "parse_time_lenient": "timefmt",
    "utc": "timefmt",
    "validate": "validation",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """A public name, imported from its submodule on first use and then kept in the module's
    globals; ``__version__``, read from the installed metadata on first use (``importlib.metadata``
    costs more at import than a reader of a few data files spends on its work)."""
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f".{module}", __name__), name)
        globals()[name] = value
        return value
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from .meta import installed_version

    found = globals()["__version__"] = installed_version("recipeline-schema")
    return found


def __dir__() -> list[str]:
    """The public names, imported or not, next to what the module already holds."""
    return sorted(set(globals()) | set(_EXPORTS) | {"__version__"})
