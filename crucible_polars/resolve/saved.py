"""Reading ``save_to_disk`` folders: parquet shards plus ``dataset_info.json`` (Features,
``split``, ``num_rows``), and ``dataset_dict.json`` naming the splits of a ``DatasetDict``.

Examples
--------
>>> import tempfile, polars as pl
>>> from crucible_polars.info import DatasetInfo
>>> from crucible_polars.writers import write_dataset_folder
>>> folder = Path(tempfile.mkdtemp())
>>> plan = Plan.from_frame(pl.DataFrame({"a": [1, 2]}))
>>> write_dataset_folder(plan, DatasetInfo(), "train", folder)
>>> saved = load_saved_split(folder)
>>> saved.split, saved.plan.collect()["a"].to_list()
('train', [1, 2])
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from crucible_polars.errors import DataFilesNotFoundError
from crucible_polars.features import Features
from crucible_polars.plan import Plan
from crucible_polars.writers import DICT_FILE, INFO_FILE

__all__ = ["SavedSplit", "load_saved_split", "saved_splits"]


@dataclass(frozen=True)
class SavedSplit:
    """One saved split: its plan, the ``dataset_info.json`` fields left, and its name."""

    plan: Plan
    info: dict[str, Any]
    split: str | None


def saved_splits(folder: Path) -> list[str] | None:
    """The split names of a saved ``DatasetDict`` folder, ``None`` for a single dataset.

    Raises :class:`~crucible_polars.errors.DataFilesNotFoundError` for a folder that
    ``save_to_disk`` did not write.

    Examples
    --------
    >>> import tempfile
    >>> saved_splits(Path(tempfile.mkdtemp()))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crucible_polars.errors...DataFilesNotFoundError: ...
    """
    if (folder / DICT_FILE).is_file():
        return list(json.loads((folder / DICT_FILE).read_text())["splits"])
    if (folder / INFO_FILE).is_file():
        return None
    raise DataFilesNotFoundError(
        str(folder), f"It holds no {INFO_FILE} or {DICT_FILE}; was it written by save_to_disk?"
    )


def load_saved_split(folder: Path) -> SavedSplit:
    """The lazy plan (a scan of the shards) of one ``save_to_disk`` folder, its info and split."""
    info = json.loads((folder / INFO_FILE).read_text())
    files = sorted(str(p) for p in folder.glob("*.parquet"))
    if not files:
        raise DataFilesNotFoundError(str(folder / "*.parquet"))
    features = Features.from_dict(info.pop("features"))
    split, num_rows = info.pop("split", None), info.pop("num_rows", None)
    return SavedSplit(Plan(pl.scan_parquet(files), features, num_rows=num_rows), info, split)
