"""Where each contract lives in a recipeline repository (ARCHITECTURE §1-§3)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from .ecosystems import check_name, normalize_ecosystem
from .ids import check_batch_id  # light: layout must not load the models
from .timefmt import format_file_time


@dataclass(frozen=True, slots=True)
class Layout:
    """Paths under one repository root. Nothing here touches the filesystem."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    def queue(self, ecosystem: str) -> Path:
        return self.data / "queues" / f"priority-queue-{normalize_ecosystem(ecosystem)}.json"

    @property
    def failures_dir(self) -> Path:
        return self.data / "failures"

    def failure_file(self, ecosystem: str, when: dt.datetime) -> Path:
        return self.failures_dir / f"{normalize_ecosystem(ecosystem)}-{format_file_time(when)}.jsonl"

    @property
    def metrics(self) -> Path:
        return self.data / "metrics" / "batch-runs.jsonl"

    @property
    def seeding_metrics(self) -> Path:
        return self.data / "metrics" / "seeding-runs.jsonl"

    @property
    def batches_dir(self) -> Path:
        return self.data / "batches"

    def manifest(self, batch_id: str) -> Path:
        return self.batches_dir / f"{check_batch_id(batch_id)}.json"

    def rollback_record(self, batch_id: str) -> Path:
        return self.batches_dir / f"{check_batch_id(batch_id)}.rollback.json"

    def release_record(self, batch_id: str) -> Path:
        return self.batches_dir / f"{check_batch_id(batch_id)}.release.json"

    @property
    def curated(self) -> Path:
        return self.data / "disambiguations" / "curated.jsonl"

    @property
    def control(self) -> Path:
        return self.root / "batch-control.json"

    @property
    def schemas_dir(self) -> Path:
        return self.data / "schemas"

    @property
    def recipes_dir(self) -> Path:
        return self.root / "recipes"

    def recipe(self, name: str) -> Path:
        check_name(name)
        return self.recipes_dir / name[0].lower() / f"{name}.toml"

    @property
    def website(self) -> Path:
        return self.root / "website" / "pipeline"

    @property
    def build(self) -> Path:
        return self.root / "build"

    def batch_dir(self, batch_id: str) -> Path:
        return self.build / "batches" / check_batch_id(batch_id)

    @property
    def lock(self) -> Path:
        """The writer lock for ``data/`` (outside git: build/ is ignored)."""
        return self.build / "recipeline.lock"


class BatchDir:
    """Files of one batch directory, handed from stage to stage."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def plan(self) -> Path:
        return self.path / "manifest.json"

    @property
    def recipes(self) -> Path:
        return self.path / "recipes"

    def recipe(self, name: str) -> Path:
        return self.recipes / f"{check_name(name)}.toml"

    @property
    def generation(self) -> Path:
        return self.path / "generation.json"

    @property
    def results_dir(self) -> Path:
        return self.path / "results"

    def results(self, environment: str) -> Path:
        return self.results_dir / f"{environment}.json"

    @property
    def pr_body(self) -> Path:
        return self.path / "pr-body.md"
