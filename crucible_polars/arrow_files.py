"""Arrow rows on disk and in Polars: memory-mapped IPC files, and Polars frames built from
Arrow without Polars' thread pool (which forked processes do not have).

Examples
--------
>>> import pyarrow as pa
>>> frame_from_arrow(pa.table({"a": [1]})).height
1
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.ipc


def mapped_path(table: pa.Table) -> str | None:
    """The Arrow IPC file ``table`` is memory-mapped from (see :func:`map_arrow_file`).

    Examples
    --------
    >>> import pyarrow as pa
    >>> mapped_path(pa.table({"a": [1]})) is None
    True
    """
    metadata = table.schema.metadata or {}
    path = metadata.get(MAPPED_FROM_KEY)
    return path.decode() if path is not None else None


MAPPED_FROM_KEY = b"crucible_polars.mapped_from"


def map_arrow_file(path: str) -> pa.Table:
    """An Arrow IPC file, memory-mapped (zero copy; the OS pages rows in as they are read).

    Examples
    --------
    >>> import os, tempfile, pyarrow as pa, pyarrow.ipc
    >>> path = os.path.join(tempfile.mkdtemp(), "t.arrow")
    >>> with pa.ipc.new_file(path, pa.schema([("a", pa.int64())])) as writer:
    ...     writer.write_table(pa.table({"a": [1, 2]}))
    >>> map_arrow_file(path).num_rows
    2
    """
    source = pa.memory_map(path, "r")
    table = pyarrow.ipc.open_file(source).read_all()
    metadata = dict(table.schema.metadata or {})
    metadata[MAPPED_FROM_KEY] = path.encode()
    return table.replace_schema_metadata(metadata)


def frame_from_arrow(table: pa.Table) -> pl.DataFrame:
    """A Polars frame over an Arrow table, built column by column.

    ``pl.from_arrow`` converts columns in Polars' thread pool, which never answers in a
    forked process (a torch DataLoader worker); one ``pl.Series`` at a time needs no pool.

    Examples
    --------
    >>> frame_from_arrow(pa.table({"a": [1, 2], "b": ["x", "y"]})).to_dicts()
    [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'y'}]
    """
    columns = [pl.Series(n, table.column(n).combine_chunks()) for n in table.column_names]
    return pl.DataFrame(columns, height=table.num_rows) if columns else pl.DataFrame()


def take_rows_of(table: pa.Table, positions: np.ndarray) -> pa.Table:
    """``table.take(positions)`` without touching the chunks no position falls in.

    Arrow's ``take`` over a table of many chunks (a memory-mapped IPC file holds one per
    record batch) first joins every chunk, a copy of the whole column per call; here the
    positions are grouped by chunk, taken from those chunks only, and put back in order.

    Parameters
    ----------
    table
        The rows.
    positions
        Non-negative row positions (repeats allowed), in the order wanted.

    Examples
    --------
    >>> t = pa.Table.from_batches([pa.record_batch({"a": [0, 1]}), pa.record_batch({"a": [2]})])
    >>> take_rows_of(t, np.array([2, 0, 2]))["a"].to_pylist()
    [2, 0, 2]
    """
    if positions.size == 1:  # one row: a zero-copy slice
        return table.slice(int(positions[0]), 1)
    batches = table.to_batches()
    if len(batches) <= 1:
        return table.take(pa.array(positions, type=pa.int64()))
    starts = np.cumsum([0] + [b.num_rows for b in batches])
    chunk = np.searchsorted(starts, positions, side="right") - 1
    order = np.argsort(chunk, kind="stable")
    pieces = []
    for index in np.unique(chunk):
        chosen = positions[chunk == index] - starts[index]
        pieces.append(batches[index].take(pa.array(chosen, type=pa.int64())))
    grouped = pa.Table.from_batches(pieces, schema=table.schema)
    if len(pieces) == 1:
        return grouped
    back = np.empty_like(order)
    back[order] = np.arange(order.size)
    return grouped.take(pa.array(back, type=pa.int64()))
