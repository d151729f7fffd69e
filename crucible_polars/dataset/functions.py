"""``map`` and ``filter`` of :class:`~crucible_polars.Dataset`: Python functions run lazily by
batch inside the plan (``ops.map_filter``, with the calling convention of
:mod:`crucible_polars.udf`), and ``filter`` by Polars expressions.

Examples
--------
>>> from crucible_polars import Dataset
>>> ds = Dataset.from_dict({"x": [3, 1, 2]})
>>> ds.map(lambda row: {"y": row["x"] * 2}).filter(lambda row: row["y"] > 2)["y"]
[6, 4]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from crucible_polars.dataset.state import DatasetState
from crucible_polars.ops.map_filter import filter_with_function, map_with_function
from crucible_polars.udf import FILTER_OPTIONS, check_options

if TYPE_CHECKING:
    from crucible_polars.dataset.core import Dataset
    from crucible_polars.features import Features


FILTER_POSITIONAL = ("with_indices", "with_rank", "input_columns", "batched", "batch_size")
"""``datasets.Dataset.filter``'s first positional arguments after the function."""


class DatasetFunctions(DatasetState):
    """Mixin with ``map`` and ``filter`` of :class:`~crucible_polars.Dataset`."""

    def filter(
        self,
        function: pl.Expr | Callable[..., Any] | None = None,
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
            A ``pl.Expr``, or a function returning a truthy value per row (``None``: keep
            every row, as ``datasets``).
        with_indices, with_rank, input_columns, batched, batch_size, fn_kwargs
            As in ``datasets.Dataset.filter`` (an ``async def`` function is awaited).
        **options
            ``num_proc`` (worker processes, outputs in order), ``desc`` (the progress
            bar's text); ``datasets``' cache options are accepted and ignored.
        *predicates
            More Polars expressions; all of them (and ``function``) must hold, as in Polars'
            ``filter``. After a Python function: ``datasets``' positional arguments
            (``with_indices``, ``with_rank``, ``input_columns``, ``batched``, ``batch_size``).

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
        if predicates and callable(function) and not isinstance(function, pl.Expr):
            positional = dict(zip(FILTER_POSITIONAL, predicates, strict=False))
            if len(predicates) > len(FILTER_POSITIONAL) or any(
                isinstance(p, pl.Expr) for p in predicates
            ):
                raise TypeError(
                    "filter takes one function, or Polars expressions: "
                    "ds.filter(pl.col('a') > 1, pl.col('b') < 2); after a function, datasets' "
                    f"positional arguments {list(FILTER_POSITIONAL)}."
                )
            given: dict[str, Any] = {"with_indices": with_indices, "with_rank": with_rank}
            given.update(input_columns=input_columns, batched=batched, batch_size=batch_size)
            given.update(positional)
            return self.filter(function, **given, fn_kwargs=fn_kwargs, **options)
        if function is None and not predicates:  # datasets: no function keeps every row
            check_options(options, "filter", FILTER_OPTIONS | {"num_proc", "desc"})
            return self._with(self._plan)
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
        assert function is not None  # predicates are expressions
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

    def map(
        self,
        function: Callable[..., Any] | None = None,
        with_indices: bool = False,
        with_rank: bool = False,
        input_columns: str | Sequence[str] | None = None,
        batched: bool = False,
        batch_size: int | None = 1000,
        drop_last_batch: bool = False,
        remove_columns: str | Sequence[str] | None = None,
        *,
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
            ``desc`` (the progress bar's text), ``try_original_type`` (as in ``datasets``),
            ``on_mixed_types`` (``"use_json"``, the default as in ``datasets``: a returned
            column of values of no one type gets the ``Json`` feature where they mix;
            ``None``: it is an error);
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
