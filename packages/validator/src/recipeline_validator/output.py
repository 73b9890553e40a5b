"""The lines of a command's output a failure names (ARCHITECTURE §3.2, §12.11).

Which line states the cause is one rule for every stage: ``cause_line`` is
``recipeline_schema.one_line`` (``recipeline_schema.cause``: banners, progress bars and pip's
``Collecting``/``Successfully`` lines dropped, the last line that reads as a cause kept). The whole
output goes into the failure record as well (``SandboxOutcome.output`` -> ``Failure.detail``).
"""

from __future__ import annotations

from recipeline_schema import one_line as cause_line

__all__ = ["cause_line", "first_line"]


def first_line(output: str) -> str:
    """The first non-blank line, whitespace collapsed (``(no output)`` when there is none)."""
    for line in output.splitlines():
        if line.strip():
            return " ".join(line.split())
    return "(no output)"
