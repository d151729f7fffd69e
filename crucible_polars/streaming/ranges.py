"""Byte access for streaming: local files, HTTP(S) range requests, and any fsspec URL.

Every read is a range read at an offset. HTTP(S) requests go through ``huggingface_hub``'s
backoff helpers (:func:`~huggingface_hub.utils.http_stream_backoff`,
:func:`~huggingface_hub.utils.http_backoff`) with :mod:`crucible_polars.retry`'s policy: a 5xx,
a 429 (waiting what ``Retry-After`` or ``RateLimit`` asks), a timeout or a refused connection
(the shared session is reset) is retried with exponential waits. A body that breaks off
part-way (a dropped connection, a read timeout) is asked again *from the byte it had reached*,
with a new ``Range``. After the last try, :class:`~crucible_polars.errors.StreamReadError`
names the file and the byte offset, and says how to resume. Requests time out after
``HF_HUB_DOWNLOAD_TIMEOUT`` seconds without data, as ``huggingface_hub``'s downloads do.

HTTP(S) goes through ``huggingface_hub``'s shared HTTP client, so proxies, ``HF_ENDPOINT``
and the token (sent only to the Hub endpoint the file comes from) behave as in the rest of
the library. fsspec's own HTTP filesystem is not needed (it would require ``aiohttp``).

Examples
--------
>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "a.bin")
>>> _ = open(path, "wb").write(b"0123456789")
>>> source = open_bytes(path)
>>> source.size(), source.read_at(3, 4)
(10, b'3456')
>>> f = RangeFile(source); _ = f.seek(-2, 2); f.read()
b'89'
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from huggingface_hub import constants
from huggingface_hub.utils import (
    build_hf_headers,
    hf_raise_for_status,
    http_backoff,
    http_stream_backoff,
)

from crucible_polars.errors import DataFilesNotFoundError, StreamChecksumError, StreamReadError
from crucible_polars.retry import NETWORK_ERRORS, RETRY_STATUS, retry_policy, transient_reason
from crucible_polars.sources.hub_digests import FileDigest, expected_digest
from crucible_polars.streaming.byte_source import TAIL_BYTES, ByteSource, RetryRead
from crucible_polars.streaming.checksums import whole_file_limit

__all__ = [
    "TAIL_BYTES",
    "ByteSource",
    "FsspecBytes",
    "HttpBytes",
    "LocalBytes",
    "RangeFile",
    "local_path",
    "open_bytes",
]


class LocalBytes(ByteSource):
    """A local file, read with ``os.pread`` (no retries: local errors are not transient)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self._fd: int | None = None

    def _open(self) -> int:
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDONLY)
            except FileNotFoundError:
                raise DataFilesNotFoundError(self.path) from None
        return self._fd

    def _fetch_size(self) -> int:
        return os.fstat(self._open()).st_size

    def _fetch(self, offset: int, length: int, sink: Callable[[bytes], None]) -> None:
        data = os.pread(self._open(), length, offset)
        if data:
            sink(data)

    def close(self) -> None:
        """Close the file descriptor."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class HttpBytes(ByteSource):
    """A file behind an HTTP(S) URL that answers range requests (the Hub's ``resolve`` URLs).

    The token goes only to URLs on the Hub ``endpoint`` the file comes from (default
    ``HF_ENDPOINT``); redirects to another host (the Hub's CDN) do not carry it.

    Parameters
    ----------
    url
        The file's URL.
    token
        A token, ``False`` for none; ``None`` uses ``HF_TOKEN`` or the stored login.
    endpoint
        The Hub the token belongs to (default ``HF_ENDPOINT``).
    digest
        What the repository's file listing says about the file (its bytes are checked
        against it: :mod:`crucible_polars.streaming.checksums`).

    Examples
    --------
    >>> HttpBytes("https://example.com/a.parquet", token="hf_x")._headers
    {}
    """

    def __init__(
        self,
        url: str,
        token: str | bool | None = None,
        endpoint: str | None = None,
        digest: FileDigest | None = None,
    ) -> None:
        super().__init__(url, digest)
        self.url = url
        self._headers = _hub_headers(url, token, endpoint)

    def _identity(self) -> str:
        credentials = self._headers.get("authorization", "")
        return hashlib.sha256(credentials.encode()).hexdigest() if credentials else ""

    def _fetch_size(self) -> int:
        try:
            response = http_backoff("HEAD", self.url, headers=self._headers, **_backoff_options())
        except Exception as error:
            self._give_up(0, error)
        self._check(response)
        length = response.headers.get("content-length")
        if length is None:
            raise StreamReadError(self.url, 0, 1, "the server does not report the file's size")
        return int(length)

    def _give_up(self, offset: int, error: Exception) -> NoReturn:
        """After ``huggingface_hub``'s last retry: a :class:`StreamReadError` if the fault was
        transient (5xx, 429, network), else ``error`` itself."""
        reason = transient_reason(error)
        if reason is None:
            raise error
        raise StreamReadError(self.url, offset, retry_policy().attempts, reason) from error

    def _check(self, response: Any) -> None:
        """Raise for an error status (retried statuses never get here: see
        :func:`_backoff_options`)."""
        status = int(response.status_code)
        if status < 400:
            return
        if status == 404:
            raise DataFilesNotFoundError(self.url, "The server answered 404 Not Found.")
        hf_raise_for_status(response)
        raise StreamReadError(self.url, 0, 1, f"HTTP {status}")  # pragma: no cover

    def _fetch(self, offset: int, length: int, sink: Callable[[bytes], None]) -> None:
        headers = {
            **self._headers,
            "Range": f"bytes={offset}-{offset + length - 1}",
            "Accept-Encoding": "identity",
        }
        try:
            with http_stream_backoff(
                "GET", self.url, headers=headers, **_backoff_options()
            ) as response:
                self._sink_body(response, offset, length, sink)
        except (RetryRead, StreamReadError, DataFilesNotFoundError):
            raise
        except Exception as error:
            self._give_up(offset, error)

    def _sink_body(
        self, response: Any, offset: int, length: int, sink: Callable[[bytes], None]
    ) -> None:
        """Pass ``length`` bytes of ``response``'s body to ``sink``; a body that breaks off
        raises :class:`RetryRead` (caught by :meth:`read_at`, which asks for the rest)."""
        status = int(response.status_code)
        if status == 416:
            return
        if status >= 400:
            response.read()
            self._check(response)
        # 200: the server ignored the range and sends the whole file.
        skip = offset if status == 200 else 0
        remaining = length
        try:
            for chunk in response.iter_bytes():
                if skip:
                    if len(chunk) <= skip:
                        skip -= len(chunk)
                        continue
                    chunk, skip = chunk[skip:], 0
                if len(chunk) >= remaining:
                    sink(chunk[:remaining])
                    return
                sink(chunk)
                remaining -= len(chunk)
        except NETWORK_ERRORS as error:
            raise RetryRead(f"{type(error).__name__}: {error}") from error

    def read_tail(self, length: int = TAIL_BYTES) -> tuple[int, bytes]:
        """The file's last bytes in one suffix-range request, which also tells its size
        (two for a large file with a known checksum: they are kept once both agree)."""
        if self._tail is not None:
            return self._tail
        if self._size is not None and (
            self.digest is None or self._size <= max(whole_file_limit(self.url), length)
        ):
            return super().read_tail(length)

        def call() -> tuple[int, bytes]:
            headers = {**self._headers, "Range": f"bytes=-{length}"}
            try:
                response = http_backoff("GET", self.url, headers=headers, **_backoff_options())
            except Exception as error:
                self._give_up(0, error)
            self._check(response)
            content_range = response.headers.get("content-range", "")
            data = bytes(response.content)
            if response.status_code == 206 and "/" in content_range:
                size = int(content_range.rsplit("/", 1)[1])
                if len(data) != min(length, size):
                    raise RetryRead("truncated response")
                return size, data
            size = len(data)  # 200: the whole file
            return size, data[-length:]

        listed = self.digest.size if self.digest is not None else None
        if listed is None:
            size, data = self._with_retries(0, call)
        else:  # a large file with a known checksum: kept once two reads agree

            def tail() -> bytes:
                told, data = self._with_retries(0, call)
                if told != listed:
                    reason = f"the server says it has {told} bytes, the file listing says {listed}"
                    raise StreamChecksumError(self.url, 1, reason, rows_used=False)
                return bytes(data)

            size, data = listed, self._agree(tail)
        self._size = size
        self._tail = (size - len(data), data)
        return self._tail


class FsspecBytes(ByteSource):
    """A file behind any fsspec URL (``hf://``, ``s3://``, ``gs://``, ...)."""

    def __init__(self, url: str, storage_options: Mapping[str, Any] | None = None) -> None:
        super().__init__(url)
        import fsspec

        self.fs, self.fs_path = fsspec.core.url_to_fs(url, **dict(storage_options or {}))

    def _fetch_size(self) -> int:
        try:
            return int(self.fs.size(self.fs_path))
        except FileNotFoundError:
            raise DataFilesNotFoundError(self.path) from None
        except (OSError, TimeoutError) as error:
            raise RetryRead(f"{type(error).__name__}: {error}") from error

    def _fetch(self, offset: int, length: int, sink: Callable[[bytes], None]) -> None:
        try:
            data = self.fs.cat_file(self.fs_path, start=offset, end=offset + length)
        except (FileNotFoundError, PermissionError):
            raise
        except (OSError, TimeoutError) as error:
            raise RetryRead(f"{type(error).__name__}: {error}") from error
        if data:
            sink(bytes(data))


def _backoff_options() -> dict[str, Any]:
    """Keyword arguments of ``huggingface_hub``'s backoff helpers: the retry policy in force
    (:func:`~crucible_polars.retry.retry_policy`), redirects, ``HF_HUB_DOWNLOAD_TIMEOUT``."""
    policy = retry_policy()
    return {
        "max_retries": policy.retries,
        "base_wait_time": policy.wait,
        "max_wait_time": policy.max_wait,
        "retry_on_status_codes": RETRY_STATUS,
        "follow_redirects": True,
        "timeout": constants.HF_HUB_DOWNLOAD_TIMEOUT,
    }


def _hub_headers(url: str, token: str | bool | None, endpoint: str | None) -> dict[str, str]:
    """``huggingface_hub``'s headers (with the token) for URLs on ``endpoint``, else none."""
    hub = (endpoint or constants.ENDPOINT).rstrip("/")
    if token is False or not url.startswith(hub + "/"):
        return {}
    return dict(build_hf_headers(token=token if isinstance(token, str) else None))


def local_path(path: str) -> str | None:
    """The local path behind ``path`` (a path or a ``file://`` URL), else ``None``.

    Examples
    --------
    >>> local_path("/data/a.parquet"), local_path("file:///data/a.parquet")
    ('/data/a.parquet', '/data/a.parquet')
    >>> local_path("https://host/a.parquet") is None
    True
    """
    if path.startswith("file://"):
        return path[len("file://") :]
    if "://" in path:
        return None
    return path


def open_bytes(
    path: str,
    storage_options: Mapping[str, Any] | None = None,
    token: str | bool | None = None,
    endpoint: str | None = None,
) -> ByteSource:
    """A :class:`ByteSource` for a local path or a URL.

    Parameters
    ----------
    path
        A local path, a ``file://``, ``http(s)://`` or ``hf://`` URL, or any fsspec URL.
    storage_options
        fsspec options; for ``hf://``, those of ``HfFileSystem`` (``token``, ``endpoint``).
    token
        The Hub token, sent only to URLs on ``endpoint``.
    endpoint
        The Hub the token belongs to (default ``HF_ENDPOINT``).

    Examples
    --------
    >>> type(open_bytes("https://example.com/a.parquet")).__name__
    'HttpBytes'
    """
    local = local_path(path)
    if local is not None:
        return LocalBytes(local)
    if path.startswith("hf://"):
        options = dict(storage_options or {})
        token = options.get("token", token)
        endpoint = options.get("endpoint", endpoint)
        path = _hf_resolve_url(path, options)
    if path.startswith(("http://", "https://")):
        return HttpBytes(path, token=token, endpoint=endpoint, digest=expected_digest(path))
    return FsspecBytes(path, storage_options)


def _hf_resolve_url(url: str, storage_options: Mapping[str, Any]) -> str:
    """The Hub ``resolve`` URL of an ``hf://`` file (exact range requests, like any Hub file),
    at the commit its revision points to."""
    from huggingface_hub import HfFileSystem, hf_hub_url

    resolved: Any = HfFileSystem(**storage_options).resolve_path(url)
    if not hasattr(resolved, "repo_id"):  # a storage bucket, not a repository
        return url
    return hf_hub_url(
        resolved.repo_id,
        resolved.path_in_repo,
        repo_type=resolved.repo_type,
        revision=resolved.revision,
        endpoint=storage_options.get("endpoint"),
    )


class RangeFile(io.RawIOBase):
    """A read-only, seekable file object over a :class:`ByteSource` (what pyarrow reads).

    Every ``read`` is one range read; nothing is fetched ahead (except a small file whose
    checksum is known, fetched and checked whole on the first read).
    """

    def __init__(self, source: ByteSource, start: int = 0) -> None:
        super().__init__()
        self.source = source
        self._pos = start
        self.name = source.path
        self._whole: bytes | None = None
        self._asked = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            self._pos = offset
        elif whence == io.SEEK_CUR:
            self._pos += offset
        else:
            self._pos = self.source.size() + offset
        return self._pos

    def size(self) -> int:
        """The file's size (pyarrow asks for it)."""
        return self.source.size()

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = max(self.source.size() - self._pos, 0)
        if not self._asked:  # a checked whole file stays in memory while this reader lives
            held = self.source.whole()
            self._whole, self._asked = (held.data if held is not None else None), True
        if self._whole is not None:
            data = self._whole[self._pos : self._pos + max(size, 0)]
        else:
            data = self.source.read_at(self._pos, size)
        self._pos += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)
