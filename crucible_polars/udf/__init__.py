"""Python functions over rows: the one function engine of ``map`` and ``filter``.

Both :class:`~crucible_polars.Dataset` (``ops.map_filter``) and
:class:`~crucible_polars.IterableDataset` (``streaming.pipeline``) call user functions
through this package, so they pass the same arguments (:mod:`.call`), type the outputs the
same way and fail with the same messages (:mod:`.outputs`, :mod:`.schema`,
:mod:`.values`). It depends only on ``features``, ``formatting`` and ``errors``.

Examples
--------
>>> import polars as pl
>>> call = FunctionCall(lambda row: {"n": len(row["t"])})
>>> frame = pl.DataFrame({"t": ["ab", "c"]})
>>> builder = OutputBuilder(call)
>>> builder.merge(frame, 0, builder.from_rows(frame, 0, *call.call_rows(frame, 0))).to_dicts()
[{'t': 'ab', 'n': 2}, {'t': 'c', 'n': 1}]
"""

from crucible_polars.udf.call import (
    FILTER_OPTIONS,
    IGNORED_OPTIONS,
    MAP_OPTIONS,
    ROW_CHUNK,
    FunctionCall,
    LazyBatch,
    SplitBound,
    batch_rows,
    check_options,
    describe_function,
    rank_for,
)
from crucible_polars.udf.outputs import OutputBuilder, filter_mask
from crucible_polars.udf.schema import conform_batch, infer_output_schema
from crucible_polars.udf.values import conform, values_to_series

__all__ = [
    "FILTER_OPTIONS",
    "IGNORED_OPTIONS",
    "MAP_OPTIONS",
    "ROW_CHUNK",
    "FunctionCall",
    "LazyBatch",
    "OutputBuilder",
    "SplitBound",
    "batch_rows",
    "check_options",
    "conform",
    "conform_batch",
    "describe_function",
    "filter_mask",
    "infer_output_schema",
    "rank_for",
    "values_to_series",
]
