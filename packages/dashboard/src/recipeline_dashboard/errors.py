"""Exceptions of recipeline-dashboard.

DashboardError               base of every error this package raises
└── OutputError              the dashboard cannot be written where it was asked to go

Malformed data files are not errors here: they are counted and listed in the dashboard's
``errors`` section, so one bad line never hides the rest of the pipeline's state.
"""

from __future__ import annotations


class DashboardError(Exception):
    """Base of every error raised by recipeline-dashboard."""


class OutputError(DashboardError):
    """The output directory or file cannot be written."""
