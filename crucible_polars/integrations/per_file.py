"""A plan split into one plan per data file, when its rows do not depend on other files.

A loaded split is a Polars scan of its files with row-local steps on top (filters,
projections, renames, expression columns): running those steps over each file alone and
concatenating gives the same rows, so a cluster can read the files in parallel. This module
reads the plan's Polars DSL (its JSON serialization), checks that every step above the one
file scan is row-local, and writes a template in which the scan reads one file.

Anything else (sorting, gathering, row indices, aggregations, windows, Python functions,
in-memory frames, more than one scan) is not split: :func:`split_per_file` returns ``None``
and the caller reads the plan as a whole.

Examples
--------
>>> import tempfile, polars as pl
>>> folder = tempfile.mkdtemp()
>>> for i in range(2):
...     pl.DataFrame({"x": [i, i + 10]}).write_parquet(f"{folder}/{i}.parquet")
>>> files = [f"{folder}/0.parquet", f"{folder}/1.parquet"]
>>> lf = pl.scan_parquet(files).filter(pl.col("x") > 5)
>>> split = split_per_file(lf)
>>> [split.frame(f).collect()["x"].to_list() for f in split.files]
[[10], [11]]
>>> split_per_file(lf.sort("x")) is None
True
"""

from __future__ import annotations

import io
import json
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import polars as pl

FILE_SLOT = "__crucible_polars_file__"
"""The placeholder of the one file in a per-file template."""

_ROW_LOCAL_NODES = {"Select", "HStack", "Filter", "SimpleProjection", "MapFunction"}
_ROW_LOCAL_FUNCTIONS = {"Rename"}
_NOT_ROW_LOCAL = {
    "Agg", "Window", "Len", "Slice", "Sort", "SortBy", "Gather", "Explode", "Filter",
    "Series", "Over", "Unique", "NUnique", "Shift", "Reverse", "Implode", "Repeat",
    "Interpolate", "FillNullWithStrategy", "PctChange", "Mode", "Entropy", "Hist",
    "Shuffle", "Sample", "Random", "Head", "Tail", "Count", "First", "Last", "Sum",
    "Mean", "Median", "Max", "Min", "Std", "Var", "Quantile", "Product", "Cov", "Corr",
    "All", "Any", "ArgWhere", "SearchSorted", "RowIndex", "IntRange", "IntRanges",
    "DateRange", "Range", "PythonUdf", "AnonymousFunction", "Map", "PeakMin", "PeakMax",
    "ValueCounts", "UniqueCounts", "DropNulls", "DropNans", "Diff", "Shrink", "Extend",
    "IsDuplicated", "IsUnique", "IsFirstDistinct", "IsLastDistinct", "Append", "Selector",
}  # fmt: skip
_NOT_ROW_LOCAL_PREFIXES = (
    "Cum", "Rolling", "Ewm", "Arg", "Fold", "Reduce", "Unique", "Approx", "Rank", "Peak",
    "Gather", "Top", "Bottom", "Cut", "QCut", "Index",
)  # fmt: skip
_NAMES = {"Column", "Columns", "Field", "Rename", "Dtype", "DataType", "dtype"}


@dataclass(frozen=True)
class FileSplit:
    """A plan as one template per file: ``files`` in scan order, ``template`` the plan's
    Polars DSL (JSON) with :data:`FILE_SLOT` in place of the one file it scans, ``parquet``
    whether the scan reads parquet."""

    files: tuple[str, ...]
    template: str
    parquet: bool = False
    schema: pl.Schema | None = None
    """The whole plan's schema, which every file's part must give."""

    def frame(self, file: str, rows: tuple[int, int] | None = None) -> pl.LazyFrame:
        """The plan over ``file`` alone (a local path or a URL Polars can scan), or over its
        ``rows=(offset, length)`` (before the plan's filters; parquet skips the other row
        groups)."""
        return frame_for(self.template, file, rows)


def frame_for(template: str, file: str, rows: tuple[int, int] | None = None) -> pl.LazyFrame:
    """The LazyFrame of a :class:`FileSplit` template reading ``file`` (its ``rows``, an
    ``(offset, length)`` range of the file's rows, when given).

    Examples
    --------
    >>> import tempfile
    >>> path = f"{tempfile.mkdtemp()}/a.parquet"
    >>> pl.DataFrame({"x": [1]}).write_parquet(path)
    >>> template = split_per_file(pl.scan_parquet(path)).template
    >>> frame_for(template, path).collect()["x"].to_list()
    [1]
    >>> frame_for(template, path, rows=(1, 5)).collect().height
    0
    """
    text = template.replace(FILE_SLOT, json.dumps(file)[1:-1])
    if rows is not None:
        text = json.dumps(_slice_scan(json.loads(text), *rows))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the JSON format is deprecated but stable within 2.x
        return pl.LazyFrame.deserialize(io.StringIO(text), format="json")


