"""Archives (zip, tar, compressed tar): list their files and extract them once, safely.

:func:`extract_archive` extracts into ``cache_root/<key>/`` where ``key`` is the SHA-256
of the archive's resolved path, size and modification time, so a second call (or a second
process) reuses the folder. Extraction happens in a temporary sibling folder that is
renamed into place only once complete: the target folder is either absent or whole. The
temporary folder is owned through a file lock (:mod:`crucible_polars.sources.leftovers`):
one left by a process killed mid-extraction is removed by the next extraction.

Safety: a member with an absolute path, a drive letter, a ``..`` component, a link whose
target leaves the archive, or a device/fifo is refused with
:class:`~crucible_polars.errors.UnsafeArchiveError` (tar members also pass the stdlib's
``tarfile.data_filter``, PEP 706, against the real destination), as is an archive bomb (too many
members, or more bytes than ``max_total_bytes`` -- counted both from the headers and from
the bytes actually written, so a lying header cannot bypass the limit). Links that stay
inside the archive are materialized as copies: no symlink or hard link is ever created.

Member names, links and bombs are checked by :mod:`crucible_polars.readers.archive_members`;
this module writes: files counted as they are written, links as copies, atomic rename.

Examples
--------
>>> import os, tempfile, zipfile
>>> tmp = tempfile.mkdtemp()
>>> path = os.path.join(tmp, "data.zip")
>>> with zipfile.ZipFile(path, "w") as zf:
...     zf.writestr("train/a.jsonl", '{"x": 1}\\n')
>>> is_archive(path), list_archive_members(path)
(True, ['train/a.jsonl'])
>>> folder = extract_archive(path, os.path.join(tmp, "extracted"))
>>> (folder / "train" / "a.jsonl").read_text()
'{"x": 1}\\n'
>>> extract_archive(path, os.path.join(tmp, "extracted")) == folder
True
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import uuid
import zipfile
import zlib
from pathlib import Path
from typing import IO

from crucible_polars.errors import DataFileError, DataFilesNotFoundError, UnsafeArchiveError
from crucible_polars.readers.archive_members import (
    ARCHIVE_SUFFIXES,
    DEFAULT_MAX_MEMBERS,
    RATIO_CHECK_FLOOR,
    ArchiveEntry,
    Budget,
    is_archive,
    iter_entries,
    list_archive_members,
)
from crucible_polars.sources.leftovers import TEMPORARY_MARK, owned_temporary, sweep_temporaries

DEFAULT_MAX_TOTAL_BYTES = 20 * 2**30
DEFAULT_MAX_RATIO = 1000.0
_CACHE_KEY_VERSION = "crucible-archive-v1"
_COPY_BLOCK = 1 << 20
_CORRUPT_MEMBER_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    tarfile.TarError,
    zlib.error,
    EOFError,
    NotImplementedError,  # zipfile: unsupported compression method
    RuntimeError,  # zipfile: encrypted member
)


def _inside(root_real: str, path: Path) -> bool:
    real = os.path.realpath(path)
    return real == root_real or real.startswith(root_real + os.sep)


def _conflict(archive: str, name: str, exc: OSError) -> DataFileError:
    return DataFileError(archive, f"member {name!r} conflicts with another member ({exc})")


_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
_OPEN_FLAGS |= getattr(os, "O_BINARY", 0)


def _write_file(archive: str, name: str, source: IO[bytes], dest: Path, budget: Budget) -> int:
    """Copy ``source`` to ``dest``, counting bytes before they are written."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(dest, _OPEN_FLAGS, 0o666)
    except (FileExistsError, IsADirectoryError, NotADirectoryError) as exc:
        raise _conflict(archive, name, exc) from None
    written = 0
    with open(fd, "wb") as out:
        while True:
            try:
                block = source.read(_COPY_BLOCK)
            except _CORRUPT_MEMBER_ERRORS as exc:
                raise DataFileError(archive, f"member {name!r} is corrupt ({exc})") from None
            if not block:
                break
            budget.write(name, len(block))
            written += len(block)
            out.write(block)
    return written


