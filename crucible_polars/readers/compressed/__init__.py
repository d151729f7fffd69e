"""Compressed line files (JSON lines, CSV, text): detect, decompress as a stream, scan lazily.

Polars reads gzip and zstd compressed NDJSON and CSV natively (:data:`POLARS_NATIVE`);
``bz2`` and ``xz`` need this package. Everything here streams: a file is decompressed
chunk by chunk, every chunk ends at a line (or CSV record) boundary and is parsed on its
own, so memory stays bounded by the chunk size whatever the size of the file.

The ``scan_decompressed_*`` functions return lazy frames built on
:func:`polars.io.plugins.register_io_source`: nothing is read before ``collect``, and the
plugin's projection, predicate, ``n_rows`` and batch size are honoured.

The code lives in private modules: ``_codecs`` (suffixes, :func:`open_decompressed`),
``_chunks`` (cutting streams at line and CSV record boundaries, reading a file's head) and
``_scans`` (the lazy scans and the chunk parsers that streaming shares).

Examples
--------
>>> import bz2, os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "train.jsonl.bz2")
>>> with bz2.open(path, "wb") as f:
...     _ = f.write(b'{"x": 1, "y": "a"}\\n{"x": 2, "y": "b"}\\n')
>>> compression_of(path), strip_compression_suffix("a/train.jsonl.bz2")
('bz2', 'a/train.jsonl')
>>> lf = scan_decompressed_ndjson(path, "bz2")
>>> lf.select("y").collect()["y"].to_list()
['a', 'b']
"""

from __future__ import annotations

from crucible_polars.readers.compressed._chunks import (
    DEFAULT_CHUNK_BYTES,
    concat_scans,
    first_lines,
    iter_csv_record_chunks,
    iter_line_chunks,
    needs_python_decompression,
    open_text_lines,
    record_end,
)
from crucible_polars.readers.compressed._codecs import (
    COMPRESSION_SUFFIXES,
    COMPRESSIONS,
    POLARS_NATIVE,
    compression_of,
    normalize_compression,
    open_decompressed,
    open_path,
    strip_compression_suffix,
)
from crucible_polars.readers.compressed._scans import (
    ParseChunk,
    ndjson_error,
    parse_text_chunk,
    read_ndjson,
    scan_decompressed_csv,
    scan_decompressed_ndjson,
    scan_decompressed_text,
    strip_bom,
)

__all__ = [
    "COMPRESSIONS",
    "COMPRESSION_SUFFIXES",
    "DEFAULT_CHUNK_BYTES",
    "POLARS_NATIVE",
    "ParseChunk",
    "compression_of",
    "concat_scans",
    "first_lines",
    "iter_csv_record_chunks",
    "iter_line_chunks",
    "ndjson_error",
    "needs_python_decompression",
    "normalize_compression",
    "open_decompressed",
    "open_path",
    "open_text_lines",
    "parse_text_chunk",
    "read_ndjson",
    "record_end",
    "scan_decompressed_csv",
    "scan_decompressed_ndjson",
    "scan_decompressed_text",
    "strip_bom",
    "strip_compression_suffix",
]
