"""Frames between processes: uncompressed Arrow IPC, through a pipe or in a file.

Used by :mod:`crucible_polars.udf.parallel` and its workers
(:mod:`crucible_polars.udf.worker`). Writing IPC costs less than pickling a Polars frame;
a frame written to a file (:func:`spill`) is memory-mapped by the process that reads it
(no copy through a pipe, none in memory) and the file is then deleted (the mapping keeps
the rows).

Examples
--------
>>> import polars as pl
>>> unpack(pack(pl.DataFrame({"a": [1]}))).to_dicts()
[{'a': 1}]
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from dataclasses import dataclass
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.ipc


@dataclass(frozen=True)
class IpcFile:
    """A frame written as an Arrow IPC file by :func:`spill`, and its schema.

    Parameters
    ----------
    path
        The file.
    schema
        The frame's Polars schema (kept through Arrow, else the file is read by Polars).
    """

    path: str
    schema: pl.Schema


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


def spill(frame: pl.DataFrame, folder: str) -> Any:
    """A frame for another process: an :class:`IpcFile` in ``folder`` (the reader maps it),
    or :func:`pack`'s bytes when it cannot be written there.

    Parameters
    ----------
    frame
        The frame.
    folder
        An existing folder the reading process removes when it is done.

    Examples
    --------
    >>> folder = tempfile.mkdtemp()
    >>> sent = spill(pl.DataFrame({"a": [1, 2]}), folder)
    >>> isinstance(sent, IpcFile), unpack(sent)["a"].to_list(), os.listdir(folder)
    (True, [1, 2], [])
    """
    fd, path = tempfile.mkstemp(suffix=".arrow", dir=folder)
    try:
        with os.fdopen(fd, "wb") as file:
            frame.write_ipc(file, compression="uncompressed")
    except (pl.exceptions.PolarsError, TypeError, ValueError, OSError):
        with contextlib.suppress(OSError):
            os.unlink(path)
        return pack(frame)
    return IpcFile(path, frame.schema)


def _map_file(sent: IpcFile) -> pl.DataFrame:
    try:
        table = pyarrow.ipc.open_file(pa.memory_map(sent.path, "r")).read_all()
        frame = pl.from_arrow(table)  # zero copy: Polars wrote the file in its own layout
        if isinstance(frame, pl.DataFrame) and frame.schema == sent.schema:
            return frame
    except (pa.ArrowException, pl.exceptions.PolarsError, TypeError, ValueError):
        pass  # a type pyarrow does not read (Int128...): Polars reads it, with a copy
    return pl.read_ipc(sent.path)


def unpack(packed: Any) -> pl.DataFrame:
    """The frame :func:`pack` or :func:`spill` made (a spilled file is deleted once mapped).

    Examples
    --------
    >>> unpack(pl.DataFrame({"a": [1]})).height
    1
    """
    if isinstance(packed, pl.DataFrame):
        return packed
    if isinstance(packed, IpcFile):
        try:
            return _map_file(packed)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(packed.path)
    return pl.read_ipc(packed)
