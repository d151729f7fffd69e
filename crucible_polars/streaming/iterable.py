"""IterableDataset and IterableDatasetDict: streaming datasets with exact resume.

An :class:`IterableDataset` is a stream source (files, or a lazy plan) plus the steps of a
pipeline; nothing is read until it is iterated, and then only a few frames at a time. Each
transform returns a new dataset. See :mod:`crucible_polars.streaming.nodes` for how every
step resumes exactly from ``state_dict()``.

Examples
--------
>>> import polars as pl
>>> import crucible_polars as cp
>>> ds = cp.Dataset.from_dict({"x": list(range(6))}).to_iterable_dataset()
>>> ds = ds.filter(pl.col("x") % 2 == 0).with_columns(y=pl.col("x") * 10)
>>> [row["y"] for row in ds]
[0, 20, 40]
"""

from __future__ import annotations

import copy
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import polars as pl

from crucible_polars.errors import ColumnNotFoundError
from crucible_polars.features import Features, List, cast_lazyframe, feature_to_polars
from crucible_polars.formatting import check_format, format_batch, format_row, to_python_rows
from crucible_polars.info import DatasetInfo
from crucible_polars.streaming.distributed import dataloader_worker, register_with_torch
from crucible_polars.streaming.nodes import RebatchNode, cursor_at, cursor_rows
from crucible_polars.streaming.pipeline import (
    BatchStep,
    BuildContext,
    ExprStep,
    FunctionStep,
    ShardStep,
    ShuffleStep,
    SkipStep,
    Step,
    TakeStep,
    build,
    describe,
)
from crucible_polars.udf import check_options, rank_for

if TYPE_CHECKING:
    import numpy as np

    from crucible_polars.features import FeatureType
    from crucible_polars.streaming.nodes import Node
    from crucible_polars.streaming.source import StreamSource

STATE_VERSION = 1
ROWS_AT_ONCE = 4_096
"""Rows converted to Python (and images decoded) at a time: the first rows come quickly,
and fewer live row dicts keep Python's garbage collector cheap (measured: a 2M-row pass
takes 4.3 s in slices of 4,096 rows, 5.5 s in slices of 16,384, 9 s in slices of 65,536)."""


class _Position:
    """Where a row iteration is: in a frame from :func:`cursor_rows`, how many rows of it
    were yielded (counted from the rows left in the iterator being yielded from)."""

    __slots__ = ("after", "before", "count", "done", "height", "rows", "skipped")

    def __init__(self, before: Any, skipped: int, height: int, after: Any) -> None:
        self.before, self.skipped, self.height, self.after = before, skipped, height, after
        self.done = 0
        self.count = 0
        self.rows: Iterator[Any] | None = None

    def follow(self, done: int, rows: list[Any]) -> Iterator[Any]:
        """Rows ``done`` onwards of the frame, to be yielded from the iterator returned."""
        self.done, self.count, self.rows = done, len(rows), iter(rows)
        return self.rows

    def cursor(self) -> dict[str, Any]:
        used = self.done
        if self.rows is not None:
            used += self.count - operator.length_hint(self.rows)
        return cursor_at(self.before, self.skipped, used, self.height, self.after)


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


def _features_for(frame: pl.DataFrame, known: Features | None) -> Features:
    """The known features of the frame's columns, inferred for the others."""
    if known is not None and list(known) == frame.columns:
        return known
    inferred = Features.from_polars(frame.schema)
    known = known or Features()
    return Features({c: known[c] if c in known else inferred[c] for c in frame.columns})


# Expression steps are module-level functions (bound with functools.partial), so datasets
# pickle into DataLoader workers started with "spawn" or "forkserver".
def _filter(lf: pl.LazyFrame, expr: pl.Expr) -> pl.LazyFrame:
    return lf.filter(expr)


def _with_columns(
    lf: pl.LazyFrame, exprs: tuple[Any, ...], named: dict[str, pl.Expr]
) -> pl.LazyFrame:
    return lf.with_columns(*exprs, **named)


