"""Writing datasets to files: parquet that ``datasets`` reads with the same Features, JSON
lines, CSV, and ``save_to_disk`` folders; every write atomic (a temporary sibling renamed
over the target), so a failure leaves nothing half-written.

Examples
--------
>>> import os, tempfile, polars as pl
>>> from crucible_polars.plan import Plan
>>> path = os.path.join(tempfile.mkdtemp(), "a.parquet")
>>> write_parquet_file(Plan.from_frame(pl.DataFrame({"a": [1]})), DatasetInfo(), path)
>>> pl.read_parquet(path)["a"].to_list()
[1]
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa

from crucible_polars.info import DatasetInfo
from crucible_polars.plan import Plan
from crucible_polars.readers.parquet import write_parquet

DATA_FILE_TEMPLATE = "data-{index:05d}-of-{count:05d}.parquet"
INFO_FILE = "dataset_info.json"
DICT_FILE = "dataset_dict.json"


def atomic_write(target: Path, write: Callable[[str], Any], *, is_dir: bool = False) -> None:
    """Write to a temporary sibling, then rename over ``target``; nothing half-written remains.

    Parameters
    ----------
    target
        The file or folder to create or replace.
    write
        Writes the content at the temporary path it is given.
    is_dir
        ``target`` is a folder.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "x.txt"
    >>> atomic_write(target, lambda tmp: Path(tmp).write_text("hi"))
    >>> target.read_text()
    'hi'
    """
    target = target.expanduser().resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    if is_dir:
        tmp = tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            write(tmp)
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def parquet_arrow_schema(plan: Plan, info: DatasetInfo) -> pa.Schema:
    """The features' Arrow schema with the ``huggingface`` metadata (info plus features)
    that ``datasets`` reads back from a parquet file.

    Examples
    --------
    >>> import polars as pl
    >>> schema = parquet_arrow_schema(Plan.from_frame(pl.DataFrame({"a": [1]})), DatasetInfo())
    >>> b"huggingface" in schema.metadata
    True
    """
    meta = {k: v for k, v in info.to_dict().items() if v not in (None, "", {})}
    meta["features"] = plan.features.to_dict()
    schema = plan.features.to_arrow_schema()
    return schema.with_metadata({"huggingface": json.dumps({"info": meta}, default=str)})


def write_parquet_file(
    plan: Plan, info: DatasetInfo, path: str | os.PathLike[str], **kwargs: Any
) -> None:
    """Stream ``plan`` into one parquet file with the ``huggingface`` metadata, atomically.

    Parameters
    ----------
    plan
        What to write.
    info
        Written into the metadata beside the features.
    path
        The parquet file.
    **kwargs
        Passed to the parquet writer (e.g. ``compression=``).

    Examples
    --------
    >>> import tempfile, polars as pl
    >>> path = os.path.join(tempfile.mkdtemp(), "a.parquet")
    >>> write_parquet_file(Plan.from_frame(pl.DataFrame({"a": [1]})), DatasetInfo(), path)
    >>> os.path.exists(path)
    True
    """
    schema = parquet_arrow_schema(plan, info)
    atomic_write(
        Path(path), lambda tmp: plan.run(lambda: write_parquet(plan.lf, tmp, schema, **kwargs))
    )


def write_dataset_folder(
    plan: Plan, info: DatasetInfo, split: str | None, folder: Path, num_shards: int = 1
) -> None:
    """Write parquet shards plus ``dataset_info.json`` into ``folder`` (not atomic by itself:
    :func:`save_dataset` and ``DatasetDict.save_to_disk`` call it inside a temporary folder).

    Parameters
    ----------
    plan, info, split
        The dataset's plan, info and split name.
    folder
        Where to write (created if missing).
    num_shards
        Number of parquet files (at most one per row).

    Examples
    --------
    >>> import tempfile, polars as pl
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_dataset_folder(Plan.from_frame(pl.DataFrame({"a": [1]})), DatasetInfo(), None, folder)
    >>> sorted(os.listdir(folder))
    ['data-00000-of-00001.parquet', 'dataset_info.json']
    """
    folder.mkdir(parents=True, exist_ok=True)
    schema = parquet_arrow_schema(plan, info)
    n = plan.row_count()
    shards = max(1, min(num_shards, n)) if n else 1
    for index in range(shards):
        start, stop = index * n // shards, (index + 1) * n // shards
        target = folder / DATA_FILE_TEMPLATE.format(index=index, count=shards)
        shard = plan.lf.slice(start, stop - start)
        plan.run(partial(write_parquet, shard, str(target), schema))
    saved = info.to_dict()
    saved["features"] = plan.features.to_dict()
    saved["split"] = split
    saved["num_rows"] = n
    (folder / INFO_FILE).write_text(json.dumps(saved, indent=2, default=str))


def save_dataset(
    plan: Plan,
    info: DatasetInfo,
    split: str | None,
    path: str | os.PathLike[str],
    *,
    num_shards: int = 1,
) -> None:
    """Save parquet shards plus ``dataset_info.json`` into a folder that appears whole or not
    at all (what ``Dataset.save_to_disk`` writes).

    Parameters
    ----------
    plan, info, split
        The dataset's plan, info and split name.
    path
        The folder.
    num_shards
        Number of parquet files (at most one per row).

    Examples
    --------
    >>> import tempfile, polars as pl
    >>> folder = os.path.join(tempfile.mkdtemp(), "saved")
    >>> save_dataset(Plan.from_frame(pl.DataFrame({"a": [1]})), DatasetInfo(), None, folder)
    >>> sorted(os.listdir(folder))
    ['data-00000-of-00001.parquet', 'dataset_info.json']
    """
    atomic_write(
        Path(path),
        lambda tmp: write_dataset_folder(plan, info, split, Path(tmp), num_shards),
        is_dir=True,
    )
