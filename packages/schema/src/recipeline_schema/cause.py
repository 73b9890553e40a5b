"""Which lines of a tool's output state the cause of a failure: one rule for every stage. Pure.

Output of a CLI (tsuku's, pip's, npm's, cargo's) mixes the cause with noise: banners, telemetry
notices, progress lines, bars and ticks (``✅ patchelf@0.18.0``), pip's ``Collecting`` and
``Successfully`` lines, rules of ``=``/``-``. The generator, the validator, the merger and the
dashboard all ask the same questions, answered here:

- ``cause_lines``: the lines left once the noise is dropped (whitespace collapsed; ``❌`` read as
  "failed:"), in order;
- ``cause_text``: those lines as the whole cause a failure record keeps (``Failure.detail``),
  capped at ``DETAIL_LIMIT`` by keeping the last lines (the error comes last);
- ``cause_line``: the one line a table shows. The *last* line that reads as a cause (CLIs print
  progress first and the error last), and when the lines after it say more without reading as a
  cause themselves, the first of them joined with ``: `` ("recipe validation failed: homepage
  must be https"). Without a cause-like line, the last line left.
"""

from __future__ import annotations

import re

#: The longest one-line cause (tables, queue reasons).
LINE_LIMIT = 500
#: The longest whole cause (``Failure.detail``), in characters.
DETAIL_LIMIT = 4000
#: What a reader is shown for output that held nothing but noise.
NOISE_ONLY = "(only the tool's banner or progress output was recorded)"

#: Lines that never state a cause: tsuku's banners and notices, progress, ticks, download lines
#: (and, in ``is_noise``, progress: a percentage, or a trailing ``...``, on a line that names no
#: cause).
NOISE = re.compile(
    r"^(?:warning: skipping recipe review|tsuku collects anonymous usage|no personal information"
    r"|to opt out|or export tsuku_no_telemetry|suggestion:|available ecosystems:"
    r"|remove --deterministic-only|to create a recipe from a package ecosystem|tsuku create \S+ --from <"
    r"|[✅✓✔⏳📦🔍⬇]|[━─╸╺╾]{3,}|\[notice\]"
    r"|(?:downloading|downloaded|collecting|fetching|using cached|installing collected|processing"
    r"|looking in|obtaining|requirement already|saved|successfully|preparing metadata"
    r"|building wheel|created wheel|stored in|file was already downloaded)\b)",
    re.I,
)
_PERCENT = re.compile(r"\b\d{1,3}(?:\.\d+)?%")
#: A line that reads as a cause.
CAUSE = re.compile(
    r"\berror\b|\bfailed\b|\bfailure\b|\bfatal\b|not found|requires llm|\bstatus \d{3}\b"
    r"|\bdenied\b|\brefused\b|\bcannot\b|\bcan't\b|\bunable\b|\bno such\b|\bunreachable\b"
    r"|^\w*(?:error|exception)\b",  # a traceback's last line: "ModuleNotFoundError: ..."
    re.I,
)
_RULE_CHARS = "=-*#~._ "
#: Words one of which every ``CAUSE`` match contains (lowercase): a line without any is not
#: searched (a substring test is ~20x cheaper than the case-insensitive search).
_CAUSE_WORDS = (
    "error", "failed", "failure", "fatal", "not found", "requires llm", "status ", "denied",
    "refused", "cannot", "can't", "unable", "no such", "unreachable", "exception",
)  # fmt: skip


def is_cause(line: str) -> bool:
    """Whether one line reads as a cause (``CAUSE``)."""
    lower = line.lower()
    for word in _CAUSE_WORDS:
        if word in lower:
            return bool(CAUSE.search(line))
    return False


def is_noise(line: str) -> bool:
    """Whether one (whitespace-collapsed) line never states a cause."""
    if not line.strip(_RULE_CHARS) or NOISE.match(line):
        return True
    # "Resolving x..." is progress; "usage: x [-h] FILE..." is not
    trailing = line.endswith(("...", "…")) and not line[:6].lower().startswith("usage")
    progress = trailing or ("%" in line and bool(_PERCENT.search(line)))
    return progress and not is_cause(line)


def cause_lines(raw: str) -> list[str]:
    """The lines of ``raw`` that may state the cause, whitespace collapsed, noise dropped."""
    text = raw.replace("❌", "failed:") if "❌" in raw else raw
    lines = (" ".join(line.split()) for line in text.splitlines())
    return [line for line in lines if line and not is_noise(line)]


def cause_text(raw: str, limit: int = DETAIL_LIMIT) -> str:
    """The whole cause: ``cause_lines`` joined by newlines; when longer than ``limit``, the last
    lines that fit after a first line ``…`` (a single line longer than that is cut)."""
    lines = cause_lines(raw)
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    kept: list[str] = []
    size = 1  # the "…" line
    for line in reversed(lines):
        line = cut(line, limit - 2)
        if size + 1 + len(line) > limit:
            break
        kept.append(line)
        size += 1 + len(line)
    return "\n".join(["…", *reversed(kept)])


def cause_line(raw: str, limit: int = LINE_LIMIT) -> str:
    """The one line that states the cause (see the module doc), cut to ``limit``; ``""`` when
    the output is empty or all noise (``NOISE_ONLY`` says which for a reader).

    Read from the end, stopping at the last cause-like line: dashboards run this over every
    recorded message (6,600 in tsuku's snapshot, many of them whole CLI logs)."""
    text = raw.replace("❌", "failed:") if "❌" in raw else raw
    lower = text.lower()
    causes = any(word in lower for word in _CAUSE_WORDS)  # else: the last line left is the answer
    after: list[str] = []  # the (at most two) kept lines that follow the one being looked at
    last = ""
    for raw_line in reversed(text.splitlines()):
        line = " ".join(raw_line.split())
        if not line or is_noise(line):
            continue
        if not causes:
            return cut(line, limit)
        if is_cause(line):
            return cut(_with_detail(line, after), limit)
        last = last or line
        after = [line, *after[:1]]
    return cut(last, limit)


def _with_detail(line: str, after: list[str]) -> str:
    """The cause line and the detail that follows it ("Caused by:" and its line)."""
    if len(after) == 2 and after[0].endswith(":"):
        return f"{line.rstrip(':')}: {after[0]} {after[1]}"
    return f"{line.rstrip(':')}: {after[0]}" if after else line


def one_line(message: str, limit: int = LINE_LIMIT) -> str:
    """``cause_line`` for a record: never empty, ``(no message)`` for empty output and
    ``NOISE_ONLY`` for output that was all banner or progress."""
    message = str(message)
    return cause_line(message, limit) or (NOISE_ONLY if message.strip() else "(no message)")


def cut(text: str, limit: int) -> str:
    """``text`` at most ``limit`` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
