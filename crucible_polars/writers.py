"""Writing datasets to files: parquet that ``datasets`` reads with the same Features, and
the names of ``save_to_disk`` folders (written by :mod:`crucible_polars.save_disk`); every
write atomic (a temporary sibling renamed over the target), so a failure leaves nothing
half-written.

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

import glob
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from crucible_polars.info import DatasetInfo
from crucible_polars.materialize import streamable
from crucible_polars.plan import Plan
from crucible_polars.progress import tracked
from crucible_polars.readers.parquet import write_parquet

DATA_FILE_TEMPLATE = "data-{index:05d}-of-{count:05d}.arrow"
INFO_FILE = "dataset_info.json"
DICT_FILE = "dataset_dict.json"
STATE_FILE = "state.json"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _temporary_name(target: Path, kind: str) -> Path:
    """A sibling of ``target`` only this process uses: ``.{name}.{kind}-{pid}-{random}.tmp``."""
    return target.parent / f".{target.name}.{kind}-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"


def _leftovers(target: Path, kind: str) -> list[Path]:
    """Temporary siblings of ``target`` left by processes that are gone (killed mid-save)."""
    found = []
    for path in target.parent.glob(f".{glob.escape(target.name)}.{kind}-*.tmp"):
        pid = path.name[len(target.name) + len(kind) + 3 :].split("-", 1)[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            found.append(path)
    return sorted(found)


def recover_interrupted_save(target: Path) -> None:
    """Finish what a save killed between its two renames left: the old folder set aside and
    no folder at ``target`` (put the old one back), and temporary folders of dead processes
    (removed).

    Parameters
    ----------
    target
        The folder a save writes.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "saved"
    >>> aside = target.parent / ".saved.old-999999999-0.tmp"
    >>> aside.mkdir()
    >>> recover_interrupted_save(target)
    >>> target.is_dir(), aside.exists()
    (True, False)
    """
    olds = _leftovers(target, "old")
    if olds and not target.exists():
        os.replace(olds.pop(), target)
    for path in [*olds, *_leftovers(target, "new")]:
        shutil.rmtree(path, ignore_errors=True)


def atomic_write(target: Path, write: Callable[[str], Any], *, is_dir: bool = False) -> None:
    """Write to a temporary sibling, then rename over ``target``; nothing half-written remains.

    A folder replacing an existing one: the old folder is renamed aside, the new one renamed
    in, then the old one deleted, so a process killed at any point leaves either folder whole
    (:func:`recover_interrupted_save` puts the old one back if it was killed in between).

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
        recover_interrupted_save(target)
        tmp = _temporary_name(target, "new")
        tmp.mkdir()
        try:
            write(str(tmp))
            if target.exists():
                aside = _temporary_name(target, "old")
                os.replace(target, aside)
                os.replace(tmp, target)
                shutil.rmtree(aside, ignore_errors=True)
            else:
                os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return
    fd, tmp_file = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(tmp_file)
        os.replace(tmp_file, target)
    except BaseException:
        Path(tmp_file).unlink(missing_ok=True)
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
    plan = streamable(plan)
    with tracked(plan.known_rows(), "Creating parquet from Arrow format") as bar:
        kwargs["on_rows"] = bar.update
        atomic_write(
            Path(path), lambda tmp: plan.run(lambda: write_parquet(plan.lf, tmp, schema, **kwargs))
        )
