"""Reading a folder written by ``save_to_disk``: one split (parquet shards plus
``dataset_info.json``) or a dict of splits (``dataset_dict.json`` naming sub-folders).

Used by :func:`crucible_polars.load_from_disk`, ``Dataset.load_from_disk`` and
``DatasetDict.load_from_disk``; it returns plans, not datasets, so the classes can use it.

Examples
--------
>>> import os, tempfile
>>> from crucible_polars import Dataset
>>> folder = os.path.join(tempfile.mkdtemp(), "saved")
>>> Dataset.from_dict({"a": [1]}).save_to_disk(folder)
>>> plan, info, split = read_saved_split(folder)
>>> plan.collect()["a"].to_list()
[1]
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl

from crucible_polars.errors import DataFilesNotFoundError
from crucible_polars.features import Features
from crucible_polars.info import DatasetInfo
from crucible_polars.plan import Plan
from crucible_polars.writers import DICT_FILE, INFO_FILE

__all__ = ["read_saved_split", "saved_split_names"]


def saved_split_names(path: str | os.PathLike[str]) -> list[str] | None:
    """The split names of a saved ``DatasetDict`` folder, or ``None`` for a single split.

    Raises
    ------
    DataFilesNotFoundError
        The folder holds neither ``dataset_dict.json`` nor ``dataset_info.json``.

    Examples
    --------
    >>> import tempfile
    >>> saved_split_names(tempfile.mkdtemp())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crucible_polars.errors...DataFilesNotFoundError: ...
    """
    folder = Path(path).expanduser()
    if (folder / DICT_FILE).is_file():
        splits: list[str] = json.loads((folder / DICT_FILE).read_text())["splits"]
        return splits
    if (folder / INFO_FILE).is_file():
        return None
    raise DataFilesNotFoundError(
        str(folder), f"It holds no {INFO_FILE} or {DICT_FILE}; was it written by save_to_disk?"
    )


def read_saved_split(path: str | os.PathLike[str]) -> tuple[Plan, DatasetInfo, str | None]:
    """The plan (a lazy scan of the shards), info and split name of a saved split."""
    folder = Path(path).expanduser()
    info = json.loads((folder / INFO_FILE).read_text())
    files = sorted(str(p) for p in folder.glob("*.parquet"))
    if not files:
        raise DataFilesNotFoundError(str(folder / "*.parquet"))
    features = Features.from_dict(info.pop("features"))
    split, num_rows = info.pop("split", None), info.pop("num_rows", None)
    plan = Plan(pl.scan_parquet(files), features, num_rows=num_rows)
    return plan, DatasetInfo.from_dict(info), split
