"""Writing a plan's rows once to an Arrow IPC file (the materialized rows of
:mod:`crucible_polars.materialize`), with bounded memory.

Examples
--------
>>> import tempfile
>>> path = Path(tempfile.mkdtemp()) / "rows.arrow"
>>> write_ipc(Plan.from_frame(pl.LazyFrame({"a": [1]})), path)
>>> path.is_file()
True
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.ipc
import pyarrow.parquet as pq

from crucible_polars.features.storage import frame_to_arrow
from crucible_polars.plan import Plan

WRITE_BATCH_ROWS = 65_536
"""Rows per record batch of materialized rows (a gather takes from the batches it needs)."""


def write_ipc(plan: Plan, path: Path) -> None:
    """Stream the plan's rows into an Arrow IPC file at ``path``, atomically.

    A plain scan of local parquet files is converted by pyarrow record batch by record batch
    (as ``datasets`` converts them: less time and memory than a Polars sink). Another plan
    without a gather and without Python code is sunk by Polars' streaming engine in Rust;
    any other goes batch by batch through pyarrow's writer (a streaming gather can panic,
    and a Python function runs in this process's batches either way).

    Parameters
    ----------
    plan
        The plan to run.
    path
        The file to write (its folder is made if needed).

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "rows.arrow"
    >>> write_ipc(Plan.from_frame(pl.LazyFrame({"a": [1, 2]})), path)
    >>> pyarrow.ipc.open_file(str(path)).read_all().num_rows
    2
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        files = plain_parquet_files(plan)
        if files is not None:
            plan.run(lambda: _convert_parquet(files, tmp))
        elif "GATHER" not in plan.lf.explain(optimized=False) and not plan.runs_python():
            oldest = pl.CompatLevel.oldest()  # large_string, not views: pyarrow can take those
            rows = WRITE_BATCH_ROWS
            plan.run(lambda: plan.lf.sink_ipc(tmp, record_batch_size=rows, compat_level=oldest))
        else:
            _write_batches(plan, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def plain_parquet_files(plan: Plan) -> list[str] | None:
    """The local parquet files ``plan`` reads whole and as they are, when it does nothing
    else (no filter, projection, cast or added column) and pyarrow reads every file with the
    plan's Polars schema; else ``None``.

    Parameters
    ----------
    plan
        The plan to look at.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a.parquet")
    >>> pl.DataFrame({"a": [1, 2]}).write_parquet(path)
    >>> plain = Plan.from_frame(pl.scan_parquet([path], missing_columns="insert"))
    >>> plain = Plan(plain.lf, plain.features, sources=(path,))
    >>> plain_parquet_files(plain) == [path]
    True
    >>> plain_parquet_files(plain.derive(plain.lf.filter(pl.col("a") > 1))) is None
    True
    """
    files = list(plan.sources)
    if not files or not all(os.path.isfile(f) for f in files):
        return None
    try:
        plain = pl.scan_parquet(files, missing_columns="insert").serialize()
        if plan.lf.serialize() != plain:
            return None
        schemas = [pq.read_schema(f).remove_metadata() for f in files]
        if any(not s.equals(schemas[0]) for s in schemas[1:]):
            return None
        if any("dictionary<" in str(field.type) for field in schemas[0]):
            return None  # an IPC file cannot hold a new dictionary per record batch
        polars_schema = _polars_schema(schemas[0])
    except (pl.exceptions.PolarsError, pa.ArrowException, OSError, TypeError, ValueError):
        return None
    return files if polars_schema == plan.lf.collect_schema() else None


def _polars_schema(schema: pa.Schema) -> pl.Schema:
    """The Polars schema of an Arrow IPC file of ``schema`` (read back as Polars reads the
    materialized rows; ``pl.from_arrow`` would import pandas through pyarrow)."""
    sink = pa.BufferOutputStream()
    with pyarrow.ipc.new_file(sink, schema):
        pass
    return pl.Schema(pl.read_ipc_schema(io.BytesIO(sink.getvalue().to_pybytes())))


def _convert_parquet(files: list[str], tmp: str) -> None:
    """Parquet files to one Arrow IPC file, a record batch at a time (memory stays bounded;
    the allocator is then asked to give the freed batches back to the system)."""
    schema = pq.read_schema(files[0])
    try:
        with pyarrow.ipc.new_file(tmp, schema) as writer:
            for file in files:
                for batch in pq.ParquetFile(file).iter_batches(batch_size=WRITE_BATCH_ROWS):
                    writer.write_batch(batch)
    finally:
        pa.default_memory_pool().release_unused()


def _write_batches(plan: Plan, tmp: str) -> None:
    schema = None
    writer = None
    try:
        for frame in plan.batches(65_536, lf=plan.lf):
            batch = frame_to_arrow(frame)
            if writer is None:
                schema = batch.schema
                writer = pyarrow.ipc.new_file(tmp, schema)
            writer.write_table(batch.cast(schema))
        if writer is None:
            empty = pl.DataFrame(schema=plan.lf.collect_schema()).to_arrow()
            writer = pyarrow.ipc.new_file(tmp, empty.schema)
            writer.write_table(empty)
    finally:
        if writer is not None:
            writer.close()
