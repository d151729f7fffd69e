"""CSV and TSV: ``pl.scan_csv`` over the files of a split."""

from __future__ import annotations

import csv as pycsv
from collections.abc import Sequence
from functools import partial

import polars as pl

from crucible_polars.errors import CrucibleError, DataFileError
from crucible_polars.features import Features, Value
from crucible_polars.readers.base import Scan, ScanOptions, run_explained
from crucible_polars.readers.compressed import (
    compression_of,
    concat_scans,
    needs_python_decompression,
    open_text_lines,
    scan_decompressed_csv,
)


def _scan_one(
    path: str, *, sep: str, has_header: bool, names: Sequence[str] | None
) -> pl.LazyFrame:
    if needs_python_decompression(path):
        compression = compression_of(path)
        assert compression is not None
        lf = scan_decompressed_csv(path, compression, separator=sep, has_header=has_header)
        return (
            lf.rename(dict(zip(lf.collect_schema().names(), names, strict=False))) if names else lf
        )
    return pl.scan_csv(path, separator=sep, has_header=has_header, new_columns=names)


def _scan_many(
    files: list[str],
    schema: pl.Schema | None,
    *,
    sep: str,
    has_header: bool,
    names: Sequence[str] | None,
) -> pl.LazyFrame:
    if schema is not None:
        return pl.scan_csv(files, separator=sep, has_header=has_header, schema=schema)
    return pl.scan_csv(files, separator=sep, has_header=has_header, new_columns=names)


def diagnose_csv(files: list[str], sep: str) -> CrucibleError | None:
    """Find the first row whose field count differs from the header's (1-based line number).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.csv")
    >>> _ = open(p, "w").write("a,b\\n1,2\\n3,4,5\\n")
    >>> diagnose_csv([p], ",").row
    3
    """
    for path in files:
        reader = pycsv.reader(open_text_lines(path), delimiter=sep)
        width = None
        for row in reader:
            if width is None:
                width = len(row)
            elif row and len(row) != width:
                return DataFileError(
                    path,
                    f"row has {len(row)} fields but the header has {width}",
                    row=reader.line_num,
                )
    return None


def scan(files: list[str], options: ScanOptions) -> Scan:
    """Scan CSV files lazily (``sep=`` / ``delimiter=``, ``header=None``, ``column_names=``).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.tsv")
    >>> _ = open(p, "w").write("a\\tb\\n1\\tx\\n")
    >>> scan([p], {"sep": "\\t"}).lf.collect().columns
    ['a', 'b']
    """
    sep = str(options.get("sep") or options.get("delimiter") or ",")
    has_header = options.get("header", "infer") is not None
    names = options.get("column_names") or options.get("names")
    lf = concat_scans(
        files,
        partial(_scan_one, sep=sep, has_header=has_header, names=names),
        partial(_scan_many, sep=sep, has_header=has_header, names=names),
    )

    def diagnose(error: BaseException) -> CrucibleError | None:
        return diagnose_csv(files, sep)

    schema = run_explained(lf.collect_schema, [diagnose])
    return Scan(lf=lf, diagnose=diagnose, features=pandas_like_features(schema))


def pandas_like_features(schema: pl.Schema) -> Features:
    """Features as ``datasets``' CSV reader (pandas with Arrow strings) reports them:
    text columns are ``large_string``."""
    features = Features.from_polars(schema)
    for name, dtype in schema.items():
        if dtype == pl.String:
            features[name] = Value("large_string")
    return features
