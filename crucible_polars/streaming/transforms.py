"""The transforms of expression steps, as module-level functions (bound with
``functools.partial``), so datasets pickle into DataLoader workers started with "spawn" or
"forkserver".

Examples
--------
>>> import polars as pl
>>> lazy_select(pl.LazyFrame({"a": [1], "b": [2]}), ["b"]).collect_schema().names()
['b']
"""

from __future__ import annotations

from typing import Any

import polars as pl

from crucible_polars.features import Features, cast_lazyframe


def lazy_filter(lf: pl.LazyFrame, expr: pl.Expr) -> pl.LazyFrame:
    """``lf.filter(expr)``, as a picklable transform.

    Parameters
    ----------
    lf
        The frame.
    expr
        A boolean expression.

    Examples
    --------
    >>> lazy_filter(pl.LazyFrame({"a": [1, 2]}), pl.col("a") > 1).collect()["a"].to_list()
    [2]
    """
    return lf.filter(expr)


def lazy_with_columns(
    lf: pl.LazyFrame, exprs: tuple[Any, ...], named: dict[str, pl.Expr]
) -> pl.LazyFrame:
    """``lf.with_columns(*exprs, **named)``, as a picklable transform.

    Parameters
    ----------
    lf
        The frame.
    exprs, named
        The expressions, positional and named.

    Examples
    --------
    >>> lazy_with_columns(pl.LazyFrame({"a": [1]}), (), {"b": pl.col("a") + 1}).collect_schema()
    Schema([('a', Int64), ('b', Int64)])
    """
    return lf.with_columns(*exprs, **named)


def lazy_select(lf: pl.LazyFrame, names: list[str]) -> pl.LazyFrame:
    """``lf.select(names)``, as a picklable transform.

    Parameters
    ----------
    lf
        The frame.
    names
        The columns to keep.

    Examples
    --------
    >>> lazy_select(pl.LazyFrame({"a": [1], "b": [2]}), ["b"]).collect_schema().names()
    ['b']
    """
    return lf.select(names)


def lazy_drop(lf: pl.LazyFrame, names: list[str]) -> pl.LazyFrame:
    """``lf.drop(names)``, as a picklable transform.

    Parameters
    ----------
    lf
        The frame.
    names
        The columns to drop.

    Examples
    --------
    >>> lazy_drop(pl.LazyFrame({"a": [1], "b": [2]}), ["a"]).collect_schema().names()
    ['b']
    """
    return lf.drop(names)


def lazy_rename(lf: pl.LazyFrame, mapping: dict[str, str]) -> pl.LazyFrame:
    """``lf.rename(mapping)``, as a picklable transform.

    Parameters
    ----------
    lf
        The frame.
    mapping
        ``{old: new}`` column names.

    Examples
    --------
    >>> lazy_rename(pl.LazyFrame({"a": [1]}), {"a": "z"}).collect_schema().names()
    ['z']
    """
    return lf.rename(mapping)


def lazy_cast(lf: pl.LazyFrame, features: Features) -> pl.LazyFrame:
    """The frame cast to ``features``, as a picklable transform.

    Parameters
    ----------
    lf
        The frame.
    features
        The target Features.

    Examples
    --------
    >>> from crucible_polars.features import Value
    >>> lazy_cast(pl.LazyFrame({"a": [1]}), Features({"a": Value("string")})).collect_schema()
    Schema([('a', String)])
    """
    return cast_lazyframe(lf, features)


class AddColumn:
    """Adds ``values`` as column ``name``: row ``i`` of the stream gets ``values[i]`` (a row
    transform ``(frame, first_row) -> frame``, picklable).

    Examples
    --------
    >>> add = AddColumn("b", pl.Series([10, 20, 30]))
    >>> add(pl.DataFrame({"a": [1, 2]}), 1)["b"].to_list()
    [20, 30]
    """

    def __init__(self, name: str, values: pl.Series) -> None:
        self.name = name
        self.values = values

    def __call__(self, frame: pl.DataFrame, first_row: int) -> pl.DataFrame:
        if first_row + frame.height > self.values.len():
            raise IndexError(
                f"add_column({self.name!r}): the column has {self.values.len()} values, but "
                f"the stream has more rows (row {first_row + frame.height - 1}): give one "
                "value per row."
            )
        return frame.with_columns(self.values.slice(first_row, frame.height).alias(self.name))
