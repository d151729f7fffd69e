"""Materialized rows: the Arrow IPC files random access writes (see
:mod:`crucible_polars.materialize`), kept beside the Hub cache in the crucible_polars cache."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from crucible_polars.cache.common import parse_duration
from crucible_polars.materialize import cache_folder


@dataclass(frozen=True)
class MaterializedRows:
    """What the materialized-rows folder holds.

    Parameters
    ----------
    folder, files, size_on_disk
        The attributes of the same names (see Attributes).

    Attributes
    ----------
    folder : str
        Where the files are.
    files : int
        How many row files.
    size_on_disk : int
        Their size in bytes.

    Examples
    --------
    >>> MaterializedRows("/tmp/materialized", 2, 2048).files
    2
    """

    folder: str
    files: int
    size_on_disk: int


def materialized_info() -> MaterializedRows:
    """The files random access wrote, and their size.

    Examples
    --------
    >>> materialized_info().folder.endswith("materialized")
    True
    """
    folder = cache_folder()
    files = list(folder.glob("*.arrow")) if folder.is_dir() else []
    size = sum(f.stat().st_size for f in files)
    return MaterializedRows(str(folder), len(files), size)


def clear_materialized(older_than: str | timedelta | None = None) -> int:
    """Remove materialized rows (all, or those not used for ``older_than``); the next random
    access writes them again. Returns the bytes freed.

    Parameters
    ----------
    older_than
        Only files not read or written for this long (``"7d"``, a ``timedelta``).

    Examples
    --------
    >>> clear_materialized(older_than="3650d")
    0
    """
    folder = cache_folder()
    if not folder.is_dir():
        return 0
    cutoff = None
    if older_than is not None:
        age = parse_duration(older_than)
        cutoff = time.time() - age.total_seconds()
    freed = 0
    for path in folder.glob("*.arrow"):
        stat = path.stat()
        if cutoff is not None and max(stat.st_atime, stat.st_mtime) >= cutoff:
            continue
        path.unlink(missing_ok=True)
        freed += stat.st_size
    return freed
