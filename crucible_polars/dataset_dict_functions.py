"""``map``, ``filter``, ``sort``, ``shuffle`` and ``flatten_indices`` of a
:class:`~crucible_polars.DatasetDict`, split by split, with ``datasets.DatasetDict``'s
parameters: ``map(with_split=True)`` passes the split's name, ``shuffle`` takes ``seeds`` by
split, and the per-split cache options (``cache_file_names``, ...) are accepted and ignored.

Examples
--------
>>> from crucible_polars import Dataset, DatasetDict
>>> dd = DatasetDict(train=Dataset.from_dict({"a": [1]}), test=Dataset.from_dict({"a": [2]}))
>>> dd.map(lambda row, split: {"s": split}, with_split=True)["test"]["s"]
['test']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from crucible_polars.dataset.options import check as cache_options
from crucible_polars.udf import SplitBound

if TYPE_CHECKING:
    import numpy as np

    from crucible_polars.dataset import Dataset
    from crucible_polars.dataset_dict import DatasetDict
    from crucible_polars.features import Features

MAP_CACHE = frozenset(
    {
        "keep_in_memory",
        "load_from_cache_file",
        "cache_file_names",
        "writer_batch_size",
        "disable_nullable",
    }
)
"""``datasets.DatasetDict.map``'s cache options (one cache file per split): ignored."""
FILTER_CACHE = MAP_CACHE - {"disable_nullable"}


