"""``status``: the pipeline's health on one terminal screen (pure text from the state files).

A batch's recipes are shown in the one vocabulary of ``recipeline_schema.recipe_state``: per
ecosystem's last batch ``3/3 on batch branch, no PR``, ``3/3 in PR #12 open`` or ``3/3 on the
default branch``, and the last line counts only recipes the default branch really holds. The
metrics line's ``merged`` keeps its meaning (recipes committed on the batch branch, as in
tsuku's ``batch-runs.jsonl``) and is shown as that only when a batch has no manifest.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from recipeline_schema import (
    ECOSYSTEMS,
    BatchControl,
    BatchManifest,
    DataFileError,
    Ecosystem,
    Layout,
    MetricsLine,
    PullRequestFact,
    Queue,
    RecipeStatus,
    ReleaseRecord,
    RollbackRecord,
    batch_statuses,
    load,
    read_jsonl,
    state_summary,
)

from .breaker import breaker_state
from .budget import macos_mode, rolled_budget
from .control import stop_reason
from .errors import MergerError
from .gitrepo import default_branch, git, is_repository, paths_in_tree, run_git
from .landing import batch_pull_requests
from .messages import parse_trailers
from .pullrequest import PullRequestPublisher
from .state import load_control, load_queue

_COLUMNS = ("pending", "in_progress", "success", "failed", "blocked")
#: how many commits of the default branch that touched recipes/ are read for the last landing
_LANDING_COMMITS = 50


@dataclass(frozen=True, slots=True)
class Landed:
    """The newest batch whose recipes reached the default branch, and when its commit did."""

    batch_id: str
    at: dt.datetime
    recipes: int


def status_lines(
    queues: Mapping[Ecosystem, Queue],
    control: BatchControl,
    metrics: Sequence[MetricsLine],
    now: dt.datetime,
    *,
    states: Mapping[str, Sequence[RecipeStatus]] | None = None,
    landed: Landed | None = None,
) -> list[str]:
    """The summary: stop state, budget, one row per ecosystem with its last batch's recipes by
    state (``states``: batch id -> its recipes' states, from its manifest), and the time since
    recipes last reached the default branch (``landed``)."""
    states = states or {}
    b = rolled_budget(control.budget, now)
    running = "pipeline running" if control.enabled else f"PIPELINE STOPPED: {control.reason or 'no reason'}"
    lines = [
        f"recipeline status at {now:%Y-%m-%dT%H:%M:%SZ}: {running}",
        f"budget week of {b.week_start}: macOS {b.macos_minutes_used:g}/{b.macos_minutes_limit:g} min "
        f"({macos_mode(b)}), Linux {b.linux_minutes_used:g}/{b.linux_minutes_limit:g} min",
        "",
        f"{'ecosystem':<10}"
        + "".join(f"{c[:8]:>9}" for c in (*_COLUMNS, "other"))
        + "  breaker    stop  last batch",
    ]
    last_by_eco: dict[str, MetricsLine] = {}
    for line in metrics:
        if line.ecosystem not in last_by_eco or line.timestamp >= last_by_eco[line.ecosystem].timestamp:
            last_by_eco[line.ecosystem] = line
    for eco in ECOSYSTEMS:
        queue = queues.get(eco)
        counts = Counter[str](e.status for e in queue.entries) if queue else Counter[str]()
        other = sum(n for status, n in counts.items() if status not in _COLUMNS)
        breaker = breaker_state(control.circuit_breaker.get(eco), now)
        stopped = "yes" if stop_reason(control, eco) else "-"
        last = last_by_eco.get(eco)
        batch = f"{last.batch_id} {batch_words(last, states.get(last.batch_id))}" if last else "-"
        row = f"{eco:<10}" + "".join(f"{counts[c]:>9}" for c in _COLUMNS) + f"{other:>9}"
        lines.append(f"{row}  {breaker.state:<9}  {stopped:<4}  {batch}")
    if landed is not None:
        hours = (now - landed.at).total_seconds() / 3600
        lines += [
            "",
            f"last recipes on the default branch {hours:.1f} h ago "
            f"(batch {landed.batch_id}, {landed.recipes} recipes)",
        ]
    else:
        lines += ["", "no recipe on the default branch yet"]
    return lines


def batch_words(line: MetricsLine, statuses: Sequence[RecipeStatus] | None) -> str:
    """A batch's recipes by state (its manifest's), else what its metrics line says truly."""
    if statuses is not None:
        return state_summary(statuses)
    if line.released:
        return f"{line.released}/{line.total} released (its run died before merging)"
    return f"{line.merged}/{line.total} committed on its batch branch (no manifest)"


def read_status(root: Path, now: dt.datetime, *, publisher: PullRequestPublisher | None = None) -> list[str]:
    """``status_lines`` over a repository's files (a missing queue is an empty row). What is
    known of a batch's PRs: its local PR body (``data/batches/<id>.pr.md``: no token, no PR),
    reconcile's release records, and, with ``publisher``, GitHub's word for the last batches."""
    layout = Layout(root)
    queues = {eco: q for eco in ECOSYSTEMS if (q := load_queue(layout, eco)) is not None}
    metrics = read_jsonl(MetricsLine, layout.metrics)
    revs, on_default = _default_branch_recipes(root)
    last_ids = {
        max((m for m in metrics if m.ecosystem == eco), key=lambda m: m.timestamp).batch_id
        for eco in {m.ecosystem for m in metrics}
    }
    states = {
        batch_id: found
        for batch_id in sorted(last_ids)
        if (found := _batch_states(layout, batch_id, on_default, publisher)) is not None
    }
    landed = _last_landed(layout, revs, on_default) if revs else None
    return status_lines(queues, load_control(layout, now=now), metrics, now, states=states, landed=landed)


def _default_branch_recipes(root: Path) -> tuple[tuple[str, ...], frozenset[str]]:
    """The default branch's revisions here (the local branch, the remote's as last fetched) and
    the recipe paths they hold."""
    if not is_repository(root):
        return (), frozenset()
    branch = default_branch(root)
    revs = tuple(
        rev
        for rev in (f"refs/heads/{branch}", f"refs/remotes/origin/{branch}")
        if run_git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").returncode == 0
    )
    return revs, frozenset(path for rev in revs for path in paths_in_tree(root, rev, "recipes"))


def _batch_states(
    layout: Layout,
    batch_id: str,
    on_default: frozenset[str],
    publisher: PullRequestPublisher | None,
) -> tuple[RecipeStatus, ...] | None:
    """The states of a batch's recipes from its records; ``None`` without a manifest."""
    path = layout.manifest(batch_id)
    if not path.exists():
        return None
    manifest = load(BatchManifest, path)
    rollback_path, release_path = layout.rollback_record(batch_id), layout.release_record(batch_id)
    return batch_statuses(
        manifest,
        pull_requests=_pull_request_facts(layout, manifest, publisher),
        on_default_branch=on_default,
        rollback=load(RollbackRecord, rollback_path) if rollback_path.exists() else None,
        release=load(ReleaseRecord, release_path) if release_path.exists() else None,
    )


