"""Bytes from a URL: open an ``fsspec`` URL for reading, or copy it once into the cache.

``<cache>`` (:func:`cache_root`) holds remote files downloaded once (``downloads/``) and the
archives extracted from them (``extracted/``, see :mod:`crucible_polars.readers.archives`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO, Any


def cache_root() -> Path:
    """The folder that holds extracted archives and downloaded remote archives.

    ``$CRUCIBLE_POLARS_CACHE`` if set, else ``crucible_polars`` inside the ``datasets``
    cache (``$HF_DATASETS_CACHE``, default ``$HF_HOME/datasets``).

    Examples
    --------
    >>> import os
    >>> os.environ["CRUCIBLE_POLARS_CACHE"] = "/tmp/crucible-cache"
    >>> str(cache_root())
    '/tmp/crucible-cache'
    >>> del os.environ["CRUCIBLE_POLARS_CACHE"]
    """
    explicit = os.environ.get("CRUCIBLE_POLARS_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    datasets_cache = os.environ.get("HF_DATASETS_CACHE")
    if not datasets_cache:
        from huggingface_hub import constants

        datasets_cache = os.path.join(constants.HF_HOME, "datasets")
    return Path(datasets_cache).expanduser() / "crucible_polars"


def local_copy(path: str, storage_options: dict[str, Any] | None = None) -> str:
    """``path`` itself if local, else a copy downloaded once into ``<cache>/downloads``.

    Parameters
    ----------
    path
        A local path, a ``file://`` URL or any ``fsspec`` URL.
    storage_options
        Passed to ``fsspec`` for a remote ``path``.

    Examples
    --------
    >>> local_copy("/data/a.zip")
    '/data/a.zip'
    """
    if "://" not in path or path.startswith("file://"):
        return path.removeprefix("file://")
    key = hashlib.sha256((path + _version(path, storage_options)).encode()).hexdigest()[:32]
    name = PurePosixPath(path.split("::")[0].split("?")[0]).name  # zip://a.csv::x.zip: a.csv
    target = cache_root() / "downloads" / f"{key}-{name}"
    if target.is_file():
        return str(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open_url(path, storage_options) as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return str(target)


def _version(url: str, storage_options: dict[str, Any] | None) -> str:
    """A key that changes with the file (size, mtime...) for file systems that give one
    cheaply; empty for HTTP and the Hub, whose URLs are downloaded once."""
    if url.split("://", 1)[0].lower() in ("http", "https", "hf"):
        return ""
    import fsspec

    try:
        fs, inner = fsspec.core.url_to_fs(url, **(storage_options or {}))
        return str(fs.ukey(inner))
    except (OSError, NotImplementedError, ValueError):
        return ""


@contextmanager
def open_url(url: str, storage_options: dict[str, Any] | None = None) -> Iterator[IO[bytes]]:
    """Open an fsspec URL (``hf://``, ``s3://``, ...) for reading; plain ``urllib`` serves
    ``http(s)://`` when fsspec's HTTP backend (aiohttp) is not installed.

    Parameters
    ----------
    url
        The URL to read.
    storage_options
        Passed to ``fsspec.open``.

    Examples
    --------
    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a.bin"); _ = open(path, "wb").write(b"hi")
    >>> with open_url(f"file://{path}") as f:
    ...     f.read()
    b'hi'
    """
    import fsspec

    try:
        # the OpenFile is kept (and entered) so that a chained URL's outer file stays open
        # while the member is read (zip://train.jsonl::data.zip)
        handle: Any = fsspec.open(url, "rb", **(storage_options or {}))
        opened = handle.__enter__()
    except ImportError:
        if not url.startswith(("http://", "https://")):
            raise
        import urllib.request

        handle, opened = None, urllib.request.urlopen(url, timeout=60)
    try:
        yield opened
    finally:
        if handle is not None:
            handle.__exit__(None, None, None)
        else:
            opened.close()


__all__ = ["cache_root", "local_copy", "open_url"]
