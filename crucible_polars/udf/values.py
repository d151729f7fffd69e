"""Python values to Polars columns, typed as ``datasets`` types them (for ``map`` outputs).

``datasets`` infers a column's type with pyarrow; so do we (``pa.array``), then hand the
column to Polars. A later batch's column is *conformed* to the first batch's type when its
values fit without changing meaning (nulls, integer widening, label names for a
``ClassLabel``), never by parsing text into numbers.

Examples
--------
>>> values_to_series("x", [1, 2.5]).dtype
Float64
>>> conform(pl.Series([None, None]), pl.String).dtype
String
"""

from __future__ import annotations

import io
import sys
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from crucible_polars.errors import FeatureCastError
from crucible_polars.features import (
    Audio,
    ClassLabel,
    Image,
    LargeList,
    List,
    cast_lazyframe,
    feature_to_polars,
    find_cast_error,
)


def encode_image(value: Any) -> Any:
    """A PIL image as ``datasets`` stores it: its file path, else its bytes (PNG if needed).

    Examples
    --------
    >>> import PIL.Image
    >>> encode_image(PIL.Image.new("L", (1, 1)))["bytes"][:4]
    b'\\x89PNG'
    """
    import PIL.Image

    if isinstance(value, PIL.Image.Image):
        path = getattr(value, "filename", None)
        if path:
            return {"bytes": None, "path": path}
        buffer = io.BytesIO()
        fmt = value.format if value.format in ("PNG", "JPEG", "TIFF", "GIF", "WEBP") else "PNG"
        if fmt == "JPEG" and value.mode not in ("RGB", "L", "CMYK"):
            fmt = "PNG"
        value.save(buffer, format=fmt)
        return {"bytes": buffer.getvalue(), "path": None}
    return value


def is_pil_image(value: Any) -> bool:
    """Whether ``value`` is a PIL image (without importing Pillow when no image exists).

    Examples
    --------
    >>> is_pil_image("a")
    False
    """
    if "PIL.Image" not in sys.modules:  # no image was ever made in this process
        return False
    import PIL.Image

    return isinstance(value, PIL.Image.Image)


def pil_lists(values: Any) -> bool:
    """Whether ``values`` are lists of PIL images (judged, as ``datasets`` does, by the first
    item of the first value that is not ``None`` nor empty).

    Examples
    --------
    >>> pil_lists([[], ["a"]])
    False
    """
    if not isinstance(values, (list, tuple)):
        return False
    first = next((v for v in values if v is not None and (not isinstance(v, list) or v)), None)
    return isinstance(first, list) and is_pil_image(first[0])


def _is_tensor(value: Any) -> bool:
    """Whether ``value`` is a torch tensor (without importing torch)."""
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def _instance(dtype: Any) -> pl.DataType:
    return dtype() if isinstance(dtype, type) else dtype


def _arrays_to_lists(dtype: pl.DataType) -> pl.DataType:
    """``Array`` (fixed size, from N-D numpy) as ``List``, as ``datasets`` infers it."""
    if isinstance(dtype, pl.Array):
        return pl.List(_arrays_to_lists(_instance(dtype.inner)))
    if isinstance(dtype, pl.List):
        return pl.List(_arrays_to_lists(_instance(dtype.inner)))
    if isinstance(dtype, pl.Struct):
        return pl.Struct({f.name: _arrays_to_lists(_instance(f.dtype)) for f in dtype.fields})
    return dtype


def values_to_series(name: str, values: Any) -> pl.Series:
    """One output column as a Series, typed as ``datasets`` (pyarrow) infers Python values.

    Raises ``TypeError``/``ValueError`` for values without one type (``[1, "a"]``).

    Examples
    --------
    >>> values_to_series("x", [1, 2.5]).dtype
    Float64
    >>> values_to_series("x", np.zeros((2, 3))).dtype
    List(Float64)
    """
    if isinstance(values, pl.Series):
        return values.alias(name)
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        series = pl.from_arrow(values)
        assert isinstance(series, pl.Series)
        return series.alias(name)
    if _is_tensor(values):
        values = values.detach().cpu().numpy()
    elif hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):  # pandas
        values = values.to_numpy()
    if isinstance(values, np.ndarray) and values.dtype != object:
        series = pl.Series(name, values)
        return series.cast(_arrays_to_lists(series.dtype))
    values = values if isinstance(values, list) else list(values)
    first = next((v for v in values if v is not None), None)
    if _is_tensor(first):  # one tensor per row: numpy arrays (0-d ones as numpy scalars)
        values = [v.detach().cpu().numpy()[()] if _is_tensor(v) else v for v in values]
        first = next((v for v in values if v is not None), None)
    if is_pil_image(first):
        values = [encode_image(v) for v in values]
        return pl.Series(name, values, dtype=feature_to_polars(Image()))
    if pil_lists(values):
        values = [None if v is None else [encode_image(x) for x in v] for v in values]
        return pl.Series(name, values, dtype=feature_to_polars(List(Image())))
    if isinstance(first, np.ndarray) and first.ndim > 1:  # pyarrow takes 1-D arrays only
        values = [v.tolist() if isinstance(v, np.ndarray) else v for v in values]
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as error:
        raise TypeError(str(error)) from None
    series = pl.from_arrow(array)
    assert isinstance(series, pl.Series)
    return series.alias(name)


