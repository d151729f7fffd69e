"""``map`` and ``filter`` with Python functions over a :class:`~crucible_polars.plan.Plan`.

The function runs inside the Polars plan, in a Python IO source
(:func:`crucible_polars.io_source.frame_source`) that reads the input plan in exact
batches (``batch_size`` rows, the last one smaller), calls the function once per batch
(``batched=True``) or once per row of the batch, and yields one output frame per batch.
Nothing runs until an output method asks for rows; a later ``take``/``head`` stops the
source early, and columns that the function does not produce are passed through as Polars
columns, never converted to Python. How the function is called and how its outputs are
typed is :mod:`crucible_polars.udf`, shared with the streaming engine.

``map`` needs its output schema before it runs: with ``features=`` that is the schema;
otherwise the function runs once on the first batch and the schema (and Features) are
inferred from its output, as ``datasets`` infers them from the first batch it writes.
Later batches must give the same columns and types; a batch that does not raises
:class:`~crucible_polars.errors.FunctionOutputError` naming the rows of the batch. A query
that reads only columns the function passes through (a row count, say) does not call it.

Examples
--------
>>> from crucible_polars.plan import Plan
>>> plan = Plan.from_frame(pl.DataFrame({"text": ["a", "bb", "ccc"]}))
>>> map_with_function(plan, lambda row: {"n": len(row["text"])}).collect()["n"].to_list()
[1, 2, 3]
>>> kept = filter_with_function(plan, lambda b: [len(t) > 1 for t in b["text"]], batched=True)
>>> kept.collect()["text"].to_list()
['bb', 'ccc']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import polars as pl

from crucible_polars.features import Features, cast_lazyframe
from crucible_polars.io_source import frame_source
from crucible_polars.plan import Plan
from crucible_polars.udf import (
    FunctionCall,
    LazyBatch,
    OutputBuilder,
    batch_rows,
    check_options,
    conform_batch,
    describe_function,
    filter_mask,
    infer_output_schema,
    rank_for,
)

Transform = Callable[[pl.DataFrame, int, "list[str] | None"], pl.DataFrame]
"""``transform(batch, first_row, wanted_columns)``: one output frame per input batch."""

READ_ROWS = 16_384
"""Most rows per chunk read from the input plan (small batches cost less read together)."""
READ_BYTES = 32 << 20
"""Target size of a chunk read from the input plan, when the size of a row is known."""


def read_rows(batch_size: int, schema: pl.Schema, sample: pl.DataFrame | None = None) -> int:
    """Rows to read from the input at a time: about ``READ_BYTES``, at least ``batch_size``.

    Estimated from a sample batch when there is one, else from the schema (rows with binary,
    lists or structs may be large: read one batch at a time).

    Parameters
    ----------
    batch_size
        Rows per call of the function.
    schema
        The schema of the columns read.
    sample
        A batch of the input, to measure rows by.

    Examples
    --------
    >>> read_rows(1000, pl.Schema({"a": pl.Int64}))
    16384
    >>> read_rows(1000, pl.Schema({"img": pl.Binary}))
    1000
    """
    if sample is not None and sample.height:
        per_row = max(1, int(sample.estimated_size()) // sample.height)
        return max(batch_size, min(READ_ROWS, READ_BYTES // per_row))
    large = any(
        dtype == pl.Binary or isinstance(dtype, (pl.Struct, pl.List, pl.Array, pl.Object))
        for dtype in schema.dtypes()
    )
    return batch_size if large else max(batch_size, READ_ROWS)


def coalesce(frames: Iterator[pl.DataFrame], first: int, most: int) -> Iterator[pl.DataFrame]:
    """The frames joined in growing chunks: the first alone, then ``first`` rows, doubling
    up to ``most``: few hand-overs to Polars on long runs, little done before an early stop.

    Parameters
    ----------
    frames
        The frames to join.
    first, most
        Rows in the second chunk, and at most in any chunk (bigger frames pass alone).

    Examples
    --------
    >>> frames = (pl.DataFrame({"a": [i]}) for i in range(7))
    >>> [f.height for f in coalesce(frames, 2, 4)]
    [1, 2, 4]
    """
    pending: list[pl.DataFrame] = []
    pending_rows, target = 0, 1
    for frame in frames:
        pending.append(frame)
        pending_rows += frame.height
        if pending_rows >= target:
            yield pl.concat(pending) if len(pending) > 1 else pending[0]
            pending, pending_rows = [], 0
            target = min(2 * target if target > 1 else first, most)
    if pending:
        yield pl.concat(pending)


def _batch_source(
    plan: Plan,
    transform: Transform,
    schema: pl.Schema,
    *,
    batch_size: int,
    drop_last_batch: bool,
    name: str,
    reads: Callable[[list[str]], list[str] | None] | None = None,
    sample: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """A lazy frame that runs ``transform(frame, offset, wanted)`` over exact batches of ``plan``.

    ``reads(wanted)`` names the input columns a query for ``wanted`` must read (``None``:
    all of them); ``sample``, a first input batch, sizes the chunks read (:func:`read_rows`).
    """

    def produce(wanted: list[str] | None) -> Iterator[pl.DataFrame]:
        needed = reads(wanted) if reads is not None and wanted is not None else None
        lf = plan.lf if needed is None else plan.lf.select(needed)
        read_size = read_rows(batch_size, lf.collect_schema(), sample)
        batches = plan.batches(
            batch_size, drop_last_batch=drop_last_batch, lf=lf, read_size=read_size
        )

        def outputs() -> Iterator[pl.DataFrame]:
            offset = 0
            for frame in batches:
                yield transform(frame, offset, wanted if needed is not None else None)
                offset += frame.height

        yield from coalesce(outputs(), batch_size, read_size)

    return frame_source(produce, schema, name)


def _call(
    plan: Plan,
    method: str,
    function: Callable[..., Any],
    *,
    fmt: str | None,
    batched: bool,
    with_indices: bool,
    with_rank: bool,
    input_columns: str | Sequence[str] | None,
    fn_kwargs: Mapping[str, Any] | None,
    options: Mapping[str, Any],
) -> FunctionCall:
    check_options(options, method)
    return FunctionCall(
        function,
        batched=batched,
        with_indices=with_indices,
        with_rank=with_rank,
        rank=rank_for(options),
        input_columns=plan.check_columns(input_columns) if input_columns is not None else None,
        fn_kwargs=fn_kwargs,
        fmt=fmt,
        features=plan.features,
        label=describe_function(method, function),
    )


def _identity(x: Any, *args: Any, **kwargs: Any) -> Any:
    return x


def map_with_function(
    plan: Plan,
    function: Callable[..., Any] | None = None,
    *,
    fmt: str | None = None,
    with_indices: bool = False,
    with_rank: bool = False,
    input_columns: str | Sequence[str] | None = None,
    batched: bool = False,
    batch_size: int | None = 1000,
    drop_last_batch: bool = False,
    remove_columns: str | Sequence[str] | None = None,
    features: Features | None = None,
    fn_kwargs: Mapping[str, Any] | None = None,
    **options: Any,
) -> Plan:
    """``Dataset.map`` with a Python function, over a plan (see the module doc).

    Parameters
    ----------
    plan
        The input plan.
    function
        The function; ``None`` is the identity.
    fmt
        The dataset's output format: the function receives rows (or batches) in it.
    with_indices, with_rank, input_columns, batched, batch_size, drop_last_batch
        As in ``datasets.Dataset.map`` (see :class:`crucible_polars.udf.FunctionCall`).
    remove_columns
        Input columns to drop from the output.
    features
        The output Features (no first-batch inference; values are cast to them).
    fn_kwargs
        Keyword arguments for the function.
    **options
        ``datasets``' cache and process options, accepted and ignored.

    Returns
    -------
    Plan
        The mapped plan (``plan`` itself when the function returns ``None``).

    Examples
    --------
    >>> plan = Plan.from_frame(pl.DataFrame({"a": [1, 2, 3]}))
    >>> out = map_with_function(plan, lambda b: {"a": [x * 2 for x in b["a"]]}, batched=True)
    >>> out.collect()["a"].to_list()
    [2, 4, 6]
    >>> map_with_function(plan, lambda row: {"b": row["a"] + 1}).num_rows  # rows kept
    3
    """
    call = _call(
        plan,
        "map",
        function or _identity,
        fmt=fmt,
        batched=batched,
        with_indices=with_indices,
        with_rank=with_rank,
        input_columns=input_columns,
        fn_kwargs=fn_kwargs,
        options=options,
    )
    removed = plan.check_columns(remove_columns) if remove_columns is not None else []
    size = batch_rows(batched, batch_size)
    if size is None:  # one batch of every row: nothing to drop
        size, drop_last_batch = max(plan.row_count(), 1), False
    if not batched:
        drop_last_batch = False
    run = _Runner(plan, call, OutputBuilder(call, removed))
    if features is not None:
        return run.to_features(Features(features), size, drop_last_batch)
    return run.inferred(removed, size, drop_last_batch)


class _Runner:
    """One ``map``: calls the function on batches and merges its outputs with the input."""

    def __init__(self, plan: Plan, call: FunctionCall, builder: OutputBuilder) -> None:
        self.plan = plan
        self.call = call
        self.builder = builder
        self.all_columns = list(plan.features)
        self.read_by_function: set[str] | None = None  # learnt on the first batch

    def outputs_of(self, frame: pl.DataFrame, offset: int) -> dict[str, pl.Series] | None:
        """The function's output columns for one batch (``None``: it returned nothing)."""
        call, plan = self.call, self.plan
        if not call.batched:
            rows, results = call.call_rows(frame, offset)
            return self.builder.from_rows(frame, offset, rows, results)
        columns, fetch = None, None
        if frame.columns != self.all_columns and call.input_columns is None:  # projected

            def fetch(key: str, start: int = offset, n: int = frame.height) -> pl.Series:
                return plan.run(lambda: plan.lf.select(key).slice(start, n).collect())[key]

            columns = self.all_columns
        given, result = call.call_batch(frame, offset, columns, fetch)
        if self.read_by_function is None and isinstance(given, LazyBatch):
            self.read_by_function = set(given.converted)
        return self.builder.from_batch(frame, offset, given, result)

    def apply(
        self, frame: pl.DataFrame, offset: int, keeps_inputs: bool = False
    ) -> pl.DataFrame | None:
        """The batch's output frame (input columns merged), ``None`` if nothing returned."""
        columns = self.outputs_of(frame, offset)
        if columns is None:
            return None
        return self.builder.merge(frame, offset, columns, keeps_inputs)

    def to_features(self, features: Features, size: int, drop_last_batch: bool) -> Plan:
        """The map with ``features=``: no first-batch run, every batch cast to them."""
        schema = features.to_polars()

        def transform(frame: pl.DataFrame, offset: int, wanted: list[str] | None) -> pl.DataFrame:
            merged = self.apply(frame, offset)
            out = frame if merged is None else merged
            if set(out.columns) != set(schema.names()):
                raise self.call.error(
                    offset,
                    frame.height,
                    f"the output columns {out.columns} do not match the features= columns "
                    f"{schema.names()}",
                )
            return cast_lazyframe(out.lazy(), features).collect()

        lf = _batch_source(
            self.plan,
            transform,
            schema,
            batch_size=size,
            drop_last_batch=drop_last_batch,
            name=self.call.label,
        )
        rows = self.plan.known_rows() if not self.call.batched else None  # row-wise: 1 to 1
        return self.plan.derive(lf, features, num_rows=rows)

    def inferred(self, removed: list[str], size: int, drop_last_batch: bool) -> Plan:
        """The map whose output types come from running the function on the first batch."""
        plan, call = self.plan, self.call
        first = plan.run(lambda: plan.lf.head(size).collect())
        if first.height == 0 or (drop_last_batch and first.height < size):
            kept = [c for c in plan.features if c not in removed]
            out_features = Features({c: plan.features[c] for c in kept})
            return plan.derive(plan.lf.select(kept).head(0), out_features, num_rows=0)
        produced = self.outputs_of(first, 0)
        if produced is None:
            return plan
        merged = self.builder.merge(first, 0, produced)
        schema, out_features = infer_output_schema(merged, plan.features, first)
        passthrough = [c for c in first.columns if c not in removed and c not in produced]
        keeps_rows = ((not call.batched) or bool(passthrough)) and not drop_last_batch

        def unchanged(wanted: list[str] | None) -> bool:
            """Whether the query reads only columns that pass through: then the function
            need not run (a row count, say), since the map keeps the rows."""
            return keeps_rows and bool(wanted) and all(c in passthrough for c in wanted or ())

        def transform(frame: pl.DataFrame, offset: int, wanted: list[str] | None) -> pl.DataFrame:
            height = frame.height
            if unchanged(wanted):
                return conform_batch(frame, schema, out_features, call, offset, height, wanted)
            out = self.apply(frame, offset, keeps_inputs=bool(passthrough))
            if out is None:
                reason = "the function returned None, but a dict for the first batch"
                raise call.error(offset, height, reason)
            return conform_batch(out, schema, out_features, call, offset, height, wanted)

        def reads(wanted: list[str]) -> list[str] | None:
            """The input columns a query asking for ``wanted`` must read.

            Only the wanted columns when the function passes them all through unchanged;
            else the function's input columns, or, for a batched function given whole
            batches, the columns it read on the first batch (others are fetched if a later
            batch reads them), plus the wanted columns that come from the input.
            """
            from_input = [c for c in wanted if c in self.all_columns]
            if unchanged(wanted):
                return wanted
            if call.input_columns is not None:
                return list(dict.fromkeys([*call.input_columns, *from_input]))
            if self.read_by_function is None:
                return None  # row dicts (or another format) see every column
            needed = [c for c in self.all_columns if c in self.read_by_function or c in from_input]
            return needed or self.all_columns[:1]  # one column keeps the row count

        lf = _batch_source(
            plan,
            transform,
            schema,
            batch_size=size,
            drop_last_batch=drop_last_batch,
            name=call.label,
            reads=reads,
            sample=first,
        )
        return plan.derive(lf, out_features, num_rows=plan.known_rows() if keeps_rows else None)


