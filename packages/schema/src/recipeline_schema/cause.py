"""Which lines of a tool's output state the cause of a failure: one rule for every stage. Pure.

Output of a CLI (tsuku's, pip's, npm's, cargo's) mixes the cause with noise: banners, telemetry
notices, progress lines and ticks (``✅ patchelf@0.18.0``), rules of ``=``/``-``. The generator,
the validator, the merger and the dashboard all ask the same two questions, answered here:

- ``cause_lines``: the lines left once the noise is dropped (whitespace collapsed; ``❌`` read as
  "failed:"), in order;
- ``cause_line``: the one line a table shows. The *last* line that reads as a cause (CLIs print
  progress first and the error last), and when the lines after it say more without reading as a
  cause themselves, the first of them joined with ``: `` ("recipe validation failed: homepage
  must be https"). Without a cause-like line, the last line left.
"""

from __future__ import annotations

import re

#: The longest one-line cause (tables, queue reasons).
LINE_LIMIT = 500
#: What a reader is shown for output that held nothing but noise.
NOISE_ONLY = "(only the tool's banner or progress output was recorded)"

#: Lines that never state a cause: tsuku's banners and notices, progress, ticks, download lines
#: (and, in ``is_noise``, a progress bar: a percentage on a line that names no cause).
NOISE = re.compile(
    r"^(?:warning: skipping recipe review|tsuku collects anonymous usage|no personal information"
    r"|to opt out|or export tsuku_no_telemetry|suggestion:|available ecosystems:"
    r"|remove --deterministic-only|to create a recipe from a package ecosystem|tsuku create \S+ --from <"
    r"|[✅✓✔⏳📦🔍⬇]"
    r"|(?:downloading|downloaded|collecting|fetching|using cached|installing collected)\b)",
    re.I,
)
_PERCENT = re.compile(r"\b\d{1,3}(?:\.\d+)?%")
#: A line that reads as a cause.
CAUSE = re.compile(
    r"\berror\b|\bfailed\b|\bfailure\b|\bfatal\b|not found|requires llm|\bstatus \d{3}\b"
    r"|\bdenied\b|\brefused\b|\bcannot\b|\bunable\b|\bno such\b",
    re.I,
)
_RULE = set("=-*#~._ ")


def is_noise(line: str) -> bool:
    """Whether one (whitespace-collapsed) line never states a cause."""
    if not set(line) - _RULE or NOISE.match(line):
        return True
    return bool(_PERCENT.search(line)) and not CAUSE.search(line)


def cause_lines(raw: str) -> list[str]:
    """The lines of ``raw`` that may state the cause, whitespace collapsed, noise dropped."""
    text = raw.replace("❌", "failed:") if "❌" in raw else raw
    lines = (" ".join(line.split()) for line in text.splitlines())
    return [line for line in lines if line and not is_noise(line)]


def cause_line(raw: str, limit: int = LINE_LIMIT) -> str:
    """The one line that states the cause (see the module doc), cut to ``limit``; ``""`` when
    the output is empty or all noise (``NOISE_ONLY`` says which for a reader)."""
    lines = cause_lines(raw)
    if not lines:
        return ""
    causes = [i for i, line in enumerate(lines) if CAUSE.search(line)]
    if not causes:
        return cut(lines[-1], limit)
    at = causes[-1]
    text = lines[at]
    detail = lines[at + 1 : at + 3]  # the detail that follows it ("Caused by:" and its line)
    if detail and detail[0].endswith(":") and len(detail) == 2:
        text = f"{text.rstrip(':')}: {detail[0]} {detail[1]}"
    elif detail:
        text = f"{text.rstrip(':')}: {detail[0]}"
    return cut(text, limit)


def cut(text: str, limit: int) -> str:
    """``text`` at most ``limit`` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
