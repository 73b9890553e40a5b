"""recipeline-dashboard: the repository's data/ -> ``website/pipeline/dashboard.json`` (ARCHITECTURE §8).

Public surface:
- the pure core: ``build_dashboard`` (and its sections), ``ReadProblem``;
- reading: ``read_repository`` -> ``RepositoryData`` (malformed data becomes problems);
- writing: ``render``, ``write_dashboard``;
- errors: ``DashboardError`` and ``OutputError``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .core import RECENT_FAILURES as RECENT_FAILURES
from .core import ReadProblem as ReadProblem
from .core import build_dashboard as build_dashboard
from .core import errors_section as errors_section
from .core import failures_section as failures_section
from .core import queue_section as queue_section
from .core import recent_failures as recent_failures
from .core import runs_section as runs_section
from .errors import DashboardError as DashboardError
from .errors import OutputError as OutputError
from .reading import RepositoryData as RepositoryData
from .reading import read_repository as read_repository
from .site import render as render
from .site import write_dashboard as write_dashboard

try:
    __version__ = version("recipeline-dashboard")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"
