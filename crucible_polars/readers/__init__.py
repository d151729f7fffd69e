"""Readers: one function from data files to a lazy Polars frame, per format.

Each format module exposes ``scan(files, options) -> Scan``: the lazy frame plus a
``diagnose`` callback that, only after a query failed, re-reads the files slowly to name the
file and line at fault. Compressed files are read transparently; archives are extracted once.

One module per format: ``parquet``, ``json`` (``json_infer``: timestamps and ``Json``
columns as ``datasets`` infers them), ``csv`` (``csv_diagnose``), ``text``, ``arrow`` (IPC files
and ``save_to_disk`` shards), ``imagefolder``; ``options`` (which keywords each reader takes,
as ``datasets``' builder configs), ``diagnose`` (byte-level checks naming file and line);
``compressed/`` (bz2/xz line files through a Polars IO source, shared with streaming),
``archives`` and ``archive_files`` (zip/tar, extracted once), ``extensions`` (which format
reads a file), ``registry`` (:func:`scan_files`), ``image_paths`` (relative image paths made
absolute at load time) and ``base`` (:class:`Scan`, schema unification).
"""

from __future__ import annotations

from crucible_polars.readers.base import Scan, ScanOptions
from crucible_polars.readers.extensions import (
    FORMAT_EXTENSIONS,
    IMAGE_EXTENSIONS,
    METADATA_FILENAMES,
    SUPPORTED_FORMATS,
    format_for_extension,
    infer_format,
)
from crucible_polars.readers.registry import scan_files

__all__ = [
    "FORMAT_EXTENSIONS",
    "IMAGE_EXTENSIONS",
    "METADATA_FILENAMES",
    "SUPPORTED_FORMATS",
    "Scan",
    "ScanOptions",
    "format_for_extension",
    "infer_format",
    "scan_files",
]
