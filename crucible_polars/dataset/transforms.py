"""The transform methods of :class:`~crucible_polars.Dataset`, each a thin call into ``ops``.

``ops`` functions take and return a :class:`~crucible_polars.plan.Plan`; a method here hands
them this dataset's plan and wraps the result with this dataset's info, split and format.

Every method returns a new lazy ``Dataset`` (a longer Polars plan plus its Features); only
``unique`` returns values and ``train_test_split`` a ``DatasetDict``. The logic lives in
``ops.columns`` (renames, sort, encode, flatten), ``ops.sampling`` (row positions and
randomness); ``map`` and ``filter`` are in :mod:`crucible_polars.dataset.functions`.

Examples
--------
>>> import polars as pl
>>> from crucible_polars import Dataset
>>> ds = Dataset.from_dict({"x": [3, 1, 2], "y": ["c", "a", "b"]})
>>> ds.sort("x").filter(pl.col("x") > 1).rename_column("y", "z").to_dict()
{'x': [2, 3], 'z': ['b', 'c']}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from crucible_polars.dataset.options import check as cache_options
from crucible_polars.dataset.state import DatasetState
from crucible_polars.features import Features
from crucible_polars.ops import columns
from crucible_polars.plan import carry_features

if TYPE_CHECKING:
    from crucible_polars.dataset.core import Dataset
    from crucible_polars.features import FeatureType


class DatasetTransforms(DatasetState):
    """Mixin with the transforms of :class:`~crucible_polars.Dataset` (see the module doc)."""

    # ------------------------------------------------------------------ expressions
    def with_columns(self, *exprs: pl.Expr | Iterable[pl.Expr], **named_exprs: pl.Expr) -> Dataset:
        """Add or replace columns with Polars expressions (features inferred for new columns).

        Parameters
        ----------
        *exprs
            Polars expressions (or lists of them), each naming its output column.
        **named_exprs
            Expressions whose output column is the keyword's name.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1, 2]}).with_columns(b=pl.col("a") * 10)["b"]
        [10, 20]
        """
        plan = self._plan
        lf = plan.lf.with_columns(*exprs, **named_exprs)
        features = carry_features(plan.features, lf.collect_schema())
        return self._with(plan.derive(lf, features, num_rows=plan.known_rows()))

    # ------------------------------------------------------------------ columns
    def select_columns(self, column_names: str | Sequence[str], **options: Any) -> Dataset:
        """Keep only these columns, in this order (projection reaches the scan).

        Parameters
        ----------
        column_names
            A column name or a list of them.
        **options
            ``datasets``' ``new_fingerprint``, accepted and ignored (there is no cache).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1], "b": [2]}).select_columns(["b"]).column_names
        ['b']
        """
        cache_options("select_columns", options)
        names = [column_names] if isinstance(column_names, str) else list(column_names)
        return self._with(columns.select_columns(self._plan, names))

    def remove_columns(self, column_names: str | Sequence[str], **options: Any) -> Dataset:
        """Drop these columns.

        Parameters
        ----------
        column_names
            A column name or a list of them.
        **options
            ``datasets``' ``new_fingerprint``, accepted and ignored (there is no cache).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1], "b": [2]}).remove_columns("a").column_names
        ['b']
        """
        cache_options("remove_columns", options)
        names = [column_names] if isinstance(column_names, str) else list(column_names)
        return self._with(columns.remove_columns(self._plan, names))

    def rename_column(
        self, original_column_name: str, new_column_name: str, **options: Any
    ) -> Dataset:
        """Rename one column (its feature follows).

        Parameters
        ----------
        original_column_name
            The column to rename.
        new_column_name
            Its new name.
        **options
            ``datasets``' ``new_fingerprint``, accepted and ignored (there is no cache).

        Raises
        ------
        ColumnNotFoundError, DuplicateColumnError
            An unknown old name, or a new name that is already a column.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1]}).rename_column("a", "b").column_names
        ['b']
        """
        cache_options("rename_column", options)
        return self.rename_columns({original_column_name: new_column_name})

    def rename_columns(self, column_mapping: Mapping[str, str], **options: Any) -> Dataset:
        """Rename several columns at once, ``{old: new}``.

        Parameters
        ----------
        column_mapping
            ``{old_name: new_name}``.
        **options
            ``datasets``' ``new_fingerprint``, accepted and ignored (there is no cache).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1], "b": [2]}).rename_columns({"a": "b", "b": "a"})[0]
        {'b': 1, 'a': 2}
        """
        cache_options("rename_columns", options)
        mapping = dict(column_mapping)
        plan = columns.rename_columns(self._plan, mapping)
        fmt_cols = self._format_columns
        renamed = None if fmt_cols is None else [mapping.get(c, c) for c in fmt_cols]
        return self._with(plan, format_columns=renamed)

    def add_column(
        self, name: str, column: Any, *, feature: FeatureType | None = None, **options: Any
    ) -> Dataset:
        """Append a column given as values (list, numpy array, Series), one per row.

        Parameters
        ----------
        name
            The new column's name.
        column
            Its values, one per row.
        feature
            Its feature type; inferred from the values when ``None``.
        **options
            ``datasets``' ``new_fingerprint``, accepted and ignored (there is no cache).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1, 2]}).add_column("b", [0.5, 1.5])[1]
        {'a': 2, 'b': 1.5}
        """
        cache_options("add_column", options)
        return self._with(columns.add_column(self._plan, name, column, feature))

    def add_item(self, item: Mapping[str, Any], **options: Any) -> Dataset:
        """Append one row, cast to this dataset's features as ``datasets.Dataset.add_item``
        does (ClassLabel names to ids, paths and bytes to images, ``"3"`` to an integer;
        ``2.5`` to an integer is an error).

        Parameters
        ----------
        item
            The row as ``{column: value}``; missing columns are null, new columns are added
            (null in the earlier rows).
        **options
            ``datasets``' ``new_fingerprint``, accepted and ignored (there is no cache).

        Raises
        ------
        FeatureCastError
            A value that does not fit its column (a ``ValueError``), named with its row.

        Examples
        --------
        >>> from crucible_polars import ClassLabel, Dataset, Features
        >>> features = Features({"label": ClassLabel(names=["neg", "pos"])})
        >>> Dataset.from_dict({"label": [0]}, features=features).add_item({"label": "pos"})["label"]
        [0, 1]
        """
        cache_options("add_item", options)
        return self._with(columns.add_item(self._plan, item))

    def cast(self, features: Features, **options: Any) -> Dataset:
        """Cast every column to ``features``; a value that does not fit fails the query with
        an error naming the column, row and value.

        Parameters
        ----------
        features
            The new features, one per column.
        **options
            ``datasets``' cache and process options (``batch_size``, ``num_proc``,
            ``keep_in_memory``...), accepted and ignored: no cache file, Polars uses every core.

        Examples
        --------
        >>> from crucible_polars import ClassLabel, Dataset, Features
        >>> ds = Dataset.from_dict({"label": ["neg", "pos"]})
        >>> ds.cast(Features({"label": ClassLabel(names=["neg", "pos"])}))["label"]
        [0, 1]
        """
        cache_options("cast", options)
        return self._with(columns.cast(self._plan, features))

    def cast_column(self, column: str, feature: FeatureType, **options: Any) -> Dataset:
        """Cast one column to a feature type.

        Parameters
        ----------
        column
            The column to cast.
        feature
            Its new feature type (a Polars dtype is read as the matching ``Value``).
        **options
            ``datasets``' ``new_fingerprint``, accepted and ignored (there is no cache).

        Examples
        --------
        >>> from crucible_polars import Dataset, Value
        >>> Dataset.from_dict({"a": [1]}).cast_column("a", Value("float32")).features["a"]
        Value('float32')
        """
        cache_options("cast_column", options)
        self._plan.check_columns(column)
        features = self._plan.features.copy()
        if isinstance(feature, pl.DataType) or (
            isinstance(feature, type) and issubclass(feature, pl.DataType)
        ):  # a Polars habit: cast_column("label", pl.Int8) means Value("int8")
            feature = Features.from_polars([(column, feature)])[column]
        features[column] = feature
        return self.cast(features)

    def class_encode_column(self, column: str, include_nulls: bool = False) -> Dataset:
        """Make a column a ``ClassLabel`` with its sorted distinct values as names.

        Reads the column once to find the labels (as ``datasets`` does).

        Parameters
        ----------
        column
            The column to encode.
        include_nulls
            Keep nulls as a class named ``"None"`` instead of null labels.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> ds = Dataset.from_dict({"y": ["pos", "neg", "pos"]}).class_encode_column("y")
        >>> ds.features["y"], ds["y"]
        (ClassLabel(names=['neg', 'pos']), [1, 0, 1])
        """
        return self._with(columns.class_encode_column(self._plan, column, include_nulls))

    def flatten(self, *, max_depth: int = 16, **options: Any) -> Dataset:
        """Replace struct columns by one column per field, named ``column.field``.

        Parameters
        ----------
        max_depth
            How many levels of nested structs to flatten.
        **options
            ``datasets``' ``new_fingerprint``, accepted and ignored (there is no cache).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [{"b": 1, "c": 2}]}).flatten().column_names
        ['a.b', 'a.c']
        """
        cache_options("flatten", options)
        return self._with(columns.flatten(self._plan, max_depth))

    def unique(self, column: str) -> list[Any]:
        """The distinct values of a column, in order of first appearance.

        Parameters
        ----------
        column
            The column to read.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [2, 1, 2]}).unique("a")
        [2, 1]
        """
        return columns.unique(self._plan, column)

    def sort(
        self,
        column_names: str | Sequence[str],
        reverse: bool | Sequence[bool] = False,
        null_placement: str = "at_end",
        *,
        descending: bool | Sequence[bool] | None = None,
        **options: Any,
    ) -> Dataset:
        """Sort by one or several columns (stable; nulls ``"at_end"`` or ``"at_start"``).

        Parameters
        ----------
        column_names
            A column or a list of columns.
        reverse
            Descending order: one flag, or one per column (``datasets``' name).
        null_placement
            ``"at_end"``/``"last"`` (default) or ``"at_start"``/``"first"``.
        descending
            Polars' name for ``reverse``; wins over it when given.
        **options
            ``datasets``' cache options (``keep_in_memory``, ``new_fingerprint``...),
            accepted and ignored: there is no cache file.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> ds = Dataset.from_dict({"a": [1, 2, 1], "b": ["x", "y", "z"]})
        >>> ds.sort(["a", "b"], descending=[False, True])["b"]
        ['z', 'x', 'y']
        >>> ds.sort("b", True)["b"]
        ['z', 'y', 'x']
        """
        cache_options("sort", options)
        flags = reverse if descending is None else descending
        return self._with(columns.sort(self._plan, column_names, flags, null_placement))
