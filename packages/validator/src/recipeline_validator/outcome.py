"""What a sandbox backend reports for one recipe: passed, or a failure of the taxonomy."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SandboxOutcome:
    """The result of install + verify: passed, or a failure's category/subcategory/message.

    ``skipped`` is set when the backend could not run the recipe at all (the reason is the
    message); ``blocked_by`` names missing dependency recipes (``missing_dep``).
    """

    passed: bool
    message: str
    category: str = "validation_failed"
    subcategory: str | None = None
    skipped: bool = False
    blocked_by: tuple[str, ...] = ()
    exit_code: int | None = None


def fail(subcategory: str | None, message: str, category: str = "validation_failed") -> SandboxOutcome:
    """A failed outcome."""
    return SandboxOutcome(False, message, category, subcategory)
