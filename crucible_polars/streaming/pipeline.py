"""The steps an :class:`~crucible_polars.IterableDataset` records, and how they become nodes.

A dataset is a :class:`~crucible_polars.streaming.source.StreamSource` plus a tuple of
steps. Iterating builds the nodes: the leading expression steps fuse into the source (their
projection and filters pushed into the reads); ``shard`` steps (and DataLoader workers) go
down to the source as divisions of its files, row groups or rows whenever every step before
them keeps rows independent of their position (expressions, Python functions, ``shuffle``,
``batch``); after a ``take``/``skip`` they interleave the stream instead.

Examples
--------
>>> steps = (ExprStep("filter", lambda lf: lf), TakeStep(5), ShardStep(2, 0))
>>> describe(steps)
'filter>take(5)>shard(2,0)'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import polars as pl

from crucible_polars.features import Features, cast_lazyframe
from crucible_polars.streaming.found import decoded_features, found_features, with_found
from crucible_polars.streaming.nodes import (
    ExprNode,
    GroupNode,
    Node,
    RebatchNode,
    RepeatNode,
    RowsNode,
    ShuffleNode,
    SkipNode,
    StepNode,
    TakeNode,
)
from crucible_polars.streaming.pushdown import Transform
from crucible_polars.streaming.sharding import ShardSpec, shard_count
from crucible_polars.streaming.source import SourceNode, StreamSource
from crucible_polars.udf import (
    FunctionCall,
    OutputBuilder,
    batch_rows,
    conform_batch,
    describe_function,
    filter_mask,
    infer_output_schema,
)

WHOLE_STREAM = 1 << 62
"""Batch size standing for "the whole stream as one batch" (``batch_size=None``)."""


@dataclass(frozen=True)
class ExprStep:
    """Polars expressions over every frame (``filter``, ``with_columns``, ``select``...)."""

    name: str
    transform: Transform

    def label(self) -> str:
        return self.name


@dataclass(frozen=True)
class FunctionStep:
    """A Python function: ``map`` or ``filter``, row by row or batched."""

    kind: str  # "map" or "filter"
    function: Callable[..., Any]
    batched: bool = False
    batch_size: int | None = 1000
    drop_last_batch: bool = False
    with_indices: bool = False
    with_rank: bool = False
    rank: int | None = None
    input_columns: tuple[str, ...] | None = None
    remove_columns: tuple[str, ...] = ()
    features: Features | None = None
    fn_kwargs: Mapping[str, Any] | None = None
    input_features: Features | None = None
    fmt: str | None = None  # the dataset's output format, which the function receives
    found: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    upstream: tuple[dict[str, Any], ...] = field(default=(), compare=False, repr=False)

    def label(self) -> str:
        return describe_function(self.kind, self.function) + ("[batched]" if self.batched else "")


@dataclass(frozen=True)
class TakeStep:
    n: int

    def label(self) -> str:
        return f"take({self.n})"


@dataclass(frozen=True)
class SkipStep:
    n: int

    def label(self) -> str:
        return f"skip({self.n})"


@dataclass(frozen=True)
class ShuffleStep:
    seed: int
    buffer_size: int

    def label(self) -> str:
        return f"shuffle({self.seed},{self.buffer_size})"


@dataclass(frozen=True)
class BatchStep:
    batch_size: int
    drop_last_batch: bool = False
    by_column: tuple[str, ...] = ()

    def label(self) -> str:
        by = f",by={list(self.by_column)}" if self.by_column else ""
        return f"batch({self.batch_size}{by})"


@dataclass(frozen=True)
class ShardStep:
    num_shards: int
    index: int
    contiguous: bool = True

    def label(self) -> str:
        return f"shard({self.num_shards},{self.index})"


@dataclass(frozen=True)
class RowsStep:
    """A transform of every frame that knows each row's position (``add_column``)."""

    name: str
    transform: Callable[[pl.DataFrame, int], pl.DataFrame]

    def label(self) -> str:
        return self.name


@dataclass(frozen=True)
class RepeatStep:
    """Everything before it, ``times`` times (``None``: forever)."""

    times: int | None

    def label(self) -> str:
        return f"repeat({self.times})"


@dataclass(frozen=True)
class NodeStep:
    """``split_dataset_by_node``: applies to the whole pipeline, wherever it was recorded."""

    world_size: int
    rank: int

    def label(self) -> str:
        return f"node({self.world_size},{self.rank})"


Step = (
    ExprStep
    | FunctionStep
    | TakeStep
    | SkipStep
    | ShuffleStep
    | BatchStep
    | ShardStep
    | NodeStep
    | RowsStep
    | RepeatStep
)
_TRANSPARENT = (ExprStep, FunctionStep, ShuffleStep, BatchStep, NodeStep)


