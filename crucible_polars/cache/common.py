"""Shared helpers of :mod:`crucible_polars.cache`: units, formatting, scanning the cache.

Public inside the package (the cache modules and the ``info`` report of :mod:`crucible_polars.hub`
use them); :mod:`crucible_polars.cache` re-exports the ones meant for users.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from crucible_polars.catalog import resolve_short_name

if TYPE_CHECKING:  # pragma: no cover
    from huggingface_hub import CachedRepoInfo, CachedRevisionInfo, HFCacheInfo

_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "m": 10**6,
    "mb": 10**6,
    "g": 10**9,
    "gb": 10**9,
    "t": 10**12,
    "tb": 10**12,
    "ki": 2**10,
    "kib": 2**10,
    "mi": 2**20,
    "mib": 2**20,
    "gi": 2**30,
    "gib": 2**30,
    "ti": 2**40,
    "tib": 2**40,
}
_DURATION_UNITS = {
    "s": 1,
    "sec": 1,
    "m": 60,
    "min": 60,
    "h": 3600,
    "d": 86400,
    "w": 7 * 86400,
    "mo": 30 * 86400,
    "y": 365 * 86400,
}


def parse_size(value: int | float | str) -> int:
    """Bytes from ``10GB`` / ``1.5GiB`` / ``500MB`` / a number of bytes.

    Decimal units (``kB MB GB TB``, as ``huggingface_hub`` prints sizes) and binary units
    (``KiB MiB GiB TiB``) are accepted, case-insensitively.

    Parameters
    ----------
    value
        A number of bytes, or a string with a unit.

    Raises
    ------
    ValueError
        For negative or malformed values.

    Examples
    --------
    >>> parse_size("500mb"), parse_size("2 GiB"), parse_size(0)
    (500000000, 2147483648, 0)
    """
    if isinstance(value, bool):
        raise ValueError(f"Invalid size {value!r}: expected bytes or a string like '10GB'.")
    if isinstance(value, int | float):
        number, unit = float(value), ""
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", str(value))
        if match is None or match.group(2).lower() not in _SIZE_UNITS:
            raise ValueError(
                f"Invalid size {value!r}: use a number of bytes or a string like '500MB', "
                "'10GB' or '2GiB'."
            )
        number, unit = float(match.group(1)), match.group(2).lower()
    if number < 0:
        raise ValueError(f"Invalid size {value!r}: sizes cannot be negative.")
    return int(number * _SIZE_UNITS[unit])


def parse_duration(value: timedelta | int | float | str) -> timedelta:
    """A :class:`~datetime.timedelta` from ``"7d"``, ``"12h"``, ``"1h30m"``, seconds, or itself.

    Units: ``s``, ``m``/``min``, ``h``, ``d``, ``w``, ``mo`` (30 days), ``y`` (365 days).

    Parameters
    ----------
    value
        A ``timedelta``, a number of seconds, or a string such as ``"1h30m"``.

    Examples
    --------
    >>> parse_duration("2w") == timedelta(days=14), parse_duration(90)
    (True, datetime.timedelta(seconds=90))
    """
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        text = str(value).strip().lower()
        parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)\s*", text)
        if not parts or "".join(f"{n}{u}" for n, u in parts) != re.sub(r"\s+", "", text):
            parts = []
        if not parts or any(unit not in _DURATION_UNITS and unit != "" for _, unit in parts):
            raise ValueError(
                f"Invalid duration {value!r}: use e.g. '7d', '12h', '30m', '2w' or seconds."
            )
        seconds = sum(float(n) * _DURATION_UNITS.get(u, 1) for n, u in parts)
    if seconds < 0:
        raise ValueError(f"Invalid duration {value!r}: durations cannot be negative.")
    return timedelta(seconds=seconds)


def format_size(num_bytes: int) -> str:
    """A size for people: ``1.2 MB`` (decimal units, like ``huggingface_hub``).

    Parameters
    ----------
    num_bytes
        The size in bytes.

    Examples
    --------
    >>> format_size(999), format_size(1_234_567)
    ('999 B', '1.2 MB')
    """
    size = float(num_bytes)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(size) < 1000 or unit == "TB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")  # pragma: no cover


def ago(moment: datetime | None) -> str:
    """How long ago ``moment`` was, coarsely (``3d ago``); ``-`` for ``None``.

    Parameters
    ----------
    moment
        A timezone-aware time, or ``None``.

    Examples
    --------
    >>> ago(None), ago(datetime.now(timezone.utc) - timedelta(hours=5))
    ('-', '5h ago')
    """
    if moment is None:
        return "-"
    seconds = max(0.0, time.time() - moment.timestamp())
    for unit, length in (("y", 365 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= length:
            return f"{int(seconds // length)}{unit} ago"
    return "just now"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: left-aligned columns under a dashed header rule.

    Parameters
    ----------
    headers
        The column titles.
    rows
        The cells, as strings.

    Examples
    --------
    >>> print(format_table(["SPLIT", "ROWS"], [["train", "10"], ["test", "2"]]))
    SPLIT  ROWS
    -----  ----
    train  10
    test   2
    """
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def default_cache_dir() -> Path:
    """The ``huggingface_hub`` cache folder (``HF_HUB_CACHE``, else ``$HF_HOME/hub``).

    Examples
    --------
    >>> default_cache_dir().name
    'hub'
    """
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE).expanduser()


