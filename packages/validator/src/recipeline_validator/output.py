"""Pick the line of a command's output that says what went wrong (ARCHITECTURE §3.2, §12.11).

pip and tools print banners, progress bars and tracebacks; a failure record wants the cause.
"""

from __future__ import annotations

import re

#: Progress and banner lines that never explain a failure.
_NOISE = re.compile(
    r"^(?:[━─╸╺╾|#=\s]{5,}.*|(?:Collecting|Downloading|Processing|Looking in|Obtaining|Requirement already|"
    r"Using cached|Saved|Installing collected|Successfully|\[notice\]|Preparing metadata|"
    r"Building wheel|Created wheel|Stored in|File was already downloaded)\b.*)$"
)
_ERROR_WORDS = re.compile(
    r"error|exception|not found|denied|no such|cannot|can't|failed|refused|unreachable", re.IGNORECASE
)


def _lines(output: str) -> list[str]:
    return [" ".join(line.split()) for line in output.splitlines() if line.strip()]


def cause_line(output: str) -> str:
    """The most telling line: pip's last ``ERROR:`` line (without the prefix), else the last line
    naming an error (a traceback's exception line), else the last line that is not noise."""
    lines = _lines(output)
    errors = [line for line in lines if line.startswith("ERROR:")]
    if errors:
        return errors[-1].removeprefix("ERROR:").strip() or errors[-1]
    meaningful = [line for line in lines if not _NOISE.match(line)]
    named = [line for line in meaningful if _ERROR_WORDS.search(line)]
    if named:
        return named[-1]
    if meaningful:
        return meaningful[-1]
    return "(no output)"


def first_line(output: str) -> str:
    """The first non-blank line, whitespace collapsed (``(no output)`` when there is none)."""
    lines = _lines(output)
    return lines[0] if lines else "(no output)"