def _select(lf: pl.LazyFrame, names: list[str]) -> pl.LazyFrame:
    return lf.select(names)


def _drop(lf: pl.LazyFrame, names: list[str]) -> pl.LazyFrame:
    return lf.drop(names)


def _rename(lf: pl.LazyFrame, mapping: dict[str, str]) -> pl.LazyFrame:
    return lf.rename(mapping)


def _cast(lf: pl.LazyFrame, features: Features) -> pl.LazyFrame:
    return cast_lazyframe(lf, features)


class IterableDataset:
    """A streaming dataset: rows are read file by file, row group by row group, on demand.

    Build one with ``load_dataset(..., streaming=True)`` or
    :meth:`Dataset.to_iterable_dataset`. It iterates rows (dicts, images decoded), or
    batches after :meth:`batch`; :meth:`state_dict` / :meth:`load_state_dict` resume exactly;
    under a ``torch.utils.data.DataLoader`` with several workers each worker reads its own
    files (or row groups, or rows when there are fewer of those than workers).

    Examples
    --------
    >>> import crucible_polars as cp
    >>> ds = cp.Dataset.from_dict({"a": [1, 2, 3]}).to_iterable_dataset()
    >>> it = iter(ds); next(it)
    {'a': 1}
    >>> state = ds.state_dict()
    >>> ds.load_state_dict(state); list(ds)
    [{'a': 2}, {'a': 3}]
    """

    def __init__(
        self,
        source: StreamSource,
        features: Features | None,
        *,
        steps: Sequence[Step] = (),
        info: DatasetInfo | None = None,
        split: str | None = None,
        format: str | None = None,
        format_columns: Sequence[str] | None = None,
        epoch: int = 0,
    ) -> None:
        self._source = source
        self._features = features
        self._steps: tuple[Step, ...] = tuple(steps)
        self._info = info or DatasetInfo()
        self._split = split
        self._format = check_format(format)
        self._format_columns = list(format_columns) if format_columns is not None else None
        self._epoch = epoch
        self._state: dict[str, Any] | None = None
        self._live: _Position | None = None
        self._starting_state: dict[str, Any] | None = None
        register_with_torch(IterableDataset)

    # ------------------------------------------------------------------ plumbing
    def _derive(
        self, step: Step | None = None, features: Any = "same", **changes: Any
    ) -> IterableDataset:
        kwargs: dict[str, Any] = {
            "steps": self._steps + ((step,) if step is not None else ()),
            "info": self._info,
            "split": self._split,
            "format": self._format,
            "format_columns": self._format_columns,
            "epoch": self._epoch,
        }
        kwargs.update(changes)
        return IterableDataset(
            self._source, self._features if features == "same" else features, **kwargs
        )

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

    def _signature(self) -> str:
        """The source (format and number of files) and the steps, as stored in states."""
        source = f"{self._source.format}[{len(self._source.files)}]"
        return ">".join([source, describe(self._steps)]) if self._steps else source

    def _batched(self) -> bool:
        return any(isinstance(s, BatchStep) for s in self._steps)

    # ------------------------------------------------------------------ inspect
    @property
    def features(self) -> Features | None:
        """The Features, or ``None`` when unknown (after ``map`` without ``features=``).

        Examples
        --------
        >>> import crucible_polars as cp
        >>> cp.Dataset.from_dict({"a": [1]}).to_iterable_dataset().features
        Features({'a': Value('int64')})
        """
        return self._features

    @property
    def column_names(self) -> list[str] | None:
        """Column names (``None`` when the features are unknown).

        Examples
        --------
        >>> import crucible_polars as cp
        >>> cp.Dataset.from_dict({"a": [1]}).to_iterable_dataset().column_names
        ['a']
        """
        return None if self._features is None else list(self._features)

    @property
    def info(self) -> DatasetInfo:
        """Descriptive metadata of the dataset."""
        return self._info

    @property
    def split(self) -> str | None:
        """The split name, when loaded as a split."""
        return self._split

    @property
    def num_shards(self) -> int:
        """Shards the stream can be divided into without splitting files (or plan ranges).

        Examples
        --------
        >>> import crucible_polars as cp
        >>> cp.Dataset.from_dict({"a": [1, 2]}).to_iterable_dataset(num_shards=2).num_shards
        2
        """
        return self._source.num_shards

    n_shards = num_shards

    @property
    def epoch(self) -> int:
        """The epoch set by :meth:`set_epoch`."""
        return self._epoch

    def __repr__(self) -> str:
        names = list(self._features) if self._features is not None else "Unknown"
        return f"IterableDataset({{\n    features: {names},\n    num_shards: {self.num_shards}\n}})"

    # ------------------------------------------------------------------ expressions
    def filter(
        self,
        function: pl.Expr | Callable[..., Any] | None = None,
        *,
        with_indices: bool = False,
        with_rank: bool = False,
        input_columns: str | Sequence[str] | None = None,
        batched: bool = False,
        batch_size: int | None = 1000,
        fn_kwargs: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> IterableDataset:
        """Keep rows where a Polars expression (pushed into the reads) or a function is true.

        A function is called as :meth:`Dataset.filter <crucible_polars.Dataset.filter>`
        calls it (same arguments, same output format, same errors).

        Parameters
        ----------
        function
            A ``pl.Expr``, or a function returning a truthy value per row (``None``: keep all).
        with_indices, with_rank, input_columns, batched, batch_size, fn_kwargs
            As in ``datasets``' ``filter``; ``datasets``' cache and process options
            (``num_proc``, ``desc``, ...) are accepted and ignored.

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
            if with_indices or with_rank or input_columns or batched or fn_kwargs or options:
                raise TypeError("An expression filter takes no function options.")
            expr = function
            return self._derive(ExprStep("filter", partial(_filter, expr=expr)))
        check_options(options, "filter")
        if function is None:
            return self
        columns = tuple(self._check_columns(input_columns)) if input_columns else None
        return self._derive(
            FunctionStep(
                "filter", function, batched=batched, batch_size=batch_size,
                with_indices=with_indices, with_rank=with_rank, rank=rank_for(options),
                input_columns=columns, fn_kwargs=fn_kwargs, input_features=self._features,
                fmt=self._format,
            )
        )  # fmt: skip

    def with_columns(
        self, *exprs: pl.Expr | Iterable[pl.Expr], **named_exprs: pl.Expr
    ) -> IterableDataset:
        """Add or replace columns with Polars expressions.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": [1, 2]}).to_iterable_dataset()
        >>> [r["b"] for r in ds.with_columns(b=pl.col("a") * 10)]
        [10, 20]
        """
        return self._expr(
            "with_columns", partial(_with_columns, exprs=exprs, named=dict(named_exprs))
        )

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
    ) -> IterableDataset:
        """Apply a Python function to every row (or batch, with ``batched=True``), as
        ``datasets``' ``IterableDataset.map``: the features become unknown unless given.

        The function is called as :meth:`Dataset.map <crucible_polars.Dataset.map>` calls
        it: same arguments, the rows (or batches) in the dataset's output format (numpy
        arrays after ``with_format("numpy")``), the same output typing and errors.

        Parameters
        ----------
        function
            The function; ``None`` returns the dataset unchanged.
        with_indices, with_rank, input_columns, batched, batch_size, drop_last_batch
            As in :meth:`Dataset.map <crucible_polars.Dataset.map>`.
        remove_columns
            Input columns to drop from the output.
        features
            The output Features (values are cast to them; they stay known).
        fn_kwargs
            Keyword arguments for the function. ``datasets``' cache and process options
            (``num_proc``, ``desc``, ...) are accepted and ignored.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": [1, 2, 3]}).to_iterable_dataset()
        >>> list(ds.map(lambda b: {"a": [x * 2 for x in b["a"]]}, batched=True, batch_size=2))
        [{'a': 2}, {'a': 4}, {'a': 6}]
        """
        check_options(options, "map")
        if function is None:
            return self
        columns = tuple(self._check_columns(input_columns)) if input_columns else None
        removed = tuple(self._check_columns(remove_columns)) if remove_columns else ()
        step = FunctionStep(
            "map", function, batched=batched, batch_size=batch_size,
            drop_last_batch=drop_last_batch, with_indices=with_indices, with_rank=with_rank,
            rank=rank_for(options), input_columns=columns, remove_columns=removed,
            features=Features(features) if features else None, fn_kwargs=fn_kwargs,
            input_features=self._features, fmt=self._format,
        )  # fmt: skip
        return self._derive(step, Features(features) if features else None)

    def select_columns(self, column_names: str | Sequence[str]) -> IterableDataset:
        """Keep only these columns (projection reaches the reads).

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": [1], "b": [2]}).to_iterable_dataset()
        >>> list(ds.select_columns("b"))
        [{'b': 2}]
        """
        names = self._check_columns(column_names)
        return self._expr("select_columns", partial(_select, names=names))

    def remove_columns(self, column_names: str | Sequence[str]) -> IterableDataset:
        """Drop these columns.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": [1], "b": [2]}).to_iterable_dataset()
        >>> ds.remove_columns("a").column_names
        ['b']
        """
        names = self._check_columns(column_names)
        return self._expr("remove_columns", partial(_drop, names=names))

    def rename_column(self, original_column_name: str, new_column_name: str) -> IterableDataset:
        """Rename one column.

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
        return self._derive(ExprStep("rename", partial(_rename, mapping=mapping)), renamed)

    def cast(self, features: Features) -> IterableDataset:
        """Cast every column to ``features`` (a value that does not fit fails the iteration
        with an error naming the column and value).

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": [1]}).to_iterable_dataset()
        >>> ds.cast(cp.Features({"a": cp.Value("float32")})).features
        Features({'a': Value('float32')})
        """
        target = Features(features)
        return self._derive(ExprStep("cast", partial(_cast, features=target)), target)

    def cast_column(self, column: str, feature: FeatureType) -> IterableDataset:
        """Cast one column to a feature type.

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

    # ------------------------------------------------------------------ positions
    def take(self, n: int) -> IterableDataset:
        """Only the first ``n`` rows (or batches, after :meth:`batch`).

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
    ) -> IterableDataset:
        """Shuffle the order of the files (or row groups) and the rows, through a buffer.

        As in ``datasets``: the shards are read in a seeded random order, and rows go
        through a buffer of ``buffer_size`` rows; when it is full it is permuted, half is
        yielded and half kept. :meth:`set_epoch` changes both, deterministically. Resuming
        from :meth:`state_dict` restores the buffer exactly (by re-reading its rows).

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": list(range(10))}).to_iterable_dataset()
        >>> rows = [r["a"] for r in ds.shuffle(seed=0, buffer_size=4)]
        >>> sorted(rows) == list(range(10)), rows == list(range(10))
        (True, False)
        """
        if seed is None:
            if generator is not None:
                seed = int(generator.integers(0, 1 << 63))
            else:
                from crucible_polars.ops.sampling import draw_seed

                seed = draw_seed()
        if int(buffer_size) < 1:
            raise ValueError(f"buffer_size must be a positive integer, got {buffer_size}.")
        return self._derive(ShuffleStep(int(seed), int(buffer_size)))

    def batch(self, batch_size: int, drop_last_batch: bool = False) -> IterableDataset:
        """Group rows into batches (``{column: list}``) of ``batch_size``.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> list(cp.Dataset.from_dict({"a": [1, 2, 3]}).to_iterable_dataset().batch(2))
        [{'a': [1, 2]}, {'a': [3]}]
        """
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}.")
        if self._batched():
            raise ValueError("batch() was already applied to this dataset.")
        features = None
        if self._features is not None:
            features = Features({k: List(v) for k, v in self._features.items()})
        return self._derive(BatchStep(int(batch_size), bool(drop_last_batch)), features)

    def shard(self, num_shards: int, index: int, contiguous: bool = True) -> IterableDataset:
        """Part ``index`` of ``num_shards`` disjoint parts that together hold every row.

        Whole files go to each part when their number divides evenly, else parquet row
        groups when those divide evenly, else every ``num_shards``-th row.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": list(range(5))}).to_iterable_dataset()
        >>> [r["a"] for r in ds.shard(2, 1)]
        [1, 3]
        """
        from crucible_polars.streaming.sharding import ShardSpec

        ShardSpec(num_shards, index, contiguous)  # validates
        return self._derive(ShardStep(int(num_shards), int(index), bool(contiguous)))

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch: ``shuffle`` orders change with it, the same on every run.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": list(range(8))}).to_iterable_dataset().shuffle(seed=1)
        >>> first = [r["a"] for r in ds]; ds.set_epoch(1)
        >>> [r["a"] for r in ds] != first
        True
        """
        self._epoch = int(epoch)

    # ------------------------------------------------------------------ output
    def with_format(
        self, type: str | None = None, columns: Sequence[str] | None = None
    ) -> IterableDataset:
        """Rows (and batches) in a format: python, numpy, torch, arrow, polars or pandas.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": [1, 2]}).to_iterable_dataset()
        >>> next(iter(ds.with_format("numpy")))["a"]
        np.int64(1)
        """
        if columns is not None:
            self._check_columns(columns)
        if type == "torch":
            import torch  # noqa: F401 - registers the dataset as a torch IterableDataset

            register_with_torch(IterableDataset)
        return self._derive(format=type, format_columns=columns)

    def _output(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, Features]:
        if self._format_columns is not None:
            frame = frame.select(self._format_columns)
        return frame, _features_for(frame, self._features_at_output())

    def _features_at_output(self) -> Features | None:
        if self._features is None or not self._batched():
            return self._features
        return Features(
            {k: v.feature if isinstance(v, List) else v for k, v in self._features.items()}
        )

    def _rows(self, frame: pl.DataFrame, first_row: int) -> list[Any]:
        frame, features = self._output(frame)
        fmt = self._format
        if fmt == "python":
            return to_python_rows(frame, features, first_row)
        if fmt in ("numpy", "torch"):
            batch = format_batch(frame, features, fmt, first_row)
            return [{k: v[i] for k, v in batch.items()} for i in range(frame.height)]
        return [
            format_row(frame.slice(i, 1), features, fmt, first_row + i) for i in range(frame.height)
        ]

    def _build(self) -> Node:
        return build(self._source, self._steps, BuildContext(self._epoch, dataloader_worker()))

    def _start(self) -> dict[str, Any] | None:
        start = self._starting_state
        cursor = start["cursor"] if start is not None and start["epoch"] == self._epoch else None
        self._state = self._new_state(cursor)
        self._live = None if cursor is None else _Position(cursor["state"], cursor["skip"], 1, None)
        return copy.deepcopy(cursor)

    def _new_state(self, cursor: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "pipeline": self._signature(),
            "epoch": self._epoch,
            "cursor": cursor,
        }

    def __iter__(self) -> Iterator[Any]:
        """Rows (dicts, images decoded) or, after :meth:`batch`, batches."""
        node = self._build()
        cursor = self._start()
        if node.batched:
            for frame, after in node.frames(cursor["state"] if cursor else None):
                self._live = _Position(after, 0, 0, after)
                out, features = self._output(frame)
                yield format_batch(out, features, self._format)
            return
        ordinal = cursor["skip"] if cursor else 0
        size = ROWS_AT_ONCE
        for frame, before, skipped, after in cursor_rows(node, cursor):
            height = frame.height
            position = _Position(before, skipped, height, after)
            self._live = position
            for start in range(0, height, size):
                part = frame if size >= height else frame.slice(start, size)
                rows = self._rows(part, ordinal + start)
                yield from position.follow(start, rows)
            position.follow(height, [])
            ordinal += height

    def iter(
        self, batch_size: int, drop_last_batch: bool = False, format: str | None = None
    ) -> Iterator[Any]:
        """Batches of ``batch_size`` rows as ``{column: list}`` (or in ``format``).

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": [1, 2, 3]}).to_iterable_dataset()
        >>> [b["a"].tolist() for b in ds.iter(2, format="numpy")]
        [[1, 2], [3]]
        """
        if self._batched():
            raise ValueError("iter(batch_size) on a batched dataset: iterate it directly.")
        fmt = check_format(format) if format is not None else self._format
        node = RebatchNode(self._build(), int(batch_size), drop_last_batch)
        cursor = self._start()
        for frame, after in node.frames(cursor):
            self._live = _Position(after["state"], after["skip"], 1, None)
            out, features = self._output(frame)
            yield format_batch(out, features, fmt)

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """The position after the last row (or batch) yielded, to resume from exactly.

        A plain ``dict`` of ints, strings and lists (JSON- and ``torch.save``-friendly).

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": [1, 2]}).to_iterable_dataset()
        >>> ds.state_dict()["cursor"] is None
        True
        """
        if self._state is None:
            return self._new_state(None)
        state = dict(self._state)
        if self._live is not None:
            state["cursor"] = self._live.cursor()
        return copy.deepcopy(state)

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Resume from a :meth:`state_dict`: the next iteration yields exactly the rows after
        the saved position (and so does every later iteration in the same epoch, as in
        ``datasets``). The saved epoch becomes the current epoch.

        Raises
        ------
        ValueError
            A state saved from a different pipeline of steps.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> ds = cp.Dataset.from_dict({"a": [1, 2, 3]}).to_iterable_dataset()
        >>> it = iter(ds); _ = next(it); state = ds.state_dict()
        >>> fresh = cp.Dataset.from_dict({"a": [1, 2, 3]}).to_iterable_dataset()
        >>> fresh.load_state_dict(state); list(fresh)
        [{'a': 2}, {'a': 3}]
        """
        state = dict(state_dict)
        if state.get("version") != STATE_VERSION or "cursor" not in state:
            raise ValueError(
                "Not a crucible_polars IterableDataset state (expected keys 'version', "
                f"'pipeline', 'epoch', 'cursor'; got {sorted(state)})."
            )
        expected = self._signature()
        if state.get("pipeline") != expected:
            raise ValueError(
                f"This state was saved from the pipeline {state.get('pipeline')!r}, but this "
                f"dataset's pipeline is {expected!r}: load the same files and apply the same "
                "transforms, in the same order, before load_state_dict."
            )
        self._epoch = int(state.get("epoch", 0))
        self._starting_state = copy.deepcopy(state)
        self._state = copy.deepcopy(state)
        self._live = None


