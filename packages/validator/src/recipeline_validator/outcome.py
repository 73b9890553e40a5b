"""What a sandbox backend reports for one recipe: passed, or a failure of the taxonomy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from recipeline_schema.models import DiscoveredVerify


@dataclass(frozen=True, slots=True)
class SandboxOutcome:
    """The result of install + verify: passed, or a failure's category/subcategory/message.

    ``skipped`` is set when the backend could not run the recipe at all (the reason is the
    message); ``blocked_by`` names missing dependency recipes (``missing_dep``). Once an install
    ran, ``installed_version``, ``latest_version`` (when the registry said) and ``toolchain``
    (name -> version) say what was installed with what, pass or fail. A pass judged by the verify
    the version probes found carries it in ``verify`` (``probes``). ``output`` is the failing
    command's output, the whole cause the failure record keeps (``Failure.detail``).
    """

    passed: bool
    message: str
    category: str = "validation_failed"
    subcategory: str | None = None
    skipped: bool = False
    blocked_by: tuple[str, ...] = ()
    exit_code: int | None = None
    installed_version: str = ""
    latest_version: str = ""
    toolchain: Mapping[str, str] = field(default_factory=dict)
    verify: DiscoveredVerify | None = None
    output: str = ""


def fail(
    subcategory: str | None, message: str, category: str = "validation_failed", *, output: str = ""
) -> SandboxOutcome:
    """A failed outcome; ``output`` is what the failing command printed."""
    return SandboxOutcome(False, message, category, subcategory, output=output)
