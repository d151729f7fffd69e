"""Infer features from Arrow and Polars types, and read the ``huggingface`` schema metadata.

Inference follows ``datasets.Features.from_arrow_schema``: structs become dicts,
``list``/``fixed_size_list``/``large_list`` become ``List``/``List(length=n)``/``LargeList``,
``datasets``' ArrayXD extension types become ``Array2D``..``Array5D`` and every other type a
``Value``. ArrayXD columns are recognised both as registered extension types and as their
storage type with ``ARROW:extension:*`` field metadata (what pyarrow gives when ``datasets``
is not imported).

Examples
--------
>>> import pyarrow as pa
>>> feature_from_arrow_type(pa.struct({"a": pa.list_(pa.int32(), 2)}))
{'a': List(Value('int32'), length=2)}
"""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Mapping
from typing import Any

import polars as pl
import pyarrow as pa

from .arrays import Array2D, Array3D, Array4D, Array5D
from .nested import FeatureType, Json, LargeList, List, feature_from_dict, feature_to_arrow
from .value import Value, arrow_to_dtype, polars_dtype

__all__ = [
    "arrow_types_match",
    "feature_from_arrow_field",
    "feature_from_arrow_type",
    "feature_from_polars",
    "polars_to_dtype",
    "read_huggingface_metadata",
]

_EXT_NAME = b"ARROW:extension:name"
_EXT_META = b"ARROW:extension:metadata"
_ARRAY_EXT = re.compile(r"datasets\.features\.features\.Array([2-5])DExtensionType")
_ARRAY_CLASSES: dict[int, type[Array2D | Array3D | Array4D | Array5D]] = {
    2: Array2D,
    3: Array3D,
    4: Array4D,
    5: Array5D,
}


def _array_feature(name: str, serialized: bytes | str) -> FeatureType | None:
    match = _ARRAY_EXT.fullmatch(name)
    if match is None:
        return None
    shape, dtype = json.loads(serialized)
    return _ARRAY_CLASSES[int(match.group(1))](shape=tuple(shape), dtype=dtype)


def _extension_serialized(arrow_type: pa.BaseExtensionType) -> bytes:
    serialize = getattr(arrow_type, "__arrow_ext_serialize__", None)
    if serialize is not None:
        result: bytes = serialize()
        return result
    return str(arrow_type).encode()


def feature_from_arrow_type(
    arrow_type: pa.DataType, metadata: Mapping[bytes, bytes] | None = None
) -> FeatureType:
    """Infer the feature of an Arrow type, as ``datasets``' ``generate_from_arrow_type``.

    Parameters
    ----------
    arrow_type
        The Arrow type.
    metadata
        The field metadata, if any: ``ARROW:extension:*`` keys there mark an ArrayXD
        column whose extension type pyarrow did not know.

    Returns
    -------
    FeatureType

    Examples
    --------
    >>> import pyarrow as pa
    >>> feature_from_arrow_type(pa.large_list(pa.string()))
    LargeList(Value('string'))
    >>> feature_from_arrow_type(pa.dictionary(pa.int8(), pa.string()))
    Value('string')
    """
    if metadata and _EXT_NAME in metadata:
        feature = _array_feature(metadata[_EXT_NAME].decode(), metadata.get(_EXT_META, b""))
        if feature is not None:
            return feature
        if metadata[_EXT_NAME] == b"arrow.json":
            return Json()
    if isinstance(arrow_type, pa.BaseExtensionType):
        feature = _array_feature(arrow_type.extension_name, _extension_serialized(arrow_type))
        if feature is not None:
            return feature
        if arrow_type.extension_name == "arrow.json":
            return Json()
        return feature_from_arrow_type(arrow_type.storage_type)
    if pa.types.is_struct(arrow_type):
        return {
            arrow_type.field(i).name: feature_from_arrow_field(arrow_type.field(i))
            for i in range(arrow_type.num_fields)
        }
    if pa.types.is_fixed_size_list(arrow_type):
        return List(feature_from_arrow_field(arrow_type.value_field), length=arrow_type.list_size)
    if pa.types.is_list(arrow_type) or pa.types.is_list_view(arrow_type):
        return List(feature_from_arrow_field(arrow_type.value_field))
    if pa.types.is_large_list(arrow_type) or pa.types.is_large_list_view(arrow_type):
        return LargeList(feature_from_arrow_field(arrow_type.value_field))
    return Value(arrow_to_dtype(arrow_type))


