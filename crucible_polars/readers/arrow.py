"""Arrow IPC files (``.arrow``): ``datasets``' ``save_to_disk`` shards and its ``arrow`` builder.

``datasets`` writes the IPC *stream* format (and reads the *file* format too); the Features
are in the schema's ``huggingface`` metadata. Each file is read lazily (``pl.defer``): only
its schema is read when scanned; extension types (``datasets``' ``Array2D``...) are read as
their storage, which is how Polars holds them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import polars as pl
import pyarrow as pa

from crucible_polars.errors import DataFileError
from crucible_polars.features import Features
from crucible_polars.features.storage import schema_tables
from crucible_polars.readers.base import Scan, ScanOptions, unify_schemas


@contextmanager
def open_ipc(path: str) -> Iterator[Any]:
    """A reader of an Arrow IPC stream or file (memory-mapped); ``DataFileError`` naming the
    file when it is neither.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "a.arrow")
    >>> write_arrow_stream(pl.LazyFrame({"x": [1, 2]}), path, pa.schema([("x", pa.int64())]))
    2
    >>> with open_ipc(path) as reader:
    ...     reader.schema.names
    ['x']
    """
    try:
        source = pa.memory_map(path) if "://" not in path else _fsspec_bytes(path)
    except OSError as err:
        raise DataFileError(path, f"cannot be opened ({err})") from err
    try:
        try:
            reader: Any = pa.ipc.open_stream(source)
        except pa.ArrowInvalid:
            source.seek(0)
            try:
                reader = pa.ipc.open_file(source)
            except pa.ArrowInvalid as err:
                raise DataFileError(
                    path,
                    f"is not an Arrow IPC stream or file ({err}); re-create it, e.g. with "
                    "save_to_disk",
                ) from err
        yield reader
    finally:
        source.close()


def _fsspec_bytes(path: str) -> Any:
    import fsspec

    with fsspec.open(path, "rb") as f:
        return pa.BufferReader(f.read())


def _plain_field(f: pa.Field) -> pa.Field:
    """``f`` with extension types replaced by their storage and ``ARROW:extension:*``
    metadata dropped, at every depth (Polars turns either into extension columns)."""
    metadata = {
        k: v for k, v in (f.metadata or {}).items() if not k.startswith(b"ARROW:extension:")
    }
    return pa.field(f.name, _plain_type(f.type), f.nullable, metadata or None)


def _plain_type(t: pa.DataType) -> pa.DataType:
    if isinstance(t, pa.BaseExtensionType):  # Python-defined, or built in (arrow.json)
        return _plain_type(t.storage_type)
    if pa.types.is_fixed_size_list(t):
        return pa.list_(_plain_field(t.value_field), t.list_size)
    if pa.types.is_large_list(t):
        return pa.large_list(_plain_field(t.value_field))
    if pa.types.is_list(t):
        return pa.list_(_plain_field(t.value_field))
    if pa.types.is_struct(t):
        return pa.struct([_plain_field(t.field(i)) for i in range(t.num_fields)])
    return t


def _storage_schema(schema: pa.Schema) -> pa.Schema:
    """Extension columns as their storage, at every depth: registered ones (``datasets``
    imported) by type, unregistered ones by dropping the field metadata Polars reads."""
    return pa.schema([_plain_field(f) for f in schema], metadata=schema.metadata)


def _storage_table(table: pa.Table) -> pa.Table:
    plain = _storage_schema(table.schema)
    if plain.equals(table.schema, check_metadata=True):
        return table
    columns = [
        pa.chunked_array([c.storage for c in col.chunks], type=col.type.storage_type)
        if isinstance(col.type, pa.BaseExtensionType)
        else col
        for col in table.columns
    ]
    return pa.Table.from_arrays(columns, names=table.column_names).cast(plain)


def read_ipc(path: str, arrays: dict[str, pa.DataType] | None = None) -> pl.DataFrame:
    """One Arrow IPC file as a Polars frame (extension columns as their storage).

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "a.arrow")
    >>> _ = write_arrow_stream(pl.LazyFrame({"x": [1]}), path, pa.schema([("x", pa.int64())]))
    >>> read_ipc(path)["x"].to_list()
    [1]
    """
    with open_ipc(path) as reader:
        table = _storage_table(reader.read_all())
    for name, arrow_type in (arrays or {}).items():
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, table.column(name).cast(arrow_type))
    frame = pl.from_arrow(table, rechunk=False)
    assert isinstance(frame, pl.DataFrame)
    return frame


def ipc_schema(path: str) -> pa.Schema:
    """The Arrow schema (with metadata) of an IPC file; nothing else is read."""
    with open_ipc(path) as reader:
        return reader.schema


def count_rows(path: str) -> int:
    """Rows in an IPC file, from its record batch headers.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "a.arrow")
    >>> _ = write_arrow_stream(pl.LazyFrame({"x": [1, 2, 3]}), path, pa.schema([("x", pa.int64())]))
    >>> count_rows(path)
    3
    """
    with open_ipc(path) as reader:
        if isinstance(reader, pa.ipc.RecordBatchFileReader):
            return sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))
        return sum(batch.num_rows for batch in reader)


def polars_schema(schema: pa.Schema) -> pl.Schema:
    """The Polars schema of frames read from files with this Arrow schema."""
    empty = pl.from_arrow(_storage_schema(schema).empty_table())
    assert isinstance(empty, pl.DataFrame)
    return empty.schema


def scan(files: list[str], options: ScanOptions) -> Scan:
    """Scan Arrow IPC files lazily; Features from the first file's ``huggingface`` metadata.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "a.arrow")
    >>> _ = write_arrow_stream(pl.LazyFrame({"x": [1, 2]}), path, pa.schema([("x", pa.int64())]))
    >>> scan([path], {}).lf.filter(pl.col("x") > 1).collect()["x"].to_list()
    [2]
    """
    arrow_schemas = [ipc_schema(f) for f in files]
    features = Features.from_arrow(arrow_schemas[0])
    wanted = features.to_polars()
    # Array2D.. are stored as nested lists; Polars holds pl.Array: cast in Arrow, which keeps
    # null rows (Polars' list-to-array cast fails on them)
    arrays = {
        name: _arrow_type(wanted[name])
        for name in arrow_schemas[0].names
        if isinstance(wanted.get(name), pl.Array)
    }
    schemas = [_with_arrays(polars_schema(s), wanted, arrays) for s in arrow_schemas]
    schema = unify_schemas(files, schemas)
    frames = [_deferred(f, s, schema, arrays) for f, s in zip(files, schemas, strict=True)]
    lf = pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]
    return Scan(lf=lf, features=features)


def _arrow_type(dtype: pl.DataType) -> pa.DataType:
    return pl.DataFrame(schema={"x": dtype}).to_arrow().schema.field("x").type


def _with_arrays(schema: pl.Schema, wanted: pl.Schema, arrays: dict[str, pa.DataType]) -> pl.Schema:
    return pl.Schema({n: wanted[n] if n in arrays else d for n, d in schema.items()})


def _deferred(
    path: str, own: pl.Schema, unified: pl.Schema, arrays: dict[str, pa.DataType]
) -> pl.LazyFrame:
    lf = pl.defer(lambda: read_ipc(path, arrays), schema=own)
    return lf if own == unified else lf.cast(unified)


def write_arrow_stream(
    lf: pl.LazyFrame,
    path: str,
    arrow_schema: pa.Schema,
    *,
    batch_rows: int = 65_536,
    on_rows: Callable[[int], Any] | None = None,
) -> int:
    """Stream a plan into an Arrow IPC stream file whose schema is exactly ``arrow_schema``
    (as ``datasets``' ``save_to_disk`` writes its shards). Returns the number of rows;
    ``on_rows(n)`` is called after each ``n`` rows written (a progress bar).

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "a.arrow")
    >>> write_arrow_stream(pl.LazyFrame({"x": [1, 2]}), path, pa.schema([("x", pa.int32())]))
    2
    >>> ipc_schema(path).field("x").type
    DataType(int32)
    """
    rows = 0
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_stream(sink, arrow_schema) as writer:
        for table in schema_tables(lf, arrow_schema, batch_rows):
            writer.write_table(table)
            rows += table.num_rows
            if on_rows is not None:
                on_rows(table.num_rows)
    return rows
