"""JSON lines, CSV and text, streamed in chunks that end at line (or record) boundaries.

A file is read forward from a byte offset (range requests for remote files), cut into
chunks at line boundaries (:mod:`crucible_polars.readers.compressed` does the cutting and
the decompression) and every chunk is parsed by Polars (``read_ndjson`` / ``read_csv``)
with one schema, inferred up front from the head of the first file as the non-streaming
readers infer it. The next chunk parses in a worker thread (Polars releases the GIL) while
the rows of the current one are used; the rows schema inference parsed are not parsed again.

Positions are ``{"row", "byte", "byte_row", "line"}``: the next row to yield, and a line
boundary at ``byte`` (in the decompressed stream) where row ``byte_row`` and line ``line``
start. Resuming an uncompressed file seeks to ``byte``; a compressed stream cannot seek, so
it is decompressed from the start and the bytes before ``byte`` are discarded.

Examples
--------
>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "a.jsonl")
>>> _ = open(path, "w").write('{"a": 1}\\n{"a": 2}\\n{"a": 3}\\n')
>>> fmt = infer_line_format("json", path, {})
>>> fmt.schema
Schema([('a', Int64)])
>>> [(f["a"].to_list(), p["row"]) for f, p in read_lines(path, fmt, start_row=1)]
[([2, 3], 3)]
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from itertools import chain
from typing import IO, Any

import polars as pl

from crucible_polars.errors import DataFileError
from crucible_polars.readers.compressed import (
    compression_of,
    first_lines,
    iter_csv_record_chunks,
    iter_line_chunks,
    ndjson_error,
    open_decompressed,
    read_ndjson,
    strip_bom,
)
from crucible_polars.readers.csv import CsvOptions
from crucible_polars.readers.json_infer import head_types, parse_timestamps
from crucible_polars.streaming.line_format import Head, LineFormat, json_rows_frame
from crucible_polars.streaming.ranges import ByteSource, RangeFile, open_bytes

CHUNK_BYTES = 2 << 20
"""Decompressed bytes parsed at a time."""

FIRST_CHUNK_BYTES = 256 << 10
"""The first chunk of a file is smaller, for the first rows to come sooner."""

_BLOCK_BYTES = 2 << 20
_DISCARD_BYTES = 8 << 20
JSON_INFER_ROWS = 10_000
"""Lines read to infer a JSON-lines schema (``crucible_polars.readers.json`` reads as many)."""

CSV_INFER_ROWS = 100
"""Records read to infer a CSV schema (``pl.scan_csv``'s default, as the CSV reader uses)."""

Position = dict[str, int]


HEAD_MAX_BYTES = 16 << 20
"""Heads larger than this are not kept (their rows are parsed again when read)."""


def _open(
    path: str,
    offset: int,
    storage_options: Mapping[str, Any] | None,
    token: str | bool | None,
) -> tuple[IO[bytes], int, ByteSource]:
    """A decompressed reader positioned at ``offset`` (decompressed bytes), the offset, and
    the byte source it reads."""
    compression = compression_of(path)
    source = open_bytes(path, storage_options, token)
    if compression is None:
        plain = io.BufferedReader(RangeFile(source, offset), buffer_size=_BLOCK_BYTES)
        return plain, offset, source
    raw = io.BufferedReader(RangeFile(source), buffer_size=_BLOCK_BYTES)
    reader = open_decompressed(raw, compression, name=path)
    left = offset
    while left > 0:
        skipped = len(reader.read(min(left, _DISCARD_BYTES)))
        if not skipped:
            break
        left -= skipped
    return reader, offset, source


class _ShortFirstRead:
    """A reader whose first ``read`` returns at most ``first`` bytes (a small first chunk)."""

    def __init__(self, reader: IO[bytes], first: int) -> None:
        self._reader = reader
        self._first: int | None = first

    def read(self, size: int = -1) -> bytes:
        if self._first is not None:
            size, self._first = min(size, self._first) if size >= 0 else self._first, None
        return self._reader.read(size)


def infer_line_format(
    kind: str,
    path: str,
    options: Mapping[str, Any],
    storage_options: Mapping[str, Any] | None = None,
    token: str | bool | None = None,
) -> LineFormat | None:
    """The format of ``path`` (``"json"``, ``"csv"`` or ``"text"``) with the reader
    ``options``, schema inferred from its head as the non-streaming readers infer it;
    ``None`` for a JSON *document* (an array, or ``field=``), which is not line-based.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a.csv")
    >>> _ = open(path, "w").write("x,y\\n1,a\\n")
    >>> infer_line_format("csv", path, {}).schema
    Schema([('x', Int64), ('y', String)])
    """
    if kind == "text":
        keep = bool(options.get("keep_linebreaks", False))
        return LineFormat("text", pl.Schema({"text": pl.String}), keep_linebreaks=keep)
    reader, _, source = _open(path, 0, storage_options, token)
    with reader:
        if kind == "json":
            if options.get("field") is not None:
                return None
            # A file too large to be checked before use is checked as a pass reads it all
            # (streaming/checksums.py): a pass must then read it from its first byte.
            checked_later = source.digest is not None and source.whole() is None
            raw = first_lines(reader, None, JSON_INFER_ROWS)
            return _infer_json(path, raw, keep_head=not checked_later)
        opts = CsvOptions.from_options(dict(options))
        records = opts.skip_rows + CSV_INFER_ROWS + int(opts.has_header)
        head = strip_bom(first_lines(reader, None, records, quote_char='"'), 1)
    fmt = LineFormat(
        "csv",
        pl.Schema(),
        separator=opts.sep,
        has_header=opts.has_header,
        quote_char=opts.quote_char,
        csv_options={
            "comment_prefix": opts.comment,
            "null_values": list(opts.null_values) if opts.null_values else None,
            "empty_string_is_null": opts.empty_string_is_null,
        },
        skip_rows=opts.skip_rows,
        comment=opts.comment,
        max_rows=opts.n_rows,
    )
    if not head.strip():
        return fmt
    kwargs = {**opts.polars_kwargs(), "infer_schema_length": CSV_INFER_ROWS}
    try:
        frame = pl.read_csv(
            io.BytesIO(head), new_columns=list(opts.names) if opts.names else None, **kwargs
        )
    except pl.exceptions.PolarsError as exc:
        raise DataFileError(path, f"cannot read the CSV header ({exc})") from None
    if not opts.has_header and not opts.names:  # pandas numbers the columns "0", "1", ...
        frame = frame.rename({c: str(i) for i, c in enumerate(frame.columns)})
    return replace(fmt, schema=frame.schema)


def _infer_json(path: str, raw: bytes, keep_head: bool = True) -> LineFormat | None:
    """JSON lines' format from the first lines (``raw``): types inferred by Polars, then
    ``Json`` columns and ISO timestamps as the non-streaming JSON reader finds them."""
    head = strip_bom(raw, 1)
    if not _is_json_lines(head):
        return None
    if not head.strip():
        return LineFormat("json", pl.Schema())
    try:
        frame: pl.DataFrame | None = read_ndjson(head, None)
    except pl.exceptions.PolarsError as exc:
        frame, error = None, exc
    types = head_types(head, frame)
    spots = types.spots
    if spots:
        frame = json_rows_frame(path, head, 1, spots)
    elif frame is None:
        raise ndjson_error(path, head, None, 1, error) from None
    stamps = tuple(c for c in sorted(types.stamps) if frame.schema.get(c) == pl.String)
    if stamps:
        frame = frame.with_columns(parse_timestamps(c) for c in stamps)
    kept = None
    if keep_head and len(raw) <= HEAD_MAX_BYTES:
        kept = Head(path, len(raw), raw.count(b"\n"), frame)
    return LineFormat("json", frame.schema, head=kept, json_spots=spots, timestamps=stamps)


def _is_json_lines(head: bytes) -> bool:
    for raw in head.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith(b"["):
            return False
        try:
            value = json.loads(line)
        except ValueError:
            return False
        return isinstance(value, dict)
    return True


def read_lines(
    path: str,
    fmt: LineFormat,
    *,
    columns: Sequence[str] | None = None,
    start: Position | None = None,
    start_row: int = 0,
    stop_row: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
    token: str | bool | None = None,
    chunk_bytes: int | None = None,
) -> Iterator[tuple[pl.DataFrame, Position]]:
    """Frames of a line-based file's rows ``[start_row, stop_row)``, each with the position
    that follows it; ``start`` resumes from a position yielded before.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> _ = open(path, "w").write("a\\nb\\nc\\n")
    >>> fmt = infer_line_format("text", path, {})
    >>> [(f["text"].to_list(), p) for f, p in read_lines(path, fmt, chunk_bytes=2)][1]
    (['b'], {'row': 2, 'byte': 4, 'byte_row': 2, 'line': 3})
    """
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    if fmt.max_rows is not None:  # CSV nrows=: rows per file
        stop_row = fmt.max_rows if stop_row is None else min(stop_row, fmt.max_rows)
    begin = start["byte"] if start else 0
    rows = start["byte_row"] if start else 0
    line = start["line"] if start else 1
    target = max(start["row"] if start else 0, start_row)
    if stop_row is not None and target >= stop_row:
        return
    head = fmt.head if fmt.head is not None and fmt.head.path == path and begin == 0 else None
    if head is not None:  # the rows inference parsed: the first "chunk", not parsed again
        frame = fmt.project(head.frame, columns)
        height = frame.height
        lo = max(target - rows, 0)
        hi = height if stop_row is None else min(height, stop_row - rows)
        if hi < height:
            after = {"row": rows + max(hi, lo), "byte": 0, "byte_row": 0, "line": 1}
        else:
            after = {"row": height, "byte": head.nbytes, "byte_row": height}
            after["line"] = 1 + head.nlines
        if hi > lo:
            yield frame.slice(lo, hi - lo), after
        if hi < height:
            return
        begin, rows, line = head.nbytes, height, 1 + head.nlines
    reader, offset, _ = _open(path, begin, storage_options, token)
    with reader:
        first: list[bytes] = []
        if fmt.kind == "csv" and offset == 0:  # skiprows, comment lines, the header
            skipped, skipped_lines, kept = _csv_preamble(reader, fmt)
            offset, line, first = offset + skipped, line + skipped_lines, kept
        short: Any = _ShortFirstRead(reader, min(FIRST_CHUNK_BYTES, chunk_bytes))
        chunks: Iterator[bytes]
        if fmt.kind == "csv":
            chunks = chain(first, iter_csv_record_chunks(short, chunk_bytes, fmt.quote_char))
        else:
            chunks = iter_line_chunks(short, chunk_bytes)
        for frame, size, newlines in _parse_ahead(path, fmt, chunks, columns, offset, line):
            height = frame.height
            end_offset, end_line = offset + size, line + newlines
            lo = max(target - rows, 0)
            hi = height if stop_row is None else min(height, stop_row - rows)
            if hi < height:  # stopped inside the chunk: resume by re-reading it
                after = {"row": rows + max(hi, lo), "byte": offset, "byte_row": rows, "line": line}
            else:
                after = {"row": rows + height, "byte": end_offset, "byte_row": rows + height}
                after["line"] = end_line
            if hi > lo:
                yield frame.slice(lo, hi - lo), after
            rows, offset, line = rows + height, end_offset, end_line
            if stop_row is not None and rows >= stop_row:
                return


def _csv_preamble(reader: IO[bytes], fmt: LineFormat) -> tuple[int, int, list[bytes]]:
    """Read the records before a CSV file's rows (``skiprows``, comment lines, the header and
    a byte-order mark): ``(bytes skipped, lines skipped, [the first row's record])`` (the
    record read to find that no more comment lines follow, kept for parsing)."""
    quote = fmt.quote_char.encode() if fmt.quote_char else None
    prefix = fmt.comment.encode() if fmt.comment else None

    def record() -> bytes:
        out, quotes = b"", 0
        while True:
            part = reader.readline()
            out += part
            quotes += part.count(quote) if quote else 0
            if not part or quotes % 2 == 0:
                return out

    skipped, lines, kept = 0, 0, b""
    wanted = fmt.skip_rows + int(fmt.has_header)
    while True:
        data = record()
        if not data:
            break
        if skipped == 0 and data.startswith(b"\xef\xbb\xbf"):
            skipped, data = 3, data[3:]
        if wanted == fmt.has_header and prefix and data.startswith(prefix):
            pass  # a comment line before the header (after the skipped rows)
        elif wanted:
            wanted -= 1
        else:
            kept = data
            break
        skipped, lines = skipped + len(data), lines + data.count(b"\n")
    return skipped, lines, [kept] if kept else []


def _parse_ahead(
    path: str,
    fmt: LineFormat,
    chunks: Iterator[bytes],
    columns: Sequence[str] | None,
    offset: int,
    line: int,
) -> Iterator[tuple[pl.DataFrame, int, int]]:
    """``(frame, chunk bytes, chunk newlines)`` per chunk; the next chunk is parsed in a
    worker thread (Polars releases the GIL while parsing) while the current frame is used."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="crucible-parse") as pool:
        pending: tuple[Future[pl.DataFrame], int, int] | None = None
        for chunk in chunks:
            newlines = chunk.count(b"\n")
            job = pool.submit(fmt.parse, path, chunk, columns, line, offset == 0)
            offset, line = offset + len(chunk), line + newlines
            if pending is not None:
                yield pending[0].result(), pending[1], pending[2]
            pending = (job, len(chunk), newlines)
        if pending is not None:
            yield pending[0].result(), pending[1], pending[2]
