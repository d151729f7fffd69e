"""Any fsspec URL (``s3://``, ``gs://``, ``https://``, ``file://``, ...) as a source."""

from __future__ import annotations

from typing import Any

import fsspec

from crucible_polars.errors import DataFilesNotFoundError
from crucible_polars.sources.fetch import fetch


class FsspecSource:
    """A folder behind an fsspec URL. Polars scans the URLs directly (no download).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp()); _ = (root / "a.csv").write_text("x\\n1\\n")
    >>> FsspecSource(f"file://{root}").list_files()
    ['a.csv']
    """

    repo_id: str | None = None

    def __init__(
        self, url: str, storage_options: dict[str, Any] | None = None, *, streaming: bool = False
    ) -> None:
        self.url = url.rstrip("/")
        self.storage_options = storage_options
        self.streaming = streaming
        self.description = url
        self.fs, self.root = fsspec.core.url_to_fs(self.url, **(storage_options or {}))
        self._files: list[str] | None = None

    def list_files(self) -> list[str]:
        """Every file below the URL, relative to it."""
        if self._files is None:
            try:
                found = self.fs.find(self.root)
            except FileNotFoundError as err:
                raise DataFilesNotFoundError(self.url) from err
            prefix = self.root.rstrip("/") + "/"
            self._files = sorted(f[len(prefix) :] if f.startswith(prefix) else f for f in found)
        return self._files

    def read_text(self, path: str) -> str | None:
        """A small text file's content, or ``None``."""
        full = f"{self.root}/{path}"
        if not self.fs.isfile(full):
            return None
        with self.fs.open(full, "rb") as f:
            return bytes(f.read()).decode("utf-8", errors="replace")

    def locate(self, paths: list[str]) -> list[str]:
        """Full URLs, for Polars to scan remotely with range requests; local copies of those
        it cannot scan (:func:`~crucible_polars.sources.fetch.fetch`) unless streaming."""
        urls = [f"{self.url}/{p}" for p in paths]
        if self.streaming:
            return urls
        return [fetch(u, self.storage_options) for u in urls]


def is_remote_file(url: str, storage_options: dict[str, Any] | None = None) -> bool:
    """Whether an fsspec URL names one file (rather than a folder or a glob).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.csv"; _ = p.write_text("x")
    >>> is_remote_file(f"file://{p}"), is_remote_file(f"file://{p.parent}")
    (True, False)
    """
    from crucible_polars.resolve.patterns import has_magic

    if has_magic(url.split("://", 1)[1]):
        return False
    fs, root = fsspec.core.url_to_fs(url, **(storage_options or {}))
    try:
        return bool(fs.isfile(root))
    except (OSError, ValueError):
        return False


def resolve_remote_pattern(
    pattern: str, storage_options: dict[str, Any] | None = None
) -> list[str]:
    """Full URLs matching an fsspec URL or glob; an error naming it when nothing matches.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp()); _ = (root / "a.csv").write_text("x")
    >>> [u.rsplit("/", 1)[1] for u in resolve_remote_pattern(f"file://{root}/*.csv")]
    ['a.csv']
    """
    from crucible_polars.resolve.patterns import has_magic, match_files

    fs, path = fsspec.core.url_to_fs(pattern, **(storage_options or {}))
    head, sep, chain = pattern.partition("::")  # zip://*.jsonl::data.zip: glob inside the zip
    if sep:
        path = head.split("://", 1)[1]
        return _resolve_chained(fs, path, head.split("://", 1)[0], chain, pattern)
    protocol = pattern.split("://", 1)[0]
    if not has_magic(path):
        if fs.isfile(path):
            return [pattern]
        if fs.isdir(path):
            return [
                f"{pattern.rstrip('/')}/{f}"
                for f in FsspecSource(pattern, storage_options).list_files()
            ]
        raise DataFilesNotFoundError(pattern)
    parts = path.split("/")
    cut = next(i for i, part in enumerate(parts) if has_magic(part))
    root = "/".join(parts[:cut])
    root_url = f"{protocol}://{root}"
    files = FsspecSource(root_url, storage_options).list_files() if fs.isdir(root) else []
    matches = match_files("/".join(parts[cut:]), files)
    if not matches:
        raise DataFilesNotFoundError(pattern)
    return [f"{root_url}/{m}" for m in matches]


def _resolve_chained(fs: Any, path: str, protocol: str, chain: str, pattern: str) -> list[str]:
    """Members of a chained URL's outer file system (an archive) matching ``path``."""
    from crucible_polars.resolve.patterns import has_magic, match_files

    path = path.strip("/")
    listing = sorted(str(f).strip("/") for f in fs.find(""))
    if has_magic(path):
        matches = match_files(path, listing)
    elif path in listing:
        matches = [path]
    else:
        matches = match_files(f"{path}/**".lstrip("/"), listing)
    if not matches:
        raise DataFilesNotFoundError(pattern)
    return [f"{protocol}://{m}::{chain}" for m in matches]
