"""The transform methods of :class:`~crucible_polars.Dataset`, each a thin call into ``ops``.

``ops`` functions take and return a :class:`~crucible_polars.plan.Plan`; a method here hands
them this dataset's plan and wraps the result with this dataset's info, split and format.

Every method returns a new lazy ``Dataset`` (a longer Polars plan plus its Features); only
``unique`` returns values and ``train_test_split`` a ``DatasetDict``. The logic lives in
``ops.columns`` (renames, sort, encode, flatten), ``ops.sampling`` (row positions and
randomness) and ``ops.map_filter`` (Python functions, run lazily by batch).

Examples
--------
>>> import polars as pl
>>> from crucible_polars import Dataset
>>> ds = Dataset.from_dict({"x": [3, 1, 2], "y": ["c", "a", "b"]})
>>> ds.sort("x").filter(pl.col("x") > 1).rename_column("y", "z").to_dict()
{'x': [2, 3], 'z': ['b', 'c']}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from crucible_polars.dataset.state import DatasetState
from crucible_polars.features import Features
from crucible_polars.ops import columns
from crucible_polars.ops.map_filter import filter_with_function, map_with_function
from crucible_polars.plan import carry_features

if TYPE_CHECKING:
    from crucible_polars.dataset.core import Dataset
    from crucible_polars.features import FeatureType


class DatasetTransforms(DatasetState):
    """Mixin with the transforms of :class:`~crucible_polars.Dataset` (see the module doc)."""

    # ------------------------------------------------------------------ expressions
    def filter(
        self,
        function: pl.Expr | Callable[..., Any],
        *predicates: pl.Expr,
        with_indices: bool = False,
        with_rank: bool = False,
        input_columns: str | Sequence[str] | None = None,
        batched: bool = False,
        batch_size: int | None = 1000,
        fn_kwargs: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> Dataset:
        """Keep the rows where a Polars expression, or a Python function, is true.

        An expression joins the plan and is pushed into the scan. A function runs lazily by
        batch, as in ``datasets``: ``function(row)`` (or ``function(batch) -> list[bool]``
        with ``batched=True``), given ``input_columns`` as positional arguments instead of
        the row when set, and the row index (or the batch's indices) with ``with_indices``.

        Parameters
        ----------
        function
            A ``pl.Expr``, or a function returning a truthy value per row.
        with_indices, with_rank, input_columns, batched, batch_size, fn_kwargs
            As in ``datasets.Dataset.filter`` (an ``async def`` function is awaited).
        **options
            ``num_proc`` (worker processes, outputs in order), ``desc`` (the progress
            bar's text); ``datasets``' cache options are accepted and ignored.
        *predicates
            More Polars expressions; all of them (and ``function``) must hold, as in Polars'
            ``filter``.

        Raises
        ------
        FunctionOutputError
            A batched function returning a number of values other than the batch's rows.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> ds = Dataset.from_dict({"a": [1, 2, 3]})
        >>> ds.filter(pl.col("a") >= 2)["a"], ds.filter(lambda row: row["a"] != 2)["a"]
        ([2, 3], [1, 3])
        """
        if predicates:  # Polars' filter(p1, p2): all must hold
            exprs = [p for p in (function, *predicates) if isinstance(p, pl.Expr)]
            if len(exprs) != 1 + len(predicates):
                raise TypeError(
                    "filter takes one function, or Polars expressions: "
                    "ds.filter(pl.col('a') > 1, pl.col('b') < 2)."
                )
            function = pl.all_horizontal(exprs)
        if isinstance(function, pl.Expr):
            if with_indices or with_rank or input_columns or batched or fn_kwargs or options:
                raise TypeError("An expression filter takes no function options.")
            return self._with(self._plan.derive(self._plan.lf.filter(function)))
        plan = filter_with_function(
            self._plan,
            function,
            fmt=self._format,
            with_indices=with_indices,
            with_rank=with_rank,
            input_columns=input_columns,
            batched=batched,
            batch_size=batch_size,
            fn_kwargs=fn_kwargs,
            **options,
        )
        return self._with(plan)

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

    def map(
        self,
        function: Callable[..., Any] | None = None,
        *,
        with_indices: bool = False,
        with_rank: bool = False,
        input_columns: str | Sequence[str] | None = None,
        batched: bool = False,
        batch_size: int | None = 1000,
        drop_last_batch: bool = False,
        remove_columns: str | Sequence[str] | None = None,
        features: Features | None = None,
        fn_kwargs: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> Dataset:
        """Apply a Python function to every row (or batch), lazily, batch by batch.

        As in ``datasets``: ``function(row) -> dict`` or, with ``batched=True``,
        ``function(batch) -> dict[str, list]`` (a batched function may return another number
        of rows when the input columns are removed). The output columns update the row;
        ``remove_columns`` are dropped first. The function runs inside the plan when rows
        are asked for (once on the first batch at call time, to learn the output types,
        unless ``features=`` gives them); columns it does not touch stay Polars columns.
        For transforms that Polars expressions can say, :meth:`with_columns` is much faster.

        Parameters
        ----------
        function
            The function; ``None`` is the identity.
        with_indices
            Also pass the row index (batched: the list of indices).
        with_rank
            Also pass the process rank (``None``: one process, as ``datasets`` without
            ``num_proc``; with ``num_proc``, the rank of the worker running the batch).
        input_columns
            Pass these columns as positional arguments instead of the row/batch dict.
        batched, batch_size, drop_last_batch
            Call once per batch of ``batch_size`` rows (``None`` or ``<= 0``: one batch).
        remove_columns
            Input columns to drop from the output.
        features
            The output Features (no first-batch inference; values are cast to them).
        fn_kwargs
            Keyword arguments for the function.
        **options
            ``num_proc`` (worker processes; outputs in order, identical to one process),
            ``desc`` (the progress bar's text), ``try_original_type`` (as in ``datasets``);
            ``datasets``' cache options (``load_from_cache_file``...) are accepted and
            ignored. Any other keyword is a ``TypeError``.

        Raises
        ------
        FunctionOutputError
            A batch whose output has the wrong number of rows, columns of different lengths,
            or types other than the first batch's; the message names the batch's rows.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> ds = Dataset.from_dict({"text": ["a b", "c"]})
        >>> ds.map(lambda row: {"n": len(row["text"].split())})["n"]
        [2, 1]
        >>> words = ds.map(
        ...     lambda b: {"word": [w for t in b["text"] for w in t.split()]},
        ...     batched=True, remove_columns=["text"],
        ... )
        >>> words["word"]
        ['a', 'b', 'c']
        """
        plan = map_with_function(
            self._plan,
            function,
            fmt=self._format,
            with_indices=with_indices,
            with_rank=with_rank,
            input_columns=input_columns,
            batched=batched,
            batch_size=batch_size,
            drop_last_batch=drop_last_batch,
            remove_columns=remove_columns,
            features=features,
            fn_kwargs=fn_kwargs,
            **options,
        )
        return self._with(plan)

    # ------------------------------------------------------------------ columns
    def select_columns(self, column_names: str | Sequence[str]) -> Dataset:
        """Keep only these columns, in this order (projection reaches the scan).

        Parameters
        ----------
        column_names
            A column name or a list of them.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1], "b": [2]}).select_columns(["b"]).column_names
        ['b']
        """
        names = [column_names] if isinstance(column_names, str) else list(column_names)
        return self._with(columns.select_columns(self._plan, names))

    def remove_columns(self, column_names: str | Sequence[str]) -> Dataset:
        """Drop these columns.

        Parameters
        ----------
        column_names
            A column name or a list of them.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1], "b": [2]}).remove_columns("a").column_names
        ['b']
        """
        names = [column_names] if isinstance(column_names, str) else list(column_names)
        return self._with(columns.remove_columns(self._plan, names))

    def rename_column(self, original_column_name: str, new_column_name: str) -> Dataset:
        """Rename one column (its feature follows).

        Parameters
        ----------
        original_column_name
            The column to rename.
        new_column_name
            Its new name.

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
        return self.rename_columns({original_column_name: new_column_name})

    def rename_columns(self, column_mapping: Mapping[str, str]) -> Dataset:
        """Rename several columns at once, ``{old: new}``.

        Parameters
        ----------
        column_mapping
            ``{old_name: new_name}``.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1], "b": [2]}).rename_columns({"a": "b", "b": "a"})[0]
        {'b': 1, 'a': 2}
        """
        mapping = dict(column_mapping)
        plan = columns.rename_columns(self._plan, mapping)
        fmt_cols = self._format_columns
        renamed = None if fmt_cols is None else [mapping.get(c, c) for c in fmt_cols]
        return self._with(plan, format_columns=renamed)

    def add_column(self, name: str, column: Any, feature: FeatureType | None = None) -> Dataset:
        """Append a column given as values (list, numpy array, Series), one per row.

        Parameters
        ----------
        name
            The new column's name.
        column
            Its values, one per row.
        feature
            Its feature type; inferred from the values when ``None``.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1, 2]}).add_column("b", [0.5, 1.5])[1]
        {'a': 2, 'b': 1.5}
        """
        return self._with(columns.add_column(self._plan, name, column, feature))

    def add_item(self, item: Mapping[str, Any]) -> Dataset:
        """Append one row, cast to this dataset's features as ``datasets.Dataset.add_item``
        does (ClassLabel names to ids, paths and bytes to images, ``"3"`` to an integer;
        ``2.5`` to an integer is an error).

        Parameters
        ----------
        item
            The row as ``{column: value}``; missing columns are null, new columns are added
            (null in the earlier rows).

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
        return self._with(columns.add_item(self._plan, item))

    def cast(self, features: Features) -> Dataset:
        """Cast every column to ``features``; a value that does not fit fails the query with
        an error naming the column, row and value.

        Parameters
        ----------
        features
            The new features, one per column.

        Examples
        --------
        >>> from crucible_polars import ClassLabel, Dataset, Features
        >>> ds = Dataset.from_dict({"label": ["neg", "pos"]})
        >>> ds.cast(Features({"label": ClassLabel(names=["neg", "pos"])}))["label"]
        [0, 1]
        """
        return self._with(columns.cast(self._plan, features))

    def cast_column(self, column: str, feature: FeatureType) -> Dataset:
        """Cast one column to a feature type.

        Parameters
        ----------
        column
            The column to cast.
        feature
            Its new feature type (a Polars dtype is read as the matching ``Value``).

        Examples
        --------
        >>> from crucible_polars import Dataset, Value
        >>> Dataset.from_dict({"a": [1]}).cast_column("a", Value("float32")).features["a"]
        Value('float32')
        """
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

    def flatten(self, max_depth: int = 16) -> Dataset:
        """Replace struct columns by one column per field, named ``column.field``.

        Parameters
        ----------
        max_depth
            How many levels of nested structs to flatten.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [{"b": 1, "c": 2}]}).flatten().column_names
        ['a.b', 'a.c']
        """
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
        descending: bool | Sequence[bool] = False,
        *,
        reverse: bool | Sequence[bool] | None = None,
        null_placement: str = "at_end",
    ) -> Dataset:
        """Sort by one or several columns (stable; nulls ``"at_end"`` or ``"at_start"``).

        Parameters
        ----------
        column_names
            A column or a list of columns.
        descending
            One flag, or one per column. ``reverse=`` is ``datasets``' name for it.
        null_placement
            ``"at_end"``/``"last"`` (default) or ``"at_start"``/``"first"``.
        reverse
            ``datasets``' name for ``descending``; wins over it when given.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> ds = Dataset.from_dict({"a": [1, 2, 1], "b": ["x", "y", "z"]})
        >>> ds.sort(["a", "b"], descending=[False, True])["b"]
        ['z', 'x', 'y']
        """
        flags = descending if reverse is None else reverse
        return self._with(columns.sort(self._plan, column_names, flags, null_placement))
