"""Shared builders for the merger's tests: models for the pure core, real repositories for IO."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

import pytest

from recipeline_schema import (
    BatchDir,
    BatchPlan,
    Failure,
    GeneratedPackage,
    GenerationReport,
    Layout,
    PlannedPackage,
    Queue,
    QueueEntry,
    Recipe,
    RecipeResult,
    SafetyVerdict,
    Step,
    ValidationReport,
    Verify,
    recipe_to_toml,
    save,
)

#: The repository's shared test helpers (the fake GitHub): ``import fake_github``.
SUPPORT = Path(__file__).resolve().parents[3] / "tests" / "support"
if str(SUPPORT) not in sys.path:
    sys.path.insert(0, str(SUPPORT))

NOW = dt.datetime(2026, 1, 29, 10, 0, 0, tzinfo=dt.UTC)
LINUX = "linux-debian-glibc-x86_64"
ALPINE = "linux-alpine-musl-x86_64"
MAC = "darwin-arm64"

# Test modules annotate fixtures with Make, WriteBatch and Git through
# ``if TYPE_CHECKING: from .conftest import ...``: only mypy reads that import; pytest loads this file itself.

#: The ``write_batch`` fixture: ``(layout, plan, generation, reports, recipes)`` -> the BatchDir written.
WriteBatch = Callable[
    [Layout, BatchPlan, GenerationReport, Iterable[ValidationReport], dict[str, str]], BatchDir
]


class Git(Protocol):
    """The ``git`` fixture: ``git(repo, *args)`` -> stdout; raises when git fails."""

    def __call__(self, repo: Path, *args: str, env: dict[str, str] | None = None) -> str: ...


class Make:
    """Builders of valid contract values with short defaults (the pure tests need no files)."""

    now = NOW
    linux = LINUX
    alpine = ALPINE
    mac = MAC

    def entry(self, name: str, source: str | None = None, **kw: object) -> QueueEntry:
        fields: dict[str, object] = {"priority": 2, "popularity": 100, "added_at": NOW}
        fields.update(kw)
        return QueueEntry(name=name, source=source or f"cargo:{name}", **fields)  # type: ignore[arg-type]

    def queue(self, entries: Iterable[QueueEntry], ecosystem: str = "cargo") -> Queue:
        return Queue(schema_version=1, ecosystem=ecosystem, updated_at=NOW, entries=tuple(entries))  # type: ignore[arg-type]

    def plan(
        self, packages: Sequence[tuple[str, str]], batch_id: str = "2026-01-29-001", ecosystem: str = "cargo"
    ) -> BatchPlan:
        return BatchPlan(
            schema_version=1,
            batch_id=batch_id,
            ecosystem=ecosystem,  # type: ignore[arg-type]
            created_at=NOW,
            tier=2,
            packages=tuple(PlannedPackage(name=n, package_id=p) for n, p in packages),
        )

    def failure(
        self,
        package_id: str,
        category: str = "validation_failed",
        subcategory: str | None = "install_failed",
        message: str = "install failed",
        blocked_by: tuple[str, ...] = (),
    ) -> Failure:
        return Failure.create(
            package_id, category, subcategory, message, timestamp=NOW, blocked_by=blocked_by
        )

    def generated(
        self,
        name: str,
        package_id: str,
        outcome: str = "generated",
        *,
        failure: Failure | None = None,
        override: bool = False,
        reason: str = "",
        resolved: str | None = None,
    ) -> GeneratedPackage:
        return GeneratedPackage(
            name=name,
            package_id=package_id,
            resolved_source=resolved or package_id,
            outcome=outcome,  # type: ignore[arg-type]
            recipe=f"recipes/{name}.toml" if outcome == "generated" else None,
            override=override,
            reason=reason,
            failure=failure,
        )

    def generation(
        self, packages: Iterable[GeneratedPackage], batch_id: str = "2026-01-29-001"
    ) -> GenerationReport:
        return GenerationReport(
            schema_version=1,
            batch_id=batch_id,
            generated_at=NOW,
            duration_seconds=12.0,
            packages=tuple(packages),
        )

    def result(
        self,
        name: str,
        package_id: str,
        outcome: str = "pass",
        *,
        safe: bool = True,
        failure: Failure | None = None,
        reason: str = "",
        findings: tuple[str, ...] = (),
        installed_version: str = "",
        latest_version: str = "",
    ) -> RecipeResult:
        return RecipeResult(
            name=name,
            package_id=package_id,
            outcome=outcome,  # type: ignore[arg-type]
            duration_seconds=3.0,
            safety=SafetyVerdict(
                auto_merge=safe, findings=findings or (() if safe else ("steps[0] run_command",))
            ),
            failure=failure,
            reason=reason,
            installed_version=installed_version,
            latest_version=latest_version,
        )

    def report(
        self,
        environment: str,
        results: Iterable[RecipeResult],
        *,
        duration: float = 120.0,
        batch_id: str = "2026-01-29-001",
    ) -> ValidationReport:
        return ValidationReport(
            schema_version=1,
            batch_id=batch_id,
            environment=environment,
            backend="native",
            isolation="network namespace",
            started_at=NOW,
            duration_seconds=duration,
            results=tuple(results),
        )

    def recipe_text(self, name: str, crate: str | None = None) -> str:
        return recipe_to_toml(
            Recipe(
                name=name,
                description=f"{name} from crates",
                homepage="https://example.org/" + name,
                steps=(Step("cargo_install", {"crate": crate or name, "executables": [name]}),),
                verify=Verify(command=f"{name} --version", pattern="{version}"),
            )
        )


@pytest.fixture
def make() -> Make:
    """Builders of valid models (queue entries, plans, reports, recipes) at a fixed time NOW."""
    return Make()


@pytest.fixture
def git_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An environment where git has an identity and ignores the user's and the system's config."""
    values = {
        "GIT_AUTHOR_NAME": "Recipeline Test",
        "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "Recipeline Test",
        "GIT_COMMITTER_EMAIL": "test@example.invalid",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    return {**os.environ, **values}


def run_git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env=env
    )
    return proc.stdout