def node_split(steps: Sequence[Step]) -> tuple[int, int] | None:
    """``(world_size, rank)`` of the ``split_dataset_by_node`` calls, composed as ``datasets``
    composes them (``None``: not split).

    Examples
    --------
    >>> node_split([NodeStep(2, 1), NodeStep(3, 2)])
    (6, 5)
    """
    split = None
    for step in steps:
        if isinstance(step, NodeStep):
            world, rank = split or (1, 0)
            split = (step.world_size * world, step.world_size * rank + step.rank)
    return split


def shard_total(count: int, steps: Sequence[Step]) -> int:
    """The number of shards left of ``count`` after the ``shard`` and ``split_dataset_by_node``
    steps (as ``datasets`` counts them).

    Examples
    --------
    >>> shard_total(5, [ShardStep(2, 1)]), shard_total(4, [NodeStep(2, 0)])
    (2, 2)
    >>> shard_total(3, [NodeStep(2, 0)])  # rows are skipped across the stream instead
    3
    """
    for step in steps:
        if isinstance(step, ShardStep):
            count = shard_count(count, ShardSpec(step.num_shards, step.index, step.contiguous))
    split = node_split(steps)
    if split is not None and count % split[0] == 0:
        count //= split[0]
    return count


def _order_seed(steps: Sequence[Step], epoch: int) -> int | None:
    """The seed of the file order: the last ``shuffle`` before any ``take``/``skip`` (as in
    ``datasets``, a shuffle after them keeps the files in order under the rows they count)."""
    seed = None
    for step in steps:
        if isinstance(step, (TakeStep, SkipStep)):
            break
        if isinstance(step, ShuffleStep):
            seed = step.seed
    return None if seed is None else epoch_seed(seed, epoch)


def describe(steps: Sequence[Step]) -> str:
    """A short signature of the steps (stored in states to catch mismatched pipelines)."""
    return ">".join(step.label() for step in steps)


