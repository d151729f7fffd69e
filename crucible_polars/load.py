"""load_dataset and load_from_disk: source → resolve → format → features → Dataset.

Nothing here reads data: files are listed, configs and splits resolved
(:mod:`crucible_polars.resolve.load_plan`), and each split becomes a lazy scan
(:mod:`crucible_polars.resolve.build`). Projection (``columns=``), filters and ``features=``
casts join the plan.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, overload

import polars as pl

from crucible_polars.dataset import DICT_FILE, INFO_FILE, Dataset
from crucible_polars.dataset_dict import DatasetDict
from crucible_polars.errors import DataFilesNotFoundError, SplitNotFoundError
from crucible_polars.features import Features
from crucible_polars.info import DatasetInfo
from crucible_polars.plan import Plan
from crucible_polars.resolve.build import BuiltSplit, build_split, build_splits
from crucible_polars.resolve.load_plan import resolve_load
from crucible_polars.resolve.patterns import DataFilesSpec
from crucible_polars.resolve.splits import parse_split
from crucible_polars.streaming import IterableDataset, IterableDatasetDict, iterable_from_plan

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
    filters: pl.Expr | None = None,
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
    filters: pl.Expr | None = None,
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
    filters: pl.Expr | None = None,
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
    filters: pl.Expr | None = None,
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
    filters: pl.Expr | None = None,
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
    filters: pl.Expr | None = None,
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
        A Polars expression; pushed into the scan.
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
        Reader options, e.g. ``sep="\\t"`` for CSV or ``field="data"`` for JSON documents.

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
    >>> import tempfile, crucible_polars as cp
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


def load_from_disk(path: str | os.PathLike[str]) -> Dataset | DatasetDict:
    """Load what :meth:`Dataset.save_to_disk` or :meth:`DatasetDict.save_to_disk` wrote.

    Examples
    --------
    >>> import tempfile
    >>> folder = os.path.join(tempfile.mkdtemp(), "saved")
    >>> Dataset.from_dict({"a": [1]}).save_to_disk(folder)
    >>> load_from_disk(folder).num_rows
    1
    """
    folder = Path(path).expanduser()
    if (folder / DICT_FILE).is_file():
        splits = json.loads((folder / DICT_FILE).read_text())["splits"]
        return DatasetDict({s: _load_saved_split(folder / s) for s in splits})
    if (folder / INFO_FILE).is_file():
        return _load_saved_split(folder)
    raise DataFilesNotFoundError(
        str(folder), f"It holds no {INFO_FILE} or {DICT_FILE}; was it written by save_to_disk?"
    )


def _load_saved_split(folder: Path) -> Dataset:
    info = json.loads((folder / INFO_FILE).read_text())
    files = sorted(str(p) for p in folder.glob("*.parquet"))
    if not files:
        raise DataFilesNotFoundError(str(folder / "*.parquet"))
    features = Features.from_dict(info.pop("features"))
    split, num_rows = info.pop("split", None), info.pop("num_rows", None)
    plan = Plan(pl.scan_parquet(files), features, num_rows=num_rows)
    return Dataset.from_plan(plan, info=DatasetInfo.from_dict(info), split=split)