def _fits(src: pl.DataType, dst: pl.DataType) -> bool:
    """Whether values of ``src`` go into ``dst`` without changing meaning (nulls, widening)."""
    if src == dst or src == pl.Null:
        return True
    if src.is_integer() and (dst.is_integer() or dst.is_float()):
        return True
    if src.is_float() and dst.is_float():
        return True
    if isinstance(src, pl.String) and dst == pl.String:
        return True
    if isinstance(src, (pl.List, pl.Array)) and isinstance(dst, (pl.List, pl.Array)):
        return _fits(_instance(src.inner), _instance(dst.inner))
    if isinstance(src, pl.Struct) and isinstance(dst, pl.Struct):
        targets = {f.name: f.dtype for f in dst.fields}
        return all(
            f.name in targets and _fits(_instance(f.dtype), _instance(targets[f.name]))
            for f in src.fields
        )
    return False


def conform(series: pl.Series, dtype: pl.DataType, feature: Any = None) -> pl.Series | None:
    """``series`` cast to ``dtype`` if its values fit, else ``None``.

    Label names fit a ``ClassLabel`` feature (encoded to their ids), as in ``datasets``.

    Examples
    --------
    >>> conform(pl.Series([1, 2]), pl.Float64).dtype
    Float64
    >>> conform(pl.Series(["a"]), pl.Int64) is None
    True
    >>> from crucible_polars.features import ClassLabel
    >>> conform(pl.Series(["b", None]), pl.Int64, ClassLabel(names=["a", "b"])).to_list()
    [1, None]
    """
    if series.dtype == dtype:
        return series
    if isinstance(feature, ClassLabel) and series.dtype == pl.String:
        names = [str(name) for name in feature.names]
        ids = series.replace_strict(
            names, list(range(len(names))), default=None, return_dtype=pl.Int64
        )
        unknown = (series.is_not_null() & ids.is_null()).any()
        return None if unknown else ids.cast(dtype)
    if not _fits(series.dtype, dtype):
        return None
    try:
        return series.cast(dtype, strict=True)
    except (pl.exceptions.PolarsError, OverflowError):
        return None


def _makes_text(src: pl.DataType, dst: pl.DataType) -> bool:
    """Whether casting ``src`` to ``dst`` turns values that are not text into text, at any
    depth (``datasets`` never does that when it tries the original type)."""
    src, dst = _instance(src), _instance(dst)
    if isinstance(dst, pl.String):
        return not isinstance(src, (pl.String, pl.Null))
    if isinstance(src, (pl.List, pl.Array)) and isinstance(dst, (pl.List, pl.Array)):
        return _makes_text(_instance(src.inner), _instance(dst.inner))
    if isinstance(src, pl.Struct) and isinstance(dst, pl.Struct):
        targets = {f.name: _instance(f.dtype) for f in dst.fields}
        return any(
            f.name in targets and _makes_text(_instance(f.dtype), targets[f.name])
            for f in src.fields
        )
    return False


def _encoded(feature: Any) -> bool:
    """Whether ``feature`` holds values a cast encodes (media, labels inside lists or dicts)."""
    if isinstance(feature, dict):
        return any(isinstance(f, ClassLabel) or _encoded(f) for f in feature.values())
    if isinstance(feature, (List, LargeList)):
        return isinstance(feature.feature, ClassLabel) or _encoded(feature.feature)
    return isinstance(feature, (Image, Audio))


def _feature_cast(series: pl.Series, feature: Any) -> pl.Series | None:
    """``series`` cast to ``feature`` as ``datasets`` casts an Arrow array to a feature (a
    path, bytes or pixel arrays to an ``Image``, label names to ids), else ``None``.

    A value that is not a label of a ``ClassLabel`` (an unknown name, an id past the last
    class) is an error, as in ``datasets``, not a reason to keep the values' own type.
    """
    name = series.name
    frame = series.to_frame()
    try:
        return cast_lazyframe(frame.lazy(), {name: feature}).collect().to_series()
    except (FeatureCastError, TypeError, ValueError):  # the types cannot meet
        return None
    except pl.exceptions.PolarsError:
        found = find_cast_error(frame.lazy(), {name: feature})
        if found is None or not found.feature.startswith("ClassLabel("):
            return None
        if isinstance(found.value, (str, int)):  # a float falls back, as in datasets
            raise found from None
        return None


def try_original(series: pl.Series, dtype: pl.DataType, feature: Any = None) -> pl.Series | None:
    """``series`` in ``dtype`` if its values cast without loss, as ``datasets`` casts a
    column back to its original type (``try_original_type``); else ``None``.

    Beyond :func:`conform`: an Arrow *safe* cast (``1.0`` to an integer, ``"3"`` to an
    integer, float64 to float32), never a number or a bool to text; into a feature that
    encodes its values, the feature's cast (paths, bytes or pixel arrays into an ``Image``,
    label names inside lists into ``ClassLabel`` ids).

    Raises
    ------
    FeatureCastError
        A value that is not a label of a ``ClassLabel`` feature (as ``datasets`` raises).

    Examples
    --------
    >>> try_original(pl.Series(["3", "4"]), pl.Int32).to_list()
    [3, 4]
    >>> try_original(pl.Series([0.5]), pl.Int32) is None, try_original(pl.Series([1]), pl.String)
    (True, None)
    >>> try_original(pl.Series(["cat.png"]), feature_to_polars(Image()), Image()).struct.fields
    ['bytes', 'path']
    """
    if isinstance(feature, ClassLabel) and (series.dtype == pl.String or series.dtype.is_integer()):
        return _feature_cast(series, feature)  # names to ids; a bad label raises
    if feature is not None and _encoded(feature):
        return _feature_cast(series, feature)
    same = conform(series, dtype, feature)
    if same is not None:
        return same
    if _makes_text(series.dtype, dtype):
        return None
    try:
        target = pl.Series([], dtype=dtype).to_arrow().type
        cast = pl.from_arrow(series.to_arrow().cast(target, safe=True))
        assert isinstance(cast, pl.Series)
        return cast.alias(series.name).cast(dtype)
    except (pa.ArrowException, pl.exceptions.PolarsError, OverflowError):
        return None
