"""Lazy, strict casting of Polars frames to ``Features``, and the diagnostic for failures.

:func:`cast_lazyframe` only builds expressions: nothing is read until the frame is collected,
and a value that does not fit (an unknown label, ``"abc"`` for an integer, a class id out of
range, a list of the wrong length) makes that collect fail instead of turning into a null.
:func:`find_cast_error` then finds the column, row and value to report.

Examples
--------
>>> import polars as pl
>>> from crucible_polars.features import ClassLabel, Features, Value
>>> features = Features({"text": Value("string"), "label": ClassLabel(names=["neg", "pos"])})
>>> lf = pl.LazyFrame({"text": ["bad", "good"], "label": ["neg", "pos"]})
>>> cast_lazyframe(lf, features).collect()["label"].to_list()
[0, 1]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl
import pyarrow as pa

from ..errors import ColumnNotFoundError, ExtraColumnsError, FeatureCastError, FeatureTypeError
from .arrays import ArrayXD
from .class_label import ClassLabel
from .features import Features
from .media import Audio, Image, encode_image_arrays
from .nested import (
    FeatureType,
    Json,
    LargeList,
    List,
    Translation,
    TranslationVariableLanguages,
    feature_to_polars,
    storage_feature,
)
from .value import Value, float_text, polars_dtype

__all__ = ["ExtraColumnsError", "cast_arrow_table", "cast_lazyframe", "find_cast_error"]


def _feature_repr(feature: FeatureType) -> str:
    text = repr(feature)
    if len(text) > 160:
        if isinstance(feature, ClassLabel):
            shown = ", ".join(repr(n) for n in feature.names[:5])
            return f"ClassLabel(num_classes={feature.num_classes}, names=[{shown}, ...])"
        text = text[:157] + "..."
    return text


def _where(feature: FeatureType, column: str, path: str) -> str:
    return _feature_repr(feature) + (f" (at {path})" if path != column else "")


def _structural_error(column: str, path: str, src: pl.DataType, feature: Any) -> FeatureCastError:
    return FeatureTypeError(column, str(src), _where(feature, column, path))


def _is_stringish(dtype: pl.DataType) -> bool:
    return isinstance(dtype, (pl.String, pl.Categorical, pl.Enum))


def _guard(
    result: pl.Expr, bad: pl.Expr, value: pl.Expr, message: str, dtype: pl.DataType
) -> pl.Expr:
    """``result``, except that a row where ``bad`` holds makes the collect fail.

    The failure is a strict cast of a text that names the problem and the value, so the
    Polars error message shows both.
    """
    text = pl.concat_str([pl.lit(message + ": "), value.cast(pl.String)])
    trigger = pl.when(bad).then(text).otherwise(None).cast(pl.Int8, strict=True)
    return pl.when(bad).then(trigger.cast(dtype)).otherwise(result)


_STORED_AS_STORAGE = (Image, Audio, ArrayXD, Translation, TranslationVariableLanguages, Json)


def _plain_target(src: pl.DataType, feature: FeatureType) -> pl.DataType | None:
    """The target dtype when a plain strict Polars cast is exactly the right cast, else None."""
    if isinstance(src, pl.BaseExtension):
        return None
    if isinstance(src, pl.Null):
        return feature_to_polars(feature)
    if isinstance(feature, _STORED_AS_STORAGE):
        return _plain_target(src, storage_feature(feature))
    if isinstance(feature, dict):
        if not isinstance(src, pl.Struct) or [f.name for f in src.fields] != list(feature):
            return None
        children = {}
        for f in src.fields:
            child = _plain_target(polars_dtype(f.dtype), feature[f.name])
            if child is None:
                return None
            children[f.name] = child
        return pl.Struct(children)
    if isinstance(feature, (List, LargeList)):
        if not isinstance(src, (pl.List, pl.Array)):
            return None
        length = feature.length if isinstance(feature, List) else -1
        if isinstance(src, pl.Array) and length not in (-1, src.size):
            return None
        inner = _plain_target(polars_dtype(src.inner), feature.feature)
        if inner is None:
            return None
        return pl.List(inner) if length == -1 else pl.Array(inner, length)
    if isinstance(feature, Value):
        target = feature.to_polars()
        if (
            src.is_nested()
            or feature.dtype == "null"
            or (isinstance(src, (pl.Categorical, pl.Enum)) and not isinstance(target, pl.String))
            or (_is_stringish(src) and (isinstance(target, pl.Boolean) or target.is_temporal()))
            or ((src.is_float() or src.is_decimal()) and target.is_integer())
            or (src.is_float() and isinstance(target, pl.String))
        ):
            return None
        return target
    return None


def _cast_expr(
    expr: pl.Expr, src: pl.DataType, feature: FeatureType, column: str, path: str
) -> pl.Expr:
    """The expression that casts ``expr`` (of Polars dtype ``src``) to ``feature``."""
    while isinstance(src, pl.BaseExtension):
        expr = expr.ext.storage()
        src = polars_dtype(src.ext_storage())
    plain = _plain_target(src, feature)
    if plain is not None:
        return expr if src == plain else expr.cast(plain, strict=True)

    if isinstance(feature, (Image, Audio)):
        if _is_stringish(src) or isinstance(src, pl.Binary):
            is_path = _is_stringish(src)
            value = expr.cast(pl.String) if is_path else expr
            bytes_expr = pl.lit(None, dtype=pl.Binary) if is_path else value
            path_expr = value if is_path else pl.lit(None, dtype=pl.String)
            return pl.when(expr.is_not_null()).then(
                pl.struct(bytes_expr.alias("bytes"), path_expr.alias("path"))
            )
        if isinstance(feature, Image) and isinstance(src, (pl.List, pl.Array)):  # pixel arrays
            return expr.map_batches(encode_image_arrays, return_dtype=feature_to_polars(feature))
        if not isinstance(src, pl.Struct):
            raise _structural_error(column, path, src, feature)
    if isinstance(feature, _STORED_AS_STORAGE):  # Image/Audio given a struct, the others any dtype
        return _cast_expr(expr, src, storage_feature(feature), column, path)

    if isinstance(feature, dict):
        if not isinstance(src, pl.Struct):
            raise _structural_error(column, path, src, feature)
        src_fields = {f.name: polars_dtype(f.dtype) for f in src.fields}
        if any(name not in feature for name in src_fields) or not feature:
            raise _structural_error(column, path, src, feature)
        children = []
        for name, sub in feature.items():
            if name in src_fields:
                child = _cast_expr(
                    expr.struct.field(name), src_fields[name], sub, column, f"{path}.{name}"
                )
            else:
                child = pl.lit(None, dtype=feature_to_polars(sub))
            children.append(child.alias(name))
        return pl.when(expr.is_not_null()).then(pl.struct(children))

    if isinstance(feature, (List, LargeList)):
        if isinstance(src, pl.Array):
            expr = expr.cast(pl.List(src.inner))
            src = pl.List(src.inner)
        if not isinstance(src, pl.List):
            raise _structural_error(column, path, src, feature)
        inner_dtype = feature_to_polars(feature.feature)
        inner_plain = _plain_target(polars_dtype(src.inner), feature.feature)
        if inner_plain is not None:
            out = expr.cast(pl.List(inner_plain), strict=True)
        else:
            inner = _cast_expr(
                pl.element(), polars_dtype(src.inner), feature.feature, column, f"{path}[]"
            )
            out = expr.list.eval(inner).cast(pl.List(inner_dtype), strict=True)
        if isinstance(feature, List) and feature.length != -1:
            out = out.cast(pl.Array(inner_dtype, feature.length), strict=True)
        return out

    if isinstance(feature, ClassLabel):
        return _cast_class_label(expr, src, feature, column, path)

    if isinstance(feature, Value):
        return _cast_value(expr, src, feature, column, path)

    raise _structural_error(column, path, src, feature)


def _cast_class_label(
    expr: pl.Expr, src: pl.DataType, feature: ClassLabel, column: str, path: str
) -> pl.Expr:
    n = feature.num_classes
    message = f"{path}: not a label of {_feature_repr(feature)}"
    if _is_stringish(src):
        text = expr if isinstance(src, pl.String) else expr.cast(pl.String)
        names = [str(name) for name in feature.names]
        ids = list(range(n))
        stripped = text.str.strip_chars()
        candidates = []
        if names:
            candidates.append(text.replace_strict(names, ids, default=None, return_dtype=pl.Int64))
            candidates.append(
                stripped.replace_strict(names, ids, default=None, return_dtype=pl.Int64)
            )
        number = stripped.cast(pl.Int64, strict=False)
        candidates.append(pl.when(number.is_between(-1, n - 1)).then(number))
        result = pl.coalesce(candidates)
        bad = text.is_not_null() & result.is_null()
        return _guard(result, bad, text, message, pl.Int64())
    if src.is_integer() or isinstance(src, pl.Boolean):
        ids_expr = expr.cast(pl.Int64, strict=True)
        bad = ids_expr >= n  # negative ids (-1, -100 "ignore") pass, as in datasets
        return _guard(ids_expr, bad, ids_expr, message, pl.Int64())
    if src.is_float() or src.is_decimal():
        number = expr.cast(pl.Float64)
        bad = number.is_not_null() & (number.is_nan() | (number != number.floor()) | (number >= n))
        result = pl.when(bad).then(None).otherwise(number).cast(pl.Int64, strict=True)
        return _guard(result, bad, number, message, pl.Int64())
    raise _structural_error(column, path, src, feature)


def _cast_value(expr: pl.Expr, src: pl.DataType, feature: Value, column: str, path: str) -> pl.Expr:
    target = feature.to_polars()
    message = f"{path}: does not fit {feature!r}"
    if isinstance(src, (pl.Categorical, pl.Enum)):
        return _cast_value(expr.cast(pl.String), pl.String(), feature, column, path)
    if src.is_nested():
        raise _structural_error(column, path, src, feature)
    if feature.dtype == "null":
        bad = expr.is_not_null()
        return _guard(expr.cast(pl.Null, strict=False), bad, expr, message, pl.Null())
    if isinstance(src, pl.String) and isinstance(target, pl.Boolean):
        lowered = expr.str.strip_chars().str.to_lowercase()
        mapped = lowered.replace_strict(
            ["true", "false", "1", "0"],
            [True, False, True, False],
            default=None,
            return_dtype=pl.Boolean,
        )
        bad = expr.is_not_null() & mapped.is_null()
        return _guard(mapped, bad, expr, message, pl.Boolean())
    if isinstance(src, pl.String) and isinstance(target, pl.Date):
        return expr.str.to_date(strict=True)
    if isinstance(src, pl.String) and isinstance(target, pl.Datetime):
        return expr.str.to_datetime(
            time_unit=target.time_unit, time_zone=target.time_zone, strict=True
        ).cast(target, strict=True)
    if isinstance(src, pl.String) and isinstance(target, pl.Time):
        return expr.str.to_time(strict=True)
    if src.is_float() and isinstance(target, pl.String):  # Arrow's text: 1.0 is "1"
        return expr.map_batches(float_text, return_dtype=pl.String())
    if (src.is_float() or src.is_decimal()) and target.is_integer():
        number = expr.cast(pl.Float64) if src.is_decimal() else expr
        bad = number.is_not_null() & (
            number.is_nan() | number.is_infinite() | (number != number.floor())
        )
        result = pl.when(bad).then(None).otherwise(expr).cast(target, strict=True)
        return _guard(result, bad, number, message, target)
    return expr.cast(target, strict=True)


def _as_features(features: Mapping[str, Any]) -> Features:
    return features if isinstance(features, Features) else Features(features)


def _check_columns(names: Sequence[str], features: Features) -> None:
    missing = [name for name in features if name not in names]
    if missing:
        raise ColumnNotFoundError(missing[0] if len(missing) == 1 else missing, list(names))
    extra = [name for name in names if name not in features]
    if extra:
        raise ExtraColumnsError(extra, list(features))


def _cast_exprs(schema: pl.Schema, features: Features) -> list[pl.Expr]:
    return [
        _cast_expr(pl.col(name), schema[name], feature, name, name).alias(name)
        for name, feature in features.items()
    ]


def cast_lazyframe(lf: pl.LazyFrame, features: Mapping[str, Any]) -> pl.LazyFrame:
    """Cast every column of a lazy frame to ``features``, lazily and strictly.

    Nothing is collected: the result is a new lazy frame whose columns have the features'
    Polars dtypes, in the features' order. Numbers, strings and temporals go through strict
    Polars casts; ``ClassLabel`` takes label names (mapped to ids, as ``str2int``) or ids
    (checked to be in ``-1..num_classes-1``); ``Image``/``Audio`` take a path string, bytes or
    a ``{bytes, path}`` struct; structs and lists are cast item by item, a struct's missing
    sub-fields filled with nulls. A value that does not fit makes the collect fail; run
    :func:`find_cast_error` then to learn where.

    Parameters
    ----------
    lf
        The frame to cast.
    features
        The target ``Features`` (or a dict of column features).

    Returns
    -------
    polars.LazyFrame

    Raises
    ------
    ColumnNotFoundError
        At once, when a column of ``features`` is not in the frame.
    ExtraColumnsError
        At once, when the frame has columns ``features`` does not list.
    FeatureCastError
        At once (with ``row=None``), when a column's type cannot become the feature at all
        (a list for a ``Value``, a struct with unknown fields, ...).

    Examples
    --------
    >>> import polars as pl
    >>> from crucible_polars.features import ClassLabel, Features, List, Value
    >>> lf = pl.LazyFrame({"label": ["pos", "cat"], "ids": [["1", "2"], []]})
    >>> features = Features(
    ...     {"label": ClassLabel(names=["neg", "pos"]), "ids": List(Value("int32"))}
    ... )
    >>> out = cast_lazyframe(lf, features)
    >>> out.collect_schema()
    Schema([('label', Int64), ('ids', List(Int32))])
    >>> out.collect()
    Traceback (most recent call last):
    ...
    polars.exceptions.InvalidOperationError: conversion from `str` to `i8` failed ...
    >>> find_cast_error(lf, features).row
    1
    """
    features = _as_features(features)
    schema = lf.collect_schema()
    _check_columns(schema.names(), features)
    return lf.select(_cast_exprs(schema, features))


def _fails(frame: pl.LazyFrame, exprs: list[pl.Expr]) -> bool:
    try:
        frame.select(exprs).collect()
    except pl.exceptions.PolarsError:
        return True
    return False


def _series_fails(series: pl.Series, src: pl.DataType, feature: FeatureType) -> bool:
    try:
        expr = _cast_expr(pl.col("v"), src, feature, "v", "v")
    except FeatureCastError:
        return True
    return _fails(pl.LazyFrame({"v": series}), [expr])


def _storage_series(series: pl.Series) -> pl.Series:
    return series.to_frame("v").select(pl.col("v").ext.storage()).to_series()


def _locate(
    series: pl.Series, src: pl.DataType, feature: FeatureType, path: str
) -> tuple[Any, FeatureType, str]:
    """The innermost offending value of a one-row series, its feature and its path."""
    while isinstance(src, pl.BaseExtension):
        series = _storage_series(series)
        src = polars_dtype(src.ext_storage())
    if isinstance(src, pl.Struct) and isinstance(
        feature, (Image, Audio, Translation, TranslationVariableLanguages)
    ):
        feature = storage_feature(feature)
    if isinstance(feature, (ArrayXD, Json)):
        feature = storage_feature(feature)
    value = series.to_list()[0]
    if value is None:
        return value, feature, path
    if isinstance(feature, dict) and isinstance(src, pl.Struct):
        for f in src.fields:
            if f.name in feature:
                child, child_src = series.struct.field(f.name), polars_dtype(f.dtype)
                if _series_fails(child, child_src, feature[f.name]):
                    return _locate(child, child_src, feature[f.name], f"{path}.{f.name}")
    if isinstance(feature, (List, LargeList)) and isinstance(src, (pl.List, pl.Array)):
        as_list = series.cast(pl.List(src.inner)) if isinstance(src, pl.Array) else series
        elements = as_list.explode()
        for i in range(len(value)):
            element = elements.slice(i, 1)
            if _series_fails(element, polars_dtype(src.inner), feature.feature):
                return _locate(element, polars_dtype(src.inner), feature.feature, f"{path}[{i}]")
    return value, feature, path


def find_cast_error(lf: pl.LazyFrame, features: Mapping[str, Any]) -> FeatureCastError | None:
    """Find the first value of ``lf`` that does not fit ``features`` (slow; for diagnostics).

    Run it after collecting :func:`cast_lazyframe` failed. It locates the first failing row
    by bisection over row ranges (each step collects a slice), then the first failing column
    of that row (in the features' order) and, inside nested values, the innermost offending
    item.

    Parameters
    ----------
    lf
        The frame, as given to :func:`cast_lazyframe`.
    features
        The target features.

    Returns
    -------
    FeatureCastError or None
        ``column`` (top-level column name), ``row`` (0-based), ``value`` (the offending
        value; for nested columns the innermost one, its path given in ``feature``), or
        ``None`` when the cast succeeds.

    Raises
    ------
    ColumnNotFoundError, ExtraColumnsError
        As :func:`cast_lazyframe`.

    Examples
    --------
    >>> import polars as pl
    >>> from crucible_polars.features import Features, Value
    >>> lf = pl.LazyFrame({"n": ["1", "2", "abc"]})
    >>> err = find_cast_error(lf, Features({"n": Value("int64")}))
    >>> err.column, err.row, err.value
    ('n', 2, 'abc')
    >>> find_cast_error(pl.LazyFrame({"n": ["1"]}), Features({"n": Value("int64")})) is None
    True
    """
    features = _as_features(features)
    schema = lf.collect_schema()
    _check_columns(schema.names(), features)
    try:
        exprs = _cast_exprs(schema, features)
    except FeatureCastError as err:
        return err
    if not _fails(lf, exprs):
        return None
    total = lf.select(pl.len()).collect().item()
    lo, hi = 0, total
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _fails(lf.slice(lo, mid - lo), exprs):
            hi = mid
        else:
            lo = mid
    row = lf.slice(lo, 1).collect()
    if row.height == 0:
        return None
    for name, feature in features.items():
        series = row.get_column(name)
        if _series_fails(series, schema[name], feature):
            value, leaf, path = _locate(series, schema[name], feature, name)
            return FeatureCastError(name, lo, value, _where(leaf, name, path))
    return None


def cast_arrow_table(table: pa.Table, features: Mapping[str, Any]) -> pa.Table:
    """Give an Arrow table exactly the Arrow schema (and metadata) ``datasets`` writes.

    Use it on the output of ``cast_lazyframe(...).collect().to_arrow()`` before
    ``pyarrow.parquet.write_table``: it turns Polars' Arrow types (``large_string``,
    ``large_list``, ``fixed_size_list`` for ``Array2D``..) into the features' own
    (``string``, ``list``, the ArrayXD extension types) and attaches the ``huggingface``
    metadata, so ``datasets.load_dataset("parquet", ...)`` reads the same features back.

    Parameters
    ----------
    table
        A table whose values already fit ``features``.
    features
        The features.

    Returns
    -------
    pyarrow.Table

    Examples
    --------
    >>> import polars as pl
    >>> from crucible_polars.features import Features, Value
    >>> table = pl.DataFrame({"text": ["a"]}).to_arrow()
    >>> table.schema.field("text").type
    DataType(large_string)
    >>> cast_arrow_table(table, Features({"text": Value("string")})).schema.field("text").type
    DataType(string)
    """
    features = _as_features(features)
    _check_columns(table.column_names, features)
    schema = features.to_arrow_schema()
    return table.select(list(features)).cast(schema).replace_schema_metadata(schema.metadata)
