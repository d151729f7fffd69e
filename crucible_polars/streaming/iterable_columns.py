"""The column transforms of :class:`~crucible_polars.IterableDataset`: Polars expressions
(pushed into the reads when they lead the pipeline), Python functions, renames and casts.

Each returns a new dataset with one more step, and its Features when they can be known
without reading (an expression's output schema, computed on an empty frame).

Examples
--------
>>> import polars as pl
>>> import crucible_polars as cp
>>> ds = cp.Dataset.from_dict({"a": [1, 2, 3]}).to_iterable_dataset()
>>> ds = ds.filter(pl.col("a") > 1).rename_column("a", "b")
>>> ds.features, [r["b"] for r in ds]
(Features({'b': Value('int64')}), [2, 3])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, cast

import polars as pl

from crucible_polars.errors import ColumnNotFoundError, DuplicateColumnError
from crucible_polars.features import Features, feature_to_polars
from crucible_polars.streaming.pipeline import ExprStep, FunctionStep, RowsStep, Step
from crucible_polars.streaming.transforms import (
    AddColumn,
    lazy_cast,
    lazy_drop,
    lazy_filter,
    lazy_rename,
    lazy_select,
    lazy_with_columns,
)

if TYPE_CHECKING:
    from crucible_polars.features import FeatureType
    from crucible_polars.streaming.iterable import IterableDataset


def _derive_features(old: Features | None, schema: pl.Schema) -> Features | None:
    """Features for a new schema: a column keeps its feature while its Polars type is the same."""
    if old is None:
        return None
    inferred = Features.from_polars(schema)
    return Features(
        {
            name: old[name]
            if name in old and feature_to_polars(old[name]) == dtype
            else inferred[name]
            for name, dtype in schema.items()
        }
    )


class ColumnTransforms:
    """Mixin with the column transforms of :class:`~crucible_polars.IterableDataset`."""

    _features: Features | None
    _format: str
    _steps: tuple[Step, ...]

    def _found(self) -> tuple[dict[str, Any], ...]:
        """What the ``map`` steps so far find of their outputs' types (``Json`` columns)."""
        return tuple(s.found for s in self._steps if isinstance(s, FunctionStep))

    def _derive(
        self, step: Step | None = None, features: Any = "same", **changes: Any
    ) -> IterableDataset:
        """A new dataset with ``step`` appended (defined by the dataset class)."""
        raise NotImplementedError

    def _expr(self, name: str, transform: Callable[[pl.LazyFrame], pl.LazyFrame]) -> Any:
        """A new dataset with an expression step, and its features when they are known."""
        features = None
        if self._features is not None:
            schema = transform(pl.LazyFrame(schema=self._features.to_polars())).collect_schema()
            features = _derive_features(self._features, schema)
        return self._derive(ExprStep(name, transform), features)

    def _check_columns(self, columns: str | Iterable[str]) -> list[str]:
        names = [columns] if isinstance(columns, str) else list(columns)
        if self._features is not None:
            missing = [c for c in names if c not in self._features]
            if missing:
                raise ColumnNotFoundError(
                    missing[0] if len(missing) == 1 else missing, list(self._features)
                )
        return names

    # ------------------------------------------------------------------ expressions
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
    ) -> IterableDataset:
        """Keep rows where a Polars expression (pushed into the reads) or a function is true.

        A function is called as :meth:`Dataset.filter <crucible_polars.Dataset.filter>`
        calls it (same arguments, same output format, same errors). The parameters are
        ``datasets``' ``IterableDataset.filter`` ones, in its order: like it, there is no
        ``num_proc`` nor ``desc`` (a ``TypeError``).

        Parameters
        ----------
        function
            A ``pl.Expr``, or a function returning a truthy value per row (``None``: keep all).
        with_indices, input_columns, batched, batch_size, fn_kwargs
            As in ``datasets``' ``IterableDataset.filter``.
        with_rank
            Also pass the rank (``None``: one process), as :meth:`Dataset.filter
            <crucible_polars.Dataset.filter>` does (``datasets``' streaming ``filter`` has
            no such option).

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": [1, 2, 3]}).to_iterable_dataset()
        >>> [r["a"] for r in ds.filter(pl.col("a") > 1)]
        [2, 3]
        >>> [r["a"] for r in ds.filter(lambda r: r["a"] < 3)]
        [1, 2]
        """
        if isinstance(function, pl.Expr):
            if with_indices or with_rank or input_columns or batched or fn_kwargs:
                raise TypeError("An expression filter takes no function options.")
            expr = function
            return self._derive(ExprStep("filter", partial(lazy_filter, expr=expr)))
        if function is None:
            return cast("IterableDataset", self)
        columns = tuple(self._check_columns(input_columns)) if input_columns else None
        return self._derive(
            FunctionStep(
                "filter",
                function,
                batched=batched,
                batch_size=batch_size,
                with_indices=with_indices,
                with_rank=with_rank,
                rank=None,
                input_columns=columns,
                fn_kwargs=fn_kwargs,
                input_features=self._features,
                fmt=self._format,
                upstream=self._found(),
            )
        )

    def with_columns(
        self, *exprs: pl.Expr | Iterable[pl.Expr], **named_exprs: pl.Expr
    ) -> IterableDataset:
        """Add or replace columns with Polars expressions.

        Parameters
        ----------
        *exprs
            Polars expressions (or lists of them), each naming its output column.
        **named_exprs
            Expressions whose output column is the keyword's name.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": [1, 2]}).to_iterable_dataset()
        >>> [r["b"] for r in ds.with_columns(b=pl.col("a") * 10)]
        [10, 20]
        """
        return self._expr(
            "with_columns", partial(lazy_with_columns, exprs=exprs, named=dict(named_exprs))
        )

    def map(
        self,
        function: Callable[..., Any] | None = None,
        with_indices: bool = False,
        input_columns: str | Sequence[str] | None = None,
        batched: bool = False,
        batch_size: int | None = 1000,
        drop_last_batch: bool = False,
        remove_columns: str | Sequence[str] | None = None,
        features: Features | None = None,
        fn_kwargs: Mapping[str, Any] | None = None,
        *,
        with_rank: bool = False,
    ) -> IterableDataset:
        """Apply a Python function to every row (or batch, with ``batched=True``), as
        ``datasets``' ``IterableDataset.map``: the features become unknown unless given.

        The function is called as :meth:`Dataset.map <crucible_polars.Dataset.map>` calls
        it: same arguments, the rows (or batches) in the dataset's output format (numpy
        arrays after ``with_format("numpy")``), the same output typing and errors. The
        parameters are ``datasets``' ``IterableDataset.map`` ones, in its order: like it,
        there is no ``num_proc`` nor ``desc`` (a ``TypeError``).

        Parameters
        ----------
        function
            The function; ``None`` returns the dataset unchanged.
        with_indices, input_columns, batched, batch_size, drop_last_batch
            As in :meth:`Dataset.map <crucible_polars.Dataset.map>`.
        remove_columns
            Input columns to drop from the output.
        features
            The output Features (values are cast to them; they stay known).
        fn_kwargs
            Keyword arguments for the function.
        with_rank
            Also pass the rank (``None``: one process), as :meth:`Dataset.map
            <crucible_polars.Dataset.map>` does (``datasets``' streaming ``map`` has no
            such option).

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": [1, 2, 3]}).to_iterable_dataset()
        >>> list(ds.map(lambda b: {"a": [x * 2 for x in b["a"]]}, batched=True, batch_size=2))
        [{'a': 2}, {'a': 4}, {'a': 6}]
        """
        if function is None:
            return cast("IterableDataset", self)
        columns = tuple(self._check_columns(input_columns)) if input_columns else None
        removed = tuple(self._check_columns(remove_columns)) if remove_columns else ()
        step = FunctionStep(
            "map",
            function,
            batched=batched,
            batch_size=batch_size,
            drop_last_batch=drop_last_batch,
            with_indices=with_indices,
            with_rank=with_rank,
            rank=None,
            input_columns=columns,
            remove_columns=removed,
            features=Features(features) if features else None,
            fn_kwargs=fn_kwargs,
            input_features=self._features,
            fmt=self._format,
            upstream=self._found(),
        )
        return self._derive(step, Features(features) if features else None)

    def add_column(self, name: str, column: Sequence[Any] | Any) -> IterableDataset:
        """Add a column: row ``i`` of the stream gets ``column[i]`` (a list, array or Series).

        A stream with more rows than values fails at the first row without one.

        Parameters
        ----------
        name
            The new column's name.
        column
            The values, one per row.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": [1, 2]}).to_iterable_dataset()
        >>> list(ds.add_column("b", ["x", "y"]))
        [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'y'}]
        """
        if self._features is not None and name in self._features:
            raise DuplicateColumnError([name], "add_column")
        values = pl.Series(name, column)
        features = None
        if self._features is not None:
            features = Features(
                {**self._features, **Features.from_polars(pl.Schema({name: values.dtype}))}
            )
        return self._derive(RowsStep(f"add_column({name})", AddColumn(name, values)), features)

    def select_columns(self, column_names: str | Sequence[str]) -> IterableDataset:
        """Keep only these columns (projection reaches the reads).

        Parameters
        ----------
        column_names
            A column name or a list of them.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": [1], "b": [2]}).to_iterable_dataset()
        >>> list(ds.select_columns("b"))
        [{'b': 2}]
        """
        names = self._check_columns(column_names)
        return self._expr("select_columns", partial(lazy_select, names=names))

    def remove_columns(self, column_names: str | Sequence[str]) -> IterableDataset:
        """Drop these columns.

        Parameters
        ----------
        column_names
            A column name or a list of them.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": [1], "b": [2]}).to_iterable_dataset()
        >>> ds.remove_columns("a").column_names
        ['b']
        """
        names = self._check_columns(column_names)
        return self._expr("remove_columns", partial(lazy_drop, names=names))

    def rename_column(self, original_column_name: str, new_column_name: str) -> IterableDataset:
        """Rename one column.

        Parameters
        ----------
        original_column_name
            The column to rename.
        new_column_name
            Its new name.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": [1]}).to_iterable_dataset()
        >>> list(ds.rename_column("a", "z"))
        [{'z': 1}]
        """
        return self.rename_columns({original_column_name: new_column_name})

    def rename_columns(self, column_mapping: Mapping[str, str]) -> IterableDataset:
        """Rename columns (``{old: new}``).

        Parameters
        ----------
        column_mapping
            ``{old_name: new_name}``.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": [1], "b": [2]}).to_iterable_dataset()
        >>> ds.rename_columns({"a": "x", "b": "y"}).column_names
        ['x', 'y']
        """
        mapping = dict(column_mapping)
        self._check_columns(list(mapping))
        if self._features is not None:
            from crucible_polars.ops.columns import check_unique_names

            check_unique_names([mapping.get(c, c) for c in self._features], "rename_columns")
        renamed = None
        if self._features is not None:
            renamed = Features({mapping.get(k, k): v for k, v in self._features.items()})
        return self._derive(ExprStep("rename", partial(lazy_rename, mapping=mapping)), renamed)

    def cast(self, features: Features) -> IterableDataset:
        """Cast every column to ``features`` (a value that does not fit fails the iteration
        with an error naming the column and value).

        Parameters
        ----------
        features
            The new features, one per column.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": [1]}).to_iterable_dataset()
        >>> ds.cast(cp.Features({"a": cp.Value("float32")})).features
        Features({'a': Value('float32')})
        """
        target = Features(features)
        return self._derive(ExprStep("cast", partial(lazy_cast, features=target)), target)

    def cast_column(self, column: str, feature: FeatureType) -> IterableDataset:
        """Cast one column to a feature type.

        Parameters
        ----------
        column
            The column to cast.
        feature
            Its new feature type.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": [1]}).to_iterable_dataset()
        >>> list(ds.cast_column("a", cp.Value("string")))
        [{'a': '1'}]
        """
        self._check_columns(column)
        if self._features is None:
            raise ValueError(
                "cast_column needs the dataset's features, which are unknown after map() "
                "without features=...; pass features= to map, or use cast(features)."
            )
        target = self._features.copy()
        target[column] = feature
        return self.cast(target)
