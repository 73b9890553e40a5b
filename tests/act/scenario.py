"""A scenario's starting state, and what must hold on origin's default branch after its runs."""

from __future__ import annotations

import collections
import datetime as dt
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from act.harness import Deployment, Run, git

import recipeline_schema as rs

ECOSYSTEMS = ("homebrew", "cask", "cargo", "npm", "pypi", "rubygems", "go", "cpan")


def at(text: str) -> dt.datetime:
    return rs.parse_time(text)


def entry(name: str, source: str, *, now: dt.datetime, priority: int = 1, **kw: Any) -> rs.QueueEntry:
    """A queue entry as the seeder adds it (``kw``: status, failure_count, ...)."""
    fields: dict[str, Any] = {"popularity": 100, "added_at": now, **kw}
    return rs.QueueEntry(name, source, priority, **fields)


def state_files(
    *,
    now: dt.datetime,
    queues: Mapping[str, Sequence[rs.QueueEntry]],
    control: rs.BatchControl | None = None,
    curated: Iterable[rs.Disambiguation] = (),
) -> dict[str, str]:
    """The state files of a deployment (every ecosystem's queue; absent ones empty), as text."""
    with tempfile.TemporaryDirectory() as tmp:
        layout = rs.Layout(Path(tmp))
        for ecosystem in ECOSYSTEMS:
            entries = tuple(queues.get(ecosystem, ()))
            rs.save(rs.Queue(1, ecosystem, now, entries), layout.queue(ecosystem))  # type: ignore[arg-type]
        rs.save(
            control or rs.BatchControl(enabled=True, budget=rs.Budget(week_start=_monday(now))),
            layout.control,
        )
        lines = list(curated)
        if lines:
            rs.write_jsonl(lines, layout.curated)
        (layout.data / "metrics").mkdir(parents=True, exist_ok=True)
        (layout.data / "metrics" / "seeding-runs.jsonl").touch()
        return {
            str(p.relative_to(tmp)): p.read_text(encoding="utf-8")
            for p in Path(tmp).rglob("*")
            if p.is_file()
        }


def _monday(now: dt.datetime) -> dt.date:
    return (now - dt.timedelta(days=now.weekday())).date()


def control(now: dt.datetime, **kw: Any) -> rs.BatchControl:
    """``batch-control.json``: ``kw`` are BatchControl fields; ``macos_used`` sets the budget."""
    macos_used = kw.pop("macos_used", 0.0)
    budget = rs.Budget(week_start=_monday(now), macos_minutes_used=macos_used)
    return rs.BatchControl(enabled=True, budget=budget, **kw)


# --- reading origin -----------------------------------------------------------------------------


@dataclass
class Origin:
    """The state on origin's default branch, read from a fresh clone."""

    root: Path
    queues: dict[str, rs.Queue] = field(default_factory=dict)
    manifests: dict[str, rs.BatchManifest] = field(default_factory=dict)
    releases: dict[str, rs.ReleaseRecord] = field(default_factory=dict)
    metrics: list[rs.MetricsLine] = field(default_factory=list)
    failures: list[rs.FailureRecord] = field(default_factory=list)
    recipes: set[str] = field(default_factory=set)
    log: list[str] = field(default_factory=list)

    @property
    def entries(self) -> dict[str, rs.QueueEntry]:
        """package id -> entry, over every queue."""
        return {e.source: e for q in self.queues.values() for e in q.entries}

    def data_files(self) -> list[Path]:
        skip = ("schemas", "seeds", "archive")
        return sorted(
            p
            for p in (self.root / "data").rglob("*")
            if p.is_file() and not set(p.relative_to(self.root / "data").parts[:-1]) & set(skip)
        )


def read_origin(deployment: Deployment) -> Origin:
    root = deployment.clone()
    layout = rs.Layout(root)
    origin = Origin(root)
    for path in sorted((layout.data / "queues").glob("priority-queue-*.json")):
        queue = rs.load(rs.Queue, path)
        origin.queues[queue.ecosystem] = queue
    for path in (
        sorted(layout.batches_dir.glob("*-[0-9][0-9][0-9].json")) if layout.batches_dir.is_dir() else []
    ):
        origin.manifests[path.stem] = rs.load(rs.BatchManifest, path)
    for path in sorted(layout.batches_dir.glob("*.release.json")) if layout.batches_dir.is_dir() else []:
        origin.releases[path.name.removesuffix(".release.json")] = rs.load(rs.ReleaseRecord, path)
    if layout.metrics.exists():
        origin.metrics = list(rs.read_jsonl(rs.MetricsLine, layout.metrics))
    for path in sorted(layout.failures_dir.glob("*.jsonl")) if layout.failures_dir.is_dir() else []:
        origin.failures += rs.read_jsonl(rs.FailureRecord, path)
    origin.recipes = {p.stem for p in (root / "recipes").glob("*/*.toml")}
    origin.log = git(root, "log", "--format=%s").splitlines()
    return origin