def _pull_request_facts(
    layout: Layout, manifest: BatchManifest, publisher: PullRequestPublisher | None
) -> dict[str, PullRequestFact]:
    """Batch branch -> what is known of its PR: a local PR body says none was opened (the
    local publisher writes one instead of a PR); else GitHub's word, when it is asked and
    answers; else nothing (the recipe stays ``on batch branch``)."""
    facts: dict[str, PullRequestFact] = {}
    for pr in batch_pull_requests(manifest):
        suffix = ".pr.md" if pr.kind == "batch" else f".{pr.kind}.pr.md"
        if (layout.batches_dir / f"{manifest.batch_id}{suffix}").exists():
            facts[pr.branch] = PullRequestFact("none")
        elif publisher is not None:
            try:
                state = publisher.pull_request_state(pr.branch)
            except MergerError:
                continue  # GitHub did not answer: nothing known
            if state is not None:
                facts[pr.branch] = PullRequestFact(state.state, state.number, state.url)
    return facts


def _last_landed(layout: Layout, revs: tuple[str, ...], on_default: frozenset[str]) -> Landed | None:
    """The newest commit of the default branch (``revs``: here and the remote's) that added or
    changed recipes and names a batch (its ``batch_id`` trailer) whose recipes the default
    branch still holds, not rolled back."""
    out = git(
        layout.root, "log", "-z", f"-{_LANDING_COMMITS}", "--diff-filter=AM", "--format=%ct%n%B",
        *revs, "--", "recipes/",
    )  # fmt: skip
    for record in filter(None, (r.strip("\n") for r in out.split("\0"))):
        when, _, message = record.partition("\n")
        batch_id = parse_trailers(message).get("batch_id")
        if not batch_id:
            continue
        try:
            statuses = _batch_states(layout, batch_id, on_default, None)
        except (DataFileError, OSError):
            continue
        n = sum(s.state == "on_default_branch" for s in statuses or ())
        if n:
            return Landed(batch_id, dt.datetime.fromtimestamp(int(when), dt.UTC), n)
    return None
