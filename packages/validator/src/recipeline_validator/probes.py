"""Verify discovery (ARCHITECTURE §6.3): which version probe of the installed tool prints its version.

After the install, the backend runs the recipe's verify executable with each of ``PROBES`` in
this fixed order (in the clean room, under the sandbox's limits, each at most ``PROBE_TIMEOUT``
seconds) and takes the first whose stdout+stderr carries the installed version, whatever its
exit code: that is the verify the recipe is judged by and the merger commits (tsuku's
``command``, ``pattern = "{version}"``, ``exit_code`` when not 0). The same tool and version give
the same verify. When none prints it, the tool's help is asked (``HELP_PROBES`` in order, until
one answers): exit 0 with output naming the tool (not opening with a cause) is tsuku's
``mode = "output"`` verify with the reason. This module is the pure part: the probes, the
choices and the summary of what the probes printed when none carried the version.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from recipeline_schema.cause import is_cause
from recipeline_schema.models import DiscoveredVerify

from .output import first_line
from .verify import exit_text

#: The version probes, in the order they are tried.
PROBES: tuple[str, ...] = ("--version", "-V", "version", "-v")
#: Asked only when no version probe printed the version, in order until one answers: the tool's
#: help, for tsuku's ``mode = "output"`` verify (the tool runs and says what it is, without a
#: version to compare). ``help`` is the subcommand of tools that take every option as a mistake.
HELP_PROBES: tuple[str, ...] = ("--help", "-h", "help")
#: Words of a help text that show it is the tool's usage when its name is not printed.
_USAGE = ("usage:", "Usage:", "USAGE:")
#: A version statement (``9.9.9``, ``v1.2``) on a probe's first line.
_VERSION = re.compile(r"\bv?\d+\.\d+(?:\.\d+)*\b")
#: Longest a probe may run (the verify's own timeout when that is shorter).
PROBE_TIMEOUT = 15.0
#: How much of a probe's first output line a failure message shows.
SHOWN = 60


@dataclass(frozen=True, slots=True)
class ProbeRun:
    """One probe as it ran: ``exit_code`` None when its wall clock ran out; ``limit`` when a limit
    of the sandbox stopped it."""

    command: str
    exit_code: int | None
    output: str
    limit: str = ""


def probe_executable(command: str, executables: Iterable[str]) -> str | None:
    """The executable to probe, when the recipe's verify is a version check of one of its
    executables: ``<exe>`` alone or ``<exe> <probe>``. Any other command (``tool {port}``,
    ``sh -c ...``, ``{install_dir}/...``) checks something else and is judged as written."""
    words = command.split()
    if not words or words[0] not in set(executables) or len(words) > 2:
        return None
    return words[0] if len(words) == 1 or words[1] in PROBES else None


def probe_commands(executable: str) -> tuple[str, ...]:
    """``<executable> <probe>`` for every probe, in order."""
    return tuple(f"{executable} {probe}" for probe in PROBES)


def help_commands(executable: str) -> tuple[str, ...]:
    """``<executable> <help probe>`` for every help probe, in order."""
    return tuple(f"{executable} {probe}" for probe in HELP_PROBES)


def choose(runs: Sequence[ProbeRun], version: str) -> DiscoveredVerify | None:
    """The verify of the first probe that finished on its own and printed ``version``."""
    if not version:
        return None
    for run in runs:
        if run.exit_code is None or run.exit_code < 0 or run.limit:
            continue
        if version in run.output:
            tried = ", ".join(f"`{r.command}`" for r in runs[: runs.index(run) + 1])
            return DiscoveredVerify(
                command=run.command,
                pattern="{version}",
                exit_code=run.exit_code,
                reason=f"first version probe printing the installed version (tried {tried})",
            )
    return None


def output_verify(
    run: ProbeRun, executable: str, tried: Sequence[ProbeRun], libraries: Sequence[tuple[str, str]] = ()
) -> DiscoveredVerify | None:
    """tsuku's ``mode = "output"`` verify from a help probe, when it exited 0 on its own, its
    output names the tool (its executable's name, else a usage line) and does not open with a
    cause (``tmux not found``: the tool cannot work here, and must not pass), and no version
    probe that exited 0 opened with a version (one that prints another version than the one
    installed is a mismatch, reported as such) unless that version is the installed version of
    one of the package's own ``libraries`` (name, version): the tool states its library's."""
    if run.exit_code != 0 or run.limit:
        return None
    theirs = []
    for other in (r for r in tried if r.exit_code == 0):
        stated = _VERSION.search(first_line(other.output))
        if stated is None:
            continue
        owner = next((name for name, v in libraries if v == stated.group().removeprefix("v")), None)
        if owner is None:
            return None  # it states a version, only not the installed one: a mismatch, not "no version"
        theirs.append(f"`{other.command}` prints {stated.group()}, its library {owner}'s")
    if not run.output.strip() or is_cause(first_line(run.output)):
        return None
    pattern = executable if executable in run.output else next((u for u in _USAGE if u in run.output), "")
    if not pattern:
        return None
    asked = ", ".join(f"`{r.command}`" for r in tried)
    said = "; ".join(theirs[:1]) if theirs else f"{asked} printed none"
    return DiscoveredVerify(
        command=run.command,
        pattern=pattern,
        mode="output",
        reason=f"prints no version of its own ({said}); `{run.command}` shows it runs",
    )


def summary(runs: Sequence[ProbeRun]) -> str:
    """What each probe did, for a failure message: ``x --version` exited 2: 'usage: x'; ...``."""
    parts = []
    for run in runs:
        if run.exit_code is None:
            parts.append(f"`{run.command}` timed out")
            continue
        shown = first_line(run.output)
        shown = shown if len(shown) <= SHOWN else shown[: SHOWN - 1] + "…"
        parts.append(f"`{run.command}` {run.limit or exit_text(run.exit_code)}: {shown!r}")
    return "; ".join(parts)
