"""Archives (zip, tar, compressed tar): list their files and extract them once, safely.

:func:`extract_archive` extracts into ``cache_root/<key>/`` where ``key`` is the SHA-256
of the archive's resolved path, size and modification time, so a second call (or a second
process) reuses the folder. Extraction happens in a temporary sibling folder that is
renamed into place only once complete: the target folder is either absent or whole.

Safety: a member with an absolute path, a drive letter, a ``..`` component, a link whose
target leaves the archive, or a device/fifo is refused with
:class:`~crucible_polars.errors.UnsafeArchiveError`, as is an archive bomb (too many
members, or more bytes than ``max_total_bytes`` -- counted both from the headers and from
the bytes actually written, so a lying header cannot bypass the limit). Links that stay
inside the archive are materialized as copies: no symlink or hard link is ever created.

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

import copy
import hashlib
import os
import re
import shutil
import stat
import tarfile
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from crucible_polars.errors import DataFileError, DataFilesNotFoundError, UnsafeArchiveError
from crucible_polars.readers.compressed import open_decompressed

ARCHIVE_SUFFIXES: dict[str, tuple[str, str | None]] = {
    ".tar.gz": ("tar", "gzip"),
    ".tgz": ("tar", "gzip"),
    ".tar.bz2": ("tar", "bz2"),
    ".tbz2": ("tar", "bz2"),
    ".tbz": ("tar", "bz2"),
    ".tar.xz": ("tar", "xz"),
    ".txz": ("tar", "xz"),
    ".tar.zst": ("tar", "zstd"),
    ".tar.zstd": ("tar", "zstd"),
    ".tzst": ("tar", "zstd"),
    ".tar": ("tar", None),
    ".zip": ("zip", None),
}
"""Archive suffix -> (``"zip"`` or ``"tar"``, compression of the tar stream)."""

DEFAULT_MAX_TOTAL_BYTES = 20 * 2**30
DEFAULT_MAX_MEMBERS = 1_000_000
DEFAULT_MAX_RATIO = 1000.0
RATIO_CHECK_FLOOR = 16 << 20
"""The compression-ratio limit applies only once more than this many bytes are out (16 MiB)."""

_CACHE_KEY_VERSION = "crucible-archive-v1"
_COPY_BLOCK = 1 << 20
_MAX_LINK_TARGET = 4096
_DRIVE = re.compile(r"^[A-Za-z]:")
_COMPRESSION_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
_CORRUPT_MEMBER_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    tarfile.TarError,
    zlib.error,
    EOFError,
    NotImplementedError,  # zipfile: unsupported compression method
    RuntimeError,  # zipfile: encrypted member
)


def is_archive(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a zip or (compressed) tar archive, judging by its suffix.

    Examples
    --------
    >>> is_archive("data/train.tar.gz"), is_archive("x.ZIP"), is_archive("a.jsonl.gz")
    (True, True, False)
    """
    return _suffix_kind(os.fspath(path)) is not None


def _suffix_kind(path: str) -> tuple[str, str | None] | None:
    name = path.replace("\\", "/").rsplit("/", 1)[-1].lower()
    for suffix, kind in ARCHIVE_SUFFIXES.items():
        if name.endswith(suffix) and len(name) > len(suffix):
            return kind
    return None


def _archive_kind(path: str) -> tuple[str, str | None]:
    """``("zip" | "tar", compression)`` from the suffix, else from the first bytes."""
    kind = _suffix_kind(path)
    if kind is not None:
        return kind
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip", None
    compression = next((c for magic, c in _COMPRESSION_MAGIC if head.startswith(magic)), None)
    try:
        with open_decompressed(path, compression) as reader:
            block = reader.read(512)
    except DataFileError:
        block = b""
    if block[257:262] == b"ustar":
        return "tar", compression
    raise DataFileError(path, "not a zip or tar archive")


# --------------------------------------------------------------------------------------
# Members
# --------------------------------------------------------------------------------------


@dataclass
class _Entry:
    name: str  # as stored in the archive
    parts: tuple[str, ...]  # safe relative path components
    kind: str  # "file" | "dir" | "symlink" | "hardlink"
    size: int = 0  # declared uncompressed size
    link: tuple[str, ...] = ()  # link target, relative to the archive root
    open: Callable[[], IO[bytes]] | None = None
    exact_size: bool = False  # whether the content must have exactly ``size`` bytes


def _safe_parts(archive: str, name: str) -> tuple[str, ...]:
    """The components of member ``name``, or :class:`UnsafeArchiveError`."""
    if "\x00" in name:
        raise UnsafeArchiveError(archive, name, "has a NUL byte in its name")
    norm = name.replace("\\", "/")
    if norm.startswith("/"):
        raise UnsafeArchiveError(archive, name, "is an absolute path")
    if _DRIVE.match(norm):
        raise UnsafeArchiveError(archive, name, "starts with a drive letter")
    parts = tuple(p for p in norm.split("/") if p not in ("", "."))
    if ".." in parts:
        raise UnsafeArchiveError(archive, name, "has a '..' component (escapes the target)")
    return parts


