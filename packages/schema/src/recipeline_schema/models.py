"""The data contracts of ARCHITECTURE §3 as frozen dataclasses.

Each top-level model is one file kind (see ``CONTRACTS`` in ``contracts``); its JSON Schema is
derived from the fields and the ``meta(...)`` constraints below.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ._jsonschema import meta
from .cause import DETAIL_LIMIT, LINE_LIMIT, cause_text, one_line
from .ecosystems import NAME_PATTERN, SOURCE_PATTERN
from .ecosystems import Ecosystem as EcosystemField
from .errors import InvalidValueError
from .ids import BATCH_ID_PATTERN
from .taxonomy import Category, is_transient, is_valid

SHA256_PATTERN = r"^[0-9a-f]{64}$"
ENVIRONMENT_PATTERN = r"^(linux-[a-z]+-(glibc|musl)-(x86_64|arm64)|darwin-(x86_64|arm64)|generation)$"
MESSAGE_LIMIT = LINE_LIMIT

QueueStatus = Literal[
    "pending", "in_progress", "success", "failed", "blocked", "requires_manual", "excluded", "skipped"
]
QUEUE_STATUSES: tuple[str, ...] = QueueStatus.__args__  # type: ignore[attr-defined]
Confidence = Literal["auto", "curated", "manual"]
CONFIDENCES: tuple[str, ...] = Confidence.__args__  # type: ignore[attr-defined]


def _name(desc: str) -> dict[str, object]:
    return meta(desc, pattern=NAME_PATTERN)


def _source(desc: str) -> dict[str, object]:
    return meta(desc, pattern=SOURCE_PATTERN)


# --- 3.1 queues ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One package of an ecosystem's priority queue."""

    name: str = field(metadata=_name("tool / recipe name"))
    source: str = field(metadata=_source("<ecosystem>:<identifier>; the key everywhere"))
    priority: int = field(metadata=meta("1 critical, 2 popular, 3 standard", minimum=1, maximum=3))
    status: QueueStatus = "pending"
    confidence: Confidence = "auto"
    popularity: int | None = field(default=None, metadata=meta("source's own unit", minimum=0))
    added_at: dt.datetime | None = None
    disambiguated_at: dt.datetime | None = None
    failure_count: int = field(default=0, metadata=meta(minimum=0))
    next_retry_at: dt.datetime | None = None
    last_attempt_at: dt.datetime | None = None
    batch_id: str | None = field(default=None, metadata=meta(pattern=BATCH_ID_PATTERN))
    blocked_by: tuple[str, ...] = field(
        default=(), metadata=meta("missing recipes (status blocked)", items={"pattern": NAME_PATTERN})
    )
    reason: str = field(default="", metadata=meta("why skipped/excluded/requires_manual"))
    waits_for: str = field(
        default="",
        metadata=meta(
            "a permanent failure's producer, '<distribution> <version>': the entry is not retried "
            "until another version of that stage runs (ARCHITECTURE §12.2; see taxonomy.waits_for)"
        ),
    )


@dataclass(frozen=True, slots=True)
class Queue:
    """data/queues/priority-queue-<ecosystem>.json"""

    schema_version: Literal[1]
    ecosystem: EcosystemField
    updated_at: dt.datetime
    entries: tuple[QueueEntry, ...]


# --- 3.2 failures -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Failure:
    """One package's failure, with a category/subcategory of the taxonomy (ARCHITECTURE §3.3)."""

    package_id: str = field(metadata=_source("the queue entry's source"))
    category: Category
    message: str = field(metadata=meta("the real cause, one line", maxLength=MESSAGE_LIMIT))
    timestamp: dt.datetime
    subcategory: str | None = None
    blocked_by: tuple[str, ...] = field(default=(), metadata=meta(items={"pattern": NAME_PATTERN}))
    transient: bool = False
    exit_code: int | None = None
    producer: str = field(
        default="", metadata=meta("the stage that recorded it, '<distribution> <version>' ('' unknown)")
    )
    detail: str = field(
        default="",
        metadata=meta(
            "the whole cause: the output's lines without banners and progress (recipeline_schema.cause), "
            "its last lines when longer; '' when the message says it all",
            maxLength=DETAIL_LIMIT,
        ),
    )

    def __post_init__(self) -> None:
        if not is_valid(self.category, self.subcategory):
            raise InvalidValueError(
                f"failure of {self.package_id}: subcategory {self.subcategory!r} "
                f"is not one of category {self.category!r}"
            )
        if "\n" in self.message or len(self.message) > MESSAGE_LIMIT:
            raise InvalidValueError(
                f"failure of {self.package_id}: message must be one line of at most "
                f"{MESSAGE_LIMIT} characters (use Failure.create)"
            )
        if len(self.detail) > DETAIL_LIMIT:
            raise InvalidValueError(
                f"failure of {self.package_id}: detail must be at most {DETAIL_LIMIT} characters "
                "(use Failure.create)"
            )

    @classmethod
    def create(
        cls,
        package_id: str,
        category: str,
        subcategory: str | None,
        message: str,
        *,
        timestamp: dt.datetime,
        blocked_by: tuple[str, ...] = (),
        exit_code: int | None = None,
        producer: str = "",
        output: str = "",
    ) -> Failure:
        """Build a failure with a cleaned one-line message, the whole cause of ``output`` (else of
        ``message``) as its detail, and ``transient`` from the taxonomy."""
        line = one_line(message)
        whole = cause_text(output or message)
        return cls(
            package_id=package_id,
            category=category,  # type: ignore[arg-type]  # checked in __post_init__
            subcategory=subcategory,
            message=line,
            timestamp=timestamp,
            blocked_by=tuple(sorted(set(blocked_by))),
            transient=is_transient(category, subcategory) if is_valid(category, subcategory) else False,
            exit_code=exit_code,
            producer=producer,
            detail="" if whole in ("", line) else whole,
        )


