"""Encoding Python values into a column's storage, as ``datasets``' ``encode_example`` does.

``datasets`` encodes every example it is given with features: ClassLabel names become ids
(an id out of range is an error), ``Value`` casts with ``int()`` / ``float()`` / ``str()``
(``"x"`` for an integer column is an error), and an ``Image`` value given as a path, a
``Path``, bytes, a numpy array or a PIL image becomes a ``{bytes, path}`` struct.
:func:`encode_column` does the same per column and builds the Polars series in one go:
columns whose values already fit take a vectorized path, the rest are encoded value by value.

Examples
--------
>>> from crucible_polars.features import ClassLabel, Value
>>> encode_column(["pos", "neg"], ClassLabel(names=["neg", "pos"]), "label").to_list()
[1, 0]
>>> encode_column(["x"], Value("int64"), "n")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: Column 'n', row 0: cannot encode 'x' as Value('int64'): invalid literal ...
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from collections.abc import Sequence as SequenceABC
from typing import Any

import numpy as np
import polars as pl

from .class_label import ClassLabel
from .json_values import has_json, json_text
from .media import Audio, Image, encode_audio, encode_image
from .nested import FeatureType, Json, LargeList, List, feature_to_polars
from .value import Value

__all__ = [
    "column_series",
    "encode_column",
    "encode_frame",
    "encode_image",
    "encode_nested_example",
    "reorder_fields",
    "to_python_objects",
]


def _encode_json(value: Any) -> str:
    """JSON text, as ``datasets.Json.encode_example`` stores a value."""
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return str(json_text(value))
        return value
    return str(json_text(to_python_objects(value)))


def to_python_objects(value: Any) -> Any:
    """numpy arrays and scalars (also inside lists and dicts) as Python objects, except
    arrays that an Image feature encodes (they are left to it).

    Examples
    --------
    >>> import numpy as np
    >>> to_python_objects({"a": np.arange(2), "b": np.float32(1.5)})
    {'a': [0, 1], 'b': 1.5}
    """
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {k: to_python_objects(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_python_objects(v) for v in value]
    if type(value).__module__.startswith("torch"):
        return to_python_objects(value.numpy()) if hasattr(value, "numpy") else value
    return value


def encode_nested_example(feature: FeatureType, value: Any) -> Any:
    """Encode one (possibly nested) value for ``feature``, as ``datasets`` does.

    Examples
    --------
    >>> encode_nested_example({"l": List(ClassLabel(names=["a", "b"]))}, {"l": ["b", "a"]})
    {'l': [1, 0]}
    """
    if isinstance(feature, dict):
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise TypeError(f"Expected a dict for {feature}, got {value!r}")
        return {k: encode_nested_example(sub, value.get(k)) for k, sub in feature.items()}
    if value is None:
        return None
    if isinstance(feature, (List, LargeList)):
        if isinstance(value, (str, bytes)) or not isinstance(value, (SequenceABC, np.ndarray)):
            raise TypeError(f"Expected a list for {feature!r}, got {value!r}")
        # As datasets: encode the items only when the first non-null one changes.
        first = next((v for v in value if v is not None), None)
        if first is None:
            return list(value)
        try:
            changed = bool(encode_nested_example(feature.feature, first) != first)
        except ValueError:  # comparing arrays
            changed = True
        if not changed:
            return list(value)
        return [encode_nested_example(feature.feature, v) for v in value]
    if isinstance(feature, Image):
        return encode_image(value)
    if isinstance(feature, Audio):  # paths, bytes, {"array", "sampling_rate"} dicts (WAV)
        return encode_audio(value, feature.num_channels)
    if isinstance(feature, Json):
        return _encode_json(value)
    value = to_python_objects(value)
    if isinstance(feature, (Value, ClassLabel)):
        return feature.encode_example(value)
    return value


def _needs_python(feature: FeatureType) -> bool:
    """Whether values of ``feature`` can need more than Polars' own conversion."""
    if isinstance(feature, dict):
        return any(_needs_python(f) for f in feature.values())
    if isinstance(feature, (List, LargeList)):
        return _needs_python(feature.feature)
    return isinstance(feature, (ClassLabel, Image, Audio, Value))


def _fast_series(values: Any, feature: FeatureType, name: str) -> pl.Series | None:
    """The column built by Polars directly, when its values need no Python encoding."""
    dtype = feature_to_polars(feature)
    if isinstance(feature, ClassLabel):
        try:
            series = pl.Series(name, values, dtype=pl.Int64, strict=True)
        except (TypeError, pl.exceptions.PolarsError, OverflowError, ValueError):
            return None
        low, high = series.min(), series.max()
        if series.null_count() == len(series):
            return series
        if not (isinstance(low, int) and isinstance(high, int)):
            return None
        if low < -1 or high >= feature.num_classes:
            return None  # the slow path names the row
        return series
    if isinstance(feature, (Image, Audio)) or has_json(feature):
        return None  # Json values are JSON text, encoded in Python as datasets encodes them
    if isinstance(feature, Value) and not (dtype.is_numeric() or dtype in (pl.String, pl.Boolean)):
        return None
    if isinstance(feature, (List, LargeList, dict)) and _needs_python(feature):
        leaf: Any = feature
        while isinstance(leaf, (List, LargeList)):
            leaf = leaf.feature
        if not isinstance(leaf, Value):
            return None
    try:
        if isinstance(values, np.ndarray) and values.ndim == 1 and values.dtype.kind in "biuf":
            series = pl.Series(name, values)
            return series if series.dtype == dtype else series.cast(dtype, strict=True)
        return pl.Series(name, values, dtype=dtype, strict=True)
    except (TypeError, pl.exceptions.PolarsError, OverflowError, ValueError):
        return None


