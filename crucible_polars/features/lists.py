"""List features: ``List`` (fixed-size with a length), ``LargeList`` and the legacy ``Sequence``.

Examples
--------
>>> from crucible_polars.features import Value
>>> List(Value("int32")).to_polars(), LargeList(Value("int32")).to_polars()
(List(Int32), List(Int32))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

from .base import FeatureBase

if TYPE_CHECKING:  # pragma: no cover
    from .types import FeatureType

__all__ = ["LargeList", "List", "Sequence"]


class Sequence:
    """``datasets``' legacy list constructor: ``Sequence(feature, length=-1)``.

    ``Sequence(x)`` returns ``List(x, length)``; a ``Sequence`` of a dict returns a dict of
    ``List`` (TFDS style), unless every value of the dict is already a ``List``, exactly as
    ``datasets`` 4+ does. ``isinstance(List(...), Sequence)`` is true.

    Examples
    --------
    >>> from crucible_polars.features import Value
    >>> Sequence(Value("int32"))
    List(Value('int32'))
    >>> Sequence({"text": Value("string"), "start": Value("int32")})
    {'text': List(Value('string')), 'start': List(Value('int32'))}
    """

    def __new__(cls, feature: Any = None, length: int = -1, id: str | None = None) -> Any:
        if (
            cls is Sequence
            and isinstance(feature, dict)
            and any(not isinstance(sub, List) for sub in feature.values())
        ):
            return {key: List(value, length=length, id=id) for key, value in feature.items()}
        return object.__new__(List if cls is Sequence else cls)


@dataclass(repr=False)
class List(FeatureBase, Sequence):
    """A list of ``feature``; fixed-size when ``length`` is given.

    Stored as Arrow ``list`` (``fixed_size_list`` with a length); in Polars a ``List`` or,
    with a length, an ``Array``.

    Parameters
    ----------
    feature
        The type of the items.
    length
        The fixed length of every list, or -1 for any length.
    id
        Optional identifier, kept for ``datasets`` compatibility.

    Examples
    --------
    >>> from crucible_polars.features import Value
    >>> List(Value("int64"))
    List(Value('int64'))
    >>> List(Value("float32"), length=3).to_polars()
    Array(Float32, shape=(3,))
    """

    feature: FeatureType
    length: int = -1
    id: str | None = field(default=None, repr=False)
    _type: str = field(default="List", init=False, repr=False)

    def __repr__(self) -> str:
        if self.length != -1:
            return f"{type(self).__name__}({self.feature}, length={self.length})"
        return f"{type(self).__name__}({self.feature})"

    def to_arrow(self) -> pa.DataType:
        """Return the Arrow type (``list`` or ``fixed_size_list``).

        Examples
        --------
        >>> from crucible_polars.features import Value
        >>> List(Value("int8"), length=2).to_arrow()
        FixedSizeListType(fixed_size_list<item: int8>[2])
        """
        from .types import feature_to_arrow  # the module of nested features imports this one

        return pa.list_(feature_to_arrow(self.feature), self.length)

    def to_polars(self) -> pl.DataType:
        """Return the Polars dtype (``List``, or ``Array`` for a fixed length).

        Examples
        --------
        >>> from crucible_polars.features import Value
        >>> List({"a": Value("int8")}).to_polars()
        List(Struct({'a': Int8}))
        """
        from .types import feature_to_polars  # the module of nested features imports this one

        inner = feature_to_polars(self.feature)
        return pl.List(inner) if self.length == -1 else pl.Array(inner, self.length)


@dataclass(repr=False)
class LargeList(FeatureBase):
    """A list of ``feature`` with 64-bit offsets (Arrow ``large_list``; a Polars ``List``).

    Examples
    --------
    >>> from crucible_polars.features import Value
    >>> LargeList(Value("string")).to_arrow()
    LargeListType(large_list<item: string>)
    """

    feature: FeatureType
    id: str | None = field(default=None, repr=False)
    _type: str = field(default="LargeList", init=False, repr=False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.feature})"

    def to_arrow(self) -> pa.DataType:
        """Return the Arrow type, ``large_list``."""
        from .types import feature_to_arrow  # the module of nested features imports this one

        return pa.large_list(feature_to_arrow(self.feature))

    def to_polars(self) -> pl.DataType:
        """Return the Polars dtype, ``List``."""
        from .types import feature_to_polars  # the module of nested features imports this one

        return pl.List(feature_to_polars(self.feature))
