"""How a ``map``/``filter`` function is called: ``datasets``' calling convention, once.

Both engines (:class:`~crucible_polars.Dataset` and
:class:`~crucible_polars.IterableDataset`) call user functions through a
:class:`FunctionCall`, so they pass the same arguments:

- the row (or the batch, ``batched=True``) in the dataset's output format: a ``dict`` of
  Python values by default, ``numpy`` arrays after ``with_format("numpy")``, a Polars
  frame after ``with_format("polars")``...; or, with ``input_columns``, those columns as
  positional arguments instead;
- then the row index (batched: the list of indices) with ``with_indices``;
- then the process rank with ``with_rank`` (``None`` in one process, as in ``datasets``);
- then ``fn_kwargs`` as keyword arguments.

Examples
--------
>>> import polars as pl
>>> from crucible_polars.features import Features, Value
>>> call = FunctionCall(
...     lambda batch, idx: {"b": [a + i for a, i in zip(batch["a"], idx)]},
...     batched=True, with_indices=True, features=Features({"a": Value("int64")}),
... )
>>> call.call_batch(pl.DataFrame({"a": [10, 20]}), offset=5)[1]
{'b': [15, 26]}
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from crucible_polars.errors import FunctionOutputError
from crucible_polars.features import Features
from crucible_polars.formatting import check_format, format_batch, format_rows
from crucible_polars.udf.lazy import LazyBatch, LazyRow, RowColumns

MAP_OPTIONS = frozenset(
    {
        "keep_in_memory",
        "load_from_cache_file",
        "cache_file_name",
        "writer_batch_size",
        "new_fingerprint",
        "suffix_template",
        "disable_nullable",
    }
)
"""``datasets.Dataset.map``'s cache options: accepted and ignored (there is no cache file)."""

FILTER_OPTIONS = MAP_OPTIONS - {"disable_nullable"}
"""``datasets.Dataset.filter``'s cache options: accepted and ignored."""

IGNORED_OPTIONS = frozenset(
    {
        "desc",
        "num_proc",
        "load_from_cache_file",
        "keep_in_memory",
        "cache_file_name",
        "writer_batch_size",
        "new_fingerprint",
        "suffix_template",
        "disable_nullable",
    }
)
"""``datasets`` options about its cache and processes; accepted and ignored (nothing to cache)."""

ROW_CHUNK = 1000
"""Rows per batch when a row-wise function runs (one Polars frame per chunk)."""


def check_options(
    options: Mapping[str, Any], method: str, allowed: frozenset[str] = IGNORED_OPTIONS
) -> None:
    """Refuse unknown keyword arguments, accept the ``datasets`` cache/process options.

    Parameters
    ----------
    options
        The extra keyword arguments a method was given.
    method
        The method's name, for the error message.
    allowed
        The options accepted and ignored (default :data:`IGNORED_OPTIONS`).

    Raises
    ------
    TypeError
        Naming the keyword arguments that are not ``datasets`` cache or process options.

    Examples
    --------
    >>> check_options({"desc": "tokenize"}, "map")
    >>> check_options({"colour": 1}, "map")
    Traceback (most recent call last):
    TypeError: map() got unexpected keyword arguments ['colour']
    """
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise TypeError(f"{method}() got unexpected keyword arguments {unknown}")


def rank_for(options: Mapping[str, Any]) -> int | None:
    """The rank ``with_rank=True`` passes: ``None`` in one process, as ``datasets`` does.

    With ``num_proc > 1`` each worker process passes its own rank (see
    :mod:`crucible_polars.udf.parallel`); this is the rank of the main process, ``0``.

    Parameters
    ----------
    options
        The method's extra keyword arguments (``num_proc`` among them, maybe).

    Examples
    --------
    >>> rank_for({}), rank_for({"num_proc": 1}), rank_for({"num_proc": 4})
    (None, None, 0)
    """
    num_proc = options.get("num_proc")
    return 0 if num_proc is not None and num_proc > 1 else None


