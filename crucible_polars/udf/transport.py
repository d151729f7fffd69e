"""Frames through a pipe between processes: uncompressed Arrow IPC bytes.

Used by :mod:`crucible_polars.udf.parallel` and its workers
(:mod:`crucible_polars.udf.worker`). Writing IPC costs less than pickling a Polars frame.

Examples
--------
>>> import polars as pl
>>> unpack(pack(pl.DataFrame({"a": [1]}))).to_dicts()
[{'a': 1}]
"""

from __future__ import annotations

import io
from typing import Any

import polars as pl


def pack(frame: pl.DataFrame) -> Any:
    """A frame for the pipe: uncompressed Arrow IPC bytes (cheaper than pickling a frame),
    or the frame itself when IPC cannot hold it (Python object columns).

    Examples
    --------
    >>> unpack(pack(pl.DataFrame({"a": [1]}))).to_dicts()
    [{'a': 1}]
    """
    buffer = io.BytesIO()
    try:
        frame.write_ipc(buffer, compression="uncompressed")
    except (pl.exceptions.PolarsError, TypeError, ValueError):
        return frame
    return buffer.getvalue()


def unpack(packed: Any) -> pl.DataFrame:
    """The frame :func:`pack` packed."""
    if isinstance(packed, pl.DataFrame):
        return packed
    return pl.read_ipc(packed)