def _link_target(
    archive: str, name: str, parts: tuple[str, ...], target: str, symlink: bool
) -> tuple[str, ...]:
    """Resolve a link target within the archive (lexically), refusing escapes."""
    what = "symlink" if symlink else "hard link"
    norm = target.replace("\\", "/")
    if not norm:
        raise UnsafeArchiveError(archive, name, f"is a {what} with an empty target")
    if norm.startswith("/") or _DRIVE.match(norm) or "\x00" in norm:
        raise UnsafeArchiveError(archive, name, f"is a {what} to an absolute path ({target!r})")
    resolved = list(parts[:-1]) if symlink else []
    for part in norm.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not resolved:
                raise UnsafeArchiveError(
                    archive, name, f"is a {what} whose target {target!r} escapes the target"
                )
            resolved.pop()
        else:
            resolved.append(part)
    return tuple(resolved)


def _count(archive: str, name: str, count: int, max_members: int) -> None:
    if count > max_members:
        raise UnsafeArchiveError(
            archive, name, f"is beyond the limit of max_members={max_members} members"
        )


def _iter_entries(
    archive: str, max_members: int, budget: _Budget | None = None
) -> Iterator[_Entry]:
    kind, compression = _archive_kind(archive)
    if kind == "zip":
        yield from _iter_zip(archive, max_members, budget)
    else:
        yield from _iter_tar(archive, compression, max_members)


