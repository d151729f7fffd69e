"""Random access: rows by position, and a plan's rows materialized once as Arrow.

``ds[i]``, ``ds[list]``, ``select`` and ``__getitems__`` (the torch DataLoader's batched fetch)
read rows by position. Over materialized rows (:func:`materialize`, made by
``Dataset.cache()`` / ``flatten_indices()``) that is a ``pyarrow.Table.take``; over a plain plan
it is one Polars query, run on the in-memory engine (Polars' streaming engine can panic on a
gather over large frames).

Examples
--------
>>> import numpy as np, polars as pl
>>> from crucible_polars.plan import Plan
>>> plan = materialize(Plan.from_frame(pl.DataFrame({"a": [5, 6, 7]})))
>>> take_rows(plan, np.array([2, 0]), ["a"])["a"].to_list()
[7, 5]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
import pyarrow as pa

from crucible_polars.features.storage import frame_to_arrow
from crucible_polars.plan import Plan


def take_rows(plan: Plan, indices: np.ndarray, columns: Sequence[str]) -> pl.DataFrame:
    """The rows of ``plan`` at ``indices`` (validated, non-negative), only ``columns``.

    Parameters
    ----------
    plan
        The plan to read.
    indices
        Row positions, in the order wanted (repeats allowed).
    columns
        The columns to return.

    Examples
    --------
    >>> plan = Plan.from_frame(pl.DataFrame({"a": [5, 6, 7], "b": [1, 2, 3]}))
    >>> take_rows(plan, np.array([1]), ["b"]).to_dicts()
    [{'b': 2}]
    """
    names = list(columns)
    indices = np.asarray(indices, dtype=np.int64)
    table, positions = _materialized_rows(plan, indices)
    if table is not None:
        taken = table.select(names).take(pa.array(positions, type=pa.int64()))
        return frame_from_arrow(taken)
    gather = plan.gather
    if gather is not None:
        base, positions = gather.base, gather.indices[indices]
    else:
        base, positions = plan.lf, indices
    query = _positions_query(base.select(names), positions)
    return plan.run(lambda: query.collect(engine="in-memory"))


def frame_from_arrow(table: pa.Table) -> pl.DataFrame:
    """A Polars frame over an Arrow table, built column by column.

    ``pl.from_arrow`` converts columns in Polars' thread pool, which never answers in a
    forked process (a torch DataLoader worker); one ``pl.Series`` at a time needs no pool.

    Examples
    --------
    >>> frame_from_arrow(pa.table({"a": [1, 2], "b": ["x", "y"]})).to_dicts()
    [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'y'}]
    """
    columns = [pl.Series(name, table.column(name).combine_chunks()) for name in table.column_names]
    return pl.DataFrame(columns)


def _materialized_rows(plan: Plan, indices: np.ndarray) -> tuple[pa.Table | None, np.ndarray]:
    if plan.table is not None:
        return plan.table, indices
    if plan.gather is not None and plan.gather.table is not None:
        return plan.gather.table, plan.gather.indices[indices]
    return None, indices


def _positions_query(lf: pl.LazyFrame, positions: np.ndarray) -> pl.LazyFrame:
    """A contiguous run becomes a slice (reaches the scan); anything else a gather."""
    if not positions.size:
        return lf.head(0)
    if positions[-1] - positions[0] == positions.size - 1 and np.all(np.diff(positions) == 1):
        return lf.slice(int(positions[0]), int(positions.size))
    return lf.gather(pl.Series(positions, dtype=pl.Int64))


def materialize(plan: Plan) -> Plan:
    """The plan's rows, run once into Arrow: later reads, gathers and shuffles use them
    instead of running the plan (and any Python function in it) again.

    Parameters
    ----------
    plan
        The plan to run.

    Examples
    --------
    >>> plan = materialize(Plan.from_frame(pl.LazyFrame({"a": [1, 2]})))
    >>> plan.num_rows, plan.table.num_rows
    (2, 2)
    """
    if plan.table is not None:
        return plan
    frame = plan.collect()
    table = frame_to_arrow(frame)
    lf = pl.from_arrow(table, rechunk=False)
    assert isinstance(lf, pl.DataFrame)
    return Plan(lf.lazy(), plan.features, num_rows=table.num_rows, table=table)