def _extract_into(archive: str, root: Path, budget: Budget) -> None:
    root_real = os.path.realpath(root)
    links: dict[tuple[str, ...], ArchiveEntry] = {}

    def destination(entry: ArchiveEntry) -> Path:
        dest = root.joinpath(*entry.parts)
        if not _inside(root_real, dest):
            raise UnsafeArchiveError(archive, entry.name, "would be written outside the target")
        return dest

    for entry in iter_entries(archive, budget.max_members, root, budget):
        budget.member(entry.name)
        if not entry.parts:  # "./" itself
            continue
        dest = destination(entry)
        if entry.kind == "dir":
            try:
                dest.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError) as exc:
                raise _conflict(archive, entry.name, exc) from None
        elif entry.kind == "file":
            assert entry.open is not None
            budget.declare(entry.name, entry.size)
            links.pop(entry.parts, None)
            try:
                source = entry.open()
            except _CORRUPT_MEMBER_ERRORS as exc:
                raise DataFileError(
                    archive, f"member {entry.name!r} is unreadable ({exc})"
                ) from None
            with source:
                written = _write_file(archive, entry.name, source, dest, budget)
            if entry.exact_size and written != entry.size:
                raise UnsafeArchiveError(
                    archive,
                    entry.name,
                    f"declares {entry.size} bytes but holds {written} (a lying header)",
                )
        else:
            links[entry.parts] = entry
    _materialize_links(archive, root, root_real, list(links.values()), budget)


def _materialize_links(
    archive: str, root: Path, root_real: str, pending: list[ArchiveEntry], budget: Budget
) -> None:
    """Replace internal links by copies of their targets (dangling links are dropped)."""
    while pending:
        rest: list[ArchiveEntry] = []
        for entry in pending:
            if entry.link == entry.parts:
                continue  # a link to itself: nothing to copy
            source = root.joinpath(*entry.link)
            dest = root.joinpath(*entry.parts)
            if not (_inside(root_real, source) and _inside(root_real, dest)):
                raise UnsafeArchiveError(archive, entry.name, "is a link outside the target")
            if source.is_file():
                with open(source, "rb") as f:
                    _write_file(archive, entry.name, f, dest, budget)
            elif source.is_dir():
                if entry.parts[: len(entry.link)] == entry.link:
                    raise UnsafeArchiveError(archive, entry.name, "is a link to its own parent")
                _copy_tree(archive, entry.name, source, dest, budget)
            else:
                rest.append(entry)
        if len(rest) == len(pending):
            return  # dangling, or links to links that never resolve
        pending = rest


def _copy_tree(archive: str, name: str, source: Path, dest: Path, budget: Budget) -> None:
    for folder, dirnames, filenames in os.walk(source):
        dirnames.sort()
        rel = Path(folder).relative_to(source)
        try:
            (dest / rel).mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise _conflict(archive, name, exc) from None
        for filename in sorted(filenames):
            budget.member(name)
            with open(Path(folder) / filename, "rb") as f:
                _write_file(archive, name, f, dest / rel / filename, budget)


def _cache_key(archive: str, st: os.stat_result) -> str:
    ident = f"{_CACHE_KEY_VERSION}\0{os.path.realpath(archive)}\0{st.st_size}\0{st.st_mtime_ns}"
    return hashlib.sha256(ident.encode("utf-8", "surrogateescape")).hexdigest()


def extracted_path(
    archive_path: str | os.PathLike[str], cache_root: str | os.PathLike[str]
) -> Path:
    """Where :func:`extract_archive` puts (or has put) ``archive_path``'s files.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a.zip")
    >>> open(path, "wb").close()
    >>> folder = extracted_path(path, tempfile.gettempdir())
    >>> len(folder.name), folder.exists()
    (64, False)
    """
    archive = os.fspath(archive_path)
    try:
        st = os.stat(archive)
    except FileNotFoundError:
        raise DataFilesNotFoundError(archive) from None
    return Path(os.path.abspath(cache_root)) / _cache_key(archive, st)


