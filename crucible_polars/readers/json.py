"""JSON: JSON lines are scanned lazily; JSON documents (an array, or ``field=``) are parsed.

Types follow ``datasets`` (pyarrow) where Polars infers differently
(:mod:`crucible_polars.readers.json_infer`): ISO 8601 strings are timestamps, and a column
mixing JSON types is a ``Json`` column (stored as JSON text) read in Python. A UTF-8
byte-order mark is skipped; another ``encoding=`` is decoded in Python when the file is read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import polars as pl

from crucible_polars.errors import CrucibleError, DataFileError
from crucible_polars.features import Features, Value
from crucible_polars.readers.base import Scan, ScanOptions, run_explained
from crucible_polars.readers.compressed import (
    compression_of,
    concat_scans,
    first_lines,
    needs_python_decompression,
    open_path,
    open_text_lines,
    read_ndjson,
    scan_decompressed_ndjson,
    strip_bom,
)
from crucible_polars.readers.diagnose import blank_file_error, invalid_utf8_error, read_decoded
from crucible_polars.readers.json_infer import (
    HeadTypes,
    JsonSpot,
    column_kinds,
    encode_spot,
    feature_with_spot,
    head_types,
    merge_spots,
    parse_timestamps,
)

BOM = "\ufeff"
TOO_DEEP = (
    "JSON nested too deeply to read (deeper than Python's recursion limit); flatten it, "
    "or store the nested part as a JSON string"
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
        line = line.lstrip(BOM)
        if line.strip():
            if line.lstrip().startswith("["):
                return False
            try:
                json.loads(line)
            except json.JSONDecodeError:
                return False
            except RecursionError:
                return True  # a complete line, too deeply nested: the scan names it
            return True
    return True


def read_text(path: str, encoding: str = "utf-8", errors: str | None = None) -> str:
    """A whole (possibly compressed) JSON file as text, without a byte-order mark.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.json")
    >>> _ = open(p, "wb").write(b'\\xef\\xbb\\xbf[1]')
    >>> read_text(p)
    '[1]'
    """
    return read_decoded(path, encoding, errors).lstrip(BOM)


def _document_rows(
    path: str, field: str | None, encoding: str = "utf-8", errors: str | None = None
) -> list[Any]:
    """The rows of a JSON document: an array of objects (an array of other values is one
    column ``text``, as in ``datasets``), or an object of columns; ``field=`` picks a key."""
    text = read_text(path, encoding, errors)
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataFileError(path, f"invalid JSON ({err.msg})", row=err.lineno) from err
    except RecursionError as err:
        raise DataFileError(path, TOO_DEEP) from err
    if field is not None:
        if not isinstance(data, dict) or field not in data:
            keys = list(data) if isinstance(data, dict) else []
            raise DataFileError(path, f"no field {field!r} at the top level (keys: {keys})")
        data = data[field]
    if isinstance(data, dict) and all(isinstance(v, list) for v in data.values()):
        return [dict(zip(data, values, strict=True)) for values in zip(*data.values(), strict=True)]
    if isinstance(data, list) and data and not any(isinstance(v, dict) for v in data):
        return [{"text": v} for v in data]
    if isinstance(data, list):
        return data
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
        undecodable = invalid_utf8_error(path)
        if undecodable is not None:
            return undecodable
        for number, line in enumerate(open_text_lines(path), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line.lstrip(BOM))
            except json.JSONDecodeError as err:
                return DataFileError(path, f"invalid JSON ({err.msg})", row=number)
            except RecursionError:
                return DataFileError(path, TOO_DEEP, row=number)
            if not isinstance(value, dict):
                return DataFileError(path, "each line must be a JSON object", row=number)
    return None


def frame_from_rows(rows: list[Any], spots: Mapping[str, JsonSpot] | None = None) -> pl.DataFrame:
    """Rows (dicts) as a frame; the ``Json`` parts of columns (``spots``) as JSON text.

    Examples
    --------
    >>> frame_from_rows([{"a": 1, "c": -1}, {"a": 2, "c": "x"}], {"c": True})["c"].to_list()
    ['-1', '"x"']
    """
    if spots:
        rows = [encode_row(row, spots) for row in rows]
    return pl.DataFrame(rows, infer_schema_length=None)


def encode_row(row: Any, spots: Mapping[str, JsonSpot]) -> Any:
    """One row (a dict) with the ``Json`` parts of its columns (``spots``) as JSON text.

    Examples
    --------
    >>> encode_row({"a": 1, "c": [1, "x"]}, {"c": [True]})
    {'a': 1, 'c': ['1', '"x"']}
    """
    if not isinstance(row, dict):
        return row
    return {k: encode_spot(v, spots[k]) if k in spots else v for k, v in row.items()}


def _has_bom(path: str) -> bool:
    with open_path(path, compression_of(path)) as raw:
        return raw.read(3) == b"\xef\xbb\xbf"


def _read_json_lines(
    path: str, json_cols: Mapping[str, JsonSpot], encoding: str, errors: Any
) -> Any:
    rows = []
    for number, line in enumerate(read_text(path, encoding, errors).splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise DataFileError(path, f"invalid JSON ({err.msg})", row=number) from err
    return frame_from_rows(rows, json_cols).lazy()


def json_features(schema: pl.Schema, spots: Mapping[str, JsonSpot]) -> Features:
    """The features of a frame read with ``Json`` parts (``spots``) as JSON text.

    Examples
    --------
    >>> json_features(pl.Schema({"a": pl.Int64, "c": pl.List(pl.String)}), {"c": [True]})
    Features({'a': Value('int64'), 'c': List(Json(decode=True))})
    """
    features = Features.from_polars(schema)
    for name, spot in spots.items():
        if name in features:
            features[name] = feature_with_spot(features[name], spot)
    return features


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
    for path in files:
        blank = blank_file_error(path, "JSON")
        if blank is not None:
            raise blank
    field = options.get("field")
    encoding = str(options.get("encoding") or "utf-8")
    errors = options.get("encoding_errors")
    documents = [f for f in files if field is not None or not _is_json_lines(f)]
    lines = [f for f in files if f not in documents]
    if not lines:
        return _scan_documents(documents, field, encoding, errors)
    if not documents:
        return _scan_json_lines(lines, encoding, errors)
    # a split mixing JSON lines and JSON documents: both, in file order of their kind
    parts = [
        _scan_json_lines(lines, encoding, errors),
        _scan_documents(documents, None, encoding, errors),
    ]
    lf = pl.concat([p.lf for p in parts], how="diagonal_relaxed")
    features = Features.from_polars(lf.collect_schema())
    return Scan(lf=lf, diagnose=parts[0].diagnose, features=features)


def _head_types(path: str, limit: int) -> HeadTypes:
    """The :class:`HeadTypes` of a JSON lines file's first ``limit`` lines."""
    head = strip_bom(first_lines(path, compression_of(path), limit), 1)
    try:
        frame: pl.DataFrame | None = read_ndjson(head, None) if head.strip() else None
    except pl.exceptions.PolarsError:
        frame = None  # a line Polars cannot read: the scan names it
    return head_types(head, frame)


