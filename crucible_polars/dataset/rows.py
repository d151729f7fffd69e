"""The row-position methods of :class:`~crucible_polars.Dataset`: select, take, skip, repeat,
shuffle, shard, train_test_split, batch, and materializing the rows (``cache``,
``flatten_indices``).

Each is a thin call into :mod:`crucible_polars.ops.sampling` (over the dataset's
:class:`~crucible_polars.plan.Plan`), so row choices stay in the plan and compose: a
``shuffle(seed).select(range(k))`` gathers ``k`` rows once.

Examples
--------
>>> from crucible_polars import Dataset
>>> Dataset.from_dict({"x": list(range(6))}).shuffle(seed=42).select(range(3))["x"]
[3, 2, 5]
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from crucible_polars import writers
from crucible_polars.dataset.options import check as cache_options
from crucible_polars.dataset.state import DatasetState
from crucible_polars.dataset_dict import DatasetDict
from crucible_polars.features import Features, List
from crucible_polars.materialize import materialize
from crucible_polars.ops import combine, sampling
from crucible_polars.streaming import IterableDataset, iterable_from_dataset_plan

if TYPE_CHECKING:
    from crucible_polars.dataset.core import Dataset
    from crucible_polars.plan import Plan


class DatasetRows(DatasetState):
    """Mixin with the row-position methods of :class:`~crucible_polars.Dataset`."""

    # ------------------------------------------------------------------ rows
    def select(self, indices: Iterable[Any], **options: Any) -> Dataset:
        """The rows at ``indices``, in that order (negative indices count from the end).

        Contiguous indices become a slice; others a gather of those rows.

        Parameters
        ----------
        indices
            Row positions (a list, range or array of ints).
        **options
            ``datasets``' cache options (``keep_in_memory``, ``writer_batch_size``, ...),
            accepted and ignored.

        Raises
        ------
        IndexError
            An index out of range.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [10, 11, 12]}).select([2, 0])["a"]
        [12, 10]
        """
        cache_options("select", options)
        if isinstance(indices, str) or (
            isinstance(indices, Sequence) and indices and all(isinstance(i, str) for i in indices)
        ):
            raise TypeError(
                f"select takes row indices, got column names {indices!r}: to keep columns "
                "write ds.select_columns(...) (Polars' select is ds.lazy().select(...))."
            )
        return self._with(sampling.select(self._plan, indices))

    def take(self, n: int) -> Dataset:
        """The first ``n`` rows (all rows if there are fewer).

        Parameters
        ----------
        n
            How many rows.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> len(Dataset.from_dict({"a": [1, 2, 3]}).take(2))
        2
        """
        return self._with(sampling.take(self._plan, n))

    def skip(self, n: int) -> Dataset:
        """All rows after the first ``n``.

        Parameters
        ----------
        n
            How many rows to skip.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1, 2, 3]}).skip(2)["a"]
        [3]
        """
        return self._with(sampling.skip(self._plan, n))

    def repeat(self, num_times: int) -> Dataset:
        """The rows ``num_times`` times over (``0`` gives an empty dataset).

        Parameters
        ----------
        num_times
            How many copies of the rows.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1, 2]}).repeat(2)["a"]
        [1, 2, 1, 2]
        """
        if num_times is None:
            raise ValueError("repeat needs a number of times >= 0, got None.")
        if num_times <= 0:  # datasets: a negative count gives an empty dataset too
            return self.take(0)
        return self._with(combine.concatenate_plans([self._plan] * num_times))

    def shuffle(
        self,
        seed: int | None = None,
        generator: np.random.Generator | None = None,
        **options: Any,
    ) -> Dataset:
        """Rows in a random order: ``np.random.default_rng(seed).permutation(len(ds))``.

        The permutation is NumPy's PCG64 one, the same on every run and machine, and the
        same as ``datasets``' for the same seed. ``seed=None`` draws a seed from NumPy's
        global state (as ``datasets``), so ``np.random.seed(n)`` makes it reproducible.

        Parameters
        ----------
        seed
            The permutation's seed.
        generator
            A NumPy generator to draw the permutation from instead of ``seed``.
        **options
            ``datasets``' cache options, accepted and ignored.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": list(range(5))}).shuffle(seed=42)["a"]
        [4, 2, 3, 1, 0]
        """
        cache_options("shuffle", options)
        return self._with(sampling.shuffle(self._plan, seed, generator))

    def shard(
        self, num_shards: int, index: int, contiguous: bool = True, **options: Any
    ) -> Dataset:
        """The ``index``-th of ``num_shards`` shards, with the rows ``datasets`` gives.

        Parameters
        ----------
        num_shards
            How many shards the rows are split into.
        index
            Which shard to return.
        contiguous
            Contiguous blocks of rows (``True``) or every ``num_shards``-th row from ``index``.
        **options
            ``datasets``' cache options, accepted and ignored.

        Raises
        ------
        ValueError
            ``index`` not in ``[0, num_shards)``.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": list(range(5))}).shard(2, 1)["a"]
        [3, 4]
        """
        cache_options("shard", options)
        return self._with(sampling.shard(self._plan, num_shards, index, contiguous))

    def train_test_split(
        self,
        test_size: float | int | None = None,
        train_size: float | int | None = None,
        shuffle: bool = True,
        stratify_by_column: str | None = None,
        seed: int | None = None,
        generator: np.random.Generator | None = None,
        **options: Any,
    ) -> DatasetDict:
        """Split into ``train`` and ``test``, with ``datasets``' sizes, rows and errors.

        Parameters
        ----------
        test_size, train_size
            A float in ``(0, 1)`` (share of rows; test rounds up, train down) or a number
            of rows. Default: ``test_size=0.25``.
        shuffle
            Shuffle before splitting (``False``: train first, then test).
        stratify_by_column
            A ``ClassLabel`` column whose class shares both splits keep.
        seed, generator
            As in :meth:`shuffle`.
        **options
            ``datasets``' cache options, accepted and ignored.

        Raises
        ------
        ValueError
            Sizes that do not fit the dataset, or a stratification that cannot be done.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> dd = Dataset.from_dict({"a": list(range(10))}).train_test_split(0.2, seed=1)
        >>> dd.num_rows
        {'train': 8, 'test': 2}
        """
        cache_options("train_test_split", options)
        train, test = sampling.train_test_split(
            self._plan, test_size, train_size, shuffle, stratify_by_column, seed, generator
        )
        return DatasetDict({"train": self._with(train), "test": self._with(test)})

    # ------------------------------------------------------------------ materialize
    def cache(self, path: str | os.PathLike[str] | None = None) -> Dataset:
        """Run the plan once and keep the rows: as memory-mapped Arrow in the cache, or as a
        parquet file at ``path``.

        Later queries, indexing and shuffles read the kept rows instead of re-running the
        plan (and any ``map`` function in it); see :func:`crucible_polars.materialize.materialize`.

        Parameters
        ----------
        path
            Write the rows to this parquet file instead of the Arrow cache.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> ds = Dataset.from_dict({"a": [1, 2]}).map(lambda r: {"b": r["a"] * 2}).cache()
        >>> ds["b"]
        [2, 4]
        """
        if path is None:
            return self._with(materialize(self._plan))
        writers.write_parquet_file(self._plan, self._info, path)
        lf = pl.scan_parquet(os.fspath(path))
        plan = self._plan
        return self._with(plan.derive(lf, plan.features, num_rows=plan.known_rows(), diagnose=()))

    def flatten_indices(self, *, features: Features | None = None, **options: Any) -> Dataset:
        """Write a shuffled or selected dataset's rows once, in their new order (as
        ``datasets.Dataset.flatten_indices``): later access reads them contiguously.

        Parameters
        ----------
        features
            Cast the rows to these Features (as ``datasets``' ``features=`` does).
        **options
            ``datasets``' cache and process options (``keep_in_memory``, ``num_proc``...),
            accepted and ignored: the rows are written once, by Polars.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1, 2, 3]}).shuffle(seed=0).flatten_indices()["a"]
        [3, 1, 2]
        """
        cache_options("flatten_indices", options)
        flat = self._with(materialize(self._plan))
        return flat if features is None else flat.cast(features)

    def to_iterable_dataset(self, num_shards: int = 1) -> IterableDataset:
        """This dataset as a streaming ``IterableDataset`` of ``num_shards`` shards.

        Parameters
        ----------
        num_shards
            Contiguous shards (DataLoader workers each read their own shards).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> it = Dataset.from_dict({"a": [1, 2]}).to_iterable_dataset()
        >>> [row["a"] for row in it]
        [1, 2]
        """
        return iterable_from_dataset_plan(
            self._plan,
            num_shards=num_shards,
            info=self._info,
            split=self._split,
            format=self._format,
            format_columns=self._format_columns,
        )

    def batch(
        self,
        batch_size: int | None = None,
        by_column: str | Sequence[str] | None = None,
        drop_last_batch: bool = False,
        num_proc: int | None = None,
        new_fingerprint: str | None = None,
    ) -> Dataset:
        """Group rows into batches: each new row holds ``batch_size`` consecutive rows, every
        column a list (as ``datasets.Dataset.batch``; a lazy Polars ``group_by``).

        ``num_proc`` and ``new_fingerprint`` are accepted for ``datasets`` code; Polars uses
        all cores, and there is no cache.

        Parameters
        ----------
        batch_size
            Rows per batch (with ``by_column``: the rows ``datasets`` reads at a time).
        by_column
            Batch runs of successive rows with equal values in this column (or columns)
            instead, whatever their length, as ``datasets`` does.
        drop_last_batch
            Drop a last batch shorter than ``batch_size``. With ``by_column``, as
            ``datasets``: when the rows are not a multiple of ``batch_size`` (1000 if
            ``None``), the rows after the last multiple and the last run are dropped.
        num_proc, new_fingerprint
            Accepted and ignored (``num_proc`` with ``by_column`` raises, as in ``datasets``).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1, 2, 3]}).batch(2)["a"]
        [[1, 2], [3]]
        >>> Dataset.from_dict({"k": [1, 1, 2, 1]}).batch(by_column="k")["k"]
        [[1, 1], [2], [1]]
        """
        if batch_size is None and by_column is None:
            raise ValueError("batch() misses `batch_size` or `by_column` argument.")
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        plan = self._plan
        features = Features({n: List(f) for n, f in plan.features.items()})
        if by_column is not None:
            if num_proc:
                raise NotImplementedError(
                    "Multiprocessed batching by column is not implemented yet"
                )
            columns = plan.check_columns(by_column)
            return self._with(
                plan.derive(_runs(plan, columns, batch_size, drop_last_batch), features)
            )
        assert batch_size is not None
        key = "__crucible_batch__"
        lf = (
            plan.lf.with_row_index(key)
            .with_columns(pl.col(key) // batch_size)
            .group_by(key, maintain_order=True)
            .agg(pl.all())
            .drop(key)
        )
        names = list(plan.features)
        if drop_last_batch and names:
            lf = lf.filter(pl.col(names[0]).list.len() == batch_size)
        known = plan.known_rows()
        rows = None
        if known is not None:
            rows = known // batch_size if drop_last_batch else -(-known // batch_size)
        return self._with(plan.derive(lf, features, num_rows=rows))


def _runs(plan: Plan, columns: list[str], batch_size: int | None, drop_last: bool) -> pl.LazyFrame:
    """Runs of successive rows with equal ``columns`` values, each one row of lists."""
    lf = plan.lf
    cut_last = False
    if drop_last:
        size = batch_size or 1000
        total = plan.row_count()
        lf, cut_last = lf.head(total // size * size), total % size != 0
    run = "__crucible_run__"
    key = pl.struct(columns) if len(columns) > 1 else pl.col(columns[0])
    grouped = lf.with_columns(key.rle_id().alias(run)).group_by(run, maintain_order=True)
    lf = grouped.agg(pl.all().exclude(run))
    if cut_last:  # datasets never flushes the run it was still accumulating
        lf = lf.filter(pl.col(run) < pl.col(run).max())
    return lf.drop(run)
