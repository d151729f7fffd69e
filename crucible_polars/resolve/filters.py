"""``filters=`` as ``datasets`` (pyarrow) takes them, as a Polars expression.

``datasets``' parquet reader takes pyarrow's disjunctive normal form: a list of
``(column, op, value)`` tuples (all must hold) or a list of such lists (any must hold).
This package takes those and Polars expressions.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from functools import reduce
from typing import Any

import polars as pl

FilterSpec = pl.Expr | list[Any] | None
"""What ``filters=`` takes: a Polars expression or pyarrow's DNF list."""

_OPS: dict[str, Callable[[pl.Expr, Any], pl.Expr]] = {
    "=": operator.eq,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": lambda col, value: col.is_in(list(value)),
    "not in": lambda col, value: ~col.is_in(list(value)),
}


def as_polars_filter(filters: Any) -> pl.Expr | None:
    """A Polars expression for ``filters`` (an expression, or pyarrow's DNF list).

    Examples
    --------
    >>> df = pl.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    >>> df.filter(as_polars_filter([("a", ">", 1), ("b", "in", ["y"])]))["a"].to_list()
    [2]
    >>> df.filter(as_polars_filter([[("a", "=", 1)], [("b", "==", "z")]]))["a"].to_list()
    [1, 3]
    """
    if filters is None or isinstance(filters, pl.Expr):
        return filters
    if isinstance(filters, Sequence) and not isinstance(filters, str) and filters:
        groups = filters if all(_is_group(g) for g in filters) else [filters]
        if all(_is_group(g) for g in groups):
            return reduce(operator.or_, (_conjunction(g) for g in groups))
    raise TypeError(
        f"filters={filters!r}: pass a Polars expression (pl.col('a') > 1) or pyarrow's form, "
        "a list of (column, op, value) tuples, or a list of such lists."
    )


def _is_group(group: Any) -> bool:
    return isinstance(group, list) and all(_is_term(t) for t in group) and bool(group)


def _is_term(term: Any) -> bool:
    return isinstance(term, tuple) and len(term) == 3 and str(term[1]).lower() in _OPS


def _conjunction(terms: Sequence[tuple[str, str, Any]]) -> pl.Expr:
    return reduce(
        operator.and_, (_OPS[str(op).lower()](pl.col(name), value) for name, op, value in terms)
    )
