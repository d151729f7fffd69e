"""Units of work for streaming, and how they are divided between ranks and workers.

A :class:`Unit` is a piece of one file: all of it, some of its parquet row groups, a row
range, and optionally every ``step``-th row of those. Dividing a stream between ``n``
consumers picks, in order of preference:

1. whole units (files) per consumer, when there are at least as many units as consumers
   (``datasets``' rule: contiguous blocks of units, the first ones one unit longer, or every
   ``n``-th unit with ``contiguous=False``);
2. parquet row groups per consumer, under the same condition on the number of row groups;
3. rows: contiguous blocks of rows (``contiguous=True``, when the row counts can be known),
   else interleaved: consumer ``i`` keeps rows ``i, i + n, i + 2n, ...`` of every unit.

Every choice gives consumers that are pairwise disjoint and together cover every row.
(``split_dataset_by_node`` divides whole units only when their number divides evenly, and
otherwise steps through the whole stream: see :mod:`crucible_polars.streaming.pipeline`.)

Examples
--------
>>> units = [Unit(0), Unit(1), Unit(2)]
>>> [u.file for u in assign(units, ShardSpec(3, 1))]
[1]
>>> [[u.file for u in assign(units, ShardSpec(2, i))] for i in range(2)]
[[0, 1], [2]]
>>> [(u.file, u.step, u.offset) for u in assign(units, ShardSpec(4, 1, contiguous=False))]
[(0, 4, 1), (1, 4, 1), (2, 4, 1)]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

import polars as pl

T = TypeVar("T")


@dataclass(frozen=True)
class Unit:
    """A piece of one file to stream.

    ``row_groups``: the parquet row groups to read (``None``: all); ``start``/``stop``: the
    file rows to read; ``step``/``offset``: keep only the rows ``r`` (counted from
    ``start``) with ``r % step == offset``.
    """

    file: int
    row_groups: tuple[int, ...] | None = None
    start: int = 0
    stop: int | None = None
    step: int = 1
    offset: int = 0

    def interleave(self, frame: pl.DataFrame, first_row: int) -> pl.DataFrame:
        """Keep this unit's rows of ``frame``, whose first row is file row ``first_row``.

        Examples
        --------
        >>> Unit(0, step=2, offset=1).interleave(pl.DataFrame({"x": [0, 1, 2, 3]}), 0)["x"]
        shape: (2,)
        Series: 'x' [i64]
        [
                1
                3
        ]
        """
        if self.step == 1:
            return frame
        first = (self.offset - (first_row - self.start)) % self.step
        return frame.gather_every(self.step, first)

    def ranges(self, bounds: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        """The file rows this unit reads, as ``[start, end)`` ranges (before interleaving),
        given the file's row group ``bounds``.

        Examples
        --------
        >>> Unit(0, row_groups=(0, 2), start=3).ranges([(0, 4), (4, 8), (8, 12)])
        [(3, 4), (8, 12)]
        """
        groups = range(len(bounds)) if self.row_groups is None else self.row_groups
        stop = bounds[-1][1] if bounds else 0
        stop = stop if self.stop is None else min(stop, self.stop)
        out = []
        for rg in groups:
            lo, hi = max(bounds[rg][0], self.start), min(bounds[rg][1], stop)
            if hi > lo:
                out.append((lo, hi))
        return out

    def _kept(self, lo: int, hi: int) -> int:
        """How many rows of ``[lo, hi)`` the interleave keeps."""

        def below(row: int) -> int:  # kept rows in [start, row)
            return max(0, (row - self.start - self.offset + self.step - 1) // self.step)

        return below(hi) - below(lo)

    def count(self, bounds: Sequence[tuple[int, int]]) -> int:
        """Rows this unit yields.

        Examples
        --------
        >>> Unit(0, step=2, offset=1).count([(0, 4), (4, 9)])
        4
        """
        return sum(self._kept(lo, hi) for lo, hi in self.ranges(bounds))

    def row_after(self, bounds: Sequence[tuple[int, int]], n: int) -> int:
        """The file row to resume at after yielding ``n`` of this unit's rows.

        Examples
        --------
        >>> Unit(0, row_groups=(1,)).row_after([(0, 4), (4, 8)], 2)
        6
        >>> Unit(0, step=3).row_after([(0, 10)], 2)
        6
        """
        for lo, hi in self.ranges(bounds):
            kept = self._kept(lo, hi)
            if n < kept:
                first = lo + (self.offset - (lo - self.start)) % self.step
                return first + n * self.step
            n -= kept
        return bounds[-1][1] if bounds else 0


@dataclass(frozen=True)
class ShardSpec:
    """One division of the stream: keep part ``index`` of ``num_shards``."""

    num_shards: int
    index: int
    contiguous: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.num_shards, int) or self.num_shards < 1:
            raise ValueError(f"num_shards must be a positive integer, got {self.num_shards!r}.")
        if not 0 <= self.index < self.num_shards:
            raise ValueError(
                f"Shard index {self.index} is out of range: with num_shards={self.num_shards}, "
                f"index should be in [0, {self.num_shards - 1}]."
            )


def _pick(items: Sequence[T], n: int, i: int, contiguous: bool) -> list[T]:
    if not contiguous:
        return list(items[i::n])
    div, mod = divmod(len(items), n)
    start = div * i + min(i, mod)
    return list(items[start : start + div + (1 if i < mod else 0)])


def _row_blocks(
    units: Sequence[Unit], counts: Sequence[int], num_shards: int, index: int
) -> list[Unit]:
    """Contiguous block ``index`` of ``num_shards`` of the rows of ``units``."""
    div, mod = divmod(sum(counts), num_shards)
    start = div * index + min(index, mod)
    return slice_units(units, counts, start, start + div + (1 if index < mod else 0))


def assign(
    units: Sequence[Unit],
    spec: ShardSpec,
    *,
    split_row_groups: Callable[[Sequence[Unit]], list[Unit] | None] | None = None,
    unit_rows: Callable[[Sequence[Unit]], list[int] | None] | None = None,
) -> list[Unit]:
    """The units of part ``spec.index`` of ``spec.num_shards`` (see the module docstring).

    ``split_row_groups`` turns units into one unit per parquet row group (``None`` when the
    format has no row groups); ``unit_rows`` gives the row count of each unit (``None`` when
    not known); they are called only if there are fewer whole units than parts.

    Examples
    --------
    >>> [u.file for u in assign([Unit(0), Unit(1), Unit(2), Unit(3)], ShardSpec(2, 0))]
    [0, 1]
    >>> [(u.start, u.stop) for u in assign([Unit(0)], ShardSpec(2, 1), unit_rows=lambda u: [5])]
    [(3, 5)]
    """
    num_shards, index = spec.num_shards, spec.index
    if num_shards == 1:
        return list(units)
    if len(units) >= num_shards:
        return _pick(units, num_shards, index, spec.contiguous)
    if split_row_groups is not None:
        pieces = split_row_groups(units)
        if pieces is not None and len(pieces) >= num_shards:
            return _pick(pieces, num_shards, index, spec.contiguous)
    if spec.contiguous and unit_rows is not None:
        counts = unit_rows(units)
        if counts is not None:
            return _row_blocks(units, counts, num_shards, index)
    return [replace(u, step=u.step * num_shards, offset=u.offset + u.step * index) for u in units]


def shard_count(count: int, spec: ShardSpec) -> int:
    """The number of shards left in part ``spec.index`` of ``count`` shards (``1`` when there
    were fewer shards than parts: the part is then made of row groups or rows).

    Examples
    --------
    >>> [shard_count(5, ShardSpec(3, i)) for i in range(3)], shard_count(2, ShardSpec(3, 0))
    ([2, 2, 1], 1)
    """
    if count < spec.num_shards:
        return 1
    return len(_pick(range(count), spec.num_shards, spec.index, spec.contiguous))


def row_group_units(unit: Unit, bounds: Sequence[tuple[int, int]]) -> list[Unit]:
    """One unit per row group of ``unit`` that holds rows of its range.

    Examples
    --------
    >>> [u.row_groups for u in row_group_units(Unit(0, start=5), [(0, 4), (4, 8), (8, 12)])]
    [(1,), (2,)]
    """
    if unit.step != 1:
        return [unit]
    groups = range(len(bounds)) if unit.row_groups is None else unit.row_groups
    stop = unit.stop if unit.stop is not None else bounds[-1][1] if bounds else 0
    return [
        replace(unit, row_groups=(rg,))
        for rg in groups
        if bounds[rg][1] > unit.start and bounds[rg][0] < stop
    ]


def slice_units(units: Sequence[Unit], counts: Sequence[int], start: int, stop: int) -> list[Unit]:
    """Units holding rows ``[start, stop)`` of the concatenation of ``units`` (whole files,
    whose row counts are ``counts``).

    Examples
    --------
    >>> [(u.file, u.start, u.stop) for u in slice_units([Unit(0), Unit(1)], [10, 10], 5, 15)]
    [(0, 5, 10), (1, 0, 5)]
    """
    out: list[Unit] = []
    first = 0
    for unit, count in zip(units, counts, strict=True):
        lo, hi = max(start - first, 0), min(stop - first, count)
        if hi > lo:
            out.append(replace(unit, start=unit.start + lo, stop=unit.start + hi))
        first += count
    return out