def selected_batches(origin: Origin) -> list[str]:
    """Batch ids of the selection commits on the default branch, oldest first."""
    prefix = "chore(queue): select batch "
    return [s.removeprefix(prefix) for s in reversed(origin.log) if s.startswith(prefix)]


# --- what must hold after every scenario --------------------------------------------------------


def check_converged(deployment: Deployment, origin: Origin) -> None:
    """The issue's invariants on origin's default branch after a scenario's runs."""
    check_data_files_validate(origin)
    live_prs = {
        pr["head"].removeprefix("batch/").removesuffix("-review")
        for pr in deployment.github()["pulls"]
        if pr["state"] == "open"
    }
    died = {b for b, r in origin.releases.items() if any(x.cause == "batch_died" for x in r.releases)}
    # no entry is in_progress without a live batch (an open PR of it)
    for source, e in origin.entries.items():
        if e.status == "in_progress":
            assert e.batch_id in live_prs, f"{source} in_progress in {e.batch_id}, which has no open PR"
    # statuses agree with the manifests and the recipes on the branch
    for batch_id, manifest in origin.manifests.items():
        for package in manifest.packages:
            current = origin.entries[package.package_id]
            if current.batch_id != batch_id:
                continue  # attempted again in a later batch: that one speaks for it
            if package.outcome == "merged" and not package.review:
                on_branch = package.name in origin.recipes
                assert on_branch == (current.status == "success") or batch_id in live_prs, (
                    f"{package.package_id} merged in {batch_id}; on main: {on_branch}; {current.status}"
                )
            elif package.outcome in ("failed", "excluded"):
                assert current.status == "failed", (
                    f"{package.package_id}: {package.outcome} but {current.status}"
                )
            elif package.outcome == "skipped":
                assert current.status == "skipped", f"{package.package_id}: skipped but {current.status}"
    for source, e in origin.entries.items():
        if e.status == "success":
            assert e.name in origin.recipes, f"{source} is success without a recipe on main"
    # one metrics line per batch with a selection (that finished), one failure record per failure
    selected = selected_batches(origin)
    counted = collections.Counter(m.batch_id for m in origin.metrics)
    assert all(n == 1 for n in counted.values()), f"a batch has two metrics lines: {counted}"
    # a batch whose run died has no manifest: reconcile released it and wrote its metrics line
    assert set(counted) == set(origin.manifests) | died, (set(counted), set(origin.manifests), died)
    assert set(selected) == set(origin.manifests) | died, (selected, set(origin.manifests), died)
    for batch_id in died:
        released = {p for r in origin.releases[batch_id].releases for p in r.packages}
        for source in released:
            assert (
                origin.entries[source].batch_id != batch_id or origin.entries[source].status != "in_progress"
            )
    failures = collections.Counter(
        (r.batch_id, r.environment, f.package_id) for r in origin.failures for f in r.failures
    )
    assert all(n == 1 for n in failures.values()), f"a failure was recorded twice: {failures}"
    for batch_id, manifest in origin.manifests.items():
        for package in manifest.packages:
            if package.outcome in ("failed", "excluded"):
                assert any(b == batch_id and p == package.package_id for b, _, p in failures), (
                    f"{package.package_id} {package.outcome} in {batch_id} without a failure record"
                )
    # every batch with passing recipes has exactly one PR (plus its review PR)
    pulls = collections.Counter(pr["head"] for pr in deployment.github()["pulls"])
    for batch_id, manifest in origin.manifests.items():
        batch_recipes = [p for p in manifest.packages if p.outcome == "merged" and not p.review]
        review = [p for p in manifest.packages if p.review]
        assert pulls[f"batch/{batch_id}"] == (1 if batch_recipes else 0), (batch_id, pulls)
        assert pulls[f"batch/{batch_id}-review"] == (1 if review else 0), (batch_id, pulls)
    check_dashboard_rebuilt(deployment, origin)


def check_data_files_validate(origin: Origin) -> None:
    """``python -m recipeline_schema check`` over every data file on the branch."""
    files = [str(p) for p in origin.data_files()] + [str(origin.root / "batch-control.json")]
    proc = subprocess.run(
        [sys.executable, "-m", "recipeline_schema", "check", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def deployments(deployment: Deployment) -> list[dict[str, Any]]:
    path = deployment.pages / "deployments.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def check_dashboard_rebuilt(deployment: Deployment, origin: Origin) -> None:
    """After every run that changed the default branch, the dashboard was published from it."""
    published = {d["sha"] for d in deployments(deployment)}
    for run in deployment.runs:
        if run.workflow != "update-dashboard.yml" and run.pushed and not run.killed:
            assert run.head_after in published, (
                f"no dashboard built from {run.head_after} ({run.describe()[:300]})"
            )
    if not deployment.runs:
        return
    board = json.loads((deployment.pages / "site" / "dashboard.json").read_text())
    assert board["queue"]["total"] == sum(len(q.entries) for q in origin.queues.values())


def job_results(run: Run, *jobs: str) -> dict[str, str | None]:
    return {job: run.result(job) for job in jobs}
