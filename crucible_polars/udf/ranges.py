"""``num_proc`` workers that read their own rows: which plans allow it, and the row ranges.

Handing every row from the main process to the workers costs the main process a read of
the input and a copy of each group through a pipe (about a fifth of the work of a cheap
function). When the input plan reads a slice of rows for the cost of those rows only, each
worker reads its own ranges instead, straight from the source: a Parquet or Arrow IPC scan
whose slice Polars pushes into the scan, or rows already materialized as a memory-mapped
Arrow file (:mod:`crucible_polars.materialize`), which travel by path. The plan travels
pickled (:meth:`crucible_polars.plan.Plan.__reduce__`), once per ``map``. Rows held in
memory (``from_dict``, ``from_polars``...) are written once to an Arrow IPC file of the run
(a copy, cheaper than handing them over group by group), which the workers scan.

Examples
--------
>>> import polars as pl
>>> from crucible_polars.plan import Plan
>>> reader_of(Plan.from_frame(pl.LazyFrame({"a": [1]}).map_batches(lambda f: f))) is None
True
>>> [(r.start, r.rows) for r in row_ranges(10, batch_size=2, num_proc=2, most=4)]
[(0, 2), (2, 2), (4, 4), (8, 2)]
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import polars as pl
import pyarrow as pa

from crucible_polars.arrow_files import mapped_path
from crucible_polars.features import Features
from crucible_polars.plan import Plan

SCANS_THAT_SLICE = ("Parquet SCAN", "Ipc SCAN")
"""Scans that read a slice of rows for the cost of those rows (``explain()`` names)."""


@dataclass(frozen=True)
class RowRange:
    """``rows`` rows of the input from position ``start``: one task of a worker.

    Parameters
    ----------
    start
        The position of the first row.
    rows
        How many rows (whole batches, but for the last range).
    """

    start: int
    rows: int


def _rows_table(plan: Plan) -> pa.Table | None:
    if plan.table is not None:
        return plan.table
    made = plan.recall("materialized")
    return made.table if isinstance(made, Plan) else None


def slices_at_scan(lf: pl.LazyFrame) -> bool:
    """Whether a slice of ``lf`` reads only the rows of the slice: Polars pushes it into the
    one Parquet or IPC scan of local files of the plan (no filter, sort, join or in-memory
    frame before it; remote files are read once, by the main process).

    Parameters
    ----------
    lf
        The plan.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "t.parquet")
    >>> pl.DataFrame({"a": [1, 2, 3]}).write_parquet(path)
    >>> slices_at_scan(pl.scan_parquet(path).select(b=pl.col("a") * 2))
    True
    >>> slices_at_scan(pl.scan_parquet(path).filter(pl.col("a") > 1))  # reads from row 0
    False
    >>> slices_at_scan(pl.LazyFrame({"a": [1]}))  # rows in memory
    False
    """
    try:
        text = lf.slice(1, 1).explain()
    except Exception:  # a plan Polars cannot optimize here: do not guess
        return False
    lines = [line.strip() for line in text.splitlines()]
    scans = [line for line in lines if "SCAN" in line or line.startswith("DF [")]
    return (
        len(scans) == 1
        and scans[0].startswith(SCANS_THAT_SLICE)
        and "://" not in scans[0]
        and any(line.startswith("SLICE: Positive") for line in lines)
        and not any(line.startswith(("SLICE[", "SLICED")) for line in lines)
    )


Reader = Callable[[str, "list[str] | None"], bytes]
"""``reader(folder, needed)``: the input plan pickled for the workers, reading the ``needed``
columns (``None``: all); rows held in memory are first written to an Arrow IPC file in
``folder`` (a folder of the run, removed with it)."""


def reader_of(plan: Plan) -> Reader | None:
    """How workers read their own row ranges of ``plan``, or ``None`` when the main process
    must read the rows and hand them over (see the module doc).

    Parameters
    ----------
    plan
        The input plan of a ``map`` or ``filter``.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "t.parquet")
    >>> pl.DataFrame({"a": [1, 2, 3]}).write_parquet(path)
    >>> reader = reader_of(Plan.from_frame(pl.scan_parquet(path)))
    >>> pickle.loads(reader(tempfile.mkdtemp(), None)).lf.slice(1, 1).collect()["a"].to_list()
    [2]
    >>> reader = reader_of(Plan.from_frame(pl.DataFrame({"a": [1, 2], "b": [3, 4]})))
    >>> pickle.loads(reader(tempfile.mkdtemp(), ["b"])).lf.explain().startswith("Ipc SCAN")
    True
    """
    table = _rows_table(plan)
    mapped = table is not None and mapped_path(table) is not None  # mapped again by path
    if not mapped and (plan.gather is not None or plan.runs_python()):
        return None
    if mapped or slices_at_scan(plan.lf):
        try:
            pickled = pickle.dumps(plan, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # a plan that does not pickle: its rows are sent
            return None
        return partial(_pickled, pickled)
    if in_memory(plan.lf):
        return partial(_written, plan)
    return None


def in_memory(lf: pl.LazyFrame) -> bool:
    """Whether ``lf`` reads only frames held in memory (no file scan, no Python objects).

    Parameters
    ----------
    lf
        The plan.

    Examples
    --------
    >>> in_memory(pl.LazyFrame({"a": [1]}).with_columns(b=pl.col("a") + 1))
    True
    >>> in_memory(pl.LazyFrame({"a": [object()]}))  # cannot be written as Arrow
    False
    """
    try:
        lines = [line.strip() for line in lf.explain().splitlines()]
        schema = lf.collect_schema()
    except Exception:  # a plan Polars cannot optimize here: do not guess
        return False
    return (
        any(line.startswith("DF [") for line in lines)
        and not any("SCAN" in line for line in lines)
        and pl.Object not in schema.dtypes()
    )


def _pickled(pickled: bytes, folder: str, needed: list[str] | None) -> bytes:
    return pickled


def _written(plan: Plan, folder: str, needed: list[str] | None) -> bytes:
    """The rows of a plan held in memory, written once for the workers to map."""
    lf = plan.lf if needed is None else plan.lf.select(needed)
    path = os.path.join(folder, "input.arrow")
    plan.run(lambda: lf.sink_ipc(path, compression="uncompressed"))
    names = lf.collect_schema().names()
    features = Features({name: plan.features[name] for name in names})
    return pickle.dumps(Plan(pl.scan_ipc(path), features), protocol=pickle.HIGHEST_PROTOCOL)


def row_ranges(
    rows: int, *, batch_size: int, num_proc: int, most: int, drop_last_batch: bool = False
) -> list[RowRange]:
    """``rows`` rows in ranges of whole batches for ``num_proc`` workers.

    The first ranges are one batch (a ``head(n)`` computes little), then each round of
    ``num_proc`` ranges is four times larger, up to ``most`` rows (each range is a query,
    which costs about as much as reading thousands of rows, and a file); near the end ranges
    shrink to a worker's share of what is left (down to a quarter of ``most``), so the
    workers finish together.

    Parameters
    ----------
    rows
        The rows to cover.
    batch_size
        Rows per call of the function: ranges are whole batches but for the last.
    num_proc
        The workers.
    most
        Rows at most in a range (rounded up to whole batches).
    drop_last_batch
        Leave out a last batch smaller than ``batch_size``.

    Examples
    --------
    >>> [r.rows for r in row_ranges(100, batch_size=2, num_proc=2, most=16)]
    [2, 2, 8, 8, 16, 16, 16, 16, 8, 4, 4]
    >>> row_ranges(40, batch_size=3, num_proc=2, most=9, drop_last_batch=True)[-1].rows
    3
    """
    stop = rows - rows % batch_size if drop_last_batch else rows
    size, largest = batch_size, max(batch_size, _whole(most, batch_size))
    smallest = _whole(max(1, largest // 4), batch_size)
    ranges: list[RowRange] = []
    start = 0
    while start < stop:
        share = max(_whole(-(-(stop - start) // num_proc), batch_size), smallest)
        ranges.append(RowRange(start, min(size, share, stop - start)))
        start += ranges[-1].rows
        if len(ranges) % num_proc == 0:
            size = min(4 * size, largest)
    return ranges


def _whole(rows: int, batch_size: int) -> int:
    """``rows`` rounded up to whole batches."""
    return -(-rows // batch_size) * batch_size
