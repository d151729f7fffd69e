"""Polars extension columns turned into their storage before they reach Arrow.

A parquet file that ``datasets`` wrote with an ``Array2D`` column holds the Arrow extension
type ``datasets.features.features.Array2DExtensionType``; Polars keeps it as a
``pl.Extension`` column whose storage it exports with 64-bit list offsets. Once ``datasets``
is imported its class is registered with pyarrow, declares 32-bit ``list`` storage, and reads
those offsets as 32-bit: the Arrow table is invalid (non-monotonic offsets) and pyarrow's
parquet writer crashes the interpreter on it. Every Arrow consumer (``to_arrow``, the
writers, materialization) therefore goes through :func:`frame_to_arrow`, which exports the
storage only (the features carry the extension type back in) and validates the result.

Examples
--------
>>> import polars as pl
>>> frame_to_arrow(pl.DataFrame({"a": [[1, 2]]})).column("a").to_pylist()
[[1, 2]]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

import polars as pl
import pyarrow as pa

from .value import polars_dtype

__all__ = ["frame_to_arrow", "has_extension", "validate_arrow", "without_extensions"]

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


def has_extension(dtype: Any) -> bool:
    """Whether ``dtype`` is or contains a Polars extension type.

    Examples
    --------
    >>> has_extension(pl.List(pl.Int64))
    False
    """
    dtype = polars_dtype(dtype)
    if isinstance(dtype, pl.BaseExtension):
        return True
    if isinstance(dtype, pl.Struct):
        return any(has_extension(f.dtype) for f in dtype.fields)
    if isinstance(dtype, (pl.List, pl.Array)):
        return has_extension(dtype.inner)
    return False


def _storage_expr(expr: pl.Expr, dtype: Any) -> pl.Expr:
    """``expr`` (of ``dtype``, which contains an extension type) with storage types only."""
    dtype = polars_dtype(dtype)
    while isinstance(dtype, pl.BaseExtension):
        expr = expr.ext.storage()
        dtype = polars_dtype(dtype.ext_storage())
    if not has_extension(dtype):
        return expr
    if isinstance(dtype, pl.Struct):
        fields = [
            _storage_expr(expr.struct.field(f.name), f.dtype).alias(f.name) for f in dtype.fields
        ]
        return pl.when(expr.is_not_null()).then(pl.struct(fields))
    if isinstance(dtype, pl.List):
        return expr.list.eval(_storage_expr(pl.element(), dtype.inner))
    if isinstance(dtype, pl.Array):
        inner = expr.cast(pl.List(dtype.inner)).list.eval(_storage_expr(pl.element(), dtype.inner))
        return inner.list.to_array(dtype.size)
    return expr  # pragma: no cover - has_extension covers every nesting above


def without_extensions(frame: FrameT) -> FrameT:
    """``frame`` with every extension column (at any depth) replaced by its storage.

    Lazy in, lazy out: a ``LazyFrame`` gets the conversion as expressions, nothing runs.

    Parameters
    ----------
    frame
        A ``DataFrame`` or ``LazyFrame``.

    Examples
    --------
    >>> lf = pl.LazyFrame({"a": [1]})
    >>> without_extensions(lf).collect_schema()
    Schema([('a', Int64)])
    """
    schema = frame.collect_schema()
    exprs = {name: dtype for name, dtype in schema.items() if has_extension(dtype)}
    if not exprs:
        return frame
    return frame.with_columns(
        _storage_expr(pl.col(name), dtype).alias(name) for name, dtype in exprs.items()
    )


def frame_to_arrow(df: pl.DataFrame) -> pa.Table:
    """``df.to_arrow()`` of the storage (no extension types), checked to be valid Arrow.

    Parameters
    ----------
    df
        The frame.

    Raises
    ------
    ValueError
        When the exported table is not valid Arrow (names the column); never returns a table
        that would crash a writer.

    Examples
    --------
    >>> frame_to_arrow(pl.DataFrame({"a": ["x"]})).num_rows
    1
    """
    stripped = without_extensions(df)
    table = stripped.to_arrow()
    if stripped is not df:
        validate_arrow(table)
    return table


def validate_arrow(table: pa.Table) -> None:
    """Fail with a clear error if ``table`` is not valid Arrow (before a writer sees it).

    Parameters
    ----------
    table
        The table to check in full (offsets, UTF-8, nested children).

    Examples
    --------
    >>> validate_arrow(pa.table({"a": [1]}))
    """
    for name, column in zip(table.column_names, table.columns, strict=True):
        try:
            column.validate(full=True)
        except pa.ArrowInvalid as exc:
            raise ValueError(
                f"column {name!r} is not valid Arrow ({exc}); refusing to pass it on. "
                "Please report this with the column's features."
            ) from exc


def schema_tables(lf: pl.LazyFrame, arrow_schema: pa.Schema, batch_rows: int) -> Iterator[pa.Table]:
    """The plan's rows, ``batch_rows`` at a time, as Arrow tables of exactly ``arrow_schema``
    (storage first, then cast, then checked valid): what a file writer can write as is.

    Parameters
    ----------
    lf
        The plan (run by Polars' streaming engine, batch by batch).
    arrow_schema
        The schema every table has (with its metadata).
    batch_rows
        Rows per table.

    Examples
    --------
    >>> schema = pa.schema([("x", pa.int32())])
    >>> [t.schema.field("x").type for t in schema_tables(pl.LazyFrame({"x": [1]}), schema, 10)]
    [DataType(int32)]
    """
    for frame in lf.collect_batches(chunk_size=batch_rows):
        table = frame_to_arrow(frame).select(arrow_schema.names)
        table = pa.Table.from_batches(table.cast(arrow_schema).to_batches(), arrow_schema)
        validate_arrow(table)
        yield table
