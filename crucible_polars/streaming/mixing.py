"""Several streams as one: ``concatenate_datasets`` and ``interleave_datasets`` of
:class:`~crucible_polars.IterableDataset`\\ s, in ``datasets``' exact order, resumable.

A :class:`MixedSource` heads the pipeline of the combined dataset instead of files: each
iteration builds the pipeline of every input (in the combined dataset's epoch) and joins
them. :class:`ConcatNode` reads the inputs one after the other. :class:`InterleaveNode`
picks the input of each next row as ``datasets`` does: cycling through them, or drawing
``np.random.default_rng(seed).choice(n, size=1000, p=probabilities)`` block after block;
an input is *exhausted* as soon as its last row is taken (``datasets`` looks one row
ahead), and then the stopping strategy ends the stream (``first_exhausted``), restarts the
input (``all_exhausted``, until every input was exhausted once) or skips it
(``all_exhausted_without_replacement``). The state after every row is the cursor of every
input, which inputs were exhausted, and where the draws are, so ``state_dict()`` resumes
exactly.

Examples
--------
>>> import crucible_polars as cp
>>> a = cp.Dataset.from_dict({"x": [0, 1, 2]}).to_iterable_dataset()
>>> b = cp.Dataset.from_dict({"x": [10, 11]}).to_iterable_dataset()
>>> [r["x"] for r in interleave_iterable([a, b])]
[0, 10, 1, 11]
>>> [r["x"] for r in interleave_iterable([a, b], stopping_strategy="all_exhausted")]
[0, 10, 1, 11, 2]
>>> [r["x"] for r in concatenate_iterable([a, b])]
[0, 1, 2, 10, 11]
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from crucible_polars.features import Features
from crucible_polars.info import DatasetInfo
from crucible_polars.ops.combine import align_features, with_columns_of
from crucible_polars.ops.interleave import STOPPING_STRATEGIES, check_probabilities
from crucible_polars.ops.sampling import draw_seed
from crucible_polars.streaming.horizontal import HorizontalNode, check_unique_columns
from crucible_polars.streaming.iterable import IterableDataset
from crucible_polars.streaming.nodes import Node, concat, cursor_at, cursor_rows, rng_from_state
from crucible_polars.streaming.pipeline import BuildContext, Step, build, epoch_seed

State = Any
OUT_ROWS = 1_000
"""Rows of an interleaved stream gathered into one frame."""
_BLOCK = 1_000  # datasets draws the sources 1000 at a time


@dataclass(frozen=True)
class _Input:
    """One input stream: what it reads and its steps (the dataset's pipeline)."""

    source: Any
    steps: tuple[Step, ...]
    signature: str


@dataclass(frozen=True)
class MixedSource:
    """The head of a combined stream: its inputs and how they are joined.

    ``kind`` is ``"concatenate"``, ``"horizontal"`` (``axis=1``) or ``"interleave"``;
    ``features`` the aligned Features (``None`` when an input's are unknown).
    """

    kind: str
    inputs: tuple[_Input, ...]
    features: Features | None
    probabilities: tuple[float, ...] | None = None
    seed: int | None = None
    stopping_strategy: str = "first_exhausted"

    @property
    def format(self) -> str:
        """The signature of the inputs, recorded in states (like a file format and count)."""
        return f"{self.kind}({'|'.join(i.signature for i in self.inputs)})"

    @property
    def files(self) -> tuple[str, ...]:
        """One name per input."""
        return tuple(i.signature for i in self.inputs)

    @property
    def num_shards(self) -> int:
        """As ``datasets`` counts them: the sum (concatenate), one (side by side: its inputs
        are read in step, never divided) or the least (interleave)."""
        if self.kind == "horizontal":
            return 1
        counts = [IterableDataset(i.source, None, steps=i.steps).num_shards for i in self.inputs]
        return sum(counts) if self.kind == "concatenate" else min(counts)

    def node(self, epoch: int) -> Node:
        """The joined nodes of every input, for one iteration in ``epoch``."""
        nodes = [build(i.source, i.steps, BuildContext(epoch)) for i in self.inputs]
        if self.kind == "concatenate":
            return ConcatNode(nodes, self.features)
        if self.kind == "horizontal":
            return HorizontalNode(nodes, self.features)
        seed = None if self.seed is None else epoch_seed(self.seed, epoch)
        return InterleaveNode(
            nodes, self.features, self.probabilities, seed, self.stopping_strategy
        )


def _aligned(frame: pl.DataFrame, features: Features | None) -> pl.DataFrame:
    if features is None or (list(features) == frame.columns and frame.height == 0):
        return frame
    return with_columns_of(frame.lazy(), features).collect()


class ConcatNode:
    """The inputs one after the other; the state is ``{"input": k, "up": state of input k}``."""

    def __init__(self, inputs: Sequence[Node], features: Features | None) -> None:
        self.inputs = list(inputs)
        self.features = features

    def frames(self, state: State) -> Iterator[tuple[pl.DataFrame, State]]:
        """Frames from ``state``."""
        first = int(state["input"]) if state else 0
        for k in range(first, len(self.inputs)):
            up = state["up"] if state and k == first else None
            for frame, after in self.inputs[k].frames(up):
                yield _aligned(frame, self.features), {"input": k, "up": after}


class _Reader:
    """One input of an interleave: the frame being taken from, a row at a time."""

    def __init__(self, node: Node, cursor: dict[str, Any] | None) -> None:
        self.node = node
        self.open(cursor)

    def open(self, cursor: dict[str, Any] | None) -> None:
        self.rows = cursor_rows(self.node, cursor)
        self.last: State = cursor["state"] if cursor else None
        self.frame: pl.DataFrame | None = None
        self.fill()

    def fill(self) -> None:
        self.frame = None
        for frame, before, skipped, after in self.rows:
            self.last = after
            if frame.height:
                self.frame, self.used = frame, 0
                self.before, self.skipped, self.after = before, skipped, after
                return

    def take(self) -> pl.DataFrame | None:
        """The next row (``None`` at the end); reads ahead to know whether it was the last."""
        if self.frame is None:
            return None
        row = self.frame.slice(self.used, 1)
        self.used += 1
        if self.used == self.frame.height:
            self.fill()
        return row

    def cursor(self) -> dict[str, Any]:
        """The cursor of the next row."""
        if self.frame is None:
            return {"state": self.last, "skip": 0}
        return cursor_at(self.before, self.skipped, self.used, self.frame.height, self.after)


class _Picker:
    """The input of each next row: cycling, or drawn in blocks of 1000 with probabilities."""

    def __init__(
        self, count: int, probabilities: Sequence[float] | None, seed: int | None, state: State
    ) -> None:
        self.count = count
        self.probabilities = None if probabilities is None else np.asarray(probabilities)
        if self.probabilities is None:
            self.index = int(state["index"]) if state else 0
            return
        self.rng = rng_from_state(state["rng"]) if state else np.random.default_rng(seed)
        self.offset = int(state["offset"]) if state else _BLOCK
        self.block_state = copy.deepcopy(self.rng.bit_generator.state)
        self.block: np.ndarray | None = None
        if state and self.offset < _BLOCK:
            self._draw()

    def _draw(self) -> None:
        self.block_state = copy.deepcopy(self.rng.bit_generator.state)
        self.block = self.rng.choice(self.count, size=_BLOCK, p=self.probabilities)

    def next(self) -> int:
        if self.probabilities is None:
            index = self.index
            self.index = (index + 1) % self.count
            return index
        if self.block is None or self.offset >= _BLOCK:
            self._draw()
            self.offset = 0
        assert self.block is not None
        self.offset += 1
        return int(self.block[self.offset - 1])

    def state(self) -> dict[str, Any]:
        if self.probabilities is None:
            return {"index": self.index}
        if self.block is None or self.offset >= _BLOCK:  # the next draw starts a new block
            return {"rng": copy.deepcopy(self.rng.bit_generator.state), "offset": _BLOCK}
        return {"rng": copy.deepcopy(self.block_state), "offset": self.offset}


class InterleaveNode:
    """Rows of the inputs interleaved (see the module docstring)."""

    def __init__(
        self,
        inputs: Sequence[Node],
        features: Features | None,
        probabilities: Sequence[float] | None,
        seed: int | None,
        stopping_strategy: str,
    ) -> None:
        self.inputs = list(inputs)
        self.features = features
        self.probabilities = probabilities
        self.seed = seed
        self.strategy = stopping_strategy

    def frames(self, state: State) -> Iterator[tuple[pl.DataFrame, State]]:
        """Frames of up to :data:`OUT_ROWS` rows from ``state``."""
        if state is not None and state.get("done"):
            return
        cursors = state["inputs"] if state else [None] * len(self.inputs)
        readers = [_Reader(node, c) for node, c in zip(self.inputs, cursors, strict=True)]
        exhausted = list(state["exhausted"]) if state else [False] * len(self.inputs)
        picker = _Picker(len(readers), self.probabilities, self.seed, state and state["picker"])
        stop = all if self.strategy != "first_exhausted" else any
        without_replacement = self.strategy == "all_exhausted_without_replacement"
        rows: list[pl.DataFrame] = []
        while True:
            i = picker.next()
            if stop(exhausted):
                break
            if exhausted[i] and without_replacement:
                continue
            row = readers[i].take()
            if readers[i].frame is None:  # that was its last row
                exhausted[i] = True
                if not without_replacement:
                    readers[i].open(None)
            if row is not None:
                rows.append(_aligned(row, self.features))
            if len(rows) == OUT_ROWS:
                yield concat(rows), self._state(readers, exhausted, picker)
                rows = []
        if rows:
            yield concat(rows), {"done": True}

    @staticmethod
    def _state(readers: list[_Reader], exhausted: list[bool], picker: _Picker) -> State:
        return {
            "inputs": [r.cursor() for r in readers],
            "exhausted": list(exhausted),
            "picker": picker.state(),
        }


def _inputs(datasets: Sequence[IterableDataset]) -> tuple[_Input, ...]:
    return tuple(_Input(ds._source, ds._steps, ds._signature()) for ds in datasets)


def _features(datasets: Sequence[IterableDataset]) -> Features | None:
    known = [ds.features for ds in datasets]
    if any(f is None for f in known):
        return None
    return align_features([f for f in known if f is not None])


def _check(datasets: Sequence[object], what: str) -> list[IterableDataset]:
    if not datasets:
        raise ValueError(f"Unable to {what} an empty list of datasets.")
    for position, ds in enumerate(datasets):
        if not isinstance(ds, IterableDataset):
            raise ValueError(
                f"Unable to {what} a mix of Dataset and IterableDataset objects: element "
                f"{position} is a {type(ds).__name__}. Convert the Datasets with "
                "to_iterable_dataset() first."
            )
    return list(datasets)  # type: ignore[arg-type]


def concatenate_iterable(
    datasets: Sequence[IterableDataset],
    axis: int = 0,
    *,
    info: DatasetInfo | None = None,
    split: str | None = None,
) -> IterableDataset:
    """The rows of every stream, one stream after the other (``axis=0``), or their columns
    side by side (``axis=1``), as ``concatenate_datasets`` joins streams.

    Side by side, row ``i`` holds row ``i`` of every stream; a stream that ends first leaves
    its columns null (see :mod:`crucible_polars.streaming.horizontal`).

    Parameters
    ----------
    datasets
        The streams; their Features are aligned as ``datasets`` aligns them.
    axis
        ``0``: rows; ``1``: columns.
    info, split
        Info and split name of the result (default: the first stream's).

    Raises
    ------
    DuplicateColumnError
        ``axis=1`` with a column name in two streams.

    Examples
    --------
    >>> import crucible_polars as cp
    >>> a = cp.Dataset.from_dict({"x": [1]}).to_iterable_dataset()
    >>> b = cp.Dataset.from_dict({"y": ["b"]}).to_iterable_dataset()
    >>> list(concatenate_iterable([a, b]))
    [{'x': 1, 'y': None}, {'x': None, 'y': 'b'}]
    >>> list(concatenate_iterable([a, b], axis=1))
    [{'x': 1, 'y': 'b'}]
    """
    if axis not in (0, 1):
        raise ValueError(f"axis must be 0 or 1, got {axis}.")
    streams = _check(datasets, "concatenate")
    if axis == 0:
        features = _features(streams)
        source = MixedSource("concatenate", _inputs(streams), features)
    else:
        known = [ds.features for ds in streams]
        features = None
        if all(f is not None for f in known):
            check_unique_columns([name for f in known if f is not None for name in f])
            features = Features({k: v for f in known if f is not None for k, v in f.items()})
        source = MixedSource("horizontal", _inputs(streams), features)
    formats = {
        (ds._format, None if ds._format_columns is None or axis else tuple(ds._format_columns))
        for ds in streams
    }
    fmt, columns = formats.pop() if len(formats) == 1 else ("python", None)
    return IterableDataset(
        source,
        features,
        info=info if info is not None else streams[0].info,
        split=split if split is not None else streams[0].split,
        format=fmt,
        format_columns=columns,
    )


def interleave_iterable(
    datasets: Sequence[IterableDataset],
    probabilities: Sequence[float] | None = None,
    seed: int | None = None,
    stopping_strategy: str = "first_exhausted",
    *,
    info: DatasetInfo | None = None,
    split: str | None = None,
) -> IterableDataset:
    """The rows of several streams interleaved, in ``datasets``' order for a seed.

    Parameters
    ----------
    datasets
        The streams; their Features are aligned as ``datasets`` aligns them.
    probabilities
        Draw the input of each next row with these probabilities; ``None`` cycles.
    seed
        Seed of the draws (``None``: a fresh one, fixed for the dataset, so that its
        iterations repeat and resume).
    stopping_strategy
        ``"first_exhausted"``, ``"all_exhausted"`` or ``"all_exhausted_without_replacement"``.
    info, split
        Info and split name of the result (default: the first stream's).

    Raises
    ------
    ValueError
        No streams, an unknown strategy, or probabilities that are not one per stream or do
        not sum to 1.

    Examples
    --------
    >>> import crucible_polars as cp
    >>> streams = [
    ...     cp.Dataset.from_dict({"a": [10 * i, 10 * i + 1, 10 * i + 2]}).to_iterable_dataset()
    ...     for i in range(3)
    ... ]
    >>> [r["a"] for r in interleave_iterable(streams, [0.7, 0.2, 0.1], seed=42)]
    [10, 0, 11, 1, 2]
    """
    streams = _check(datasets, "interleave")
    if stopping_strategy not in STOPPING_STRATEGIES:
        raise ValueError(
            f"{stopping_strategy!r} is not a stopping strategy: use one of {STOPPING_STRATEGIES}."
        )
    probs = None
    if probabilities is not None:
        probs = tuple(float(p) for p in check_probabilities(probabilities, len(streams)))
        if seed is None:
            seed = draw_seed()
    features = _features(streams)
    source = MixedSource("interleave", _inputs(streams), features, probs, seed, stopping_strategy)
    return IterableDataset(
        source,
        features,
        info=info if info is not None else streams[0].info,
        split=split if split is not None else streams[0].split,
    )
