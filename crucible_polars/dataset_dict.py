"""DatasetDict: split name -> Dataset, with every transform applied to each split."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from crucible_polars.dataset.state import DatasetState
from crucible_polars.dataset_dict_formats import DatasetDictFormats
from crucible_polars.dataset_dict_functions import DatasetDictFunctions
from crucible_polars.dataset_dict_io import DatasetDictIO

if TYPE_CHECKING:
    from crucible_polars.dataset import Dataset
    from crucible_polars.features import Features, FeatureType


class DatasetDict(DatasetDictFunctions, DatasetDictFormats, DatasetDictIO):
    """A ``dict`` of split name to :class:`Dataset`.

    Every ``Dataset`` transform called on it (``filter``, ``map``, ``with_columns``,
    ``select_columns``, ``cast``, ``shuffle``, ...) is applied to each split and returns a new
    ``DatasetDict``; ``unique`` returns ``{split: values}``.

    Parameters
    ----------
    *args, **kwargs
        As ``dict``: ``{split: Dataset}`` or ``split=Dataset`` keywords.

    Examples
    --------
    >>> from crucible_polars import Dataset
    >>> import polars as pl
    >>> dd = DatasetDict(train=Dataset.from_dict({"a": [1, 2]}), test=Dataset.from_dict({"a": [3]}))
    >>> dd.filter(pl.col("a") > 1).num_rows
    {'train': 1, 'test': 1}
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, value in self.items():
            _check_split(name, value)

    def __setitem__(self, name: str, value: Dataset) -> None:
        _check_split(name, value)
        super().__setitem__(name, value)

    def _apply(self, name: str, *args: Any, **kwargs: Any) -> DatasetDict:
        return DatasetDict({k: getattr(ds, name)(*args, **kwargs) for k, ds in self.items()})

    def __getattr__(self, name: str) -> Any:
        if name == "train_test_split":
            raise AttributeError(
                "'DatasetDict' object has no attribute 'train_test_split': split one of its "
                f"datasets, e.g. dd[{next(iter(self), 'train')!r}].train_test_split(...)"
            )
        raise AttributeError(f"'DatasetDict' object has no attribute {name!r}")

    # ------------------------------------------------------------------ transforms
    def with_columns(self, *exprs: Any, **named_exprs: Any) -> DatasetDict:
        """:meth:`Dataset.with_columns` on every split.

        Parameters
        ----------
        *exprs
            Polars expressions, as in :meth:`Dataset.with_columns`.
        **named_exprs
            Expressions whose output column is the keyword's name.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> import polars as pl
        >>> DatasetDict(a=Dataset.from_dict({"x": [1]})).with_columns(y=pl.col("x") + 1)["a"][0]
        {'x': 1, 'y': 2}
        """
        return self._apply("with_columns", *exprs, **named_exprs)

    def select_columns(self, column_names: str | Sequence[str]) -> DatasetDict:
        """:meth:`Dataset.select_columns` on every split.

        Parameters
        ----------
        column_names
            A column name or a list of them.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> DatasetDict(a=Dataset.from_dict({"x": [1], "y": [2]})).select_columns("y").column_names
        {'a': ['y']}
        """
        return self._apply("select_columns", column_names)

    def remove_columns(self, column_names: str | Sequence[str]) -> DatasetDict:
        """:meth:`Dataset.remove_columns` on every split.

        Parameters
        ----------
        column_names
            A column name or a list of them.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> DatasetDict(a=Dataset.from_dict({"x": [1], "y": [2]})).remove_columns("y").column_names
        {'a': ['x']}
        """
        return self._apply("remove_columns", column_names)

    def rename_column(self, original_column_name: str, new_column_name: str) -> DatasetDict:
        """:meth:`Dataset.rename_column` on every split.

        Parameters
        ----------
        original_column_name, new_column_name
            The column to rename, and its new name.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> DatasetDict(a=Dataset.from_dict({"x": [1]})).rename_column("x", "z").column_names
        {'a': ['z']}
        """
        return self._apply("rename_column", original_column_name, new_column_name)

    def rename_columns(self, column_mapping: dict[str, str]) -> DatasetDict:
        """:meth:`Dataset.rename_columns` on every split.

        Parameters
        ----------
        column_mapping
            ``{old_name: new_name}``.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> DatasetDict(a=Dataset.from_dict({"x": [1]})).rename_columns({"x": "z"}).column_names
        {'a': ['z']}
        """
        return self._apply("rename_columns", column_mapping)

    def cast(self, features: Features) -> DatasetDict:
        """:meth:`Dataset.cast` on every split.

        Parameters
        ----------
        features
            The new features, one per column.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> from crucible_polars.features import Features, Value
        >>> dd = DatasetDict(a=Dataset.from_dict({"x": [1]}))
        >>> dd.cast(Features({"x": Value("float64")}))["a"]["x"]
        [1.0]
        """
        return self._apply("cast", features)

    def cast_column(self, column: str, feature: FeatureType) -> DatasetDict:
        """:meth:`Dataset.cast_column` on every split.

        Parameters
        ----------
        column, feature
            The column to cast, and its new feature type.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> from crucible_polars.features import Value
        >>> DatasetDict(a=Dataset.from_dict({"x": [1]})).cast_column("x", Value("string"))["a"][0]
        {'x': '1'}
        """
        return self._apply("cast_column", column, feature)

    def class_encode_column(self, column: str, include_nulls: bool = False) -> DatasetDict:
        """:meth:`Dataset.class_encode_column` on every split (each its own labels, as in
        ``datasets``).

        Parameters
        ----------
        column
            The column to encode.
        include_nulls
            Keep nulls as a class named ``"None"`` instead of null labels.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> DatasetDict(a=Dataset.from_dict({"y": ["b", "a"]})).class_encode_column("y")["a"]["y"]
        [1, 0]
        """
        return self._apply("class_encode_column", column, include_nulls=include_nulls)

    def flatten(self, max_depth: int = 16) -> DatasetDict:
        """:meth:`Dataset.flatten` on every split.

        Parameters
        ----------
        max_depth
            How many levels of nested structs to flatten.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> DatasetDict(a=Dataset.from_dict({"s": [{"t": 1}]})).flatten().column_names
        {'a': ['s.t']}
        """
        return self._apply("flatten", max_depth=max_depth)

    def select(self, indices: Any, **kwargs: Any) -> DatasetDict:
        """:meth:`Dataset.select` on every split.

        Parameters
        ----------
        indices
            Row positions, the same for every split.
        **kwargs
            Passed to :meth:`Dataset.select`.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> DatasetDict(a=Dataset.from_dict({"x": [0, 1, 2]})).select([2, 0])["a"]["x"]
        [2, 0]
        """
        return self._apply("select", indices, **kwargs)

    def take(self, n: int) -> DatasetDict:
        """:meth:`Dataset.take` on every split.

        Parameters
        ----------
        n
            How many rows of each split.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> DatasetDict(a=Dataset.from_dict({"x": [0, 1, 2]})).take(2).num_rows
        {'a': 2}
        """
        return self._apply("take", n)

    def skip(self, n: int) -> DatasetDict:
        """:meth:`Dataset.skip` on every split.

        Parameters
        ----------
        n
            How many rows of each split to skip.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> DatasetDict(a=Dataset.from_dict({"x": [0, 1, 2]})).skip(2).num_rows
        {'a': 1}
        """
        return self._apply("skip", n)

    def shard(self, num_shards: int, index: int, contiguous: bool = True) -> DatasetDict:
        """:meth:`Dataset.shard` on every split.

        Parameters
        ----------
        num_shards
            How many shards each split is split into.
        index
            Which shard to keep.
        contiguous
            Contiguous blocks of rows, or every ``num_shards``-th row.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> DatasetDict(a=Dataset.from_dict({"x": [0, 1, 2]})).shard(2, 0)["a"]["x"]
        [0, 1]
        """
        return self._apply("shard", num_shards, index, contiguous)

    def unique(self, column: str) -> dict[str, list[Any]]:
        """:meth:`Dataset.unique` per split.

        Parameters
        ----------
        column
            The column to read.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> DatasetDict(a=Dataset.from_dict({"x": [1, 1, 2]})).unique("x")
        {'a': [1, 2]}
        """
        return {k: ds.unique(column) for k, ds in self.items()}

    def to_ray(self, **kwargs: Any) -> dict[str, Any]:
        """:meth:`Dataset.to_ray` per split: ``{split: ray.data.Dataset}``.

        Parameters
        ----------
        **kwargs
            Passed to :meth:`Dataset.to_ray` (``decode=``, ``token=``).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> DatasetDict(a=Dataset.from_dict({"x": [1]})).to_ray()["a"].count()  # doctest: +SKIP
        1
        """
        return {k: ds.to_ray(**kwargs) for k, ds in self.items()}

    def cache(self) -> DatasetDict:
        """:meth:`Dataset.cache` on every split (each materialized in memory once).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> DatasetDict(a=Dataset.from_dict({"x": [1]})).cache()["a"]["x"]
        [1]
        """
        return self._apply("cache")

    @property
    def num_rows(self) -> dict[str, int]:
        """Rows per split.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> DatasetDict(train=Dataset.from_dict({"a": [1]})).num_rows
        {'train': 1}
        """
        return {k: ds.num_rows for k, ds in self.items()}

    @property
    def column_names(self) -> dict[str, list[str]]:
        """Column names per split.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> DatasetDict(train=Dataset.from_dict({"a": [1]})).column_names
        {'train': ['a']}
        """
        return {k: ds.column_names for k, ds in self.items()}

    @property
    def num_columns(self) -> dict[str, int]:
        """Column count per split.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> DatasetDict(train=Dataset.from_dict({"a": [1]})).num_columns
        {'train': 1}
        """
        return {k: ds.num_columns for k, ds in self.items()}

    @property
    def shape(self) -> dict[str, tuple[int, int]]:
        """``(rows, columns)`` per split.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> DatasetDict(train=Dataset.from_dict({"a": [1]})).shape
        {'train': (1, 1)}
        """
        return {k: ds.shape for k, ds in self.items()}

    def __repr__(self) -> str:
        body = ",\n".join(
            f"    {name}: " + repr(ds).replace("\n", "\n    ") for name, ds in self.items()
        )
        return f"DatasetDict({{\n{body}\n}})"

    def _repr_html_(self) -> str:
        return "".join(f"<h4>{name}</h4>{ds._repr_html_()}" for name, ds in self.items())


def _check_split(name: str, value: Any) -> None:
    """A DatasetDict holds Datasets only (``datasets`` raises the same TypeError)."""
    if not isinstance(value, DatasetState):
        raise TypeError(
            f"Values in `DatasetDict` should be of type `Dataset` but got type "
            f"'{type(value)}' for split {name!r}; drop the split or give a Dataset."
        )
