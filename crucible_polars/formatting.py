"""Turning a collected frame into what the user asked for: rows, columns, numpy, Arrow, torch.

Image columns are decoded here, and only here, for the rows and columns that left the plan:
to ``PIL.Image`` for python rows, to arrays for numpy (stacked when shapes agree) and to
channel-first tensors for torch, exactly as ``datasets``' formatters give them. Decoding
runs in threads (:mod:`crucible_polars.media.batch`); ``image_size=(width, height)`` resizes
inside those threads (ours, not in ``datasets``). ``Json`` values (stored as JSON text) are
decoded here too, for python, numpy, torch and pandas (Arrow keeps the ``arrow.json`` text;
Polars, which has no column of mixed types, keeps the text).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import polars as pl

from crucible_polars.features.class_label import ClassLabel
from crucible_polars.features.json_values import decode_json_column, has_json
from crucible_polars.features.media import Audio
from crucible_polars.features.storage import frame_to_arrow
from crucible_polars.features.value import Value
from crucible_polars.media.audio import audio_to_torch, decode_audio_fields
from crucible_polars.media.batch import decode_fields, decode_images_to_array
from crucible_polars.media.decode import ImageSize
from crucible_polars.media.nested import consolidate, decode_nested, has_decodable_image, tensorize
from crucible_polars.tensorize import (
    extract_numpy,
    numpy_column,
    numpy_rows,
    tensorize_value,
    torch_column,
    torch_rows,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from crucible_polars.features import Features

OutputFormat = Literal["python", "numpy", "polars", "arrow", "torch", "pandas"]
OUTPUT_FORMATS: tuple[str, ...] = ("python", "numpy", "polars", "arrow", "torch", "pandas")


_PLAIN = (Value, ClassLabel)
"""Features whose columns hold nothing to decode (no image, audio or ``Json`` inside)."""


def check_format(format: str | None) -> str:
    """Validate an output format name (``None`` means ``"python"``).

    Examples
    --------
    >>> check_format(None), check_format("numpy")
    ('python', 'numpy')
    """
    name = "python" if format is None else format
    if name == "np":
        name = "numpy"
    if name not in OUTPUT_FORMATS:
        raise ValueError(f"Unknown format {format!r}. Use one of {list(OUTPUT_FORMATS)}.")
    return name


def image_columns_to_decode(df: pl.DataFrame, features: Features) -> dict[str, Any]:
    """The frame's columns that hold images to decode, with their features.

    Examples
    --------
    >>> from crucible_polars.features import Features, Image, List, Value
    >>> frame = pl.DataFrame({"a": [1], "c": [[]]})
    >>> feats = Features({"a": Value("int64"), "b": Image(), "c": List(Image())})
    >>> list(image_columns_to_decode(frame, feats))
    ['c']
    """
    return {
        name: features[name]
        for name in df.columns
        if name in features and has_decodable_image(features[name])
    }


def json_columns_to_decode(df: pl.DataFrame, features: Features) -> dict[str, Any]:
    """The frame's columns that hold ``Json`` values to decode, with their features.

    Examples
    --------
    >>> from crucible_polars.features import Features, Json, List, Value
    >>> frame = pl.DataFrame({"a": [1], "j": ["1"], "l": [["2"]]})
    >>> feats = Features({"a": Value("int64"), "j": Json(), "l": List(Json())})
    >>> list(json_columns_to_decode(frame, feats))
    ['j', 'l']
    """
    return {
        name: features[name] for name in df.columns if name in features and has_json(features[name])
    }


def _json_values(series: pl.Series, feature: Any, decoded: list[Any] | None = None) -> list[Any]:
    """A ``Json`` column's values decoded (``decoded``: its values with images decoded)."""
    if decoded is None:
        if isinstance(series.dtype, pl.BaseExtension):
            series = series.ext.storage()
        decoded = series.to_list()
    return decode_json_column(decoded, feature)


def _fields(series: pl.Series) -> tuple[list[Any], list[Any], list[bool]]:
    if isinstance(series.dtype, pl.Struct):
        names = {f.name for f in series.dtype.fields}
        data = series.struct.field("bytes").to_list() if "bytes" in names else [None] * len(series)
        paths = series.struct.field("path").to_list() if "path" in names else [None] * len(series)
        return data, paths, series.is_null().to_list()
    if series.dtype == pl.Binary:
        return series.to_list(), [None] * len(series), series.is_null().to_list()
    if series.dtype == pl.String:
        return [None] * len(series), series.to_list(), series.is_null().to_list()
    if series.dtype == pl.Null:
        return [None] * len(series), [None] * len(series), [True] * len(series)
    raise TypeError(f"Column {series.name!r} of type {series.dtype} does not hold images.")


