"""``cp.cache.prune()`` and ``cp.cache.clear()``: choosing cached revisions and deleting them.

What this adds to ``huggingface_hub`` (whose ``hf cache prune`` only drops detached revisions)
is the choice: least recently used first until the cache fits a size, or unused for a time.
Deleting is ``huggingface_hub``'s documented ``HFCacheInfo.delete_revisions(...).execute()``,
preceded by one step: the refs of the chosen revisions are removed first, because ``execute``
removes a snapshot before its refs, and a ref left naming a missing snapshot would make
``scan_cache_dir`` skip the whole repository. An interrupted deletion thus leaves unreferenced
snapshots or blobs, which the next prune or clear removes.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from huggingface_hub import scan_cache_dir

from crucible_polars.cache.common import (
    ago,
    cache_path,
    dataset_repos,
    format_size,
    format_table,
    last_used,
    match_repos,
    parse_duration,
    parse_size,
    scan_cache,
    timestamp,
)

if TYPE_CHECKING:  # pragma: no cover
    from huggingface_hub import CachedRepoInfo, CachedRevisionInfo, HFCacheInfo


@dataclass(frozen=True)
class RemovedRevision:
    """One cached revision a prune or clear removed (or would remove, in a dry run).

    Parameters
    ----------
    repo_id
        The dataset repository.
    revision
        The commit removed.
    refs
        The branches or tags that pointed at it.
    size
        Bytes freed by removing it.
    last_used
        When its files were last used, if known.
    reason
        Why it was chosen: ``"clear"``, ``"older_than"`` or ``"max_size"``.

    Examples
    --------
    >>> RemovedRevision("o/d", "a" * 40, ("main",), 10, None, "clear").short
    'o/d@aaaaaaa'
    """

    repo_id: str
    revision: str
    refs: tuple[str, ...]
    size: int
    last_used: datetime | None
    reason: str

    @property
    def short(self) -> str:
        """``owner/name@commit7``."""
        return f"{self.repo_id}@{self.revision[:7]}"


@dataclass(frozen=True)
class CacheDeletion:
    """What :func:`prune` or :func:`clear` removed.

    Parameters
    ----------
    removed, freed, size_before, size_after, dry_run, swept
        The attributes of the same names (see Attributes).

    Attributes
    ----------
    removed : tuple of RemovedRevision
        The revisions removed, least recently used first.
    freed : int
        Bytes freed (blobs shared with a kept revision are kept and not counted).
    size_before, size_after : int
        Bytes of cached dataset files before and after.
    dry_run : bool
        Nothing was deleted; this is what would be.
    swept : int
        Bytes of unreferenced blobs also removed (left by an interrupted deletion or
        download); not part of ``freed``.

    Examples
    --------
    >>> str(CacheDeletion((), 0, 0, 0, dry_run=False))
    'Nothing to remove.'
    """

    removed: tuple[RemovedRevision, ...]
    freed: int
    size_before: int
    size_after: int
    dry_run: bool = False
    swept: int = 0

    @property
    def repos(self) -> list[str]:
        """The repositories touched, sorted."""
        return sorted({r.repo_id for r in self.removed})

    def to_polars(self) -> pl.DataFrame:
        """One row per removed revision.

        Examples
        --------
        >>> CacheDeletion((), 0, 0, 0).to_polars().columns
        ['repo_id', 'revision', 'refs', 'size', 'last_used', 'reason']
        """
        return pl.DataFrame(
            [
                {
                    "repo_id": r.repo_id,
                    "revision": r.revision,
                    "refs": list(r.refs),
                    "size": r.size,
                    "last_used": r.last_used,
                    "reason": r.reason,
                }
                for r in self.removed
            ],
            schema={
                "repo_id": pl.String(),
                "revision": pl.String(),
                "refs": pl.List(pl.String()),
                "size": pl.Int64(),
                "last_used": pl.Datetime("us", "UTC"),
                "reason": pl.String(),
            },
        )

    def __str__(self) -> str:
        swept = f"Removed {format_size(self.swept)} of unreferenced blobs." if self.swept else ""
        if not self.removed:
            return swept or "Nothing to remove."
        verb = "Would remove" if self.dry_run else "Removed"
        head = (
            f"{verb} {len(self.removed)} revision(s) of {len(self.repos)} dataset(s), "
            f"{'freeing' if self.dry_run else 'freed'} {format_size(self.freed)} "
            f"(cache {format_size(self.size_before)} -> {format_size(self.size_after)})."
        )
        rows = [
            [
                r.repo_id,
                r.revision[:10],
                ", ".join(r.refs) or "(detached)",
                format_size(r.size),
                ago(r.last_used),
                r.reason,
            ]
            for r in self.removed
        ]
        table = format_table(["DATASET", "REVISION", "REFS", "FREED", "LAST USED", "WHY"], rows)
        return "\n".join(x for x in (head, table, swept) if x)


def delete_revisions(path: Path, scan: HFCacheInfo, hashes: Sequence[str]) -> None:
    """Delete cached revisions: their refs, then ``huggingface_hub``'s deletion strategy.

    Parameters
    ----------
    path
        The cache folder ``scan`` was made of.
    scan
        The scan the revisions were chosen from.
    hashes
        The commits to delete.

    Examples
    --------
    >>> delete_revisions  # doctest: +ELLIPSIS
    <function delete_revisions at ...>
    """
    wanted = set(hashes)
    for repo in scan.repos:
        for revision in repo.revisions:
            if revision.commit_hash in wanted:
                for ref in revision.refs:
                    (repo.repo_path / "refs" / ref).unlink(missing_ok=True)
    # A fresh scan: its strategy no longer lists the refs just removed.
    scan_cache_dir(path).delete_revisions(*hashes).execute()


@dataclass
class _Candidate:
    repo: CachedRepoInfo
    revision: CachedRevisionInfo
    last_used: float


def _candidates(repos: Iterable[CachedRepoInfo]) -> list[_Candidate]:
    found = [_Candidate(r, rev, last_used(rev)) for r in repos for rev in r.revisions]
    return sorted(found, key=lambda c: (c.last_used, c.repo.repo_id, c.revision.commit_hash))


def _expected_freed(scan: HFCacheInfo, chosen: Sequence[_Candidate]) -> int:
    """Bytes deleting ``chosen`` frees: blobs a kept revision shares are kept, not counted."""
    hashes = [c.revision.commit_hash for c in chosen]
    return scan.delete_revisions(*hashes).expected_freed_size if hashes else 0


def _freed_sizes(scan: HFCacheInfo, chosen: Sequence[_Candidate]) -> list[int]:
    """Bytes each chosen revision frees, removed in order after the ones before it."""
    totals = [_expected_freed(scan, chosen[: i + 1]) for i in range(len(chosen))]
    return [total - before for total, before in zip(totals, [0, *totals], strict=False)]


def _remove(
    path: Path,
    scan: HFCacheInfo,
    chosen: Sequence[tuple[_Candidate, str]],
    size_before: int,
    dry_run: bool,
) -> CacheDeletion:
    """Delete the chosen ``(candidate, reason)`` revisions, in order."""
    freed_sizes = _freed_sizes(scan, [c for c, _ in chosen])
    removed = tuple(
        RemovedRevision(
            c.repo.repo_id,
            c.revision.commit_hash,
            tuple(sorted(c.revision.refs)),
            freed,
            timestamp(c.last_used),
            reason,
        )
        for (c, reason), freed in zip(chosen, freed_sizes, strict=True)
    )
    if removed and not dry_run:
        delete_revisions(path, scan, [r.revision for r in removed])
    total = sum(r.size for r in removed)
    return CacheDeletion(removed, total, size_before, size_before - total, dry_run=dry_run)


#: Unreferenced blobs younger than this may belong to a download still linking them in.
ORPHAN_GRACE = timedelta(minutes=5)


def _sweep(repos: Iterable[CachedRepoInfo], grace: timedelta) -> int:
    """Delete unreferenced blobs (and repositories without revisions); returns the bytes.

    ``huggingface_hub`` has no strategy for blobs no snapshot links to, so they are unlinked
    here. Only blobs last modified more than ``grace`` ago go: a concurrent download moves its
    blob in place before it links the snapshot to it.
    """
    cutoff = time.time() - grace.total_seconds()
    blobs: set[Path] = set()
    whole: set[Path] = set()
    size = 0
    for repo in repos:
        if not repo.repo_path.is_dir():
            continue  # removed with its last revision
        blobs_dir = repo.repo_path / "blobs"
        used = {f.blob_path for rev in repo.revisions for f in rev.files}
        unused = [
            (b, b.stat())
            for b in (blobs_dir.iterdir() if blobs_dir.is_dir() else ())
            if b not in used and not b.name.endswith(".incomplete") and b.exists()
        ]
        if any(stat.st_mtime > cutoff for _, stat in unused):
            continue
        if not repo.revisions:
            whole.add(repo.repo_path)
        else:
            blobs.update(b for b, _ in unused)
        size += sum(stat.st_size for _, stat in unused)
    for blob in blobs:
        blob.unlink(missing_ok=True)
    for repo_path in whole:
        shutil.rmtree(repo_path, ignore_errors=True)
    return size


def prune(
    max_size: int | str | None = None,
    older_than: timedelta | int | float | str | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
) -> CacheDeletion:
    """Remove cached dataset revisions, least recently used first.

    A revision goes when it was last used longer than ``older_than`` ago, or while the
    cached datasets exceed ``max_size``; a repository whose last revision goes is removed
    entirely. Downloads still running (``*.incomplete``) are left alone.

    Parameters
    ----------
    max_size : int or str, optional
        Keep the cache at most this big: bytes or ``"10GB"``, ``"500MB"``, ``"2GiB"``.
    older_than : timedelta, number of seconds or str, optional
        Remove what was not used for this long: ``"7d"``, ``"12h"``, ``timedelta(days=30)``.
    cache_dir : path-like, optional
        The cache folder; default :func:`default_cache_dir`.
    dry_run : bool, default False
        Only report what would be removed.

    Returns
    -------
    CacheDeletion

    Raises
    ------
    ValueError
        When neither ``max_size`` nor ``older_than`` is given, or one is malformed.

    Examples
    --------
    >>> import tempfile
    >>> prune(max_size="1GB", cache_dir=tempfile.mkdtemp()).removed
    ()
    >>> prune()
    Traceback (most recent call last):
    ...
    ValueError: Pass max_size=... and/or older_than=..., e.g. prune(max_size='10GB', ...).
    """
    if max_size is None and older_than is None:
        raise ValueError(
            "Pass max_size=... and/or older_than=..., "
            "e.g. prune(max_size='10GB', older_than='30d')."
        )
    limit = parse_size(max_size) if max_size is not None else None
    age = parse_duration(older_than) if older_than is not None else None
    path = cache_path(cache_dir)
    scan = scan_cache(path)
    repos = dataset_repos(scan)
    if scan is None or not repos:
        return CacheDeletion((), 0, 0, 0, dry_run=dry_run)
    total = sum(r.size_on_disk for r in repos)
    size_before = total
    cutoff = time.time() - age.total_seconds() if age is not None else None
    chosen: list[tuple[_Candidate, str]] = []
    for candidate in _candidates(repos):
        if cutoff is not None and candidate.last_used < cutoff:
            reason = "older_than"
        elif limit is not None and total > limit:
            reason = "max_size"
        else:
            break  # sorted by last use: later ones are newer, and the size fits
        chosen.append((candidate, reason))
        total = size_before - _expected_freed(scan, [c for c, _ in chosen])
    result = _remove(path, scan, chosen, size_before, dry_run)
    if dry_run:
        return result
    return dataclasses.replace(result, swept=_sweep(repos, ORPHAN_GRACE))


def clear(
    repo: str | None = None,
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
) -> CacheDeletion:
    """Remove cached datasets: one repository (or one of its revisions), or all of them.

    Parameters
    ----------
    repo : str, optional
        ``"owner/name"`` (or a catalog short name such as ``"gsm8k"``); ``None`` clears
        every cached dataset (models and spaces are kept).
    revision : str, optional
        Only this revision of ``repo``: a commit sha (or a prefix of one) or a ref name.
    cache_dir : path-like, optional
        The cache folder; default :func:`default_cache_dir`.
    dry_run : bool, default False
        Only report what would be removed.

    Returns
    -------
    CacheDeletion
        Empty when nothing matched (``str()`` says "Nothing to remove.").

    Examples
    --------
    >>> import tempfile
    >>> print(clear("openai/gsm8k", cache_dir=tempfile.mkdtemp()))
    Nothing to remove.
    """
    if revision is not None and repo is None:
        raise ValueError("clear(revision=...) needs the repository: clear(repo, revision=...).")
    path = cache_path(cache_dir)
    scan = scan_cache(path)
    repos = dataset_repos(scan)
    size_before = sum(r.size_on_disk for r in repos)
    targets = match_repos(repos, repo) if repo is not None else repos
    if scan is None or not targets:
        return CacheDeletion((), 0, size_before, size_before, dry_run=dry_run)
    chosen = [
        (c, "clear")
        for c in _candidates(targets)
        if revision is None
        or c.revision.commit_hash.startswith(revision)
        or revision in c.revision.refs
    ]
    result = _remove(path, scan, chosen, size_before, dry_run)
    if dry_run or revision is not None:
        return result
    return dataclasses.replace(result, swept=_sweep(targets, timedelta(0)))
