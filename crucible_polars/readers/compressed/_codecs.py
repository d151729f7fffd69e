"""Compressed data files: tell them by their suffix and decompress them as a stream.

:func:`open_decompressed` reads gzip, bz2, xz and zstd files chunk by chunk, never the whole
file at once, and names the file when its stream is corrupt or truncated.

Examples
--------
>>> import gzip, io
>>> compression_of("a/train.jsonl.gz"), strip_compression_suffix("a/train.jsonl.gz")
('gzip', 'a/train.jsonl')
>>> open_decompressed(io.BytesIO(gzip.compress(b"a\\n")), "gzip").read()
b'a\\n'
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import zlib
from collections.abc import Mapping
from typing import IO, Any, BinaryIO

import zstandard

from crucible_polars.errors import DataFileError, UnsupportedFormatError

__all__ = [
    "COMPRESSIONS",
    "COMPRESSION_SUFFIXES",
    "POLARS_NATIVE",
    "compression_of",
    "normalize_compression",
    "open_decompressed",
    "open_path",
    "strip_compression_suffix",
]


COMPRESSION_SUFFIXES: dict[str, str] = {
    ".gz": "gzip",
    ".bz2": "bz2",
    ".xz": "xz",
    ".zst": "zstd",
    ".zstd": "zstd",
}
"""File suffix -> compression name, for every compression this module can read."""

COMPRESSIONS: tuple[str, ...] = ("gzip", "bz2", "xz", "zstd")
"""The compressions :func:`open_decompressed` reads."""

POLARS_NATIVE: frozenset[str] = frozenset({"gzip", "zstd"})
"""Compressions that ``pl.scan_ndjson`` / ``pl.scan_csv`` read directly (Polars >= 2.1)."""

_ALIASES: dict[str, str] = {
    "gzip": "gzip",
    "gz": "gzip",
    "bz2": "bz2",
    "bzip2": "bz2",
    "xz": "xz",
    "lzma": "xz",
    "zstd": "zstd",
    "zst": "zstd",
}

_ZSTD_MAX_WINDOW = 1 << 31  # accept frames written with ``zstd --long=31``
_ZSTD_FEED = 4 << 10  # compressed bytes per decompress call: at most ~128 MiB out


# --------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------


def _basename(path: str) -> str:
    name = path.split("?", 1)[0] if "://" in path else path
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def compression_of(path: str | os.PathLike[str]) -> str | None:
    """The compression of ``path`` from its suffix, or ``None`` for a plain file.

    ``.tar.gz`` and friends are gzip too; check
    :func:`crucible_polars.readers.archives.is_archive` first to treat them as archives.

    Examples
    --------
    >>> compression_of("a/train.jsonl.gz"), compression_of("b.CSV.ZST")
    ('gzip', 'zstd')
    >>> compression_of("c.parquet") is None
    True
    """
    name = _basename(os.fspath(path)).lower()
    for suffix, compression in COMPRESSION_SUFFIXES.items():
        if name.endswith(suffix) and len(name) > len(suffix):
            return compression
    return None


def strip_compression_suffix(path: str) -> str:
    """``path`` without its compression suffix (unchanged when it has none).

    Examples
    --------
    >>> strip_compression_suffix("a/train.jsonl.gz")
    'a/train.jsonl'
    >>> strip_compression_suffix("a/train.jsonl")
    'a/train.jsonl'
    """
    lower = path.lower()
    if compression_of(path) is None:
        return path
    for suffix in sorted(COMPRESSION_SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix):
            return path[: -len(suffix)]
    return path  # pragma: no cover - compression_of found a suffix


def normalize_compression(compression: str | None) -> str | None:
    """The canonical name of ``compression`` (``"gz"`` -> ``"gzip"``); ``None`` stays ``None``.

    Parameters
    ----------
    compression
        A compression name or alias, or ``None``.

    Raises
    ------
    UnsupportedFormatError
        An unknown compression.

    Examples
    --------
    >>> normalize_compression("GZ"), normalize_compression("lzma"), normalize_compression(None)
    ('gzip', 'xz', None)
    """
    if compression is None:
        return None
    try:
        return _ALIASES[compression.lower()]
    except KeyError:
        raise UnsupportedFormatError(f"compression {compression!r}", COMPRESSIONS) from None


# --------------------------------------------------------------------------------------
# Streaming decompression
# --------------------------------------------------------------------------------------


class _ZstdReader:
    """Streaming zstd decompression across frames that notices truncated input.

    One ``decompressobj`` per frame: at the frame's end ``.eof`` turns true and
    ``.unused_data`` holds the bytes after it (the next frame, or a skippable one); input
    that ends while a frame's ``.eof`` is still false was truncated. ``decompressobj`` has
    no output limit, so input goes in :data:`_ZSTD_FEED` bytes at a time, which bounds what
    one call can expand to (zstd tops out near 32,000:1).
    """

    def __init__(self, fileobj: IO[bytes]) -> None:
        self._fileobj = fileobj
        self._decompressor = zstandard.ZstdDecompressor(max_window_size=_ZSTD_MAX_WINDOW)
        self._frame: Any = None  # the decompressobj of the frame being read
        self._input = b""
        self._output = memoryview(b"")  # decompressed, not yet read

    def _decompress_more(self) -> bool:
        """Decompress one more piece of input; ``False`` at a clean end of the stream."""
        if not self._input:
            self._input = self._fileobj.read(_ZSTD_FEED)
            if not self._input:
                if self._frame is not None:
                    raise EOFError("zstd stream ended in the middle of a frame")
                return False
        if self._frame is None:
            self._frame = self._decompressor.decompressobj()
        self._output = memoryview(self._frame.decompress(self._input))
        self._input = b""
        if self._frame.eof:
            self._input, self._frame = self._frame.unused_data, None
        return True

    def read(self, size: int = -1) -> bytes:
        parts: list[memoryview] = []
        wanted = size
        while wanted != 0 and (self._output or self._decompress_more()):
            take = len(self._output) if wanted < 0 else min(wanted, len(self._output))
            parts.append(self._output[:take])
            self._output = self._output[take:]
            wanted = wanted - take if wanted > 0 else wanted
        return b"".join(parts)

    def close(self) -> None:
        self._output = memoryview(b"")


_CORRUPT_ERRORS: tuple[type[BaseException], ...] = (
    EOFError,
    zlib.error,
    lzma.LZMAError,
    zstandard.ZstdError,
    gzip.BadGzipFile,
)


class _DecompressingRaw(io.RawIOBase):
    """Raw reader over a decompressor that names the file when the stream is corrupt."""

    def __init__(
        self,
        inner: Any,
        compression: str | None,
        name: str,
        closables: list[Any],
    ) -> None:
        super().__init__()
        self._inner = inner
        self._compression = compression
        self.name = name
        self._closables = closables

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        try:
            data = self._inner.read(len(view))
        except _CORRUPT_ERRORS as exc:
            raise self._corrupt(exc) from exc
        except OSError as exc:
            # bz2 reports bad data as a bare OSError("Invalid data stream"); real I/O
            # failures (missing file, network, permissions) carry an errno or a subclass.
            if type(exc) is OSError and exc.errno is None:
                raise self._corrupt(exc) from exc
            raise
        n = len(data)
        view[:n] = data
        return n

    def _corrupt(self, exc: BaseException) -> DataFileError:
        what = f"{self._compression} stream" if self._compression else "file"
        return DataFileError(self.name, f"corrupt or truncated {what} ({exc})")

    def close(self) -> None:
        if not self.closed:
            try:
                for closable in self._closables:
                    closable.close()
            finally:
                super().close()


def _name_of(source: Any) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    for attr in ("path", "name"):
        value = getattr(source, attr, None)
        if isinstance(value, str):
            return value
    return repr(source)


def _wrap(
    fileobj: IO[bytes], compression: str | None, name: str, owned: bool, opener: Any = None
) -> BinaryIO:
    closables: list[Any] = []
    inner: Any
    if compression is None:
        inner = fileobj
    elif compression == "gzip":
        inner = gzip.GzipFile(fileobj=fileobj, mode="rb")
    elif compression == "bz2":
        inner = bz2.BZ2File(fileobj, mode="rb")
    elif compression == "xz":
        inner = lzma.LZMAFile(fileobj, mode="rb")  # noqa: SIM115 - closed by the reader
    else:
        inner = _ZstdReader(fileobj)
    if inner is not fileobj:
        closables.append(inner)
    if owned:
        closables.append(fileobj)
    if opener is not None:  # an fsspec OpenFile: closing it closes a chained URL's outer file
        closables.append(opener)
    raw = _DecompressingRaw(inner, compression, name, closables)
    return io.BufferedReader(raw, buffer_size=1 << 20)


def open_decompressed(
    source: str | os.PathLike[str] | IO[bytes],
    compression: str | None,
    *,
    name: str | None = None,
) -> BinaryIO:
    """A binary reader that decompresses ``source`` as it is read.

    Never reads the whole file into memory. Reading a corrupt or truncated stream raises
    :class:`~crucible_polars.errors.DataFileError` naming the file.

    Parameters
    ----------
    source
        A local path (opened here and closed with the reader) or any readable binary file
        object, e.g. an ``fsspec`` file (left open when the reader is closed).
    compression
        ``"gzip"``, ``"bz2"``, ``"xz"``, ``"zstd"`` (or an alias such as ``"gz"``), or
        ``None`` to read the bytes as they are.
    name
        The file name used in error messages; defaults to the path or ``source.path`` /
        ``source.name``.

    Returns
    -------
    BinaryIO
        A buffered reader with ``read``, ``readline`` and ``peek``.

    Examples
    --------
    >>> import gzip, io
    >>> raw = io.BytesIO(gzip.compress(b"a\\nb\\n"))
    >>> with open_decompressed(raw, "gzip") as f:
    ...     f.readline(), f.read()
    (b'a\\n', b'b\\n')
    >>> open_decompressed(io.BytesIO(b"not gzip"), "gzip", name="x.gz").read()
    Traceback (most recent call last):
    ...
    crucible_polars.errors.DataFileError: x.gz: corrupt or truncated gzip stream ...
    """
    compression = normalize_compression(compression)
    label = name if name is not None else _name_of(source)
    if isinstance(source, (str, os.PathLike)):
        fileobj: IO[bytes] = open(source, "rb")  # noqa: SIM115 - closed by the reader
        try:
            return _wrap(fileobj, compression, label, owned=True)
        except BaseException:
            fileobj.close()
            raise
    return _wrap(source, compression, label, owned=False)


def open_path(
    path: str, compression: str | None, storage_options: Mapping[str, Any] | None = None
) -> BinaryIO:
    """Open a local path or an fsspec URL as a decompressing reader that owns the file.

    Parameters
    ----------
    path
        A local path or an ``fsspec`` URL.
    compression
        As for :func:`open_decompressed`.
    storage_options
        Passed to ``fsspec.open`` for a URL.

    Examples
    --------
    >>> import gzip, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a.gz")
    >>> _ = open(path, "wb").write(gzip.compress(b"hi"))
    >>> with open_path(path, "gzip") as f:
    ...     f.read()
    b'hi'
    """
    if "://" not in path:
        return open_decompressed(path, compression)
    import fsspec

    opener = fsspec.open(path, mode="rb", **dict(storage_options or {}))
    fileobj = opener.__enter__()  # the OpenFile is kept: a chained URL's outer file stays open
    try:
        return _wrap(fileobj, normalize_compression(compression), path, True, opener)
    except BaseException:
        fileobj.close()
        raise
