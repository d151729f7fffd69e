"""Columns as ``datasets``' numpy and torch formats give them (images aside).

``datasets`` extracts a column from Arrow to numpy, then "tensorizes" it recursively: integer
arrays become ``int64``, float arrays ``float32`` (unless the format's ``dtype=`` says
otherwise), per-row arrays of one shape and dtype are stacked (so a regular nested list column
is one ``(n, 2, 2)`` array), ragged ones stay an object array (numpy) or a list (torch), dicts
keep their keys with tensorized values, and strings stay strings (a list of them in torch).
Rows keep numpy scalars as they are (numpy) and become 0-d tensors (torch).

This module does the same: vectorized paths for flat and regular numeric columns, strings and
ragged numeric lists (per-row views of one array of values, read from the Arrow offsets), and
the ``datasets`` algorithm, value by value, for the rest.

Examples
--------
>>> import polars as pl
>>> nested = pl.Series([[[1.0, 2.0], [3.0, 4.0]]] * 3, dtype=pl.List(pl.List(pl.Float32)))
>>> numpy_column(nested).shape
(3, 2, 2)
>>> numpy_column(pl.Series([1, 2], dtype=pl.Int32)).dtype
dtype('int64')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import PIL.Image
import polars as pl
import pyarrow as pa

from crucible_polars.media.nested import consolidate

__all__ = [
    "extract_numpy",
    "numpy_column",
    "numpy_rows",
    "tensorize_value",
    "torch_column",
    "torch_rows",
]


def _arrow(series: pl.Series) -> Any:
    return series.to_arrow(compat_level=pl.CompatLevel.oldest())


def extract_numpy(series: pl.Series) -> np.ndarray:
    """A column as ``datasets``' ``NumpyArrowExtractor`` gives it, before tensorizing.

    Examples
    --------
    >>> extract_numpy(pl.Series([[1], [1, 2]])).dtype
    dtype('O')
    """
    # Row by row, as datasets reads a chunked column: numpy scalars keep their dtype.
    array: Any = list(_arrow(series).to_numpy(zero_copy_only=False))
    if array and any(isinstance(x, np.ndarray) for x in array):
        first = next(x for x in array if isinstance(x, np.ndarray))
        if any(
            (isinstance(x, np.ndarray) and (x.dtype == object or x.shape != first.shape))
            or (((isinstance(x, float) and np.isnan(x)) or x is None) and first.ndim > 0)
            for x in array
        ):
            return np.asarray(array, dtype=object)
    return np.asarray(array)


def _offsets(series: pl.Series) -> np.ndarray:
    """The offsets of a list column without nulls, read from its Arrow buffer (pyarrow's
    ``to_numpy`` would import pandas, a 0.4 s import in the middle of a first pass)."""
    array = _arrow(series)  # one chunk: Polars rechunks on export
    wide = pa.types.is_large_list(array.type)
    dtype, width = (np.int64, 8) if wide else (np.int32, 4)
    count = len(array) + 1
    offsets: np.ndarray = np.frombuffer(
        array.buffers()[1], dtype=dtype, count=count, offset=array.offset * width
    )
    return offsets


def _numeric(dtype: Any) -> bool:
    return (dtype.is_numeric() or dtype == pl.Boolean) and not dtype.is_decimal()


def _regular(series: pl.Series) -> np.ndarray | None:
    """A numeric column with lists of one length at every level, as one N-D array."""
    shape = [len(series)]
    inner = series
    while isinstance(inner.dtype, (pl.List, pl.Array)):
        if inner.null_count() or not len(inner):
            return None
        if isinstance(inner.dtype, pl.Array):
            width = inner.dtype.size
        else:
            lengths = np.diff(_offsets(inner))
            width = int(lengths[0])
            if width == 0 or (lengths != width).any():
                return None
        shape.append(width)
        inner = inner.explode() if isinstance(inner.dtype, pl.List) else inner.arr.explode()
    if inner.null_count() or not _numeric(inner.dtype):
        return None
    values: np.ndarray = inner.to_numpy()
    return values.reshape(shape)


def _vectorized(series: pl.Series) -> np.ndarray | None:
    """The column as one numpy array when it is numeric without nulls (flat or regular)."""
    if isinstance(series.dtype, (pl.List, pl.Array)):
        return _regular(series)
    if series.null_count() == 0 and _numeric(series.dtype):
        values: np.ndarray = series.to_numpy()
        return values
    return None


def _ragged(series: pl.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """A numeric list column of several lengths without nulls, as its values (in the
    default dtype: int64 / float32, as the generic path gives each row) and the offsets of
    each row in them (from 0): what the per-row arrays are views of."""
    dtype = series.dtype
    if not isinstance(dtype, pl.List) or series.null_count() or not len(series):
        return None
    if not _numeric(dtype.inner):
        return None
    offsets = _offsets(series)
    lengths = np.diff(offsets)
    if (lengths == lengths[0]).all():
        return None
    values = series.list.explode(empty_as_null=False)
    if values.null_count() or len(values) != offsets[-1] - offsets[0]:
        return None
    flat: np.ndarray = values.to_numpy()
    default = _default_dtype(flat)
    if default is not None and flat.dtype != default:
        flat = flat.astype(default)
    return flat, offsets - offsets[0]


def _views(flat: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """An object array of per-row views of ``flat`` (row ``i``: ``offsets[i]:offsets[i+1]``)."""
    bounds = offsets.tolist()
    rows = map(flat.__getitem__, map(slice, bounds[:-1], bounds[1:]))  # no Python frame per row
    return np.fromiter(rows, dtype=object, count=len(bounds) - 1)


def _default_dtype(array: np.ndarray) -> Any:
    if np.issubdtype(array.dtype, np.integer):
        return np.int64
    if np.issubdtype(array.dtype, np.floating):
        return np.float32
    return None


# -- numpy ----------------------------------------------------------------------------------


def _np_tensorize(value: Any, kwargs: Mapping[str, Any]) -> Any:
    if value is None or isinstance(value, (str, bytes)):
        return value
    if isinstance(value, (np.character, np.ndarray)) and np.issubdtype(value.dtype, np.character):
        return value
    if isinstance(value, np.number):
        return value
    if isinstance(value, PIL.Image.Image):
        return np.asarray(value, **kwargs)
    default = _default_dtype(value) if isinstance(value, np.ndarray) else None
    options = {"dtype": default} if default is not None else {}
    return np.asarray(value, **{**options, **kwargs})


def _np_recursive(value: Any, kwargs: Mapping[str, Any]) -> Any:
    if hasattr(value, "__array__") and not isinstance(value, (np.ndarray, np.character, np.number)):
        value = value.__array__()
    if isinstance(value, dict):
        return {k: _np_recursive(v, kwargs) for k, v in value.items()}
    if isinstance(value, np.ndarray) and value.dtype == object:
        return consolidate([_np_recursive(v, kwargs) for v in value])
    if isinstance(value, (list, tuple)):
        return consolidate([_np_recursive(v, kwargs) for v in value])
    return _np_tensorize(value, kwargs)


_FLAT: dict[Any, Any] = {
    **{t: np.int64 for t in (pl.Int8, pl.Int16, pl.Int32, pl.Int64)},
    **{t: np.int64 for t in (pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)},
    pl.Float32: np.float32,
    pl.Float64: np.float32,
    pl.Boolean: None,
}
"""Flat column types and the numpy type ``datasets`` gives them (``None``: numpy's own)."""


def numpy_column(series: pl.Series, kwargs: Mapping[str, Any] | None = None) -> Any:
    """One column of a batch in ``datasets``' numpy format (``kwargs``: the format's
    ``np.array`` options, e.g. ``dtype``).

    Examples
    --------
    >>> numpy_column(pl.Series([1.5, 2.5]), {"dtype": "float16"}).dtype
    dtype('float16')
    >>> numpy_column(pl.Series([[1], [2, 3]])).tolist()
    [array([1]), array([2, 3])]
    """
    if not kwargs and series.dtype in _FLAT and not series.null_count():  # less Python
        flat: np.ndarray = series.to_numpy()
        target = _FLAT[series.dtype]
        if target is not None and flat.dtype != target:
            return flat.astype(target)  # a new array, the caller's
        # a view of Polars' memory is read-only; datasets' arrays are the caller's to change
        return flat if flat.flags.writeable else flat.copy()
    options = dict(kwargs or {})
    regular = _vectorized(series)
    if regular is not None:
        default = _default_dtype(regular)
        array = np.asarray(regular, **{**({"dtype": default} if default else {}), **options})
        # a view of Polars' memory is read-only; datasets' arrays are the caller's to change
        return array if array.flags.writeable else array.copy()
    if series.dtype == pl.String and not options:  # what the generic path gives, faster
        if series.null_count():
            return consolidate(series.to_list())
        return np.asarray(series.to_list(), dtype=str) if len(series) else np.array([], str)
    ragged = _ragged(series)
    if ragged is not None:  # views of one array of values, as datasets' views of Arrow's
        flat, offsets = ragged
        return _views(np.asarray(flat, **options) if options else flat, offsets)
    return _np_consolidate_column(_np_recursive(extract_numpy(series), options))


def _np_consolidate_column(value: Any) -> Any:
    if isinstance(value, list):
        return consolidate(value)
    return value


def numpy_rows(series: pl.Series, kwargs: Mapping[str, Any] | None = None) -> list[Any]:
    """One value per row in ``datasets``' numpy format (numpy scalars keep their dtype).

    Examples
    --------
    >>> numpy_rows(pl.Series([1, 2], dtype=pl.Int32))[0].dtype
    dtype('int32')
    """
    options = dict(kwargs or {})
    rows = [_np_recursive(v, options) for v in _row_values(series)]
    # datasets stacks a row's array out of Arrow's memory: a copy, the caller's to change
    return [v.copy() if isinstance(v, np.ndarray) and not v.flags.writeable else v for v in rows]


def _row_values(series: pl.Series) -> Any:
    """Each row's value as ``datasets`` extracts a row (a table of one row): the column at
    once when that is the same, i.e. when no row is null (a null turns the whole column's
    strings and integers into objects or floats, but not a row's of its own)."""
    if not series.null_count():
        return extract_numpy(series)
    return [extract_numpy(series.slice(i, 1))[0] for i in range(len(series))]


# -- torch ----------------------------------------------------------------------------------


def _torch_consolidate(column: list[Any]) -> Any:
    import torch

    if column and all(
        isinstance(x, torch.Tensor) and x.shape == column[0].shape and x.dtype == column[0].dtype
        for x in column
    ):
        return torch.stack(column)
    return column


def _torch_tensorize(value: Any, kwargs: Mapping[str, Any]) -> Any:
    import torch

    if value is None or isinstance(value, (str, bytes)):
        return value
    if isinstance(value, (np.character, np.ndarray)) and np.issubdtype(value.dtype, np.character):
        return value.tolist()
    options: dict[str, Any] = {}
    if isinstance(value, (np.number, np.ndarray)) and np.issubdtype(value.dtype, np.integer):
        options = {"dtype": torch.int64}
        if value.dtype in (np.uint16, np.uint32):
            value = value.astype(np.int64)
    elif isinstance(value, (np.number, np.ndarray)) and np.issubdtype(value.dtype, np.floating):
        options = {"dtype": torch.float32}
    if isinstance(value, PIL.Image.Image):
        value = np.asarray(value)
        if value.ndim == 2:
            value = value[:, :, np.newaxis]
        value = value.transpose((2, 0, 1))
    return torch.tensor(value, **{**options, **kwargs})


def _torch_recursive(value: Any, kwargs: Mapping[str, Any]) -> Any:
    if hasattr(value, "__array__") and type(value).__module__ != "torch":
        value = value.__array__()
    if isinstance(value, dict):
        return {k: _torch_recursive(v, kwargs) for k, v in value.items()}
    if isinstance(value, np.ndarray) and value.dtype == object:
        return _torch_consolidate([_torch_recursive(v, kwargs) for v in value])
    if isinstance(value, (list, tuple)):
        return _torch_consolidate([_torch_recursive(v, kwargs) for v in value])
    return _torch_tensorize(value, kwargs)


def _torch_dtype(kwargs: Mapping[str, Any], default: Any) -> Any:
    return kwargs.get("dtype", default)


def torch_column(series: pl.Series, kwargs: Mapping[str, Any] | None = None) -> Any:
    """One column of a batch in ``datasets``' torch format (``kwargs``: ``torch.tensor``
    options, e.g. ``dtype``). Ragged lists, strings and dicts come back as lists.

    Examples
    --------
    >>> torch_column(pl.Series(["a", "b"]))
    ['a', 'b']
    >>> torch_column(pl.Series([1.0, 2.0])).dtype
    torch.float32
    """
    import torch

    options = dict(kwargs or {})
    regular = _vectorized(series)
    if regular is not None:
        default = {np.int64: torch.int64, np.float32: torch.float32}.get(_default_dtype(regular))
        if regular.dtype in (np.uint16, np.uint32):
            regular = regular.astype(np.int64)
        tensor = torch.from_numpy(np.ascontiguousarray(regular).copy())
        dtype = _torch_dtype(options, default)
        return tensor if dtype is None else tensor.to(dtype)
    if series.dtype == pl.String:  # datasets gives strings back as a list
        return series.to_list()
    ragged = _ragged(series)
    if ragged is not None:  # one tensor of all the values, split into per-row views
        flat, offsets = ragged
        tensor = torch.from_numpy(np.array(flat))  # a writable copy of its own
        if options.get("dtype") is not None:
            tensor = tensor.to(options["dtype"])
        return list(torch.split(tensor, np.diff(offsets).tolist()))
    value = _torch_recursive(extract_numpy(series), options)
    return value if not isinstance(value, list) else _torch_consolidate(value)


def torch_rows(series: pl.Series, kwargs: Mapping[str, Any] | None = None) -> list[Any]:
    """One value per row in ``datasets``' torch format.

    Examples
    --------
    >>> torch_rows(pl.Series([1, 2], dtype=pl.Int32))[0]
    tensor(1)
    """
    options = dict(kwargs or {})
    return [_torch_recursive(v, options) for v in _row_values(series)]


def tensorize_value(value: Any, format: str, kwargs: Mapping[str, Any] | None = None) -> Any:
    """A Python value (a decoded ``Json`` value, or a list of them for a column) in
    ``datasets``' ``"numpy"`` or ``"torch"`` format: tensorized recursively, lists stacked
    when their items agree.

    Examples
    --------
    >>> tensorize_value([-1, "foo"], "numpy")
    array([array(-1), 'foo'], dtype=object)
    >>> tensorize_value({"x": [1, 2]}, "numpy")
    {'x': array([1, 2])}
    """
    options = dict(kwargs or {})
    if format == "torch":
        return _torch_recursive(value, options)
    return _np_recursive(value, options)
