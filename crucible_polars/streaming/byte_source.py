"""The byte source every streamed file is read through: range reads with retries, the size,
the cached tail, and the checks against the file listing's checksum
(:mod:`crucible_polars.streaming.checksums`). The concrete sources (local files, HTTP(S),
fsspec) are in :mod:`crucible_polars.streaming.ranges`.

Examples
--------
>>> class Memory(ByteSource):
...     def _fetch(self, offset, length, sink): sink(b"0123456789"[offset : offset + length])
...     def _fetch_size(self): return 10
>>> Memory("mem").read_at(3, 4)
b'3456'
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from crucible_polars.errors import StreamChecksumError, StreamReadError
from crucible_polars.retry import retry_policy
from crucible_polars.sources.hub_digests import (
    FileDigest,
    check_bytes,
    checkable,
    recheck_digest,
)
from crucible_polars.streaming.checksums import (
    VERIFIED,
    PassHasher,
    Verified,
    agreed,
    whole_file_limit,
)

TAIL_BYTES = 64 << 10
"""Bytes fetched from the end of a parquet file to read its footer in one request."""


class RetryRead(Exception):
    """A read broke off part-way (or a fsspec read failed): retry from the byte reached.

    Examples
    --------
    >>> RetryRead("connection reset").args[0]
    'connection reset'
    """


class ByteSource:
    """Random access to the bytes of one file, read by ranges.

    Subclasses implement :meth:`_fetch` (one attempt) and :meth:`_fetch_size`; this class
    adds the retries, the size cache, a small cache of the file's tail (parquet footers
    are read there several times), and, when the file listing's checksum of the file is
    known (``digest``), the checks of :mod:`crucible_polars.streaming.checksums`.

    Parameters
    ----------
    path
        The file or URL (named in errors).
    digest
        What the repository's file listing says about it, if known.

    Examples
    --------
    >>> ByteSource("x").path
    'x'
    """

    def __init__(self, path: str, digest: FileDigest | None = None) -> None:
        self.path = path
        self.digest = digest if checkable(digest) else None
        self._size: int | None = None
        if self.digest is not None and self.digest.size is not None:
            self._size = self.digest.size  # the listing's: no request for it
        self._tail: tuple[int, bytes] | None = None
        self._lock = threading.Lock()
        self._whole: weakref.ref[Verified] | None = None
        self._hasher: PassHasher | None = None

    # -- to implement
    def _fetch(self, offset: int, length: int, sink: Callable[[bytes], None]) -> None:
        """Read ``[offset, offset + length)`` into ``sink``; raise :class:`RetryRead` to
        retry."""
        raise NotImplementedError

    def _fetch_size(self) -> int:
        raise NotImplementedError

    def _identity(self) -> str:
        """What besides the path tells two readers' bytes apart (the credentials sent)."""
        return ""

    # -- public
    def size(self) -> int:
        """The file's size in bytes (asked once, then cached)."""
        if self._size is None:
            self._size = self._with_retries(0, self._fetch_size)
        return self._size

    def whole(self) -> Verified | None:
        """The whole file, checked against the listing, when its checksum is known and it is
        at most :func:`~crucible_polars.streaming.checksums.whole_file_limit` bytes; else
        ``None`` (it is read by ranges).

        Raises :class:`~crucible_polars.errors.StreamChecksumError` when it kept arriving
        wrong.
        """
        if self.digest is None:
            return None
        held = self._whole() if self._whole is not None else None
        if held is not None:
            return held
        size = self.size()
        if size > whole_file_limit(self.path):
            return None
        key = (self.path, self.digest, self._identity())
        with self._lock:
            held = VERIFIED.get(key)
            if held is None:
                held = self._fetch_checked(size)  # may find the listing's entry was wrong
                VERIFIED.put((self.path, self.digest, self._identity()), held)
            self._whole = weakref.ref(held)
        return held

    def _fetch_checked(self, size: int) -> Verified:
        failures = 0
        while True:
            data = self._read_range(0, size)
            wrong = check_bytes(data, self.digest)
            if wrong is None:
                return Verified(data)
            fresh = recheck_digest(self.path)  # once: was the listing the wrong one?
            if fresh is not None and checkable(fresh):
                self.digest = fresh
                if check_bytes(data, fresh) is None:
                    return Verified(data)
            failures += 1
            policy = retry_policy()
            if failures >= policy.attempts:
                raise StreamChecksumError(self.path, failures, wrong, rows_used=False)
            time.sleep(policy.wait_before(failures))

    def read_at(self, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset`` (fewer only at the end of the file)."""
        if length <= 0:
            return b""
        held = self.whole()
        if held is not None:
            return held.data[offset : offset + length]
        tail = self._tail
        if tail is not None and tail[0] <= offset and offset + length <= tail[0] + len(tail[1]):
            start = offset - tail[0]
            return tail[1][start : start + length]
        size = self.size()
        length = min(length, size - offset)
        if length <= 0:
            return b""
        if self.digest is None:
            return self._read_range(offset, length)
        if offset == 0 and length == size:  # the whole file in one read: checked before use
            return self._fetch_checked(size).data
        hasher = self._pass_hasher(size)
        start = hasher.start_for(offset)  # a small gap the hash needs comes in the same read
        data = self._read_range(start, offset + length - start)
        hasher.feed(start, data)
        return data[offset - start :]

    def _pass_hasher(self, size: int) -> PassHasher:
        if self._hasher is None:
            assert self.digest is not None
            self._hasher = PassHasher(
                self.path,
                self.digest,
                size,
                fetch=self._read_range,
                tail=lambda: self._tail,
                recheck=lambda: recheck_digest(self.path),
            )
        return self._hasher

    def reread(self) -> None:
        """Say that bytes already read will be read again (a row group that failed to
        decode): the pass that re-reads them is not checked, unless it starts again from
        the start of the file."""
        if self._hasher is not None:
            self._hasher.give_up()

    def forget(self) -> None:
        """Drop what is kept of the file (its tail), after its bytes were found wrong."""
        self._tail = None
        self._whole = None

    def _read_range(self, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset`` (fewer only if the file ends first), retried
        from the byte reached when a read breaks off."""
        parts: list[bytes] = []
        done = [0]

        def sink(chunk: bytes) -> None:
            parts.append(chunk)
            done[0] += len(chunk)

        failures = 0
        while done[0] < length:
            before = done[0]
            try:
                self._fetch(offset + done[0], length - done[0], sink)
            except RetryRead as error:
                failures += 1
                policy = retry_policy()
                if failures >= policy.attempts:
                    raise StreamReadError(
                        self.path, offset + done[0], failures, str(error.args[0])
                    ) from error.__cause__
                time.sleep(policy.wait_before(failures))
                continue
            if done[0] == before:  # nothing more to read: the file is shorter than announced
                break
        data = b"".join(parts)
        return data[:length]

    def read_tail(self, length: int = TAIL_BYTES) -> tuple[int, bytes]:
        """The last ``length`` bytes (fewer for a small file) and their offset; kept cached
        (for a large file with a known checksum, once a second read agrees)."""
        if self._tail is None:
            size = self.size()
            start = max(size - length, 0)
            if self.digest is None or self.whole() is not None:
                data = self.read_at(start, size - start)
            elif start == 0:  # the whole file: checked before use
                data = self._fetch_checked(size).data
            else:
                data = self._agree(lambda: self._read_range(start, size - start))
            self._tail = (start, data)
        return self._tail

    def _agree(self, fetch: Callable[[], bytes]) -> bytes:
        """The bytes ``fetch`` reads, once two reads give the same. The first two run at
        once, so checking costs one more request but no more waiting."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="crucible-tail") as pool:
            other = pool.submit(fetch)
            first = fetch()
            second = other.result()

        def wait(failures: int) -> None:
            time.sleep(retry_policy().wait_before(failures))

        return agreed(self.path, first, second, fetch, max(retry_policy().retries, 1), wait)

    def close(self) -> None:
        """Release what the source holds open (a file handle)."""

    def _with_retries(self, offset: int, call: Callable[[], Any]) -> Any:
        failures = 0
        while True:
            try:
                return call()
            except RetryRead as error:
                failures += 1
                policy = retry_policy()
                if failures >= policy.attempts:
                    raise StreamReadError(
                        self.path, offset, failures, str(error.args[0])
                    ) from error.__cause__
                time.sleep(policy.wait_before(failures))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r})"
