"""Text: one row per line in a column ``text``, line breaks removed (as ``datasets``)."""

from __future__ import annotations

import polars as pl

from crucible_polars.readers.base import Scan, ScanOptions
from crucible_polars.readers.compressed import (
    compression_of,
    needs_python_decompression,
    scan_decompressed_text,
)


def _scan_one(path: str) -> pl.LazyFrame:
    compression = compression_of(path)
    if compression is not None and needs_python_decompression(path):
        return scan_decompressed_text(path, compression)
    return pl.scan_lines(path, name="text")


def scan(files: list[str], options: ScanOptions) -> Scan:
    """Scan text files lazily, one row per line.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> _ = open(p, "w").write("hello\\n\\nworld\\n")
    >>> scan([p], {}).lf.collect()["text"].to_list()
    ['hello', '', 'world']
    """
    if any(needs_python_decompression(f) for f in files):
        return Scan(lf=pl.concat([_scan_one(f) for f in files]))
    return Scan(lf=pl.scan_lines(files, name="text"))
