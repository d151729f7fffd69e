"""Rows and batches handed to a ``map``/``filter`` function, converted on first access.

As ``datasets``' ``LazyRow`` and ``LazyBatch``: a function that reads one column of a wide
row pays for that column only (images and audio are decoded only if read), and the columns
it never touches go back to the plan as they were. A column is converted for the whole
chunk of rows at once, the first time any row of the chunk reads it
(:class:`RowColumns`); a :class:`LazyRow` is a view of one row of it, with its own edits.

Both are ``MutableMapping``\\ s: ``row["a"] = ...``, ``del row["a"]``, ``dict(row)``,
``{**row}``, ``row.copy()`` and ``row | {...}`` work as on a dict.

Examples
--------
>>> import polars as pl
>>> from crucible_polars.features import Features, Value
>>> columns = RowColumns(pl.DataFrame({"a": [1, 2], "b": ["x", "y"]}), Features())
>>> row = LazyRow(columns, 1)
>>> row["a"], sorted(columns.values)
(2, ['a'])
>>> row["c"] = 0
>>> dict(row)
{'a': 2, 'b': 'y', 'c': 0}
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, KeysView, Mapping, MutableMapping, Sequence
from typing import Any

import polars as pl

from crucible_polars.features import Audio, Features
from crucible_polars.formatting import to_python_columns
from crucible_polars.udf.clips import ClipMarks, clip_marks

__all__ = ["LazyBatch", "LazyRow", "RowColumns", "convert_column"]

_UNREAD: Any = object()
"""An input column's value not read yet (in a row's own edits)."""


def convert_column(
    frame: pl.DataFrame, key: str, features: Features, first_row: int = 0
) -> list[Any]:
    """Column ``key`` of ``frame`` as the Python values a function is handed.

    Parameters
    ----------
    frame
        The rows.
    key
        The column.
    features
        The Features of the columns (images and audio decoded, Json parsed).
    first_row
        The position of the first row (named in decode errors).

    Examples
    --------
    >>> convert_column(pl.DataFrame({"a": [1, 2]}), "a", Features())
    [1, 2]
    """
    feature = Features({key: features[key]}) if key in features else Features()
    return to_python_columns(frame.select(key), feature, first_row)[key]


def _marks_of(key: str, values: list[Any], features: Features, marks: dict[str, Any]) -> None:
    feature = features.get(key)
    if isinstance(feature, Audio) and feature.decode:
        marks[key] = clip_marks(values)


class RowColumns:
    """The columns of a chunk of rows, each converted to Python on its first access.

    Parameters
    ----------
    frame
        The rows.
    features
        Their Features (images and audio decoded on access).
    first_row
        The position of the first row (named in decode errors).

    Attributes
    ----------
    values : dict
        The columns converted so far (the values handed to the function).
    marks : dict
        For each converted ``Audio`` column, the decoded clips as handed out
        (:func:`~crucible_polars.udf.clips.clip_marks`): an unchanged clip keeps its storage.

    Examples
    --------
    >>> columns = RowColumns(pl.DataFrame({"a": [1, 2]}), Features())
    >>> columns.column("a"), columns.names
    ([1, 2], ['a'])
    """

    __slots__ = ("features", "first_row", "frame", "index", "marks", "names", "values")

    def __init__(self, frame: pl.DataFrame, features: Features, first_row: int = 0) -> None:
        self.frame = frame
        self.features = features
        self.first_row = first_row
        self.names: list[str] = frame.columns
        self.index = frozenset(self.names)
        self.values: dict[str, list[Any]] = {}
        self.marks: dict[str, ClipMarks] = {}

    def column(self, key: str) -> list[Any]:
        """Column ``key``'s values (converted now if never read); ``KeyError`` if none."""
        values = self.values.get(key)
        if values is None:
            if key not in self.index:
                raise KeyError(key)
            values = convert_column(self.frame, key, self.features, self.first_row)
            self.values[key] = values
            _marks_of(key, values, self.features, self.marks)
        return values


class _Keys(KeysView[str]):
    """A lazy mapping's keys, iterated without a generator (``dict(row)`` asks for them)."""

    __slots__ = ()

    def __iter__(self) -> Iterator[str]:
        return iter(self._mapping)  # type: ignore[attr-defined]  # MappingView holds it


class _LazyMapping(MutableMapping[str, Any]):
    """What both lazy views share: copies and ``|`` as a dict has them, reprs of all values."""

    def copy(self) -> Any:
        """A shallow copy (edits of one do not show in the other)."""
        return copy.copy(self)

    def __or__(self, other: Any) -> Any:
        if not isinstance(other, Mapping):
            return NotImplemented
        out = self.copy()
        out.update(other)
        return out

    def __ror__(self, other: Any) -> Any:
        if not isinstance(other, Mapping):
            return NotImplemented
        return {**other, **self}

    def __ior__(self, other: Any) -> Any:
        self.update(other)
        return self

    def __repr__(self) -> str:
        return repr(dict(self.items()))


