"""The second backend (ARCHITECTURE §5): shell out to ``tsuku create --deterministic-only``.

For each package: ``<tsuku> create <name> --from <eco>:<identifier> --output <tmp>/out/<name>.toml
--yes --skip-sandbox --deterministic-only`` in a fresh temporary directory (the same arguments
tsuku's own batch orchestrator passes). tsuku keeps the environment's ``TSUKU_HOME`` (its recipe
registry cache and configuration are what its dependency checks read), and with ``--output`` it
writes no recipe there. Exit 0 and a recipe file that parses and matches the recipe schema
is a recipe (exit 0 with no file: ``deterministic_insufficient``; with a file that is not TOML or
breaks the schema: ``validation_failed/schema_invalid``); anything else is a failure record:

- the exit code maps through ``recipeline_schema.EXIT_CODES`` (ARCHITECTURE §3.3);
- exit 9 is refined by the ``[<category>]`` tag tsuku prints in ``deterministic generation
  failed: [<category>] <message>`` (a closed set in tsuku: ``no_bottles``, ``complex_archive``,
  ``no_binaries``, ``library_only``, ...); its "requires LLM" guard (no tag) is ``requires_llm``;
- exit 8 (and a ``[missing_dep]`` tag) is ``missing_dep``; ``blocked_by`` is read from tsuku's
  documented ``recipe <name> not found in registry`` phrases;
- the message is tsuku's error line (stderr first), never its banner or progress output.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from recipeline_schema import (
    Failure,
    InvalidValueError,
    Recipe,
    SchemaError,
    check_name,
    recipe_from_toml,
)
from recipeline_schema.cause import cause_line
from recipeline_schema.tsuku import classify_exit

from .builder_support import utcnow as _utcnow
from .errors import ConfigurationError
from .recipe_index import recipe_name_for

#: Environment variable naming the tsuku binary (the CLI's ``--tsuku`` wins).
TSUKU_ENV = "RECIPELINE_TSUKU"
DEFAULT_TIMEOUT = 600.0
_BLOCKED = re.compile(r"\brecipe ([A-Za-z0-9_@][A-Za-z0-9._+@-]*) not found in registry\b")
Runner = Callable[..., "subprocess.CompletedProcess[str]"]


def error_line(stderr: str, stdout: str) -> str:
    """The line stating the cause (``recipeline_schema.cause.cause_line``, the rule every stage
    shares), of stderr first, else of stdout."""
    return cause_line(stderr) or cause_line(stdout)


def blocked_by(output: str) -> tuple[str, ...]:
    """Recipe names of the missing dependencies tsuku names (``recipe X not found in registry``)."""
    return tuple(sorted({recipe_name_for(m) for m in _BLOCKED.findall(output)}))


def classify(code: int, stderr: str, stdout: str) -> tuple[str, str | None]:
    """(category, subcategory) of a non-zero tsuku exit (``recipeline_schema.tsuku.classify_exit``)."""
    return classify_exit(code, error_line(stderr, stdout))


class TsukuBackend:
    """A builder for one ecosystem that runs the tsuku CLI instead of our own code."""

    #: no producer: nothing says which tsuku decided a failure, so it backs off (retry.waits_for)
    producer = ""

    def __init__(
        self,
        ecosystem: str,
        tsuku: str | os.PathLike[str],
        *,
        run: Runner = subprocess.run,
        timeout: float = DEFAULT_TIMEOUT,
        environ: Mapping[str, str] | None = None,
        now: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self.ecosystem = ecosystem
        self.tsuku = os.fspath(tsuku)
        self._run = run
        self._timeout = timeout
        self._environ = dict(os.environ if environ is None else environ)
        self._now = now

    def can_build(self, identifier: str) -> bool:
        """Any identifier that parsed as a source and cannot be read as an option by tsuku."""
        return bool(identifier) and not identifier.startswith("-") and "\n" not in identifier

    def command(self, identifier: str, name: str, output: Path) -> list[str]:
        """The argument vector (no shell: identifiers are never interpreted)."""
        return [
            self.tsuku,
            "create",
            name,
            "--from",
            f"{self.ecosystem}:{identifier}",
            "--output",
            str(output),
            "--yes",
            "--skip-sandbox",
            "--deterministic-only",
        ]

    def generate(self, identifier: str, *, name: str) -> Recipe | Failure:
        """Run tsuku for ``identifier``; its recipe, or its exit mapped to a failure record."""
        package_id = f"{self.ecosystem}:{identifier}"
        try:
            check_name(name)  # it becomes a file name below
        except InvalidValueError as exc:
            return Failure.create(
                package_id,
                "deterministic_insufficient",
                "unsupported_source",
                str(exc),
                timestamp=self._now(),
            )
        with tempfile.TemporaryDirectory(prefix="recipeline-tsuku-") as tmp:
            output = Path(tmp) / "out" / f"{name}.toml"
            output.parent.mkdir()
            env = {**self._environ, "NO_COLOR": "1"}
            try:
                proc = self._run(
                    self.command(identifier, name, output),
                    capture_output=True,
                    text=True,
                    errors="replace",
                    timeout=self._timeout,
                    env=env,
                    cwd=tmp,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                return Failure.create(
                    package_id,
                    "api_error",
                    "timeout",
                    f"tsuku create {package_id} did not finish within {self._timeout:g} s",
                    timestamp=self._now(),
                )
            except OSError as exc:
                raise ConfigurationError(
                    f"tsuku binary {self.tsuku!r} cannot be run: {exc.strerror or exc}"
                ) from None
            stdout, stderr = proc.stdout or "", proc.stderr or ""
            if proc.returncode == 0:
                return self._recipe(package_id, name, output)
            return self._failure(package_id, proc.returncode, stderr, stdout)

    def _recipe(self, package_id: str, name: str, output: Path) -> Recipe | Failure:
        try:
            recipe = recipe_from_toml(output.read_text(encoding="utf-8"), output.name)
        except FileNotFoundError:
            message = f"tsuku create {package_id} exited 0 but wrote no recipe file"
            return Failure.create(
                package_id, "deterministic_insufficient", None, message, timestamp=self._now()
            )
        except (OSError, UnicodeDecodeError, SchemaError) as exc:
            # a recipe exists but is not TOML or breaks the recipe schema: what the validator would say
            message = f"tsuku create {package_id} wrote a recipe that is not valid: {exc}"
            return Failure.create(
                package_id, "validation_failed", "schema_invalid", message, timestamp=self._now()
            )
        # the file is recipes/<name>.toml: its [metadata] name must be the queue entry's name
        return recipe if recipe.name == name else dataclasses.replace(recipe, name=name)

    def _failure(self, package_id: str, code: int, stderr: str, stdout: str) -> Failure:
        category, subcategory = classify(code, stderr, stdout)
        line = error_line(stderr, stdout)
        if code < 0:
            line = f"tsuku create {package_id} was killed by signal {-code}" + (f": {line}" if line else "")
        elif not line:
            line = f"tsuku create {package_id} exited {code} without a message"
        missing = blocked_by(stderr + "\n" + stdout) if category == "missing_dep" else ()
        return Failure.create(
            package_id,
            category,
            subcategory,
            line,
            timestamp=self._now(),
            blocked_by=missing,
            exit_code=code,
            output=stderr if error_line(stderr, "") else stdout,
        )


def tsuku_path(option: str | None, environ: Mapping[str, str]) -> str | None:
    """The configured tsuku binary: ``--tsuku``, then ``RECIPELINE_TSUKU``; ``None`` when neither."""
    value = option if option else environ.get(TSUKU_ENV, "").strip()
    return value or None
