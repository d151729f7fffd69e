"""Embedding media files into saved data: ``save_to_disk`` reads the files behind the
``Image`` values that hold only a path (top level, or inside lists and dicts) into their
``bytes``, keeping just the file name as the path, as ``datasets`` embeds them, so a saved copy
stands alone. Lazy: the files are read while the plan is written.

Examples
--------
>>> import os, tempfile, polars as pl
>>> from crucible_polars.features import Features, Image
>>> path = os.path.join(tempfile.mkdtemp(), "x.png")
>>> _ = open(path, "wb").write(b"png")
>>> frame = pl.DataFrame({"img": [{"bytes": None, "path": path}]})
>>> embed_image_files(Plan.from_frame(frame, Features({"img": Image()}))).collect()["img"][0]
{'bytes': b'png', 'path': 'x.png'}
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

import fsspec
import polars as pl

from crucible_polars.features import Image, LargeList, List, feature_to_polars
from crucible_polars.plan import Plan

__all__ = ["embed_image_files"]


def _file_bytes(value: bytes | None, path: str | None) -> bytes | None:
    """``value``, or when it is missing the bytes of the file at ``path``."""
    if value is not None or path is None:
        return value
    try:
        with fsspec.open(path, "rb") as file:
            data: bytes = file.read()
            return data
    except OSError as error:
        raise FileNotFoundError(
            f"save_to_disk embeds image files and cannot read {path!r}: {error}"
        ) from error


def _read_missing_bytes(pairs: pl.Series) -> pl.Series:
    """For ``{bytes, path}`` values without bytes, the bytes of the file at ``path``."""
    data = pairs.struct.field("bytes").to_list()
    paths = pairs.struct.field("path").to_list()
    out = [_file_bytes(v, p) for v, p in zip(data, paths, strict=True)]
    return pl.Series(out, dtype=pl.Binary)


def _embed_nested(value: Any, feature: Any) -> Any:
    """A nested value with the files of its images read into their ``bytes``."""
    if value is None:
        return None
    if isinstance(feature, Image):
        path = value.get("path")
        name = None if path is None else re.sub(r"^.*[/\\]", "", path)
        return {"bytes": _file_bytes(value.get("bytes"), path), "path": name}
    if isinstance(feature, dict):
        return {k: _embed_nested(value.get(k), f) for k, f in feature.items()}
    if isinstance(feature, (List, LargeList)):
        return [_embed_nested(v, feature.feature) for v in value]
    return value


def _nested_images(feature: Any) -> bool:
    if isinstance(feature, dict):
        return any(_nested_images(f) or isinstance(f, Image) for f in feature.values())
    if isinstance(feature, (List, LargeList)):
        return isinstance(feature.feature, Image) or _nested_images(feature.feature)
    return False


def _embed_series(feature: Any, series: pl.Series) -> pl.Series:
    values = [_embed_nested(v, feature) for v in series.to_list()]
    return pl.Series(series.name, values, dtype=feature_to_polars(feature))


def embed_image_files(plan: Plan) -> Plan:
    """``plan`` with the files of its ``Image`` columns read into their ``bytes`` field and
    the path shortened to the file name, as ``datasets`` embeds them when saving, so the
    saved copy stands alone (lazy: files are read while writing).

    Examples
    --------
    >>> import os, tempfile, polars as pl
    >>> from crucible_polars.features import Features, Image
    >>> path = os.path.join(tempfile.mkdtemp(), "x.png")
    >>> _ = open(path, "wb").write(b"png")
    >>> frame = pl.DataFrame({"img": [{"bytes": None, "path": path}]})
    >>> plan = embed_image_files(Plan.from_frame(frame, Features({"img": Image()})))
    >>> plan.collect()["img"].to_list()
    [{'bytes': b'png', 'path': 'x.png'}]
    """
    names = plan.features.image_columns()
    nested = [n for n, f in plan.features.items() if _nested_images(f)]
    if not names and not nested:
        return plan
    exprs = [
        pl.col(name).map_batches(
            partial(_embed_series, plan.features[name]),
            return_dtype=feature_to_polars(plan.features[name]),
        )
        for name in nested
    ]
    for name in names:
        field = pl.col(name).struct.field
        data = pl.struct(field("bytes"), field("path")).map_batches(
            _read_missing_bytes, return_dtype=pl.Binary
        )
        base = field("path").str.replace(r"^.*[/\\]", "")
        exprs.append(
            pl.when(pl.col(name).is_null())
            .then(None)
            .otherwise(pl.struct(data.alias("bytes"), base.alias("path")))
            .alias(name)
        )
    return plan.derive(plan.lf.with_columns(exprs), plan.features, num_rows=plan.known_rows())
