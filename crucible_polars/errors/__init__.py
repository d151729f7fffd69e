"""One error hierarchy for crucible_polars.

Every error names what went wrong (file, row, column, repo) and what to do, and carries
those as attributes. Like ``huggingface_hub.errors``, the classes are grouped under
:class:`CrucibleError`, and each also derives from the builtin it resembles, so code written
for ``datasets`` that catches ``FileNotFoundError``, ``ValueError`` or ``KeyError`` keeps
working::

    CrucibleError
    ├── HubError    DatasetNotFoundError, HubAccessError, HubDownloadError, OfflineCacheMissError,
    │               LoadingScriptError                                        (hub.py)
    ├── DataError   DataFilesNotFoundError (base of DatasetNotFoundError),
    │               UnsupportedFormatError, DataFileError, SchemaMismatchError,
    │               FeatureCastError (FeatureTypeError: also a TypeError),
    │               MediaDecodeError (ImageDecodeError, AudioDecodeError),
    │               UnsafeArchiveError, StreamReadError (StreamChecksumError),
    │               SavedDatasetError                                         (data.py)
    └── UsageError  ColumnNotFoundError (also Polars' ColumnNotFoundError),
                    ExtraColumnsError, DuplicateColumnError, ConfigNotFoundError,
                    SplitNotFoundError, FunctionOutputError                   (usage.py)

Every class is importable, shown in tracebacks and pickled as
``crucible_polars.errors.<Name>``. Every error pickles with its class, message and
attributes, so one raised in a worker process (``multiprocessing``, Ray) arrives whole.

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

from crucible_polars.errors.base import CrucibleError, DataError, HubError, UsageError
from crucible_polars.errors.data import (
    AudioDecodeError,
    DataFileError,
    DataFilesNotFoundError,
    FeatureCastError,
    FeatureTypeError,
    ImageDecodeError,
    MediaDecodeError,
    SavedDatasetError,
    SchemaMismatchError,
    StreamChecksumError,
    StreamReadError,
    UnsafeArchiveError,
    UnsupportedFormatError,
)
from crucible_polars.errors.hub import (
    DatasetNotFoundError,
    HubAccessError,
    HubDownloadError,
    LoadingScriptError,
    OfflineCacheMissError,
)
from crucible_polars.errors.usage import (
    ColumnNotFoundError,
    ConfigNotFoundError,
    DuplicateColumnError,
    ExtraColumnsError,
    FunctionOutputError,
    SplitNotFoundError,
)

__all__ = [
    "AudioDecodeError",
    "ColumnNotFoundError",
    "ConfigNotFoundError",
    "CrucibleError",
    "DataError",
    "DataFileError",
    "DataFilesNotFoundError",
    "DatasetNotFoundError",
    "DuplicateColumnError",
    "ExtraColumnsError",
    "FeatureCastError",
    "FeatureTypeError",
    "FunctionOutputError",
    "HubAccessError",
    "HubDownloadError",
    "HubError",
    "ImageDecodeError",
    "LoadingScriptError",
    "MediaDecodeError",
    "OfflineCacheMissError",
    "SavedDatasetError",
    "SchemaMismatchError",
    "SplitNotFoundError",
    "StreamChecksumError",
    "StreamReadError",
    "UnsafeArchiveError",
    "UnsupportedFormatError",
    "UsageError",
]
