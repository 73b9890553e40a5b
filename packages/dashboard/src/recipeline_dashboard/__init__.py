"""recipeline-dashboard: a repository's data/ -> ``website/pipeline/`` (dashboard.json + pages).

Public surface:
- the pure core: ``build_dashboard`` and its sections, ``Dashboard`` (sections built on demand),
  ``dedupe_failures``;
- the normalized model: ``RepositoryData``, ``Package``, ``FailureEvent``, ``Run``, ``Control``,
  ``ReadProblem``;
- reading (recipeline's layout and tsuku's): ``read_repository``;
- writing: ``render``, ``render_dashboard``, ``write_site``, ``write_dashboard`` (a document, or a
  ``Dashboard`` written one section at a time); the JSON Schema: ``dashboard_schema``;
- errors: ``DashboardError`` and ``OutputError``.
"""

from __future__ import annotations

from typing import Any

from .core import RECENT_FAILURES as RECENT_FAILURES
from .core import Dashboard as Dashboard
from .core import blockers_section as blockers_section
from .core import build_dashboard as build_dashboard
from .core import dedupe_failures as dedupe_failures
from .core import errors_section as errors_section
from .core import failures_section as failures_section
from .core import health_section as health_section
from .core import queue_section as queue_section
from .core import runs_section as runs_section
from .errors import DashboardError as DashboardError
from .errors import OutputError as OutputError
from .model import Control as Control
from .model import FailureEvent as FailureEvent
from .model import Package as Package
from .model import ReadProblem as ReadProblem
from .model import RepositoryData as RepositoryData
from .model import Run as Run
from .reading import read_repository as read_repository
from .schema import dashboard_schema as dashboard_schema
from .site import render as render
from .site import render_dashboard as render_dashboard
from .site import write_dashboard as write_dashboard
from .site import write_site as write_site


def __getattr__(name: str) -> Any:
    """``__version__``, from the installed metadata on first use (``importlib.metadata`` costs
    ~30 ms at import, a tenth of a whole build of tsuku's data)."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from recipeline_schema import installed_version

    found = globals()["__version__"] = installed_version("recipeline-dashboard")
    return found
