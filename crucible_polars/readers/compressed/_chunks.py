"""Line-based files: cut a byte stream into chunks that end at a line (or CSV record)
boundary, read a file's first lines, and scan many files under one schema.

Each chunk can then be parsed on its own (``pl.read_ndjson``, ``pl.read_csv``), so memory
stays bounded by the chunk size whatever the size of the file.

Examples
--------
>>> import io
>>> list(iter_line_chunks(io.BytesIO(b"a\\nb\\nc"), chunk_bytes=2))
[b'a\\n', b'b\\n', b'c']
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator, Sequence
from typing import IO

import polars as pl

from crucible_polars.readers.base import unify_schemas
from crucible_polars.readers.compressed._codecs import (
    POLARS_NATIVE,
    compression_of,
    open_decompressed,
)
from crucible_polars.sources.open import open_url

__all__ = [
    "DEFAULT_CHUNK_BYTES",
    "concat_scans",
    "first_lines",
    "iter_csv_record_chunks",
    "iter_line_chunks",
    "needs_python_decompression",
    "open_text_lines",
    "record_end",
]

DEFAULT_CHUNK_BYTES = 8 << 20
"""Default size of the decompressed chunks the scans parse one at a time (8 MiB)."""


def iter_line_chunks(reader: IO[bytes], chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> Iterator[bytes]:
    r"""Read ``reader`` in chunks of about ``chunk_bytes`` that end at a line boundary.

    Every chunk but the last ends with ``b"\n"``; the last holds whatever follows the
    final newline (possibly no newline at all). A line longer than ``chunk_bytes`` makes a
    longer chunk. Joined, the chunks are exactly the stream, so each can be handed to
    ``pl.read_ndjson(io.BytesIO(chunk))`` on its own. Empty chunks are never yielded.

    Examples
    --------
    >>> import io
    >>> list(iter_line_chunks(io.BytesIO(b"ab\ncd\nef"), chunk_bytes=4))
    [b'ab\n', b'cd\n', b'ef']
    """
    return _iter_chunks(reader, chunk_bytes, None)


def iter_csv_record_chunks(
    reader: IO[bytes], chunk_bytes: int = DEFAULT_CHUNK_BYTES, quote_char: str | None = '"'
) -> Iterator[bytes]:
    r"""Like :func:`iter_line_chunks`, but never cut inside a quoted CSV field.

    A newline ends a record only when an even number of ``quote_char`` precede it in the
    record (RFC 4180 doubles quotes inside quoted fields, which keeps the count even).

    Examples
    --------
    >>> import io
    >>> list(iter_csv_record_chunks(io.BytesIO(b'1,"a\nb"\n2,c\n'), chunk_bytes=3))
    [b'1,"a\nb"\n', b'2,c\n']
    """
    return _iter_chunks(reader, chunk_bytes, quote_char)


def _iter_chunks(reader: IO[bytes], chunk_bytes: int, quote_char: str | None) -> Iterator[bytes]:
    if chunk_bytes < 1:
        raise ValueError(f"chunk_bytes must be positive, got {chunk_bytes}")
    quote = quote_char.encode() if quote_char else None
    parts: list[bytes] = []
    pending_quotes = 0  # quote characters in ``parts`` (only the parity matters)
    while True:
        block = reader.read(chunk_bytes)
        if not block:
            break
        cut = -1
        if quote is None:
            cut = block.rfind(b"\n")
        else:
            total = pending_quotes + block.count(quote)
            after = 0  # quotes in block[pos:end]
            end = len(block)
            pos = block.rfind(b"\n")
            while pos >= 0:
                after += block.count(quote, pos, end)
                if (total - after) % 2 == 0:
                    cut = pos
                    break
                end = pos
                pos = block.rfind(b"\n", 0, pos)
            pending_quotes = after if cut >= 0 else total
        if cut < 0:
            parts.append(block)
            continue
        parts.append(block[: cut + 1])
        yield b"".join(parts)
        rest = block[cut + 1 :]
        parts = [rest] if rest else []
    if parts:
        tail = b"".join(parts)
        if tail:
            yield tail


def record_end(data: bytes, quote: bytes | None) -> int:
    r"""Index just past the first record of ``data`` (``len(data)`` if it has one record).

    Parameters
    ----------
    data
        CSV bytes starting at a record.
    quote
        The quote character (a newline inside quotes does not end a record), or ``None``.

    Examples
    --------
    >>> record_end(b'"a\nb",c\nd\n', b'"'), record_end(b"x", None)
    (8, 1)
    """
    pos, quotes = 0, 0
    while True:
        nl = data.find(b"\n", pos)
        if nl < 0:
            return len(data)
        if quote is not None:
            quotes += data.count(quote, pos, nl)
        if quotes % 2 == 0:
            return nl + 1
        pos = nl + 1


def first_lines(
    source: str | os.PathLike[str] | IO[bytes],
    compression: str | None,
    n: int,
    *,
    quote_char: str | None = None,
) -> bytes:
    r"""The first ``n`` lines of ``source``, decompressed, for schema inference.

    With ``quote_char``, counts CSV records instead of lines (a quoted field may span
    lines). Reads only as much as those lines need.

    Examples
    --------
    >>> import io, lzma
    >>> first_lines(io.BytesIO(lzma.compress(b"a\nb\nc\n")), "xz", 2)
    b'a\nb\n'
    >>> first_lines(io.BytesIO(b'"x\ny"\nz\n'), None, 1, quote_char='"')
    b'"x\ny"\n'
    """
    quote = quote_char.encode() if quote_char else None
    out: list[bytes] = []
    with open_decompressed(source, compression) as reader:
        records, quotes = 0, 0
        while records < n:
            line = reader.readline()
            if not line:
                break
            out.append(line)
            if quote is not None:
                quotes += line.count(quote)
            if quotes % 2 == 0:
                records += 1
    return b"".join(out)


def needs_python_decompression(path: str) -> bool:
    """Whether Polars cannot decompress ``path`` itself (bz2, xz).

    Examples
    --------
    >>> needs_python_decompression("a.jsonl.gz"), needs_python_decompression("a.jsonl.xz")
    (False, True)
    """
    compression = compression_of(path)
    return compression is not None and compression not in POLARS_NATIVE


def open_text_lines(path: str) -> Iterator[str]:
    """Iterate a (possibly compressed) file's lines as text, for slow diagnostics only.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> _ = open(p, "w").write("x\\ny\\n")
    >>> list(open_text_lines(p))
    ['x\\n', 'y\\n']
    """
    compression = compression_of(path)
    with open_url(path) if "://" in path else open(path, "rb") as raw:
        stream = open_decompressed(raw, compression) if compression else raw
        yield from io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")


def concat_scans(
    files: Sequence[str],
    scan_one: Callable[[str], pl.LazyFrame],
    scan_many: Callable[[list[str], pl.Schema | None], pl.LazyFrame],
) -> pl.LazyFrame:
    """Scan files of one split under one unified schema.

    Files Polars reads natively go through one multi-file ``scan_many``; the rest through
    per-file ``scan_one`` frames, concatenated in file order.
    """
    schemas = [scan_one(f).collect_schema() for f in files] if len(files) > 1 else []
    schema = unify_schemas(files, schemas) if schemas else None
    if not any(needs_python_decompression(f) for f in files):
        return scan_many(list(files), schema)
    frames = []
    for f in files:
        lf = scan_one(f)
        if schema is not None:
            lf = lf.select(
                [
                    pl.col(n).cast(t) if n in lf.collect_schema() else pl.lit(None, t).alias(n)
                    for n, t in schema.items()
                ]
            )
        frames.append(lf)
    return pl.concat(frames, how="vertical")
