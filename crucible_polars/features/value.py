"""``Value``: a scalar column, and ``datasets`` dtype strings <-> Arrow types <-> Polars dtypes.

Examples
--------
>>> Value("timestamp[ms]").to_polars()
Datetime(time_unit='ms', time_zone=None)
>>> dtype_to_arrow("int8"), arrow_to_dtype(dtype_to_arrow("int8"))
(DataType(int8), 'int8')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import pyarrow as pa

from .base import FeatureBase

__all__ = [
    "Value",
    "arrow_to_dtype",
    "arrow_to_polars_scalar",
    "dtype_to_arrow",
    "float_text",
    "polars_dtype",
]

_UNITS = ("s", "ms", "us", "ns")
# pyarrow factories that take no argument and give a plain (non-extension) type: the names
# ``datasets.Value`` resolves through ``pa.__dict__``.
_FACTORY_NAMES = frozenset(
    [
        "null",
        "bool_",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "string",
        "utf8",
        "large_string",
        "large_utf8",
        "string_view",
        "binary",
        "large_binary",
        "binary_view",
        "date32",
        "date64",
        "month_day_nano_interval",
    ]
)
_TZ = r"[a-zA-Z0-9/_+\-:]*"


# --------------------------------------------------------------------------------------
# dtype strings <-> Arrow types
# --------------------------------------------------------------------------------------


def float_text(series: pl.Series) -> pl.Series:
    """Floats as text the way Arrow (and so ``datasets``) casts them: ``1.0`` is ``"1"``.

    Examples
    --------
    >>> float_text(pl.Series("x", [1.0, 2.5, 1e20])).to_list()
    ['1', '2.5', '1e+20']
    """
    text = pl.from_arrow(series.to_arrow().cast(pa.string()))
    assert isinstance(text, pl.Series)
    return text.alias(series.name)


def dtype_to_arrow(dtype: str) -> pa.DataType:
    """Convert a ``datasets`` dtype string to its Arrow type.

    Accepts every string ``datasets.Value`` accepts: pyarrow factory names (``"int64"``,
    ``"string"``, ``"large_binary"``, ``"bool"``, ``"float16"``, ...), ``"time32[s]"``,
    ``"timestamp[us, tz=UTC]"``, ``"duration[ms]"``, ``"decimal128(10, 2)"``,
    ``"fixed_size_binary[16]"``.

    Parameters
    ----------
    dtype
        The dtype string.

    Returns
    -------
    pyarrow.DataType

    Raises
    ------
    ValueError
        If the string names no Arrow type.

    Examples
    --------
    >>> dtype_to_arrow("timestamp[ms, tz=Europe/Paris]")
    TimestampType(timestamp[ms, tz=Europe/Paris])
    >>> dtype_to_arrow("decimal128(10, 2)")
    Decimal128Type(decimal128(10, 2))
    """
    if not isinstance(dtype, str):
        raise ValueError(f"A dtype must be a string, got {dtype!r}.")
    if dtype == "json":
        raise ValueError("'json' is not a valid dtype, use the Json() feature instead")
    for name in (dtype, dtype + "_"):
        if name in _FACTORY_NAMES:
            result: pa.DataType = getattr(pa, name)()
            return result
    match = re.fullmatch(r"timestamp\[(.*)\]", dtype)
    if match:
        inner = match.group(1)
        if inner in _UNITS:
            return pa.timestamp(inner)
        tz_match = re.fullmatch(rf"(s|ms|us|ns),\s*tz=({_TZ})", inner)
        if tz_match:
            return pa.timestamp(tz_match.group(1), tz_match.group(2))
        raise ValueError(
            f"{dtype} is not a validly formatted string representation of the pyarrow "
            "timestamp type.\nValid examples include: timestamp[us] or "
            "timestamp[us, tz=America/New_York]."
        )
    match = re.fullmatch(r"duration\[(.*)\]", dtype)
    if match:
        if match.group(1) in _UNITS:
            return pa.duration(match.group(1))
        raise ValueError(f"{dtype} is not a valid duration dtype; e.g. duration[s], duration[us].")
    match = re.fullmatch(r"time(.*)\[(.*)\]", dtype)
    if match:
        bits, unit = match.groups()
        if bits == "32" and unit in ("s", "ms"):
            return pa.time32(unit)
        if bits == "64" and unit in ("us", "ns"):
            return pa.time64(unit)
        raise ValueError(
            f"{dtype} is not a valid time dtype; time32 takes s or ms, time64 takes us or ns."
        )
    match = re.fullmatch(r"decimal(.*)\((.*)\)", dtype)
    if match:
        bits, args = match.groups()
        numbers = re.fullmatch(r"(\d+),\s*(-?\d+)", args)
        if bits in ("128", "256") and numbers:
            precision, scale = int(numbers.group(1)), int(numbers.group(2))
            return (pa.decimal128 if bits == "128" else pa.decimal256)(precision, scale)
        raise ValueError(
            f"{dtype} is not a valid decimal dtype; e.g. decimal128(10, 2), decimal256(40, 6)."
        )
    match = re.fullmatch(r"fixed_size_binary\[(\d+)\]", dtype)
    if match:
        return pa.binary(int(match.group(1)))
    raise ValueError(
        f"Neither {dtype} nor {dtype + '_'} seems to be a pyarrow data type. "
        "See https://arrow.apache.org/docs/python/api/datatypes.html#factory-functions"
    )


def arrow_to_dtype(arrow_type: pa.DataType) -> str:
    """Convert a primitive Arrow type to its ``datasets`` dtype string.

    The inverse of :func:`dtype_to_arrow`; dictionary types give their value type.

    Parameters
    ----------
    arrow_type
        A non-nested Arrow type.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        For nested or otherwise unsupported types.

    Examples
    --------
    >>> import pyarrow as pa
    >>> arrow_to_dtype(pa.float64()), arrow_to_dtype(pa.timestamp("us", "UTC"))
    ('float64', 'timestamp[us, tz=UTC]')
    """
    t = pa.types
    simple = [
        (t.is_null, "null"),
        (t.is_boolean, "bool"),
        (t.is_int8, "int8"),
        (t.is_int16, "int16"),
        (t.is_int32, "int32"),
        (t.is_int64, "int64"),
        (t.is_uint8, "uint8"),
        (t.is_uint16, "uint16"),
        (t.is_uint32, "uint32"),
        (t.is_uint64, "uint64"),
        (t.is_float16, "float16"),
        (t.is_float32, "float32"),
        (t.is_float64, "float64"),
        (t.is_date32, "date32"),
        (t.is_date64, "date64"),
        (t.is_binary, "binary"),
        (t.is_large_binary, "large_binary"),
        (t.is_binary_view, "binary_view"),
        (t.is_string, "string"),
        (t.is_large_string, "large_string"),
        (t.is_string_view, "string_view"),
        (lambda x: x == pa.month_day_nano_interval(), "month_day_nano_interval"),
    ]
    for check, name in simple:
        if check(arrow_type):
            return name
    if t.is_time32(arrow_type) or t.is_time64(arrow_type):
        bits = 32 if t.is_time32(arrow_type) else 64
        return f"time{bits}[{arrow_type.unit}]"
    if t.is_timestamp(arrow_type):
        if arrow_type.tz is None:
            return f"timestamp[{arrow_type.unit}]"
        if arrow_type.tz:
            return f"timestamp[{arrow_type.unit}, tz={arrow_type.tz}]"
        raise ValueError(f"Unexpected timestamp object {arrow_type}.")
    if t.is_duration(arrow_type):
        return f"duration[{arrow_type.unit}]"
    if t.is_decimal128(arrow_type):
        return f"decimal128({arrow_type.precision}, {arrow_type.scale})"
    if t.is_decimal256(arrow_type):
        return f"decimal256({arrow_type.precision}, {arrow_type.scale})"
    if t.is_fixed_size_binary(arrow_type):
        return f"fixed_size_binary[{arrow_type.byte_width}]"
    if t.is_dictionary(arrow_type):
        return arrow_to_dtype(arrow_type.value_type)
    raise ValueError(f"Arrow type {arrow_type} does not have a datasets dtype equivalent.")


def _polars_time_zone(tz: str | None) -> str | None:
    """The time zone name Polars gives an Arrow one (fixed offsets become ``Etc/GMT±n``)."""
    if tz is None:
        return None
    match = re.fullmatch(r"([+-])(\d{2}):?(\d{2})?", tz)
    if match is None or int(match.group(3) or 0) != 0:
        return tz
    hours = int(match.group(2))
    if hours == 0:
        return "UTC"
    return f"Etc/GMT{'-' if match.group(1) == '+' else '+'}{hours}"


def arrow_to_polars_scalar(arrow_type: pa.DataType) -> pl.DataType:
    """Return the Polars dtype of a primitive Arrow type, as ``pl.from_arrow`` reads it.

    Parameters
    ----------
    arrow_type
        A primitive (non-nested) Arrow type; a dictionary type gives its value type's dtype.

    Raises
    ------
    ValueError
        For an Arrow type Polars has no dtype for.

    Examples
    --------
    >>> import pyarrow as pa
    >>> arrow_to_polars_scalar(pa.timestamp("s", tz="+00:00"))
    Datetime(time_unit='ms', time_zone='UTC')
    """
    t = pa.types
    table: list[tuple[Any, pl.DataType]] = [
        (t.is_null, pl.Null()),
        (t.is_boolean, pl.Boolean()),
        (t.is_int8, pl.Int8()),
        (t.is_int16, pl.Int16()),
        (t.is_int32, pl.Int32()),
        (t.is_int64, pl.Int64()),
        (t.is_uint8, pl.UInt8()),
        (t.is_uint16, pl.UInt16()),
        (t.is_uint32, pl.UInt32()),
        (t.is_uint64, pl.UInt64()),
        (t.is_float16, pl.Float16()),
        (t.is_float32, pl.Float32()),
        (t.is_float64, pl.Float64()),
        (t.is_date32, pl.Date()),
        (t.is_date64, pl.Datetime("ms")),
        (t.is_time32, pl.Time()),
        (t.is_time64, pl.Time()),
    ]
    for check, dtype in table:
        if check(arrow_type):
            return dtype
    if t.is_string(arrow_type) or t.is_large_string(arrow_type) or t.is_string_view(arrow_type):
        return pl.String()
    if (
        t.is_binary(arrow_type)
        or t.is_large_binary(arrow_type)
        or t.is_binary_view(arrow_type)
        or t.is_fixed_size_binary(arrow_type)
    ):
        return pl.Binary()
    if t.is_timestamp(arrow_type):
        unit: Any = "ms" if arrow_type.unit == "s" else arrow_type.unit
        return pl.Datetime(unit, _polars_time_zone(arrow_type.tz))
    if t.is_duration(arrow_type):
        return pl.Duration("ms" if arrow_type.unit == "s" else arrow_type.unit)
    if t.is_decimal(arrow_type):
        if arrow_type.scale < 0:
            raise ValueError(f"Polars has no decimal type with a negative scale ({arrow_type}).")
        return pl.Decimal(arrow_type.precision, arrow_type.scale)
    if t.is_dictionary(arrow_type):
        return arrow_to_polars_scalar(arrow_type.value_type)
    raise ValueError(f"Polars has no dtype for the Arrow type {arrow_type}.")


def polars_dtype(dtype: Any) -> pl.DataType:
    """Return a Polars dtype as an instance (``pl.Int64`` -> ``pl.Int64()``).

    Examples
    --------
    >>> polars_dtype(pl.Int64)
    Int64
    """
    if isinstance(dtype, type) and issubclass(dtype, pl.DataType):
        return dtype()
    if not isinstance(dtype, pl.DataType):
        raise TypeError(f"{dtype!r} is not a Polars dtype")
    return dtype


# --------------------------------------------------------------------------------------
# The Value feature
# --------------------------------------------------------------------------------------


@dataclass(repr=False)
class Value(FeatureBase):
    """A scalar of one Arrow data type.

    Parameters
    ----------
    dtype
        A ``datasets`` dtype string: ``null``, ``bool``, ``int8``..``int64``,
        ``uint8``..``uint64``, ``float16``, ``float32`` (alias ``float``), ``float64``
        (alias ``double``), ``string``, ``large_string``, ``string_view``, ``binary``,
        ``large_binary``, ``binary_view``, ``date32``, ``date64``, ``time32[s|ms]``,
        ``time64[us|ns]``, ``timestamp[unit]``, ``timestamp[unit, tz=...]``,
        ``duration[unit]``, ``decimal128(p, s)``, ``decimal256(p, s)``,
        ``fixed_size_binary[n]``.
    id
        Optional identifier, kept for ``datasets`` compatibility.

    Examples
    --------
    >>> Value("int32")
    Value('int32')
    >>> Value("double").dtype
    'float64'
    >>> Value("string").to_polars(), Value("string").to_arrow()
    (String, DataType(string))
    """

    dtype: str
    id: str | None = field(default=None, repr=False)
    _type: str = field(default="Value", init=False, repr=False)

    def __post_init__(self) -> None:
        if self.dtype == "double":
            self.dtype = "float64"
        if self.dtype == "float":
            self.dtype = "float32"
        dtype_to_arrow(self.dtype)  # validate

    def __repr__(self) -> str:
        return f"{type(self).__name__}('{self.dtype}')"

    def to_arrow(self) -> pa.DataType:
        """Return the Arrow type.

        Examples
        --------
        >>> Value("timestamp[s]").to_arrow()
        TimestampType(timestamp[s])
        """
        return dtype_to_arrow(self.dtype)

    def to_polars(self) -> pl.DataType:
        """Return the Polars dtype (the one ``pl.from_arrow`` gives for :meth:`to_arrow`).

        Raises
        ------
        ValueError
            For Arrow types Polars cannot hold (intervals, negative-scale decimals).

        Examples
        --------
        >>> Value("timestamp[us, tz=UTC]").to_polars()
        Datetime(time_unit='us', time_zone='UTC')
        """
        return arrow_to_polars_scalar(self.to_arrow())

    def encode_example(self, value: Any) -> Any:
        """Convert a Python value to the column's Python type, as ``datasets`` does.

        Examples
        --------
        >>> Value("int64").encode_example("3")
        3
        """
        arrow_type = self.to_arrow()
        if pa.types.is_boolean(arrow_type):
            return bool(value)
        if pa.types.is_integer(arrow_type):
            return int(value)
        if pa.types.is_floating(arrow_type):
            return float(value)
        if (
            pa.types.is_string(arrow_type)
            or pa.types.is_large_string(arrow_type)
            or pa.types.is_string_view(arrow_type)
        ):
            return str(value)
        return value
