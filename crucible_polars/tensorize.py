"""Columns as ``datasets``' numpy and torch formats give them (images aside).

``datasets`` extracts a column from Arrow to numpy, then "tensorizes" it recursively: integer
arrays become ``int64``, float arrays ``float32`` (unless the format's ``dtype=`` says
otherwise), per-row arrays of one shape and dtype are stacked (so a regular nested list column
is one ``(n, 2, 2)`` array), ragged ones stay an object array (numpy) or a list (torch), dicts
keep their keys with tensorized values, and strings stay strings (a list of them in torch).
Rows keep numpy scalars as they are (numpy) and become 0-d tensors (torch).

This module does the same: a vectorized path for flat and regular numeric columns, and the
``datasets`` algorithm, value by value, for the rest.

Examples
--------
>>> import polars as pl

from crucible_polars.media.nested import consolidate
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

from crucible_polars.media.nested import consolidate

__all__ = ["extract_numpy", "numpy_column", "numpy_rows", "torch_column", "torch_rows"]


def _arrow(series: pl.Series) -> Any:
    return series.to_arrow(compat_level=pl.CompatLevel.oldest())


def _list_lengths(series: pl.Series) -> np.ndarray:
    """The lengths of a list column's rows, from its Arrow offsets (``pa.Array.to_numpy``
    would import pandas, some 50 MiB and a third of a second in a process that has none)."""
    offsets = _arrow(series).offsets  # large_list: int64 offsets, the slice applied
    data = np.frombuffer(offsets.buffers()[1], dtype=np.int64)
    return np.diff(data[offsets.offset : offsets.offset + len(offsets)])


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
            lengths = _list_lengths(inner)
            width = int(lengths[0])
            if width == 0 or (lengths != width).any():
                return None
        shape.append(width)
        inner = inner.explode() if isinstance(inner.dtype, pl.List) else inner.arr.explode()
    if inner.null_count() or not (inner.dtype.is_numeric() or inner.dtype == pl.Boolean):
        return None
    if inner.dtype.is_decimal():
        return None
    values: np.ndarray = inner.to_numpy()
    return values.reshape(shape)


def _vectorized(series: pl.Series) -> np.ndarray | None:
    """The column as one numpy array when it is numeric without nulls (flat or regular)."""
    if isinstance(series.dtype, (pl.List, pl.Array)):
        return _regular(series)
    numeric = series.dtype.is_numeric() and not series.dtype.is_decimal()
    if series.null_count() == 0 and (numeric or series.dtype == pl.Boolean):
        values: np.ndarray = series.to_numpy()
        return values
    return None


def _ragged(series: pl.Series) -> list[np.ndarray] | None:
    """A numeric list column of several lengths without nulls, as per-row arrays of the
    default dtype (int64 / float32), as the generic path gives them but vectorized."""
    dtype = series.dtype
    if not isinstance(dtype, pl.List) or series.null_count() or not len(series):
        return None
    inner = dtype.inner
    if not (inner.is_numeric() or inner == pl.Boolean) or inner.is_decimal():
        return None
    lengths = _list_lengths(series)
    if (lengths == lengths[0]).all() or series.explode().null_count():
        return None
    target = pl.Int64 if inner.is_integer() else pl.Float32 if inner.is_float() else inner
    arrays: list[np.ndarray] = list(series.cast(pl.List(target)).to_numpy())
    return arrays


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
    options = dict(kwargs or {})
    regular = _vectorized(series)
    if regular is not None:
        default = _default_dtype(regular)
        return np.asarray(regular, **{**({"dtype": default} if default else {}), **options})
    if series.dtype == pl.String and not options:  # what the generic path gives, faster
        if series.null_count():
            return consolidate(series.to_list())
        return np.asarray(series.to_list(), dtype=str) if len(series) else np.array([], str)
    ragged = _ragged(series)
    if ragged is not None:
        out = np.empty(len(ragged), dtype=object)
        out[:] = [np.asarray(a, **options) for a in ragged] if options else ragged
        return out
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
    return [_np_recursive(v, options) for v in extract_numpy(series)]


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
        flat = np.concatenate(ragged) if ragged else np.array([])
        tensor = torch.from_numpy(flat)
        if options.get("dtype") is not None:
            tensor = tensor.to(options["dtype"])
        return list(torch.split(tensor, [len(a) for a in ragged]))
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
    return [_torch_recursive(v, options) for v in extract_numpy(series)]