class DatasetDictFunctions(dict[str, "Dataset"]):
    """Mixin of :class:`~crucible_polars.DatasetDict`: the transforms with many options."""

    def _apply(self, name: str, *args: Any, **kwargs: Any) -> DatasetDict:
        raise NotImplementedError  # DatasetDict defines it

    def _each(self, make: Callable[[str, Dataset], Dataset]) -> DatasetDict:
        made: Any = type(self)({split: make(split, ds) for split, ds in self.items()})
        return cast("DatasetDict", made)

    def map(
        self,
        function: Callable[..., Any] | None = None,
        with_indices: bool = False,
        with_rank: bool = False,
        with_split: bool = False,
        input_columns: str | Sequence[str] | None = None,
        batched: bool = False,
        batch_size: int | None = 1000,
        drop_last_batch: bool = False,
        remove_columns: str | Sequence[str] | None = None,
        *,
        features: Features | None = None,
        fn_kwargs: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> DatasetDict:
        """:meth:`Dataset.map` on every split (``with_indices`` count within each split).

        Parameters
        ----------
        function
            The function, as in :meth:`Dataset.map`.
        with_indices, with_rank, input_columns, batched, batch_size, drop_last_batch
            As in :meth:`Dataset.map`.
        with_split
            Also pass the split's name, after the other positional arguments (as
            ``datasets``: ``function(example[, idx][, rank], split)``).
        remove_columns, features, fn_kwargs
            As in :meth:`Dataset.map`.
        **options
            ``num_proc``, ``desc``, ``try_original_type``, ``on_mixed_types`` as in
            :meth:`Dataset.map` (``on_mixed_types`` defaults to ``None`` here, as in
            ``datasets``' ``DatasetDict.map``); ``datasets``' cache options
            (``cache_file_names``...) are accepted and ignored.

        Examples
        --------
        >>> from crucible_polars import Dataset, DatasetDict
        >>> dd = DatasetDict(a=Dataset.from_dict({"x": [1, 2]}))
        >>> dd.map(lambda row: {"y": row["x"] * 2})["a"]["y"]
        [2, 4]
        """
        passed = {k: v for k, v in options.items() if k not in MAP_CACHE}
        passed.setdefault("on_mixed_types", None)  # datasets' DatasetDict.map default

        def one(split: str, ds: Dataset) -> Dataset:
            bound = SplitBound(function, split) if with_split and function else function
            return ds.map(
                bound,
                with_indices=with_indices,
                with_rank=with_rank,
                input_columns=input_columns,
                batched=batched,
                batch_size=batch_size,
                drop_last_batch=drop_last_batch,
                remove_columns=remove_columns,
                features=features,
                fn_kwargs=fn_kwargs,
                **passed,
            )

        return self._each(one)

    def filter(
        self,
        function: Any = None,
        with_indices: bool = False,
        with_rank: bool = False,
        input_columns: str | Sequence[str] | None = None,
        batched: bool = False,
        batch_size: int | None = 1000,
        *,
        fn_kwargs: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> DatasetDict:
        """:meth:`Dataset.filter` on every split (an expression or a function).

        Parameters
        ----------
        function
            A Polars expression or a function, as in :meth:`Dataset.filter` (``None``:
            keep every row).
        with_indices, with_rank, input_columns, batched, batch_size, fn_kwargs
            As in :meth:`Dataset.filter`.
        **options
            ``num_proc`` and ``desc`` as in :meth:`Dataset.filter`; ``datasets``' cache
            options (``cache_file_names``...) are accepted and ignored.

        Examples
        --------
        >>> from crucible_polars import Dataset, DatasetDict
        >>> import polars as pl
        >>> dd = DatasetDict(a=Dataset.from_dict({"x": [1, 2]}), b=Dataset.from_dict({"x": [3]}))
        >>> dd.filter(pl.col("x") > 1).num_rows
        {'a': 1, 'b': 1}
        """
        passed = {k: v for k, v in options.items() if k not in FILTER_CACHE}
        return self._apply(
            "filter",
            function,
            with_indices=with_indices,
            with_rank=with_rank,
            input_columns=input_columns,
            batched=batched,
            batch_size=batch_size,
            fn_kwargs=fn_kwargs,
            **passed,
        )

    def sort(
        self,
        column_names: str | Sequence[str],
        reverse: bool | Sequence[bool] = False,
        null_placement: str = "at_end",
        *,
        descending: bool | Sequence[bool] | None = None,
        **options: Any,
    ) -> DatasetDict:
        """:meth:`Dataset.sort` on every split.

        Parameters
        ----------
        column_names, reverse, null_placement, descending
            As in :meth:`Dataset.sort`.
        **options
            ``datasets``' cache options (``indices_cache_file_names``...), accepted and
            ignored.

        Examples
        --------
        >>> from crucible_polars import Dataset, DatasetDict
        >>> DatasetDict(a=Dataset.from_dict({"x": [2, 1]})).sort("x")["a"]["x"]
        [1, 2]
        """
        cache_options("DatasetDict.sort", options, "sort")
        return self._apply("sort", column_names, reverse, null_placement, descending=descending)

    def shuffle(
        self,
        seeds: int | Mapping[str, int | None] | None = None,
        seed: int | None = None,
        generators: Mapping[str, np.random.Generator] | None = None,
        **options: Any,
    ) -> DatasetDict:
        """:meth:`Dataset.shuffle` on every split: one seed for all, or seeds by split.

        Parameters
        ----------
        seeds
            ``{split: seed}``, or one seed for every split (as ``datasets``).
        seed
            One seed for every split (not with ``seeds``).
        generators
            ``{split: numpy Generator}``.
        **options
            ``datasets``' cache options (``indices_cache_file_names``...), accepted and
            ignored.

        Examples
        --------
        >>> from crucible_polars import Dataset, DatasetDict
        >>> dd = DatasetDict(a=Dataset.from_dict({"x": [0, 1, 2]}))
        >>> dd.shuffle(seed=42)["a"]["x"] == dd["a"].shuffle(seed=42)["x"]
        True
        >>> dd.shuffle({"a": 42})["a"]["x"] == dd.shuffle(42)["a"]["x"]
        True
        """
        cache_options("DatasetDict.shuffle", options, "shuffle")
        if seed is not None and seeds is not None:
            raise ValueError("Please specify seed or seeds, but not both")
        chosen = seeds if seeds is not None else seed
        by_split = dict(chosen) if isinstance(chosen, Mapping) else dict.fromkeys(self, chosen)
        given = generators or {}
        return self._each(
            lambda split, ds: ds.shuffle(seed=by_split.get(split), generator=given.get(split))
        )

    def flatten_indices(self, *, features: Features | None = None, **options: Any) -> DatasetDict:
        """:meth:`Dataset.flatten_indices` on every split.

        Parameters
        ----------
        features
            Cast every split to these Features.
        **options
            ``datasets``' cache and process options, accepted and ignored.

        Examples
        --------
        >>> from crucible_polars import Dataset, DatasetDict
        >>> DatasetDict(a=Dataset.from_dict({"x": [1, 2]}).select([1])).flatten_indices()["a"]["x"]
        [2]
        """
        cache_options("DatasetDict.flatten_indices", options, "flatten_indices")
        return self._apply("flatten_indices", features=features)