def batch_rows(batched: bool, batch_size: int | None) -> int | None:
    """Rows per call of the function: ``None`` means one batch of every row.

    A row-wise function runs over chunks of :data:`ROW_CHUNK` rows; ``batch_size`` ``None``
    or ``<= 0`` is one batch of everything, as in ``datasets``.

    Parameters
    ----------
    batched
        Whether the function takes batches.
    batch_size
        The ``batch_size`` argument.

    Examples
    --------
    >>> batch_rows(True, 32), batch_rows(True, None), batch_rows(True, 0), batch_rows(False, 5)
    (32, None, None, 1000)
    """
    if not batched:
        return ROW_CHUNK
    return int(batch_size) if batch_size is not None and batch_size > 0 else None


def describe_function(method: str, function: Callable[..., Any]) -> str:
    """``"map(tokenize)"``: how errors name the function.

    Parameters
    ----------
    method
        ``"map"`` or ``"filter"``.
    function
        The user's function.

    Examples
    --------
    >>> describe_function("map", len)
    'map(len)'
    """
    name = getattr(function, "__name__", None) or type(function).__name__
    return f"{method}({name})"


def _gather(awaitables: list[Awaitable[Any]]) -> list[Any]:
    async def gather() -> list[Any]:
        return list(await asyncio.gather(*awaitables))

    return asyncio.run(gather())


def resolve(results: list[Any]) -> list[Any]:
    """``results`` with every awaitable awaited (concurrently), as ``datasets`` awaits
    ``async def`` functions; run in a new event loop (in a helper thread if this thread
    already runs one, as in a notebook).

    Parameters
    ----------
    results
        What the function returned for each call.

    Examples
    --------
    >>> async def twice(x):
    ...     return 2 * x
    >>> resolve([twice(1), 5, twice(3)])
    [2, 5, 6]
    """
    waiting = [i for i, r in enumerate(results) if inspect.isawaitable(r)]
    if not waiting:
        return results
    awaitables = [results[i] for i in waiting]
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        done = _gather(awaitables)
    else:  # a loop runs in this thread: await in another one
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            done = pool.submit(_gather, awaitables).result()
    out = list(results)
    for i, value in zip(waiting, done, strict=True):
        out[i] = value
    return out