def filter_with_function(
    plan: Plan,
    function: Callable[..., Any],
    *,
    fmt: str | None = None,
    with_indices: bool = False,
    with_rank: bool = False,
    input_columns: str | Sequence[str] | None = None,
    batched: bool = False,
    batch_size: int | None = 1000,
    fn_kwargs: Mapping[str, Any] | None = None,
    **options: Any,
) -> Plan:
    """``Dataset.filter`` with a Python function, over a plan (see the module doc).

    Parameters
    ----------
    plan
        The input plan.
    function
        Returns a truthy value per row (batched: one per row of the batch).
    fmt
        The dataset's output format: the function receives rows (or batches) in it.
    with_indices, with_rank, input_columns, batched, batch_size, fn_kwargs
        As in ``datasets.Dataset.filter``.
    **options
        ``datasets``' cache and process options, accepted and ignored.

    Examples
    --------
    >>> plan = Plan.from_frame(pl.DataFrame({"a": [1, 2, 3]}))
    >>> out = filter_with_function(plan, lambda row, i: i != 1, with_indices=True)
    >>> out.collect()["a"].to_list()
    [1, 3]
    """
    call = _call(
        plan,
        "filter",
        function,
        fmt=fmt,
        batched=batched,
        with_indices=with_indices,
        with_rank=with_rank,
        input_columns=input_columns,
        fn_kwargs=fn_kwargs,
        options=options,
    )
    size = batch_rows(batched, batch_size)
    if size is None:
        size = max(plan.row_count(), 1)

    def transform(frame: pl.DataFrame, offset: int, wanted: list[str] | None) -> pl.DataFrame:
        return frame.filter(filter_mask(call, frame, offset))

    def reads(wanted: list[str]) -> list[str] | None:
        inputs = call.input_columns
        return None if inputs is None else list(dict.fromkeys([*inputs, *wanted]))

    lf = _batch_source(
        plan,
        transform,
        plan.lf.collect_schema(),
        batch_size=size,
        drop_last_batch=False,
        name=call.label,
        reads=reads,
    )
    return plan.derive(lf, plan.features, num_rows=None)
