"""Command-line arguments of every recipeline command: their formats, one home. Light: no models.

The stage CLIs use these as argparse ``type=`` functions and ``tasks.py`` checks the invoke
tasks' options with the same functions, so an argument means the same and is refused with the
same line everywhere. Each function returns the parsed value or raises
``argparse.ArgumentTypeError`` with one line: what was expected, and what was given.
``OneLineParser`` turns any usage error into one line and ``EXIT_USAGE``, never a usage block.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import NoReturn

from .ecosystems import ECOSYSTEMS, normalize_ecosystem
from .errors import InvalidValueError
from .exitcodes import EXIT_USAGE, exit_codes_text
from .ids import check_batch_id
from .timefmt import parse_time_lenient

#: The largest batch preflight selects: a batch must validate within its jobs' timeouts
#: (60 minutes per validation job) and its PR stay reviewable.
MAX_BATCH_SIZE = 100
TIERS = (1, 2, 3)

#: tsuku keeps every ecosystem in one queue file; recipeline has one per ecosystem
TSUKU_UNIFIED_QUEUE = Path("data") / "queues" / "priority-queue.json"


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (``prog: argument --x: ...``), exit 64.

    Its subparsers are of the same class (argparse's default), and the epilog names the exit codes.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("epilog", exit_codes_text())
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {' '.join(message.split())}\n")


def ecosystem(text: str) -> str:
    """An ecosystem id, aliases (``crates.io``, ``brew``) mapped."""
    try:
        return normalize_ecosystem(text)
    except InvalidValueError:
        raise argparse.ArgumentTypeError(
            f"unknown ecosystem {text!r}; expected one of {', '.join(ECOSYSTEMS)}"
        ) from None


def ecosystem_or_auto(text: str) -> str:
    """An ecosystem, or ``auto`` (the UTC hour's rotation)."""
    if text == "auto":
        return text
    try:
        return ecosystem(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"unknown ecosystem {text!r}; expected auto or one of {', '.join(ECOSYSTEMS)}"
        ) from None


def whole(text: str, *, low: int = 0, high: int | None = None) -> int:
    """A whole number in ``low..high``."""
    try:
        value = int(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"expected at least {low}, got {value}")
    if high is not None and value > high:
        raise argparse.ArgumentTypeError(f"expected at most {high}, got {value}")
    return value


def positive(text: str) -> int:
    """A whole number >= 1."""
    return whole(text, low=1)


def count(text: str) -> int:
    """A whole number >= 0 (0: the default)."""
    return whole(text, low=0)


def batch_size(text: str) -> int:
    """How many entries a batch selects: 1 to ``MAX_BATCH_SIZE``."""
    return whole(text, low=1, high=MAX_BATCH_SIZE)


def tier(text: str) -> int:
    """A priority tier: 1 critical, 2 popular, 3 standard."""
    try:
        value = int(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a tier of 1, 2 or 3, got {text!r}") from None
    if value not in TIERS:
        raise argparse.ArgumentTypeError(f"expected a tier of 1, 2 or 3, got {value}")
    return value


def seconds(text: str) -> float:
    """A duration in seconds, >= 0."""
    try:
        value = float(str(text).strip())
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text!r}")
    return value


def amount(text: str) -> float:
    """A number >= 0 (GiB, requests per second)."""
    try:
        value = float(str(text).strip())
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def time(text: str) -> dt.datetime:
    """An RFC 3339 time (UTC when no offset is given)."""
    value = parse_time_lenient(text)
    if value is None:
        raise argparse.ArgumentTypeError(
            f"expected an RFC 3339 UTC time like 2026-01-29T10:00:00Z, got {text!r}"
        )
    return value


def duration(text: str) -> dt.timedelta:
    """``90d``, ``12w`` or ``36h``."""
    units = {"h": "hours", "d": "days", "w": "weeks"}
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise argparse.ArgumentTypeError(f"expected a duration like 90d, 12w or 36h, got {text!r}")
    return dt.timedelta(**{units[text[-1]]: int(text[:-1])})


def batch_id(text: str) -> str:
    """A batch id ``YYYY-MM-DD-NNN`` (so ``build/batches/<id>`` never leaves build/batches)."""
    try:
        return check_batch_id(text)
    except InvalidValueError:
        raise argparse.ArgumentTypeError(f"expected a batch id YYYY-MM-DD-NNN, got {text!r}") from None


def batch_dir(text: str) -> Path:
    """An existing batch directory (preflight wrote it)."""
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"expected a batch directory written by preflight, got {text!r}")
    return path


def repository_problem(root: Path, *, need_data: bool = True) -> str | None:
    """Why ``root`` is not a recipeline repository to work on, with the command to run; else None.

    A tsuku repository (one queue file for every ecosystem) is named as such with the import
    command; a folder without ``data/`` (when ``need_data``) with the command that starts one.
    """
    if not root.is_dir():
        return f"{root}: no such directory"
    if (root / TSUKU_UNIFIED_QUEUE).is_file():
        return (
            f"{root} is a tsuku repository ({TSUKU_UNIFIED_QUEUE} holds every ecosystem's queue); "
            f"convert it into a recipeline repository with: invoke import-tsuku --from {root} --repo DIR"
        )
    if need_data and not (root / "data").is_dir():
        return (
            f"{root} is not a recipeline repository (no data/ directory); "
            f"start one with: invoke seed --ecosystem ECOSYSTEM --repo {root}"
        )
    return None


def repository(text: str) -> Path:
    """A recipeline repository root (see ``repository_problem``)."""
    root = Path(text)
    problem = repository_problem(root)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return root


def fail(prog: str, message: str, code: int) -> int:
    """Print ``prog: message`` as one line on stderr and return ``code`` (for ``main``)."""
    print(f"{prog}: {' '.join(message.split())}", file=sys.stderr)
    return code
