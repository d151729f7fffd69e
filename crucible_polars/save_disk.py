"""``save_to_disk`` folders in ``datasets``' layout, written to a local folder or an fsspec
URL: Arrow IPC stream shards (as many as ``num_shards``, or as ``max_shard_size`` needs,
counted as ``datasets`` counts them), ``state.json`` and ``dataset_info.json``; the folder
appears whole or not at all.

Examples
--------
>>> import tempfile, polars as pl
>>> folder = os.path.join(tempfile.mkdtemp(), "saved")
>>> save_dataset(Plan.from_frame(pl.DataFrame({"a": [1, 2]})), DatasetInfo(), None, folder)
>>> json.loads(Path(folder, STATE_FILE).read_text())["_data_files"]
[{'filename': 'data-00000-of-00001.arrow'}]
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa

from crucible_polars.info import DatasetInfo
from crucible_polars.materialize import streamable
from crucible_polars.plan import Plan
from crucible_polars.progress import tracked
from crucible_polars.readers.arrow import write_arrow_stream
from crucible_polars.sources.open import cache_root
from crucible_polars.sources.upload import local_path, upload_folder
from crucible_polars.writers import (
    DATA_FILE_TEMPLATE,
    DICT_FILE,
    INFO_FILE,
    STATE_FILE,
    atomic_write,
    parquet_arrow_schema,
)

MAX_SHARD_SIZE = "500MB"  # datasets.config.MAX_SHARD_SIZE


def shard_size_bytes(size: int | str) -> int:
    """A shard size in bytes, read as ``datasets`` reads ``max_shard_size``: a number of
    bytes, or digits and a unit (``"500MB"``, ``"1GiB"``; ``"8Mb"`` is in bits).

    Parameters
    ----------
    size
        Bytes, or a string with a unit (KB, MB, GB, TB, PB and KiB ... PiB).

    Raises
    ------
    ValueError
        For any other string.

    Examples
    --------
    >>> shard_size_bytes("500MB"), shard_size_bytes("1KiB"), shard_size_bytes("8Kb")
    (500000000, 1024, 1000)
    """
    if isinstance(size, int):
        return size
    upper = size.upper()
    for unit, power in (("PIB", 50), ("TIB", 40), ("GIB", 30), ("MIB", 20), ("KIB", 10)):
        if upper.endswith(unit) and size[:-3].isdigit():
            return int(size[:-3]) * 2**power
    for unit, power in (("PB", 15), ("TB", 12), ("GB", 9), ("MB", 6), ("KB", 3)):
        if upper.endswith(unit) and size[:-2].isdigit():
            number = int(size[:-2]) * 10**power
            return number // 8 if size.endswith("b") else number
    raise ValueError(
        f"max_shard_size={size!r} is not a size: give a number of bytes or digits and a unit, "
        "e.g. '500MB' or '1GiB'."
    )


def shard_count(
    nbytes: int, rows: int, max_shard_size: int | str | None, num_proc: int | None
) -> int:
    """How many shards ``datasets``' ``save_to_disk`` writes for ``nbytes`` of Arrow data
    when no ``num_shards`` is given: one more than the whole ``max_shard_size`` (500MB)
    shards it fills, at least ``num_proc``, at most one per row (and at least one).

    Parameters
    ----------
    nbytes
        The Arrow size of the rows.
    rows
        How many rows.
    max_shard_size
        The largest shard, in bytes or as ``"500MB"``; default 500MB.
    num_proc
        The least number of shards.

    Examples
    --------
    >>> shard_count(1_200, 10, 500, None), shard_count(10, 10, None, 4), shard_count(9, 2, 1, 1)
    (3, 4, 2)
    """
    size = shard_size_bytes(max_shard_size if max_shard_size is not None else MAX_SHARD_SIZE)
    if size <= 0:
        raise ValueError(f"max_shard_size must be positive, got {max_shard_size!r}.")
    return max(1, min(rows, max(int(nbytes / size) + 1, num_proc or 1)))


def _shard_names(count: int) -> list[str]:
    return [DATA_FILE_TEMPLATE.format(index=i, count=count) for i in range(count)]


def _bounds(rows: int, shards: int) -> list[tuple[int, int]]:
    """Each shard's ``(offset, length)``: contiguous, the first ``rows % shards`` shards one
    row longer (``datasets``' ``shard(contiguous=True)``)."""
    size, extra = divmod(rows, shards)
    return [(i * size + min(i, extra), size + (i < extra)) for i in range(shards)]


def _counted_shards(plan: Plan, folder: Path, schema: pa.Schema, num_shards: int) -> int:
    """Write ``num_shards`` shards (at most one per row) of contiguous rows; the rows."""
    n = plan.row_count()
    shards = max(1, min(num_shards, n)) if n else 1
    bounds = zip(_shard_names(shards), _bounds(n, shards), strict=True)
    with tracked(n, f"Saving the dataset (0/{shards} shards)") as bar:
        for index, (name, (offset, length)) in enumerate(bounds):
            write = partial(write_arrow_stream, on_rows=bar.update)
            plan.run(partial(write, plan.lf.slice(offset, length), str(folder / name), schema))
            bar.set_description(f"Saving the dataset ({index + 1}/{shards} shards)")
    return n


def _sized_shards(
    plan: Plan,
    folder: Path,
    schema: pa.Schema,
    max_shard_size: int | str | None,
    num_proc: int | None,
) -> tuple[int, int]:
    """Write the rows once, measure their Arrow size, and keep them as one shard or split
    them into :func:`shard_count` shards of contiguous rows; the rows and the shards."""
    shard_size_bytes(max_shard_size if max_shard_size is not None else MAX_SHARD_SIZE)
    whole = folder / ".rows.arrow"
    with tracked(plan.known_rows(), "Saving the dataset") as bar:
        write = partial(write_arrow_stream, on_rows=bar.update)
        n = plan.run(partial(write, plan.lf, str(whole), schema))
    with pa.memory_map(str(whole)) as source:
        table = pa.ipc.open_stream(source).read_all()  # mapped, not copied
        shards = shard_count(table.nbytes, n, max_shard_size, num_proc)
        if shards > 1:
            for name, (offset, length) in zip(
                _shard_names(shards), _bounds(n, shards), strict=True
            ):
                with pa.ipc.new_stream(str(folder / name), schema) as writer:
                    writer.write_table(table.slice(offset, length))
        del table
    if shards == 1:
        os.replace(whole, folder / _shard_names(1)[0])
    else:
        whole.unlink()
    return n, shards


def write_dataset_folder(
    plan: Plan,
    info: DatasetInfo,
    split: str | None,
    folder: Path,
    num_shards: int | None = 1,
    *,
    max_shard_size: int | str | None = None,
    num_proc: int | None = None,
) -> None:
    """Write one split as ``save_to_disk`` does into ``folder`` (not atomic by itself:
    :func:`save_dataset` and ``DatasetDict.save_to_disk`` call it inside a temporary folder).

    ``datasets``' layout: Arrow IPC stream shards (``data-00000-of-00001.arrow``, with the
    ``huggingface`` schema metadata), ``state.json`` (shard list, split) and
    ``dataset_info.json`` (info and Features), so that ``datasets.load_from_disk`` reads it.

    Parameters
    ----------
    plan, info, split
        The dataset's plan, info and split name.
    folder
        Where to write (created if missing).
    num_shards
        Number of data files (at most one per row); ``None``: as many as ``max_shard_size``
        needs, as ``datasets`` counts them (:func:`shard_count`).
    max_shard_size
        The largest shard (Arrow bytes, or ``"500MB"``), when ``num_shards`` is ``None``.
    num_proc
        The least number of shards, when ``num_shards`` is ``None`` (as in ``datasets``).

    Examples
    --------
    >>> import tempfile, polars as pl
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_dataset_folder(Plan.from_frame(pl.DataFrame({"a": [1]})), DatasetInfo(), None, folder)
    >>> sorted(os.listdir(folder))
    ['data-00000-of-00001.arrow', 'dataset_info.json', 'state.json']
    >>> plan = Plan.from_frame(pl.DataFrame({"a": [1, 2]}))
    >>> write_dataset_folder(plan, DatasetInfo(), "train", folder, num_shards=2)
    >>> json.loads((folder / STATE_FILE).read_text())["_data_files"][1]
    {'filename': 'data-00001-of-00002.arrow'}
    """
    folder.mkdir(parents=True, exist_ok=True)
    schema = parquet_arrow_schema(plan, info)
    plan = streamable(plan)
    if num_shards is None:
        n, shards = _sized_shards(plan, folder, schema, max_shard_size, num_proc)
    else:
        n = _counted_shards(plan, folder, schema, num_shards)
        shards = max(1, min(num_shards, n)) if n else 1
    saved = {k: v for k, v in info.to_dict().items() if k not in ("split", "num_rows")}
    saved["features"] = plan.features.to_dict()
    saved["num_rows"] = n  # checked on load (datasets ignores the key)
    (folder / INFO_FILE).write_text(json.dumps(saved, indent=2, default=str))
    state: dict[str, Any] = {
        "_data_files": [{"filename": name} for name in _shard_names(shards)],
        "_fingerprint": uuid.uuid4().hex[:16],
        "_format_columns": None,
        "_format_kwargs": {},
        "_format_type": None,
        "_output_all_columns": False,
        "_split": split,
    }
    (folder / STATE_FILE).write_text(json.dumps(state, indent=2))


def save_folder(
    path: str | os.PathLike[str],
    write: Callable[[str], Any],
    storage_options: dict[str, Any] | None = None,
) -> None:
    """Write a ``save_to_disk`` folder at a path or fsspec URL, whole or not at all: a
    local folder atomically (:func:`atomic_write`), a URL through a local temporary folder
    and :func:`~crucible_polars.sources.upload.upload_folder` (marker files last).

    Parameters
    ----------
    path
        The folder, or an fsspec URL of one (``s3://``, ``memory://``, ``file://``...).
    write
        Writes the folder's content at the local path it is given.
    storage_options
        Options of the URL's file system (``fsspec``'s names), as ``datasets`` takes them.

    Examples
    --------
    >>> import fsspec
    >>> save_folder("memory://save-doc/x", lambda tmp: Path(tmp, STATE_FILE).write_text("{}"))
    >>> fsspec.filesystem("memory").cat("/save-doc/x/state.json")
    b'{}'
    """
    local = local_path(path, storage_options)
    if local is not None:
        atomic_write(local, write, is_dir=True)
        return
    staging = cache_root() / "uploads"
    staging.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".save-", suffix=".tmp", dir=staging))
    try:
        write(str(tmp))
        markers = (INFO_FILE, STATE_FILE, DICT_FILE)  # what makes the folder loadable: last
        upload_folder(tmp, os.fspath(path), storage_options, last=markers)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def save_dataset(
    plan: Plan,
    info: DatasetInfo,
    split: str | None,
    path: str | os.PathLike[str],
    *,
    num_shards: int | None = 1,
    max_shard_size: int | str | None = None,
    num_proc: int | None = None,
    storage_options: dict[str, Any] | None = None,
) -> None:
    """Save a split (:func:`write_dataset_folder`) into a folder or fsspec URL that appears
    whole or not at all (:func:`save_folder`): what ``Dataset.save_to_disk`` writes.

    Parameters
    ----------
    plan, info, split
        The dataset's plan, info and split name.
    path
        The folder, or an fsspec URL of one.
    num_shards, max_shard_size, num_proc
        How many data files (see :func:`write_dataset_folder`).
    storage_options
        Options of the URL's file system.

    Examples
    --------
    >>> import tempfile, polars as pl
    >>> folder = os.path.join(tempfile.mkdtemp(), "saved")
    >>> save_dataset(Plan.from_frame(pl.DataFrame({"a": [1]})), DatasetInfo(), None, folder)
    >>> sorted(os.listdir(folder))
    ['data-00000-of-00001.arrow', 'dataset_info.json', 'state.json']
    """
    if max_shard_size is not None and num_shards is not None:
        raise ValueError("save_to_disk takes max_shard_size or num_shards, not both.")

    def write(tmp: str) -> None:
        folder = Path(tmp)
        write_dataset_folder(
            plan, info, split, folder, num_shards, max_shard_size=max_shard_size, num_proc=num_proc
        )

    save_folder(path, write, storage_options)