def implode(batch: pl.DataFrame, first_row: int) -> pl.DataFrame:
    """A batch of rows as one row of lists (what ``batch()`` yields, as in ``datasets``).

    Examples
    --------
    >>> implode(pl.DataFrame({"a": [1, 2]}), 0).to_dicts()
    [{'a': [1, 2]}]
    """
    return batch.select(pl.all().implode())


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed a shuffle uses in ``epoch`` (its own seed in epoch 0).

    Examples
    --------
    >>> epoch_seed(42, 0), epoch_seed(42, 1) == epoch_seed(42, 1), epoch_seed(42, 1) == 42
    (42, True, False)
    """
    if epoch == 0:
        return seed
    return int(np.random.default_rng([seed, epoch]).integers(0, 1 << 63))


@dataclass
class BuildContext:
    """What a build needs besides the steps: the epoch and the DataLoader worker, if any."""

    epoch: int = 0
    worker: tuple[int, int] | None = None  # (num_workers, worker_id)
    pushed: list[bool] = field(default_factory=list)


class Head(Protocol):
    """The head of a pipeline that is not files: several streams joined (see ``mixing``)."""

    @property
    def format(self) -> str: ...

    @property
    def files(self) -> tuple[str, ...]: ...

    @property
    def num_shards(self) -> int: ...

    def node(self, epoch: int) -> Node:
        """The head node of one iteration in ``epoch``."""
        ...


def build(source: StreamSource | Head, steps: Sequence[Step], context: BuildContext) -> Node:
    """The nodes of one iteration over ``source`` through ``steps``.

    Over files, leading expressions fuse into the reads and shards divide the files; over a
    :class:`Head` (joined streams) every step is a node after it, and shards step the rows.
    """
    files = isinstance(source, StreamSource)
    chain: list[Transform] = []
    first = 0  # the leading expressions (and shards) fuse into the source
    while (
        files and first < len(steps) and isinstance(steps[first], (ExprStep, ShardStep, NodeStep))
    ):
        step = steps[first]
        if isinstance(step, ExprStep):
            chain.append(step.transform)
        first += 1
    shards: list[ShardSpec] = []
    pushed: list[bool] = []
    transparent = files
    for step in steps:
        if isinstance(step, ShardStep):
            pushed.append(transparent)
            if transparent:
                shards.append(ShardSpec(step.num_shards, step.index, step.contiguous))
        elif not isinstance(step, _TRANSPARENT):
            transparent = False
    # split_dataset_by_node: every world_size-th unit when they divide evenly, else every
    # world_size-th element of the whole pipeline's output (equal work for every rank).
    split = node_split(steps)
    stepped = None
    if split is not None and not isinstance(source, StreamSource):
        stepped = split
    elif split is not None and isinstance(source, StreamSource):
        count = len(source.base_units())
        for spec in shards:
            count = shard_count(count, spec)
        if count % split[0] == 0:
            shards.append(ShardSpec(split[0], split[1], contiguous=False))
        else:
            stepped = split
    if context.worker is not None and transparent:
        shards.append(ShardSpec(context.worker[0], context.worker[1], contiguous=False))
    keeps_rows = all(s.name != "filter" for s in steps[:first] if isinstance(s, ExprStep))
    order_seed = _order_seed(steps, context.epoch)
    if isinstance(source, StreamSource):
        node: Node = SourceNode(source, chain, shards, order_seed, keeps_rows)
    else:
        node = source.node(context.epoch)
    shard_number = 0
    for position, step in enumerate(steps):
        if isinstance(step, ShardStep):
            if not pushed[shard_number]:
                node = StepNode(node, step.num_shards, step.index)
            shard_number += 1
        elif position < first or isinstance(step, NodeStep):
            continue
        elif isinstance(step, ExprStep):
            node = ExprNode(node, [step.transform])
        elif isinstance(step, FunctionStep):
            node = function_node(node, step)
        elif isinstance(step, TakeStep):
            node = TakeNode(node, step.n)
        elif isinstance(step, SkipStep):
            node = SkipNode(node, step.n)
        elif isinstance(step, ShuffleStep):
            seed = epoch_seed(step.seed, context.epoch)
            if context.worker is not None and transparent:  # each worker its own stream
                seed = epoch_seed(seed, context.worker[1] + 1)
            node = ShuffleNode(node, step.buffer_size, seed)
        elif isinstance(step, BatchStep) and step.by_column:
            if step.drop_last_batch:  # as datasets: the rows after the last full batch go
                node = RebatchNode(node, step.batch_size, True)
            node = GroupNode(node, step.by_column, implode)
        elif isinstance(step, BatchStep):
            node = RebatchNode(node, step.batch_size, step.drop_last_batch, implode)
        elif isinstance(step, RowsStep):
            node = RowsNode(node, step.transform)
        elif isinstance(step, RepeatStep):
            node = RepeatNode(node, step.times)
    if stepped is not None:
        node = StepNode(node, stepped[0], stepped[1])
    if context.worker is not None and not transparent:
        node = StepNode(node, context.worker[0], context.worker[1])
    context.pushed = pushed
    return node


class _FunctionRunner:
    """Runs a :class:`FunctionStep` on frames; the output schema comes from the first batch."""

    def __init__(self, step: FunctionStep) -> None:
        self.step = step
        self.call = FunctionCall(
            step.function,
            batched=step.batched,
            with_indices=step.with_indices,
            with_rank=step.with_rank,
            rank=step.rank,
            input_columns=list(step.input_columns) if step.input_columns else None,
            fn_kwargs=step.fn_kwargs,
            fmt=step.fmt,
            features=step.input_features or Features(),
            label=describe_function(step.kind, step.function),
        )
        self.builder = OutputBuilder(self.call, list(step.remove_columns))
        self.schema: pl.Schema | None = None
        self.out_features = Features()

    def _features_for(self, frame: pl.DataFrame) -> None:
        known = self.step.input_features or Features()
        if set(known) != set(frame.columns):
            self.call.features = with_found(frame, known, found_features(self.step.upstream))

    def map(self, frame: pl.DataFrame, offset: int) -> pl.DataFrame:
        if frame.height == 0 and self.schema is not None:
            return pl.DataFrame(schema=self.schema)
        self._features_for(frame)
        if self.step.batched:
            given, result = self.call.call_batch(frame, offset)
            columns = self.builder.from_batch(frame, offset, given, result)
        else:
            rows, results = self.call.call_rows(frame, offset)
            columns = self.builder.from_rows(frame, offset, rows, results)
        out = frame if columns is None else self.builder.merge(frame, offset, columns)
        if self.step.features is not None:
            return cast_lazyframe(out.lazy(), self.step.features).collect()
        if self.schema is None:
            if out.height == 0:
                return out
            self.schema, self.out_features = infer_output_schema(
                out, self.call.features, frame, json_features=self.builder.json
            )
            self.builder.output_features = self.out_features
            self.step.found.clear()
            self.step.found.update(decoded_features(self.out_features))
        return conform_batch(out, self.schema, self.out_features, self.call, offset, frame.height)

    def filter(self, frame: pl.DataFrame, offset: int) -> pl.DataFrame:
        if frame.height == 0:
            return frame
        self._features_for(frame)
        return frame.filter(filter_mask(self.call, frame, offset))


def function_node(upstream: Node, step: FunctionStep) -> Node:
    """The node running a Python ``map``/``filter`` step."""
    runner = _FunctionRunner(step)
    transform = runner.map if step.kind == "map" else runner.filter
    if not step.batched:
        return RowsNode(upstream, transform)
    size = batch_rows(True, step.batch_size)
    if size is None:  # one batch of the whole stream: nothing to drop
        return RebatchNode(upstream, WHOLE_STREAM, False, transform)
    drop_last = step.drop_last_batch if step.kind == "map" else False
    return RebatchNode(upstream, size, drop_last, transform)
