"""The work of one ``map``/``filter`` on a group of batches, as a picklable object.

A job holds everything a batch needs (the :class:`~crucible_polars.udf.call.FunctionCall`,
how outputs are typed) and nothing of the input plan, so the same job runs in this process
or travels to a worker process (``num_proc``, :mod:`crucible_polars.udf.parallel`).
``job(group, offset, wanted, rank)`` cuts the group into batches of ``batch_size`` rows
(a group is whole batches, so the batches are those of ``num_proc=1``), runs each and
returns their outputs joined.

Examples
--------
>>> import polars as pl
>>> from crucible_polars.udf.call import FunctionCall
>>> job = FilterJob(FunctionCall(lambda b: [x > 1 for x in b["a"]], batched=True), 2)
>>> job(pl.DataFrame({"a": [1, 2, 3]}), 0, None)["a"].to_list()
[2, 3]
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import polars as pl

from crucible_polars.features import Features, cast_lazyframe
from crucible_polars.udf.call import FunctionCall, LazyBatch
from crucible_polars.udf.outputs import OutputBuilder, WholeTable, conform_batch, filter_mask

Fetch = Callable[[str, int, int], pl.Series]
"""``fetch(column, first_row, rows)``: read an input column the batch left out."""

KEEP = "__keep__"
"""The column of a slim filter job's answer: which rows of the group to keep."""


class BatchJob(Protocol):
    """What a job is: run on a group (anywhere), then finished where the group was read.

    With ``slim`` set (in worker processes), a job answers only what the group does not
    already hold (a ``map``'s new columns, a ``filter``'s mask), and :meth:`finish`, run in
    the process that read the group, completes the output: less data sent back.
    """

    slim: bool

    def __call__(
        self, group: pl.DataFrame, offset: int, wanted: list[str] | None, rank: int | None = None
    ) -> pl.DataFrame: ...

    def finish(
        self, group: pl.DataFrame, answer: pl.DataFrame, wanted: list[str] | None
    ) -> pl.DataFrame: ...

    def slimmed(self) -> BatchJob: ...


def _with_rank(call: FunctionCall, rank: int | None) -> FunctionCall:
    if rank is None or not call.with_rank or call.rank == rank:
        return call
    ranked = copy.copy(call)
    ranked.rank = rank
    return ranked


def _groups(group: pl.DataFrame, batch_size: int) -> list[tuple[pl.DataFrame, int]]:
    """The batches of a group and their positions in it (one empty batch if it is empty)."""
    starts = range(0, group.height, batch_size) if group.height else range(1)
    return [(group.slice(start, batch_size), start) for start in starts]


@dataclass
class FilterJob:
    """A ``filter`` function over a group of batches (keeps the rows it answers true for).

    Parameters
    ----------
    call
        The function's call.
    batch_size
        Rows per call.
    """

    call: FunctionCall
    batch_size: int
    slim: bool = False

    def __call__(
        self, group: pl.DataFrame, offset: int, wanted: list[str] | None, rank: int | None = None
    ) -> pl.DataFrame:
        call = _with_rank(self.call, rank)
        batches = _groups(group, self.batch_size)
        masks = [filter_mask(call, batch, offset + start) for batch, start in batches]
        mask = pl.concat(masks) if len(masks) > 1 else masks[0]
        return pl.DataFrame({KEEP: mask}) if self.slim else group.filter(mask)

    def slimmed(self) -> FilterJob:
        """This job answering the mask only (for worker processes)."""
        return replace(self, slim=True)

    def finish(
        self, group: pl.DataFrame, answer: pl.DataFrame, wanted: list[str] | None
    ) -> pl.DataFrame:
        """The kept rows of ``group`` (a slim job answered the mask only)."""
        return group.filter(answer[KEEP]) if self.slim else answer


