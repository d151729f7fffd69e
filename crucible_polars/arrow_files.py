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

MAPPED_FROM_KEY = b"crucible_polars.mapped_from"
"""Field metadata: the Arrow IPC file a column's rows are memory-mapped from."""

FILE_COLUMN_KEY = b"crucible_polars.file_column"
"""Field metadata: the column's name in that file (a renamed column keeps its source)."""


def map_arrow_file(path: str) -> pa.Table:
    """An Arrow IPC file, memory-mapped (zero copy; the OS pages rows in as they are read).

    Each field remembers the file and its column there (:func:`mapped_columns`), which a
    column selection or rename keeps; :func:`take_rows_of` (new rows) forgets them.

    Examples
    --------
    >>> import os, tempfile, pyarrow as pa
    >>> path = os.path.join(tempfile.mkdtemp(), "t.arrow")
    >>> with pa.ipc.new_file(path, pa.schema([("a", pa.int64())])) as writer:
    ...     writer.write_table(pa.table({"a": [1, 2]}))
    >>> map_arrow_file(path).num_rows
    2
    """
    source = pa.memory_map(path, "r")
    table = pyarrow.ipc.open_file(source).read_all()
    fields = [
        field.with_metadata(
            {**(field.metadata or {}), MAPPED_FROM_KEY: path.encode(), FILE_COLUMN_KEY: name}
        )
        for field, name in zip(table.schema, map(str.encode, table.column_names), strict=True)
    ]
    schema = pa.schema(fields, metadata=table.schema.metadata)
    return pa.Table.from_arrays(table.columns, schema=schema)


def mapped_columns(table: pa.Table) -> tuple[str, list[tuple[str, str]]] | None:
    """The file ``table`` holds every row of (see :func:`map_arrow_file`), and its columns
    as ``(name in the file, name in the table)``; ``None`` for rows not mapped from one file.

    Examples
    --------
    >>> mapped_columns(pa.table({"a": [1]})) is None
    True
    """
    marks = [f.metadata or {} for f in table.schema]
    paths = {m.get(MAPPED_FROM_KEY) for m in marks}
    if len(paths) != 1 or None in paths:
        return None
    path = bytes(paths.pop() or b"")
    columns = [
        (m[FILE_COLUMN_KEY].decode(), name)
        for m, name in zip(marks, table.column_names, strict=True)
    ]
    return path.decode(), columns


def mapped_path(table: pa.Table) -> str | None:
    """The Arrow IPC file ``table`` holds every row of (see :func:`map_arrow_file`).

    Examples
    --------
    >>> mapped_path(pa.table({"a": [1]})) is None
    True
    """
    mapped = mapped_columns(table)
    return None if mapped is None else mapped[0]


def map_file_columns(path: str, columns: list[tuple[str, str]]) -> pa.Table:
    """The columns ``(name in the file, name wanted)`` of a mapped Arrow IPC file: the
    table :func:`mapped_columns` described, mapped again (another process, an unpickle).

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "t.arrow")
    >>> with pa.ipc.new_file(path, pa.schema([("a", pa.int64()), ("b", pa.int64())])) as w:
    ...     w.write_table(pa.table({"a": [1], "b": [2]}))
    >>> map_file_columns(path, [("b", "x")]).to_pylist()
    [{'x': 2}]
    """
    table = map_arrow_file(path).select([source for source, _ in columns])
    return table.rename_columns([name for _, name in columns])


def lazy_rows(table: pa.Table) -> pl.LazyFrame:
    """A Polars plan over ``table``'s rows that copies nothing until it runs: a scan of the
    file they are mapped from, else a frame over the Arrow columns (:func:`frame_from_arrow`).

    Examples
    --------
    >>> lazy_rows(pa.table({"a": [1, 2]})).collect()["a"].to_list()
    [1, 2]
    """
    mapped = mapped_columns(table)
    if mapped is None:
        return frame_from_arrow(table).lazy()
    path, columns = mapped
    return pl.scan_ipc(path).select([pl.col(source).alias(name) for source, name in columns])


def unmapped(table: pa.Table) -> pa.Table:
    """``table`` without the marks of :func:`map_arrow_file` (for rows taken from it).

    Examples
    --------
    >>> unmapped(pa.table({"a": [1]})).num_rows
    1
    """
    if not any(f.metadata and MAPPED_FROM_KEY in f.metadata for f in table.schema):
        return table
    fields = []
    for field in table.schema:
        kept = {k: v for k, v in (field.metadata or {}).items() if k not in _MARKS}
        fields.append(field.with_metadata(kept) if kept else field.remove_metadata())
    schema = pa.schema(fields, metadata=table.schema.metadata)
    return pa.Table.from_arrays(table.columns, schema=schema)


_MARKS = (MAPPED_FROM_KEY, FILE_COLUMN_KEY)


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
    The result keeps the field marks of a mapped table (dropping them costs more than the
    take of one row): apply :func:`unmapped` before keeping it as a plan's rows.

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
        return table.take(int64_array(positions))
    starts = np.cumsum([0] + [b.num_rows for b in batches])
    chunk = np.searchsorted(starts, positions, side="right") - 1
    order = np.argsort(chunk, kind="stable")
    pieces = []
    for index in np.unique(chunk):
        chosen = positions[chunk == index] - starts[index]
        pieces.append(batches[index].take(int64_array(chosen)))
    grouped = pa.Table.from_batches(pieces, schema=table.schema)
    if len(pieces) == 1:
        return grouped
    back = np.empty_like(order)
    back[order] = np.arange(order.size)
    return grouped.take(int64_array(back))


def int64_array(values: np.ndarray) -> pa.Array:
    """An Arrow ``int64`` array over a numpy array's memory.

    ``pa.array`` would first import pandas (pyarrow checks for pandas objects), which costs
    a process some 50 MiB and a third of a second; the buffer needs no check.

    Examples
    --------
    >>> int64_array(np.array([3, 1])).to_pylist()
    [3, 1]
    """
    data = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), data.size, [None, pa.py_buffer(data)])
