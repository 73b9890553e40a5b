"""Batch ids: ``YYYY-MM-DD-NNN`` (UTC date, sequence per day), ARCHITECTURE §3.8."""

from __future__ import annotations

import re

from .errors import InvalidValueError

BATCH_ID_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{3}$"
_BATCH_ID = re.compile(BATCH_ID_PATTERN)


def check_batch_id(batch_id: str) -> str:
    """Return ``batch_id`` if it has the form ``YYYY-MM-DD-NNN``; raise otherwise."""
    if not isinstance(batch_id, str) or not _BATCH_ID.fullmatch(batch_id):
        raise InvalidValueError(f"batch id {batch_id!r}: expected YYYY-MM-DD-NNN")
    return batch_id