@pytest.fixture
def repo(tmp_path: Path, git_env: dict[str, str]) -> Path:
    """A real git repository on branch main with one commit (a README and an empty recipes/)."""
    root = tmp_path / "repo"
    root.mkdir()
    run_git(root, "-c", "init.defaultBranch=main", "init", "-q")
    (root / "README.md").write_text("test repository\n")
    (root / ".gitignore").write_text("build/\n")
    run_git(root, "add", "README.md", ".gitignore")
    run_git(root, "commit", "-q", "-m", "initial")
    return root


@pytest.fixture
def layout(repo: Path) -> Layout:
    """The Layout of the ``repo`` fixture."""
    return Layout(repo)


def _write_batch(
    layout: Layout,
    plan: BatchPlan,
    generation: GenerationReport,
    reports: Iterable[ValidationReport],
    recipes: dict[str, str],
) -> BatchDir:
    """A batch directory as the stages leave it: plan, generation report, results, recipes."""
    bdir = BatchDir(layout.batch_dir(plan.batch_id))
    save(plan, bdir.plan)
    save(generation, bdir.generation)
    for report in reports:
        save(report, bdir.results(report.environment))
    for name, text in recipes.items():
        bdir.recipe(name).parent.mkdir(parents=True, exist_ok=True)
        bdir.recipe(name).write_text(text, encoding="utf-8")
    return bdir


@pytest.fixture
def write_batch() -> WriteBatch:
    """``write_batch(layout, plan, generation, reports, recipes)`` -> the BatchDir it wrote."""
    return _write_batch


@pytest.fixture
def git() -> Git:
    """``git(repo, *args)`` -> stdout; raises when git fails."""
    return run_git