def extract_archive(
    archive_path: str | os.PathLike[str],
    cache_root: str | os.PathLike[str],
    *,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    max_members: int = DEFAULT_MAX_MEMBERS,
    max_ratio: float | None = DEFAULT_MAX_RATIO,
) -> Path:
    """Extract an archive once into ``cache_root/<key>/`` and return that folder.

    ``key`` is the SHA-256 of the archive's resolved path, size and modification time.
    If the folder exists it is returned as is (whatever limits extracted it). Otherwise
    the archive is extracted into a temporary sibling folder, renamed into place when
    complete; when two processes race, both return the one intact folder. On any error
    the temporary folder is removed and nothing is left behind; temporary folders of
    processes killed mid-extraction are removed first.

    Parameters
    ----------
    archive_path
        A local ``.zip``, ``.tar``, ``.tar.gz``/``.tgz``, ``.tar.bz2``/``.tbz2``,
        ``.tar.xz``/``.txz`` or ``.tar.zst`` file (other names are sniffed).
    cache_root
        The folder holding extracted archives; created if needed.
    max_total_bytes
        Refuse archives holding more bytes than this in total (declared or written).
    max_members
        Refuse archives with more members than this.
    max_ratio
        Refuse archives that expand to more than ``max_ratio`` times their own size, once
        more than :data:`RATIO_CHECK_FLOOR` bytes are out. ``None`` disables the check.

    Returns
    -------
    Path
        The extracted folder.

    Raises
    ------
    UnsafeArchiveError
        A member escaping the target (absolute path, ``..``, drive letter, link outside),
        a device or fifo, or an archive bomb; names the archive and the member.
    DataFileError
        A corrupt or truncated archive.
    DataFilesNotFoundError
        ``archive_path`` does not exist.

    Examples
    --------
    >>> import io, os, tarfile, tempfile
    >>> tmp = tempfile.mkdtemp()
    >>> path = os.path.join(tmp, "evil.tar")
    >>> with tarfile.open(path, "w") as tf:
    ...     tf.addfile(tarfile.TarInfo("../evil"), io.BytesIO(b""))
    >>> extract_archive(path, os.path.join(tmp, "cache"))
    Traceback (most recent call last):
    ...
    crucible_polars.errors.UnsafeArchiveError: Refusing archive ...: member '../evil' has a '..' ...
    >>> os.listdir(os.path.join(tmp, "cache"))
    []
    """
    archive = os.fspath(archive_path)
    target = extracted_path(archive, cache_root)
    if target.is_dir():
        return target
    root = target.parent
    root.mkdir(parents=True, exist_ok=True)
    budget = Budget(
        archive, max_total_bytes, max_members, max_ratio, max(os.path.getsize(archive), 1)
    )
    sweep_temporaries(root)  # what extractions killed before left
    with owned_temporary(root / f".{target.name}{TEMPORARY_MARK}{uuid.uuid4().hex}") as tmp:
        tmp.mkdir()
        try:
            _extract_into(archive, tmp, budget)
            try:
                os.rename(tmp, target)
            except OSError:
                if not target.is_dir():
                    raise
                shutil.rmtree(tmp, ignore_errors=True)  # another process finished first
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return target


__all__ = [
    "ARCHIVE_SUFFIXES",
    "DEFAULT_MAX_MEMBERS",
    "DEFAULT_MAX_RATIO",
    "DEFAULT_MAX_TOTAL_BYTES",
    "RATIO_CHECK_FLOOR",
    "extract_archive",
    "extracted_path",
    "is_archive",
    "list_archive_members",
]