def _decoded_audio(df: pl.DataFrame, features: Features, first_row: int) -> dict[str, list[Any]]:
    """Top-level ``Audio(decode=True)`` columns as ``{"path", "array", "sampling_rate"}``."""
    return {
        name: decode_audio_fields(*_fields(df[name]), feature, column=name, first_row=first_row)
        for name in df.columns
        if isinstance(feature := features.get(name), Audio) and feature.decode
    }


def _decoded_python(
    df: pl.DataFrame, features: Features, first_row: int, image_size: ImageSize | None
) -> dict[str, list[Any]]:
    from crucible_polars.features import Image

    out: dict[str, list[Any]] = {}
    for name, feature in image_columns_to_decode(df, features).items():
        if isinstance(feature, Image):
            data, paths, nulls = _fields(df[name])
            out[name] = decode_fields(
                data,
                paths,
                nulls,
                mode=feature.mode,
                column=name,
                first_row=first_row,
                size=image_size,
            )
        else:
            out[name] = decode_nested(
                df[name].to_list(), feature, column=name, first_row=first_row, size=image_size
            )
    out.update(_decoded_audio(df, features, first_row))
    for name, feature in json_columns_to_decode(df, features).items():
        out[name] = _json_values(df[name], feature, out.get(name))
    return out


def _decoded_numpy(
    df: pl.DataFrame, features: Features, first_row: int, image_size: ImageSize | None
) -> dict[str, Any]:
    from crucible_polars.features import Image

    out: dict[str, Any] = {}
    for name, feature in image_columns_to_decode(df, features).items():
        if isinstance(feature, Image):
            data, paths, nulls = _fields(df[name])
            out[name] = decode_images_to_array(
                data=data,
                paths=paths,
                nulls=nulls,
                mode=feature.mode,
                column=name,
                first_row=first_row,
                size=image_size,
            )
        else:
            decoded = decode_nested(
                df[name].to_list(), feature, column=name, first_row=first_row, size=image_size
            )
            out[name] = tensorize(decoded)
    out.update({k: consolidate(v) for k, v in _decoded_audio(df, features, first_row).items()})
    return out


def _decoded_json(
    df: pl.DataFrame,
    features: Features,
    format: str,
    first_row: int,
    format_kwargs: Mapping[str, Any] | None,
    rows: bool = False,
) -> dict[str, Any]:
    """``Json`` columns decoded and tensorized for ``format`` (numpy / torch) as ``datasets``
    does it (extracted from Arrow to numpy, decoded, tensorized): a column, or with
    ``rows=True`` a list of one value per row."""
    out: dict[str, Any] = {}
    for name, feature in json_columns_to_decode(df, features).items():
        series = df[name]
        if isinstance(series.dtype, pl.BaseExtension):
            series = series.ext.storage()
        if has_decodable_image(feature):
            values = decode_nested(series.to_list(), feature, column=name, first_row=first_row)
        elif rows:  # row by row, as datasets formats a row (a one-row table)
            values = [extract_numpy(series.slice(i, 1))[0] for i in range(len(series))]
        else:
            values = list(extract_numpy(series))
        decoded = decode_json_column(values, feature)
        if rows:
            out[name] = [tensorize_value(v, format, format_kwargs) for v in decoded]
        else:
            out[name] = tensorize_value(decoded, format, format_kwargs)
    return out


def to_python_columns(
    df: pl.DataFrame,
    features: Features,
    first_row: int = 0,
    image_size: ImageSize | None = None,
) -> dict[str, list[Any]]:
    """Columns as Python lists, images decoded to PIL.

    Examples
    --------
    >>> from crucible_polars.features import Features, Value
    >>> to_python_columns(pl.DataFrame({"a": [1]}), Features({"a": Value("int64")}))
    {'a': [1]}
    """
    images = _decoded_python(df, features, first_row, image_size)
    return {name: images[name] if name in images else df[name].to_list() for name in df.columns}


def to_python_rows(
    df: pl.DataFrame,
    features: Features,
    first_row: int = 0,
    image_size: ImageSize | None = None,
) -> list[dict[str, Any]]:
    """Rows as dicts, images decoded to PIL.

    Examples
    --------
    >>> from crucible_polars.features import Features, Value
    >>> to_python_rows(pl.DataFrame({"a": [1, 2]}), Features({"a": Value("int64")}))
    [{'a': 1}, {'a': 2}]
    """
    images = _decoded_python(df, features, first_row, image_size)
    if not images:
        return df.to_dicts()
    columns = [images[n] if n in images else df[n].to_list() for n in df.columns]
    return [dict(zip(df.columns, values, strict=True)) for values in zip(*columns, strict=True)]


