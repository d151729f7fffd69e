"""Errors in the data files: missing, unreadable, malformed, or not of the requested types.

Examples
--------
>>> isinstance(DataFileError("a.jsonl", "invalid JSON"), ValueError)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crucible_polars.errors.base import DataError


class DataFilesNotFoundError(DataError, FileNotFoundError):
    """A path, folder or glob that matches no data file.

    Parameters
    ----------
    path
        The attribute of the same name (see Attributes).
    hint
        Advice for the message; default: check the path or glob, or pass ``data_files=``.

    Attributes
    ----------
    path : str
        The path, folder or glob.

    Examples
    --------
    >>> str(DataFilesNotFoundError("data/*.csv"))
    "No data file matches 'data/*.csv'. Check the path or glob, or pass data_files=..."
    """

    def __init__(self, path: str, hint: str | None = None) -> None:
        self.path = path
        super().__init__(self._message(hint))

    def _message(self, hint: str | None) -> str:
        return f"No data file matches {self.path!r}. " + (
            hint or "Check the path or glob, or pass data_files=..."
        )


class UnsupportedFormatError(DataError, ValueError):
    """A data file or format name that no reader handles.

    Parameters
    ----------
    what, supported
        The attributes of the same names (see Attributes).

    Attributes
    ----------
    what : str
        The file or format name.
    supported : list of str
        The format names that are supported.

    Examples
    --------
    >>> err = UnsupportedFormatError("data.xlsx", ["csv", "json"])
    >>> err.supported
    ['csv', 'json']
    """

    def __init__(self, what: str, supported: Sequence[str]) -> None:
        self.what = what
        self.supported = list(supported)
        super().__init__(
            f"Unsupported format {what!r}. Supported formats: {', '.join(self.supported)}."
        )


class DataFileError(DataError, ValueError):
    """A data file whose content cannot be parsed (malformed JSON line, ragged CSV row).

    Parameters
    ----------
    path, reason, row
        The attributes of the same names (see Attributes).

    Attributes
    ----------
    path : str
        The data file.
    row : int or None
        The 1-based line number in the file, where known.
    reason : str
        What is wrong with it.

    Examples
    --------
    >>> str(DataFileError("a.jsonl", "invalid JSON", row=3))
    'a.jsonl, line 3: invalid JSON. Fix or remove that line and load again.'
    """

    def __init__(self, path: str, reason: str, row: int | None = None) -> None:
        self.path = path
        self.row = row
        self.reason = reason
        where = f"{path}, line {row}" if row is not None else path
        super().__init__(f"{where}: {reason}. Fix or remove that line and load again.")


class SchemaMismatchError(DataError, ValueError):
    """Data files of one split whose schemas conflict on a column.

    Parameters
    ----------
    paths
        The two files that conflict (first, then the one that differs).
    column
        The column whose type differs.
    left, right
        Its type in the first file and in the second, for the message.

    Attributes
    ----------
    paths : list of str
        The two files that conflict; ``path`` is the last of them.
    path : str
        The file whose schema differs from the first one's.
    column : str
        The column whose type differs.

    Examples
    --------
    >>> err = SchemaMismatchError(["a.jsonl", "b.jsonl"], "x", "Int64", "String")
    >>> err.column, err.paths
    ('x', ['a.jsonl', 'b.jsonl'])
    """

    def __init__(self, paths: Sequence[str], column: str, left: str, right: str) -> None:
        self.paths = list(paths)
        self.path = self.paths[-1]
        self.column = column
        super().__init__(
            f"Column {column!r} is {left} in {self.paths[0]} but {right} in {self.paths[1]}; "
            "files of one split must share a schema. Pass features=... to cast them to one "
            "type, or load the files as separate splits."
        )


class FeatureCastError(DataError, ValueError):
    """A value that does not fit the requested Features.

    Parameters
    ----------
    column, row, value, feature
        The attributes of the same names (see Attributes).

    Attributes
    ----------
    column : str
        The column of the value.
    row : int or None
        The 0-based row of the value, where known.
    value : Any
        The value that does not fit.
    feature : str
        The feature it should fit, as text.

    Examples
    --------
    >>> err = FeatureCastError("label", 4, "cat", "ClassLabel(names=['a', 'b'])")
    >>> err.row, err.column, err.value
    (4, 'label', 'cat')
    """

    def __init__(self, column: str, row: int | None, value: Any, feature: str) -> None:
        self.column = column
        self.row = row
        self.value = value
        self.feature = feature
        where = f"row {row}" if row is not None else "a row"
        super().__init__(
            f"Column {column!r}, {where}: value {value!r} does not fit {feature}. "
            "Fix the data or pass features= with a type that holds it."
        )


class FeatureTypeError(FeatureCastError, TypeError):
    """A column whose type cannot become the requested feature (a list for ``Value("int64")``).

    ``datasets`` raises ``TypeError`` there ("Couldn't cast array of type ... to ..."), so
    this is one too; it is also a :class:`FeatureCastError` (a ``ValueError``), as every
    value that does not fit its feature.

    Parameters
    ----------
    column
        The column.
    dtype
        The column's type, as text.
    feature
        The feature it should become, as text.

    Attributes
    ----------
    column : str
        The column.
    row : None
        No row: every value of the column has the type.
    value : str
        The column's type.
    feature : str
        The feature it should become.

    Examples
    --------
    >>> err = FeatureTypeError("a", "List(Int64)", "Value('int64')")
    >>> isinstance(err, TypeError), isinstance(err, ValueError), err.column
    (True, True, 'a')
    """

    def __init__(self, column: str, dtype: str, feature: str) -> None:
        self.column = column
        self.row = None
        self.value = dtype
        self.feature = feature
        Exception.__init__(
            self,
            f"Column {column!r} holds {dtype} values, which cannot be cast to {feature}. "
            "Pass features= whose type fits the column, or change the column first "
            "(map, cast_column).",
        )


class MediaDecodeError(DataError, ValueError):
    """A media value (image, audio clip) that cannot be decoded safely.

    Parameters
    ----------
    column, row, path
        The attributes of the same names (see Attributes).
    reason
        Why decoding failed, for the message.

    Attributes
    ----------
    column : str
        The media column.
    row : int or None
        The row of the value.
    path : str or None
        The value's file, if it has one.

    Examples
    --------
    >>> isinstance(AudioDecodeError("audio", 0, None, "x"), MediaDecodeError)
    True
    """

    kind = "media value"
    feature = "Image"

    def __init__(self, column: str, row: int | None, path: str | None, reason: str) -> None:
        self.column = column
        self.row = row
        self.path = path
        super().__init__(
            f"Column {column!r}, row {row}{f' ({path})' if path else ''}: cannot decode "
            f"{self.kind}: {reason}. Remove the row (ds.filter(...)) or cast the column to "
            f"{self.feature}(decode=False) to read the raw bytes."
        )


class ImageDecodeError(MediaDecodeError):
    """An image that cannot be decoded safely (corrupt, truncated, or a decompression bomb).

    Attributes as :class:`MediaDecodeError`.

    Parameters
    ----------
    column, row, path, reason
        As :class:`MediaDecodeError`.

    Examples
    --------
    >>> ImageDecodeError("image", 3, "cat.jpg", "truncated").row
    3
    """

    kind = "image"
    feature = "Image"


class AudioDecodeError(MediaDecodeError):
    """An audio clip that cannot be decoded (corrupt, truncated, or over the duration budget).

    Attributes as :class:`MediaDecodeError`.

    Parameters
    ----------
    column, row, path, reason
        As :class:`MediaDecodeError`.

    Examples
    --------
    >>> str(AudioDecodeError("audio", 3, "a.flac", "truncated"))
    "Column 'audio', row 3 (a.flac): cannot decode audio: truncated. ... Audio(decode=False) ..."
    """

    kind = "audio"
    feature = "Audio"


class UnsafeArchiveError(DataError, ValueError):
    """An archive member that would be written outside the target, or an archive bomb.

    Parameters
    ----------
    path, member
        The attributes of the same names (see Attributes).
    reason
        Why the member is refused, for the message.

    Attributes
    ----------
    path : str
        The archive.
    member : str
        The member refused.

    Examples
    --------
    >>> UnsafeArchiveError("a.zip", "../evil", "escapes the target folder").member
    '../evil'
    """

    def __init__(self, path: str, member: str, reason: str) -> None:
        self.path = path
        self.member = member
        super().__init__(f"Refusing archive {path}: member {member!r} {reason}.")


class StreamReadError(DataError, ConnectionError):
    """A data file that kept failing to read while streaming, after retries.

    Parameters
    ----------
    path, offset, attempts
        The attributes of the same names (see Attributes).
    reason
        The last failure, for the message.

    Attributes
    ----------
    path : str
        The file or URL.
    offset : int
        The byte offset in the file where reading failed.
    attempts : int
        How many times it was tried.

    Examples
    --------
    >>> err = StreamReadError("https://host/a.parquet", 4096, 5, "connection reset")
    >>> err.path, err.offset, err.attempts
    ('https://host/a.parquet', 4096, 5)
    """

    def __init__(self, path: str, offset: int, attempts: int, reason: str) -> None:
        self.path = path
        self.offset = offset
        self.attempts = attempts
        super().__init__(
            f"Reading {path} failed at byte {offset} after {attempts} attempts: {reason}. "
            "The stream's state_dict() holds the position of the last example it yielded: "
            "call load_state_dict(state) and iterate again to resume from there."
        )


class StreamChecksumError(StreamReadError):
    """The bytes of a streamed file do not match the checksum of the repository's file
    listing (sha256, or git blob id), after retries.

    Parameters
    ----------
    path, attempts, rows_used
        The attributes of the same names (see Attributes).
    reason
        What does not match, for the message.

    Attributes
    ----------
    path : str
        The file's URL.
    attempts : int
        How many times it was read.
    rows_used : bool
        Whether rows of the file were already yielded before the mismatch could be seen
        (a file too large to check before use): those rows may be wrong.

    Examples
    --------
    >>> err = StreamChecksumError("https://hub/a.parquet", 3, "its sha256 is 0a…", False)
    >>> err.path, err.attempts, err.rows_used
    ('https://hub/a.parquet', 3, False)
    """

    def __init__(self, path: str, attempts: int, reason: str, rows_used: bool) -> None:
        self.path = path
        self.offset = 0
        self.attempts = attempts
        self.rows_used = rows_used
        used = (
            "Rows of this file already yielded may be wrong: iterate again from before this "
            "file (a state_dict() saved before it, or the start). "
            if rows_used
            else "No row of it was used. "
        )
        super(StreamReadError, self).__init__(  # StreamReadError's own message does not fit
            f"The bytes of {path} read while streaming do not match the repository's file "
            f"listing ({reason}), after {attempts} attempts. {used}If it persists, the file "
            "served does not match its listing or something on the way (a proxy) changes "
            "it: try again later, load it without streaming=True (downloads are checked the "
            "same way), or tell the dataset's owners.",
        )


class SavedDatasetError(DataError, FileNotFoundError):
    """A ``save_to_disk`` folder that does not hold what its ``dataset_info.json`` says
    (a shard missing, or fewer or more rows): the save was interrupted or files were changed.

    Parameters
    ----------
    path, reason
        The attributes of the same names (see Attributes).

    Attributes
    ----------
    path : str
        The folder.
    reason : str
        What does not match.

    Examples
    --------
    >>> str(SavedDatasetError("/data/saved", "shard data-00001-of-00002.parquet is missing"))[:60]
    "The saved dataset '/data/saved' is incomplete: shard data-00"
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(
            f"The saved dataset {path!r} is incomplete: {reason}. The save was interrupted or "
            "its files were changed since; save the dataset again (or restore the folder)."
        )


__all__ = [
    "DataFileError",
    "DataFilesNotFoundError",
    "FeatureCastError",
    "FeatureTypeError",
    "ImageDecodeError",
    "SavedDatasetError",
    "SchemaMismatchError",
    "StreamReadError",
    "UnsafeArchiveError",
    "UnsupportedFormatError",
]
