"""IterableDatasetDict: split name -> IterableDataset, with every transform applied to each split.

Examples
--------
>>> import polars as pl
>>> import crucible_polars as cp
>>> stream = cp.Dataset.from_dict({"a": [1, 2, 3]}).to_iterable_dataset()
>>> dd = IterableDatasetDict(train=stream, test=stream.take(1))
>>> {k: [r["a"] for r in v] for k, v in dd.filter(pl.col("a") > 1).items()}
{'train': [2, 3], 'test': []}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from crucible_polars.streaming.iterable import IterableDataset
from crucible_polars.streaming.iterable_dict_rows import RowMethods
from crucible_polars.udf import SplitBound

if TYPE_CHECKING:
    import polars as pl

    from crucible_polars.features import Features, FeatureType


class IterableDatasetDict(RowMethods, dict[str, IterableDataset]):
    """A ``dict`` of split name to :class:`IterableDataset`; transforms apply to every split.

    Examples
    --------
    >>> import polars as pl
    >>> import crucible_polars as cp
    >>> dd = IterableDatasetDict(train=cp.Dataset.from_dict({"a": [1, 2]}).to_iterable_dataset())
    >>> [r["a"] for r in dd.filter(pl.col("a") > 1)["train"]]
    [2]
    """

    def _apply(self, name: str, *args: Any, **kwargs: Any) -> IterableDatasetDict:
        return IterableDatasetDict({k: getattr(v, name)(*args, **kwargs) for k, v in self.items()})

    # ------------------------------------------------------------------ transforms
    def filter(
        self,
        function: pl.Expr | Callable[..., Any] | None = None,
        with_indices: bool = False,
        input_columns: str | Sequence[str] | None = None,
        batched: bool = False,
        batch_size: int | None = 1000,
        fn_kwargs: Mapping[str, Any] | None = None,
        *,
        with_rank: bool = False,
    ) -> IterableDatasetDict:
        """:meth:`IterableDataset.filter` on every split (an expression or a function).

        Parameters
        ----------
        function
            A Polars expression or a function, as in :meth:`IterableDataset.filter`.
        with_indices, input_columns, batched, batch_size, fn_kwargs, with_rank
            As in :meth:`IterableDataset.filter`.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> dd = IterableDatasetDict(t=cp.Dataset.from_dict({"a": [1, 2]}).to_iterable_dataset())
        >>> list(dd.filter(lambda r: r["a"] > 1)["t"])
        [{'a': 2}]
        """
        return self._apply(
            "filter",
            function,
            with_indices,
            input_columns,
            batched,
            batch_size,
            fn_kwargs,
            with_rank=with_rank,
        )

    def with_columns(
        self, *exprs: pl.Expr | Iterable[pl.Expr], **named_exprs: pl.Expr
    ) -> IterableDatasetDict:
        """:meth:`IterableDataset.with_columns` on every split.

        Parameters
        ----------
        *exprs
            Polars expressions, as in :meth:`IterableDataset.with_columns`.
        **named_exprs
            Expressions whose output column is the keyword's name.

        Examples
        --------
        >>> import polars as pl
        >>> import crucible_polars as cp
        >>> dd = IterableDatasetDict(t=cp.Dataset.from_dict({"a": [1]}).to_iterable_dataset())
        >>> list(dd.with_columns(b=pl.col("a") + 1)["t"])
        [{'a': 1, 'b': 2}]
        """
        return self._apply("with_columns", *exprs, **named_exprs)

    def map(
        self,
        function: Callable[..., Any] | None = None,
        with_indices: bool = False,
        with_split: bool = False,
        input_columns: str | Sequence[str] | None = None,
        batched: bool = False,
        batch_size: int | None = 1000,
        drop_last_batch: bool = False,
        remove_columns: str | Sequence[str] | None = None,
        fn_kwargs: Mapping[str, Any] | None = None,
        *,
        features: Features | None = None,
        with_rank: bool = False,
    ) -> IterableDatasetDict:
        """:meth:`IterableDataset.map` on every split (``with_indices`` count within each split).

        Parameters
        ----------
        function
            The function, as in :meth:`IterableDataset.map`.
        with_indices, input_columns, batched, batch_size, drop_last_batch, remove_columns
            As in :meth:`IterableDataset.map`.
        with_split
            Also pass the split's name, after the other positional arguments (as
            ``datasets``: ``function(example[, idx], split)``).
        fn_kwargs, features, with_rank
            As in :meth:`IterableDataset.map`.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> dd = IterableDatasetDict(t=cp.Dataset.from_dict({"a": [1]}).to_iterable_dataset())
        >>> list(dd.map(lambda r: {"b": r["a"] * 2})["t"])
        [{'a': 1, 'b': 2}]
        >>> list(dd.map(lambda r, split: {"s": split}, with_split=True)["t"])
        [{'a': 1, 's': 't'}]
        """
        return IterableDatasetDict(
            {
                split: ds.map(
                    SplitBound(function, split) if with_split and function else function,
                    with_indices,
                    input_columns,
                    batched,
                    batch_size,
                    drop_last_batch,
                    remove_columns,
                    features,
                    fn_kwargs,
                    with_rank=with_rank,
                )
                for split, ds in self.items()
            }
        )

    def select_columns(self, column_names: str | Sequence[str]) -> IterableDatasetDict:
        """:meth:`IterableDataset.select_columns` on every split.

        Parameters
        ----------
        column_names
            A column name or a list of them.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> stream = cp.Dataset.from_dict({"a": [1], "b": [2]}).to_iterable_dataset()
        >>> IterableDatasetDict(t=stream).select_columns("b").column_names
        {'t': ['b']}
        """
        return self._apply("select_columns", column_names)

    def remove_columns(self, column_names: str | Sequence[str]) -> IterableDatasetDict:
        """:meth:`IterableDataset.remove_columns` on every split.

        Parameters
        ----------
        column_names
            A column name or a list of them.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> stream = cp.Dataset.from_dict({"a": [1], "b": [2]}).to_iterable_dataset()
        >>> IterableDatasetDict(t=stream).remove_columns("b").column_names
        {'t': ['a']}
        """
        return self._apply("remove_columns", column_names)

    def rename_column(self, original_column_name: str, new_column_name: str) -> IterableDatasetDict:
        """:meth:`IterableDataset.rename_column` on every split.

        Parameters
        ----------
        original_column_name
            The column to rename.
        new_column_name
            Its new name.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> stream = cp.Dataset.from_dict({"a": [1]}).to_iterable_dataset()
        >>> IterableDatasetDict(t=stream).rename_column("a", "z").column_names
        {'t': ['z']}
        """
        return self._apply("rename_column", original_column_name, new_column_name)

    def rename_columns(self, column_mapping: Mapping[str, str]) -> IterableDatasetDict:
        """:meth:`IterableDataset.rename_columns` on every split.

        Parameters
        ----------
        column_mapping
            ``{old_name: new_name}``.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> stream = cp.Dataset.from_dict({"a": [1]}).to_iterable_dataset()
        >>> IterableDatasetDict(t=stream).rename_columns({"a": "z"}).column_names
        {'t': ['z']}
        """
        return self._apply("rename_columns", column_mapping)

    def cast(self, features: Features) -> IterableDatasetDict:
        """:meth:`IterableDataset.cast` on every split.

        Parameters
        ----------
        features
            The new features, one per column.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> stream = cp.Dataset.from_dict({"a": [1]}).to_iterable_dataset()
        >>> list(IterableDatasetDict(t=stream).cast(cp.Features({"a": cp.Value("string")}))["t"])
        [{'a': '1'}]
        """
        return self._apply("cast", features)

    def cast_column(self, column: str, feature: FeatureType) -> IterableDatasetDict:
        """:meth:`IterableDataset.cast_column` on every split.

        Parameters
        ----------
        column
            The column to cast.
        feature
            Its new feature type.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> stream = cp.Dataset.from_dict({"a": [1]}).to_iterable_dataset()
        >>> list(IterableDatasetDict(t=stream).cast_column("a", cp.Value("string"))["t"])
        [{'a': '1'}]
        """
        return self._apply("cast_column", column, feature)

    def with_format(
        self, type: str | None = None, columns: Sequence[str] | None = None
    ) -> IterableDatasetDict:
        """:meth:`IterableDataset.with_format` on every split.

        Parameters
        ----------
        type
            The format name, as in :meth:`IterableDataset.with_format`.
        columns
            Only these columns in that format.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> stream = cp.Dataset.from_dict({"a": [1]}).to_iterable_dataset()
        >>> next(iter(IterableDatasetDict(t=stream).with_format("numpy")["t"]))["a"]
        np.int64(1)
        """
        return self._apply("with_format", type, columns=columns)

    # ------------------------------------------------------------------ epochs and inspection
    def to_ray(self, **kwargs: Any) -> dict[str, Any]:
        """:meth:`IterableDataset.to_ray` per split: ``{split: ray.data.Dataset}``.

        Parameters
        ----------
        **kwargs
            Passed to :meth:`IterableDataset.to_ray` (``decode=``).

        Examples
        --------
        >>> IterableDatasetDict().to_ray()
        {}
        """
        return {k: ds.to_ray(**kwargs) for k, ds in self.items()}

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch of every split.

        Parameters
        ----------
        epoch
            The epoch number.

        Examples
        --------
        >>> IterableDatasetDict().set_epoch(1)
        """
        for ds in self.values():
            ds.set_epoch(epoch)

    @property
    def column_names(self) -> dict[str, list[str] | None]:
        """Column names per split.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> stream = cp.Dataset.from_dict({"a": [1]}).to_iterable_dataset()
        >>> IterableDatasetDict(t=stream).column_names
        {'t': ['a']}
        """
        return {k: v.column_names for k, v in self.items()}

    @property
    def num_shards(self) -> dict[str, int]:
        """Shards per split.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> IterableDatasetDict(t=cp.Dataset.from_dict({"a": [1]}).to_iterable_dataset()).num_shards
        {'t': 1}
        """
        return {k: v.num_shards for k, v in self.items()}

    def __repr__(self) -> str:
        inner = ",\n".join(f"    {k}: " + repr(v).replace("\n", "\n    ") for k, v in self.items())
        return f"IterableDatasetDict({{\n{inner}\n}})"