@dataclass(frozen=True, slots=True)
class FailureRecord:
    """One line of data/failures/<ecosystem>-<time>.jsonl: one (batch, environment)."""

    schema_version: Literal[1]
    ecosystem: EcosystemField
    environment: str = field(metadata=meta("environment id or 'generation'", pattern=ENVIRONMENT_PATTERN))
    batch_id: str = field(metadata=meta(pattern=BATCH_ID_PATTERN))
    updated_at: dt.datetime
    failures: tuple[Failure, ...]


# --- 3.4 metrics --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MetricsLine:
    """One line of data/metrics/batch-runs.jsonl: one (batch, ecosystem)."""

    batch_id: str = field(metadata=meta(pattern=BATCH_ID_PATTERN))
    ecosystem: EcosystemField
    total: int = field(metadata=meta(minimum=0))
    generated: int = field(metadata=meta(minimum=0))
    failed: int = field(metadata=meta(minimum=0))
    blocked: int = field(metadata=meta(minimum=0))
    validated_linux: int = field(metadata=meta(minimum=0))
    validated_macos: int = field(metadata=meta(minimum=0))
    merged: int = field(metadata=meta(minimum=0))
    excluded: int = field(metadata=meta(minimum=0))
    success_rate: float = field(metadata=meta("merged / total", minimum=0, maximum=1))
    used_disambiguation: int = field(metadata=meta(minimum=0))
    duration_seconds: float = field(metadata=meta(minimum=0))
    macos_minutes: float = field(metadata=meta(minimum=0))
    linux_minutes: float = field(metadata=meta(minimum=0))
    timestamp: dt.datetime
    skipped: int = field(default=0, metadata=meta(minimum=0))
    released: int = field(
        default=0,
        metadata=meta("entries reconcile released because the batch never merged (its run died)", minimum=0),
    )


@dataclass(frozen=True, slots=True)
class SeedingRun:
    """One line of data/metrics/seeding-runs.jsonl."""

    timestamp: dt.datetime
    ecosystem: EcosystemField
    sources_processed: int = field(metadata=meta(minimum=0))
    sources_failed: int = field(metadata=meta(minimum=0))
    new_packages: int = field(metadata=meta(minimum=0))
    skipped: int = field(metadata=meta(minimum=0))
    errors: tuple[str, ...] = ()
    exit_code: int = field(default=0, metadata=meta(enum=[0, 1, 2]))
    dry_run: bool = False
    #: ``name: reason`` for every package read and not added (not a tool, already queued, ...)
    not_added: tuple[str, ...] = ()


# --- 3.5 control --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BreakerState:
    """One ecosystem's circuit breaker."""

    state: Literal["closed", "open", "half_open"] = "closed"
    consecutive_failures: int = field(default=0, metadata=meta(minimum=0))
    opened_at: dt.datetime | None = None
    half_open_after: dt.datetime | None = None
    last_failure: dt.datetime | None = None
    last_success: dt.datetime | None = None
    reason: str = ""
    recent: tuple[bool, ...] = field(
        default=(), metadata=meta("last attempts, oldest first; true = success", maxItems=20)
    )
    probe: str | None = field(default=None, metadata=_source("package admitted as half-open probe"))
    failure_points: int = field(
        default=0,
        metadata=meta("weighted failure streak: 2 a failure, 1 a transient/missing_dep one", minimum=0),
    )
    last_batch: str | None = field(
        default=None, metadata=meta("last batch whose outcomes moved it", pattern=BATCH_ID_PATTERN)
    )


