"""The members of an archive (zip, tar, compressed tar): what they are, checked for safety.

Every member name is checked before anything is written: an absolute path, a drive letter, a
``..`` component or a NUL byte is refused with
:class:`~crucible_polars.errors.UnsafeArchiveError`. Tar members then pass the stdlib's
``tarfile.data_filter`` (PEP 706) against the real destination: links pointing outside or to
absolute paths, and device files, are refused. Zip symlinks (which ``zipfile`` does not
check) are resolved lexically here. :class:`Budget` counts members and bytes against the
bomb limits. :mod:`crucible_polars.readers.archives` extracts what this module yields.

Examples
--------
>>> import os, tempfile, zipfile
>>> path = os.path.join(tempfile.mkdtemp(), "data.zip")
>>> with zipfile.ZipFile(path, "w") as zf:
...     zf.writestr("train/a.jsonl", '{"x": 1}\\n')
>>> is_archive(path), list_archive_members(path)
(True, ['train/a.jsonl'])
"""

from __future__ import annotations

import copy
import os
import re
import stat
import tarfile
import uuid
import zipfile
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

DEFAULT_MAX_MEMBERS = 1_000_000
RATIO_CHECK_FLOOR = 16 << 20
"""The compression-ratio limit applies only once more than this many bytes are out (16 MiB)."""

_LISTING_ROOT = Path(os.path.abspath(os.sep)) / f"crucible-archive-listing-{uuid.uuid4().hex}"
"""A folder that does not exist: where listing checks members as if extracting them."""
_MAX_LINK_TARGET = 4096
_DRIVE = re.compile(r"^[A-Za-z]:")
_COMPRESSION_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)


def is_archive(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a zip or (compressed) tar archive, judging by its suffix.

    Examples
    --------
    >>> is_archive("data/train.tar.gz"), is_archive("x.ZIP"), is_archive("a.jsonl.gz")
    (True, True, False)
    >>> is_archive("zip://train.jsonl::data.zip")
    False
    """
    return _suffix_kind(os.fspath(path).split("::")[0]) is not None  # a chained URL's member


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
class ArchiveEntry:
    """One member of an archive, checked: where it goes, what it is, how to read it."""

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
    """Resolve a link target within the archive (lexically), refusing escapes.

    Zip symlinks are checked only here; tar links pass ``tarfile.data_filter`` first
    (:func:`_checked_tar_member`), and this then gives the member their copy comes from.
    """
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


def iter_entries(
    archive: str, max_members: int, root: Path, budget: Budget | None = None
) -> Iterator[ArchiveEntry]:
    kind, compression = _archive_kind(archive)
    if kind == "zip":
        yield from _iter_zip(archive, max_members, budget)
    else:
        yield from _iter_tar(archive, compression, max_members, root)


def _iter_zip(archive: str, max_members: int, budget: Budget | None) -> Iterator[ArchiveEntry]:
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
                yield ArchiveEntry(name, parts, "dir")
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
                yield ArchiveEntry(name, parts, "symlink", link=link)
                continue
            # Open with a copy whose size is unbounded: zipfile would otherwise silently
            # stop at the declared size; the caller counts the real bytes instead.
            probe = copy.copy(info)
            probe.file_size = 1 << 62

            def opener(probe: zipfile.ZipInfo = probe) -> IO[bytes]:
                return zf.open(probe)

            yield ArchiveEntry(name, parts, "file", info.file_size, open=opener, exact_size=True)


_DATA_FILTER = getattr(tarfile, "data_filter", None)  # PEP 706: Python >= 3.10.12, 3.11.4
_FILTER_REFUSALS: dict[str, str] = {
    "AbsolutePathError": "is an absolute path",
    "OutsideDestinationError": "would be written outside the target",
    "SpecialFileError": "is a device, fifo or special file",
    "AbsoluteLinkError": "is a link to an absolute path",
    "LinkOutsideDestinationError": "is a link whose target escapes the target",
}


def _checked_tar_member(
    archive: str, member: tarfile.TarInfo, parts: tuple[str, ...], root: Path
) -> None:
    """Refuse a tar member that ``tarfile.data_filter`` refuses for extraction into ``root``.

    The stdlib checks the real destination (``os.path.realpath``): no escape through
    ``..``, links pointing outside or to absolute paths, device files. It strips a leading
    ``/`` where we refuse, and reads ``\\`` as a character where we split on it, so
    :func:`_safe_parts` has run first and the member is checked under the path we write.
    """
    if _DATA_FILTER is None:  # older Python: _link_target and the type checks still refuse
        return
    link = member.linkname.replace("\\", "/")
    try:
        _DATA_FILTER(member.replace(name="/".join(parts), linkname=link, deep=False), str(root))
    except tarfile.FilterError as exc:
        reason = _FILTER_REFUSALS.get(type(exc).__name__, "is refused by tarfile.data_filter")
        raise UnsafeArchiveError(archive, member.name, reason) from None


def _iter_tar(
    archive: str, compression: str | None, max_members: int, root: Path
) -> Iterator[ArchiveEntry]:
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
                _checked_tar_member(archive, member, parts, root)
                if member.isdir():
                    yield ArchiveEntry(name, parts, "dir")
                    continue
                if not parts:
                    raise UnsafeArchiveError(archive, name, "has an empty name")
                if member.issym() or member.islnk():
                    symlink = member.issym()
                    link = _link_target(archive, name, parts, member.linkname, symlink)
                    yield ArchiveEntry(name, parts, "symlink" if symlink else "hardlink", link=link)
                elif member.isreg():

                    def opener(member: tarfile.TarInfo = member) -> IO[bytes]:
                        f = tf.extractfile(member)
                        assert f is not None  # regular member
                        return f

                    yield ArchiveEntry(name, parts, "file", member.size, open=opener)
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
    links: list[ArchiveEntry] = []
    for entry in iter_entries(archive, max_members, _LISTING_ROOT):
        if entry.kind == "file":
            files[entry.parts] = None
        elif entry.kind in ("symlink", "hardlink"):
            links.append(entry)
    for entry in links:
        if entry.link in files:
            files[entry.parts] = None
    return ["/".join(parts) for parts in files]


class Budget:
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


__all__ = [
    "ARCHIVE_SUFFIXES",
    "DEFAULT_MAX_MEMBERS",
    "RATIO_CHECK_FLOOR",
    "ArchiveEntry",
    "Budget",
    "is_archive",
    "iter_entries",
    "list_archive_members",
]
