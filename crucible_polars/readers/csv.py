"""CSV and TSV: ``pl.scan_csv`` over the files of a split, with ``datasets``' pandas options.

``datasets`` reads CSV with ``pandas.read_csv``; the options it passes through are mapped to
Polars here (:class:`CsvOptions`): ``sep``/``delimiter``, ``header``, ``names``/``column_names``
(no header is read when names are given, as pandas does), ``skiprows``, ``nrows``,
``quotechar``, ``comment``, ``na_values``/``keep_default_na``/``na_filter`` (pandas' default
missing-value strings), ``encoding``/``encoding_errors`` and ``on_bad_lines``. A file in
another encoding than UTF-8, or with ``on_bad_lines="skip"``/``"warn"``, is decoded in Python
once when scanned (it is held in memory as UTF-8); every other file is scanned lazily.
"""

from __future__ import annotations

import csv as pycsv
import io
import warnings
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import polars as pl

from crucible_polars.errors import CrucibleError
from crucible_polars.features import Features, Value, feature_to_polars
from crucible_polars.readers.base import Scan, ScanOptions, run_explained
from crucible_polars.readers.compressed import (
    compression_of,
    concat_scans,
    needs_python_decompression,
    scan_decompressed_csv,
)
from crucible_polars.readers.csv_diagnose import diagnose_csv
from crucible_polars.readers.diagnose import blank_file_error, has_utf16_bom, read_decoded

PANDAS_NA_VALUES = (
    *("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND"),
    *("1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"),
)
"""The strings ``pandas.read_csv`` reads as missing by default (``keep_default_na=True``)."""

INFER_SCHEMA_ROWS = 10_000
"""Rows read to infer column types: ``datasets``' CSV chunk (pandas infers per chunk)."""


