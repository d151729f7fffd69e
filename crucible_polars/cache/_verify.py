"""``cp.cache.verify()``: cached files against the Hub's checksums."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from crucible_polars.cache.common import cache_path, dataset_repos, match_repos, scan_cache

if TYPE_CHECKING:  # pragma: no cover
    from huggingface_hub import CachedFileInfo, CachedRepoInfo, CachedRevisionInfo, HFCacheInfo

_HASH_CHUNK = 1 << 20
_PATHS_INFO_BATCH = 500


Status = Literal["ok", "corrupt", "unverified"]


@dataclass(frozen=True)
class FileCheck:
    """The verdict on one cached file.

    Parameters
    ----------
    repo_id, revision, path, size, algorithm, expected, actual, expected_from, status
        The attributes of the same names (see Attributes).
    removed, detail
        The attributes of the same names (see Attributes).

    Attributes
    ----------
    repo_id, revision, path : str
        The repository, the commit, and the file's path in the repository.
    size : int
        Bytes on disk.
    algorithm : {"sha256", "git-sha1", None}
        ``sha256`` for LFS files, the git blob id for regular ones.
    expected, actual : str or None
        The digests compared.
    expected_from : {"hub", "etag", None}
        ``hub``: the Hub's paths-info for that commit; ``etag``: the ETag recorded at download
        (the blob's file name), used offline or when the Hub cannot be reached.
    status : {"ok", "corrupt", "unverified"}
    removed : bool
        Deleted by ``remove_corrupt=True`` (the next load downloads it again).
    detail : str
        Why a file is corrupt or unverified.

    Examples
    --------
    >>> FileCheck("o/d", "a" * 40, "x.parquet", 3, "sha256", "1", "2", "hub", "corrupt").ok
    False
    """

    repo_id: str
    revision: str
    path: str
    size: int
    algorithm: str | None
    expected: str | None
    actual: str | None
    expected_from: str | None
    status: Status
    removed: bool = False
    detail: str = ""

    @property
    def ok(self) -> bool:
        """Whether the file matches."""
        return self.status == "ok"


@dataclass(frozen=True)
class VerifyReport:
    """The result of :func:`verify`.

    Parameters
    ----------
    checks
        One :class:`FileCheck` per cached file checked.
    warnings
        Problems met while checking (e.g. checksums the Hub could not give).

    Examples
    --------
    >>> VerifyReport(()).ok, str(VerifyReport(()))
    (True, 'Checked 0 cached file(s): 0 ok, 0 corrupt, 0 unverified.')
    """

    checks: tuple[FileCheck, ...]
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """No corrupt file."""
        return not self.corrupt

    @property
    def corrupt(self) -> tuple[FileCheck, ...]:
        """The corrupt files."""
        return tuple(c for c in self.checks if c.status == "corrupt")

    @property
    def unverified(self) -> tuple[FileCheck, ...]:
        """Files that could not be checked (no digest known)."""
        return tuple(c for c in self.checks if c.status == "unverified")

    def to_polars(self) -> pl.DataFrame:
        """One row per checked file.

        Examples
        --------
        >>> VerifyReport(()).to_polars().columns[:4]
        ['repo_id', 'revision', 'path', 'size']
        """
        names = [f.name for f in dataclasses.fields(FileCheck)]
        schema = {
            name: pl.Int64()
            if name == "size"
            else pl.Boolean()
            if name == "removed"
            else pl.String()
            for name in names
        }
        return pl.DataFrame([dataclasses.asdict(c) for c in self.checks], schema=schema)

    def __str__(self) -> str:
        counts = {
            s: sum(c.status == s for c in self.checks) for s in ("ok", "corrupt", "unverified")
        }
        lines = [
            f"Checked {len(self.checks)} cached file(s): {counts['ok']} ok, "
            f"{counts['corrupt']} corrupt, {counts['unverified']} unverified."
        ]
        for c in self.checks:
            if c.status != "ok":
                what = f"{c.repo_id}@{c.revision[:7]}/{c.path}"
                done = " (removed: the next load downloads it again)" if c.removed else ""
                lines.append(f"  {c.status.upper()}: {what}: {c.detail}{done}")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _digest(path: Path, algorithm: str, size: int) -> str:
    hasher = hashlib.sha256() if algorithm == "sha256" else hashlib.sha1()
    if algorithm == "git-sha1":
        hasher.update(f"blob {size}\0".encode())
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def _digests(work: dict[tuple[Path, str], int]) -> dict[tuple[Path, str], str]:
    """Hash the blobs in threads (hashlib releases the GIL on large buffers)."""
    keys = sorted(work, key=lambda k: -work[k])  # biggest first: the pool ends together
    workers = max(1, min(4, os.cpu_count() or 1, len(keys)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        found = pool.map(lambda k: _digest(k[0], k[1], work[k]), keys)
        return dict(zip(keys, found, strict=True))


def _offline() -> bool:
    from huggingface_hub import constants

    check = getattr(constants, "is_offline_mode", None)
    return bool(check() if callable(check) else constants.HF_HUB_OFFLINE)


def _remote_metadata(
    repo_id: str, commit: str, paths: Sequence[str], token: str | bool | None
) -> dict[str, Any]:
    """``path -> RepoFile`` from the Hub's paths-info at ``commit`` (in batches)."""
    from huggingface_hub import HfApi
    from huggingface_hub.hf_api import RepoFile

    api = HfApi()
    found: dict[str, Any] = {}
    for start in range(0, len(paths), _PATHS_INFO_BATCH):
        batch = list(paths[start : start + _PATHS_INFO_BATCH])
        for entry in api.get_paths_info(
            repo_id, batch, revision=commit, repo_type="dataset", token=token
        ):
            if isinstance(entry, RepoFile):
                found[entry.path] = entry
    return found


def _expected(remote: Any, blob: Path) -> tuple[str | None, str | None, str | None]:
    """(algorithm, digest, source) for a file from Hub metadata, else from its ETag."""
    if remote is not None:
        lfs = getattr(remote, "lfs", None)
        sha256 = getattr(lfs, "sha256", None) if lfs is not None else None
        if sha256:
            return "sha256", str(sha256).lower(), "hub"
        if getattr(remote, "blob_id", None):
            return "git-sha1", str(remote.blob_id).lower(), "hub"
    etag = blob.name.lower()
    if re.fullmatch(r"[0-9a-f]{64}", etag):
        return "sha256", etag, "etag"
    if re.fullmatch(r"[0-9a-f]{40}", etag):
        return "git-sha1", etag, "etag"
    return None, None, None


def _iter_files(
    repos: Sequence[CachedRepoInfo], revision: str | None
) -> Iterator[tuple[CachedRepoInfo, CachedRevisionInfo, list[CachedFileInfo]]]:
    for repo in repos:
        for rev in sorted(repo.revisions, key=lambda v: v.commit_hash):
            if revision is None or rev.commit_hash.startswith(revision) or revision in rev.refs:
                files = sorted(rev.files, key=lambda f: str(f.file_path))
                yield repo, rev, files


def verify(
    repo: str | None = None,
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    remove_corrupt: bool = False,
    token: str | bool | None = None,
) -> VerifyReport:
    """Check every cached dataset file against the Hub's checksums.

    LFS files (parquet, archives, images...) are hashed with sha256 and compared with the
    Hub's LFS metadata; regular git files with their git blob id (sha1 of ``blob <size>\\0``
    plus the content). The expected digests come from the Hub's ``paths-info`` for the cached
    commit; offline (``HF_HUB_OFFLINE=1``) or when the Hub cannot be reached, from the ETag
    recorded at download time (the blob's file name), and the report says so.

    Parameters
    ----------
    repo : str, optional
        Only this repository (``"owner/name"`` or a catalog short name); default all.
    revision : str, optional
        Only this commit (sha or prefix) or ref of ``repo``.
    cache_dir : path-like, optional
        The cache folder; default :func:`default_cache_dir`.
    remove_corrupt : bool, default False
        Delete corrupt files (their snapshot entries first, then the blob) so the next load
        downloads them again.
    token : str or bool, optional
        For private repositories; default ``HF_TOKEN`` or the stored login. Never printed.

    Returns
    -------
    VerifyReport
        ``.ok``, ``.corrupt``, ``.to_polars()``; ``print()`` it for a summary.

    Examples
    --------
    >>> import tempfile
    >>> verify(cache_dir=tempfile.mkdtemp()).ok
    True
    """
    path = cache_path(cache_dir)
    scan = scan_cache(path)
    repos = dataset_repos(scan)
    if repo is not None:
        repos = match_repos(repos, repo)
    offline = _offline()
    warnings: list[str] = []
    pending: list[tuple[tuple[str, str, str, int], Path, Any, str | None, str | None, str | None]]
    pending = []
    for cached_repo, rev, files in _iter_files(repos, revision):
        rel = {f.file_path: f.file_path.relative_to(rev.snapshot_path).as_posix() for f in files}
        remote: dict[str, Any] = {}
        if files and not offline:
            try:
                remote = _remote_metadata(
                    cached_repo.repo_id, rev.commit_hash, sorted(rel.values()), token
                )
            except Exception as err:  # network, auth, offline: fall back to the ETags
                reason = " ".join(str(err).split())[:200]
                warnings.append(
                    f"could not get checksums of {cached_repo.repo_id}@{rev.commit_hash[:7]} "
                    f"from the Hub ({type(err).__name__}: {reason}); checked against the "
                    "ETags recorded at download"
                )
        for f in files:
            name = rel[f.file_path]
            base = (cached_repo.repo_id, rev.commit_hash, name, f.size_on_disk)
            entry = remote.get(name)
            pending.append((base, f.blob_path, entry, *_expected(entry, f.blob_path)))
    digests = _digests(
        {
            (blob, algorithm): base[3]
            for base, blob, entry, algorithm, _, _ in pending
            if algorithm is not None and getattr(entry, "size", base[3]) == base[3]
        }
    )
    checks: list[FileCheck] = []
    corrupt_blobs: set[Path] = set()
    for base, blob, entry, algorithm, expected, source in pending:
        if algorithm is None or expected is None:
            checks.append(
                FileCheck(*base, None, None, None, None, "unverified", detail="no checksum")
            )
            continue
        actual = digests.get((blob, algorithm))
        if actual is None:
            status: Status = "corrupt"
            detail = f"size {base[3]} B, expected {entry.size} B"
        elif actual != expected:
            status, detail = "corrupt", f"{algorithm} {actual[:12]}..., expected {expected[:12]}..."
        else:
            status, detail = "ok", ""
        if status == "corrupt":
            corrupt_blobs.add(blob)
        checks.append(FileCheck(*base, algorithm, expected, actual, source, status, detail=detail))
    if remove_corrupt and corrupt_blobs and scan is not None:
        _remove_files(scan, corrupt_blobs)
        checks = [
            dataclasses.replace(c, removed=True) if c.status == "corrupt" else c for c in checks
        ]
    return VerifyReport(tuple(checks), tuple(warnings))


def _remove_files(scan: HFCacheInfo, blobs: set[Path]) -> None:
    """Delete every snapshot entry pointing at ``blobs``, then the blobs themselves."""
    entries = [
        f for r in scan.repos for rev in r.revisions for f in rev.files if f.blob_path in blobs
    ]
    delete_files = getattr(scan, "delete_files", None)
    if callable(delete_files):
        delete_files(*entries).execute()
        return
    for f in entries:  # older huggingface_hub: entries first, then blobs
        f.file_path.unlink(missing_ok=True)
    for blob in blobs:
        blob.unlink(missing_ok=True)
