"""Checksums of a Hub repository's files, from its one tree listing, and the check that a
downloaded file matches them before the cache keeps it.

The listing gives every LFS file's sha256 and every other file's git blob id (the sha1 of
``"blob {size}\\0"`` plus the content, which is also its ``ETag``). ``huggingface_hub`` checks
only a download's size, so an answer of the right length with one byte changed would stay
in the cache under a name it does not match and be read, online and offline, for good.
:func:`check_file` finds that; :func:`discard_cached` removes the file so the next try
downloads it again.

Streaming reads files by URL, not from the cache: :func:`expect_digests` records what the
listing says about the ``resolve`` URLs a streaming load reads (a URL pinned to a commit
always serves the same bytes), and the streaming byte reader looks them up with
:func:`expected_digest` and checks what it reads with :func:`new_hasher` /
:func:`check_bytes`.

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
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub.hf_api import RepoFile

try:  # not public, like write_tree_cache in hub_download (tests/test_hub_retries.py checks it)
    from huggingface_hub._tree_cache import read_tree_cache
except ImportError:  # pragma: no cover - another huggingface_hub layout
    read_tree_cache = None  # type: ignore[assignment]

CHUNK_BYTES = 1 << 20
MAX_EXPECTED_URLS = 200_000
"""URLs whose listing entry is remembered for streaming (the oldest are forgotten first)."""


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
    if not checkable(digest):
        return None
    hasher = FileHasher(digest, size)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            hasher.update(chunk)
    return hasher.mismatch()


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


class FileHasher:
    """The running hash a :class:`FileDigest` is checked with: sha256 of the content for an
    LFS file, git blob id (sha1 of ``"blob {size}\\0"`` and the content) for another.

    Parameters
    ----------
    digest
        What the listing says about the file.
    size
        The file's size (part of a git blob id).

    Examples
    --------
    >>> hasher = FileHasher(FileDigest(size=5, sha256=None, blob_id=git_blob_id(b"hello")), 5)
    >>> hasher.update(b"hel"); hasher.update(b"lo"); hasher.mismatch() is None
    True
    """

    def __init__(self, digest: FileDigest, size: int) -> None:
        self.digest = digest
        self.size = size
        if digest.sha256:
            self.kind, self.expected = "sha256", digest.sha256.lower()
            self._hash = hashlib.sha256()
        else:
            self.kind, self.expected = "git blob id", (digest.blob_id or "").lower()
            self._hash = hashlib.sha1(b"blob %d\0" % size)
        self.hashed = 0

    def update(self, data: bytes) -> None:
        """Hash the next bytes of the file.

        Parameters
        ----------
        data
            The bytes that follow those already hashed.

        Examples
        --------
        >>> hasher = FileHasher(FileDigest(size=1, sha256="0" * 64, blob_id=None), 1)
        >>> hasher.update(b"x"); hasher.hashed
        1
        """
        self._hash.update(data)
        self.hashed += len(data)

    def matches(self, other: FileDigest) -> bool:
        """Whether the bytes hashed are the file ``other`` describes (a fresh listing's entry,
        when it is of the same kind as the one hashed for).

        Parameters
        ----------
        other
            A listing entry.

        Examples
        --------
        >>> hasher = FileHasher(FileDigest(size=1, sha256="0" * 64, blob_id=None), 1)
        >>> hasher.update(b"x")
        >>> fresh = FileDigest(size=1, sha256=hashlib.sha256(b"x").hexdigest(), blob_id=None)
        >>> hasher.matches(fresh)
        True
        """
        fresh = FileHasher(other, self.size)
        if fresh.kind != self.kind or (other.size is not None and other.size != self.hashed):
            return False
        return self._hash.hexdigest() == fresh.expected

    def mismatch(self) -> str | None:
        """Why the bytes hashed are not the file the listing describes, or ``None``.

        Examples
        --------
        >>> hasher = FileHasher(FileDigest(size=1, sha256="0" * 64, blob_id=None), 1)
        >>> hasher.update(b"x"); hasher.mismatch()
        'its sha256 is 2d711642b7…, the file listing says 00000000…'
        """
        if self.digest.size is not None and self.hashed != self.digest.size:
            return f"it has {self.hashed} bytes, the file listing says {self.digest.size}"
        actual = self._hash.hexdigest()
        if actual == self.expected:
            return None
        return f"its {self.kind} is {actual[:10]}…, the file listing says {self.expected[:8]}…"


def checkable(digest: FileDigest | None) -> bool:
    """Whether ``digest`` holds a checksum to check bytes against.

    Parameters
    ----------
    digest
        A listing entry, or ``None``.

    Examples
    --------
    >>> checkable(FileDigest(size=3, sha256=None, blob_id=None)), checkable(None)
    (False, False)
    """
    if digest is None:
        return False
    return bool(digest.sha256) or (digest.blob_id is not None and len(digest.blob_id) == 40)


def check_bytes(data: bytes, digest: FileDigest | None) -> str | None:
    """Why ``data`` is not the file ``digest`` describes, or ``None`` if it is (or nothing
    is known).

    Parameters
    ----------
    data
        The whole file.
    digest
        Its listing entry.

    Examples
    --------
    >>> check_bytes(b"hello", FileDigest(size=5, sha256=None, blob_id=git_blob_id(b"hello")))
    >>> check_bytes(b"hellp", FileDigest(size=5, sha256=None, blob_id=git_blob_id(b"hello")))
    'its git blob id is 39cc8d82f4…, the file listing says b6fc4c62…'
    """
    if digest is None or not checkable(digest):
        return None
    hasher = FileHasher(digest, len(data))
    hasher.update(data)
    return hasher.mismatch()


_expected: OrderedDict[str, FileDigest] = OrderedDict()
_rechecks: dict[str, Callable[[], FileDigest | None]] = {}
_expected_lock = threading.Lock()


def expect_digests(
    digests: Mapping[str, FileDigest],
    recheck: Callable[[str], Callable[[], FileDigest | None]] | None = None,
) -> None:
    """Remember what the listing says about files read by URL (streaming).

    Parameters
    ----------
    digests
        ``{url: FileDigest}``; only URLs pinned to a commit belong here.
    recheck
        ``recheck(url)``: a function that lists the repository again and returns what the
        fresh listing says about the file when it differs (the listing was wrong), else
        ``None``; called at most once per URL, by :func:`recheck_digest`.

    Examples
    --------
    >>> expect_digests({"https://hub/a/resolve/" + "0" * 40 + "/x.csv":
    ...                 FileDigest(size=1, sha256=None, blob_id="a" * 40)})
    >>> expected_digest("https://hub/a/resolve/" + "0" * 40 + "/x.csv").size
    1
    """
    with _expected_lock:
        for url, digest in digests.items():
            if checkable(digest):
                _expected[url] = digest
                _expected.move_to_end(url)
                if recheck is not None:
                    _rechecks[url] = recheck(url)
        while len(_expected) > MAX_EXPECTED_URLS:
            _rechecks.pop(_expected.popitem(last=False)[0], None)


def recheck_digest(url: str) -> FileDigest | None:
    """After the bytes of ``url`` did not match its listing entry: what a fresh listing says
    about it, when that differs (the listing was wrong; the new entry is remembered), else
    ``None``. Each URL is rechecked once.

    Parameters
    ----------
    url
        A file's URL.

    Examples
    --------
    >>> recheck_digest("https://example.com/unknown.csv") is None
    True
    """
    with _expected_lock:
        recheck = _rechecks.pop(url, None)
    fresh = recheck() if recheck is not None else None
    if fresh is not None:
        with _expected_lock:
            _expected[url] = fresh
    return fresh


def expected_digest(url: str) -> FileDigest | None:
    """What the listing says about the file at ``url`` (see :func:`expect_digests`).

    Parameters
    ----------
    url
        A file's URL.

    Examples
    --------
    >>> expected_digest("https://example.com/unknown.csv") is None
    True
    """
    with _expected_lock:
        return _expected.get(url)


def expected_digests(urls: Iterable[str]) -> dict[str, FileDigest]:
    """``{url: FileDigest}`` of those ``urls`` whose listing entry is known (to hand to
    another process, which calls :func:`expect_digests` with it).

    Parameters
    ----------
    urls
        Files' URLs.

    Examples
    --------
    >>> expected_digests(["https://example.com/unknown.csv"])
    {}
    """
    with _expected_lock:
        return {u: _expected[u] for u in urls if u in _expected}
