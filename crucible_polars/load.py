"""load_dataset and load_from_disk: source → resolve → format → features → Dataset.

Nothing here reads data: files are listed, configs and splits resolved
(:mod:`crucible_polars.resolve.load_plan`), and each split becomes a lazy scan
(:mod:`crucible_polars.resolve.build`). Projection (``columns=``), filters and ``features=``
casts join the plan.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, overload

from crucible_polars.dataset import Dataset
from crucible_polars.dataset_dict import DatasetDict
from crucible_polars.errors import SplitNotFoundError
from crucible_polars.features import Features
from crucible_polars.info import DatasetInfo
from crucible_polars.plan import Plan
from crucible_polars.readers.options import pop_load_arguments
from crucible_polars.resolve.build import BuiltSplit, build_split, build_splits
from crucible_polars.resolve.filters import FilterSpec, as_polars_filter
from crucible_polars.resolve.load_plan import resolve_load
from crucible_polars.resolve.patterns import DataFilesSpec
from crucible_polars.resolve.saved import load_saved_split, saved_folder, saved_splits
from crucible_polars.resolve.splits import parse_split
from crucible_polars.streaming import IterableDataset, IterableDatasetDict, iterable_from_plan
from crucible_polars.writers import recover_interrupted_save

DOWNLOAD_MODES = ("reuse_dataset_if_exists", "reuse_cache_if_exists", "force_redownload")


@overload
def load_dataset(
    path: str | os.PathLike[str],
    name: str | None = None,
    *,
    split: None = None,
    data_files: DataFilesSpec | None = None,
    data_dir: str | None = None,
    revision: str | None = None,
    streaming: Literal[False] = False,
    columns: Sequence[str] | None = None,
    filters: FilterSpec = None,
    features: Features | None = None,
    token: str | bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    download_mode: str = "reuse_dataset_if_exists",
    storage_options: dict[str, Any] | None = None,
    **config_kwargs: Any,
) -> DatasetDict: ...


@overload
def load_dataset(
    path: str | os.PathLike[str],
    name: str | None = None,
    *,
    split: str,
    data_files: DataFilesSpec | None = None,
    data_dir: str | None = None,
    revision: str | None = None,
    streaming: Literal[False] = False,
    columns: Sequence[str] | None = None,
    filters: FilterSpec = None,
    features: Features | None = None,
    token: str | bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    download_mode: str = "reuse_dataset_if_exists",
    storage_options: dict[str, Any] | None = None,
    **config_kwargs: Any,
) -> Dataset: ...


@overload
def load_dataset(
    path: str | os.PathLike[str],
    name: str | None = None,
    *,
    split: None = None,
    data_files: DataFilesSpec | None = None,
    data_dir: str | None = None,
    revision: str | None = None,
    streaming: Literal[True],
    columns: Sequence[str] | None = None,
    filters: FilterSpec = None,
    features: Features | None = None,
    token: str | bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    download_mode: str = "reuse_dataset_if_exists",
    storage_options: dict[str, Any] | None = None,
    **config_kwargs: Any,
) -> IterableDatasetDict: ...


@overload
def load_dataset(
    path: str | os.PathLike[str],
    name: str | None = None,
    *,
    split: str,
    data_files: DataFilesSpec | None = None,
    data_dir: str | None = None,
    revision: str | None = None,
    streaming: Literal[True],
    columns: Sequence[str] | None = None,
    filters: FilterSpec = None,
    features: Features | None = None,
    token: str | bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    download_mode: str = "reuse_dataset_if_exists",
    storage_options: dict[str, Any] | None = None,
    **config_kwargs: Any,
) -> IterableDataset: ...


@overload
def load_dataset(
    path: str | os.PathLike[str],
    name: str | None = None,
    *,
    split: str | None = None,
    data_files: DataFilesSpec | None = None,
    data_dir: str | None = None,
    revision: str | None = None,
    streaming: bool = False,
    columns: Sequence[str] | None = None,
    filters: FilterSpec = None,
    features: Features | None = None,
    token: str | bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    download_mode: str = "reuse_dataset_if_exists",
    storage_options: dict[str, Any] | None = None,
    **config_kwargs: Any,
) -> Dataset | DatasetDict | IterableDataset | IterableDatasetDict: ...


def load_dataset(
    path: str | os.PathLike[str],
    name: str | None = None,
    *,
    split: str | None = None,
    data_files: DataFilesSpec | None = None,
    data_dir: str | None = None,
    revision: str | None = None,
    streaming: bool = False,
    columns: Sequence[str] | None = None,
    filters: FilterSpec = None,
    features: Features | None = None,
    token: str | bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    download_mode: str = "reuse_dataset_if_exists",
    storage_options: dict[str, Any] | None = None,
    **config_kwargs: Any,
) -> Dataset | DatasetDict | IterableDataset | IterableDatasetDict:
    """Load a dataset as lazy Polars-backed splits.

    Parameters
    ----------
    path
        A format name (``"parquet"``, ``"json"``, ``"csv"``, ``"text"``, ``"imagefolder"``)
        with ``data_files``; a local folder or file; an fsspec URL; or a Hub dataset id.
    name
        The config, from the README's YAML ``configs:`` block.
    split
        ``None`` for a :class:`DatasetDict` of every split, else e.g. ``"train"``,
        ``"train[:100]"``, ``"train[10%:20%]"``, ``"train+test"``.
    data_files
        A path or glob, a list of them, or ``{split: path-or-list}``.
    data_dir
        A sub-folder of the source to look in.
    revision
        A Hub branch, tag or commit (pinned for the whole load).
    streaming
        Return an :class:`IterableDataset` (or ``IterableDatasetDict``) that reads files as
        it is iterated, with bounded memory; nothing is downloaded ahead.
    columns
        Columns to keep; pushed into the scan.
    filters
        A Polars expression, or ``datasets``' (pyarrow's) list of ``(column, op, value)``
        tuples (or of lists of them); pushed into the scan.
    features
        Cast and validate to these Features.
    token
        A Hub token, ``False`` for none; default ``HF_TOKEN`` / the ``huggingface_hub`` login.
        Never shown in messages.
    cache_dir
        The ``huggingface_hub`` cache folder for Hub downloads (default ``HF_HUB_CACHE``).
    download_mode
        ``"reuse_dataset_if_exists"`` (default), ``"reuse_cache_if_exists"`` or
        ``"force_redownload"`` (fetch the Hub files again).
    storage_options
        fsspec options for URLs (credentials, endpoints).
    **config_kwargs
        Reader options, e.g. ``sep="\\t"`` for CSV or ``field="data"`` for JSON documents;
        an unknown one raises ``TypeError``. ``datasets``' ``keep_in_memory``, ``num_proc``
        and ``verification_mode`` are accepted and change no row (data stays lazy).

    Returns
    -------
    Dataset | DatasetDict | IterableDataset | IterableDatasetDict
        A ``DatasetDict`` when ``split`` is ``None``, a ``Dataset`` for one split; their
        streaming counterparts with ``streaming=True`` (type checkers see which).

    Raises
    ------
    DataFilesNotFoundError
        A path or glob that matches nothing.
    UnsupportedFormatError
        A format no reader handles (the message lists the supported ones).
    ConfigNotFoundError, SplitNotFoundError
        Unknown ``name`` or ``split`` (the message lists the valid ones).

    Examples
    --------
    >>> import tempfile, polars as pl, crucible_polars as cp
    >>> folder = tempfile.mkdtemp()
    >>> pl.DataFrame({"x": [1, 2, 3]}).write_parquet(f"{folder}/train.parquet")
    >>> pl.DataFrame({"x": [4]}).write_parquet(f"{folder}/test.parquet")
    >>> cp.load_dataset(folder).num_rows
    {'train': 3, 'test': 1}
    >>> cp.load_dataset(folder, split="train", filters=pl.col("x") > 1)["x"]
    [2, 3]
    """
    if download_mode not in DOWNLOAD_MODES:
        raise ValueError(f"download_mode must be one of {DOWNLOAD_MODES}, got {download_mode!r}.")
    filters = as_polars_filter(filters)
    config_kwargs = pop_load_arguments(config_kwargs)
    terms = parse_split(split) if split is not None else None
    plan = resolve_load(
        str(path),
        name,
        data_files=data_files,
        data_dir=data_dir,
        revision=revision,
        token=token,
        cache_dir=cache_dir,
        download_mode=download_mode,
        storage_options=storage_options,
        options=config_kwargs,
        streaming=streaming,
        splits=None if terms is None else list(dict.fromkeys(t.split for t in terms)),
    )
    wanted = (
        list(plan.split_files) if terms is None else list(dict.fromkeys(t.split for t in terms))
    )
    for name_ in wanted:
        if name_ not in plan.split_files:
            raise SplitNotFoundError(name_, list(plan.split_files))
    if streaming:
        return iterable_from_plan(
            plan, wanted, terms, columns=columns, filters=filters, features=features
        )
    if terms is None:
        built = [build_split(plan, s, columns, filters, features) for s in wanted]
        return DatasetDict({b.split: _dataset(b) for b in built})
    return _dataset(build_splits(plan, terms, columns, filters, features, name=split))


def _dataset(built: BuiltSplit) -> Dataset:
    return Dataset.from_plan(built.plan, info=built.info, split=built.split)


def load_from_disk(
    path: str | os.PathLike[str],
    keep_in_memory: bool | None = None,
    storage_options: dict[str, Any] | None = None,
) -> Dataset | DatasetDict:
    """Load what :meth:`Dataset.save_to_disk` or :meth:`DatasetDict.save_to_disk` wrote, here
    or with ``datasets`` (Arrow shards, ``state.json``, ``dataset_info.json``); folders of
    this package's earlier parquet layout load too.

    Parameters
    ----------
    path
        The folder ``save_to_disk`` wrote, or an fsspec URL of one (``s3://...``,
        ``memory://...``, ``file://...``), copied once into the cache.
    keep_in_memory
        ``True`` reads the shards into memory now (by default they are scanned lazily).
    storage_options
        Options of the URL's file system (``fsspec``'s names, as in ``datasets``).

    Returns
    -------
    Dataset | DatasetDict
        A ``DatasetDict`` for a folder with ``dataset_dict.json``, else a ``Dataset``.

    Examples
    --------
    >>> import tempfile
    >>> folder = os.path.join(tempfile.mkdtemp(), "saved")
    >>> Dataset.from_dict({"a": [1]}).save_to_disk(folder)
    >>> load_from_disk(folder).num_rows
    1
    >>> load_from_disk(f"file://{folder}", keep_in_memory=True).num_rows
    1
    """
    local = "://" not in os.fspath(path) or os.fspath(path).startswith("file://")
    folder = saved_folder(path, storage_options)
    if local:
        recover_interrupted_save(folder.resolve())
    splits = saved_splits(folder)
    if splits is not None:
        return DatasetDict({s: _saved_dataset(folder / s, s, keep_in_memory) for s in splits})
    return _saved_dataset(folder, None, keep_in_memory)


def _saved_dataset(folder: Path, name: str | None, keep_in_memory: bool | None) -> Dataset:
    saved = load_saved_split(folder)
    split = saved.split if saved.split is not None else name
    plan = saved.plan
    if keep_in_memory:
        plan = Plan.from_frame(plan.collect(), plan.features)
    return Dataset.from_plan(plan, info=DatasetInfo.from_dict(saved.info), split=split)
