"""Checking streamed bytes against the checksum the repository's file listing gives.

Streaming reads a file by byte ranges, so it cannot hash the file before using it the way a
download is checked (:mod:`crucible_polars.sources.hub_digests`). What it does instead,
for every file whose sha256 (LFS) or git blob id is known from the listing:

* a file of at most :func:`whole_file_limit` bytes (16 MiB by default, so every file the
  Hub keeps out of LFS; 1 MiB for parquet, whose reader fetches only the columns and row
  groups it needs; env ``CRUCIBLE_POLARS_STREAM_CHECK_WHOLE_BYTES`` for every file) is
  fetched whole on its first read and checked before any of its bytes is used; a mismatch
  is fetched again, then :class:`~crucible_polars.errors.StreamChecksumError`.
  Checked files are kept (:class:`Verified`, in a cache of :data:`VERIFIED_CACHE_BYTES`) for
  the next read of the same URL; nothing unchecked is kept;
* a larger file is hashed as a pass reads it (:class:`PassHasher`): a pass that reads it all
  from its start (a line file read from its first line, a parquet file read for every row
  group and column, whose small gaps are fetched to fill the hash) is checked when it
  reaches the end of the file, for parquet before the last row group is decoded. Rows
  yielded before that cannot be taken back: the error says so;
* a larger file's last bytes (a parquet footer, kept for later reads) are kept only once a
  second read agrees with the first.

Examples
--------
>>> from crucible_polars.sources.hub_digests import FileDigest, git_blob_id
>>> data = b"0123456789" * 10
>>> digest = FileDigest(size=100, sha256=None, blob_id=git_blob_id(data))
>>> hasher = PassHasher("x", digest, 100, fetch=lambda offset, n: data[offset : offset + n])
>>> hasher.feed(0, data[:50]); hasher.feed(60, data[60:])  # the 10-byte gap is fetched
>>> hasher.checked
1
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from crucible_polars.errors import StreamChecksumError
from crucible_polars.sources.hub_digests import FileDigest, FileHasher

WHOLE_FILE_BYTES = 16 << 20
"""Files up to this size are fetched whole and checked before use (env
``CRUCIBLE_POLARS_STREAM_CHECK_WHOLE_BYTES``; ``0`` checks every file as it is read)."""

PARQUET_WHOLE_FILE_BYTES = 1 << 20
"""The same for parquet files, whose reader fetches only the column chunks of the row groups
it decodes (a ``take(10)``, a projection, a worker's share of the row groups): fetching a
larger one whole would cost those reads most of the file."""

VERIFIED_CACHE_BYTES = 64 << 20
"""Checked whole files kept for later reads of the same URL (the oldest are dropped first;
a file being read stays in memory while its reader holds it)."""

GAP_FILL_BYTES = 64 << 10
"""A pass that skips at most this many bytes (a parquet file's magic number, padding between
column chunks) has them fetched so the hash goes on; a larger jump ends the hash for that
pass."""


def whole_file_limit(path: str = "") -> int:
    """The size up to which the streamed file ``path`` is fetched whole and checked before
    use.

    Parameters
    ----------
    path
        The file or URL (parquet files have a lower limit).

    Examples
    --------
    >>> whole_file_limit("https://h/x.parquet") <= whole_file_limit("https://h/x.jsonl")
    True
    """
    value = os.environ.get("CRUCIBLE_POLARS_STREAM_CHECK_WHOLE_BYTES", "")
    try:
        if value.strip():
            return max(int(value), 0)
    except ValueError:
        pass
    name = path.split("?", 1)[0].split("#", 1)[0].lower()
    return PARQUET_WHOLE_FILE_BYTES if name.endswith(".parquet") else WHOLE_FILE_BYTES


class Verified:
    """The bytes of a whole file that matched its checksum.

    Parameters
    ----------
    data
        The file's bytes.

    Examples
    --------
    >>> Verified(b"abc").data
    b'abc'
    """

    __slots__ = ("__weakref__", "data")

    def __init__(self, data: bytes) -> None:
        self.data = data


class VerifiedCache:
    """Checked whole files by key, the least recently used dropped beyond ``capacity`` bytes.

    Parameters
    ----------
    capacity
        Bytes kept at most.

    Examples
    --------
    >>> cache = VerifiedCache(4)
    >>> cache.put("a", Verified(b"abc")); cache.put("b", Verified(b"de"))
    >>> cache.get("a") is None, cache.get("b").data
    (True, b'de')
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._files: OrderedDict[Hashable, Verified] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Verified | None:
        """The file kept under ``key``, if any.

        Parameters
        ----------
        key
            What identifies the file (its URL, checksum and credentials).

        Examples
        --------
        >>> VerifiedCache(10).get("a") is None
        True
        """
        with self._lock:
            found = self._files.get(key)
            if found is not None:
                self._files.move_to_end(key)
            return found

    def put(self, key: Hashable, verified: Verified) -> None:
        """Keep ``verified`` under ``key`` (dropping the oldest files beyond the capacity).

        Parameters
        ----------
        key
            What identifies the file.
        verified
            Its checked bytes.

        Examples
        --------
        >>> cache = VerifiedCache(10); cache.put("a", Verified(b"x")); cache.get("a").data
        b'x'
        """
        with self._lock:
            old = self._files.pop(key, None)
            if old is not None:
                self._bytes -= len(old.data)
            self._files[key] = verified
            self._bytes += len(verified.data)
            while self._bytes > self.capacity and self._files:
                _, dropped = self._files.popitem(last=False)
                self._bytes -= len(dropped.data)

    def clear(self) -> None:
        """Drop every file.

        Examples
        --------
        >>> cache = VerifiedCache(10); cache.put("a", Verified(b"x")); cache.clear()
        >>> cache.get("a") is None
        True
        """
        with self._lock:
            self._files.clear()
            self._bytes = 0


VERIFIED = VerifiedCache(VERIFIED_CACHE_BYTES)
"""The process's checked whole files."""


class PassHasher:
    """Hashes a file's bytes as passes read them in order, and checks the checksum when a
    pass has read the whole file.

    A read near the start of the file starts the hash afresh (a new pass: bytes another pass
    read must not vouch for this one's); other bytes behind what was hashed are ignored; a
    small gap ahead is fetched with ``fetch``; a larger jump ends the hash until a pass
    starts again. Once the last byte is hashed the checksum is compared and the hasher
    starts afresh for the next pass.

    Parameters
    ----------
    path
        The file, for the error.
    digest
        Its listing entry (sha256 or git blob id).
    size
        Its size.
    fetch
        ``fetch(offset, length)``: bytes of the file (to fill a small gap).
    tail
        The file's last bytes and their offset, if read already (hashed when the pass gets
        there, so they are not fetched again).
    recheck
        After a mismatch: what a fresh listing says about the file when the listing used
        was wrong (the pass is then right if it matches that), else ``None``.

    Examples
    --------
    >>> from crucible_polars.sources.hub_digests import FileDigest
    >>> hasher = PassHasher("x", FileDigest(size=3, sha256="0" * 64, blob_id=None), 3,
    ...                     fetch=lambda offset, n: b"")
    >>> try:
    ...     hasher.feed(0, b"abc")
    ... except StreamChecksumError as err:
    ...     print(err.rows_used)
    True
    """

    def __init__(
        self,
        path: str,
        digest: FileDigest,
        size: int,
        fetch: Callable[[int, int], bytes],
        tail: Callable[[], tuple[int, bytes] | None] = lambda: None,
        recheck: Callable[[], FileDigest | None] = lambda: None,
    ) -> None:
        self.path = path
        self.digest = digest
        self.size = size
        self._fetch = fetch
        self._tail = tail
        self._recheck = recheck
        self._lock = threading.Lock()
        self._hasher: FileHasher | None = FileHasher(digest, size)
        self.checked = 0
        """Passes checked so far."""

    @property
    def hashed(self) -> int:
        """Bytes hashed so far in this pass (``0`` once the hash was given up).

        Examples
        --------
        >>> from crucible_polars.sources.hub_digests import FileDigest
        >>> PassHasher("x", FileDigest(3, "0" * 64, None), 3, lambda o, n: b"").hashed
        0
        """
        return self._hasher.hashed if self._hasher is not None else 0

    def start_for(self, offset: int) -> int:
        """Where a read at ``offset`` should start so that it also brings the small gap the
        hash needs (one request instead of two): the byte hashed up to, when ``offset`` is a
        little beyond it, else ``offset``.

        Parameters
        ----------
        offset
            Where the reader asks to read.

        Examples
        --------
        >>> from crucible_polars.sources.hub_digests import FileDigest
        >>> hasher = PassHasher("x", FileDigest(10, "0" * 64, None), 10, lambda o, n: b"")
        >>> hasher.start_for(4), hasher.start_for(GAP_FILL_BYTES + 1)
        (0, 65537)
        """
        with self._lock:
            done = self._hasher.hashed if self._hasher is not None else 0
            if offset < min(done, GAP_FILL_BYTES + 1):  # a pass from the start: hashed afresh
                done = 0
            return done if 0 < offset - done <= GAP_FILL_BYTES else offset

    def feed(self, offset: int, data: bytes) -> None:
        """Hash what ``data`` (read at ``offset``) adds; raise if the pass ends wrong.

        Parameters
        ----------
        offset
            Where ``data`` was read.
        data
            The bytes read.

        Raises
        ------
        StreamChecksumError
            The pass read the whole file and it does not match the listing.
        """
        with self._lock:
            hasher = self._hasher
            if hasher is None or offset < min(hasher.hashed, GAP_FILL_BYTES + 1):
                if offset > GAP_FILL_BYTES:  # given up, and not a pass from the start
                    return
                # a pass from the start (another pass's bytes must not count for this one)
                hasher = self._hasher = FileHasher(self.digest, self.size)
            done = hasher.hashed
            if offset + len(data) <= done:
                return
            if offset > done:
                if offset - done > GAP_FILL_BYTES:
                    self._hasher = None
                    return
                gap = self._fetch(done, offset - done)
                if len(gap) != offset - done:  # pragma: no cover - the file ended early
                    self._hasher = None
                    return
                data, offset = gap + data, done
            hasher.update(data[done - offset :])
            tail = self._tail()
            if tail is not None and tail[0] <= hasher.hashed < tail[0] + len(tail[1]):
                hasher.update(tail[1][hasher.hashed - tail[0] :])
            if hasher.hashed >= self.size:
                self._finish(hasher)

    def give_up(self) -> None:
        """Stop hashing this pass (its bytes were read again: a re-read is not hashed); a
        pass from the start of the file starts again.

        Examples
        --------
        >>> from crucible_polars.sources.hub_digests import FileDigest
        >>> hasher = PassHasher("x", FileDigest(3, "0" * 64, None), 3, lambda o, n: b"")
        >>> hasher.feed(0, b"a"); hasher.give_up(); hasher.hashed
        0
        """
        with self._lock:
            self._hasher = None

    def _finish(self, hasher: FileHasher) -> None:
        self._hasher = FileHasher(self.digest, self.size)  # the next pass is checked afresh
        wrong = hasher.mismatch()
        if wrong is not None:
            fresh = self._recheck()  # was the listing the wrong one?
            if fresh is None or not hasher.matches(fresh):
                raise StreamChecksumError(self.path, 1, wrong, rows_used=True)
            self.digest = fresh
        self.checked += 1


def agreed(
    path: str,
    first: bytes,
    second: bytes,
    fetch: Callable[[], bytes],
    attempts: int,
    wait: Callable[[int], None],
) -> bytes:
    """The bytes two reads agree on: what a large file's last bytes (its parquet footer)
    must pass before they are kept. After two reads that differ, another read settles it if
    it equals either.

    Parameters
    ----------
    path
        The file, for the error.
    first, second
        The bytes of the first two reads.
    fetch
        Reads them again.
    attempts
        Reads after the first two before giving up.
    wait
        ``wait(failures)``: sleeps before the next read.

    Examples
    --------
    >>> agreed("x", b"abc", b"abd", lambda: b"abc", 3, lambda n: None)
    b'abc'
    """
    if first == second:
        return first
    last = [first, second]
    for failure in range(1, attempts + 1):
        wait(failure)
        again = fetch()
        if again in last:
            return again
        last = [last[-1], again]
    raise StreamChecksumError(
        path,
        attempts + 2,
        f"reads of its last {len(first)} bytes kept differing",
        rows_used=False,
    )
