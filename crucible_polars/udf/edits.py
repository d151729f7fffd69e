"""What a function left in the row or batch it was handed, as ``datasets`` writes it.

``datasets`` writes a ``map``'s output as the input row (or batch) the way the function left
it, updated with what the function returned: a column set in the row, or a list edited in
place, is written even if the function returns another dict, and a column deleted from the
row is left out. These helpers find those columns for :class:`~crucible_polars.udf.outputs.
OutputBuilder`; a column never read nor set passes through unconverted.

Examples
--------
>>> import polars as pl
>>> from crucible_polars.features import Features
>>> from crucible_polars.udf.lazy import LazyRow, RowColumns
>>> store = RowColumns(pl.DataFrame({"a": [1], "b": [2]}), Features())
>>> row = LazyRow(store, 0)
>>> del row["a"]
>>> deleted_columns([row], store.frame)
frozenset({'a'})
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from crucible_polars.features import Image
from crucible_polars.features.json_values import has_json
from crucible_polars.udf.call import GivenRows
from crucible_polars.udf.lazy import LazyBatch, LazyRow, RowColumns

__all__ = [
    "Produced",
    "batch_edits",
    "deleted_columns",
    "immutable_values",
    "row_edits",
    "same_height",
    "unread",
]

_PASSTHROUGH_SAFE = (pl.String, pl.Binary, pl.Boolean, pl.Null)

InPlace = Callable[[pl.DataFrame, str, list[Any]], bool]
"""``in_place(frame, column, values)``: whether the values handed out of an input column
were edited in place (lists appended to, dicts updated...)."""


def immutable_values(dtype: pl.DataType, feature: Any) -> bool:
    """Whether Python values of this column cannot be changed in place (scalars, images).

    Parameters
    ----------
    dtype, feature
        The column's Polars type and feature (``None``: unknown).

    Examples
    --------
    >>> immutable_values(pl.Int64(), None), immutable_values(pl.List(pl.Int64), None)
    (True, False)
    """
    if feature is not None and has_json(feature):
        return False  # decoded JSON (lists, dicts) may be edited in place
    return (
        isinstance(feature, Image)
        or dtype.is_numeric()
        or dtype.is_temporal()
        or isinstance(dtype, _PASSTHROUGH_SAFE)
    )


class Produced(dict[str, pl.Series]):
    """The columns a function returned for one batch, and ``dropped``: the input columns it
    deleted from its row (every row) or batch, left out of the output as ``datasets``
    leaves them out.

    Examples
    --------
    >>> Produced().dropped
    frozenset()
    """

    dropped: frozenset[str] = frozenset()


def deleted_columns(rows: list[Any], frame: pl.DataFrame) -> frozenset[str]:
    """Input columns deleted from every row handed out (rows that are :class:`LazyRow`).

    Parameters
    ----------
    rows
        The rows handed to the function.
    frame
        The input rows.

    Examples
    --------
    >>> deleted_columns([{"a": 1}], pl.DataFrame({"a": [1]}))
    frozenset()
    """
    if not rows or not isinstance(rows[0], LazyRow) or not rows[0].edited():
        return frozenset()
    gone = [c for c in frame.columns if c not in rows[0]]
    return frozenset(c for c in gone if all(isinstance(r, LazyRow) and c not in r for r in rows))


def unread(name: str, store: RowColumns, outputs: list[Any]) -> bool:
    """Whether output column ``name`` is an input column no row read nor set.

    Parameters
    ----------
    name
        The column.
    store
        The rows' columns.
    outputs
        What the function returned for each row.

    Examples
    --------
    >>> from crucible_polars.features import Features
    >>> store = RowColumns(pl.DataFrame({"a": [1]}), Features())
    >>> unread("a", store, [LazyRow(store, 0)])
    True
    """
    if name in store.values or name not in store.index:
        return False
    return all(isinstance(out, LazyRow) and out.kept(name) for out in outputs)


def same_height(output: Mapping[str, Any], height: int) -> bool:
    """Whether every returned column has ``height`` values (else the input columns cannot
    join the output, and the merge says so).

    Parameters
    ----------
    output
        The columns a batched function returned.
    height
        The batch's number of rows.

    Examples
    --------
    >>> same_height({"a": [1, 2]}, 2), same_height({"a": [1]}, 2)
    (True, False)
    """
    return all(hasattr(v, "__len__") and len(v) == height for v in output.values())


def batch_edits(
    frame: pl.DataFrame, batch: LazyBatch, skip: set[str] | frozenset[str], in_place: InPlace
) -> list[str]:
    """The columns of the batch handed out that were set, or read and edited in place, less
    ``skip`` (returned, removed or deleted columns).

    Parameters
    ----------
    frame
        The input rows.
    batch
        The batch handed to the function.
    skip
        Columns not to name.
    in_place
        Whether the values read from an input column were edited in place.

    Examples
    --------
    >>> from crucible_polars.features import Features
    >>> batch = LazyBatch(pl.DataFrame({"a": [1]}), Features())
    >>> batch["n"] = [0]
    >>> batch_edits(batch.frame, batch, set(), lambda frame, name, values: False)
    ['n']
    """

    def changed(key: str) -> bool:
        if batch.assigned(key) or key not in frame.columns:
            return batch.assigned(key)
        return key in batch.converted and in_place(frame, key, batch.converted[key])

    return [k for k in batch if k not in skip and changed(k)]


def row_edits(
    frame: pl.DataFrame, rows: list[Any], skip: set[str] | frozenset[str], in_place: InPlace
) -> list[str]:
    """The keys of the rows handed out that were set, or read and edited in place, less
    ``skip`` (returned, removed or deleted columns).

    Parameters
    ----------
    frame
        The input rows.
    rows
        The rows handed to the function (a :class:`~crucible_polars.udf.call.GivenRows`).
    skip
        Columns not to name.
    in_place
        Whether the values read from an input column were edited in place.

    Examples
    --------
    >>> from crucible_polars.features import Features
    >>> store = RowColumns(pl.DataFrame({"a": [1]}), Features())
    >>> row = LazyRow(store, 0)
    >>> row["a"], row["n"] = 5, 0
    >>> given = GivenRows([row], store.values, store)
    >>> row_edits(store.frame, given, set(), lambda frame, name, values: False)
    ['a', 'n']
    """
    edited = [r for r in rows if isinstance(r, LazyRow) and r.edited()]
    store = rows.store if isinstance(rows, GivenRows) else None
    read = store.values if store is not None else {}
    keys = [c for c in frame.columns if c not in skip and c in read and in_place(frame, c, read[c])]
    if edited:
        first = [k for k in edited[0] if k not in skip and k not in keys]
        keys += [
            k
            for k in first
            if (k in frame.columns and any(not r.kept(k) for r in edited))
            or (k not in frame.columns and all(k in r for r in rows))
        ]
    return keys