class IterableDatasetDict(dict[str, IterableDataset]):
    """A ``dict`` of split name to :class:`IterableDataset`; transforms apply to every split.

    Examples
    --------
    >>> import crucible_polars as cp
    >>> dd = IterableDatasetDict(train=cp.Dataset.from_dict({"a": [1, 2]}).to_iterable_dataset())
    >>> [r["a"] for r in dd.filter(pl.col("a") > 1)["train"]]
    [2]
    """

    _TRANSFORMS = frozenset(
        {
            "filter", "with_columns", "map", "select_columns", "remove_columns", "rename_column",
            "rename_columns", "cast", "cast_column", "take", "skip", "shuffle", "batch",
            "shard", "with_format",
        }
    )  # fmt: skip

    def __getattr__(self, name: str) -> Callable[..., IterableDatasetDict]:
        if name not in self._TRANSFORMS:
            raise AttributeError(f"'IterableDatasetDict' object has no attribute {name!r}")

        def apply(*args: Any, **kwargs: Any) -> IterableDatasetDict:
            return IterableDatasetDict(
                {k: getattr(v, name)(*args, **kwargs) for k, v in self.items()}
            )

        apply.__name__ = name
        apply.__doc__ = f"Apply ``IterableDataset.{name}`` to every split."
        return apply

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch of every split.

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


register_with_torch(IterableDataset)