def feature_from_arrow_field(arrow_field: pa.Field) -> FeatureType:
    """Infer the feature of an Arrow field (its type and extension metadata).

    Examples
    --------
    >>> import pyarrow as pa
    >>> feature_from_arrow_field(pa.field("x", pa.float32()))
    Value('float32')
    """
    return feature_from_arrow_type(arrow_field.type, arrow_field.metadata)


def _normalize(arrow_type: pa.DataType, metadata: Mapping[bytes, bytes] | None) -> Hashable:
    """A comparable form of a field type, equal exactly when ``pa.Field.__eq__`` would be.

    List child names and field metadata are ignored (as Arrow does), nullability is not, and an
    extension type compares equal to its storage type carrying the same
    ``ARROW:extension:*`` metadata.
    """
    if metadata and _EXT_NAME in metadata:
        name, serialized = metadata[_EXT_NAME], metadata.get(_EXT_META, b"")
        return ("ext", name, serialized, _normalize(arrow_type, None))
    if isinstance(arrow_type, pa.BaseExtensionType):
        return (
            "ext",
            arrow_type.extension_name.encode(),
            _extension_serialized(arrow_type),
            _normalize(arrow_type.storage_type, None),
        )
    if pa.types.is_struct(arrow_type):
        children = []
        for i in range(arrow_type.num_fields):
            child = arrow_type.field(i)
            children.append((child.name, child.nullable, _normalize(child.type, child.metadata)))
        return ("struct", tuple(children))
    for kind, check in (
        ("list", pa.types.is_list),
        ("large_list", pa.types.is_large_list),
        ("fixed_size_list", pa.types.is_fixed_size_list),
        ("list_view", pa.types.is_list_view),
        ("large_list_view", pa.types.is_large_list_view),
    ):
        if check(arrow_type):
            value_field = arrow_type.value_field
            size = arrow_type.list_size if kind == "fixed_size_list" else None
            return (
                kind,
                size,
                value_field.nullable,
                _normalize(value_field.type, value_field.metadata),
            )
    result: Hashable = arrow_type
    return result


def arrow_types_match(feature: FeatureType, arrow_field: pa.Field) -> bool:
    """Whether a feature's Arrow type is the type of ``arrow_field`` (``datasets``' check).

    ``datasets`` keeps a column's feature from the schema metadata only when the column has
    exactly the feature's Arrow type (list child names aside); otherwise it infers the feature
    from the Arrow type.

    Examples
    --------
    >>> import pyarrow as pa
    >>> arrow_types_match(Value("string"), pa.field("x", pa.string()))
    True
    >>> arrow_types_match(Value("string"), pa.field("x", pa.large_string()))
    False
    """
    if not arrow_field.nullable:
        return False
    try:
        expected = feature_to_arrow(feature)
    except (ValueError, TypeError):
        return False
    return _normalize(expected, None) == _normalize(arrow_field.type, arrow_field.metadata)


def read_huggingface_metadata(metadata: Mapping[bytes, bytes] | None) -> dict[str, FeatureType]:
    """Read the features stored under the ``huggingface`` key of Arrow schema metadata.

    Columns whose JSON cannot be read (e.g. a feature type this library lacks, such as
    ``Video``) are left out, so that they fall back to inference from their Arrow type.

    Parameters
    ----------
    metadata
        ``pa.Schema.metadata`` (bytes keys and values), or ``None``.

    Returns
    -------
    dict
        Column name to feature; empty without usable metadata.

    Examples
    --------
    >>> text = '{"info": {"features": {"a": {"dtype": "int8", "_type": "Value"}}}}'
    >>> meta = {b"huggingface": text.encode()}
    >>> read_huggingface_metadata(meta)
    {'a': Value('int8')}
    """
    if not metadata or b"huggingface" not in metadata:
        return {}
    try:
        info = json.loads(metadata[b"huggingface"].decode())
    except (ValueError, UnicodeDecodeError):
        return {}
    features: Any = info.get("info", {}).get("features") if isinstance(info, dict) else None
    if not isinstance(features, dict):
        return {}
    result: dict[str, FeatureType] = {}
    for name, value in features.items():
        try:
            feature = feature_from_dict({name: value})
        except (ValueError, TypeError, KeyError):
            continue
        if isinstance(feature, dict):
            result.update(feature)
    return result


