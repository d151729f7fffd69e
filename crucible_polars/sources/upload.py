"""Writing a folder or a file to an fsspec URL (``s3://``, ``memory://``, ...): what
``save_to_disk`` and ``to_parquet`` / ``to_json`` / ``to_csv`` do for a URL, as ``datasets``
does through ``fsspec``.

A local path (or ``file://`` URL) is written in place by the caller, atomically (a sibling
renamed over it). Any other URL cannot rename in one step, so both go through a temporary
sibling (``.{name}.new-{pid}-{random}.tmp``) that is moved in only once it is whole:
:func:`open_upload` gives a file object writing the sibling of one file; :func:`upload_folder`
puts a folder written locally into its sibling first, and then replaces the target file by
file: the old folder's marker files (``state.json``, ``dataset_dict.json``, ...) are removed
first and the new ones moved in last, so a reader never loads a mix of the two folders nor
a folder with shards missing.

Examples
--------
>>> local_path("file:///tmp/saved"), local_path("memory://saved")
(PosixPath('/tmp/saved'), None)
"""

from __future__ import annotations

import os
import posixpath
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = ["local_path", "open_upload", "upload_folder"]


def local_path(
    path: str | os.PathLike[str], storage_options: Mapping[str, Any] | None = None
) -> Path | None:
    """The local file or folder ``path`` names (a path or a ``file://`` URL), or ``None``
    for any other fsspec URL.

    Parameters
    ----------
    path
        A file or folder, or an fsspec URL of one.
    storage_options
        Options of the URL's file system; a local folder takes none.

    Raises
    ------
    ValueError
        ``storage_options`` given with a local path.

    Examples
    --------
    >>> local_path("~/x") == Path("~/x").expanduser(), local_path("s3://bucket/x")
    (True, None)
    """
    text = os.fspath(path)
    if "://" in text and not text.startswith("file://"):
        return None
    if storage_options:
        raise ValueError(
            f"storage_options apply to fsspec URLs; {text!r} is a local path: give "
            "storage_options=None."
        )
    return Path(text.removeprefix("file://")).expanduser()


def _files(local: Path, last: Sequence[str]) -> list[str]:
    """The files below ``local`` (relative POSIX paths), the names in ``last`` at the end in
    that order (the files that make a folder loadable)."""
    found = [p.relative_to(local).as_posix() for p in sorted(local.rglob("*")) if p.is_file()]

    def order(rel: str) -> tuple[int, str]:
        name = posixpath.basename(rel)
        return (last.index(name) if name in last else -1, rel)

    return sorted(found, key=order)


def upload_folder(
    local: Path,
    url: str,
    storage_options: Mapping[str, Any] | None = None,
    *,
    last: Sequence[str] = (),
) -> None:
    """Put the folder ``local`` at ``url``, replacing what is there (see the module).

    Parameters
    ----------
    local
        The folder written locally.
    url
        The target folder's fsspec URL.
    storage_options
        Options of the URL's file system (``fsspec``'s names).
    last
        File names that make the folder loadable: removed first from the old folder, put
        last (in this order) into the new one.

    Examples
    --------
    >>> import fsspec, tempfile
    >>> local = Path(tempfile.mkdtemp())
    >>> _ = (local / "data.txt").write_text("1"); _ = (local / "state.json").write_text("{}")
    >>> upload_folder(local, "memory://upload-doc/saved", last=["state.json"])
    >>> sorted(fsspec.filesystem("memory").ls("/upload-doc/saved", detail=False))
    ['/upload-doc/saved/data.txt', '/upload-doc/saved/state.json']
    """
    import fsspec

    fs, target = fsspec.core.url_to_fs(url, **dict(storage_options or {}))
    target = target.rstrip("/")
    tmp = _sibling(target)
    files = _files(local, last)
    try:
        for rel in files:
            fs.makedirs(posixpath.dirname(posixpath.join(tmp, rel)), exist_ok=True)
            fs.put_file(str(local / rel), posixpath.join(tmp, rel))
    except BaseException:
        _remove(fs, tmp)
        raise
    if fs.exists(target):  # no reader may mix the old files with the new ones
        old = sorted(fs.find(target), key=lambda p: -_rank(p, last))
        for path in old:
            if _rank(path, last) >= 0:
                fs.rm_file(path)
        fs.rm(target, recursive=True)
    for rel in files:
        fs.makedirs(posixpath.dirname(posixpath.join(target, rel)), exist_ok=True)
        fs.mv(posixpath.join(tmp, rel), posixpath.join(target, rel))
    _remove(fs, tmp)


def _sibling(target: str) -> str:
    """A temporary sibling of ``target`` only this process uses."""
    parent, name = posixpath.split(target)
    return posixpath.join(parent, f".{name}.new-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")


@contextmanager
def open_upload(url: str, storage_options: Mapping[str, Any] | None = None) -> Iterator[IO[bytes]]:
    """A binary file object for the file at ``url`` (its folder made if missing): it writes
    a temporary sibling, moved over ``url`` once the block ends; an error inside the block
    removes the sibling and leaves ``url`` as it was.

    Parameters
    ----------
    url
        The file's fsspec URL (``s3://bucket/a.csv``, ``memory://x/a.csv``, ...).
    storage_options
        Options of the URL's file system (``fsspec``'s names).

    Examples
    --------
    >>> import fsspec
    >>> with open_upload("memory://upload-doc/a.txt") as file:
    ...     _ = file.write(b"hi")
    >>> fsspec.filesystem("memory").ls("/upload-doc", detail=False)
    ['/upload-doc/a.txt']
    """
    import fsspec

    fs, target = fsspec.core.url_to_fs(url, **dict(storage_options or {}))
    tmp = _sibling(target.rstrip("/"))
    parent = posixpath.dirname(tmp)
    if parent and not fs.exists(parent):
        fs.makedirs(parent, exist_ok=True)
    try:
        with fs.open(tmp, "wb") as file:
            yield file
        fs.mv(tmp, target)
    except BaseException:
        _remove(fs, tmp)
        raise


def _rank(path: str, last: Sequence[str]) -> int:
    name = posixpath.basename(path)
    return last.index(name) if name in last else -1


def _remove(fs: Any, path: str) -> None:
    try:
        if fs.exists(path):
            fs.rm(path, recursive=True)
    except OSError:  # pragma: no cover - best effort: a leftover temporary sibling
        pass
