"""Sources: where data files come from (a local folder, an fsspec URL, the Hub).

A source lists its files once as relative POSIX paths, reads small text files (the README),
and turns the files a load needs into paths or URLs that Polars can scan (``fetch``: URLs
Polars cannot scan itself are copied once through fsspec).
"""

from __future__ import annotations

from typing import Any, Protocol


class Source(Protocol):
    """What the loader needs from a place that holds data files."""

    description: str
    repo_id: str | None
    storage_options: dict[str, Any] | None

    def list_files(self) -> list[str]:
        """Every file, as a path relative to the source root (POSIX separators)."""
        ...

    def read_text(self, path: str) -> str | None:
        """A small text file's content (e.g. ``README.md``), or ``None`` if absent."""
        ...

    def locate(self, paths: list[str]) -> list[str]:
        """Local paths or URLs that Polars can scan, fetching into a cache if need be."""
        ...
