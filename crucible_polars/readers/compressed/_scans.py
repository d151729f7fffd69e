"""Lazy scans of compressed JSON-lines, CSV and text files that Polars cannot read itself.

The ``scan_decompressed_*`` functions return lazy frames built on
:func:`polars.io.plugins.register_io_source`: nothing is read before ``collect``, and the
plugin's projection, predicate, ``n_rows`` and batch size are honoured. A file is
decompressed chunk by chunk (``open_path``), every chunk ends at a line or CSV record
boundary (``iter_line_chunks``) and is parsed on its own, so memory stays bounded by the
chunk size.

Examples
--------
>>> import bz2, os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "a.txt.bz2")
>>> with bz2.open(path, "wb") as f:
...     _ = f.write(b"one\\ntwo\\n")
>>> scan_decompressed_text(path, "bz2").collect()["text"].to_list()
['one', 'two']
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import polars as pl

from crucible_polars.errors import DataFileError
from crucible_polars.io_source import Produce, frame_source
from crucible_polars.readers.compressed._chunks import (
    DEFAULT_CHUNK_BYTES,
    first_lines,
    iter_csv_record_chunks,
    iter_line_chunks,
    record_end,
)
from crucible_polars.readers.compressed._codecs import normalize_compression, open_path

__all__ = [
    "ParseChunk",
    "ndjson_error",
    "parse_text_chunk",
    "read_ndjson",
    "scan_decompressed_csv",
    "scan_decompressed_ndjson",
    "scan_decompressed_text",
    "strip_bom",
]

_UTF8_BOM = b"\xef\xbb\xbf"

ParseChunk = Callable[[bytes, list[str] | None, int], pl.DataFrame]
"""``parse(chunk, columns_to_read, first_line_number) -> DataFrame``."""


def _first_line(message: str) -> str:
    return str(message).strip().splitlines()[0] if str(message).strip() else repr(message)


def _produce_frames(
    open_chunks: Callable[[], Iterator[bytes]], parse: ParseChunk, schema: pl.Schema
) -> Produce:
    """Parse ``open_chunks()`` one chunk at a time, reading only the columns asked for
    (at least one, so that row counts stay right)."""
    names = list(schema.names())

    def produce(columns: list[str] | None) -> Iterator[pl.DataFrame]:
        if not names:
            return
        read_cols = None if columns is None else [c for c in names if c in columns] or names[:1]
        line = 1
        chunks = open_chunks()
        try:
            for chunk in chunks:
                yield parse(chunk, read_cols, line)
                line += chunk.count(b"\n")
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    return produce


def _chunks_of(
    path: str,
    compression: str | None,
    chunk_bytes: int,
    storage_options: Mapping[str, Any] | None,
    quote_char: str | None = None,
    csv: bool = False,
) -> Callable[[], Iterator[bytes]]:
    def open_chunks() -> Iterator[bytes]:
        with open_path(path, compression, storage_options) as reader:
            if csv:
                yield from iter_csv_record_chunks(reader, chunk_bytes, quote_char)
            else:
                yield from iter_line_chunks(reader, chunk_bytes)

    return open_chunks


def _register_scan(
    open_chunks: Callable[[], Iterator[bytes]],
    parse: ParseChunk,
    schema: pl.Schema,
    explain_name: str,
    path: str,
    compression: str | None,
) -> pl.LazyFrame:
    """The lazy frame of an IO plugin that parses ``open_chunks()`` one chunk at a time."""
    return frame_source(
        _produce_frames(open_chunks, parse, schema),
        schema,
        explain_name,
        detail=f"{path} ({compression or 'uncompressed'})",
        validate_schema=True,
    )


def _select_schema(schema: pl.Schema, columns: list[str] | None) -> pl.Schema:
    """``schema`` restricted to ``columns`` (all of it for ``None``)."""
    return schema if columns is None else pl.Schema({c: schema[c] for c in columns})


def _read_head(
    path: str,
    compression: str | None,
    storage_options: Mapping[str, Any] | None,
    n: int,
    quote_char: str | None = None,
) -> bytes:
    """The first ``n`` lines (CSV records with ``quote_char``), decompressed, without a BOM."""
    with open_path(path, compression, storage_options) as reader:
        return strip_bom(first_lines(reader, None, n, quote_char=quote_char), 1)


def strip_bom(chunk: bytes, line: int) -> bytes:
    """``chunk`` without a leading UTF-8 byte-order mark when it starts the file.

    Parameters
    ----------
    chunk
        Bytes of a line-based file.
    line
        The 1-based line ``chunk`` starts at; only line 1 can hold a BOM.

    Examples
    --------
    >>> strip_bom(b"\\xef\\xbb\\xbfa,b", 1), strip_bom(b"\\xef\\xbb\\xbfa,b", 2)
    (b'a,b', b'\\xef\\xbb\\xbfa,b')
    """
    return chunk[len(_UTF8_BOM) :] if line == 1 and chunk.startswith(_UTF8_BOM) else chunk


def _bad_ndjson_line(chunk: bytes, schema: pl.Schema | None) -> int | None:
    """0-based index of the first line of ``chunk`` that fails to parse (bisection)."""
    lines = chunk.splitlines(keepends=True)

    def fails(lo: int, hi: int) -> bool:
        try:
            read_ndjson(b"".join(lines[lo:hi]), schema)
        except pl.exceptions.PolarsError:
            return True
        return False

    lo, hi = 0, len(lines)
    if hi == 0 or not fails(lo, hi):
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fails(lo, mid):
            hi = mid
        elif fails(mid, hi):
            lo = mid
        else:
            return lo
    return lo


def read_ndjson(data: bytes, schema: pl.Schema | None) -> pl.DataFrame:
    """Parse JSON lines with ``schema``, or inferring the types from every line when ``None``.

    Parameters
    ----------
    data
        Whole JSON lines.
    schema
        The columns and types to read, or ``None`` to infer them.

    Examples
    --------
    >>> read_ndjson(b'{"a": 1}\\n{"a": 2}\\n', None)["a"].to_list()
    [1, 2]
    """
    if schema is None:
        return pl.read_ndjson(io.BytesIO(data), infer_schema_length=None)
    return pl.read_ndjson(io.BytesIO(data), schema=schema)


def ndjson_error(
    path: str, chunk: bytes, schema: pl.Schema | None, first_line: int, exc: Exception
) -> DataFileError:
    """The error for a chunk of JSON lines that failed to parse, naming the bad line.

    Parameters
    ----------
    path
        The file, named in the error.
    chunk
        The chunk that failed; it is bisected to find the first bad line.
    schema
        The schema the chunk was parsed with (``None``: inferred).
    first_line
        The 1-based line ``chunk`` starts at.
    exc
        Polars' error.

    Examples
    --------
    >>> chunk = b'{"a": 1}\\n{"a": \\n'
    >>> try:
    ...     read_ndjson(chunk, None)
    ... except pl.exceptions.PolarsError as exc:
    ...     print(ndjson_error("a.jsonl", chunk, None, 10, exc).row)
    11
    """
    bad = _bad_ndjson_line(chunk, schema)
    row = None if bad is None else first_line + bad
    hint = "" if schema is None else "; if a column changes type, pass schema= (or features=)"
    return DataFileError(path, f"cannot parse JSON line ({_first_line(str(exc))}){hint}", row)


def scan_decompressed_ndjson(
    path: str | os.PathLike[str],
    compression: str | None,
    schema: pl.Schema | Mapping[str, Any] | None = None,
    *,
    infer_rows: int = 1000,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    storage_options: Mapping[str, Any] | None = None,
) -> pl.LazyFrame:
    r"""Lazily scan a compressed JSON-lines file, decompressing it chunk by chunk.

    Parameters
    ----------
    path
        Local path, or an ``fsspec`` URL (``storage_options`` are passed to ``fsspec``).
    compression
        See :func:`~crucible_polars.readers.compressed.open_decompressed`.
    schema
        The columns and their types. When given, nothing is read until ``collect``; when
        ``None`` it is inferred now from the first ``infer_rows`` lines.
    infer_rows
        Lines read to infer the schema.
    chunk_bytes
        Decompressed bytes parsed at a time: bounds memory.

    Returns
    -------
    pl.LazyFrame
        Rows as ``pl.read_ndjson`` of the decompressed file would give them. A malformed
        line raises :class:`~crucible_polars.errors.DataFileError` (file and line) from
        ``collect``.

    Examples
    --------
    >>> import lzma, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a.jsonl.xz")
    >>> with lzma.open(path, "wb") as f:
    ...     _ = f.write(b'{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n{"a": 3, "b": "z"}\n')
    >>> lf = scan_decompressed_ndjson(path, "xz", pl.Schema({"a": pl.Int64, "b": pl.String}))
    >>> lf.filter(pl.col("a") > 1).select("b").collect()["b"].to_list()
    ['y', 'z']
    """
    path = os.fspath(path)
    compression = normalize_compression(compression)
    if schema is None:
        schema = _infer_ndjson_schema(path, compression, infer_rows, storage_options)
    schema = pl.Schema(schema)
    full_schema = schema

    def parse(chunk: bytes, columns: list[str] | None, line: int) -> pl.DataFrame:
        chunk = strip_bom(chunk, line)
        sub = _select_schema(full_schema, columns)
        if not chunk.strip():
            return pl.DataFrame(schema=sub)
        try:
            return read_ndjson(chunk, sub)
        except pl.exceptions.PolarsError as exc:
            raise ndjson_error(path, chunk, sub, line, exc) from None

    open_chunks = _chunks_of(path, compression, chunk_bytes, storage_options)
    return _register_scan(open_chunks, parse, full_schema, "crucible_ndjson", path, compression)


def _infer_ndjson_schema(
    path: str,
    compression: str | None,
    infer_rows: int,
    storage_options: Mapping[str, Any] | None,
) -> pl.Schema:
    head = _read_head(path, compression, storage_options, max(infer_rows, 1))
    if not head.strip():
        return pl.Schema()
    try:
        return read_ndjson(head, None).schema
    except pl.exceptions.PolarsError as exc:
        raise ndjson_error(path, head, None, 1, exc) from None


def scan_decompressed_csv(
    path: str | os.PathLike[str],
    compression: str | None,
    *,
    separator: str = ",",
    has_header: bool = True,
    schema: pl.Schema | Mapping[str, Any] | None = None,
    quote_char: str | None = '"',
    infer_rows: int = 1000,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    read_csv_options: Mapping[str, Any] | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> pl.LazyFrame:
    r"""Lazily scan a compressed CSV file, decompressing it chunk by chunk.

    The header is read once; every chunk (cut between records, never inside a quoted
    field) is parsed with the same schema.

    Parameters
    ----------
    path, compression, chunk_bytes, storage_options
        As for :func:`scan_decompressed_ndjson`.
    separator, quote_char
        As for ``pl.read_csv``.
    has_header
        Whether the first record holds the column names.
    schema
        Column names and types, in file order. When given, nothing is read until
        ``collect`` and its names replace the header's. When ``None``, inferred now from
        the first ``infer_rows`` records.
    read_csv_options
        More ``pl.read_csv`` arguments applied to every chunk (``null_values``,
        ``comment_prefix``, ``decimal_comma``, ...). Not ``has_header``, ``schema``,
        ``columns``, ``separator`` or ``quote_char``.

    Examples
    --------
    >>> import bz2, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a.csv.bz2")
    >>> with bz2.open(path, "wb") as f:
    ...     _ = f.write(b'x,y\n1,"multi\nline"\n2,b\n')
    >>> scan_decompressed_csv(path, "bz2").collect().rows()
    [(1, 'multi\nline'), (2, 'b')]
    """
    path = os.fspath(path)
    compression = normalize_compression(compression)
    options = dict(read_csv_options or {})
    reserved = {"has_header", "schema", "columns", "separator", "quote_char", "new_columns"}
    if reserved & options.keys():
        raise ValueError(f"read_csv_options may not set {sorted(reserved & options.keys())}")
    quote = quote_char.encode() if quote_char else None
    if schema is None:
        schema = _infer_csv_schema(
            path,
            compression,
            separator,
            has_header,
            quote_char,
            infer_rows,
            options,
            storage_options,
        )
    full_schema = pl.Schema(schema)
    names = list(full_schema.names())

    def parse(chunk: bytes, columns: list[str] | None, line: int) -> pl.DataFrame:
        sub = _select_schema(full_schema, columns)
        if line == 1:
            chunk = strip_bom(chunk, line)
            if has_header:
                chunk = chunk[record_end(chunk, quote) :]
        if not chunk:
            return pl.DataFrame(schema=sub)
        try:
            return pl.read_csv(
                io.BytesIO(chunk),
                has_header=False,
                separator=separator,
                quote_char=quote_char,
                schema=full_schema,
                columns=None if columns is None else [names.index(c) for c in columns],
                missing_columns="insert",
                **options,
            )
        except pl.exceptions.PolarsError as exc:
            last = line + chunk.count(b"\n")
            raise DataFileError(
                path,
                f"cannot parse the CSV records in lines {line}-{last} "
                f"({_first_line(str(exc))}); if a column changes type, pass schema= "
                "(or features=)",
            ) from None

    open_chunks = _chunks_of(path, compression, chunk_bytes, storage_options, quote_char, csv=True)
    return _register_scan(open_chunks, parse, full_schema, "crucible_csv", path, compression)


def _infer_csv_schema(
    path: str,
    compression: str | None,
    separator: str,
    has_header: bool,
    quote_char: str | None,
    infer_rows: int,
    options: Mapping[str, Any],
    storage_options: Mapping[str, Any] | None,
) -> pl.Schema:
    n = max(infer_rows, 1) + (1 if has_header else 0)
    head = _read_head(path, compression, storage_options, n, quote_char)
    if not head.strip():
        return pl.Schema()
    try:
        return pl.read_csv(
            io.BytesIO(head),
            has_header=has_header,
            separator=separator,
            quote_char=quote_char,
            infer_schema_length=None,
            **options,
        ).schema
    except pl.exceptions.PolarsError as exc:
        raise DataFileError(path, f"cannot read the CSV header ({_first_line(str(exc))})") from None


def parse_text_chunk(path: str, chunk: bytes, line: int) -> pl.DataFrame:
    r"""One chunk of whole lines as a ``text`` column, as ``datasets``' text reader splits it.

    ``\r\n`` and ``\r`` end lines too; a final line break adds no row. Invalid UTF-8 raises
    :class:`DataFileError` naming ``path`` and the line (``line`` is the chunk's first line).

    Examples
    --------
    >>> parse_text_chunk("a.txt", b"x\r\n\ny\n", 1)["text"].to_list()
    ['x', '', 'y']
    """
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError as exc:
        row = line + chunk.count(b"\n", 0, exc.start)
        raise DataFileError(path, f"not valid UTF-8 ({exc.reason})", row) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.endswith("\n"):
        text = text[:-1]
    return pl.DataFrame({"text": pl.Series(text.split("\n"), dtype=pl.String)})


def scan_decompressed_text(
    path: str | os.PathLike[str],
    compression: str | None,
    *,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    storage_options: Mapping[str, Any] | None = None,
) -> pl.LazyFrame:
    r"""Lazily scan a compressed text file: one row per line, in a ``"text"`` column.

    Mirrors the ``datasets`` text builder (``sample_by="line"``,
    ``keep_linebreaks=False``): UTF-8, universal newlines (``\r\n`` and ``\r`` end lines
    too), line breaks removed, empty lines kept as ``""``, no row after a final newline.
    Nothing is read until ``collect``.

    Examples
    --------
    >>> import gzip, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a.txt.gz")
    >>> with gzip.open(path, "wb") as f:
    ...     _ = f.write(b"first\r\n\nlast\n")
    >>> scan_decompressed_text(path, "gzip").collect()["text"].to_list()
    ['first', '', 'last']
    """
    path = os.fspath(path)
    compression = normalize_compression(compression)
    schema = pl.Schema({"text": pl.String})

    def parse(chunk: bytes, columns: list[str] | None, line: int) -> pl.DataFrame:
        return parse_text_chunk(path, chunk, line)

    open_chunks = _chunks_of(path, compression, chunk_bytes, storage_options)
    return _register_scan(open_chunks, parse, schema, "crucible_text", path, compression)