def encode_column(values: Any, feature: FeatureType, name: str) -> pl.Series:
    """A column of Python values encoded for ``feature`` into a Polars series of its storage.

    Parameters
    ----------
    values
        The column's values (a list, tuple or numpy array).
    feature
        The column's feature.
    name
        The column name (named in errors).

    Raises
    ------
    ValueError
        For a value ``datasets`` would refuse, naming the column and row.

    Examples
    --------
    >>> encode_column([1, 2], Value("int32"), "a").dtype
    Int32
    >>> encode_column([3], ClassLabel(names=["a", "b"]), "label")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Column 'label', row 0: cannot encode 3 as ClassLabel(...): Class label 3 ...
    """
    fast = _fast_series(values, feature, name)
    if fast is not None:
        return fast
    encoded = []
    for row, value in enumerate(values):
        try:
            encoded.append(encode_nested_example(feature, value))
        except (ValueError, TypeError) as error:
            shown = repr(value)
            shown = shown if len(shown) <= 80 else shown[:77] + "..."
            raise type(error)(
                f"Column {name!r}, row {row}: cannot encode {shown} as {feature!r}: {error}"
            ) from error
    dtype = feature_to_polars(feature)
    try:
        return pl.Series(name, encoded, dtype=dtype, strict=True)
    except (TypeError, OverflowError, pl.exceptions.PolarsError) as error:
        for row, value in enumerate(encoded):  # name the first value that does not fit
            try:
                pl.Series(name, [value], dtype=dtype, strict=True)
            except (TypeError, OverflowError, pl.exceptions.PolarsError):
                raise ValueError(
                    f"Column {name!r}, row {row}: {value!r} does not fit {feature!r}"
                ) from error
        raise ValueError(f"Column {name!r} does not fit {feature!r}: {error}") from error


def reorder_fields(source: Any, target: Any, stack: str = "") -> Any:
    """``source`` with its struct fields in ``target``'s order (``Features.reorder_fields_as``).

    Examples
    --------
    >>> a, b = Value("int8"), Value("string")
    >>> reorder_fields({"a": a, "b": b}, {"b": b, "a": a})
    {'b': Value('string'), 'a': Value('int8')}
    """
    where = " at " + stack[1:] if stack else ""
    if isinstance(source, dict):
        if not isinstance(target, dict):
            raise ValueError(f"Type mismatch: between {source} and {target}{where}")
        if sorted(source) != sorted(target):
            raise ValueError(
                f"Keys mismatch: between {source} (source) and {target} (target).\n"
                f"{source.keys() - target.keys()} are missing from target "
                f"and {target.keys() - source.keys()} are missing from source{where}"
            )
        return {k: reorder_fields(source[k], target[k], f"{stack}.{k}") for k in target}
    if isinstance(source, List):
        if not isinstance(target, List):
            raise ValueError(f"Type mismatch: between {source} and {target}{where}")
        inner = reorder_fields(source.feature, target.feature, stack + ".<list>")
        return List(inner, length=source.length)
    if isinstance(source, LargeList):
        if not isinstance(target, LargeList):
            raise ValueError(f"Type mismatch: between {source} and {target}{where}")
        return LargeList(reorder_fields(source.feature, target.feature, stack + ".<list>"))
    return source


def encode_frame(columns: Mapping[str, Any], features: Mapping[str, FeatureType]) -> pl.DataFrame:
    """A Polars frame of ``{column: values}`` encoded for ``features`` (as ``datasets``'
    ``from_dict(..., features=...)``); the columns must be the features' columns.

    Examples
    --------
    >>> from crucible_polars.features import ClassLabel
    >>> encode_frame({"label": ["b", "a"]}, {"label": ClassLabel(names=["a", "b"])}).row(0)
    (1,)
    """
    missing = [name for name in columns if name not in features]
    if missing:
        raise ValueError(
            f"Columns {missing} are not in the features {list(features)}; add them to the "
            "features or drop them from the data."
        )
    absent = [name for name in features if name not in columns]
    if absent:
        raise ValueError(
            f"Features {absent} have no column in the data {list(columns)}; give their values "
            "or drop them from the features."
        )
    series = [encode_column(columns[name], features[name], name) for name in features]
    return pl.DataFrame(series)


def column_series(name: str, values: Any) -> pl.Series | Any:
    """``values`` as a Polars series when they are numpy arrays (one per row, as ``datasets``
    takes them: nested lists of the arrays' dtype); other values are returned as they are.

    Examples
    --------
    >>> import numpy as np
    >>> column_series("x", [np.zeros((2, 2), dtype=np.uint8)]).dtype
    List(List(UInt8))
    """
    if not isinstance(values, (list, tuple)):
        return values
    first = next((v for v in values if v is not None), None)
    if not isinstance(first, np.ndarray) or first.ndim == 0 or first.dtype == object:
        return values
    dtype: pl.DataType = pl.Series(first.reshape(-1)[:0]).dtype
    for _ in range(first.ndim):
        dtype = pl.List(dtype)
    rows = [None if v is None else np.asarray(v).tolist() for v in values]
    return pl.Series(name, rows, dtype=dtype, strict=False)