def split_per_file(lf: pl.LazyFrame) -> FileSplit | None:
    """The plan as one template per scanned file, or ``None`` if it is not row-local over
    exactly one file scan (see the module docstring).

    Examples
    --------
    >>> split_per_file(pl.LazyFrame({"a": [1]})) is None
    True
    """
    try:
        outline = lf.explain(optimized=False).splitlines()
        if any(line.lstrip().startswith(("DF [", "PYTHON SCAN")) for line in outline):
            return None  # rows in memory: serializing the plan would copy them all
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = _unwrap(json.loads(lf.serialize(format="json")))
    except Exception:  # Python objects in the plan (UDFs, IO plugins) do not serialize
        return None
    scan = _row_local_scan(tree)
    if scan is None:
        return None
    args = scan.get("unified_scan_args") or {}
    if args.get("row_index") is not None or args.get("pre_slice") is not None:
        return None
    paths = (scan.get("sources") or {}).get("Paths")
    if not isinstance(paths, list) or not paths:
        return None
    files = tuple(str(p["inner"]) if isinstance(p, dict) else str(p) for p in paths)
    if any(c in f for f in files for c in "*?["):  # a glob: its files are not known here
        return None
    scan["sources"] = {"Paths": [{"inner": FILE_SLOT}]}
    for key in ("row_count", "table_statistics", "source_sizes"):
        if key in args:
            args[key] = None
    parquet = "Parquet" in (scan.get("scan_type") or {})
    return FileSplit(files, json.dumps(tree), parquet, lf.collect_schema())


ReadUnit = tuple[str, "tuple[int, int] | None"]
"""A file and, when it is read in parts, the ``(offset, length)`` of one part's rows."""


def read_units(split: FileSplit, target: int) -> list[ReadUnit]:
    """The parts to read ``split`` in: one per file, or, when there are fewer files than
    ``target`` and they are local parquet files, ranges of whole row groups (about
    ``target`` parts in all, never part of a row group).

    Examples
    --------
    >>> import tempfile
    >>> path = f"{tempfile.mkdtemp()}/a.parquet"
    >>> pl.DataFrame({"x": range(100)}).write_parquet(path, row_group_size=10)
    >>> read_units(split_per_file(pl.scan_parquet([path])), 4)[-2:]
    [('...a.parquet', (60, 30)), ('...a.parquet', (90, 10))]
    >>> len(read_units(split_per_file(pl.scan_parquet([path, path])), 2))
    2
    """
    units: list[ReadUnit] = [(f, None) for f in split.files]
    if not split.parquet or len(split.files) >= target:
        return units
    if not all(os.path.isfile(f) for f in split.files):
        return units  # remote footers would cost a request each: read whole files
    import pyarrow.parquet as pq

    groups = {}
    for file in dict.fromkeys(split.files):
        meta = pq.read_metadata(file)
        groups[file] = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    per_part = max(1, -(-sum(len(groups[f]) for f in split.files) // target))
    out: list[ReadUnit] = []
    for file in split.files:
        sizes = groups[file]
        if len(sizes) <= per_part:
            out.append((file, None))
            continue
        offset = 0
        for start in range(0, len(sizes), per_part):
            rows = sum(sizes[start : start + per_part])
            out.append((file, (offset, rows)))
            offset += rows
    return out


def _slice_scan(tree: Any, offset: int, length: int) -> Any:
    """The template's tree with its scan read from row ``offset``, ``length`` rows."""
    node = tree
    while isinstance(node, dict) and len(node) == 1:
        kind, body = next(iter(node.items()))
        if kind == "Scan":
            return {"Slice": {"input": {"Scan": body}, "offset": offset, "len": length}}
        child = _slice_scan(body["input"], offset, length)
        return {kind: {**body, "input": child}}
    raise ValueError("not a per-file template")


def _unwrap(node: Any) -> Any:
    """The DSL without the ``{"IR": {"dsl": ...}}`` wrappers of already-resolved nodes."""
    if isinstance(node, dict):
        if set(node) == {"IR"} and isinstance(node["IR"], dict) and "dsl" in node["IR"]:
            return _unwrap(node["IR"]["dsl"])
        return {k: _unwrap(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_unwrap(v) for v in node]
    return node


def _row_local_scan(tree: Any) -> dict[str, Any] | None:
    """The body of the one ``Scan`` below row-local nodes with row-local expressions."""
    node = tree
    while isinstance(node, dict) and len(node) == 1:
        kind, body = next(iter(node.items()))
        if kind == "Scan":
            return body if isinstance(body, dict) else None
        if kind not in _ROW_LOCAL_NODES or not isinstance(body, dict):
            return None
        if kind == "MapFunction":
            function = body.get("function")
            if not isinstance(function, dict) or set(function) - _ROW_LOCAL_FUNCTIONS:
                return None
        rest = {k: v for k, v in body.items() if k != "input"}
        if any(_not_row_local(token) for token in _tokens(rest)):
            return None
        node = body.get("input")
    return None


def _tokens(node: Any) -> Iterator[str]:
    """Keys and enum-like strings of an expression tree, skipping names and literal values
    (a literal's kind stays: a ``Series`` literal is not row-local)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            if key == "Alias" and isinstance(value, list) and value:
                yield from _tokens(value[0])
            elif key == "Literal" and isinstance(value, dict):
                yield from value
            elif key not in _NAMES:
                yield from _tokens(value)
    elif isinstance(node, list):
        for value in node:
            yield from _tokens(value)
    elif isinstance(node, str):
        yield node


def _not_row_local(token: str) -> bool:
    return token in _NOT_ROW_LOCAL or token.startswith(_NOT_ROW_LOCAL_PREFIXES)