def _iter_zip(archive: str, max_members: int, budget: _Budget | None) -> Iterator[_Entry]:
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise DataFileError(archive, f"not a valid zip archive ({exc})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > max_members:
            _count(archive, infos[max_members].filename, len(infos), max_members)
        if budget is not None:  # refuse a bomb before writing anything
            precheck = copy.copy(budget)
            for info in infos:
                precheck.declare(info.filename, info.file_size)
        for info in infos:
            name = info.filename
            parts = _safe_parts(archive, name)
            mode = info.external_attr >> 16
            ftype = stat.S_IFMT(mode)
            if info.is_dir() or ftype == stat.S_IFDIR:
                yield _Entry(name, parts, "dir")
                continue
            if ftype and ftype not in (stat.S_IFREG, stat.S_IFLNK):
                raise UnsafeArchiveError(archive, name, "is a device, fifo or socket")
            if info.flag_bits & 0x1:
                raise DataFileError(archive, f"member {name!r} is encrypted; decrypt it first")
            if not parts:
                raise UnsafeArchiveError(archive, name, "has an empty name")
            if ftype == stat.S_IFLNK:
                with zf.open(info) as f:
                    raw = f.read(_MAX_LINK_TARGET + 1)
                if len(raw) > _MAX_LINK_TARGET:
                    raise UnsafeArchiveError(archive, name, "is a symlink with a huge target")
                target = raw.decode("utf-8", "surrogateescape")
                link = _link_target(archive, name, parts, target, symlink=True)
                yield _Entry(name, parts, "symlink", link=link)
                continue
            # Open with a copy whose size is unbounded: zipfile would otherwise silently
            # stop at the declared size; the caller counts the real bytes instead.
            probe = copy.copy(info)
            probe.file_size = 1 << 62

            def opener(probe: zipfile.ZipInfo = probe) -> IO[bytes]:
                return zf.open(probe)

            yield _Entry(name, parts, "file", info.file_size, open=opener, exact_size=True)


def _iter_tar(archive: str, compression: str | None, max_members: int) -> Iterator[_Entry]:
    reader = open_decompressed(archive, compression)
    try:
        try:
            tf = tarfile.open(fileobj=reader, mode="r|")  # noqa: SIM115 - closed below
        except tarfile.TarError as exc:
            raise DataFileError(archive, f"not a valid tar archive ({exc})") from None
        with tf:
            count = 0
            while True:
                try:
                    member = tf.next()
                except tarfile.TarError as exc:
                    raise DataFileError(archive, f"not a valid tar archive ({exc})") from None
                if member is None:
                    break
                # Stream mode keeps every TarInfo; we need none of them once handled.
                seen = getattr(tf, "members", None)
                if isinstance(seen, list):
                    seen.clear()
                count += 1
                name = member.name
                _count(archive, name, count, max_members)
                parts = _safe_parts(archive, name)
                if member.isdir():
                    yield _Entry(name, parts, "dir")
                    continue
                if not parts:
                    raise UnsafeArchiveError(archive, name, "has an empty name")
                if member.issym() or member.islnk():
                    symlink = member.issym()
                    link = _link_target(archive, name, parts, member.linkname, symlink)
                    yield _Entry(name, parts, "symlink" if symlink else "hardlink", link=link)
                elif member.isreg():

                    def opener(member: tarfile.TarInfo = member) -> IO[bytes]:
                        f = tf.extractfile(member)
                        assert f is not None  # regular member
                        return f

                    yield _Entry(name, parts, "file", member.size, open=opener)
                else:
                    raise UnsafeArchiveError(archive, name, "is a device, fifo or special file")
    finally:
        reader.close()


def list_archive_members(
    path: str | os.PathLike[str], *, max_members: int = DEFAULT_MAX_MEMBERS
) -> list[str]:
    """The files of an archive, as ``/``-separated relative paths, in archive order.

    Regular files, plus links to regular files (extraction materializes them as copies);
    no directories. Reads headers only (a compressed tar is decompressed once, nothing is
    written). Unsafe member names raise
    :class:`~crucible_polars.errors.UnsafeArchiveError`.

    Examples
    --------
    >>> import io, os, tarfile, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a.tar.gz")
    >>> with tarfile.open(path, "w:gz") as tf:
    ...     info = tarfile.TarInfo("./data/b.csv"); info.size = 4
    ...     tf.addfile(info, io.BytesIO(b"x\\n1\\n"))
    >>> list_archive_members(path)
    ['data/b.csv']
    """
    archive = os.fspath(path)
    if not os.path.exists(archive):
        raise DataFilesNotFoundError(archive)
    files: dict[tuple[str, ...], None] = {}
    links: list[_Entry] = []
    for entry in _iter_entries(archive, max_members):
        if entry.kind == "file":
            files[entry.parts] = None
        elif entry.kind in ("symlink", "hardlink"):
            links.append(entry)
    for entry in links:
        if entry.link in files:
            files[entry.parts] = None
    return ["/".join(parts) for parts in files]


# --------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------


class _Budget:
    """Counts members and bytes (declared and written) against the limits."""

    def __init__(
        self,
        archive: str,
        max_total_bytes: int,
        max_members: int,
        max_ratio: float | None,
        archive_size: int,
    ) -> None:
        self.archive = archive
        self.max_total_bytes = max_total_bytes
        self.max_members = max_members
        self.limit_by_ratio = (
            None if max_ratio is None else max(max_ratio * archive_size, RATIO_CHECK_FLOOR)
        )
        self.max_ratio = max_ratio
        self.members = 0
        self.declared = 0
        self.written = 0

    def member(self, name: str) -> None:
        self.members += 1
        _count(self.archive, name, self.members, self.max_members)

    def _check(self, name: str, total: int, what: str) -> None:
        if total > self.max_total_bytes:
            raise UnsafeArchiveError(
                self.archive,
                name,
                f"takes the {what} size past max_total_bytes={self.max_total_bytes} "
                "(an archive bomb?)",
            )
        if self.limit_by_ratio is not None and total > self.limit_by_ratio:
            raise UnsafeArchiveError(
                self.archive,
                name,
                f"takes the {what} size past max_ratio={self.max_ratio} times the archive's "
                "size (an archive bomb?)",
            )

    def declare(self, name: str, size: int) -> None:
        if size < 0:
            raise UnsafeArchiveError(self.archive, name, f"declares a negative size ({size})")
        self.declared += size
        self._check(name, self.declared, "declared uncompressed")

    def write(self, name: str, size: int) -> None:
        self.written += size
        self._check(name, self.written, "extracted")


def _inside(root_real: str, path: Path) -> bool:
    real = os.path.realpath(path)
    return real == root_real or real.startswith(root_real + os.sep)


def _conflict(archive: str, name: str, exc: OSError) -> DataFileError:
    return DataFileError(archive, f"member {name!r} conflicts with another member ({exc})")


_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
_OPEN_FLAGS |= getattr(os, "O_BINARY", 0)


def _write_file(archive: str, name: str, source: IO[bytes], dest: Path, budget: _Budget) -> int:
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


def _extract_into(archive: str, root: Path, budget: _Budget) -> None:
    root_real = os.path.realpath(root)
    links: dict[tuple[str, ...], _Entry] = {}

    def destination(entry: _Entry) -> Path:
        dest = root.joinpath(*entry.parts)
        if not _inside(root_real, dest):
            raise UnsafeArchiveError(archive, entry.name, "would be written outside the target")
        return dest

    for entry in _iter_entries(archive, budget.max_members, budget):
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
    archive: str, root: Path, root_real: str, pending: list[_Entry], budget: _Budget
) -> None:
    """Replace internal links by copies of their targets (dangling links are dropped)."""
    while pending:
        rest: list[_Entry] = []
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


def _copy_tree(archive: str, name: str, source: Path, dest: Path, budget: _Budget) -> None:
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
    the temporary folder is removed and nothing is left behind.

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
    budget = _Budget(
        archive, max_total_bytes, max_members, max_ratio, max(os.path.getsize(archive), 1)
    )
    tmp = root / f".{target.name}.tmp-{uuid.uuid4().hex}"
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