def to_numpy_columns(
    df: pl.DataFrame,
    features: Features,
    first_row: int = 0,
    image_size: ImageSize | None = None,
    format_kwargs: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Columns as numpy arrays; images decoded as ``datasets``' numpy format gives them.

    An image column is one ``(N, H, W[, C])`` array when every image has one shape and
    dtype, else a list of per-image arrays; other columns as :mod:`crucible_polars.tensorize`
    gives them (``format_kwargs``: the format's ``dtype=``...).

    Examples
    --------
    >>> from crucible_polars.features import Features, Value
    >>> to_numpy_columns(pl.DataFrame({"a": [1, 2]}), Features({"a": Value("int64")}))["a"]
    array([1, 2])
    """
    if all(type(features.get(name)) in _PLAIN for name in df.columns):  # nothing to decode
        return {name: numpy_column(df[name], format_kwargs) for name in df.columns}
    images = _decoded_numpy(df, features, first_row, image_size)
    for name, value in images.items():
        if isinstance(value, list):  # images of several shapes: an object array, as datasets
            column = np.empty(len(value), dtype=object)
            column[:] = value
            images[name] = column
    images.update(_decoded_json(df, features, "numpy", first_row, format_kwargs))
    return {
        name: images[name] if name in images else numpy_column(df[name], format_kwargs)
        for name in df.columns
    }


def to_arrow_table(df: pl.DataFrame, features: Features) -> pa.Table:
    """The frame as an Arrow table with the features' Arrow schema (and its metadata).

    Examples
    --------
    >>> from crucible_polars.features import Features, Value
    >>> table = to_arrow_table(pl.DataFrame({"a": ["x"]}), Features({"a": Value("string")}))
    >>> table.schema.field("a").type
    DataType(string)
    """
    import pyarrow as pa

    table = frame_to_arrow(df)
    try:
        schema = features.to_arrow_schema()
        return table.select(schema.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, KeyError, ValueError):
        return table


def _to_pandas(df: pl.DataFrame, features: Features) -> Any:
    """The frame as a pandas DataFrame; ``Json`` columns hold the decoded values (object)."""
    import pandas as pd

    frame = to_arrow_table(df, features).to_pandas()
    for name, feature in json_columns_to_decode(df, features).items():
        frame[name] = pd.Series(_json_values(df[name], feature), index=frame.index, dtype=object)
    return frame


def _image_tensor(array: np.ndarray, batched: bool) -> Any:
    """An image (H×W[×C]) or a stack (N×H×W[×C]) as a channel-first torch tensor."""
    import torch

    batch = array if batched else array[None]
    batch = batch[:, None] if batch.ndim == 3 else batch.transpose(0, 3, 1, 2)
    batch = np.ascontiguousarray(batch)
    if not batch.flags.writeable:  # np.asarray(PIL image) is read-only
        batch = batch.copy()
    tensor = torch.from_numpy(batch)
    return tensor if batched else tensor[0]


def to_torch_columns(
    df: pl.DataFrame,
    features: Features,
    first_row: int = 0,
    image_size: ImageSize | None = None,
    format_kwargs: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Columns as ``datasets``' torch format gives them.

    Numbers become ``int64`` / ``float32`` tensors (``format_kwargs`` ``dtype=`` overrides),
    regular nested lists one stacked tensor, ragged lists, strings and dicts lists. Images
    become channel-first ``uint8`` tensors (``C×H×W``, ``1×H×W`` for one band), stacked to
    ``N×C×H×W`` when shapes agree, else a list.

    Examples
    --------
    >>> from crucible_polars.features import Features, Value
    >>> frame = pl.DataFrame({"a": [1]})
    >>> to_torch_columns(frame, Features({"a": Value("int64")}))  # doctest: +SKIP
    {'a': tensor([1])}
    """
    from crucible_polars.features import Image

    images = _decoded_numpy(df, features, first_row, image_size)
    decoded_json = _decoded_json(df, features, "torch", first_row, format_kwargs)
    out: dict[str, Any] = {}
    for name in df.columns:
        feature = features.get(name)
        if name in decoded_json:
            out[name] = decoded_json[name]
        elif name not in images:
            out[name] = torch_column(df[name], format_kwargs)
        elif isinstance(feature, Image) and feature.decode:
            value = images[name]
            if isinstance(value, np.ndarray):
                out[name] = _image_tensor(value, batched=True)
            else:
                out[name] = [None if v is None else _image_tensor(v, batched=False) for v in value]
        elif isinstance(feature, Audio) and feature.decode:
            out[name] = audio_to_torch(images[name])
        else:
            out[name] = images[name]
    return out


def format_batch(
    df: pl.DataFrame,
    features: Features,
    format: str,
    first_row: int = 0,
    image_size: ImageSize | None = None,
    format_kwargs: Mapping[str, Any] | None = None,
) -> Any:
    """A batch in one of the output formats.

    ``first_row`` is the position of the frame's first row (named in decode errors);
    ``image_size=(width, height)`` resizes decoded images (python, numpy and torch);
    ``format_kwargs`` are the format's options (``dtype=`` for numpy and torch).

    Examples
    --------
    >>> from crucible_polars.features import Features, Value
    >>> format_batch(pl.DataFrame({"a": [1]}), Features({"a": Value("int64")}), "python")
    {'a': [1]}
    """
    if format == "python":
        return to_python_columns(df, features, first_row, image_size)
    if format == "numpy":
        return to_numpy_columns(df, features, first_row, image_size, format_kwargs)
    if format == "polars":
        return df
    if format == "arrow":
        return to_arrow_table(df, features)
    if format == "torch":
        return to_torch_columns(df, features, first_row, image_size, format_kwargs)
    if format == "pandas":
        return _to_pandas(df, features)
    raise ValueError(f"Unknown format {format!r}. Use one of {list(OUTPUT_FORMATS)}.")


def _tensor_rows(
    df: pl.DataFrame,
    features: Features,
    format: str,
    first_row: int,
    image_size: ImageSize | None,
    format_kwargs: Mapping[str, Any] | None,
) -> list[dict[str, Any]]:
    """numpy / torch rows as ``datasets`` formats a row (scalars keep their numpy dtype in
    numpy; images decoded once for the frame)."""
    json = _decoded_json(df, features, format, first_row, format_kwargs, rows=True)
    images = {
        **image_columns_to_decode(df, features),
        **{n: f for n, f in features.items() if isinstance(f, Audio) and f.decode and n in df},
    }
    images = {n: f for n, f in images.items() if n not in json}
    decoded = format_batch(df.select(list(images)), features, format, first_row, image_size)
    rows_of = numpy_rows if format == "numpy" else torch_rows
    columns = {
        name: json[name]
        if name in json
        else decoded[name]
        if name in images
        else rows_of(df[name], format_kwargs)
        for name in df.columns
    }
    return [{name: values[i] for name, values in columns.items()} for i in range(df.height)]


def format_row(
    df: pl.DataFrame,
    features: Features,
    format: str,
    row: int = 0,
    image_size: ImageSize | None = None,
    format_kwargs: Mapping[str, Any] | None = None,
) -> Any:
    """A one-row frame as one example in an output format (a dict for python/numpy/torch).

    Examples
    --------
    >>> from crucible_polars.features import Features, Value
    >>> format_row(pl.DataFrame({"a": [1]}), Features({"a": Value("int64")}), "python")
    {'a': 1}
    """
    if format == "python":
        return to_python_rows(df, features, row, image_size)[0]
    if format in ("numpy", "torch"):
        return _tensor_rows(df, features, format, row, image_size, format_kwargs)[0]
    return format_batch(df, features, format, row, image_size, format_kwargs)


def format_rows(
    df: pl.DataFrame,
    features: Features,
    format: str,
    first_row: int = 0,
    image_size: ImageSize | None = None,
    format_kwargs: Mapping[str, Any] | None = None,
) -> Iterator[Any]:
    """The rows of a frame as examples, converted (and images decoded) once for the frame.

    Examples
    --------
    >>> from crucible_polars.features import Features, Value
    >>> list(format_rows(pl.DataFrame({"a": [1, 2]}), Features({"a": Value("int64")}), "python"))
    [{'a': 1}, {'a': 2}]
    """
    if format == "python":
        yield from to_python_rows(df, features, first_row, image_size)
    elif format in ("numpy", "torch"):
        yield from _tensor_rows(df, features, format, first_row, image_size, format_kwargs)
    else:
        for i in range(df.height):
            yield format_batch(
                df.slice(i, 1), features, format, first_row + i, image_size, format_kwargs
            )