class SplitBound(functools.partial[Any]):
    """``function`` with the split's name passed after the other positional arguments (as
    ``datasets``' ``bind``, for ``map(with_split=True)``); pickles with its function.

    Examples
    --------
    >>> SplitBound(lambda row, i, split: (i, split), "train")({}, 3)
    (3, 'train')
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, *self.args, **kwargs)


class GivenRows(list[Any]):
    """The rows handed to a row-wise function, with the column values they were made of.

    ``columns`` keeps the values as given (python format: the columns the rows converted,
    see :class:`~crucible_polars.udf.lazy.RowColumns`), so an output value that *is* the
    given one (unchanged) is told apart from one the function assigned, even when the
    function edited the row in place; ``store`` is the rows' columns (``None`` in other
    formats).

    Examples
    --------
    >>> rows = GivenRows([{"a": 1}], {"a": [1]})
    >>> rows[0]["a"] = 10
    >>> rows.columns["a"]
    [1]
    """

    def __init__(
        self,
        rows: list[Any],
        columns: dict[str, list[Any]] | None = None,
        store: RowColumns | None = None,
    ) -> None:
        super().__init__(rows)
        self.columns: dict[str, list[Any]] = columns if columns is not None else {}
        self.store = store


@dataclass
class FunctionCall:
    """How to call a user function on the rows of a frame (see the module doc).

    Parameters
    ----------
    function
        The user's function.
    batched
        Call once per batch (``{column: values}``) instead of once per row.
    with_indices
        Also pass the row index (batched: the list of indices).
    with_rank
        Also pass ``rank`` (after the indices).
    rank
        The rank passed with ``with_rank`` (see :func:`rank_for`).
    input_columns
        Pass these columns as positional arguments instead of the row or batch.
    fn_kwargs
        Keyword arguments for every call.
    fmt
        The output format the function receives its inputs in (``None``: python).
    features
        The Features of the input columns (images decoded, labels kept as ids...).
    label
        How errors name the function (:func:`describe_function`).

    Examples
    --------
    >>> call = FunctionCall(lambda row, rank: row["a"] + (rank or 0), with_rank=True)
    >>> call.call_rows(pl.DataFrame({"a": [1, 2]}), offset=0)[1]
    [1, 2]
    """

    function: Callable[..., Any]
    batched: bool = False
    with_indices: bool = False
    with_rank: bool = False
    rank: int | None = None
    input_columns: list[str] | None = None
    fn_kwargs: Mapping[str, Any] | None = None
    fmt: str | None = None
    features: Features = field(default_factory=Features)
    label: str = ""
    format: str = field(init=False, default="python")
    kwargs: dict[str, Any] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.format = check_format(self.fmt)
        self.kwargs = dict(self.fn_kwargs or {})
        if not self.label:
            self.label = describe_function("map", self.function)

    def _args(self, inputs: Any, index: Any) -> tuple[Any, ...]:
        if self.input_columns is None:
            args: tuple[Any, ...] = (inputs,)
        else:
            args = tuple(inputs[c] for c in self.input_columns)
        if self.with_indices:
            args = (*args, index)
        return (*args, self.rank) if self.with_rank else args

    def _inputs(self, frame: pl.DataFrame) -> pl.DataFrame:
        return frame if self.input_columns is None else frame.select(self.input_columns)

    def call_batch(
        self,
        frame: pl.DataFrame,
        offset: int,
        columns: Sequence[str] | None = None,
        fetch: Callable[[str], pl.Series] | None = None,
    ) -> tuple[Any, Any]:
        """Call a batched function on ``frame``; returns ``(inputs, output)``.

        Parameters
        ----------
        frame
            The batch.
        offset
            The position of its first row (the first index passed).
        columns, fetch
            The batch's full column names when ``frame`` holds only some, and how to read
            one of the others (see :class:`LazyBatch`; python format only).

        Examples
        --------
        >>> call = FunctionCall(lambda b: len(b["a"]), batched=True)
        >>> call.call_batch(pl.DataFrame({"a": [1, 2, 3]}), 0)[1]
        3
        """
        view = self._inputs(frame)
        if self.format == "python":
            inputs: Any = LazyBatch(view, self.features, offset, columns, fetch)
        else:
            inputs = format_batch(view, self.features, self.format, offset)
        indices = list(range(offset, offset + frame.height))
        output = self.function(*self._args(inputs, indices), **self.kwargs)
        return inputs, resolve([output])[0] if inspect.isawaitable(output) else output

    def call_rows(self, frame: pl.DataFrame, offset: int) -> tuple[GivenRows, list[Any]]:
        """Call a row-wise function on every row of ``frame``; returns ``(rows, outputs)``.

        An ``async def`` function's calls on the rows run concurrently, and are awaited.

        Parameters
        ----------
        frame
            The rows.
        offset
            The position of the first row (its index).

        Examples
        --------
        >>> call = FunctionCall(lambda row, i: row["a"] * i, with_indices=True)
        >>> call.call_rows(pl.DataFrame({"a": [5, 5]}), 3)[1]
        [15, 20]
        """
        view = self._inputs(frame)
        if self.format == "python":  # rows whose columns convert when first read
            store = RowColumns(view, self.features, offset)
            rows = GivenRows([LazyRow(store, i) for i in range(view.height)], store.values, store)
        else:
            rows = GivenRows(list(format_rows(view, self.features, self.format, offset)))
        function, kwargs = self.function, self.kwargs
        outputs = [function(*self._args(row, offset + i), **kwargs) for i, row in enumerate(rows)]
        if inspect.iscoroutinefunction(function) or any(
            inspect.isawaitable(o) for o in outputs[:1]
        ):
            outputs = resolve(outputs)
        return rows, outputs

    def error(
        self, offset: int, height: int, reason: str, column: str | None = None
    ) -> FunctionOutputError:
        """The error for a batch (rows ``offset`` to ``offset + height``) whose output is wrong.

        Parameters
        ----------
        offset, height
            The batch's first row and number of rows.
        reason
            What is wrong.
        column
            The output column at fault, if one is.

        Examples
        --------
        >>> str(FunctionCall(len, label="map(len)").error(0, 2, "no"))
        'map(len), batch of rows 0..1: no.'
        """
        return FunctionOutputError(self.label, offset, offset + max(height, 1), reason, column)
