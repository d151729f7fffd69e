"""CSV cells as ``datasets``' ``to_csv`` writes them, for the values Polars' CSV writer has no
text for (lists, structs, ``Array2D``...) and those it writes otherwise (booleans).

``datasets`` converts each batch to pandas (``to_pandas(integer_object_nulls=True)``) and
pandas writes a nested cell as ``str()`` of its Python value: a list is a NumPy array
(``[1 2]``, ``[array([1.5, 2. ])]``), a struct a dict (``{'x': 1, 'y': array([1, 2])}``).
:func:`cell_texts` builds the same values (NumPy arrays of the dtypes pyarrow's pandas
conversion gives, dicts of the items NumPy gives) and calls ``str()`` on them, so the cells
are the same text, NumPy's summaries of long arrays (``[0 1 2 ... 997 998 999]``) and line
breaks included. The other columns stay Polars' own (only booleans are spelled ``True`` /
``False`` as pandas spells them).

Examples
--------
>>> import pyarrow as pa
>>> cell_texts(pa.array([[1, 2], None]))
['[1 2]', None]
>>> cell_texts(pa.array([{"x": 1.5, "y": [1, None]}]))
["{'x': 1.5, 'y': array([1, None], dtype=object)}"]
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from crucible_polars.features import Features
from crucible_polars.features.arrays import ArrayXD
from crucible_polars.features.storage import frame_to_arrow

__all__ = [
    "CsvOptions",
    "cell_texts",
    "csv_options",
    "nested_columns",
    "with_bool_texts",
    "with_nested_texts",
]

logger = logging.getLogger(__name__)

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


def _objects(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _list_values(arr: pa.Array, in_struct: bool) -> np.ndarray:
    """One NumPy view of the flattened values per list (``None`` for a null list)."""
    if pa.types.is_fixed_size_list(arr.type):
        size = arr.type.list_size
        start = arr.offset * size
        child = _numpy(arr.values.slice(start, len(arr) * size), in_struct)
        bounds = [(i * size, (i + 1) * size) for i in range(len(arr))]
    else:
        offsets = arr.offsets.to_numpy()
        child = _numpy(arr.values.slice(offsets[0], offsets[-1] - offsets[0]), in_struct)
        offsets = offsets - offsets[0]
        bounds = list(zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True))
    valid = arr.is_valid().to_numpy(zero_copy_only=False)
    return _objects([child[a:b] if ok else None for (a, b), ok in zip(bounds, valid, strict=True)])


def _numpy(arr: pa.Array, in_struct: bool = False) -> np.ndarray:
    """What pyarrow's pandas conversion (``integer_object_nulls=True``, dates as objects)
    makes of ``arr``: the NumPy array pandas holds (below a struct, timestamps as
    ``datetime`` objects)."""
    kind = arr.type
    if isinstance(kind, pa.ExtensionType):
        return _numpy(arr.storage, in_struct)
    if pa.types.is_dictionary(kind):
        return _numpy(arr.dictionary_decode(), in_struct)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return _list_values(arr, in_struct)
    if pa.types.is_struct(kind):
        fields = []
        for index in range(kind.num_fields):
            field = arr.field(index)
            present = field.is_valid().to_numpy(zero_copy_only=False)
            fields.append((kind.field(index).name, _numpy(field, True), present))
        valid = arr.is_valid().to_numpy(zero_copy_only=False)
        rows = [
            {name: values.item(i) if present[i] else None for name, values, present in fields}
            if ok
            else None
            for i, ok in enumerate(valid)
        ]
        return _objects(rows)
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        if arr.null_count:
            return _objects(arr.to_pylist())
        return arr.to_numpy(zero_copy_only=False)
    if pa.types.is_timestamp(kind) and in_struct:
        return _objects(arr.to_pylist())
    if pa.types.is_floating(kind) or pa.types.is_timestamp(kind) or pa.types.is_duration(kind):
        return arr.to_numpy(zero_copy_only=False)
    return _objects(arr.to_pylist())  # strings, bytes, dates, times, decimals, nulls


def _array_xd_values(arr: pa.Array, feature: ArrayXD) -> np.ndarray:
    """``datasets``' own conversion of an ``ArrayXD`` column (its extension array's
    ``to_numpy``): one array of the whole shape, NaN rows for nulls (as float64), or one
    array per row when the first dimension varies. pandas takes a row holding any NaN for
    a missing value (``datasets``' ``isna``), written as a null."""
    valid = arr.is_valid().to_numpy(zero_copy_only=False)
    if feature.shape[0] is not None:
        flat = arr
        for _ in range(feature.ndims):
            flat = flat.flatten()
        values = flat.to_numpy(zero_copy_only=False)
        values = values.reshape(int(valid.sum()), *feature.shape)
        if not valid.all():
            nulls = np.flatnonzero(~valid) - np.arange(int((~valid).sum()))
            values = np.insert(values.astype(np.float64), nulls, np.nan, axis=0)
        return _objects(
            [values[i] if ok and not _has_nan(values[i]) else None for i, ok in enumerate(valid)]
        )
    rows: list[Any] = []
    for i, ok in enumerate(valid):
        if not ok:
            rows.append(None)
            continue
        one = arr.slice(i, 1)
        first = len(one.flatten())
        for _ in range(feature.ndims):
            one = one.flatten()
        row = one.to_numpy(zero_copy_only=False).reshape(first, *feature.shape[1:])
        rows.append(None if _has_nan(row) else row)
    return _objects(rows)


def _has_nan(row: np.ndarray) -> bool:
    if row.dtype.kind == "f":
        return bool(np.isnan(row).any())
    if row.dtype.kind == "O":
        return any(v is None or (isinstance(v, float) and v != v) for v in row.ravel())
    return False


def cell_texts(arr: pa.Array | pa.ChunkedArray, feature: Any = None) -> list[str | None]:
    """The CSV text of each value of a column, as ``datasets`` (through pandas) writes it:
    ``str()`` of the value pandas holds; ``None`` for a null.

    Parameters
    ----------
    arr
        The column (one batch of it: the dtypes NumPy gets depend on the whole batch).
    feature
        Its feature; an ``ArrayXD`` is converted as ``datasets`` converts it.

    Examples
    --------
    >>> cell_texts(pa.array([[[1, 2]], [[3, None]]]))
    ['[array([1, 2], dtype=object)]', '[array([3, None], dtype=object)]']
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if isinstance(feature, ArrayXD):
        values = _array_xd_values(
            arr.storage if isinstance(arr, pa.ExtensionArray) else arr, feature
        )
    else:
        values = _numpy(arr)
    return [None if value is None else str(value) for value in values]


def _nested(dtype: pl.DataType) -> bool:
    return isinstance(dtype, (pl.List, pl.Array, pl.Struct))


def nested_columns(schema: pl.Schema) -> list[str]:
    """The columns of ``schema`` written as Python values' text (lists, arrays, structs).

    Parameters
    ----------
    schema
        The frame's schema.

    Examples
    --------
    >>> nested_columns(pl.Schema({"a": pl.List(pl.Int64), "b": pl.Int64}))
    ['a']
    """
    return [name for name, dtype in schema.items() if _nested(dtype)]


def with_bool_texts(lf: FrameT) -> FrameT:
    """``lf`` (lazy or not) with its boolean columns as the text pandas writes (``True`` /
    ``False``).

    Parameters
    ----------
    lf
        The rows to write.

    Examples
    --------
    >>> with_bool_texts(pl.LazyFrame({"b": [True, None]})).collect()["b"].to_list()
    ['True', None]
    """
    schema = lf.collect_schema()
    flags = [name for name, dtype in schema.items() if dtype == pl.Boolean]
    if not flags:
        return lf
    return lf.with_columns(
        pl.when(pl.col(n))
        .then(pl.lit("True"))
        .when(pl.col(n).not_())
        .then(pl.lit("False"))
        .alias(n)
        for n in flags
    )


def with_nested_texts(frame: pl.DataFrame, features: Features) -> pl.DataFrame:
    """``frame`` with its lists, arrays and structs as the text ``datasets`` writes
    (:func:`cell_texts`).

    Parameters
    ----------
    frame
        One batch of rows (of the size ``datasets`` writes at a time: the dtypes NumPy gets
        depend on the whole batch).
    features
        The frame's features.

    Examples
    --------
    >>> from crucible_polars.features import Value
    >>> frame = pl.DataFrame({"a": [[1, 2]], "s": [{"x": "y"}]})
    >>> features = Features({"a": [Value("int64")], "s": {"x": Value("string")}})
    >>> with_nested_texts(frame, features).rows()
    [('[1 2]', "{'x': 'y'}")]
    """
    nested = nested_columns(frame.schema)
    if not nested:
        return frame
    table = frame_to_arrow(frame.select(nested))
    texts = []
    for name in nested:
        column = table.column(name).combine_chunks()
        _warn_summaries(name, column, features.get(name))
        texts.append(pl.Series(name, cell_texts(column, features.get(name)), dtype=pl.String))
    return frame.with_columns(texts)


def _longest_array(arr: pa.Array) -> int:
    """The most items of one NumPy array among the values of ``arr`` (lists at any depth)."""
    kind = arr.type
    if isinstance(kind, pa.ExtensionType):
        return _longest_array(arr.storage)
    if pa.types.is_struct(kind):
        return max((_longest_array(arr.field(i)) for i in range(kind.num_fields)), default=0)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        longest = pc.max(pc.list_value_length(arr)).as_py() or 0
        return max(longest, _longest_array(arr.flatten()))
    return 0


def _warn_summaries(name: str, arr: pa.Array, feature: Any) -> None:
    """Log when NumPy writes a value of column ``name`` shortened (``...``)."""
    threshold = np.get_printoptions()["threshold"]
    if isinstance(feature, ArrayXD) and None not in feature.shape:
        longest = int(np.prod([int(d or 0) for d in feature.shape]))
    else:
        longest = _longest_array(arr)
    if longest > threshold:
        logger.warning(
            "to_csv: column %r holds arrays of more than %d items; they are written as NumPy "
            "prints them, shortened with '...', as datasets writes them. Write nested data "
            "with to_json or to_parquet to keep every value.",
            name,
            threshold,
        )


POLARS_OPTIONS = frozenset(
    {
        "separator",
        "null_value",
        "quote_char",
        "line_terminator",
        "quote_style",
        "float_precision",
        "float_scientific",
        "datetime_format",
        "time_format",
        "decimal_comma",
        "include_bom",
    }
)
"""Options of Polars' CSV writer taken under their own names (pandas' names map to them)."""

_PANDAS_NAMES = {
    "sep": "separator",
    "na_rep": "null_value",
    "quotechar": "quote_char",
    "lineterminator": "line_terminator",
    "date_format": "datetime_format",  # pandas applies it to datetime columns
}
_QUOTING = {
    csv.QUOTE_MINIMAL: "necessary",
    csv.QUOTE_ALL: "always",
    csv.QUOTE_NONNUMERIC: "non_numeric",
    csv.QUOTE_NONE: "never",
}
_OTHER_OPTIONS = frozenset(
    {
        "header",
        "include_header",
        "columns",
        "index",
        "quoting",
        "float_format",
        "compression",
        "chunksize",
    }
)
# pandas options whose only value here is the one that changes nothing: {name: accepted}
_ONLY = {
    "index_label": (None,),
    "mode": ("w", "wb"),
    "encoding": (None, "utf-8", "utf8"),
    "errors": ("strict",),
    "doublequote": (True,),
    "escapechar": (None,),
    "decimal": (".",),
}


@dataclass
class CsvOptions:
    """What ``to_csv``'s options ask for, in Polars' terms.

    Parameters
    ----------
    columns
        The columns written, in order.
    names
        Their names in the header.
    header
        Whether to write the header.
    compression
        How the file is compressed (``None``, ``"infer"``, ``"gzip"``, ``"bz2"``, ``"xz"``).
    polars
        Options of Polars' CSV writer.

    Examples
    --------
    >>> CsvOptions(["a"], ["a"]).header
    True
    """

    columns: list[str]
    names: list[str]
    header: bool = True
    compression: str | None = None
    polars: dict[str, Any] = field(default_factory=dict)


def _float_precision(spec: Any) -> int:
    match = re.fullmatch(r"%\.(\d+)f", spec) if isinstance(spec, str) else None
    if match is None:
        raise NotImplementedError(
            f"to_csv(float_format={spec!r}) is not supported: give '%.<digits>f' (e.g. "
            "'%.3f'), or float_precision=<digits>."
        )
    return int(match.group(1))


def csv_options(options: dict[str, Any], columns: Sequence[str]) -> CsvOptions:
    """Read ``to_csv``'s keyword options: pandas' names (what ``datasets`` passes to
    ``pandas.DataFrame.to_csv``: ``sep``, ``na_rep``, ``header``, ``columns``, ``quoting``,
    ``float_format='%.3f'``, ``compression``...) or Polars' (``separator``,
    ``null_value``...).

    Parameters
    ----------
    options
        The keyword options given to ``to_csv``.
    columns
        The dataset's columns.

    Raises
    ------
    TypeError
        Options neither pandas nor Polars has (named).
    NotImplementedError
        A pandas option with a value that cannot be honoured (``index=True``, ...).
    KeyError
        ``columns`` naming a column the dataset lacks.

    Examples
    --------
    >>> opts = csv_options({"sep": ";", "header": ["x", "y"], "columns": ["b", "a"]}, ["a", "b"])
    >>> opts.columns, opts.names, opts.polars
    (['b', 'a'], ['x', 'y'], {'separator': ';'})
    """
    options = dict(options)
    known = POLARS_OPTIONS | set(_PANDAS_NAMES) | set(_ONLY) | _OTHER_OPTIONS
    unknown = sorted(k for k in options if k not in known)
    if unknown:
        raise TypeError(
            f"to_csv got unexpected keyword arguments {unknown}: give pandas' names (sep, "
            "na_rep, header, columns, quoting, quotechar, lineterminator, float_format, "
            "date_format, compression) or Polars' (separator, null_value, quote_style, ...)."
        )
    if options.pop("index", False):
        raise NotImplementedError(
            "to_csv(index=True) is not supported: a dataset has no index; add one with "
            'ds.with_columns(pl.int_range(pl.len()).alias("index")).'
        )
    if options.pop("chunksize", None) is not None:
        raise NotImplementedError(
            "to_csv(chunksize=) changes nothing that is written: give batch_size= instead."
        )
    for name, accepted in _ONLY.items():
        value = options.pop(name, accepted[0])
        if value == "," and name == "decimal":
            options["decimal_comma"] = True
        elif (value.lower() if isinstance(value, str) else value) not in accepted:
            raise NotImplementedError(
                f"to_csv({name}={value!r}) is not supported (only {accepted[0]!r}): the file "
                "is written as UTF-8, from scratch, with quotes doubled."
            )
    polars = {k: options.pop(k) for k in POLARS_OPTIONS if k in options}
    for pandas_name, polars_name in _PANDAS_NAMES.items():
        if pandas_name in options:
            polars[polars_name] = options.pop(pandas_name)
    if "quoting" in options:
        quoting = options.pop("quoting")
        if quoting not in _QUOTING:
            raise ValueError(f"to_csv(quoting={quoting!r}): give one of csv.QUOTE_* values.")
        polars["quote_style"] = _QUOTING[quoting]
    if "float_format" in options and options["float_format"] is not None:
        polars["float_precision"] = _float_precision(options.pop("float_format"))
        polars["float_scientific"] = False
    options.pop("float_format", None)
    chosen = list(options.pop("columns", None) or columns)
    missing = [c for c in chosen if c not in columns]
    if missing:
        raise KeyError(f"to_csv(columns=...) names columns the dataset does not have: {missing}.")
    header = options.pop("header", options.pop("include_header", True))
    names = chosen
    if not isinstance(header, bool):
        names = list(header)
        if len(names) != len(chosen):
            raise ValueError(f"Writing {len(chosen)} cols but got {len(names)} aliases")
        header = True
    style, quote = polars.get("quote_style") or "necessary", polars.get("quote_char", '"')
    if polars.get("null_value", "") == "" and (
        style == "non_numeric" or (style == "necessary" and len(chosen) == 1)
    ):  # Python's csv quotes an empty field then (non-numeric, or a row's only field)
        polars["null_value"] = quote * 2
    return CsvOptions(chosen, names, header, options.pop("compression", None), polars)
