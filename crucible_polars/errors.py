"""One error hierarchy for crucible_polars.

Every error names what went wrong (file, row, column, repo) and what to do, and carries
those as attributes. Like ``huggingface_hub.errors``, each class also derives from the
builtin it resembles, so code written for ``datasets`` that catches ``FileNotFoundError``,
``ValueError`` or ``KeyError`` keeps working.

Examples
--------
>>> import crucible_polars as cp
>>> try:
...     cp.load_dataset("json", data_files="/no/such/file.jsonl")
... except FileNotFoundError as err:  # a DataFilesNotFoundError
...     print(err.path)
/no/such/file.jsonl
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class CrucibleError(Exception):
    """Base class of every error crucible_polars raises on purpose.

    Examples
    --------
    >>> issubclass(DataFileError, CrucibleError)
    True
    """


class DataFilesNotFoundError(CrucibleError, FileNotFoundError):
    """A path, folder or glob that matches no data file.

    Examples
    --------
    >>> str(DataFilesNotFoundError("data/*.csv"))
    "No data file matches 'data/*.csv'. Check the path or glob, or pass data_files=..."
    """

    def __init__(self, path: str, hint: str | None = None) -> None:
        self.path = path
        message = f"No data file matches {path!r}. " + (
            hint or "Check the path or glob, or pass data_files=..."
        )
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.args[0])


class UnsupportedFormatError(CrucibleError, ValueError):
    """A data file or format name that no reader handles.

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


class DataFileError(CrucibleError, ValueError):
    """A data file whose content cannot be parsed (malformed JSON line, ragged CSV row).

    ``row`` is the 1-based line number in the file where known.

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


class SchemaMismatchError(CrucibleError, ValueError):
    """Data files of one split whose schemas conflict on a column.

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


class FeatureCastError(CrucibleError, ValueError):
    """A value that does not fit the requested Features.

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


class ColumnNotFoundError(CrucibleError, KeyError, ValueError):
    """A column name that the dataset does not have.

    Derives from both ``KeyError`` (``ds["x"]``) and ``ValueError`` (what ``datasets``
    raises from ``remove_columns`` and friends).

    Examples
    --------
    >>> str(ColumnNotFoundError("x", ["a", "b"]))
    "Column 'x' not in the dataset. Columns: ['a', 'b']."
    """

    def __init__(self, column: str | Sequence[str], available: Sequence[str]) -> None:
        self.column = column
        self.available = list(available)
        super().__init__(f"Column {column!r} not in the dataset. Columns: {self.available}.")

    def __str__(self) -> str:
        return str(self.args[0])


class ConfigNotFoundError(CrucibleError, ValueError):
    """A config name (``name=``) that the dataset does not define.

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


class SplitNotFoundError(CrucibleError, ValueError):
    """A split name that the dataset (or config) does not have.

    Examples
    --------
    >>> SplitNotFoundError("dev", ["train", "test"]).available
    ['train', 'test']
    """

    def __init__(self, split: str, available: Sequence[str]) -> None:
        self.split = split
        self.available = list(available)
        super().__init__(f"Unknown split {split!r}. Should be one of {self.available}.")


class HubAccessError(CrucibleError, PermissionError):
    """A gated or private Hub repository that the current credentials cannot read.

    The message never contains the token.

    Examples
    --------
    >>> HubAccessError("org/private").repo_id
    'org/private'
    """

    def __init__(self, repo_id: str, detail: str = "") -> None:
        self.repo_id = repo_id
        super().__init__(
            f"Cannot access dataset {repo_id!r}{': ' + detail if detail else ''}. "
            "It is gated or private: accept its conditions on the Hub, then pass token=..., "
            "set HF_TOKEN, or run `hf auth login`."
        )


class OfflineCacheMissError(CrucibleError, FileNotFoundError):
    """Offline mode (``HF_HUB_OFFLINE=1``) and a file that is not in the cache.

    Examples
    --------
    >>> OfflineCacheMissError("openai/gsm8k", ["main/test.parquet"]).missing
    ['main/test.parquet']
    """

    def __init__(self, repo_id: str, missing: Sequence[str]) -> None:
        self.repo_id = repo_id
        self.missing = list(missing)
        super().__init__(
            f"Offline mode is on and {repo_id!r} is not fully cached; missing: "
            f"{', '.join(self.missing[:5])}{' ...' if len(self.missing) > 5 else ''}. "
            "Load it once online (unset HF_HUB_OFFLINE), then offline loads work."
        )


class UnsafeArchiveError(CrucibleError, ValueError):
    """An archive member that would be written outside the target, or an archive bomb.

    Examples
    --------
    >>> UnsafeArchiveError("a.zip", "../evil", "escapes the target folder").member
    '../evil'
    """

    def __init__(self, path: str, member: str, reason: str) -> None:
        self.path = path
        self.member = member
        super().__init__(f"Refusing archive {path}: member {member!r} {reason}.")


