"""Reading ``save_to_disk`` folders: ``datasets``' layout (Arrow IPC shards listed in
``state.json``, Features in ``dataset_info.json``) and the parquet layout this package wrote
before (parquet shards, ``dataset_info.json`` with ``split`` and ``num_rows``).

The shard list and row count are checked: a folder missing a shard, or whose rows do not
add up to the count it recorded, raises an error naming it rather than loading short.

A folder behind an fsspec URL (``s3://``, ``memory://``, ``file://``..., with
``storage_options``) is copied once into the cache (:func:`saved_folder`), as ``datasets``
downloads it, and read from there.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crucible_polars.errors import DataFilesNotFoundError, SavedDatasetError
from crucible_polars.features import Features
from crucible_polars.plan import Plan
from crucible_polars.readers import arrow, scan_files
from crucible_polars.sources.open import cache_root
from crucible_polars.sources.upload import local_path
from crucible_polars.writers import DICT_FILE, INFO_FILE, STATE_FILE


@dataclass(frozen=True)
class SavedSplit:
    """One saved split: its plan, the ``dataset_info.json`` fields left, and its name."""

    plan: Plan
    info: dict[str, Any]
    split: str | None


def saved_folder(
    path: str | os.PathLike[str], storage_options: Mapping[str, Any] | None = None
) -> Path:
    """The local folder of a ``save_to_disk`` folder given as a path or an fsspec URL.

    A local path (or ``file://`` URL) is returned as it is. Any other URL is listed through
    ``fsspec`` (with ``storage_options``) and copied once into ``<cache>/downloads``, keyed
    by the URL and its files' sizes and times, so a second load copies nothing.

    Parameters
    ----------
    path
        A folder, or an fsspec URL of one.
    storage_options
        Options of the URL's file system (``fsspec``'s names), as ``datasets`` takes them.

    Raises
    ------
    DataFilesNotFoundError
        The URL holds no file.

    Examples
    --------
    >>> import fsspec
    >>> fsspec.filesystem("memory").pipe("/saved-doc/state.json", b"{}")
    >>> sorted(p.name for p in saved_folder("memory://saved-doc").iterdir())
    ['state.json']
    >>> saved_folder("file:///tmp/x")
    PosixPath('/tmp/x')
    """
    local = local_path(path, storage_options)
    if local is not None:
        return local
    import fsspec

    text = os.fspath(path)

    fs, root = fsspec.core.url_to_fs(text, **dict(storage_options or {}))
    listing: dict[str, Any] = fs.find(root, detail=True)
    prefix = root.rstrip("/") + "/"
    files = {name[len(prefix) :]: info for name, info in listing.items() if name.startswith(prefix)}
    if not files:
        raise DataFilesNotFoundError(text, "No folder written by save_to_disk is there.")
    stamp = sorted((rel, info.get("size"), str(_file_time(info))) for rel, info in files.items())
    key = hashlib.sha256(json.dumps([text, stamp]).encode()).hexdigest()[:32]
    target = cache_root() / "downloads" / f"saved-{key}"
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        for rel in files:
            local = tmp / rel
            local.parent.mkdir(parents=True, exist_ok=True)
            with fs.open(prefix + rel, "rb") as src, open(local, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        try:
            os.replace(tmp, target)
        except OSError:  # another process copied it first
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _file_time(info: Mapping[str, Any]) -> Any:
    for name in ("mtime", "LastModified", "last_modified", "ETag", "etag", "created"):
        if info.get(name) is not None:
            return info[name]
    return None


def saved_splits(folder: Path) -> list[str] | None:
    """The split names of a saved ``DatasetDict`` folder, ``None`` for a single dataset.

    Raises :class:`~crucible_polars.errors.DataFilesNotFoundError` for a folder that
    ``save_to_disk`` did not write.
    """
    if (folder / DICT_FILE).is_file():
        return list(json.loads((folder / DICT_FILE).read_text())["splits"])
    if (folder / STATE_FILE).is_file() or (folder / INFO_FILE).is_file():
        return None
    raise DataFilesNotFoundError(
        str(folder),
        f"It holds no {STATE_FILE}, {INFO_FILE} or {DICT_FILE}, so save_to_disk did not write "
        "it. For data files use load_dataset(path) or load_dataset(format, data_files=...).",
    )


def load_saved_split(folder: Path) -> SavedSplit:
    """The lazy plan of one ``save_to_disk`` folder (either layout), its shards checked.

    Examples
    --------
    >>> import tempfile, polars as pl
    >>> from crucible_polars.info import DatasetInfo
    >>> from crucible_polars.save_disk import write_dataset_folder
    >>> folder = Path(tempfile.mkdtemp())
    >>> plan = Plan.from_frame(pl.DataFrame({"a": [1, 2]}))
    >>> write_dataset_folder(plan, DatasetInfo(), "train", folder)
    >>> saved = load_saved_split(folder)
    >>> saved.split, saved.plan.collect()["a"].to_list()
    ('train', [1, 2])
    """
    info = json.loads((folder / INFO_FILE).read_text()) if (folder / INFO_FILE).is_file() else {}
    if not (folder / STATE_FILE).is_file():
        return _parquet_layout(folder, info)
    state = json.loads((folder / STATE_FILE).read_text())
    files = [str(folder / entry["filename"]) for entry in state.get("_data_files", [])]
    missing = [Path(f).name for f in files if not Path(f).is_file()]
    if missing:
        raise SavedDatasetError(str(folder), f"shard {', '.join(missing)} is missing")
    if not files:
        raise SavedDatasetError(str(folder), f"{STATE_FILE} lists no data file")
    scan = arrow.scan(files, {})
    stored = info.pop("features", None)
    features = Features.from_dict(stored) if stored else scan.features
    if features is None or list(features) != scan.lf.collect_schema().names():
        features = Features.from_polars(scan.lf.collect_schema())
    rows = sum(arrow.count_rows(f) for f in files)
    expected = info.pop("num_rows", None)
    if expected is not None and expected != rows:
        raise SavedDatasetError(
            str(folder), f"its shards hold {rows} rows, {INFO_FILE} records {expected}"
        )
    info.pop("split", None)
    return SavedSplit(Plan(scan.lf, features, num_rows=rows), info, state.get("_split"))


def _parquet_layout(folder: Path, info: dict[str, Any]) -> SavedSplit:
    files = sorted(str(p) for p in folder.glob("*.parquet"))
    if not files:
        raise DataFilesNotFoundError(str(folder / "*.parquet"))
    stored = info.pop("features", None)
    scan = scan_files("parquet", files)
    features = Features.from_dict(stored) if stored else scan.features
    split, num_rows = info.pop("split", None), info.pop("num_rows", None)
    return SavedSplit(Plan(scan.lf, features, num_rows=num_rows), info, split)
