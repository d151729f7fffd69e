"""Text: one row per line (or paragraph, or document) in a column ``text``, as ``datasets``.

The default (UTF-8, one row per line, line breaks removed) is a lazy ``pl.scan_lines``.
``keep_linebreaks=True``, ``sample_by="paragraph"`` / ``"document"`` and other encodings
decode each file in Python, still lazily: nothing is read before the frame is collected.
"""

from __future__ import annotations

import io
from typing import Any

import polars as pl

from crucible_polars.readers.base import Scan, ScanOptions
from crucible_polars.readers.compressed import (
    compression_of,
    needs_python_decompression,
    scan_decompressed_text,
)
from crucible_polars.readers.diagnose import read_decoded

SAMPLE_BY = ("line", "paragraph", "document")
_SCHEMA = {"text": pl.String}


def _scan_one(path: str) -> pl.LazyFrame:
    compression = compression_of(path)
    if compression is not None and needs_python_decompression(path):
        return scan_decompressed_text(path, compression)
    return pl.scan_lines(path, name="text")


def split_text(text: str, sample_by: str, keep_linebreaks: bool) -> list[str]:
    """Rows of one decoded file, as ``datasets``' text builder cuts them.

    Examples
    --------
    >>> split_text("a\\nb\\n\\nc\\n\\n\\nd", "paragraph", False)
    ['a\\nb', 'c', '\\nd']
    >>> split_text("a\\nb", "line", True)
    ['a\\n', 'b']
    """
    if sample_by == "document":
        return [text] if text else []
    if sample_by == "paragraph":
        return [p for p in text.split("\n\n") if p]
    lines = io.StringIO(text).readlines()
    return lines if keep_linebreaks else [line.rstrip("\n") for line in lines]


def read_text_file(
    path: str,
    *,
    sample_by: str = "line",
    keep_linebreaks: bool = False,
    encoding: str = "utf-8",
    errors: str | None = None,
    storage_options: Any = None,
) -> pl.DataFrame:
    """One (possibly compressed) text file as a frame of rows, decoded with ``encoding``.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> _ = open(p, "wb").write("é\\r\\nb".encode("latin-1"))
    >>> read_text_file(p, encoding="latin-1", keep_linebreaks=True)["text"].to_list()
    ['é\\n', 'b']
    """
    decoded = read_decoded(path, encoding, errors, storage_options)
    text = decoded.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines
    return pl.DataFrame({"text": split_text(text, sample_by, keep_linebreaks)}, schema=_SCHEMA)


def scan(files: list[str], options: ScanOptions) -> Scan:
    """Scan text files lazily, one row per line (``sample_by="line"``), paragraph or file.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> _ = open(p, "w").write("hello\\n\\nworld\\n")
    >>> scan([p], {}).lf.collect()["text"].to_list()
    ['hello', '', 'world']
    >>> scan([p], {"sample_by": "paragraph"}).lf.collect()["text"].to_list()
    ['hello', 'world\\n']
    """
    sample_by = str(options.get("sample_by") or "line")
    if sample_by not in SAMPLE_BY:
        raise ValueError(f"sample_by={sample_by!r}: use one of {', '.join(SAMPLE_BY)}.")
    keep = bool(options.get("keep_linebreaks", False))
    encoding = str(options.get("encoding") or "utf-8")
    errors = options.get("encoding_errors")
    storage_options = options.get("storage_options")
    plain = encoding.lower().replace("-", "_") in ("utf_8", "utf8") and errors in (None, "strict")
    if plain and sample_by == "line" and not keep and storage_options is None:
        if any(needs_python_decompression(f) for f in files):
            return Scan(lf=pl.concat([_scan_one(f) for f in files]))
        return Scan(lf=pl.scan_lines(files, name="text"))

    def reader(path: str) -> pl.LazyFrame:
        return pl.defer(
            lambda: read_text_file(
                path,
                sample_by=sample_by,
                keep_linebreaks=keep,
                encoding=encoding,
                errors=errors,
                storage_options=storage_options,
            ),
            schema=_SCHEMA,
        )

    return Scan(lf=pl.concat([reader(f) for f in files]))
