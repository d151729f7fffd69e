"""Local folders and glob patterns on the local filesystem."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from crucible_polars.errors import DataFilesNotFoundError
from crucible_polars.resolve.patterns import has_magic, match_files

_SKIP_DIRS = {".git", ".hg", ".svn"}  # other hidden and ``__x`` folders: see match_files


def walk_files(root: Path) -> list[str]:
    """Every file below ``root`` as a sorted relative POSIX path (VCS folders skipped).

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp()); (root / "a").mkdir()
    >>> _ = (root / "a" / "x.csv").write_text("")
    >>> walk_files(root)
    ['a/x.csv']
    """
    out: list[str] = []
    for folder, dirs, files in os.walk(root, followlinks=True):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        rel = Path(folder).relative_to(root).as_posix()
        prefix = "" if rel == "." else rel + "/"
        out.extend(prefix + f for f in files)
    return sorted(out)


class LocalSource:
    """A local folder as a source of data files.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp()); _ = (root / "train.csv").write_text("a\\n1\\n")
    >>> LocalSource(root).list_files()
    ['train.csv']
    """

    repo_id: str | None = None
    storage_options: dict[str, Any] | None = None

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().resolve()
        self.description = str(self.root)
        self._files: list[str] | None = None

    def list_files(self) -> list[str]:
        """Every file below the folder (cached after the first walk)."""
        if self._files is None:
            self._files = walk_files(self.root)
        return self._files

    def read_text(self, path: str) -> str | None:
        """A text file's content, or ``None``."""
        file = self.root / path
        return file.read_text(encoding="utf-8", errors="replace") if file.is_file() else None

    def locate(self, paths: list[str]) -> list[str]:
        """Absolute local paths: local files are scanned in place."""
        return [str(self.root / p) for p in paths]


def resolve_local_pattern(pattern: str, base: str | os.PathLike[str] | None = None) -> list[str]:
    """Absolute paths matching a local path or glob (relative to ``base`` or the cwd).

    Raises :class:`DataFilesNotFoundError` naming the pattern when nothing matches.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp()); _ = (root / "a.csv").write_text("")
    >>> [Path(p).name for p in resolve_local_pattern("*.csv", root)]
    ['a.csv']
    """
    path = Path(os.path.expanduser(pattern))
    if not path.is_absolute():
        path = Path(base or os.getcwd()) / path
    text = path.as_posix()
    if not has_magic(text):
        if path.is_file():
            return [str(path)]
        if path.is_dir():
            files = [str(path / f) for f in match_files("**", walk_files(path))]
            if files:
                return files
        raise DataFilesNotFoundError(pattern)
    parts = text.split("/")
    cut = next(i for i, part in enumerate(parts) if has_magic(part))
    root = Path("/".join(parts[:cut]) or "/")
    rest = "/".join(parts[cut:])
    matches = match_files(rest, walk_files(root)) if root.is_dir() else []
    if not matches:
        raise DataFilesNotFoundError(pattern)
    return [str(root / m) for m in matches]