class ImageDecodeError(CrucibleError, ValueError):
    """An image that cannot be decoded safely (corrupt, truncated, or a decompression bomb).

    Examples
    --------
    >>> ImageDecodeError("image", 3, "cat.jpg", "truncated").row
    3
    """

    def __init__(self, column: str, row: int | None, path: str | None, reason: str) -> None:
        self.column = column
        self.row = row
        self.path = path
        super().__init__(
            f"Column {column!r}, row {row}{f' ({path})' if path else ''}: cannot decode image: "
            f"{reason}. Remove the row (ds.filter(...)) or cast the column to "
            "Image(decode=False) to read the raw bytes."
        )


class DuplicateColumnError(CrucibleError, ValueError):
    """Column names that would appear twice (``rename_columns``, ``add_column``, ``axis=1``).

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


class FunctionOutputError(CrucibleError, ValueError):
    """What a ``map`` or ``filter`` function returned for a batch does not fit.

    ``start`` and ``stop`` are the batch's rows (``stop`` excluded); ``row`` is ``start``.

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


class DatasetNotFoundError(DataFilesNotFoundError):
    """A Hub dataset, or a revision of it, that does not exist or that the credentials cannot see.

    Derives from :class:`DataFilesNotFoundError` (so from ``FileNotFoundError``), as
    ``datasets.exceptions.DatasetNotFoundError`` does. The message never contains the token.

    Examples
    --------
    >>> err = DatasetNotFoundError("org/name", revision="v2", available=["main", "v1"])
    >>> err.repo_id, err.revision, err.available
    ('org/name', 'v2', ['main', 'v1'])
    >>> str(err)
    "Revision 'v2' doesn't exist for dataset 'org/name' on the Hub. Branches and tags: main, v1."
    """

    def __init__(
        self, repo_id: str, revision: str | None = None, available: Sequence[str] = ()
    ) -> None:
        self.repo_id = repo_id
        self.path = repo_id
        self.revision = revision
        self.available = list(available)
        if revision is None:
            message = (
                f"Dataset {repo_id!r} doesn't exist on the Hub or cannot be accessed (nor is it "
                "a local file or folder). Check the name; if the dataset is private, pass "
                "token=..., set HF_TOKEN, or run `hf auth login`."
            )
        else:
            message = f"Revision {revision!r} doesn't exist for dataset {repo_id!r} on the Hub."
            if self.available:
                message += f" Branches and tags: {', '.join(self.available)}."
        super(DataFilesNotFoundError, self).__init__(message)


class LoadingScriptError(CrucibleError, RuntimeError):
    """A Hub dataset defined by a loading script, with no parquet conversion to load instead.

    crucible_polars never runs loading scripts (``datasets`` >= 4 refuses them too).

    Examples
    --------
    >>> err = LoadingScriptError("org/legacy", "legacy.py")
    >>> err.repo_id, err.script
    ('org/legacy', 'legacy.py')
    """

    def __init__(self, repo_id: str, script: str) -> None:
        self.repo_id = repo_id
        self.script = script
        super().__init__(
            f"Dataset {repo_id!r} is defined by a loading script ({script}), which "
            "crucible_polars never runs, and the Hub has no parquet conversion of it "
            "(refs/convert/parquet). Pass data_files=... to read its raw data files, or ask "
            "its maintainers to publish data files."
        )


class StreamReadError(CrucibleError, ConnectionError):
    """A data file that kept failing to read while streaming, after retries.

    ``offset`` is the byte offset in the file where reading failed.

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


class HubDownloadError(CrucibleError, ConnectionError):
    """A Hub request (a file download, a listing) that kept failing after retries.

    ``path`` is the file in the repository, or what was asked of the Hub (``"the file
    listing"``); ``attempts`` how often it was tried.

    Examples
    --------
    >>> err = HubDownloadError("org/name", "data/train.parquet", 9, "HTTP 503")
    >>> err.repo_id, err.path, err.attempts
    ('org/name', 'data/train.parquet', 9)
    """

    def __init__(self, repo_id: str, path: str, attempts: int, reason: str) -> None:
        self.repo_id = repo_id
        self.path = path
        self.attempts = attempts
        self.reason = reason
        super().__init__(
            f"Fetching {path} of dataset {repo_id!r} from the Hub failed after {attempts} "
            f"attempts: {reason}. The Hub or the network is failing or rate-limiting: try "
            "again later (files already downloaded stay in the cache), or raise "
            "CRUCIBLE_POLARS_HTTP_RETRIES / CRUCIBLE_POLARS_HTTP_RETRY_MAX_WAIT to wait longer."
        )


__all__ = [
    "ColumnNotFoundError",
    "ConfigNotFoundError",
    "CrucibleError",
    "DataFileError",
    "DataFilesNotFoundError",
    "DatasetNotFoundError",
    "DuplicateColumnError",
    "FeatureCastError",
    "FunctionOutputError",
    "HubAccessError",
    "HubDownloadError",
    "ImageDecodeError",
    "LoadingScriptError",
    "OfflineCacheMissError",
    "SchemaMismatchError",
    "SplitNotFoundError",
    "StreamReadError",
    "UnsafeArchiveError",
    "UnsupportedFormatError",
]