@dataclass
class MapJob:
    """A ``map`` function over a group of batches, outputs typed and checked.

    Parameters
    ----------
    call, builder
        The function's call, and how its outputs become columns.
    batch_size
        Rows per call (one row per call of a row-wise function, in chunks of this size).
    schema, features
        The output schema and Features: from ``features=`` (``given``) or from the first
        batch's output.
    given
        ``features=`` was given: cast every batch to them.
    passthrough
        Input columns the output keeps unchanged (a query reading only these, on a map that
        keeps the rows, does not call the function).
    keeps_rows
        The map keeps the number of rows (row-wise, or input columns kept).
    """

    call: FunctionCall
    builder: OutputBuilder
    batch_size: int
    schema: pl.Schema
    features: Features
    given: bool = False
    passthrough: list[str] = field(default_factory=list)
    keeps_rows: bool = True
    columns: list[str] | None = None
    fetch: Fetch | None = None
    read_by_function: set[str] | None = None
    slim: bool = False

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["fetch"] = None  # reads from the input plan: this process only
        return state

    def unchanged(self, wanted: list[str] | None) -> bool:
        """Whether a query for ``wanted`` reads only columns that pass through unchanged."""
        return self.keeps_rows and bool(wanted) and all(c in self.passthrough for c in wanted or ())

    def outputs_of(
        self, call: FunctionCall, frame: pl.DataFrame, offset: int
    ) -> dict[str, pl.Series] | None:
        """The function's output columns for one batch (``None``: it returned nothing)."""
        if not call.batched:
            rows, results = call.call_rows(frame, offset)
            return self.builder.from_rows(frame, offset, rows, results)
        columns, fetch = None, None
        projected = self.columns is not None and frame.columns != self.columns
        if projected and call.input_columns is None and self.fetch is not None:
            read = self.fetch

            def fetch(key: str, start: int = offset, n: int = frame.height) -> pl.Series:
                return read(key, start, n)

            columns = self.columns
        given, result = call.call_batch(frame, offset, columns, fetch)
        if self.read_by_function is None and isinstance(given, LazyBatch):
            self.read_by_function = set(given.converted)
        return self.builder.from_batch(frame, offset, given, result)

    def batch(
        self, call: FunctionCall, frame: pl.DataFrame, offset: int, wanted: list[str] | None
    ) -> pl.DataFrame:
        """One batch's output frame."""
        height = frame.height
        if self.given:
            produced = self.outputs_of(call, frame, offset)
            out = frame if produced is None else self.builder.merge(frame, offset, produced)
            if set(out.columns) != set(self.schema.names()):
                raise call.error(
                    offset,
                    height,
                    f"the output columns {out.columns} do not match the features= columns "
                    f"{self.schema.names()}",
                )
            return cast_lazyframe(out.lazy(), self.features).collect()
        if self.unchanged(wanted):
            return conform_batch(frame, self.schema, self.features, call, offset, height, wanted)
        produced = self.outputs_of(call, frame, offset)
        if produced is None:
            reason = "the function returned None, but a dict for the first batch"
            raise call.error(offset, height, reason)
        keeps = bool(self.passthrough) and not isinstance(produced, WholeTable)
        out = self.builder.merge(frame, offset, produced, keeps_inputs=keeps)
        return conform_batch(out, self.schema, self.features, call, offset, height, wanted)

    def __call__(
        self, group: pl.DataFrame, offset: int, wanted: list[str] | None, rank: int | None = None
    ) -> pl.DataFrame:
        call = _with_rank(self.call, rank)
        outs = [
            self.batch(call, batch, offset + start, wanted)
            for batch, start in _groups(group, self.batch_size)
        ]
        out = pl.concat(outs) if len(outs) > 1 else outs[0]
        return out.drop(self._rejoined(out.columns)) if self.slim else out

    def _rejoined(self, columns: list[str]) -> list[str]:
        """The output columns a slim answer leaves out: input columns passed through."""
        return [c for c in self.passthrough if c in columns] if self.keeps_rows else []

    def slimmed(self) -> MapJob:
        """This job answering without the passed-through columns (for worker processes)."""
        return replace(self, slim=True)

    def finish(
        self, group: pl.DataFrame, answer: pl.DataFrame, wanted: list[str] | None
    ) -> pl.DataFrame:
        """The output of ``group``: a slim answer completed with the passed-through columns."""
        if not self.slim:
            return answer
        order = list(wanted) if wanted is not None else self.schema.names()
        kept = self._rejoined(order)
        if not kept:
            return answer
        inputs = group.select(kept).cast({c: self.schema[c] for c in kept})
        return inputs.hstack(answer.get_columns()).select(order)