@dataclass(frozen=True)
class CsvOptions:
    """The pandas-style CSV options of a load, as Polars takes them.

    Examples
    --------
    >>> o = CsvOptions.from_options({"column_names": ["a", "b"], "skiprows": 2})
    >>> o.has_header, o.names, o.skip_rows
    (False, ('a', 'b'), 2)
    """

    sep: str = ","
    has_header: bool = True
    names: tuple[str, ...] | None = None
    skip_rows: int = 0
    n_rows: int | None = None
    quote_char: str | None = '"'
    comment: str | None = None
    null_values: tuple[str, ...] | None = PANDAS_NA_VALUES
    empty_string_is_null: bool = True
    encoding: str = "utf-8"
    encoding_errors: str = "strict"
    on_bad_lines: str = "error"
    dtypes: tuple[tuple[str, pl.DataType], ...] = ()

    @classmethod
    def from_options(cls, options: ScanOptions) -> CsvOptions:
        """Map ``datasets``/pandas option names and values to these fields."""
        names_option = options.get("column_names") or options.get("names")
        names = tuple(str(n) for n in names_option) if names_option is not None else None
        header = options.get("header", "infer")
        skip = options.get("skiprows") or 0
        if not isinstance(skip, int):
            raise ValueError(f"skiprows={skip!r}: only a number of lines to skip is supported.")
        if header == "infer":
            has_header = names is None
        elif header is None:
            has_header = False
        elif isinstance(header, int) and not isinstance(header, bool) and header >= 0:
            has_header, skip = True, skip + header
        else:
            raise ValueError(f"header={header!r}: use 'infer', None or a line number.")
        na_values = options.get("na_values")
        extra = [na_values] if isinstance(na_values, str) else list(na_values or [])
        if isinstance(na_values, dict):
            raise ValueError("na_values as a per-column dict is not supported; pass a list.")
        nulls: tuple[str, ...] | None = tuple(
            dict.fromkeys(
                [
                    *(PANDAS_NA_VALUES if options.get("keep_default_na", True) else ()),
                    *map(str, extra),
                ]
            )
        )
        if not options.get("na_filter", True):
            nulls = None
        on_bad_lines = str(options.get("on_bad_lines") or "error")
        if on_bad_lines not in ("error", "warn", "skip"):
            raise ValueError(f"on_bad_lines={on_bad_lines!r}: use 'error', 'warn' or 'skip'.")
        sep = str(options.get("delimiter") or options.get("sep") or ",")
        if len(sep.encode()) != 1:
            raise ValueError(f"sep={sep!r}: only a one-byte separator is supported.")
        return cls(
            sep=sep,
            has_header=has_header,
            names=names,
            skip_rows=skip,
            n_rows=options.get("nrows"),
            quote_char=options.get("quotechar", '"'),
            comment=options.get("comment"),
            null_values=nulls or None,
            empty_string_is_null=nulls is not None and "" in nulls,
            encoding=str(options.get("encoding") or "utf-8"),
            encoding_errors=str(options.get("encoding_errors") or "strict"),
            on_bad_lines=on_bad_lines,
            dtypes=_feature_dtypes(options.get("features")),
        )

    @property
    def decodes_in_python(self) -> bool:
        """Whether files are decoded (and bad lines dropped) in Python before Polars parses."""
        return (
            self.encoding.lower().replace("-", "_") not in ("utf_8", "utf8")
            or self.encoding_errors != "strict"
            or self.on_bad_lines != "error"
        )

    def polars_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``pl.scan_csv`` / ``pl.read_csv``."""
        return {
            "separator": self.sep,
            "has_header": self.has_header,
            "skip_rows": self.skip_rows,
            "n_rows": self.n_rows,
            "quote_char": self.quote_char,
            "comment_prefix": self.comment,
            "null_values": list(self.null_values) if self.null_values else None,
            "empty_string_is_null": self.empty_string_is_null,
            "infer_schema_length": INFER_SCHEMA_ROWS,
            "schema_overrides": dict(self.dtypes) or None,
        }


def _feature_dtypes(features: Any) -> tuple[tuple[str, pl.DataType], ...]:
    """``features=`` Value columns as Polars types to read them with (as ``datasets`` gives
    pandas ``dtype=``), so a column is never inferred as another type first."""
    if not features:
        return ()
    return tuple(
        (name, feature_to_polars(feature))
        for name, feature in features.items()
        if isinstance(feature, Value)
    )


def utf8_bytes(path: str, opts: CsvOptions, storage_options: Any = None) -> bytes:
    """A CSV file decoded with ``opts.encoding``, its bad lines dropped per ``on_bad_lines``,
    as UTF-8 bytes for Polars.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.csv")
    >>> _ = open(p, "wb").write("a,b\\ncafé,1\\nx,2,3\\n".encode("latin-1"))
    >>> utf8_bytes(p, CsvOptions(encoding="latin-1", on_bad_lines="skip")).decode()
    'a,b\\r\\ncafé,1\\r\\n'
    """
    text = read_decoded(path, opts.encoding, opts.encoding_errors, storage_options)
    if opts.on_bad_lines == "error":
        return text.encode()
    out = io.StringIO()
    writer = pycsv.writer(out, delimiter=opts.sep, quotechar=opts.quote_char or '"')
    reader = pycsv.reader(io.StringIO(text, newline=""), delimiter=opts.sep)
    width = len(opts.names) if opts.names and not opts.has_header else None
    for row in reader:
        if width is None and reader.line_num > opts.skip_rows:
            width = len(row)
        elif width is not None and len(row) > width:
            if opts.on_bad_lines == "warn":
                warnings.warn(
                    f"{path}, line {reader.line_num}: {len(row)} fields, expected {width}; "
                    "skipped (on_bad_lines='warn')",
                    stacklevel=2,
                )
            continue
        writer.writerow(row)
    return out.getvalue().encode()


def _rename(lf: pl.LazyFrame, opts: CsvOptions) -> pl.LazyFrame:
    """Without a header and names, pandas numbers the columns ``0, 1, ...`` (as text)."""
    if opts.has_header or opts.names:
        return lf
    columns = lf.collect_schema().names()
    return lf.rename({c: str(i) for i, c in enumerate(columns)})


def _scan_one(path: str, *, opts: CsvOptions, storage_options: Any = None) -> pl.LazyFrame:
    names = list(opts.names) if opts.names else None
    chunked = needs_python_decompression(path)
    if opts.decodes_in_python or (chunked and (opts.skip_rows or opts.n_rows is not None)):
        source = utf8_bytes(path, opts, storage_options)
        lf = pl.scan_csv(source, new_columns=names, **opts.polars_kwargs())
    elif chunked:
        compression = compression_of(path)
        assert compression is not None
        lf = scan_decompressed_csv(
            path,
            compression,
            separator=opts.sep,
            has_header=opts.has_header,
            quote_char=opts.quote_char,
            read_csv_options={
                k: v
                for k, v in opts.polars_kwargs().items()
                if k in ("comment_prefix", "null_values")
            },
        )
        if names:
            lf = lf.rename(dict(zip(lf.collect_schema().names(), names, strict=False)))
    else:
        lf = pl.scan_csv(
            path, new_columns=names, storage_options=storage_options, **opts.polars_kwargs()
        )
    return _rename(lf, opts)


def _scan_many(
    files: list[str], schema: pl.Schema | None, *, opts: CsvOptions, storage_options: Any = None
) -> pl.LazyFrame:
    if opts.decodes_in_python or opts.n_rows is not None:  # pandas' nrows is per file
        frames = [_scan_one(f, opts=opts, storage_options=storage_options) for f in files]
        if schema is not None:
            frames = [lf.cast(dict(schema)) for lf in frames]  # type: ignore[arg-type]
        return pl.concat(frames, how="diagonal_relaxed")
    if schema is not None:
        kwargs = {**opts.polars_kwargs(), "has_header": opts.has_header}
        return pl.scan_csv(files, schema=schema, storage_options=storage_options, **kwargs)
    names = list(opts.names) if opts.names else None
    lf = pl.scan_csv(
        files, new_columns=names, storage_options=storage_options, **opts.polars_kwargs()
    )
    return _rename(lf, opts)


def scan(files: list[str], options: ScanOptions) -> Scan:
    """Scan CSV files lazily with ``datasets``' CSV options (see :class:`CsvOptions`).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.tsv")
    >>> _ = open(p, "w").write("a\\tb\\n1\\tx\\n")
    >>> scan([p], {"sep": "\\t"}).lf.collect().columns
    ['a', 'b']
    >>> scan([p], {"sep": "\\t", "names": ["x", "y"]}).lf.collect()["x"].to_list()
    ['a', '1']
    """
    opts = CsvOptions.from_options(options)
    storage_options = options.get("storage_options")
    for path in files:
        blank = blank_file_error(path, "CSV")
        if blank is not None:
            raise blank
    if "encoding" not in options and any(has_utf16_bom(f) for f in files):
        opts = replace(opts, encoding="utf-16")  # a UTF-16 byte-order mark says so
    lf = concat_scans(
        files,
        partial(_scan_one, opts=opts, storage_options=storage_options),
        partial(_scan_many, opts=opts, storage_options=storage_options),
    )

    def diagnose(error: BaseException) -> CrucibleError | None:
        return diagnose_csv(files, opts.sep, error, opts.quote_char or '"')

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
