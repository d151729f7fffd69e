"""Parquet: ``pl.scan_parquet`` over all files of a split, features from the footer."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import IO, Any, TypeVar

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from crucible_polars.errors import CrucibleError, DataFileError
from crucible_polars.features.storage import schema_tables
from crucible_polars.readers.base import Scan, ScanOptions, unify_schemas

T = TypeVar("T")


def read_footer_schema(path: str, storage_options: dict[str, Any] | None = None) -> Any:
    """The Arrow schema (with its ``huggingface`` metadata) of a parquet file's footer.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "a.parquet")
    >>> pl.DataFrame({"x": [1]}).write_parquet(path)
    >>> read_footer_schema(path).names
    ['x']
    """
    if "://" in path:
        import fsspec

        with fsspec.open(path, "rb", **(storage_options or {})) as f:
            return pq.read_schema(f)
    return pq.read_schema(path)


def scan(files: list[str], options: ScanOptions) -> Scan:
    """Scan parquet files lazily; projection, filters and slices reach the row groups.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "a.parquet")
    >>> pl.DataFrame({"x": [1, 2]}).write_parquet(path)
    >>> scan([path], {}).lf.filter(pl.col("x") > 1).collect().height
    1
    """
    from crucible_polars.features import Features

    storage_options = options.get("storage_options")
    schema: pl.Schema | None = None
    if len(files) > 1:
        schemas = [_checked(f, lambda f: pl.Schema(pl.read_parquet_schema(f))) for f in files]
        if any(s != schemas[0] for s in schemas[1:]):
            schema = unify_schemas(files, schemas)
    arrow_schema = _checked(files[0], lambda f: read_footer_schema(f, storage_options))
    lf = pl.scan_parquet(
        files, storage_options=storage_options, schema=schema, missing_columns="insert"
    )

    def diagnose(error: BaseException) -> CrucibleError | None:
        return diagnose_parquet(files, storage_options)

    return Scan(lf=lf, diagnose=diagnose, features=Features.from_arrow(arrow_schema))


_PARQUET_ERRORS = (pa.ArrowException, OSError, pl.exceptions.PolarsError)


def _unreadable(path: str, error: BaseException) -> DataFileError:
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return DataFileError(
        path,
        f"is not a readable parquet file ({reason}); it is truncated or corrupt: download or "
        "write it again",
    )


def _checked(path: str, read: Callable[[str], T]) -> T:
    """``read(path)``, a corrupt file's error naming it."""
    try:
        return read(path)
    except _PARQUET_ERRORS as error:
        raise _unreadable(path, error) from error


def diagnose_parquet(
    files: list[str], storage_options: dict[str, Any] | None = None
) -> CrucibleError | None:
    """After a failed scan: the first file pyarrow cannot read whole (damaged pages).

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "a.parquet")
    >>> pl.DataFrame({"x": [1]}).write_parquet(path)
    >>> diagnose_parquet([path]) is None
    True
    """
    for path in files:
        try:
            if "://" in path:
                import fsspec

                with fsspec.open(path, "rb", **(storage_options or {})) as f:
                    pq.read_table(f)
            else:
                pq.read_table(path)
        except _PARQUET_ERRORS as error:
            return _unreadable(path, error)
    return None


CDC_OPTIONS = {"min_chunk_size": 256 * 1024, "max_chunk_size": 1024 * 1024, "norm_level": 0}
"""``datasets``' content-defined chunking of parquet pages (``config.DEFAULT_CDC_OPTIONS``)."""

_WRITER_PARAMETERS = frozenset(inspect.signature(pq.ParquetWriter.__init__).parameters) - {
    "self",
    "where",
    "schema",
    "options",
}


def parquet_writer_options(options: dict[str, Any]) -> dict[str, Any]:
    """The options of pyarrow's ``ParquetWriter`` for ``to_parquet(**options)``, with
    ``datasets``' defaults (content-defined chunking, a page index; ``zstd`` compression
    here, where pyarrow's default is ``snappy``).

    Parameters
    ----------
    options
        The keyword options given to ``to_parquet`` (``ParquetWriter``'s, as ``datasets``
        passes them on).

    Raises
    ------
    TypeError
        Options ``ParquetWriter`` does not take (named).

    Examples
    --------
    >>> parquet_writer_options({"compression": "snappy"})["compression"]
    'snappy'
    """
    unknown = sorted(set(options) - _WRITER_PARAMETERS)
    if unknown:
        raise TypeError(
            f"to_parquet got unexpected keyword arguments {unknown}: it takes the options of "
            "pyarrow.parquet.ParquetWriter (compression=, use_dictionary=, ...)."
        )
    defaults: dict[str, Any] = {"compression": "zstd"}
    if "use_content_defined_chunking" in _WRITER_PARAMETERS:  # pyarrow >= 21
        defaults["use_content_defined_chunking"] = CDC_OPTIONS
    if "write_page_index" in _WRITER_PARAMETERS:
        defaults["write_page_index"] = True
    chosen = {**defaults, **options}
    if chosen.get("use_content_defined_chunking") is True:
        chosen["use_content_defined_chunking"] = CDC_OPTIONS
    return chosen


def write_parquet(
    lf: pl.LazyFrame,
    where: str | IO[bytes],
    arrow_schema: Any,
    *,
    batch_rows: int = 65_536,
    on_rows: Callable[[int], Any] | None = None,
    **writer_options: Any,
) -> int:
    """Stream a plan into a parquet file whose Arrow schema is exactly ``arrow_schema``.

    Batches from Polars' streaming engine are cast to the schema (``string`` rather than
    Polars' ``large_string``, the ``huggingface`` metadata attached) and written by pyarrow,
    which is how ``datasets`` reads the Features back. (Polars' ``sink_parquet(arrow_schema=)``
    drops schema metadata when a list column is present.) Returns the number of rows;
    ``on_rows(n)`` is called after each ``n`` rows written (a progress bar).
    ``writer_options`` go to ``pyarrow.parquet.ParquetWriter`` (see
    :func:`parquet_writer_options`); content-defined chunking is recorded in the file's
    key-value metadata, as ``datasets`` records it.

    Examples
    --------
    >>> import tempfile, os, pyarrow as pa
    >>> path = os.path.join(tempfile.mkdtemp(), "a.parquet")
    >>> schema = pa.schema([("x", pa.int32())], metadata={"k": "v"})
    >>> write_parquet(pl.LazyFrame({"x": [1, 2]}), path, schema)
    2
    >>> pq.read_schema(path).metadata
    {b'k': b'v'}
    """
    rows = 0
    writer_options.setdefault("compression", "zstd")
    with pq.ParquetWriter(where, arrow_schema, **writer_options) as writer:
        for table in schema_tables(lf, arrow_schema, batch_rows):
            writer.write_table(table)
            rows += table.num_rows
            if on_rows is not None:
                on_rows(table.num_rows)
        chunking = writer_options.get("use_content_defined_chunking")
        if chunking not in (None, False):
            writer.add_key_value_metadata({"content_defined_chunking": json.dumps(chunking)})
    return rows
