"""Checksums of a Hub repository's files, from its one tree listing, and the check that a
downloaded file matches them before the cache keeps it.

The listing gives every LFS file's sha256 and every other file's git blob id (the sha1 of
``"blob {size}\\0"`` plus the content, which is also its ``ETag``). ``huggingface_hub`` checks
only a download's size, so an answer of the right length with one byte changed would stay
in the cache under a name it does not match and be read, online and offline, for good.
:func:`check_file` finds that; :func:`discard_cached` removes the file so the next try
downloads it again.

Examples
--------
>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "a.txt")
>>> _ = open(path, "wb").write(b"hello")
>>> check_file(path, FileDigest(size=5, sha256=None, blob_id=git_blob_id(b"hello"))) is None
True
>>> check_file(path, FileDigest(size=5, sha256="0" * 64, blob_id=None))
'its sha256 is 2cf24dba5f…, the file listing says 00000000…'
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub.hf_api import RepoFile

try:  # not public, like write_tree_cache in hub_download (tests/test_hub_retries.py checks it)
    from huggingface_hub._tree_cache import read_tree_cache
except ImportError:  # pragma: no cover - another huggingface_hub layout
    read_tree_cache = None  # type: ignore[assignment]

CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class FileDigest:
    """What the tree listing says about one file.

    Parameters
    ----------
    size
        Its size in bytes, if known.
    sha256
        The sha256 of an LFS file's content (``None`` for other files).
    blob_id
        The git blob id (sha1) of a non-LFS file's content (``None`` for LFS files, whose
        blob id is that of their pointer).

    Examples
    --------
    >>> FileDigest(size=3, sha256=None, blob_id="a" * 40).blob_id[:3]
    'aaa'
    """

    size: int | None
    sha256: str | None
    blob_id: str | None


def git_blob_id(data: bytes) -> str:
    """The git blob id of ``data`` (a small Hub file's ``oid`` and ``ETag``).

    Examples
    --------
    >>> git_blob_id(b"")
    'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391'
    """
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def digests_of(entries: Iterable[RepoFile]) -> dict[str, FileDigest]:
    """``{path: FileDigest}`` of a fresh listing (``HfApi.list_repo_tree``).

    Examples
    --------
    >>> digests_of([RepoFile(path="a.csv", size=3, oid="b" * 40)])["a.csv"].blob_id[:3]
    'bbb'
    """
    return {
        e.path: FileDigest(
            size=e.lfs.size if e.lfs is not None else e.size,
            sha256=e.lfs.sha256 if e.lfs is not None else None,
            blob_id=None if e.lfs is not None else e.blob_id,
        )
        for e in entries
    }


def cached_digests(storage_folder: str, sha: str) -> dict[str, FileDigest]:
    """``{path: FileDigest}`` from ``huggingface_hub``'s tree cache of commit ``sha`` (empty
    when there is none, or this ``huggingface_hub`` keeps it elsewhere: nothing is checked).

    Examples
    --------
    >>> import tempfile
    >>> cached_digests(tempfile.mkdtemp(), "c" * 40)
    {}
    """
    entries = read_tree_cache(storage_folder, sha) if read_tree_cache is not None else None
    return {
        path: FileDigest(
            size=e.lfs_size if e.lfs_sha256 else e.size,
            sha256=e.lfs_sha256 or None,
            blob_id=None if e.lfs_sha256 else e.blob_id,
        )
        for path, e in (entries or {}).items()
    }


def _hash_file(path: str, algorithm: str, prefix: bytes = b"") -> str:
    digest = hashlib.new(algorithm, prefix)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def check_file(path: str, digest: FileDigest | None) -> str | None:
    """Why the file at ``path`` is not the one ``digest`` describes, or ``None`` if it is.

    Parameters
    ----------
    path
        The downloaded file.
    digest
        The listing's entry (``None``: nothing known, nothing checked).

    Examples
    --------
    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a")
    >>> _ = open(path, "wb").write(b"abc")
    >>> check_file(path, FileDigest(size=4, sha256=None, blob_id=None))
    'it has 3 bytes, the file listing says 4'
    """
    if digest is None:
        return None
    size = os.path.getsize(path)
    if digest.size is not None and size != digest.size:
        return f"it has {size} bytes, the file listing says {digest.size}"
    if digest.sha256:
        actual = _hash_file(path, "sha256")
        if actual != digest.sha256.lower():
            return f"its sha256 is {actual[:10]}…, the file listing says {digest.sha256[:8]}…"
    elif digest.blob_id and len(digest.blob_id) == 40:
        actual = _hash_file(path, "sha1", b"blob %d\0" % size)
        if actual != digest.blob_id.lower():
            return f"its git blob id is {actual[:10]}…, the file listing says {digest.blob_id[:8]}…"
    return None


def discard_cached(path: str) -> None:
    """Remove a cached file: its blob and the snapshot link to it (either may be missing).

    Examples
    --------
    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a")
    >>> _ = open(path, "wb").write(b"x")
    >>> discard_cached(path)
    >>> os.path.exists(path)
    False
    """
    blob = Path(path).resolve()
    Path(path).unlink(missing_ok=True)
    blob.unlink(missing_ok=True)
