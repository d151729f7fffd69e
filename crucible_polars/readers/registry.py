"""The reader of each format, and :func:`scan_files`, which picks one and expands archives."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from crucible_polars.errors import UnsupportedFormatError
from crucible_polars.readers import arrow, csv, json, parquet, text
from crucible_polars.readers.archive_files import expand_archives
from crucible_polars.readers.archives import is_archive
from crucible_polars.readers.audiofolder import scan_audiofolder
from crucible_polars.readers.base import Scan, ScanOptions
from crucible_polars.readers.diagnose import format_mismatch_error
from crucible_polars.readers.extensions import FOLDER_FORMATS, FORMAT_EXTENSIONS, SUPPORTED_FORMATS
from crucible_polars.readers.imagefolder import scan_imagefolder
from crucible_polars.sources.fetch import fetch, needs_fetch

READERS: dict[str, Callable[[list[str], ScanOptions], Scan]] = {
    "parquet": parquet.scan,
    "json": json.scan,
    "csv": csv.scan,
    "text": text.scan,
    "arrow": arrow.scan,
    "imagefolder": scan_imagefolder,
    "audiofolder": scan_audiofolder,
}
"""Format name -> ``scan(files, options) -> Scan``."""


def scan_files(format: str, files: Sequence[str], options: ScanOptions | None = None) -> Scan:
    """Scan ``files`` (local paths or URLs) of one split lazily with the reader of ``format``.

    Examples
    --------
    >>> import polars as pl, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "a.csv")
    >>> pl.DataFrame({"x": [1, 2]}).write_csv(path)
    >>> scan_files("csv", [path]).lf.collect()["x"].to_list()
    [1, 2]
    """
    if format not in READERS:
        raise UnsupportedFormatError(format, SUPPORTED_FORMATS)
    options = dict(options or {})
    storage_options = options.get("storage_options")
    if any(needs_fetch(f, storage_options) for f in files):  # URLs Polars cannot scan
        files = [fetch(f, storage_options) for f in files]
    if format not in FOLDER_FORMATS and any(is_archive(f) for f in files):
        files = expand_archives(files, FORMAT_EXTENSIONS[format], options.get("storage_options"))
        if not files:
            raise UnsupportedFormatError(f"no {format} file inside the archives", [format])
    mismatch = format_mismatch_error(format, list(files)) if format not in FOLDER_FORMATS else None
    if mismatch is not None:
        raise mismatch
    return READERS[format](list(files), options)


__all__ = ["READERS", "scan_files"]
