"""From a resolved load to the lazy :class:`~crucible_polars.plan.Plan` of each split.

Shared by ``load_dataset`` (eager and streaming), ``Dataset.from_parquet`` / ``from_json`` /
``from_csv``: the files are scanned by their reader, the stored Features chosen (the file's
own ``huggingface`` metadata, else the README's ``dataset_info``, else inferred), then a
``features=`` cast, filters and the projection join the plan.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from crucible_polars.features import Audio, Features, Image, feature_to_polars
from crucible_polars.info import DatasetInfo
from crucible_polars.ops import columns as ops_columns
from crucible_polars.ops.combine import apply_split_terms
from crucible_polars.plan import Plan, carry_features
from crucible_polars.readers import scan_files
from crucible_polars.readers.base import run_explained
from crucible_polars.readers.extensions import FOLDER_FORMATS
from crucible_polars.readers.image_paths import data_files_folder, resolve_image_paths
from crucible_polars.readers.options import pop_load_arguments
from crucible_polars.resolve.filters import FilterSpec, as_polars_filter
from crucible_polars.resolve.load_plan import LoadPlan, resolve_load
from crucible_polars.resolve.splits import SplitSlice


@dataclass(frozen=True)
class BuiltSplit:
    """One split of a load: its plan, info and name."""

    plan: Plan
    info: DatasetInfo
    split: str


def build_split(
    plan: LoadPlan,
    split: str,
    columns: Sequence[str] | None = None,
    filters: FilterSpec = None,
    features: Features | None = None,
) -> BuiltSplit:
    """The lazy plan of one split: scan, stored Features, then ``features=`` cast, relative
    image paths, ``filters`` and ``columns``, in that order (as ``load_dataset`` applies them).

    Parameters
    ----------
    plan
        The resolved load.
    split
        The split to build.
    columns
        Columns to keep (pushed into the scan).
    filters
        A Polars expression (pushed into the scan).
    features
        Cast and validate to these Features.

    Examples
    --------
    >>> import tempfile, polars as pl
    >>> folder = tempfile.mkdtemp()
    >>> pl.DataFrame({"x": [1, 2]}).write_parquet(f"{folder}/train.parquet")
    >>> load = resolve_load(folder, None, data_files=None, data_dir=None)
    >>> build_split(load, "train", filters=pl.col("x") > 1).plan.collect()["x"].to_list()
    [2]
    """
    options = plan.options
    if plan.format in FOLDER_FORMATS:  # labels and metadata are decided over every split
        options = {**options, "split_files": plan.split_files, "features": features}
    elif plan.format == "csv" and features is not None:  # column types, as pandas' dtype=
        options = {**options, "features": features}
    scan = scan_files(plan.format, plan.split_files[split], options)
    schema = run_explained(scan.lf.collect_schema, [scan.diagnose])
    stored = scan.features if scan.features is not None else plan.features
    if plan.features is not None and plan.features.to_polars() == schema:
        stored = plan.features  # the README's dataset_info wins when it fits, as in `datasets`
    if stored is not None and list(stored) != schema.names():
        stored = None
    out = Plan(
        scan.lf,
        stored if stored is not None else Features.from_polars(schema),
        diagnose=(scan.diagnose,),
        sources=tuple(plan.split_files[split]),
    )
    if features is not None:
        out = ops_columns.cast(_fit_columns(out, plan.format, features), features)
    out = _resolve_relative_images(out, plan.split_files[split])
    predicate = as_polars_filter(filters)  # a Polars expression, or pyarrow's DNF list
    if predicate is not None:
        out = out.derive(out.lf.filter(predicate))
    if columns is not None:
        out = ops_columns.select_columns(out, list(columns))
    info = plan.info.copy(**scan.info) if scan.info else plan.info
    return BuiltSplit(out, info, split)


def _fit_columns(plan: Plan, fmt: str, features: Features) -> Plan:
    """What ``datasets``' readers do before casting to ``features=``: the text reader names
    its one column after the one feature, and the JSON reader adds the features' missing
    columns as all-null columns of their type."""
    if fmt == "text" and list(plan.features) == ["text"] and len(features) == 1:
        (name,) = features
        if name != "text":
            lf = plan.lf.rename({"text": name})
            return plan.derive(lf, Features.from_polars(lf.collect_schema()))
    missing = [name for name in features if name not in plan.features]
    if fmt != "json" or not missing:
        return plan
    lf = plan.lf.with_columns(
        pl.lit(None, dtype=feature_to_polars(features[name])).alias(name) for name in missing
    )
    stored = Features({**plan.features, **{name: features[name] for name in missing}})
    return plan.derive(lf, stored)


def _resolve_relative_images(plan: Plan, files: Sequence[str]) -> Plan:
    """Image and audio paths relative to the data files' folder, made absolute (lazily)."""
    folder = data_files_folder(files)
    columns = [c for c, f in plan.features.items() if isinstance(f, (Image, Audio))]
    if folder is None or not columns:
        return plan
    lf = plan.lf.with_columns(*(resolve_image_paths(c, folder) for c in columns))
    return plan.derive(lf, carry_features(plan.features, lf.collect_schema()))


