"""The row transforms of :class:`~crucible_polars.IterableDataset`: take, skip, shuffle,
repeat, batch and shard.

Each returns a new dataset with one more step of the pipeline; nothing is read.

Examples
--------
>>> import crucible_polars as cp
>>> ds = cp.Dataset.from_dict({"a": list(range(6))}).to_iterable_dataset()
>>> [r["a"] for r in ds.skip(1).take(4).batch(2)]
[[1, 2], [3, 4]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from crucible_polars.features import Features, List
from crucible_polars.streaming.pipeline import (
    BatchStep,
    RepeatStep,
    ShardStep,
    ShuffleStep,
    SkipStep,
    Step,
    TakeStep,
)

if TYPE_CHECKING:
    import numpy as np

    from crucible_polars.streaming.iterable import IterableDataset


class RowTransforms:
    """Mixin with the row transforms of :class:`~crucible_polars.IterableDataset`."""

    _features: Features | None

    def _derive(
        self, step: Step | None = None, features: Any = "same", **changes: Any
    ) -> IterableDataset:
        """A new dataset with ``step`` appended (defined by the dataset class)."""
        raise NotImplementedError

    def take(self, n: int) -> IterableDataset:
        """Only the first ``n`` rows (or batches, after :meth:`batch`).

        Parameters
        ----------
        n
            How many rows (or batches).

        Examples
        --------
        >>> import crucible_polars as cp
        >>> list(cp.Dataset.from_dict({"a": [1, 2, 3]}).to_iterable_dataset().take(2))
        [{'a': 1}, {'a': 2}]
        """
        if int(n) < 0:
            raise ValueError(f"take(n) needs n >= 0, got {n}.")
        return self._derive(TakeStep(int(n)))

    def skip(self, n: int) -> IterableDataset:
        """Every row after the first ``n`` (or batches, after :meth:`batch`).

        Parameters
        ----------
        n
            How many rows (or batches) to skip.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> list(cp.Dataset.from_dict({"a": [1, 2, 3]}).to_iterable_dataset().skip(2))
        [{'a': 3}]
        """
        if int(n) < 0:
            raise ValueError(f"skip(n) needs n >= 0, got {n}.")
        return self._derive(SkipStep(int(n)))

    def shuffle(
        self,
        seed: int | None = None,
        generator: np.random.Generator | None = None,
        buffer_size: int = 1000,
        max_buffer_input_shards: int | None = None,
    ) -> IterableDataset:
        """Shuffle the order of the files (or row groups) and the rows, through a buffer.

        As in ``datasets``: the shards are read in a seeded random order, and rows go
        through a buffer of ``buffer_size`` rows; when it is full it is permuted, half is
        yielded and half kept. :meth:`set_epoch` changes both, deterministically. Resuming
        from :meth:`state_dict` restores the buffer exactly (by re-reading its rows).

        Parameters
        ----------
        seed
            The seed of the shard order and the buffer's permutations.
        generator
            A NumPy generator to draw the seed from when ``seed`` is ``None``.
        buffer_size
            Rows in the shuffle buffer.
        max_buffer_input_shards
            How many shards fill the buffer at a time: the buffer is filled from one shard
            at a time (``1``); other values raise ``NotImplementedError`` (``datasets``
            interleaves up to 10 by default).

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": list(range(10))}).to_iterable_dataset()
        >>> rows = [r["a"] for r in ds.shuffle(seed=0, buffer_size=4)]
        >>> sorted(rows) == list(range(10)), rows == list(range(10))
        (True, False)
        """
        if max_buffer_input_shards is not None and int(max_buffer_input_shards) != 1:
            raise NotImplementedError(
                f"shuffle(max_buffer_input_shards={max_buffer_input_shards}): the buffer is "
                "filled from one shard at a time; pass max_buffer_input_shards=1 or leave it "
                "out (datasets interleaves several shards; the rows are the same, their order "
                "differs)."
            )
        if seed is None:
            if generator is not None:
                seed = int(generator.integers(0, 1 << 63))
            else:
                from crucible_polars.ops.sampling import draw_seed

                seed = draw_seed()
        if int(buffer_size) < 1:
            raise ValueError(f"buffer_size must be a positive integer, got {buffer_size}.")
        return self._derive(ShuffleStep(int(seed), int(buffer_size)))

    def repeat(self, num_times: int | None) -> IterableDataset:
        """The stream ``num_times`` times over (``None``: forever), as in ``datasets``.

        Parameters
        ----------
        num_times
            How many passes over the stream; ``None`` repeats forever.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": [1, 2]}).to_iterable_dataset()
        >>> [r["a"] for r in ds.repeat(2)], [r["a"] for r in ds.repeat(None).take(5)]
        ([1, 2, 1, 2], [1, 2, 1, 2, 1])
        """
        if num_times is not None and int(num_times) < 0:
            raise ValueError(f"repeat(num_times) needs num_times >= 0 or None, got {num_times}.")
        return self._derive(RepeatStep(None if num_times is None else int(num_times)))

    def batch(
        self,
        batch_size: int | None = None,
        by_column: str | Sequence[str] | None = None,
        drop_last_batch: bool = False,
    ) -> IterableDataset:
        """Group rows into batches of ``batch_size``: as in ``datasets``, each batch becomes
        one row whose values are lists (``{column: list}``), so ``take``, ``skip``,
        ``shuffle``, ``map``, ``filter`` and ``batch`` after it count and see batches.

        Parameters
        ----------
        batch_size
            Rows per batch (with ``by_column``: the rows read at a time, 1000 if ``None``).
        by_column
            Batch runs of successive rows with equal values in this column (or columns)
            instead, whatever their length, as ``datasets`` does.
        drop_last_batch
            Drop a last batch shorter than ``batch_size`` (with ``by_column``: drop the rows
            after the last ``batch_size`` ones read, as ``datasets`` does).

        Examples
        --------
        >>> import crucible_polars as cp
        >>> list(cp.Dataset.from_dict({"a": [1, 2, 3]}).to_iterable_dataset().batch(2))
        [{'a': [1, 2]}, {'a': [3]}]
        >>> ds = cp.Dataset.from_dict({"k": [1, 1, 2], "v": [0, 1, 2]}).to_iterable_dataset()
        >>> list(ds.batch(by_column="k"))
        [{'k': [1, 1], 'v': [0, 1]}, {'k': [2], 'v': [2]}]
        """
        if batch_size is None and by_column is None:
            raise ValueError("IterableDataset.batch() misses `batch_size` or `by_column` argument.")
        size = 1000 if batch_size is None else int(batch_size)
        if size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}.")
        columns: tuple[str, ...] = ()
        if by_column is not None:
            columns = (by_column,) if isinstance(by_column, str) else tuple(by_column)
            known = self._features
            unknown = [c for c in columns if known is not None and c not in known]
            if unknown or not columns:
                raise ValueError(
                    f"batch(by_column={by_column!r}): no such column; the columns are "
                    f"{list(known or {})}."
                )
        features = None
        if self._features is not None:
            features = Features({k: List(v) for k, v in self._features.items()})
        return self._derive(BatchStep(size, bool(drop_last_batch), columns), features)

    def shard(self, num_shards: int, index: int, contiguous: bool = True) -> IterableDataset:
        """Part ``index`` of ``num_shards`` disjoint parts that together hold every row.

        As in ``datasets``, each part is made of whole files (shards): with
        ``contiguous=True`` a block of consecutive files, the first ``num_shards % n`` parts
        one file longer; with ``contiguous=False`` every ``num_shards``-th file. With fewer
        files than parts (where ``datasets`` fails), parquet row groups are divided the same
        way, else rows: contiguous blocks of rows, or every ``num_shards``-th row.

        Parameters
        ----------
        num_shards
            How many parts.
        index
            Which part to return.
        contiguous
            Blocks of consecutive files (``True``) or every ``num_shards``-th file.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": list(range(5))}).to_iterable_dataset()
        >>> [r["a"] for r in ds.shard(2, 1)], [r["a"] for r in ds.shard(2, 1, contiguous=False)]
        ([3, 4], [1, 3])
        """
        from crucible_polars.streaming.sharding import ShardSpec

        ShardSpec(num_shards, index, contiguous)  # validates
        return self._derive(ShardStep(int(num_shards), int(index), bool(contiguous)))