def _scan_documents(files: list[str], field: str | None, encoding: str, errors: Any) -> Scan:
    documents = [_document_rows(f, field, encoding, errors) for f in files]
    kinds = column_kinds(row for rows in documents for row in rows if isinstance(row, dict))
    types = HeadTypes.from_kinds(kinds)
    frames = [frame_from_rows(rows, types.spots).lazy() for rows in documents]
    return _finish(pl.concat(frames, how="diagonal_relaxed"), types.stamps, types.spots)


def _scan_json_lines(files: list[str], encoding: str, errors: Any) -> Scan:
    utf8 = encoding.lower().replace("-", "_") in ("utf_8", "utf8", "utf_8_sig")
    limit = max(1_000, INFER_SCHEMA_ROWS // len(files))  # bounded work for many files
    per_file = [_head_types(f, limit) for f in files]
    # a timestamp column: timestamps in one file at least, in every file with values in it
    stamps = set().union(*(t.stamps for t in per_file)) - set().union(
        *(t.seen - t.stamps for t in per_file)
    )
    # mixed types within a file make a Json column; files that disagree are a schema
    # conflict (unify_schemas names both), as in ``datasets``
    json_cols: dict[str, JsonSpot] = {}
    for types in per_file:
        for name, spot in types.spots.items():
            json_cols[name] = merge_spots(json_cols.get(name), spot)  # type: ignore[assignment]

    def diagnose(error: BaseException) -> CrucibleError | None:
        return diagnose_json_lines(files)

    def frames() -> pl.LazyFrame:
        if json_cols or not utf8 or errors not in (None, "strict"):
            parts = [_read_json_lines(f, json_cols, encoding, errors) for f in files]
            return pl.concat(parts, how="diagonal_relaxed")
        if any(_has_bom(f) for f in files):
            parts = [scan_decompressed_ndjson(f, compression_of(f)) for f in files]
            return pl.concat(parts, how="diagonal_relaxed")
        return concat_scans(files, _scan_one, _scan_many)

    return _finish(run_explained(frames, [diagnose]), stamps, json_cols, diagnose)


def _finish(
    lf: pl.LazyFrame,
    timestamps: set[str],
    json_cols: Mapping[str, JsonSpot],
    diagnose: Any = None,
) -> Scan:
    schema = run_explained(lf.collect_schema, [diagnose] if diagnose else [])
    huge = [n for n, t in schema.items() if t == pl.Int128]  # beyond int64: pyarrow -> float64
    if huge:
        lf = lf.with_columns(pl.col(huge).cast(pl.Float64))
        schema = lf.collect_schema()
    stamps = [c for c in sorted(timestamps) if schema.get(c) == pl.String]
    if stamps:
        lf = lf.with_columns(parse_timestamps(c) for c in stamps)
        schema = lf.collect_schema()
    features = json_features(schema, json_cols)
    for name in stamps:
        features[name] = Value("timestamp[s]")
    if diagnose is None:
        return Scan(lf=lf, features=features)
    return Scan(lf=lf, diagnose=diagnose, features=features)
