"""From a resolved load (or a lazy Dataset) to streaming datasets.

``load_dataset(..., streaming=True)`` resolves files and splits exactly as a non-streaming
load does, then calls :func:`iterable_from_plan`. Parquet, JSON lines, CSV and text files
(compressed or not, local, on the Hub or behind any fsspec URL) are streamed by
:mod:`crucible_polars.streaming`'s own readers. Other formats (image folders, archives, JSON
documents) are read through the non-streaming lazy scan, streamed with Polars' streaming
engine.

Split slices (``train[:10%]``, ``train[-100:]+test``), which ``datasets`` refuses when
streaming, need the split's row count: parquet footers give it cheaply; for JSON lines, CSV
and text files the files are read once to count their rows, when iteration starts.

Examples
--------
>>> import tempfile, polars as pl, crucible_polars as cp
>>> folder = tempfile.mkdtemp()
>>> pl.DataFrame({"x": list(range(10))}).write_parquet(f"{folder}/train.parquet")
>>> ds = cp.load_dataset(folder, split="train[20%:40%]", streaming=True)
>>> [row["x"] for row in ds]
[2, 3]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from crucible_polars.features import Features
from crucible_polars.resolve.splits import SplitSlice
from crucible_polars.streaming.iterable import IterableDataset, IterableDatasetDict
from crucible_polars.streaming.sharding import Unit
from crucible_polars.streaming.source import FILE_FORMATS, NotLineBasedError, StreamSource

if TYPE_CHECKING:
    from crucible_polars.dataset import Dataset
    from crucible_polars.load import LoadPlan

_ARCHIVE_SUFFIXES = (".zip", ".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tar.xz")


def _term_name(term: SplitSlice) -> str:
    if term.is_whole:
        return term.split
    unit = "%" if term.unit == "%" else ""
    start = "" if term.start is None else f"{term.start}{unit}"
    stop = "" if term.stop is None else f"{term.stop}{unit}"
    return f"{term.split}[{start}:{stop}]"


def iterable_from_plan(
    plan: LoadPlan,
    splits: list[str],
    terms: Sequence[SplitSlice] | None,
    *,
    columns: Sequence[str] | None = None,
    filters: pl.Expr | None = None,
    features: Features | None = None,
) -> IterableDataset | IterableDatasetDict:
    """Streaming datasets for a resolved load: one per split, or one for a split expression.

    Examples
    --------
    >>> import tempfile, os
    >>> from crucible_polars.load import resolve_load
    >>> folder = tempfile.mkdtemp()
    >>> _ = open(os.path.join(folder, "train.jsonl"), "w").write('{"a": 1}\\n{"a": 2}\\n')
    >>> plan = resolve_load(folder, None, data_files=None, data_dir=None, streaming=True)
    >>> dd = iterable_from_plan(plan, ["train"], None)
    >>> [row["a"] for row in dd["train"]]
    [1, 2]
    """
    if terms is None:
        return IterableDatasetDict(
            {s: _stream(plan, [SplitSlice(s)], s, columns, filters, features) for s in splits}
        )
    name = "+".join(_term_name(t) for t in terms)
    return _stream(plan, list(terms), name, columns, filters, features)


def _token(plan: LoadPlan) -> str | bool | None:
    token = getattr(plan.source, "token", None)
    return token if isinstance(token, (str, bool)) else None


def _stream(
    plan: LoadPlan,
    terms: list[SplitSlice],
    name: str,
    columns: Sequence[str] | None,
    filters: pl.Expr | None,
    features: Features | None,
) -> IterableDataset:
    files: list[str] = []
    position: dict[str, int] = {}
    spec: list[tuple[tuple[int, ...], SplitSlice]] = []
    for term in terms:
        indices = []
        for path in plan.split_files[term.split]:
            if path not in position:
                position[path] = len(files)
                files.append(path)
            indices.append(position[path])
        spec.append((tuple(indices), term))
    source = _native_source(plan, files)
    if source is None:
        ds = _fallback(plan, terms, name, columns, filters, features)
        return ds
    if len(spec) > 1 or not spec[0][1].is_whole:
        source.terms = tuple(spec)
    stored = _stored_features(plan, source)
    ds = IterableDataset(source, stored, info=plan.info, split=name)
    if features is not None:
        ds = ds.cast(features)
    if filters is not None:
        ds = ds.filter(filters)
    if columns is not None:
        ds = ds.select_columns(list(columns))
    return ds


def _native_source(plan: LoadPlan, files: list[str]) -> StreamSource | None:
    """A source read by the streaming readers, or ``None`` when the files need the
    non-streaming scan (image folders, archives, JSON documents)."""
    if plan.format not in FILE_FORMATS or not files:
        return None
    if any(f.lower().endswith(_ARCHIVE_SUFFIXES) for f in files):
        return None
    options = dict(plan.options)
    storage_options = options.pop("storage_options", None)
    try:
        return StreamSource.from_files(
            plan.format, files, options, storage_options=storage_options, token=_token(plan)
        )
    except NotLineBasedError:  # a JSON document, not JSON lines
        return None


def _stored_features(plan: LoadPlan, source: StreamSource) -> Features:
    """The features a non-streaming load of the same files reports."""
    schema = source.schema
    stored: Features | None = None
    if source.format == "parquet":
        from crucible_polars.streaming.parquet import read_meta

        meta = read_meta(source.files[0], source.storage_options, source.token)
        stored = Features.from_arrow(meta.arrow_schema)
    elif source.format == "csv":
        from crucible_polars.readers.csv import pandas_like_features

        stored = pandas_like_features(schema)
    if plan.features is not None and plan.features.to_polars() == schema:
        stored = plan.features
    if stored is None or list(stored) != schema.names():
        stored = Features.from_polars(schema)
    return stored


def _fallback(
    plan: LoadPlan,
    terms: list[SplitSlice],
    name: str,
    columns: Sequence[str] | None,
    filters: pl.Expr | None,
    features: Features | None,
) -> IterableDataset:
    from crucible_polars.load import _build_split
    from crucible_polars.ops.combine import apply_split_terms

    splits = list(dict.fromkeys(t.split for t in terms))
    datasets = {s: _build_split(plan, s, columns, filters, features) for s in splits}
    return from_dataset(apply_split_terms(datasets, terms, name))


def from_dataset(ds: Dataset, num_shards: int = 1) -> IterableDataset:
    """A lazy :class:`~crucible_polars.Dataset` as a stream of ``num_shards`` contiguous
    shards (what :meth:`Dataset.to_iterable_dataset` returns); the plan runs in Polars'
    streaming engine, a shard at a time.

    Examples
    --------
    >>> import crucible_polars as cp
    >>> ds = cp.Dataset.from_dict({"a": [1, 2, 3]})
    >>> it = from_dataset(ds, num_shards=2)
    >>> it.num_shards, [r["a"] for r in it]
    (2, [1, 2, 3])
    """
    if not isinstance(num_shards, int) or num_shards < 1:
        raise ValueError(f"num_shards must be a positive integer, got {num_shards!r}.")
    units: list[Unit] | None = None
    if num_shards > 1:
        n = ds.num_rows
        if num_shards > n:
            raise ValueError(
                f"Unable to shard a dataset of size {n} into {num_shards} shards (the number "
                "of shards must not exceed the number of rows)."
            )
        div, mod = divmod(n, num_shards)
        bounds = [div * i + min(i, mod) for i in range(num_shards + 1)]
        units = [Unit(0, start=bounds[i], stop=bounds[i + 1]) for i in range(num_shards)]
    source = StreamSource.from_plans(
        [ds.lazy()], units=units, diagnose=tuple(getattr(ds, "_diagnose", ()))
    )
    fmt: Any = getattr(ds, "_format", None)
    columns = getattr(ds, "_format_columns", None)
    return IterableDataset(
        source, ds.features, info=ds.info, split=ds.split, format=fmt, format_columns=columns
    )
