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

from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from typing import Any

import polars as pl

from crucible_polars.features import Features
from crucible_polars.io_source import frame_source
from crucible_polars.plan import Plan
from crucible_polars.progress import tracked
from crucible_polars.udf import (
    FILTER_OPTIONS,
    MAP_OPTIONS,
    FunctionCall,
    OutputBuilder,
    batch_rows,
    check_options,
    describe_function,
    infer_output_schema,
    rank_for,
)
from crucible_polars.udf.jobs import BatchJob, FilterJob, MapJob
from crucible_polars.udf.outputs import WholeTable
from crucible_polars.udf.parallel import (
    Run,
    check_num_proc,
    check_picklable,
    run_groups,
    run_ranges,
)
from crucible_polars.udf.ranges import reader_of, row_ranges

READ_ROWS = 16_384
"""Most rows per chunk read from the input plan (small batches cost less read together)."""
READ_BYTES = 32 << 20
"""Target size of a chunk read from the input plan, when the size of a row is known."""
RANGE_READS = 8
"""Rows a ``num_proc`` worker reads at most per task, in chunks of :func:`read_rows`."""


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
    job: BatchJob,
    schema: pl.Schema,
    run: Run,
    *,
    batch_size: int,
    drop_last_batch: bool,
    reads: Callable[[list[str]], list[str] | None] | None = None,
    sample: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """A lazy frame that runs ``job(group, offset, wanted)`` over groups of exact batches.

    ``reads(wanted)`` names the input columns a query for ``wanted`` must read (``None``:
    all of them); ``sample``, a first input batch, sizes the chunks read (:func:`read_rows`).
    With ``run.parallel`` the groups go to worker processes, outputs kept in order.
    """
    reader = reader_of(plan) if run.parallel else None  # workers read their own rows
    sent_job = job if reader is not None else job.slimmed()  # slim: answers what we lack
    payload = check_picklable(sent_job, run.label) if run.parallel else None

    def produce(wanted: list[str] | None) -> Iterator[pl.DataFrame]:
        needed = reads(wanted) if reads is not None and wanted is not None else None
        lf = plan.lf if needed is None else plan.lf.select(needed)
        read_size = read_rows(batch_size, lf.collect_schema(), sample)
        sizes: list[int] = []
        cut = wanted if needed is not None else None
        answers: Iterator[pl.DataFrame] | None = None
        if reader is not None and payload is not None and run.num_proc is not None:
            ranges = row_ranges(
                plan.row_count(),
                batch_size=batch_size,
                num_proc=run.num_proc,
                most=RANGE_READS * read_size,
                drop_last_batch=drop_last_batch,
            )
            sizes.extend(r.rows for r in ranges)
            answers = run_ranges(
                run.num_proc, payload, reader, iter(ranges), needed, cut, wanted, not run.ranked
            )
            outputs: Iterator[pl.DataFrame] = answers
        else:
            batches = plan.batches(
                batch_size, drop_last_batch=drop_last_batch, lf=lf, read_size=read_size
            )

            def groups() -> Iterator[tuple[pl.DataFrame, int]]:
                offset = 0
                for group in coalesce(batches, batch_size, read_size):
                    sizes.append(group.height)
                    yield group, offset
                    offset += group.height

            if payload is not None and run.num_proc is not None:
                balanced = not run.ranked
                answers = run_groups(run.num_proc, sent_job, payload, groups(), cut, balanced)
                outputs = answers
            else:
                outputs = (job(group, offset, cut) for group, offset in groups())
        try:
            with tracked(run.total, run.bar_text()) as bar:
                for k, out in enumerate(outputs):
                    bar.update(sizes[k])  # before the hand-over: a reader may stop here
                    yield out
        finally:
            if isinstance(answers, Generator):
                answers.close()  # an early stop: the workers' pending answers are drained

    return frame_source(produce, schema, run.label)


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
    num_proc: int | None,
) -> FunctionCall:
    return FunctionCall(
        function,
        batched=batched,
        with_indices=with_indices,
        with_rank=with_rank,
        rank=rank_for({"num_proc": check_num_proc(num_proc)}),
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
    num_proc: int | None = None,
    desc: str | None = None,
    try_original_type: bool | None = True,
    on_mixed_types: str | None = "use_json",
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
    num_proc
        Run the function in this many worker processes (:mod:`crucible_polars.udf.parallel`).
    desc
        The progress bar's text.
    try_original_type
        Give a returned column the type of the input column of its name when its values
        cast to it without loss (``datasets``' rule; ``False``: by its values, batched only,
        as in ``datasets``).
    on_mixed_types
        ``"use_json"`` (``datasets``' default): an output column of values of no one type
        gets ``Json`` where they mix; ``None``: such a column is an error.
    **options
        ``datasets``' cache options (``load_from_cache_file``, ...), accepted and ignored.

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
    check_options(options, "map", MAP_OPTIONS)
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
        num_proc=num_proc,
    )
    removed = plan.check_columns(remove_columns) if remove_columns is not None else []
    size = batch_rows(batched, batch_size)
    if size is None:  # one batch of every row: nothing to drop
        size, drop_last_batch = max(plan.row_count(), 1), False
    if not batched:
        drop_last_batch = False
    original = try_original_type is not False or not batched  # datasets: batched only
    given = Features(features) if features is not None else None
    if on_mixed_types not in (None, "use_json"):
        raise ValueError(f"on_mixed_types must be None or 'use_json', got {on_mixed_types!r}")
    builder = OutputBuilder(call, removed, original, given, on_mixed_types)
    run = Run(call.label, num_proc, desc, plan.known_rows(), ranked=call.with_rank)
    if given is not None:
        return _to_features(plan, call, builder, given, size, drop_last_batch, run)
    return _inferred(plan, call, builder, removed, size, drop_last_batch, run, original)


def _to_features(
    plan: Plan,
    call: FunctionCall,
    builder: OutputBuilder,
    features: Features,
    size: int,
    drop_last_batch: bool,
    run: Run,
) -> Plan:
    """The map with ``features=``: no first-batch run, every batch cast to them."""
    schema = features.to_polars()
    job = MapJob(call, builder, size, schema, features, given=True)
    lf = _batch_source(plan, job, schema, run, batch_size=size, drop_last_batch=drop_last_batch)
    rows = plan.known_rows() if not call.batched else None  # row-wise: 1 to 1
    return plan.derive(lf, features, num_rows=rows)


def _inferred(
    plan: Plan,
    call: FunctionCall,
    builder: OutputBuilder,
    removed: list[str],
    size: int,
    drop_last_batch: bool,
    run: Run,
    original_type: bool,
) -> Plan:
    """The map whose output types come from running the function on the first batch."""
    first = plan.run(lambda: plan.lf.head(size).collect())
    if first.height == 0 or (drop_last_batch and first.height < size):
        kept = [c for c in plan.features if c not in removed]
        out_features = Features({c: plan.features[c] for c in kept})
        return plan.derive(plan.lf.select(kept).head(0), out_features, num_rows=0)
    all_columns = list(plan.features)

    def fetch(key: str, start: int, n: int) -> pl.Series:
        return plan.run(lambda: plan.lf.select(key).slice(start, n).collect())[key]

    probe = MapJob(call, builder, size, pl.Schema(), Features(), columns=all_columns, fetch=fetch)
    produced = probe.outputs_of(call, first, 0)
    if produced is None:
        return plan
    merged = builder.merge(first, 0, produced)
    returned = [c for c in produced if c not in builder.untouched]  # untouched: kept as is
    schema, out_features = infer_output_schema(
        merged,
        plan.features,
        first,
        produced=returned,
        original_type=original_type,
        media=builder.media,
        json_features=builder.json,
    )
    builder.output_features = out_features  # later batches: typed by the first one's
    whole = isinstance(produced, WholeTable)
    passthrough = (
        [] if whole else [c for c in first.columns if c not in removed and c not in produced]
    )
    keeps_rows = not whole and ((not call.batched) or bool(passthrough)) and not drop_last_batch
    job = MapJob(
        call,
        builder,
        size,
        schema,
        out_features,
        passthrough=passthrough,
        keeps_rows=keeps_rows,
        columns=all_columns,
        fetch=fetch,
        read_by_function=probe.read_by_function,
    )

    def reads(wanted: list[str]) -> list[str] | None:
        """The input columns a query asking for ``wanted`` must read.

        Only the wanted columns when the function passes them all through unchanged;
        else the function's input columns, or, for a batched function given whole
        batches, the columns it read on the first batch (others are fetched if a later
        batch reads them, in this process only), plus the wanted columns from the input.
        """
        from_input = [c for c in wanted if c in all_columns]
        if job.unchanged(wanted):
            return wanted
        if call.input_columns is not None:
            return list(dict.fromkeys([*call.input_columns, *from_input]))
        if job.read_by_function is None or run.parallel:
            return None  # row dicts (or another format) see every column
        needed = [c for c in all_columns if c in job.read_by_function or c in from_input]
        return needed or all_columns[:1]  # one column keeps the row count

    lf = _batch_source(
        plan,
        job,
        schema,
        run,
        batch_size=size,
        drop_last_batch=drop_last_batch,
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
    num_proc: int | None = None,
    desc: str | None = None,
    **options: Any,
) -> Plan:
    """``Dataset.filter`` with a Python function, over a plan (see the module doc).

    Parameters
    ----------
    plan
        The input plan.
    function
        Returns a truthy value per row (batched: one per row of the batch); an
        ``async def`` function is awaited.
    fmt
        The dataset's output format: the function receives rows (or batches) in it.
    with_indices, with_rank, input_columns, batched, batch_size, fn_kwargs
        As in ``datasets.Dataset.filter``.
    num_proc, desc
        Worker processes, and the progress bar's text (as in :func:`map_with_function`).
    **options
        ``datasets``' cache options, accepted and ignored.

    Examples
    --------
    >>> plan = Plan.from_frame(pl.DataFrame({"a": [1, 2, 3]}))
    >>> out = filter_with_function(plan, lambda row, i: i != 1, with_indices=True)
    >>> out.collect()["a"].to_list()
    [1, 3]
    """
    check_options(options, "filter", FILTER_OPTIONS)
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
        num_proc=num_proc,
    )
    size = batch_rows(batched, batch_size)
    if size is None:
        size = max(plan.row_count(), 1)

    def reads(wanted: list[str]) -> list[str] | None:
        inputs = call.input_columns
        return None if inputs is None else list(dict.fromkeys([*inputs, *wanted]))

    run = Run(call.label, num_proc, desc, plan.known_rows(), ranked=call.with_rank)
    schema = plan.lf.collect_schema()
    job = FilterJob(call, size)
    lf = _batch_source(plan, job, schema, run, batch_size=size, drop_last_batch=False, reads=reads)
    return plan.derive(lf, plan.features, num_rows=None)
