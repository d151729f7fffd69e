"""Errors in how the package is called: unknown column, split or config, bad function output.

Examples
--------
>>> isinstance(SplitNotFoundError("dev", ["train"]), ValueError)
True
"""

from __future__ import annotations

from collections.abc import Sequence

from polars.exceptions import ColumnNotFoundError as PolarsColumnNotFoundError

from crucible_polars.errors.base import UsageError


class ColumnNotFoundError(UsageError, KeyError, ValueError, PolarsColumnNotFoundError):
    """A column name that the dataset does not have.

    Derives from ``KeyError`` (``ds["x"]``), ``ValueError`` (what ``datasets`` raises from
    ``remove_columns`` and friends) and ``polars.exceptions.ColumnNotFoundError`` (what a
    Polars expression on a missing column raises), so one ``except`` catches them all.

    Parameters
    ----------
    column, available
        The attributes of the same names (see Attributes).

    Attributes
    ----------
    column : str or sequence of str
        The missing column, or columns.
    available : list of str
        The dataset's columns.

    Examples
    --------
    >>> str(ColumnNotFoundError("x", ["a", "b"]))
    "Column 'x' not in the dataset. Columns: ['a', 'b']."
    >>> import polars as pl
    >>> isinstance(ColumnNotFoundError("x", []), pl.exceptions.ColumnNotFoundError)
    True
    """

    def __init__(self, column: str | Sequence[str], available: Sequence[str]) -> None:
        self.column = column
        self.available = list(available)
        super().__init__(f"Column {column!r} not in the dataset. Columns: {self.available}.")


class ExtraColumnsError(UsageError, ValueError):
    """Columns of the data that the requested features do not list.

    ``datasets`` refuses such a cast too; drop the columns or add them to the features.

    Parameters
    ----------
    columns, expected
        The attributes of the same names (see Attributes).

    Attributes
    ----------
    columns : list of str
        The columns the features do not list.
    expected : list of str
        The columns the features list.

    Examples
    --------
    >>> err = ExtraColumnsError(["extra"], ["text", "label"])
    >>> err.columns
    ['extra']
    """

    def __init__(self, columns: Sequence[str], expected: Sequence[str]) -> None:
        self.columns = list(columns)
        self.expected = list(expected)
        super().__init__(
            f"Columns {self.columns} are not in the features (which list {self.expected}). "
            "Remove them first (remove_columns / select_columns) or add them to the features."
        )


class DuplicateColumnError(UsageError, ValueError):
    """Column names that would appear twice (``rename_columns``, ``add_column``, ``axis=1``).

    Parameters
    ----------
    columns
        The attribute of the same name (see Attributes).
    where
        The call that would duplicate them, for the message.

    Attributes
    ----------
    columns : list of str
        The names that would appear twice.
    column : str or None
        The first of them.

    Examples
    --------
    >>> DuplicateColumnError(["a"], "concatenate_datasets(axis=1)").columns
    ['a']
    """

    def __init__(self, columns: Sequence[str], where: str) -> None:
        self.columns = list(columns)
        self.column = self.columns[0] if self.columns else None
        super().__init__(
            f"{where}: column names must be unique, but {self.columns} would appear twice. "
            "Rename or remove the columns first."
        )


class ConfigNotFoundError(UsageError, ValueError):
    """A config name (``name=``) that the dataset does not define, or none when one is needed.

    Parameters
    ----------
    name, available, repo_id
        The attributes of the same names (see Attributes).

    Attributes
    ----------
    name : str or None
        The config asked for (``None``: none was given).
    available : list of str
        The dataset's configs.
    repo_id : str or None
        The dataset, when it is on the Hub.

    Examples
    --------
    >>> ConfigNotFoundError("x", ["main", "socratic"]).available
    ['main', 'socratic']
    """

    def __init__(
        self, name: str | None, available: Sequence[str], repo_id: str | None = None
    ) -> None:
        self.name = name
        self.available = list(available)
        self.repo_id = repo_id
        where = f" for {repo_id!r}" if repo_id else ""
        if name is None:
            example = self.available[0] if self.available else "..."
            message = (
                f"Config name is missing{where}. Pick one of the available configs: "
                f"{self.available}, e.g. load_dataset(..., name={example!r})."
            )
        else:
            of = f" of {repo_id!r}" if repo_id else ""
            message = f"Unknown config {name!r}{of}. Pick one of: {', '.join(self.available)}."
        super().__init__(message)


class SplitNotFoundError(UsageError, ValueError):
    """A split name that the dataset (or config) does not have.

    Parameters
    ----------
    split, available
        The attributes of the same names (see Attributes).

    Attributes
    ----------
    split : str
        The split asked for.
    available : list of str
        The dataset's splits.

    Examples
    --------
    >>> SplitNotFoundError("dev", ["train", "test"]).available
    ['train', 'test']
    """

    def __init__(self, split: str, available: Sequence[str]) -> None:
        self.split = split
        self.available = list(available)
        super().__init__(f"Unknown split {split!r}. Should be one of {self.available}.")


class FunctionOutputError(UsageError, ValueError):
    """What a ``map`` or ``filter`` function returned for a batch does not fit.

    Parameters
    ----------
    function, start, stop, column
        The attributes of the same names (see Attributes).
    reason
        What is wrong with the output, for the message.

    Attributes
    ----------
    function : str
        The call, e.g. ``"map(tokenize)"``.
    start, stop : int
        The batch's rows (``stop`` excluded).
    row : int
        Same as ``start``.
    column : str or None
        The output column at fault, where known.

    Examples
    --------
    >>> err = FunctionOutputError("map(tokenize)", 1000, 2000, "returned 3 rows, expected 1000")
    >>> str(err)
    'map(tokenize), batch of rows 1000..1999: returned 3 rows, expected 1000.'
    >>> err.row, err.stop
    (1000, 2000)
    """

    def __init__(
        self, function: str, start: int, stop: int, reason: str, column: str | None = None
    ) -> None:
        self.function = function
        self.start = start
        self.stop = stop
        self.row = start
        self.column = column
        rows = f"row {start}" if stop - start == 1 else f"batch of rows {start}..{stop - 1}"
        super().__init__(f"{function}, {rows}: {reason}.")


__all__ = [
    "ColumnNotFoundError",
    "ConfigNotFoundError",
    "DuplicateColumnError",
    "ExtraColumnsError",
    "FunctionOutputError",
    "SplitNotFoundError",
]
