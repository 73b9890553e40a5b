"""The pure dashboard: what was read (``RepositoryData``) in, the ``dashboard.json`` document out.

No clock, filesystem or network: ``now`` and what the readers found (including the problems
they met) are passed in. The same inputs, in any order, give the same document.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from functools import cached_property
from operator import attrgetter
from typing import TYPE_CHECKING, Any, cast

from recipeline_schema import CATEGORIES, ROTATION, breaker_state_at, budget_mode, minutes_this_week
from recipeline_schema.controlrules import stop_reason, week_start
from recipeline_schema.tsuku import plausible_retry

from .model import (
    BatchRelease,
    Control,
    Curated,
    FailureEvent,
    Manifest,
    Package,
    ReadProblem,
    RepositoryData,
    Run,
)
from .model import time_text as _time_text

if TYPE_CHECKING:
    from recipeline_schema import BatchControl
    from recipeline_schema.ecosystems import Ecosystem

#: How many failures ``recent_failures`` shows.
RECENT_FAILURES = 20
#: How many failures ``failure_details`` lists (newest first; the counts cover all of them).
MAX_FAILURE_DETAILS = 2000
#: How many failures a package keeps in its ``last_failures``.
PACKAGE_FAILURES = 3
#: How many runs ``runs`` lists, newest first (``series`` covers the whole history).
MAX_RUNS = 500
#: How many blockers ``blockers`` lists.
TOP_BLOCKERS = 10
#: How many read problems ``errors.items`` lists (``errors.count`` counts them all).
MAX_LISTED_ERRORS = 100
#: Key for failures whose record carries no subcategory.
NO_SUBCATEGORY = "unspecified"
#: Hours without a merged recipe after which the health panel warns.
STALE_AFTER_HOURS = 48
#: ``batch-generate.yml`` starts a run every hour (cron ``17 * * * *``).
RUN_SCHEDULE = dt.timedelta(hours=1)
#: The longest a run may take: the sum of ``batch-generate.yml``'s job timeouts
#: (preflight 15, generate 60, validate-linux 60, plan-macos 10, validate-macos 60, merge 30 min).
LONGEST_RUN = dt.timedelta(minutes=235)
#: How long the health panel accepts without a recorded run before it says that nothing runs:
#: one interval of the schedule, the longest run, and an hour for GitHub's delays of scheduled
#: runs (5 h 55 min). The one allowance: a half-open breaker's probe is overdue this long after
#: the rotation's full turn (``len(ROTATION)`` hourly runs: each ecosystem's hour comes once).
NO_RUN_ALLOWANCE = RUN_SCHEDULE + LONGEST_RUN + dt.timedelta(hours=1)
#: The control file every stage reads first (repository-relative, as read problems name it).
CONTROL_FILE = "batch-control.json"

STATUSES: tuple[str, ...] = (
    "pending",
    "in_progress",
    "success",
    "failed",
    "blocked",
    "requires_manual",
    "excluded",
    "skipped",
)
TIERS: tuple[int, ...] = (1, 2, 3)

Document = dict[str, Any]

_CATEGORY = attrgetter("category")
_CATEGORY_AND_SUB = attrgetter("category", "subcategory")
_ECOSYSTEM = attrgetter("ecosystem")
_BATCH_ID = attrgetter("batch_id")
_STATUS = attrgetter("status")
_ECOSYSTEM_AND_STATUS = attrgetter("ecosystem", "status")
_TIER_AND_STATUS = attrgetter("priority", "status")
_MAY_WAIT_ON_DEPENDENCY = frozenset({"blocked", "failed", "pending"})
_TIER_NAME_SOURCE = attrgetter("priority", "name", "source")


def _t(value: dt.datetime | None) -> str | None:
    return None if value is None else _time_text(value)


def build_dashboard(data: RepositoryData, now: dt.datetime) -> Document:
    """The ``dashboard.json`` document (ARCHITECTURE §8)."""
    return Dashboard(data, now).document()


class Dashboard:
    """The document's sections, each computed when asked for; what several sections share (the
    deduplicated failures, each package's last ones) is computed once, on first use.

    ``section(name)`` lets the writer build and write one section at a time (``site``);
    ``document()`` builds them all.
    """

    def __init__(self, data: RepositoryData, now: dt.datetime) -> None:
        self.data, self.now = data, now

    @cached_property
    def failures(self) -> list[FailureEvent]:
        """Deduplicated, newest first."""
        return dedupe_failures(self.data.failures)

    @cached_property
    def by_package(self) -> dict[str, list[FailureEvent]]:
        return _failures_by_package(self.failures)

    @cached_property
    def packages(self) -> dict[str, Package]:
        return {p.source: p for p in self.data.packages}

    @cached_property
    def run_index(self) -> RunIndex:
        return RunIndex(self.data.runs)

    def document(self) -> Document:
        return {name: self.section(name) for name in SECTIONS}

    def section(self, name: str) -> Any:
        return _SECTIONS[name](self)

    def history(self) -> list[Document]:
        """Every failure (newest first), each with its whole cause (``detail``, left out when it
        is the one-line message), its run, and from its batch's manifest the PR and the package's
        recipe path (left out without a manifest: 52 MB of package files at 10x tsuku's data)."""
        run_of, packages = self.run_index.run_of, self.packages
        manifests = {m.batch_id: m for m in self.data.manifests}
        out: list[Document] = []
        append = out.append
        for f in self.failures:
            row = _failure_json(f, packages, run_of(f))
            if f.detail and f.detail != f.message:  # else the page shows the message
                row["detail"] = f.detail
            manifest = manifests.get(f.batch_id) if manifests else None
            if manifest is not None:  # else no PR, no recipe
                row["pull_request"] = manifest.pull_request
                row["recipe_path"] = next(
                    (o.recipe_path for o in manifest.packages if o.package_id == f.package), None
                )
            append(row)
        return out

    def details(self, limit: int) -> list[Document]:
        run_of = self.run_index.run_of
        return [_failure_json(f, self.packages, run_of(f)) for f in self.failures[:limit]]


_SECTIONS: dict[str, Callable[[Dashboard], Any]] = {
    "generated_at": lambda d: _time_text(d.now),
    "layouts": lambda d: list(d.data.layouts),
    "queue": lambda d: queue_section(d.data.packages, d.by_package, d.now),
    "blockers": lambda d: blockers_section(d.data.packages, d.failures),
    "failures": lambda d: failures_section(d.failures, d.data.raw_categories),
    "recent_failures": lambda d: d.details(RECENT_FAILURES),
    "failure_details": lambda d: d.details(MAX_FAILURE_DETAILS),
    "health": lambda d: health_section(
        d.data.control, d.data.packages, d.run_index, d.data.manifests, d.now, d.data.problems
    ),
    "runs": lambda d: runs_section(d.run_index, d.failures, d.data.manifests, d.data.releases),
    "empty_runs": lambda d: empty_runs_section(d.run_index, d.failures, d.data.manifests, d.data.releases),
    "series": lambda d: series_section(d.data.runs),
    "disambiguations": lambda d: disambiguations_section(d.data.disambiguations, d.data.runs),
    "errors": lambda d: errors_section(d.data.problems),
}
#: the document's sections, in the order ``dashboard.json`` writes them (its keys are sorted)
SECTIONS: tuple[str, ...] = tuple(sorted(_SECTIONS))


# --- failures ----------------------------------------------------------------------------


def dedupe_failures(events: Iterable[FailureEvent]) -> list[FailureEvent]:
    """One failure per (package, batch, category, subcategory), environments merged; newest first.

    tsuku's per-recipe files write one line per platform, and recipeline one record per
    environment: a package that failed the same way on eleven platforms of one batch is one
    failure to read about, not eleven.
    """
    first: dict[tuple[str, str, str, str], FailureEvent] = {}
    repeated: dict[tuple[str, str, str, str], list[FailureEvent]] = {}  # the few keys seen twice
    for e in events:
        key = (e.package, e.batch_id, e.category, e.subcategory or "")
        seen = first.setdefault(key, e)
        if seen is not e:
            group = repeated.get(key)
            if group is None:
                repeated[key] = [seen, e]
            else:
                group.append(e)
    for key, group in repeated.items():  # replacing a value keeps the key's place in the order
        group.sort(key=_full_key, reverse=True)
        first[key] = group[0]._replace(
            environments=tuple(sorted({env for e in group for env in e.environments})),
            blocked_by=tuple(sorted({b for e in group for b in e.blocked_by})),
        )
    merged = list(first.values())
    merged.sort(key=_order_text, reverse=True)
    return merged


def _order_text(e: FailureEvent) -> str:
    """Time first; then the rest of the deduplication key, so that the order is total and input
    order never shows. One string compares faster than a tuple (the sort of 107,000 failures at
    10x tsuku's data: 0.10 s against 0.16 s); it is unambiguous because only its last part, the
    package, can contain the separator (times are normalized, batch ids are file names or
    checked, categories come from the taxonomy)."""
    return "\0".join((e.timestamp, e.batch_id, e.category, e.subcategory or "", e.package))


def _full_key(e: FailureEvent) -> tuple[Any, ...]:
    """Every field: which of one package's events of a batch stands for them all never depends
    on the order they were read in (two processes read failure files)."""
    return (
        e.timestamp,
        e.batch_id,
        e.ecosystem,
        e.package,
        e.category,
        e.subcategory or "",
        e.message,
        e.file,
        e.legacy_category or "",
        -1 if e.exit_code is None else e.exit_code,
        e.environments,
        e.blocked_by,
    )


def _failures_by_package(failures: Sequence[FailureEvent]) -> dict[str, list[FailureEvent]]:
    """Each package's newest failures (as many as a package row shows), newest first."""
    out: dict[str, list[FailureEvent]] = {}
    for f in failures:  # newest first already
        mine = out.get(f.package)
        if mine is None:
            out[f.package] = [f]
        elif len(mine) < PACKAGE_FAILURES:
            mine.append(f)
    return out


def _failure_json(f: FailureEvent, packages: Mapping[str, Package], run: str | None = None) -> Document:
    pkg = packages.get(f.package)
    return {
        "run": run,
        "package": f.package,
        "name": pkg.name if pkg else _bare_name(f.package),
        "ecosystem": f.ecosystem,
        "category": f.category,
        "subcategory": f.subcategory,
        "legacy_category": f.legacy_category,
        "message": f.message,
        "timestamp": f.timestamp,
        "batch_id": f.batch_id,
        "environments": list(f.environments),
        "blocked_by": list(f.blocked_by),
        "exit_code": f.exit_code,
        "file": f.file,
    }


def _bare_name(package: str) -> str:
    return package.partition(":")[2].rsplit("/", 1)[-1] if ":" in package else package


def failures_section(failures: Sequence[FailureEvent], raw_categories: Mapping[str, int]) -> Document:
    """Counts of the deduplicated failures by category (all four, zeros included), subcategory,
    ecosystem; and tsuku's own figure: raw line items per category as the files spell it."""
    # counted by C-level passes (map, Counter), then regrouped: ~100,000 failures at 10x tsuku's data
    categories: Counter[str] = Counter(dict.fromkeys(CATEGORIES, 0))
    categories.update(map(_CATEGORY, failures))
    by_subcategory: dict[str, dict[str, int]] = {}
    for (category, subcategory), count in Counter(map(_CATEGORY_AND_SUB, failures)).items():
        subs = by_subcategory.setdefault(category, {})
        key = subcategory or NO_SUBCATEGORY
        subs[key] = subs.get(key, 0) + count
    by_ecosystem = Counter(map(_ECOSYSTEM, failures))
    return {
        "total": len(failures),
        "by_category": dict(categories),
        "by_subcategory": by_subcategory,
        "by_ecosystem": dict(by_ecosystem),
        "raw_total": sum(raw_categories.values()),
        "by_legacy_category": dict(raw_categories),
    }


# --- queue -------------------------------------------------------------------------------


def _package_order(p: Package) -> tuple[int, int, str, str]:
    return (p.priority, -(p.popularity or 0), p.name, p.source)


def _in_package_order(packages: Sequence[Package]) -> list[Package]:
    """Tier, then popularity (most popular first), then name and source. tsuku's queues record
    no popularity: then a C-level key does (53,000 entries at 10x: 0.02 s against 0.05 s)."""
    if any(p.popularity for p in packages):
        return sorted(packages, key=_package_order)
    return sorted(packages, key=_TIER_NAME_SOURCE)


def queue_section(
    packages: Sequence[Package], failures: Mapping[str, list[FailureEvent]], now: dt.datetime | None = None
) -> Document:
    """Totals by status, ecosystem and tier, and every package listed under its status. With
    ``now``, a retry time no backoff could have meant (``recipeline_schema.tsuku.plausible_retry``:
    tsuku's overflow wrote 1734) is flagged ``next_retry_invalid``."""
    listed: dict[str, list[Document]] = {status: [] for status in STATUSES}
    rows_of, no_failures = failures.get, list[FailureEvent]()
    names: dict[str, set[str]] = defaultdict(set)
    for p in packages:
        names[p.source].add(p.name)
    for p in _in_package_order(packages):
        row = _package_json(p, rows_of(p.source, no_failures), now)
        same = names[p.source]
        if len(same) > 1:  # tsuku queues one source under several names (task, go-task)
            row["aliases"] = sorted(same - {p.name})
        listed.setdefault(p.status, []).append(row)
    by_ecosystem: dict[str, Counter[str]] = defaultdict(Counter)
    for (eco, status), n in Counter(map(_ECOSYSTEM_AND_STATUS, packages)).items():
        by_ecosystem[eco][status] += n
    by_tier: dict[int, Counter[str]] = defaultdict(Counter)
    for (tier, status), n in Counter(map(_TIER_AND_STATUS, packages)).items():
        by_tier[tier][status] += n
    counts = Counter(map(_STATUS, packages))
    return {
        "total": len(packages),
        "by_status": _status_counts(counts),
        "by_ecosystem": {
            eco: {"total": sum(c.values()), "by_status": _status_counts(c)} for eco, c in by_ecosystem.items()
        },
        "by_tier": {
            str(t): {"total": sum(by_tier[t].values()), "by_status": _status_counts(by_tier[t])}
            for t in sorted(set(TIERS) | set(by_tier))
        },
        "packages": listed,
    }


def _package_json(p: Package, failures: list[FailureEvent], now: dt.datetime | None = None) -> Document:
    """A package row; fields at their default are left out (53,000 rows at 10x: size matters)."""
    doc: Document = {
        "name": p.name,
        "source": p.source,
        "ecosystem": p.ecosystem,
        "priority": p.priority,
        "status": p.status,
        "failure_count": p.failure_count,
    }
    if p.confidence != "auto":
        doc["confidence"] = p.confidence
    if p.next_retry_at is not None:
        doc["next_retry_at"] = _time_text(p.next_retry_at)
        if now is not None and not plausible_retry(p.next_retry_at, now):
            doc["next_retry_invalid"] = True  # tsuku's overflowed backoff (year 1734): retried every run
    if p.last_attempt_at is not None:
        doc["last_attempt_at"] = _time_text(p.last_attempt_at)
    if p.batch_id is not None:
        doc["batch_id"] = p.batch_id
    if p.reason:
        doc["reason"] = p.reason
    blocked_by = p.blocked_by
    if failures:
        if p.status in _MAY_WAIT_ON_DEPENDENCY:  # what its failures say it waits on now
            blocked_by += current_dependencies(failures).get(p.source, ())
        doc["last_failures"] = [
            {
                "category": f.category,
                "subcategory": f.subcategory,
                "message": f.message,
                "timestamp": f.timestamp,
                "batch_id": f.batch_id,
                "environments": list(f.environments),
            }
            for f in failures[:PACKAGE_FAILURES]
        ]
    if blocked_by:
        doc["blocked_by"] = sorted(set(blocked_by))
    return doc


def _status_counts(counts: Mapping[str, int]) -> dict[str, int]:
    out = dict.fromkeys(STATUSES, 0)
    out.update(counts)
    return out


# --- blockers ----------------------------------------------------------------------------


def current_dependencies(failures: Sequence[FailureEvent]) -> dict[str, tuple[str, ...]]:
    """What each package's failures say it waits on *now* (``failures`` newest first).

    A failure naming missing dependencies (``blocked_by``) counts only while no later failure of
    the package has another category (a package that then failed validation got past its
    dependencies), and only its newest batch's such failures count (an older one named what was
    missing then). Failures of the same second are not later than each other.
    """
    newest_other: dict[str, str] = {}  # package -> time of its newest failure of another kind
    dep_batch: dict[str, str] = {}
    out: dict[str, set[str]] = {}
    for f in failures:
        if not f.blocked_by:
            newest_other.setdefault(f.package, f.timestamp)
            continue
        other = newest_other.get(f.package)
        if other is not None and other > f.timestamp:
            continue  # superseded by a later failure of another category
        if dep_batch.setdefault(f.package, f.batch_id) != f.batch_id:
            continue  # an older batch's
        out.setdefault(f.package, set()).update(f.blocked_by)
    return {package: tuple(sorted(deps)) for package, deps in out.items()}


def blockers_section(packages: Sequence[Package], failures: Sequence[FailureEvent]) -> list[Document]:
    """The dependencies blocking most packages, transitively, with the packages they block.

    Edges come from queue entries' ``blocked_by`` and the failures that name missing
    dependencies as the package's current state (``current_dependencies``: a missing-dependency
    failure superseded by a later failure of another category no longer counts). A package
    already in (status success) is blocked no longer. Transitive: if ``a`` blocks ``b`` and ``b``
    blocks ``c``, ``a`` blocks ``c`` (matched by the blocked package's name); cycles are cut.
    Each row lists the packages it blocks directly and those it blocks only through them apart.
    """
    by_source = {p.source: p for p in packages}
    done = {p.source for p in packages if p.status == "success"}
    direct: dict[str, set[str]] = defaultdict(set)
    for p in packages:
        for dep in p.blocked_by:
            if p.source not in done:
                direct[dep].add(p.source)
    for package, deps in current_dependencies(failures).items():
        if package not in done:
            for dep in deps:
                direct[dep].add(package)

    def name_of(package: str) -> str:
        pkg = by_source.get(package)
        return pkg.name if pkg else _bare_name(package)

    memo: dict[str, frozenset[str]] = {}

    def closure(dep: str, visiting: frozenset[str]) -> frozenset[str]:
        if dep in memo:
            return memo[dep]
        found = set(direct.get(dep, ()))
        for package in list(found):
            name = name_of(package)
            if name != dep and name not in visiting and name in direct:
                found |= closure(name, visiting | {dep})
        result = frozenset(found)
        if not visiting:
            memo[dep] = result
        return result

    rows = []
    for dep in direct:
        blocked = closure(dep, frozenset())
        rows.append((len(blocked), dep, blocked))
    rows.sort(key=lambda r: (-r[0], r[1]))
    return [
        {
            "dependency": dep,
            "count": count,
            "direct": len(direct[dep]),
            "packages": sorted(blocked),
            "direct_packages": sorted(direct[dep]),
            "transitive_packages": sorted(blocked - direct[dep]),
        }
        for count, dep, blocked in rows[:TOP_BLOCKERS]
    ]


# --- health ------------------------------------------------------------------------------


def health_section(
    control: Control | None,
    packages: Sequence[Package],
    runs: Sequence[Run] | RunIndex,
    manifests: Sequence[Manifest],
    now: dt.datetime,
    problems: Sequence[ReadProblem] = (),
) -> Document:
    """Breakers and stop state per ecosystem, last (successful) run, staleness, budget, and the
    banner's ``alerts``: each reason the pipeline is not healthy, one line each (``bad``: the
    pipeline does not run or cannot be trusted to; ``warn``: it runs, degraded).

    ``problems`` are the read problems: one about ``batch-control.json`` means the file could
    not be read, which halts every stage (they refuse to run on a control file they cannot read).
    """
    ctl = control or Control()
    stops = _stop_fields(ctl, now)
    breakers = {b.ecosystem: b for b in ctl.breakers}
    ecosystems = sorted(
        set(breakers) | {p.ecosystem for p in packages if p.ecosystem} | set(ctl.disabled_ecosystems)
    )
    probe_due_after = RUN_SCHEDULE * len(ROTATION) + NO_RUN_ALLOWANCE
    per_eco = {}
    for eco in ecosystems:
        b = breakers.get(eco)
        # the emergency stop as every stage applies it (recipeline_schema.controlrules.stop_reason)
        why = stop_reason(stops, eco)
        stopped = why is not None
        # as preflight sees it now: an open breaker past its cool-down is half-open
        state = breaker_state_at(b.state, b.half_open_after, now) if b else "closed"
        probing_since = None
        if b is not None and state == "half_open":
            probing_since = b.half_open_after or b.opened_at or b.last_failure
        probe_due = None if probing_since is None else probing_since + probe_due_after
        per_eco[eco] = {
            "breaker_state": state,
            "breaker_recorded_state": b.state if b else "closed",
            "breaker_recorded": b is not None,
            "consecutive_failures": b.consecutive_failures if b else 0,
            "last_failure": _t(b.last_failure) if b else None,
            "last_success": _t(b.last_success) if b else None,
            "opened_at": _t(b.opened_at) if b else None,
            "half_open_after": _t(b.half_open_after) if b else None,
            "breaker_reason": b.reason if b else "",
            # a half-open breaker's probe runs at the latest one rotation (plus a run) later
            "probe_due_by": _t(probe_due),
            "probe_overdue": probe_due is not None and not stopped and now > probe_due,
            "stopped": stopped,
            "stop_reason": why or "",
        }
    index = runs if isinstance(runs, RunIndex) else RunIndex(runs)
    ordered = index.runs[::-1]
    last_run = ordered[0] if ordered else None
    successful = next((r for r in ordered if r.merged > 0), None)
    since_success = ordered.index(successful) if successful else len(ordered)
    last_merge = successful.timestamp if successful else None
    last_activity = last_run.timestamp if last_run else None
    for m in manifests:
        merged = any(p.outcome == "merged" for p in m.packages)
        if m.merged_at is not None and (last_activity is None or m.merged_at > last_activity):
            last_activity = m.merged_at
        if (
            merged
            and m.merged_at is not None
            and not m.rolled_back
            and (last_merge is None or m.merged_at > last_merge)
        ):
            last_merge = m.merged_at
    hours = None if last_merge is None else round((now - last_merge).total_seconds() / 3600, 1)
    run_hours = None if last_activity is None else round((now - last_activity).total_seconds() / 3600, 1)
    control_problem = next((p.message for p in problems if p.file == CONTROL_FILE), None)
    doc: Document = {
        "enabled": ctl.enabled,
        "control_recorded": control is not None,
        "control_readable": control_problem is None,
        "control_problem": control_problem,
        "stop_reason": ctl.reason,
        "stopped_because": stop_reason(stops, None),
        "incident_url": ctl.incident_url,
        "disabled_by": ctl.disabled_by,
        "disabled_at": _t(ctl.disabled_at),
        "expected_resume": _t(ctl.expected_resume),
        "ecosystems": per_eco,
        "open_breakers": sorted(e for e, v in per_eco.items() if v["breaker_state"] != "closed"),
        "overdue_probes": sorted(e for e, v in per_eco.items() if v["probe_overdue"]),
        "last_run": None if last_run is None else _run_brief(last_run, index.key_of(last_run)),
        "last_run_at": _t(last_activity),
        "hours_since_last_run": run_hours,
        "run_allowance_hours": round(NO_RUN_ALLOWANCE.total_seconds() / 3600, 2),
        "not_running": last_activity is None or now - last_activity > NO_RUN_ALLOWANCE,
        "last_successful_batch": (
            None
            if successful is None
            else {
                "key": index.key_of(successful),
                "batch_id": successful.batch_id,
                "ecosystem": successful.ecosystem,
                "recipes_merged": successful.merged,
                "timestamp": _time_text(successful.timestamp),
            }
        ),
        "runs_since_last_success": since_success,
        "runs_recorded": len(index.runs),
        "last_recipe_merged_at": _t(last_merge),
        "hours_since_recipe_merged": hours,
        "stale_after_hours": STALE_AFTER_HOURS,
        "stale": hours is None or hours > STALE_AFTER_HOURS,
        "budget": _budget(ctl, now),
    }
    doc["alerts"] = health_alerts(doc, now)
    return doc


def _stop_fields(ctl: Control, now: dt.datetime) -> BatchControl:
    """The dashboard's control as the schema's model, for ``stop_reason`` (which reads the stop
    fields only; tsuku's ecosystems outside recipeline's list are kept as they are)."""
    from recipeline_schema import BatchControl, Budget

    return BatchControl(
        enabled=ctl.enabled,
        budget=Budget(week_start=week_start(now)),
        disabled_ecosystems=cast("tuple[Ecosystem, ...]", ctl.disabled_ecosystems),
        reason=ctl.reason,
        incident_url=ctl.incident_url,
        disabled_by=ctl.disabled_by,
        disabled_at=ctl.disabled_at,
        expected_resume=ctl.expected_resume,
        disabled_reasons=dict(ctl.disabled_reasons),
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _since(hours: float) -> str:
    """A span as the banner words it: hours up to two days, then days."""
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.0f} days"


def _when(text: str | None) -> str:
    return "—" if text is None else text.replace("T", " ").replace("Z", " UTC")


def _hours_between(earlier: str, now: dt.datetime) -> float:
    return (now - dt.datetime.fromisoformat(earlier.replace("Z", "+00:00"))).total_seconds() / 3600


def health_alerts(health: Document, now: dt.datetime) -> list[Document]:
    """The banner's lines, worst first: ``{"level": "bad" | "warn", "code", "message"}``. The
    pipeline is healthy when there are none."""
    out: list[Document] = []

    def alert(level: str, code: str, message: str) -> None:
        out.append({"level": level, "code": code, "message": message})

    if not health["control_readable"]:
        alert(
            "bad",
            "control_unreadable",
            f"{CONTROL_FILE} cannot be read ({health['control_problem']}):"
            " every stage refuses to run until it is fixed",
        )
    if health["stopped_because"]:
        alert("bad", "stopped", "Emergency stop: " + health["stopped_because"])
    allowance = _since(health["run_allowance_hours"])
    if health["last_run_at"] is None:
        alert("bad", "no_run", f"No run is recorded (the hourly schedule allows {allowance} without one)")
    elif health["not_running"]:
        alert(
            "bad",
            "no_run",
            f"Nothing has run since {_when(health['last_run_at'])} ({_since(health['hours_since_last_run'])};"
            f" the hourly schedule allows {allowance})",
        )
    overdue = health["overdue_probes"]
    if overdue:
        ecos = health["ecosystems"]
        oldest = min(ecos[e]["probe_due_by"] for e in overdue)
        alert(
            "bad",
            "probe_overdue",
            f"Probes overdue: {', '.join(overdue)} half-open without a probe"
            f" (due by {_when(oldest)}, {_since(_hours_between(oldest, now))} ago)",
        )
    if health["enabled"]:
        stopped = [e for e, v in health["ecosystems"].items() if v["stopped"]]
        for eco in stopped:
            alert("warn", "ecosystem_stopped", _sentence(health["ecosystems"][eco]["stop_reason"]))
    probing = [
        e
        for e, v in health["ecosystems"].items()
        if v["breaker_state"] != "closed" and not v["probe_overdue"]
    ]
    if probing:
        states = ", ".join(
            f"{e} ({health['ecosystems'][e]['breaker_state'].replace('_', '-')})" for e in probing
        )
        alert("warn", "breakers", f"Breakers not closed: {states}")
    if health["stale"]:
        merged = health["last_recipe_merged_at"]
        alert(
            "warn",
            "no_merge",
            "No recipe merged yet"
            if merged is None
            else f"No recipe merged since {_when(merged)} ({_since(health['hours_since_recipe_merged'])};"
            f" threshold {health['stale_after_hours']} h)",
        )
    budget = health["budget"]
    if budget and budget["macos_state"] in ("sampled", "paused"):
        alert("warn", "budget", f"macOS budget {budget['macos_state']} ({budget['macos']['percent']}% used)")
    out.sort(key=lambda a: a["level"] != "bad")  # stable: bad first, each group in the order above
    return out


def _run_brief(r: Run, key: str) -> Document:
    return {
        "key": key,
        "batch_id": r.batch_id,
        "ecosystem": r.ecosystem,
        "timestamp": _time_text(r.timestamp),
        "total": r.total,
        "merged": r.merged,
    }


def _budget(ctl: Control, now: dt.datetime) -> Document | None:
    """The week's CI minutes as the merger counts them at ``now`` (minutes of an earlier week are
    0) and macOS validation's mode (``recipeline_schema.budget_mode``); ``unknown`` without a
    limit (tsuku's files name none)."""
    b = ctl.budget
    if b is None:
        return None
    try:
        week = dt.date.fromisoformat(b.week_start) if b.week_start else None
    except ValueError:
        week = None

    def use(used: float, limit: float | None) -> Document:
        used = minutes_this_week(week, used, now)
        percent = None if not limit else round(100.0 * used / limit, 1)
        return {"used_minutes": used, "limit_minutes": limit, "percent": percent}

    macos = use(b.macos_used, b.macos_limit)
    state = "unknown" if b.macos_limit is None else budget_mode(macos["used_minutes"], b.macos_limit)
    return {
        "week_start": b.week_start,
        "macos": macos,
        "linux": use(b.linux_used, b.linux_limit),
        "macos_state": state,
    }


# --- runs, series, disambiguations, errors -------------------------------------------------


def _rate(merged: int, total: int) -> float:
    return 0.0 if total <= 0 else round(merged / total, 4)


#: tsuku's failure files name no batch (their batch id is the file's stem): a failure read from
#: them belongs to the first run that ended at or after it, if one ended within this window (over
#: tsuku's snapshot every failure is at most 72 minutes before a run's end, the median 3 minutes).
RUN_LINK_WINDOW = dt.timedelta(hours=2)


def _run_order(r: Run) -> tuple[Any, ...]:
    return (r.timestamp, r.batch_id, r.ecosystem, r.file, r.total, r.merged, r.duration_seconds)


class RunIndex:
    """Every run, oldest first, with a key that is unique even where batch ids collide (tsuku
    reuses a date as the batch id: 128 ids for 1,710 runs), and the run each failure belongs to.

    A run's key is its batch id when no other run has it, else ``<batch id>@<time>``
    (``2026-05-07@20260507T140853Z``), and ``~2``, ``~3``... after that should even those collide.
    """

    def __init__(self, runs: Iterable[Run]) -> None:
        self.runs = sorted(runs, key=_run_order)
        self.times = [_time_text(r.timestamp) for r in self.runs]
        self.window_starts = [_time_text(r.timestamp - RUN_LINK_WINDOW) for r in self.runs]
        count = Counter(map(_BATCH_ID, self.runs))
        seen: Counter[str] = Counter()
        self.keys: list[str] = []
        self.by_batch: dict[str, list[int]] = defaultdict(list)
        for i, r in enumerate(self.runs):
            key = r.batch_id if count[r.batch_id] == 1 else f"{r.batch_id}@{r.timestamp:%Y%m%dT%H%M%SZ}"
            seen[key] += 1
            self.keys.append(key if seen[key] == 1 else f"{key}~{seen[key]}")
            self.by_batch[r.batch_id].append(i)

        self._linked: tuple[Sequence[FailureEvent], Counter[str | None]] | None = None
        self._by_time: dict[str, str | None] = {}  # tsuku's failures share times (one per file)

    def key_of(self, r: Run) -> str:
        return self.keys[self.runs.index(r)]

    def linked(self, failures: Sequence[FailureEvent]) -> Counter[str | None]:
        """How many of ``failures`` belong to each run key (``None``: to no known run); the
        sections that need it share one count over the same failures."""
        if self._linked is None or self._linked[0] is not failures:
            self._linked = (failures, Counter(map(self.run_of, failures)))
        return self._linked[1]

    def run_of(self, f: FailureEvent) -> str | None:
        """The key of the run ``f`` belongs to: the run of its batch id (of several, the first
        that ended at or after it, else the last); for a failure from tsuku's files, which name
        no batch, the first run that ended at or after it within ``RUN_LINK_WINDOW``."""
        mine = self.by_batch.get(f.batch_id)
        if mine:
            return self.keys[next((i for i in mine if self.times[i] >= f.timestamp), mine[-1])]
        if f.legacy_category is None:
            return None  # recipeline's own record names its batch: no guessing
        at = f.timestamp
        if at in self._by_time:
            return self._by_time[at]
        i = bisect.bisect_left(self.times, at)
        key = self.keys[i] if i < len(self.runs) and self.window_starts[i] <= at else None
        self._by_time[at] = key
        return key


def _is_empty(r: Run, manifests: Container[str], released: Container[str]) -> bool:
    """A run without a package: nothing selected or generated (tsuku's hourly runs while its
    breakers were open; a half-open breaker's failed probes are recorded as failures, and those
    still count on the fold), no manifest, no release."""
    return r.total == 0 and r.batch_id not in manifests and r.batch_id not in released


def _releases_json(releases: Sequence[BatchRelease]) -> dict[str, list[Document]]:
    released: dict[str, list[Document]] = defaultdict(list)
    for rel in releases:
        released[rel.batch_id].append(
            {
                "cause": rel.cause,
                "status": rel.status,
                "released_at": _t(rel.released_at),
                "packages": list(rel.packages),
                "pull_request": rel.pull_request,
                "reason": rel.reason,
            }
        )
    return released


def runs_section(
    runs: Sequence[Run] | RunIndex,
    failures: Sequence[FailureEvent],
    manifests: Sequence[Manifest],
    releases: Sequence[BatchRelease] = (),
) -> list[Document]:
    """The newest ``MAX_RUNS`` runs with packages (empty ones are folded: ``empty_runs``),
    with their unique ``key``, how many failures belong to them, their manifest when one exists
    and the releases reconcile recorded (a batch PR closed unmerged, a batch whose run died)."""
    index = runs if isinstance(runs, RunIndex) else RunIndex(runs)
    linked = index.linked(failures)
    by_batch = {m.batch_id: m for m in manifests}
    released = _releases_json(releases)
    out = []
    for i in range(len(index.runs) - 1, -1, -1):
        r, key = index.runs[i], index.keys[i]
        if _is_empty(r, by_batch, released):
            continue
        m = by_batch.get(r.batch_id)
        out.append(
            {
                "key": key,
                "batch_id": r.batch_id,
                "ecosystem": r.ecosystem,
                "ecosystems": list(r.ecosystems),
                "timestamp": _time_text(r.timestamp),
                "total": r.total,
                "generated": r.generated,
                "merged": r.merged,
                "failed": r.failed,
                "blocked": r.blocked,
                "excluded": r.excluded,
                "skipped": r.skipped,
                "validated_linux": r.validated_linux,
                "validated_macos": r.validated_macos,
                "used_disambiguation": r.used_disambiguation,
                "duration_seconds": r.duration_seconds,
                "macos_minutes": r.macos_minutes,
                "linux_minutes": r.linux_minutes,
                "success_rate": _rate(r.merged, r.total),
                "recorded_failures": linked.get(key, 0),
                "manifest": None if m is None else _manifest_json(m),
                "released": released.get(r.batch_id, []),
            }
        )
        if len(out) == MAX_RUNS:
            break
    return out


def empty_runs_section(
    runs: Sequence[Run] | RunIndex,
    failures: Sequence[FailureEvent],
    manifests: Sequence[Manifest],
    releases: Sequence[BatchRelease] = (),
) -> Document:
    """The empty runs (no package: ``_is_empty``), folded: each stretch of them between two runs
    with packages is one fold, newest first, with its runs in brief (key, time, ecosystem,
    failures recorded: the page unfolds them, and a run page of an empty run finds it there).
    Only the stretch that ``runs`` lists is covered."""
    index = runs if isinstance(runs, RunIndex) else RunIndex(runs)
    linked = index.linked(failures)
    by_batch = {m.batch_id: m for m in manifests}
    released = {rel.batch_id for rel in releases}
    folds: list[Document] = []
    current: list[int] = []
    listed = 0
    count = 0

    def close() -> None:
        if current:
            newest, oldest = current[0], current[-1]
            members = [
                {
                    "key": index.keys[i],
                    "timestamp": index.times[i],
                    "ecosystem": index.runs[i].ecosystem,
                    "recorded_failures": linked.get(index.keys[i], 0),
                }
                for i in current
            ]
            folds.append(
                {
                    "count": len(current),
                    "first_at": index.times[oldest],
                    "last_at": index.times[newest],
                    "ecosystems": sorted({index.runs[i].ecosystem for i in current}),
                    "recorded_failures": sum(m["recorded_failures"] for m in members),
                    "runs": members,
                }
            )
            current.clear()

    for i in range(len(index.runs) - 1, -1, -1):
        if _is_empty(index.runs[i], by_batch, released):
            current.append(i)
            count += 1
            continue
        close()
        listed += 1
        if listed == MAX_RUNS:
            break
    close()
    return {"count": count, "folds": folds}


def _manifest_json(m: Manifest) -> Document:
    return {
        "merged_at": _t(m.merged_at),
        "pull_request": m.pull_request,
        "auto_merge": m.auto_merge,
        "rolled_back": m.rolled_back,
        "gates": [{"name": n, "passed": ok, "detail": d} for n, ok, d in m.gates],
        "packages": [
            {
                "name": p.name,
                "package_id": p.package_id,
                "outcome": p.outcome,
                "recipe_path": p.recipe_path,
                "reason": p.reason,
                "installed": p.installed,
                "latest": p.latest,
            }
            for p in m.packages
        ],
    }


def series_section(runs: Sequence[Run]) -> Document:
    """Per UTC day: recipes merged (all ecosystems) and success rate per ecosystem, oldest first.
    A day whose runs had no package has no rate (``None``), not 0%: nothing was tried."""
    daily: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    per_eco: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for r in runs:
        day = r.timestamp.date().isoformat()
        daily[day][0] += r.merged
        daily[day][1] += r.total
        daily[day][2] += 1
        per_eco[r.ecosystem][day][0] += r.merged
        per_eco[r.ecosystem][day][1] += r.total
    return {
        "merged_per_day": [
            {"date": d, "merged": v[0], "total": v[1], "runs": v[2]} for d, v in sorted(daily.items())
        ],
        "success_rate": {
            eco: [
                {"date": d, "merged": v[0], "total": v[1], "rate": None if v[1] <= 0 else _rate(v[0], v[1])}
                for d, v in sorted(days.items())
            ]
            for eco, days in sorted(per_eco.items())
        },
    }


def disambiguations_section(records: Sequence[Curated], runs: Sequence[Run]) -> Document:
    """Curated routing records, by reason, and how many batch packages used one."""
    items = sorted(records, key=lambda c: (c.tool.lower(), c.selected))
    return {
        "total": len(items),
        "by_reason": dict(Counter(c.selection_reason for c in items)),
        "need_review": sum(1 for c in items if c.high_risk),
        "used_in_runs": sum(r.used_disambiguation or 0 for r in runs),
        "items": [
            {
                "tool": c.tool,
                "selected": c.selected,
                "selection_reason": c.selection_reason,
                "high_risk": c.high_risk,
                "alternatives": list(c.alternatives),
            }
            for c in items
        ],
    }


def errors_section(problems: Iterable[ReadProblem]) -> Document:
    """Read problems: counted, counted per file, and the first ``MAX_LISTED_ERRORS`` listed."""
    ordered = sorted(problems, key=lambda p: (p.file, p.line or 0, p.message))
    return {
        "count": len(ordered),
        "by_file": dict(Counter(p.file for p in ordered)),
        "items": [p.to_json() for p in ordered[:MAX_LISTED_ERRORS]],
    }
