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

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from crucible_polars.features import Features, feature_to_polars
from crucible_polars.info import DatasetInfo
from crucible_polars.plan import Plan
from crucible_polars.readers.csv import pandas_like_features
from crucible_polars.resolve.build import build_splits, split_name
from crucible_polars.resolve.load_plan import LoadPlan
from crucible_polars.resolve.splits import SplitSlice
from crucible_polars.streaming.iterable import IterableDataset
from crucible_polars.streaming.iterable_dict import IterableDatasetDict
from crucible_polars.streaming.parquet import read_meta
from crucible_polars.streaming.sharding import Unit
from crucible_polars.streaming.source import FILE_FORMATS, NotLineBasedError, StreamSource

_ARCHIVE_SUFFIXES = (".zip", ".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tar.xz")


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

    Parameters
    ----------
    plan
        The resolved load (files per split, source, options).
    splits
        The split names, used when ``terms`` is ``None``.
    terms
        A parsed split expression (``"train[:10%]+test"``), or ``None`` for every split.
    columns
        Only these columns.
    filters
        A Polars expression the rows must satisfy.
    features
        Cast the rows to these Features.

    Examples
    --------
    >>> import tempfile, os
    >>> from crucible_polars.resolve.load_plan import resolve_load
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
    name = split_name(terms)
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
    source = _native_source(plan, files, features)
    if source is None:
        ds = _fallback(plan, terms, name, columns, filters, features)
        return ds
    if len(spec) > 1 or not spec[0][1].is_whole:
        source.terms = tuple(spec)
    stored = _stored_features(plan, source)
    ds = IterableDataset(source, stored, info=plan.info, split=name)
    if features is not None:
        ds = _fit_columns(ds, plan.format, features).cast(features)
    if filters is not None:
        ds = ds.filter(filters)
    if columns is not None:
        ds = ds.select_columns(list(columns))
    return ds


def decoded_in_python(fmt: str, options: Mapping[str, Any]) -> bool:
    """Whether reader ``options`` make the files be decoded in Python, a whole file at a
    time: another ``encoding`` or ``encoding_errors``, CSV ``on_bad_lines`` other than
    ``"error"``, text ``sample_by`` paragraph or document. Such files stream through the
    non-streaming reader (the same rows by construction), one file in memory at a time.

    Examples
    --------
    >>> decoded_in_python("csv", {"encoding": "latin-1"}), decoded_in_python("csv", {"sep": ";"})
    (True, False)
    """
    encoding = str(options.get("encoding") or "utf-8").lower().replace("-", "_")
    if encoding not in ("utf_8", "utf8") or options.get("encoding_errors") not in (None, "strict"):
        return True
    if fmt == "csv" and options.get("on_bad_lines") not in (None, "error"):
        return True
    return fmt == "text" and options.get("sample_by") not in (None, "line")


def _fit_columns(ds: IterableDataset, fmt: str, features: Features) -> IterableDataset:
    """What ``datasets``' readers do before casting to ``features=`` (as a load does): the
    text reader names its one column after the one feature, the JSON reader adds the
    features' missing columns as all-null columns of their type."""
    columns = list(ds.features or {})
    if fmt == "text" and columns == ["text"] and len(features) == 1:
        (name,) = features
        return ds if name == "text" else ds.rename_column("text", name)
    missing = [name for name in features if name not in columns]
    if fmt != "json" or not missing:
        return ds
    nulls = [pl.lit(None, dtype=feature_to_polars(features[n])).alias(n) for n in missing]
    return ds.with_columns(nulls)


def _native_source(
    plan: LoadPlan, files: list[str], features: Features | None
) -> StreamSource | None:
    """A source read by the streaming readers, or ``None`` when the files need the
    non-streaming scan (image folders, archives, JSON documents, options decoded in Python)."""
    if plan.format not in FILE_FORMATS or not files:
        return None
    if any(f.lower().endswith(_ARCHIVE_SUFFIXES) for f in files):
        return None
    if decoded_in_python(plan.format, plan.options):
        return None
    options = dict(plan.options)
    if plan.format == "csv" and features is not None:  # column types, as pandas' dtype=
        options["features"] = features
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
        meta = read_meta(source.files[0], source.storage_options, source.token)
        stored = Features.from_arrow(meta.arrow_schema)
    elif source.format == "csv":
        stored = pandas_like_features(schema)
    elif source.line_format is not None:
        stored = source.line_format.features()
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
    built = build_splits(plan, terms, columns, filters, features, name=name)
    return iterable_from_dataset_plan(built.plan, info=built.info, split=built.split)


def iterable_from_dataset_plan(
    plan: Plan,
    num_shards: int = 1,
    *,
    info: DatasetInfo | None = None,
    split: str | None = None,
    format: str | None = None,
    format_columns: Sequence[str] | None = None,
) -> IterableDataset:
    """A lazy dataset's plan as a stream of ``num_shards`` contiguous shards (what
    :meth:`Dataset.to_iterable_dataset` returns); the plan runs in Polars' streaming engine,
    a shard at a time.

    Parameters
    ----------
    plan
        The dataset's plan.
    num_shards
        Contiguous shards (no more than the rows).
    info, split, format, format_columns
        The dataset's info, split name and output format, carried over.

    Examples
    --------
    >>> import polars as pl
    >>> from crucible_polars.plan import Plan
    >>> it = iterable_from_dataset_plan(Plan.from_frame(pl.DataFrame({"a": [1, 2, 3]})), 2)
    >>> it.num_shards, [r["a"] for r in it]
    (2, [1, 2, 3])
    """
    if not isinstance(num_shards, int) or num_shards < 1:
        raise ValueError(f"num_shards must be a positive integer, got {num_shards!r}.")
    units: list[Unit] | None = None
    if num_shards > 1:
        n = plan.row_count()
        if num_shards > n:
            raise ValueError(
                f"Unable to shard a dataset of size {n} into {num_shards} shards (the number "
                "of shards must not exceed the number of rows)."
            )
        div, mod = divmod(n, num_shards)
        bounds = [div * i + min(i, mod) for i in range(num_shards + 1)]
        units = [Unit(0, start=bounds[i], stop=bounds[i + 1]) for i in range(num_shards)]
    source = StreamSource.from_plans([plan.lf], units=units, diagnose=plan.diagnose)
    return IterableDataset(
        source,
        plan.features,
        info=info,
        split=split,
        format=format,
        format_columns=format_columns,
    )
