"""JSON: JSON lines are scanned lazily; JSON documents (an array, or ``field=``) are parsed."""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from crucible_polars.errors import CrucibleError, DataFileError
from crucible_polars.readers.base import Scan, ScanOptions
from crucible_polars.readers.compressed import (
    compression_of,
    concat_scans,
    needs_python_decompression,
    open_text_lines,
    scan_decompressed_ndjson,
)

INFER_SCHEMA_ROWS = 10_000


def _first_char(path: str) -> str:
    for line in open_text_lines(path):
        stripped = line.strip()
        if stripped:
            return stripped[0]
    return ""


def _is_json_lines(path: str) -> bool:
    """JSON lines unless the first non-blank line is not a complete JSON value by itself."""
    for line in open_text_lines(path):
        if line.strip():
            if line.lstrip().startswith("["):
                return False
            try:
                json.loads(line)
            except json.JSONDecodeError:
                return False
            return True
    return True


def _read_document(path: str, field: str | None) -> pl.DataFrame:
    text = "".join(open_text_lines(path))
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataFileError(path, f"invalid JSON ({err.msg})", row=err.lineno) from err
    if field is not None:
        if not isinstance(data, dict) or field not in data:
            keys = list(data) if isinstance(data, dict) else []
            raise DataFileError(path, f"no field {field!r} at the top level (keys: {keys})")
        data = data[field]
    if isinstance(data, dict):
        return pl.DataFrame(data)
    if isinstance(data, list):
        return pl.DataFrame(data, infer_schema_length=None)
    raise DataFileError(path, "expected a JSON array of objects or an object of lists")


def _scan_one(path: str) -> pl.LazyFrame:
    if needs_python_decompression(path):
        compression = compression_of(path)
        assert compression is not None
        return scan_decompressed_ndjson(path, compression)
    return pl.scan_ndjson(path, infer_schema_length=INFER_SCHEMA_ROWS)


def _scan_many(files: list[str], schema: pl.Schema | None) -> pl.LazyFrame:
    return pl.scan_ndjson(files, schema=schema, infer_schema_length=INFER_SCHEMA_ROWS)


def diagnose_json_lines(files: list[str]) -> CrucibleError | None:
    """Find the first line that is not valid JSON (1-based line number), if any.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.jsonl")
    >>> _ = open(p, "w").write('{"a": 1}\\n{"a": \\n')
    >>> diagnose_json_lines([p]).row
    2
    """
    for path in files:
        for number, line in enumerate(open_text_lines(path), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as err:
                return DataFileError(path, f"invalid JSON ({err.msg})", row=number)
            if not isinstance(value, dict):
                return DataFileError(path, "each line must be a JSON object", row=number)
    return None


def scan(files: list[str], options: ScanOptions) -> Scan:
    """Scan JSON files: JSON lines lazily, JSON documents parsed once.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.jsonl")
    >>> _ = open(p, "w").write('{"a": 1}\\n{"a": 2}\\n')
    >>> scan([p], {}).lf.collect()["a"].to_list()
    [1, 2]
    """
    field = options.get("field")
    if field is not None or not all(_is_json_lines(f) for f in files):
        frames = [_read_document(f, field).lazy() for f in files]
        return Scan(lf=pl.concat(frames, how="diagonal_relaxed"))
    lf = concat_scans(files, _scan_one, _scan_many)

    def diagnose(error: BaseException) -> CrucibleError | None:
        return diagnose_json_lines(files)

    return Scan(lf=lf, diagnose=diagnose)
