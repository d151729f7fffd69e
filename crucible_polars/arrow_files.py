"""Arrow rows on disk and in Polars: memory-mapped IPC files, and Polars frames built from
Arrow without Polars' thread pool (which forked processes do not have).

Examples
--------
>>> import pyarrow as pa
>>> frame_from_arrow(pa.table({"a": [1]})).height
1
"""

from __future__ import annotations

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
