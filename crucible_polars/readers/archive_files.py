"""Archived data files in a load: extract once into the cache, then read the members.

A ``.zip`` / ``.tar`` / ``.tar.gz`` ... data file is extracted by
:func:`~crucible_polars.readers.archives.extract_archive` (atomic, reused, refusing
traversal, links that escape and bombs) into ``<cache>/extracted/<key>/``, and the files
inside take its place in the list of data files, in ``datasets``' order (a sorted walk,
files of a folder before its sub-folders, hidden files skipped). A remote archive is first
downloaded once into ``<cache>/downloads/`` (:func:`crucible_polars.sources.open.local_copy`).

``<cache>`` is :func:`crucible_polars.sources.open.cache_root`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from crucible_polars.readers.archives import extract_archive, is_archive, list_archive_members
from crucible_polars.resolve.patterns import has_extension
from crucible_polars.sources.open import cache_root, local_copy


def extract(path: str, storage_options: dict[str, Any] | None = None) -> Path:
    """Extract an archive data file (local or remote) once; the extracted folder.

    Examples
    --------
    >>> import tempfile, zipfile
    >>> tmp = tempfile.mkdtemp(); os.environ["CRUCIBLE_POLARS_CACHE"] = tmp
    >>> with zipfile.ZipFile(f"{tmp}/a.zip", "w") as zf:
    ...     zf.writestr("x/b.csv", "a\\n1\\n")
    >>> extracted_files(extract(f"{tmp}/a.zip"))[0].endswith("x/b.csv")
    True
    >>> del os.environ["CRUCIBLE_POLARS_CACHE"]
    """
    return extract_archive(local_copy(path, storage_options), cache_root() / "extracted")


def extracted_files(folder: str | os.PathLike[str]) -> list[str]:
    """Files below ``folder`` in ``datasets``' ``iter_files`` order (hidden ones skipped).

    Folders are walked top-down with sorted names: a folder's own files (sorted) come
    before those of its sub-folders. Names starting with ``.`` or ``__`` are skipped.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp()); (root / "a").mkdir()
    >>> for name in ["b.png", "a/c.png", ".hidden.png"]:
    ...     _ = (root / name).write_bytes(b"")
    >>> [Path(p).relative_to(root).as_posix() for p in extracted_files(root)]
    ['b.png', 'a/c.png']
    """
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__")))
        out.extend(
            os.path.join(dirpath, name)
            for name in sorted(filenames)
            if not name.startswith((".", "__"))
        )
    return out


def expand_archives(
    files: Sequence[str],
    extensions: Sequence[str],
    storage_options: dict[str, Any] | None = None,
) -> list[str]:
    """Replace every archive in ``files`` by its extracted members with one of ``extensions``.

    Examples
    --------
    >>> import tempfile, zipfile
    >>> tmp = tempfile.mkdtemp(); os.environ["CRUCIBLE_POLARS_CACHE"] = tmp
    >>> with zipfile.ZipFile(f"{tmp}/a.zip", "w") as zf:
    ...     zf.writestr("b.jsonl", "{}"); zf.writestr("notes.txt", "")
    >>> [Path(p).name for p in expand_archives(["x.jsonl", f"{tmp}/a.zip"], [".jsonl"])]
    ['x.jsonl', 'b.jsonl']
    >>> del os.environ["CRUCIBLE_POLARS_CACHE"]
    """
    out: list[str] = []
    for path in files:
        if not is_archive(path):
            out.append(path)
            continue
        members = extracted_files(extract(path, storage_options))
        out.extend(m for m in members if has_extension(m, extensions))
    return out


def archive_member_names(path: str, storage_options: dict[str, Any] | None = None) -> list[str]:
    """The member names of an archive (headers only; nothing is extracted).

    Examples
    --------
    >>> import tempfile, zipfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a.zip")
    >>> with zipfile.ZipFile(path, "w") as zf:
    ...     zf.writestr("d/x.csv", "")
    >>> archive_member_names(path)
    ['d/x.csv']
    """
    return list_archive_members(local_copy(path, storage_options))


__all__ = ["archive_member_names", "expand_archives", "extract", "extracted_files"]
