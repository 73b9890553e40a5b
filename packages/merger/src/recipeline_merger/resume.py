"""The resume protocol: which batch a killed run left unfinished, and where it stopped.

A batch directory under ``build/batches/`` with a plan (``manifest.json``) but no merged
manifest in ``data/batches/`` is unfinished (its run was killed); its generation is complete
once ``generation.json`` says so. Both files are read through their typed contracts, so a
corrupt one is a ``DataFileError`` naming the file and the field, and nothing is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recipeline_schema import BatchDir, BatchPlan, GenerationReport, Layout, load


@dataclass(frozen=True, slots=True)
class BatchState:
    batch_dir: Path
    ecosystem: str | None  # from the plan; None when the directory has no plan
    generation_complete: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "batch_dir": str(self.batch_dir),
            "ecosystem": self.ecosystem,
            "generation_complete": self.generation_complete,
        }


def unfinished_batches(root: Path) -> list[Path]:
    """Batch directories with a plan but no merged manifest: runs that were killed, oldest first."""
    layout = Layout(Path(root))
    batches = layout.root / "build" / "batches"
    if not batches.is_dir():
        return []
    return sorted(
        d
        for d in batches.iterdir()
        if BatchDir(d).plan.is_file() and not (layout.batches_dir / f"{d.name}.json").exists()
    )


def batch_state(batch_dir: Path) -> BatchState:
    """A batch directory's plan's ecosystem and whether its generation finished (typed loads)."""
    directory = BatchDir(batch_dir)
    ecosystem = load(BatchPlan, directory.plan).ecosystem if directory.plan.is_file() else None
    complete = directory.generation.is_file() and load(GenerationReport, directory.generation).complete
    return BatchState(directory.path, ecosystem, complete)


def resume_state(root: Path) -> dict[str, Any]:
    """The oldest unfinished batch's state, or ``{"batch_dir": None}`` when there is none."""
    unfinished = unfinished_batches(root)
    if not unfinished:
        return {"batch_dir": None, "ecosystem": None, "generation_complete": False}
    return batch_state(unfinished[0]).to_json()
