"""What the installed packages say about themselves."""

from __future__ import annotations


def installed_version(distribution: str) -> str:
    """``distribution``'s installed version; ``0+unknown`` when it runs from a source tree that
    was never installed. ``importlib.metadata`` is imported here, on first use: it costs ~30 ms
    at import, more than a reader of a few data files spends on its work."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"
