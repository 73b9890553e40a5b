"""The exit codes of every recipeline command: one table for the stage CLIs and the invoke tasks.

A command that fails prints one line on stderr saying what (the file, the field, what was
expected) and exits with the code of its kind. ``EXIT_TABLE`` is the table the README shows
(tsuku's own exit codes are ``taxonomy.EXIT_CODES``).
"""

from __future__ import annotations

#: done (an empty selection or nothing to do included)
EXIT_OK = 0
#: could not do it: a data file, the repository, git, GitHub or the configuration (named in the line)
EXIT_ERROR = 1
#: ran to the end, but (part of) what it produced failed: some seeding sources (ARCHITECTURE §4),
#: the recipe of the validator's ``check`` (invalid) or ``validate-recipe`` (did not pass)
EXIT_PARTIAL = 2
#: refused by the emergency stop of batch-control.json (the line gives who, why and since when)
EXIT_STOPPED = 3
#: another writer holds the lock (the line names the holder)
EXIT_LOCKED = 4
#: the batch was merged or rolled back already
EXIT_ALREADY_DONE = 5
#: the recipe is valid but needs a person's review before it may merge (the validator's ``check``)
EXIT_REVIEW = 6
#: an argument out of its format or range, or a repository that is not one (sysexits' EX_USAGE)
EXIT_USAGE = 64

#: (code, name, meaning) for the documentation; every stage's ``--help`` epilog quotes it
EXIT_TABLE: tuple[tuple[int, str, str], ...] = (
    (EXIT_OK, "ok", "done (an empty selection, nothing to do included)"),
    (EXIT_ERROR, "error", "a data file, the repository, git, GitHub or the configuration failed"),
    (
        EXIT_PARTIAL,
        "partial",
        "ran to the end, part of its result failed (seed sources, check, validate-recipe)",
    ),
    (EXIT_STOPPED, "stopped", "the emergency stop of batch-control.json refuses"),
    (EXIT_LOCKED, "locked", "another writer holds the lock"),
    (EXIT_ALREADY_DONE, "already done", "the batch was merged or rolled back already"),
    (EXIT_REVIEW, "review", "the recipe is valid but needs a person's review (validator check)"),
    (EXIT_USAGE, "usage", "an argument out of its format or range; not a recipeline repository"),
)


def exit_codes_text() -> str:
    """The table as one line per code, for a ``--help`` epilog."""
    return "exit codes: " + "; ".join(f"{code} {name}" for code, name, _ in EXIT_TABLE)