def cache_path(cache_dir: str | os.PathLike[str] | None) -> Path:
    """The cache folder to use: ``cache_dir``, else :func:`default_cache_dir`.

    Parameters
    ----------
    cache_dir
        A folder, or ``None`` for the default.

    Raises
    ------
    NotADirectoryError
        The path is a file.

    Examples
    --------
    >>> cache_path("/tmp/some-cache").as_posix()
    '/tmp/some-cache'
    """
    path = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"Cache path {str(path)!r} is a file, not a cache folder.")
    return path


def scan_cache(path: Path) -> HFCacheInfo | None:
    """``huggingface_hub.scan_cache_dir`` of ``path``, or ``None`` when there is no cache yet.

    Parameters
    ----------
    path
        The cache folder.

    Examples
    --------
    >>> scan_cache(Path("/nonexistent-cache")) is None
    True
    """
    from huggingface_hub import scan_cache_dir

    if not path.is_dir():
        return None
    return scan_cache_dir(path)


def dataset_repos(scan: HFCacheInfo | None) -> list[CachedRepoInfo]:
    """The dataset repositories of a scan (models and spaces left out), sorted by id.

    Parameters
    ----------
    scan
        A :func:`scan_cache` result.

    Examples
    --------
    >>> dataset_repos(None)
    []
    """
    if scan is None:
        return []
    return sorted((r for r in scan.repos if r.repo_type == "dataset"), key=lambda r: r.repo_id)


def timestamp(seconds: float) -> datetime:
    """A POSIX time as a UTC datetime.

    Parameters
    ----------
    seconds
        Seconds since the epoch.

    Examples
    --------
    >>> timestamp(0).isoformat()
    '1970-01-01T00:00:00+00:00'
    """
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def last_used(revision: CachedRevisionInfo) -> float:
    """When a cached revision was last used: the latest access or change of its blobs.

    Parameters
    ----------
    revision
        A revision of a :func:`scan_cache` result.

    Examples
    --------
    >>> last_used  # doctest: +ELLIPSIS
    <function last_used at ...>
    """
    if not revision.files:
        return revision.snapshot_path.stat().st_mtime
    return max(max(f.blob_last_accessed, f.blob_last_modified) for f in revision.files)


def repo_last_used(repo: CachedRepoInfo) -> float:
    """When a cached repository was last used (accessed or modified).

    Parameters
    ----------
    repo
        A repository of a :func:`scan_cache` result.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> repo_last_used(SimpleNamespace(last_accessed=5.0, last_modified=7.0))
    7.0
    """
    return max(repo.last_accessed, repo.last_modified)


def match_repos(repos: Sequence[CachedRepoInfo], repo: str) -> list[CachedRepoInfo]:
    """The cached repositories named ``repo``: an ``owner/name`` id or a catalog short name.

    Parameters
    ----------
    repos
        Cached repositories (:func:`dataset_repos`).
    repo
        The id, or a short name such as ``"gsm8k"``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> cached = [SimpleNamespace(repo_id="openai/gsm8k"), SimpleNamespace(repo_id="o/x")]
    >>> [r.repo_id for r in match_repos(cached, "gsm8k")]
    ['openai/gsm8k']
    """
    matched = [r for r in repos if r.repo_id == repo]
    if not matched and "/" not in repo:
        resolved = resolve_short_name(repo)
        matched = [r for r in repos if r.repo_id in {resolved, repo}]
    return matched
