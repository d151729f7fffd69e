"""``Array2D``..``Array5D``: fixed-shape arrays, and the Arrow extension types they use.

Examples
--------
>>> Array2D(shape=(2, 3), dtype="int32").to_polars()
Array(Int32, shape=(2, 3))
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field
from typing import Any, ClassVar

import polars as pl
import pyarrow as pa

from .base import FeatureBase
from .value import arrow_to_polars_scalar, dtype_to_arrow

__all__ = [
    "Array2D",
    "Array2DExtensionType",
    "Array3D",
    "Array3DExtensionType",
    "Array4D",
    "Array4DExtensionType",
    "Array5D",
    "Array5DExtensionType",
    "ArrayXD",
]

# --------------------------------------------------------------------------------------
# The ArrayXD Arrow extension types (same name and serialization as datasets')
# --------------------------------------------------------------------------------------


class _ArrayXDExtensionType(pa.ExtensionType):
    """Arrow extension type that ``datasets`` uses for ``Array2D``..``Array5D``.

    Storage is ``ndims`` nested variable-size lists of the value type; the extension name is
    ``datasets.features.features.Array{n}DExtensionType`` and the serialized metadata is
    ``json.dumps((shape, dtype))``. It is never registered with pyarrow, so that importing
    ``datasets`` (which registers its own class under the same name) keeps working.
    """

    ndims: ClassVar[int] = 0

    def __init__(self, shape: SequenceABC[int | None], dtype: str) -> None:
        self.shape = tuple(shape)
        self.value_type = dtype
        storage = dtype_to_arrow(dtype)
        for _ in range(self.ndims):
            storage = pa.list_(storage)
        pa.ExtensionType.__init__(
            self, storage, f"datasets.features.features.Array{self.ndims}DExtensionType"
        )

    def __arrow_ext_serialize__(self) -> bytes:
        return json.dumps((self.shape, self.value_type)).encode()

    @classmethod
    def __arrow_ext_deserialize__(
        cls, storage_type: pa.DataType, serialized: bytes
    ) -> _ArrayXDExtensionType:
        shape, dtype = json.loads(serialized)
        return cls(shape, dtype)

    def __reduce__(self) -> tuple[Any, ...]:
        return self.__arrow_ext_deserialize__, (self.storage_type, self.__arrow_ext_serialize__())

    def __hash__(self) -> int:
        return hash((self.__class__, self.shape, self.value_type))


class Array2DExtensionType(_ArrayXDExtensionType):
    """Arrow extension type of :class:`Array2D` (unregistered twin of ``datasets``')."""

    ndims = 2


class Array3DExtensionType(_ArrayXDExtensionType):
    """Arrow extension type of :class:`Array3D` (unregistered twin of ``datasets``')."""

    ndims = 3


class Array4DExtensionType(_ArrayXDExtensionType):
    """Arrow extension type of :class:`Array4D` (unregistered twin of ``datasets``')."""

    ndims = 4


class Array5DExtensionType(_ArrayXDExtensionType):
    """Arrow extension type of :class:`Array5D` (unregistered twin of ``datasets``')."""

    ndims = 5


_OWN_EXTENSION_TYPES: dict[int, type[_ArrayXDExtensionType]] = {
    2: Array2DExtensionType,
    3: Array3DExtensionType,
    4: Array4DExtensionType,
    5: Array5DExtensionType,
}


def _array_extension_type(ndims: int, shape: tuple[int | None, ...], dtype: str) -> pa.DataType:
    # When datasets is imported its classes are registered with pyarrow under the same
    # extension name; use them then, so that our schemas compare equal to datasets' own.
    module = sys.modules.get("datasets.features.features")
    cls = getattr(module, f"Array{ndims}DExtensionType", None) if module is not None else None
    if cls is None:
        cls = _OWN_EXTENSION_TYPES[ndims]
    result: pa.DataType = cls(shape, dtype)
    return result


# --------------------------------------------------------------------------------------
# The Array2D..Array5D features
# --------------------------------------------------------------------------------------


class ArrayXD(FeatureBase):
    """Shared code of Array2D..Array5D: any one of them is an ``ArrayXD``.

    Examples
    --------
    >>> isinstance(Array3D(shape=(1, 2, 3), dtype="int8"), ArrayXD)
    True
    """

    ndims: ClassVar[int] = 0
    shape: tuple[int | None, ...]
    dtype: str

    def __post_init__(self) -> None:
        self.shape = tuple(self.shape)
        if len(self.shape) != self.ndims:
            raise ValueError(f"shape={self.shape} and ndims={self.ndims} don't match")
        for dim in self.shape[1:]:
            if dim is None:
                raise ValueError(f"Support only dynamic size on first dimension. Got: {self.shape}")
        dtype_to_arrow(self.dtype)  # validate

    def to_arrow(self) -> pa.DataType:
        """Return the Arrow type: ``datasets``' ArrayXD extension type.

        Its storage is ``ndims`` nested variable-size lists. When ``datasets`` is imported,
        its own (registered) extension class is used, otherwise an unregistered twin with
        the same extension name and metadata; both write identical parquet files.

        Examples
        --------
        >>> Array2D(shape=(2, 3), dtype="int32").to_arrow().storage_type
        ListType(list<item: list<item: int32>>)
        """
        return _array_extension_type(self.ndims, self.shape, self.dtype)

    def to_polars(self) -> pl.DataType:
        """Return the Polars dtype: ``Array(dtype, shape)``.

        A dynamic first dimension (``None``) gives ``List(Array(dtype, shape[1:]))``.

        Examples
        --------
        >>> Array2D(shape=(2, 3), dtype="int32").to_polars()
        Array(Int32, shape=(2, 3))
        >>> Array3D(shape=(None, 2, 2), dtype="uint8").to_polars()
        List(Array(UInt8, shape=(2, 2)))
        """
        inner = arrow_to_polars_scalar(dtype_to_arrow(self.dtype))
        for dim in reversed(self.shape):
            inner = pl.List(inner) if dim is None else pl.Array(inner, dim)
        return inner


@dataclass
class Array2D(ArrayXD):
    """A two-dimensional array of fixed shape (the first dimension may be ``None``).

    Parameters
    ----------
    shape
        The array's shape; the first dimension may be ``None`` (varies by row).
    dtype
        The value type, a ``Value`` dtype name such as ``"int32"``.
    id
        Optional identifier, kept for ``datasets`` compatibility.

    Examples
    --------
    >>> Array2D(shape=(1, 3), dtype="int32")
    Array2D(shape=(1, 3), dtype='int32')
    """

    ndims: ClassVar[int] = 2
    shape: tuple[int | None, ...]
    dtype: str
    id: str | None = field(default=None, repr=False)
    _type: str = field(default="Array2D", init=False, repr=False)


@dataclass
class Array3D(ArrayXD):
    """A three-dimensional array of fixed shape (the first dimension may be ``None``).

    Parameters
    ----------
    shape
        The array's shape; the first dimension may be ``None`` (varies by row).
    dtype
        The value type, a ``Value`` dtype name such as ``"int32"``.
    id
        Optional identifier, kept for ``datasets`` compatibility.

    Examples
    --------
    >>> Array3D(shape=(1, 2, 3), dtype="float32").to_dict()
    {'shape': (1, 2, 3), 'dtype': 'float32', '_type': 'Array3D'}
    """

    ndims: ClassVar[int] = 3
    shape: tuple[int | None, ...]
    dtype: str
    id: str | None = field(default=None, repr=False)
    _type: str = field(default="Array3D", init=False, repr=False)


@dataclass
class Array4D(ArrayXD):
    """A four-dimensional array of fixed shape (the first dimension may be ``None``).

    Parameters
    ----------
    shape
        The array's shape; the first dimension may be ``None`` (varies by row).
    dtype
        The value type, a ``Value`` dtype name such as ``"int32"``.
    id
        Optional identifier, kept for ``datasets`` compatibility.

    Examples
    --------
    >>> Array4D(shape=(1, 2, 2, 3), dtype="int32").to_polars()
    Array(Int32, shape=(1, 2, 2, 3))
    """

    ndims: ClassVar[int] = 4
    shape: tuple[int | None, ...]
    dtype: str
    id: str | None = field(default=None, repr=False)
    _type: str = field(default="Array4D", init=False, repr=False)


@dataclass
class Array5D(ArrayXD):
    """A five-dimensional array of fixed shape (the first dimension may be ``None``).

    Parameters
    ----------
    shape
        The array's shape; the first dimension may be ``None`` (varies by row).
    dtype
        The value type, a ``Value`` dtype name such as ``"int32"``.
    id
        Optional identifier, kept for ``datasets`` compatibility.

    Examples
    --------
    >>> Array5D(shape=(1, 2, 2, 3, 3), dtype="int32").shape
    (1, 2, 2, 3, 3)
    """

    ndims: ClassVar[int] = 5
    shape: tuple[int | None, ...]
    dtype: str
    id: str | None = field(default=None, repr=False)
    _type: str = field(default="Array5D", init=False, repr=False)
