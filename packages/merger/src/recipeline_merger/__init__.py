"""recipeline-merger: the control plane's preflight, the merge stage and reconcile.

Public surface:
- IO commands: ``preflight``, ``merge``, ``reconcile`` (and their results);
- the pure core: ``select`` (batch selection), ``stop_reason``/``default_control``,
  ``decide`` (outcomes and gates), ``apply_decision``/``reconcile_queue`` (queue updates),
  ``retry_delay_seconds``/``next_retry_at`` (integer backoff), ``failure_records``,
  ``metrics_line``, ``build_manifest``, ``commit_message``, ``pr_body``;
- control: ``breaker_transition``/``breaker_state``/``probe_entry``/``outcomes_of`` (circuit
  breakers), ``stopped``/``resumed`` (emergency stop), ``rolled_budget``/``add_minutes``/
  ``macos_mode``/``macos_sample``/``batch_size_for`` (weekly CI budget);
- the PR seam: ``PullRequestPublisher``, ``PullRequestRequest``, ``LocalPublisher``.
"""

from __future__ import annotations

from recipeline_schema import installed_version
from recipeline_schema import week_start as week_start

from .backoff import BASE_SECONDS as BASE_SECONDS
from .backoff import CAP_SECONDS as CAP_SECONDS
from .backoff import next_retry_at as next_retry_at
from .backoff import retry_delay_seconds as retry_delay_seconds
from .breaker import PackageOutcome as PackageOutcome
from .breaker import breaker_state as breaker_state
from .breaker import breaker_transition as breaker_transition
from .breaker import outcomes_of as outcomes_of
from .breaker import probe_entry as probe_entry
from .budget import add_minutes as add_minutes
from .budget import batch_size_for as batch_size_for
from .budget import macos_mode as macos_mode
from .budget import macos_sample as macos_sample
from .budget import rolled_budget as rolled_budget
from .control import default_control as default_control
from .control import resumed as resumed
from .control import stop_reason as stop_reason
from .control import stopped as stopped
from .decision import GATE_NAMES as GATE_NAMES
from .decision import EnvironmentFailure as EnvironmentFailure
from .decision import MergeDecision as MergeDecision
from .decision import PackageDecision as PackageDecision
from .decision import decide as decide
from .decision import gates_for as gates_for
from .errors import AlreadyMergedError as AlreadyMergedError
from .errors import BatchDirError as BatchDirError
from .errors import GitError as GitError
from .errors import GitHubError as GitHubError
from .errors import MergerError as MergerError
from .errors import QueueMismatchError as QueueMismatchError
from .errors import RolledBackError as RolledBackError
from .errors import StoppedError as StoppedError
from .merge import MergeResult as MergeResult
from .merge import merge as merge
from .merge import read_batch_dir as read_batch_dir
from .messages import commit_message as commit_message
from .messages import parse_trailers as parse_trailers
from .messages import pr_body as pr_body
from .messages import pr_title as pr_title
from .operations import BudgetStatus as BudgetStatus
from .operations import budget_status as budget_status
from .operations import control_resume as control_resume
from .operations import control_stop as control_stop
from .preflight import PreflightResult as PreflightResult
from .preflight import preflight as preflight
from .pullrequest import LocalPublisher as LocalPublisher
from .pullrequest import PullRequestPublisher as PullRequestPublisher
from .pullrequest import PullRequestRequest as PullRequestRequest
from .queue_updates import ReconcileCounts as ReconcileCounts
from .queue_updates import apply_decision as apply_decision
from .queue_updates import reconcile_queue as reconcile_queue
from .reconcile import ReconcileResult as ReconcileResult
from .reconcile import reconcile as reconcile
from .records import build_manifest as build_manifest
from .records import failure_records as failure_records
from .records import metrics_line as metrics_line
from .requeue import RequeueResult as RequeueResult
from .requeue import requeue as requeue
from .rollback import RollbackResult as RollbackResult
from .rollback import rollback as rollback
from .selection import Selection as Selection
from .selection import select as select

__version__ = installed_version("recipeline-merger")
