"""``Range`` request headers: the one byte range the test Hub serves, or ``416``."""

from __future__ import annotations

import re

from crucible_polars.testing.hub.errors import HubError


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """``(start, stop)`` for one ``bytes=`` range; ``None`` to ignore; raises 416."""
    match = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header, re.IGNORECASE)
    if match is None:
        return None  # malformed or multiple ranges: serve the whole file, as servers may
    first, last = match.groups()
    unsatisfiable = HubError(
        416, "Requested Range Not Satisfiable", headers=[("Content-Range", f"bytes */{size}")]
    )
    if not first and not last:
        return None
    if not first:  # suffix range: the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise unsatisfiable
        return max(size - suffix, 0), size
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise unsatisfiable
    stop = min(int(last) + 1, size) if last else size
    return start, stop
