"""Image paths relative to the data files, made absolute when a dataset is loaded.

A parquet or JSON file may store ``{"bytes": None, "path": "images/1.png"}``: ``datasets``
opens such a path relative to the working directory at decode time; a load here makes it
relative to the data files' folder instead, lazily, with one Polars expression.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import polars as pl


def data_files_folder(files: Sequence[str]) -> str | None:
    """The one folder (or URL prefix) holding all ``files``, or ``None`` if they differ.

    Parameters
    ----------
    files
        Local paths or URLs of one split's data files.

    Examples
    --------
    >>> data_files_folder(["/d/train.parquet", "/d/test.parquet"])
    '/d'
    >>> data_files_folder(["https://h/x/a.parquet"]), data_files_folder(["/a/x", "/b/y"])
    ('https://h/x', None)
    """
    folders = {f.rsplit("/", 1)[0] if "://" in f else os.path.dirname(f) for f in files}
    return folders.pop() if len(folders) == 1 else None


def resolve_image_paths(column: str, base: str) -> pl.Expr:
    """A Polars expression: ``column`` with relative paths (and no bytes) made absolute.

    A ``path`` that is relative (not absolute, not a URL) and has no ``bytes`` beside it is
    joined to ``base``, the folder of the data files; other values are unchanged.

    Parameters
    ----------
    column
        An image column (a ``{"bytes", "path"}`` struct).
    base
        The folder or URL prefix relative paths are joined to.

    Examples
    --------
    >>> import polars as pl
    >>> frame = pl.DataFrame({"img": [{"bytes": None, "path": "a.png"},
    ...                               {"bytes": b"x", "path": "b.png"}]},
    ...                      schema={"img": pl.Struct({"bytes": pl.Binary, "path": pl.String})})
    >>> frame.select(resolve_image_paths("img", "/data"))["img"].struct.field("path").to_list()
    ['/data/a.png', 'b.png']
    """
    data = pl.col(column).struct.field("bytes")
    path = pl.col(column).struct.field("path")
    relative = (
        data.is_null()
        & path.is_not_null()
        & ~path.str.starts_with("/")
        & ~path.str.contains("://", literal=True)
        & ~path.str.contains(r"^[A-Za-z]:[\\/]")
    )
    joined = pl.lit(base.rstrip("/") + "/") + path
    return (
        pl.when(pl.col(column).is_null())
        .then(pl.col(column))
        .otherwise(
            pl.struct(
                data.alias("bytes"), pl.when(relative).then(joined).otherwise(path).alias("path")
            )
        )
        .alias(column)
    )


__all__ = ["data_files_folder", "resolve_image_paths"]