class LazyRow(_LazyMapping):
    """One row as a mapping whose values are converted on first access (see the module doc).

    Parameters
    ----------
    columns
        The chunk's columns.
    index
        The row's position in the chunk.

    Examples
    --------
    >>> row = LazyRow(RowColumns(pl.DataFrame({"a": [5]}), Features()), 0)
    >>> del row["a"]
    >>> dict(row), row.edited(), row.kept("a")
    ({}, True, False)
    """

    __slots__ = ("_columns", "_data", "_index", "_read")

    def __init__(self, columns: RowColumns, index: int) -> None:
        self._columns = columns
        self._read = columns.values
        self._index = index
        self._data: dict[str, Any] | None = None  # None: no edit (the columns, as read)

    def __getitem__(self, key: str) -> Any:
        data = self._data
        if data is not None:
            value = data[key]
            if value is not _UNREAD:
                return value
        values = self._read.get(key)  # the fast path: a column already read
        if values is None:
            values = self._columns.column(key)
        return values[self._index]

    def keys(self) -> KeysView[str]:
        """The keys, input columns first (a view, as a dict's)."""
        return _Keys(self)

    def _edits(self) -> dict[str, Any]:
        if self._data is None:
            self._data = dict.fromkeys(self._columns.names, _UNREAD)
        return self._data

    def __setitem__(self, key: str, value: Any) -> None:
        self._edits()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._edits()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns.names if self._data is None else list(self._data))

    def __len__(self) -> int:
        return len(self._columns.names if self._data is None else self._data)

    def __contains__(self, key: object) -> bool:
        return key in (self._columns.index if self._data is None else self._data)

    def __copy__(self) -> LazyRow:
        out = LazyRow(self._columns, self._index)
        out._data = None if self._data is None else dict(self._data)
        return out

    def edited(self) -> bool:
        """Whether a key was set or deleted (else the row is its columns, as read)."""
        return self._data is not None

    def kept(self, key: str) -> bool:
        """Whether ``key`` is an input column whose value this row neither set nor deleted."""
        data = self._data
        if data is None:
            return key in self._columns.index
        return data.get(key) is _UNREAD


class LazyBatch(_LazyMapping):
    """A batch as ``{column: list}`` whose columns become Python lists on first access.

    Like ``datasets``' ``LazyBatch``: a function that reads one column of a wide batch
    pays for that column only, and the columns it never touches go back to the plan as
    they were.

    Parameters
    ----------
    frame
        The batch's rows (maybe only some of its columns).
    features
        The Features of the columns (images are decoded on access).
    first_row
        The position of the batch's first row (named in decode errors).
    columns
        The batch's full column names, when ``frame`` holds only some of them.
    fetch
        Reads one of the columns that ``frame`` left out.

    Examples
    --------
    >>> from crucible_polars.features import Features, Value
    >>> frame = pl.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    >>> batch = LazyBatch(frame, Features({"a": Value("int64"), "b": Value("string")}))
    >>> batch["a"], sorted(batch.untouched())
    ([1, 2], ['b'])
    """

    def __init__(
        self,
        frame: pl.DataFrame,
        features: Features,
        first_row: int = 0,
        columns: Sequence[str] | None = None,
        fetch: Callable[[str], pl.Series] | None = None,
    ) -> None:
        self.frame = frame
        self._features = features
        self._first_row = first_row
        self._keys: list[str] = list(frame.columns if columns is None else columns)
        self._fetch = fetch
        self._values: dict[str, Any] = {}
        self.converted: dict[str, list[Any]] = {}
        self.marks: dict[str, ClipMarks] = {}
        self.deleted: set[str] = set()  # input columns deleted (dropped from the output)

    def __getitem__(self, key: str) -> Any:
        if key in self._values:
            return self._values[key]
        if key not in self._keys:
            raise KeyError(key)
        if key in self.frame.columns or self._fetch is None:
            column = self.frame
        else:
            column = self._fetch(key).to_frame(key)
        value = convert_column(column, key, self._features, self._first_row)
        self._values[key] = value
        self.converted[key] = value
        _marks_of(key, value, self._features, self.marks)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        self._values[key] = value
        self.deleted.discard(key)
        if key not in self._keys:
            self._keys.append(key)

    def __delitem__(self, key: str) -> None:
        if key not in self._keys:
            raise KeyError(key)
        self._keys.remove(key)
        self._values.pop(key, None)
        if key in self.frame.columns:
            self.deleted.add(key)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._keys))

    def __len__(self) -> int:
        return len(self._keys)

    def __copy__(self) -> LazyBatch:
        out = LazyBatch(self.frame, self._features, self._first_row, self._keys, self._fetch)
        out._values = dict(self._values)
        out.converted = self.converted  # one conversion, shared
        out.marks = self.marks
        out.deleted = set(self.deleted)
        return out

    def assigned(self, key: str) -> bool:
        """Whether ``key`` was set (to other values than the ones read)."""
        value = self._values.get(key, _UNREAD)
        return value is not _UNREAD and value is not self.converted.get(key, _UNREAD)

    def untouched(self) -> set[str]:
        """Input columns never read nor assigned: passed through without conversion."""
        return {k for k in self._keys if k not in self._values and k in self.frame.columns}

    def unread(self) -> set[str]:
        """Input columns left out of this batch's frame (not asked for) and never read."""
        return {k for k in self._keys if k not in self._values and k not in self.frame.columns}
