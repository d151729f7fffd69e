"""The types of a ``map``'s output: from the first batch, then every batch checked.

``datasets`` types a ``map`` output from its first batch (with pyarrow), and so do both
engines here: :func:`infer_output_schema` gives the schema and Features of the first
batch's output (a returned column takes its input column's type when its values fit it, as
``try_original_type``; PIL images are ``Image`` columns); :func:`conform_batch` checks every
later batch against it and casts where values fit (nulls, integer widening, label names,
paths and pixel arrays into images).

Examples
--------
>>> merged = pl.DataFrame({"n": [2.5]})
>>> schema, features = infer_output_schema(merged, Features(), merged.head(0))
>>> features
Features({'n': Value('float64')})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from crucible_polars.errors import FeatureCastError, FeatureTypeError
from crucible_polars.features import (
    ClassLabel,
    Features,
    Image,
    LargeList,
    List,
    cast_lazyframe,
    feature_to_polars,
    find_cast_error,
)
from crucible_polars.features.nested import FeatureType
from crucible_polars.udf.call import FunctionCall
from crucible_polars.udf.values import conform, try_original

__all__ = ["cast_to_features", "conform_batch", "infer_output_schema"]


def conform_batch(
    out: pl.DataFrame,
    schema: pl.Schema,
    features: Features,
    call: FunctionCall,
    offset: int,
    height: int,
    wanted: list[str] | None = None,
) -> pl.DataFrame:
    """Check a batch's output against the schema from the first batch; cast where it fits.

    Parameters
    ----------
    out
        The batch's output columns (merged with the kept input columns).
    schema, features
        The first batch's output schema and Features (:func:`infer_output_schema`).
    call
        How the function was called (names it in errors).
    offset, height
        The batch's first row and number of input rows.
    wanted
        Only these output columns were asked for (projection).

    Raises
    ------
    FunctionOutputError
        Other columns than the first batch's, or a column of another type.

    Examples
    --------
    >>> from crucible_polars.udf.call import FunctionCall
    >>> out = pl.DataFrame({"a": [None]})
    >>> schema = pl.Schema({"a": pl.Int64})
    >>> conform_batch(out, schema, Features(), FunctionCall(len), 0, 1).schema["a"]
    Int64
    """
    if wanted is not None:
        schema = pl.Schema({c: schema[c] for c in wanted})
        out = out.select([c for c in wanted if c in out.columns])
    if out.columns != schema.names():
        missing = [c for c in schema.names() if c not in out.columns]
        extra = [c for c in out.columns if c not in schema]
        if missing or extra:
            raise call.error(
                offset,
                height,
                f"the output columns differ from the first batch's: missing {missing}, "
                f"unexpected {extra}",
            )
        out = out.select(schema.names())
    fixed = []
    for name, dtype in schema.items():
        series = out[name]
        try:
            cast = try_original(series, dtype, features.get(name))
        except FeatureCastError as error:
            row = offset + (error.row or 0)
            raise call.error(row, 1, _not_a_label(error), name) from None
        if cast is None:
            raise call.error(
                offset,
                height,
                f"column {name!r} is {series.dtype} here but {dtype} in the first batch; "
                "return one type per column, or pass features=...",
                name,
            )
        fixed.append(cast)
    return pl.DataFrame(fixed)


def infer_output_schema(
    merged: pl.DataFrame,
    features: Features,
    first: pl.DataFrame,
    *,
    produced: Sequence[str] | None = None,
    original_type: bool = True,
    media: Mapping[str, FeatureType] | None = None,
    json_features: Mapping[str, FeatureType] | None = None,
) -> tuple[pl.Schema, Features]:
    """Schema and Features of the first batch's output: unchanged columns keep theirs.

    As ``datasets``' ``try_original_type``: an output column named as an input column
    takes the input column's type when its values cast to it without loss (``1.0`` to an
    integer, ``"3"`` to an integer, a float64 to float32), else the type of its values.

    Parameters
    ----------
    merged
        The first batch's output (input columns merged with the function's).
    features
        The input Features.
    first
        The first input batch (a new column of image structs becomes an ``Image``).
    produced
        The columns the function returned (``None``: any column may be).
    original_type
        ``try_original_type``: ``False`` types the returned columns by their values only.
    media
        The columns of PIL images the function returned (:attr:`OutputBuilder.media`):
        ``Image()`` columns. ``None``: a new column of ``{bytes, path}`` structs is one.
    json_features
        The columns whose values got ``Json`` parts (:attr:`OutputBuilder.json`), with
        their feature.

    Examples
    --------
    >>> from crucible_polars.features import ClassLabel
    >>> label = Features({"y": ClassLabel(names=["a", "b"])})
    >>> merged = pl.DataFrame({"y": [1], "n": [2.5]})
    >>> infer_output_schema(merged, label, merged.select("y"))[1]
    Features({'y': ClassLabel(names=['a', 'b']), 'n': Value('float64')})
    """
    schema: dict[str, pl.DataType] = {}
    out_features = Features()
    for name, series in zip(merged.columns, merged.get_columns(), strict=True):
        original = features.get(name)
        returned = produced is None or name in produced
        if original is not None and (original_type or not returned):
            target = feature_to_polars(original)
            check = try_original if returned else conform
            if check(series, target, original) is not None:
                schema[name] = target
                out_features[name] = original
                continue
        schema[name] = series.dtype
        implied = (json_features or {}).get(name)
        if implied is not None and series.dtype == feature_to_polars(implied):
            out_features[name] = implied
            continue
        image = media.get(name) if media is not None else _image_like(series, first)
        if image is not None and series.dtype == feature_to_polars(image):
            out_features[name] = image
        else:
            out_features[name] = Features.from_polars({name: series.dtype})[name]
    return pl.Schema(schema), out_features


def _not_a_label(error: FeatureCastError) -> str:
    return (
        f"value {error.value!r} of column {error.column!r} is not a label of {error.feature}; "
        "return a label name or id, or pass features= with another type"
    )


def _image_like(series: pl.Series, first: pl.DataFrame) -> FeatureType | None:
    """The image feature of a new column of ``{bytes, path}`` structs (or lists of them)."""
    if series.name in first.columns:
        return None
    for feature in (Image(), List(Image())):
        if series.dtype == feature_to_polars(feature):
            return feature
    return None


def _has_labels(feature: Any) -> bool:
    """Whether ``feature`` holds a ``ClassLabel`` (its ids are range-checked by a cast)."""
    if isinstance(feature, dict):
        return any(_has_labels(f) for f in feature.values())
    if isinstance(feature, (List, LargeList)):
        return _has_labels(feature.feature)
    return isinstance(feature, ClassLabel)


def cast_to_features(
    out: pl.DataFrame, features: Features, call: FunctionCall, offset: int, height: int
) -> pl.DataFrame:
    """``out`` with its columns cast to ``features`` (a map's ``features=``), as ``datasets``
    writes a map's output with them; a value that does not fit names its row.

    Parameters
    ----------
    out
        A batch's output.
    features
        The ``features=`` given.
    call
        How the function was called (names it in errors).
    offset, height
        The batch's first row and number of input rows.

    Raises
    ------
    FunctionOutputError
        A value that does not fit its feature (a ``TypeError`` where ``datasets`` raises one).

    Examples
    --------
    >>> from crucible_polars.features import ClassLabel
    >>> out = pl.DataFrame({"y": ["b"]})
    >>> labels = Features({"y": ClassLabel(names=["a", "b"])})
    >>> cast_to_features(out, labels, FunctionCall(len), 0, 1)["y"].to_list()
    [1]
    """
    target = {  # a column already of its type needs no cast (labels are checked)
        c: features[c]
        for c in out.columns
        if c in features
        and (out.schema[c] != feature_to_polars(features[c]) or _has_labels(features[c]))
    }
    if not target:
        return out
    given = out.select(list(target))
    try:
        cast = cast_lazyframe(given.lazy(), target).collect()
    except (FeatureCastError, pl.exceptions.PolarsError) as error:
        found = error if isinstance(error, FeatureCastError) else None
        found = found or find_cast_error(given.lazy(), target)
        if found is None:
            raise
        if isinstance(found, FeatureTypeError):  # a TypeError, as in datasets
            raise found from None
        where = offset + found.row if found.row is not None else offset
        reason = (
            f"value {found.value!r} of column {found.column!r} does not fit "
            f"{found.feature} (the features= given); return values that fit, or change "
            "the features"
        )
        raise call.error(
            where, 1 if found.row is not None else height, reason, found.column
        ) from None
    return out.with_columns(cast.get_columns())