def polars_to_dtype(dtype: pl.DataType) -> str:
    """Return the ``datasets`` dtype string of a scalar Polars dtype.

    Raises
    ------
    ValueError
        For nested dtypes and for dtypes with no ``datasets`` equivalent (``Int128``,
        ``Object``).

    Examples
    --------
    >>> import polars as pl
    >>> polars_to_dtype(pl.Datetime("us", "UTC")), polars_to_dtype(pl.Enum(["a"]))
    ('timestamp[us, tz=UTC]', 'string')
    """
    simple: dict[type[pl.DataType], str] = {
        pl.Boolean: "bool",
        pl.Int8: "int8",
        pl.Int16: "int16",
        pl.Int32: "int32",
        pl.Int64: "int64",
        pl.UInt8: "uint8",
        pl.UInt16: "uint16",
        pl.UInt32: "uint32",
        pl.UInt64: "uint64",
        pl.Float16: "float16",
        pl.Float32: "float32",
        pl.Float64: "float64",
        pl.String: "string",
        pl.Categorical: "string",
        pl.Enum: "string",
        pl.Binary: "binary",
        pl.Date: "date32",
        pl.Time: "time64[ns]",
        pl.Null: "null",
    }
    base = dtype.base_type()
    if base in simple:
        return simple[base]
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone:
            return f"timestamp[{dtype.time_unit}, tz={dtype.time_zone}]"
        return f"timestamp[{dtype.time_unit}]"
    if isinstance(dtype, pl.Duration):
        return f"duration[{dtype.time_unit}]"
    if isinstance(dtype, pl.Decimal):
        precision = 38 if dtype.precision is None else dtype.precision
        bits = 128 if precision <= 38 else 256
        return f"decimal{bits}({precision}, {dtype.scale})"
    raise ValueError(
        f"The Polars dtype {dtype} has no datasets equivalent; cast the column first "
        "(e.g. Int128 to Int64 or String)."
    )


def feature_from_polars(dtype: pl.DataType) -> FeatureType:
    """Infer the feature of a Polars dtype.

    ``String`` gives ``Value("string")``, ``Binary`` ``Value("binary")``, ``List`` a
    ``List``, a 1-d ``Array`` a ``List`` with a length, a 2- to 5-d ``Array`` of a scalar
    ``Array2D``..``Array5D``, ``Struct`` a dict, ``Datetime`` ``timestamp[..]``, ``Date``
    ``date32``, ``Categorical``/``Enum`` ``string``; ``datasets``' ArrayXD extension columns
    give their ArrayXD back.

    Parameters
    ----------
    dtype
        The Polars dtype.

    Examples
    --------
    >>> import polars as pl
    >>> feature_from_polars(pl.Struct({"a": pl.List(pl.String), "b": pl.Array(pl.Float32, 4)}))
    {'a': List(Value('string')), 'b': List(Value('float32'), length=4)}
    >>> feature_from_polars(pl.Array(pl.UInt8, (2, 3)))
    Array2D(shape=(2, 3), dtype='uint8')
    """
    if isinstance(dtype, pl.Struct):
        return {f.name: feature_from_polars(polars_dtype(f.dtype)) for f in dtype.fields}
    if isinstance(dtype, pl.List):
        return List(feature_from_polars(polars_dtype(dtype.inner)))
    if isinstance(dtype, pl.Array):
        shape = dtype.shape
        leaf: pl.DataType = dtype
        while isinstance(leaf, pl.Array):
            leaf = polars_dtype(leaf.inner)
        if 2 <= len(shape) <= 5 and not leaf.is_nested() and not isinstance(leaf, pl.Null):
            return _ARRAY_CLASSES[len(shape)](shape=tuple(shape), dtype=polars_to_dtype(leaf))
        return List(feature_from_polars(polars_dtype(dtype.inner)), length=dtype.size)
    if isinstance(dtype, pl.BaseExtension):
        ext_name = dtype.ext_name()
        ext_meta = dtype.ext_metadata() or ""
        feature = _array_feature(ext_name, ext_meta)
        if feature is not None:
            return feature
        if ext_name == "arrow.json":
            return Json()
        return feature_from_polars(polars_dtype(dtype.ext_storage()))
    return Value(polars_to_dtype(dtype))
