"""A lazy frame whose rows a Python generator makes: Polars' IO-plugin contract, once.

:func:`polars.io.plugins.register_io_source` hands the source the query's projection,
predicate, row limit and a batch size, and *trusts* it with all four: Polars does not
filter, project or truncate what the source yields. :func:`frame_source` keeps that
contract for a simple producer, ``produce(columns)``, that only needs to know which
columns the query reads (the projection plus the predicate's columns, ``None`` for all)
and yields frames holding at least those. The predicate, projection and row limit are
applied here; the producer is closed as soon as the limit is reached, so a ``head(n)``
stops reading early.

Examples
--------
>>> import polars as pl
>>> def produce(columns):
...     for start in range(0, 6, 2):
...         yield pl.DataFrame({"a": [start, start + 1], "b": ["x", "y"]})
>>> lf = frame_source(produce, pl.Schema({"a": pl.Int64, "b": pl.String}), "numbers")
>>> lf.filter(pl.col("b") == "y").select("a").collect()["a"].to_list()
[1, 3, 5]
>>> lf.head(3).collect().height
3
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import polars as pl
from polars.io.plugins import register_io_source

Produce = Callable[[list[str] | None], Iterator[pl.DataFrame]]
"""``produce(columns_to_read) -> frames``: ``None`` reads every column."""


def read_columns(with_columns: list[str] | None, predicate: pl.Expr | None) -> list[str] | None:
    """The columns a query reads: its projection plus the predicate's columns.

    Parameters
    ----------
    with_columns
        The projection Polars pushed down (``None``: every column).
    predicate
        The filter Polars pushed down, if any.

    Examples
    --------
    >>> read_columns(["a"], pl.col("b") > 1), read_columns(None, pl.col("b") > 1)
    (['a', 'b'], None)
    """
    if with_columns is None or predicate is None:
        return with_columns
    return list(dict.fromkeys([*with_columns, *predicate.meta.root_names()]))


def frame_source(
    produce: Produce,
    schema: pl.Schema,
    name: str,
    *,
    detail: str | None = None,
    validate_schema: bool = False,
) -> pl.LazyFrame:
    """A lazy frame of ``schema`` over the frames ``produce(columns)`` yields.

    Parameters
    ----------
    produce
        Called once per query with the columns it reads (:func:`read_columns`; ``None``
        for all); yields frames with at least those columns, in ``schema``'s types.
    schema
        The frame's schema.
    name
        The name shown in ``explain()``.
    detail
        More text for ``explain()`` (e.g. the file read).
    validate_schema
        Have Polars check every frame against ``schema``.

    Examples
    --------
    >>> lf = frame_source(lambda columns: iter([pl.DataFrame({"a": [1, 2]})]),
    ...                   pl.Schema({"a": pl.Int64}), "two rows")
    >>> lf.select(pl.len()).collect().item()
    2
    """

    def source(
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        if n_rows is not None and n_rows <= 0:
            return
        remaining = n_rows
        frames = produce(read_columns(with_columns, predicate))
        try:
            for frame in frames:
                out = frame if predicate is None else frame.filter(predicate)
                if with_columns is not None:
                    out = out.select(with_columns)
                if remaining is not None:
                    out = out.head(remaining)
                    remaining -= out.height
                step = batch_size if batch_size and batch_size > 0 else max(out.height, 1)
                for start in range(0, out.height, step):
                    yield out.slice(start, step)
                if remaining == 0:
                    return
        finally:
            close = getattr(frames, "close", None)
            if close is not None:
                close()

    return register_io_source(
        source,
        schema=schema,
        validate_schema=validate_schema,
        explain_name=name,
        explain_detail=detail or "",
    )