@dataclass(frozen=True, slots=True)
class Budget:
    """A week's CI minutes (the week starts on Monday, UTC)."""

    week_start: dt.date
    macos_minutes_used: float = field(default=0.0, metadata=meta(minimum=0))
    linux_minutes_used: float = field(default=0.0, metadata=meta(minimum=0))
    macos_minutes_limit: float = field(default=1000.0, metadata=meta(minimum=0))
    linux_minutes_limit: float = field(default=5000.0, metadata=meta(minimum=0))


@dataclass(frozen=True, slots=True)
class BatchControl:
    """batch-control.json at the repository root: emergency stop, breakers, budget."""

    enabled: bool
    budget: Budget
    disabled_ecosystems: tuple[EcosystemField, ...] = ()
    reason: str = ""
    incident_url: str = ""
    disabled_by: str = ""
    disabled_at: dt.datetime | None = None
    expected_resume: dt.datetime | None = None
    circuit_breaker: Mapping[str, BreakerState] = field(default_factory=dict)
    disabled_reasons: Mapping[str, str] = field(
        default_factory=dict, metadata=meta("per-ecosystem stop reason")
    )


# --- 3.6 disambiguation -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Disambiguation:
    """One line of data/disambiguations/curated.jsonl."""

    tool: str = field(metadata=_name("tool name as users type it"))
    selected: str = field(metadata=_source("the source to build from"))
    alternatives: tuple[str, ...] = ()
    selection_reason: str = "curated"
    high_risk: bool = False


# --- the batch directory (build/batches/<id>/) ----------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedPackage:
    name: str = field(metadata=_name("queue entry name"))
    package_id: str = field(metadata=_source("queue entry source"))


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """build/batches/<id>/manifest.json: what preflight selected."""

    schema_version: Literal[1]
    batch_id: str = field(metadata=meta(pattern=BATCH_ID_PATTERN))
    ecosystem: EcosystemField
    created_at: dt.datetime
    tier: int = field(metadata=meta(minimum=1, maximum=3))
    packages: tuple[PlannedPackage, ...]


GenerationOutcome = Literal["generated", "failed", "skipped"]


@dataclass(frozen=True, slots=True)
class GeneratedPackage:
    name: str = field(metadata=_name("queue entry name"))
    package_id: str = field(metadata=_source("queue entry source"))
    resolved_source: str = field(metadata=meta("source after curated routing"))
    outcome: GenerationOutcome
    recipe: str | None = field(default=None, metadata=meta("path in the batch directory"))
    override: bool = False
    reason: str = ""
    failure: Failure | None = None


@dataclass(frozen=True, slots=True)
class GenerationReport:
    """build/batches/<id>/generation.json: one outcome per planned package.

    While generation runs the file is rewritten after each package with ``complete`` false, so
    validation can start on the first recipes while the rest are generated.
    """

    schema_version: Literal[1]
    batch_id: str = field(metadata=meta(pattern=BATCH_ID_PATTERN))
    generated_at: dt.datetime
    duration_seconds: float = field(metadata=meta(minimum=0))
    packages: tuple[GeneratedPackage, ...]
    complete: bool = field(default=True, metadata=meta("false while packages are still being generated"))


@dataclass(frozen=True, slots=True)
class SafetyVerdict:
    auto_merge: bool
    findings: tuple[str, ...] = field(default=(), metadata=meta("step and action needing review"))


ValidationOutcome = Literal["pass", "fail", "skipped"]


@dataclass(frozen=True, slots=True)
class DiscoveredVerify:
    """The ``[verify]`` a validation found the installed tool answers, in tsuku's fields: the merger
    writes it into the committed recipe (``exit_code`` 0 and ``mode`` version are tsuku's defaults)."""

    command: str = field(metadata=meta("the verify command, e.g. 'tool -V'"))
    pattern: str = field(default="{version}", metadata=meta("substring of stdout+stderr, with {version}"))
    exit_code: int = field(default=0, metadata=meta("the exit code the command answers with"))
    mode: Literal["version", "output"] = "version"
    reason: str = field(default="", metadata=meta("how it was found (mode output: why no version)"))


