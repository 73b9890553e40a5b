"""The registry of file contracts: which dataclass a file holds and its JSON Schema."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from functools import cache
from typing import Any

from . import models
from ._jsonschema import schema_for
from .recipe import RECIPE_SCHEMA

SCHEMA_BASE = "https://recipeline.invalid/schemas/"


@dataclass(frozen=True, slots=True)
class Contract:
    model: type
    schema_file: str  # name under data/schemas/
    title: str


CONTRACTS: tuple[Contract, ...] = (
    Contract(models.Queue, "queue.schema.json", "Priority queue of one ecosystem"),
    Contract(models.FailureRecord, "failure-record.schema.json", "Failure record line"),
    Contract(models.MetricsLine, "metrics.schema.json", "Batch metrics line"),
    Contract(models.SeedingRun, "seeding-run.schema.json", "Seeding run metrics line"),
    Contract(models.BatchControl, "batch-control.schema.json", "Batch control"),
    Contract(models.Disambiguation, "disambiguation.schema.json", "Curated disambiguation line"),
    Contract(models.BatchPlan, "batch-plan.schema.json", "Batch directory plan (manifest.json)"),
    Contract(models.GenerationReport, "generation-report.schema.json", "Batch generation report"),
    Contract(models.ValidationReport, "validation-report.schema.json", "Validation results"),
    Contract(models.BatchManifest, "batch-manifest.schema.json", "Batch manifest"),
    Contract(models.RollbackRecord, "rollback-record.schema.json", "Batch rollback record"),
    Contract(models.ReleaseRecord, "release-record.schema.json", "Batch release record"),
)
_BY_MODEL: dict[Hashable, Contract] = {c.model: c for c in CONTRACTS}


def contract_for(model: Hashable) -> Contract:
    try:
        return _BY_MODEL[model]
    except KeyError:
        raise TypeError(f"{model!r} is not a file contract") from None


@cache
def schema_of(model: Hashable) -> dict[str, Any]:
    c = contract_for(model)
    return schema_for(c.model, title=c.title, schema_id=SCHEMA_BASE + c.schema_file)


def all_schemas() -> dict[str, dict[str, Any]]:
    """Every committed schema by file name (the exports of ``data/schemas/``)."""
    out = {c.schema_file: schema_of(c.model) for c in CONTRACTS}
    out["recipe.schema.json"] = RECIPE_SCHEMA
    return dict(sorted(out.items()))
