"""``cp.cache.info()``: what the Hub cache holds, for dataset repositories."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from crucible_polars.cache.common import (
    ago,
    cache_path,
    dataset_repos,
    format_size,
    format_table,
    last_used,
    repo_last_used,
    scan_cache,
    timestamp,
)


@dataclass(frozen=True)
class CacheInfo:
    """What the Hub cache holds, for dataset repositories.

    Parameters
    ----------
    cache_dir, size_on_disk, num_datasets, num_revisions, num_files, last_accessed
        The attributes of the same names (see Attributes).
    incomplete_size, datasets, revisions, warnings
        The attributes of the same names (see Attributes).

    Attributes
    ----------
    cache_dir : Path
        The cache folder scanned.
    size_on_disk : int
        Bytes of the cached dataset files.
    num_datasets, num_revisions, num_files : int
        Cached dataset repositories, revisions (commits) and files (blobs).
    last_accessed : datetime or None
        When a cached dataset file was last used.
    incomplete_size : int
        Bytes of interrupted (or running) downloads (``*.incomplete`` blobs).
    datasets : polars.DataFrame
        One row per repository: ``repo_id``, ``revisions``, ``refs``, ``files``,
        ``size_on_disk``, ``last_accessed``, ``last_modified``, ``path``.
    revisions : polars.DataFrame
        One row per cached revision: ``repo_id``, ``revision``, ``refs``, ``files``,
        ``size_on_disk``, ``last_used``, ``path``.
    warnings : tuple of str
        Problems ``scan_cache_dir`` found (e.g. a broken snapshot it skipped).

    Examples
    --------
    >>> import tempfile
    >>> print(info(cache_dir=tempfile.mkdtemp()))  # doctest: +ELLIPSIS
    Hub cache ...: 0 datasets, 0 files, 0 B
    """

    cache_dir: Path
    size_on_disk: int
    num_datasets: int
    num_revisions: int
    num_files: int
    last_accessed: datetime | None
    incomplete_size: int
    datasets: pl.DataFrame
    revisions: pl.DataFrame
    warnings: tuple[str, ...] = ()

    def to_polars(self) -> pl.DataFrame:
        """The per-dataset table (:attr:`datasets`).

        Examples
        --------
        >>> import tempfile
        >>> info(cache_dir=tempfile.mkdtemp()).to_polars().columns[:3]
        ['repo_id', 'revisions', 'refs']
        """
        return self.datasets

    def __repr__(self) -> str:
        return (
            f"CacheInfo({str(self.cache_dir)!r}: {self.num_datasets} datasets, "
            f"{self.num_files} files, {format_size(self.size_on_disk)})"
        )

    def __str__(self) -> str:
        lines = [
            f"Hub cache {self.cache_dir}: {_count(self.num_datasets, 'dataset')}, "
            f"{_count(self.num_files, 'file')}, "
            f"{format_size(self.size_on_disk)}"
            + (f", last used {ago(self.last_accessed)}" if self.last_accessed else "")
        ]
        if self.incomplete_size:
            lines.append(f"Incomplete downloads: {format_size(self.incomplete_size)}")
        if self.num_datasets:
            rows = [
                [
                    row["repo_id"],
                    str(row["revisions"]),
                    str(row["files"]),
                    format_size(row["size_on_disk"]),
                    ago(row["last_accessed"]),
                    ", ".join(row["refs"]) or "(detached)",
                ]
                for row in self.datasets.iter_rows(named=True)
            ]
            headers = ["DATASET", "REVISIONS", "FILES", "SIZE", "LAST USED", "REFS"]
            lines += ["", format_table(headers, rows)]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


_DATASETS_SCHEMA = pl.Schema(
    {
        "repo_id": pl.String(),
        "revisions": pl.Int64(),
        "refs": pl.List(pl.String()),
        "files": pl.Int64(),
        "size_on_disk": pl.Int64(),
        "last_accessed": pl.Datetime("us", "UTC"),
        "last_modified": pl.Datetime("us", "UTC"),
        "path": pl.String(),
    }
)
_REVISIONS_SCHEMA = pl.Schema(
    {
        "repo_id": pl.String(),
        "revision": pl.String(),
        "refs": pl.List(pl.String()),
        "files": pl.Int64(),
        "size_on_disk": pl.Int64(),
        "last_used": pl.Datetime("us", "UTC"),
        "path": pl.String(),
    }
)


def info(cache_dir: str | os.PathLike[str] | None = None) -> CacheInfo:
    """Summarize the dataset repositories in the Hub cache (nothing is read from the network).

    Parameters
    ----------
    cache_dir : path-like, optional
        The cache folder; default :func:`default_cache_dir`. A missing folder is an empty cache.

    Returns
    -------
    CacheInfo
        ``print()`` it for a table; ``.datasets`` / ``.revisions`` are DataFrames.

    Examples
    --------
    >>> import tempfile
    >>> summary = info(cache_dir=tempfile.mkdtemp())
    >>> summary.num_datasets, summary.size_on_disk, summary.datasets.height
    (0, 0, 0)
    """
    path = cache_path(cache_dir)
    scan = scan_cache(path)
    repos = dataset_repos(scan)
    datasets = pl.DataFrame(
        [
            {
                "repo_id": r.repo_id,
                "revisions": len(r.revisions),
                "refs": sorted(r.refs),
                "files": r.nb_files,
                "size_on_disk": r.size_on_disk,
                "last_accessed": timestamp(repo_last_used(r)),
                "last_modified": timestamp(r.last_modified),
                "path": str(r.repo_path),
            }
            for r in repos
        ],
        schema=_DATASETS_SCHEMA,
    )
    revisions = pl.DataFrame(
        [
            {
                "repo_id": r.repo_id,
                "revision": rev.commit_hash,
                "refs": sorted(rev.refs),
                "files": rev.nb_files,
                "size_on_disk": rev.size_on_disk,
                "last_used": timestamp(last_used(rev)),
                "path": str(rev.snapshot_path),
            }
            for r in repos
            for rev in sorted(r.revisions, key=lambda v: v.commit_hash)
        ],
        schema=_REVISIONS_SCHEMA,
    )
    incomplete = sum(
        f.size_on_disk
        for f in (scan.incomplete_files if scan is not None else ())
        if f.file_path.parent.parent.name.startswith("datasets--")
    )
    last = max((repo_last_used(r) for r in repos), default=None)
    return CacheInfo(
        cache_dir=path,
        size_on_disk=sum(r.size_on_disk for r in repos),
        num_datasets=len(repos),
        num_revisions=revisions.height,
        num_files=sum(r.nb_files for r in repos),
        last_accessed=timestamp(last) if last is not None else None,
        incomplete_size=incomplete,
        datasets=datasets,
        revisions=revisions,
        warnings=tuple(str(w) for w in (scan.warnings if scan is not None else ())),
    )