@dataclass(frozen=True, slots=True)
class RecipeResult:
    name: str = field(metadata=_name("recipe name"))
    package_id: str = field(metadata=_source("queue entry source"))
    outcome: ValidationOutcome
    duration_seconds: float = field(metadata=meta(minimum=0))
    safety: SafetyVerdict
    failure: Failure | None = None
    reason: str = field(default="", metadata=meta("why skipped, or what passed"))
    installed_version: str = field(
        default="", metadata=meta("the version the install really put in the prefix")
    )
    latest_version: str = field(
        default="", metadata=meta("the registry's newest version, when the backend learnt it")
    )
    toolchain: Mapping[str, str] = field(
        default_factory=dict, metadata=meta("toolchain used for the install: tool name -> version")
    )
    verify: DiscoveredVerify | None = field(
        default=None, metadata=meta("the verify the version probes found (merged into the recipe)")
    )


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """build/batches/<id>/results/<environment>.json."""

    schema_version: Literal[1]
    batch_id: str = field(metadata=meta(pattern=BATCH_ID_PATTERN))
    environment: str = field(metadata=meta(pattern=ENVIRONMENT_PATTERN))
    backend: Literal["native", "tsuku"]
    isolation: str = field(metadata=meta("how the network was cut, or why it was not"))
    started_at: dt.datetime
    duration_seconds: float = field(metadata=meta(minimum=0))
    results: tuple[RecipeResult, ...]


# --- 3.7 batch manifest -------------------------------------------------------------------

ManifestOutcome = Literal["merged", "excluded", "failed", "blocked", "skipped"]


@dataclass(frozen=True, slots=True)
class ManifestPackage:
    name: str = field(metadata=_name("queue entry name"))
    package_id: str = field(metadata=_source("queue entry source"))
    resolved_source: str
    outcome: ManifestOutcome
    recipe_path: str | None = field(default=None, metadata=meta("repository-relative path"))
    sha256: str | None = field(default=None, metadata=meta(pattern=SHA256_PATTERN))
    environments: Mapping[str, ValidationOutcome] = field(default_factory=dict)
    reason: str = ""
    review: bool = field(default=False, metadata=meta("the recipe is in the batch's review PR"))
    installed_versions: Mapping[str, str] = field(
        default_factory=dict, metadata=meta("environment -> the version its validation installed")
    )
    latest_version: str = field(
        default="", metadata=meta("the registry's newest version, when a validation saw it differ")
    )


@dataclass(frozen=True, slots=True)
class Gate:
    name: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PullRequestRef:
    number: int
    url: str


@dataclass(frozen=True, slots=True)
class BatchPullRequest:
    """One PR a batch opens: ``batch`` (may auto-merge) or ``review`` (never auto-merged)."""

    kind: Literal["batch", "review"]
    branch: str = field(metadata=meta("head branch: batch/<id> or batch/<id>-review"))
    title: str
    auto_merge: bool
    gates: tuple[Gate, ...] = ()
    recipes: tuple[str, ...] = field(default=(), metadata=meta("repository paths of its recipes"))


@dataclass(frozen=True, slots=True)
class BatchManifest:
    """data/batches/<batch_id>.json: written by merge, immutable afterwards."""

    schema_version: Literal[1]
    batch_id: str = field(metadata=meta(pattern=BATCH_ID_PATTERN))
    ecosystem: EcosystemField
    created_at: dt.datetime
    merged_at: dt.datetime
    branch: str
    packages: tuple[ManifestPackage, ...]
    gates: tuple[Gate, ...] = ()
    commit: str | None = None
    pull_request: PullRequestRef | None = None
    failure_file: str | None = None
    auto_merge: bool = False
    pull_requests: tuple[BatchPullRequest, ...] = field(
        default=(), metadata=meta("the batch PR and the review PR, identified by branch")
    )


@dataclass(frozen=True, slots=True)
class RollbackRecord:
    """data/batches/<batch_id>.rollback.json: written beside a manifest by rollback."""

    schema_version: Literal[1]
    batch_id: str = field(metadata=meta(pattern=BATCH_ID_PATTERN))
    rolled_back_at: dt.datetime
    reason: str
    files: tuple[str, ...]
    requeued: tuple[str, ...]
    commit: str | None = None


@dataclass(frozen=True, slots=True)
class Release:
    """Entries of a batch that reconcile released: its PR was closed unmerged, or its run died."""

    released_at: dt.datetime
    cause: Literal["pr_closed", "batch_died"]
    status: Literal["pending", "failed"] = field(metadata=meta("what the released entries became"))
    packages: tuple[str, ...] = field(metadata=meta("package ids released"))
    branch: str = field(default="", metadata=meta("the closed PR's head branch, or the dead batch's"))
    pull_request: PullRequestRef | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ReleaseRecord:
    """data/batches/<batch_id>.release.json: written by reconcile, one release appended per event."""

    schema_version: Literal[1]
    batch_id: str = field(metadata=meta(pattern=BATCH_ID_PATTERN))
    ecosystem: EcosystemField
    releases: tuple[Release, ...]