def build_splits(
    plan: LoadPlan,
    terms: Sequence[SplitSlice],
    columns: Sequence[str] | None = None,
    filters: FilterSpec = None,
    features: Features | None = None,
    *,
    name: str | None = None,
) -> BuiltSplit:
    """A split expression (``"train[:10%]+test"``) as one plan: its splits built, sliced and
    concatenated; info from the first split. ``name`` is the split's name (default: the
    expression as :func:`split_name` writes it).

    Examples
    --------
    >>> import tempfile, polars as pl
    >>> from crucible_polars.resolve.splits import parse_split
    >>> folder = tempfile.mkdtemp()
    >>> pl.DataFrame({"x": list(range(10))}).write_parquet(f"{folder}/train.parquet")
    >>> load = resolve_load(folder, None, data_files=None, data_dir=None)
    >>> built = build_splits(load, parse_split("train[:20%]"))
    >>> built.plan.collect()["x"].to_list(), built.split
    ([0, 1], 'train[:20%]')
    """
    names = list(dict.fromkeys(t.split for t in terms))
    built = {s: build_split(plan, s, columns, filters, features) for s in names}
    combined = apply_split_terms({s: b.plan for s, b in built.items()}, terms)
    return BuiltSplit(combined, built[names[0]].info, name or split_name(terms))


def split_name(terms: Sequence[SplitSlice]) -> str:
    """The split expression as text, e.g. ``"train[:10%]+test"``.

    Examples
    --------
    >>> from crucible_polars.resolve.splits import parse_split
    >>> split_name(parse_split("train[:10%]+test"))
    'train[:10%]+test'
    """
    return "+".join(term_name(t) for t in terms)


def term_name(term: SplitSlice) -> str:
    """One split term as text, e.g. ``"train[10:20]"``.

    Examples
    --------
    >>> from crucible_polars.resolve.splits import parse_split
    >>> term_name(parse_split("test[-5%:]")[0])
    'test[-5%:]'
    """
    if term.is_whole:
        return term.split
    unit = "%" if term.unit == "%" else ""
    start = "" if term.start is None else f"{term.start}{unit}"
    stop = "" if term.stop is None else f"{term.stop}{unit}"
    return f"{term.split}[{start}:{stop}]"


def load_files(
    fmt: str, path_or_paths: str | os.PathLike[str] | Sequence[str], options: dict[str, Any]
) -> BuiltSplit:
    """``load_dataset(fmt, data_files={split: files}, split=split, **options)`` as one built
    split, for ``Dataset.from_parquet`` / ``from_json`` / ``from_csv``.

    ``options`` may hold ``split`` (default ``"train"``), ``columns``, ``filters``,
    ``features`` and reader options.

    Examples
    --------
    >>> import tempfile, polars as pl
    >>> path = f"{tempfile.mkdtemp()}/a.parquet"
    >>> pl.DataFrame({"a": [1, 2]}).write_parquet(path)
    >>> load_files("parquet", path, {}).plan.collect()["a"].to_list()
    [1, 2]
    """
    options = pop_load_arguments(dict(options), also=("cache_dir",))
    split = options.pop("split", None) or "train"
    columns, filters = options.pop("columns", None), options.pop("filters", None)
    features = options.pop("features", None)
    storage_options = options.pop("storage_options", None)
    files = (
        os.fspath(path_or_paths)
        if isinstance(path_or_paths, (str, os.PathLike))
        else [os.fspath(p) for p in path_or_paths]
    )
    plan = resolve_load(
        fmt,
        None,
        data_files={split: files},
        data_dir=None,
        options=options,
        storage_options=storage_options,
    )
    return build_split(plan, split, columns, filters, features)
