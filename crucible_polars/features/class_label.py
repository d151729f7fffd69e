"""``ClassLabel``: integer class ids with names, as in ``datasets``.

Examples
--------
>>> ClassLabel(names=["neg", "pos"]).str2int("pos")
1
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field
from typing import Any, overload

import polars as pl
import pyarrow as pa

from .base import FeatureBase

__all__ = ["ClassLabel"]


@dataclass(init=False)
class ClassLabel(FeatureBase):
    """Integer class labels with names; stored as ``int64``.

    Give ``names``, ``num_classes`` (names ``"0"``..``"n-1"``) or ``names_file`` (one
    name per line). ``-1`` stands for a missing label, as in ``datasets``.

    Parameters
    ----------
    names
        The label names, in id order. An ``int`` here is read as ``num_classes``, so the
        positional ``datasets`` spelling ``ClassLabel(3)`` works too.
    num_classes
        Number of classes.
    names_file
        Path of a text file with one name per line.
    id
        Optional identifier, kept for ``datasets`` compatibility.

    Examples
    --------
    >>> label = ClassLabel(names=["neg", "pos"])
    >>> label.num_classes, label.str2int("pos"), label.int2str([0, 1])
    (2, 1, ['neg', 'pos'])
    >>> ClassLabel(num_classes=3)
    ClassLabel(names=['0', '1', '2'])
    """

    names: list[str]
    id: str | None = field(default=None, repr=False)
    _type: str = field(default="ClassLabel", init=False, repr=False)

    def __init__(
        self,
        names: SequenceABC[str] | int | None = None,
        num_classes: int | None = None,
        names_file: str | os.PathLike[str] | None = None,
        id: str | None = None,
    ) -> None:
        if isinstance(names, int) and not isinstance(names, bool):
            if num_classes is not None and num_classes != names:
                raise ValueError("Got num_classes twice with different values.")
            names, num_classes = None, names
        if names_file is not None and names is not None:
            raise ValueError("Please provide either names or names_file but not both.")
        if names is None:
            if names_file is not None:
                with open(names_file, encoding="utf-8") as file:
                    names = [n.strip() for n in file.read().split("\n") if n.strip()]
            elif num_classes is not None:
                names = [str(i) for i in range(num_classes)]
            else:
                raise ValueError("Please provide either num_classes, names or names_file.")
        elif isinstance(names, str) or not isinstance(names, SequenceABC):
            raise TypeError(f"Please provide names as a list, is {type(names)}")
        if num_classes is not None and num_classes != len(names):
            raise ValueError(
                "ClassLabel number of names do not match the defined num_classes. "
                f"Got {len(names)} names VS {num_classes} num_classes"
            )
        self.names = list(names)
        self.id = id
        self._type = "ClassLabel"
        if len({str(n) for n in self.names}) != len(self.names):
            raise ValueError("Some label names are duplicated. Each label name should be unique.")

    @property
    def num_classes(self) -> int:
        """Number of classes.

        Examples
        --------
        >>> ClassLabel(names=["a", "b", "c"]).num_classes
        3
        """
        return len(self.names)

    @property
    def dtype(self) -> str:
        """The storage dtype name, ``"int64"`` (as ``datasets.ClassLabel.dtype``).

        Examples
        --------
        >>> ClassLabel(num_classes=2).dtype
        'int64'
        """
        return "int64"

    def _mapping(self) -> dict[str, int]:
        return {str(name): i for i, name in enumerate(self.names)}

    def _strval2int(self, value: Any, mapping: Mapping[str, int]) -> int:
        text = str(value)
        result = mapping.get(text)
        if result is None:
            result = mapping.get(text.strip())
        if result is None:
            try:
                result = int(text)
            except ValueError:
                raise ValueError(f"Invalid string class label {text}") from None
            if result < -1 or result >= self.num_classes:
                raise ValueError(f"Invalid string class label {text}")
        return result

    @overload
    def str2int(self, values: str) -> int: ...

    @overload
    def str2int(self, values: Iterable[Any]) -> list[int]: ...

    def str2int(self, values: str | Iterable[Any]) -> int | list[int]:
        """Convert label names to ids (a name, or an iterable of names).

        Parameters
        ----------
        values
            A name or names. Surrounding whitespace is ignored and numeric strings in range
            are accepted, as ``datasets`` does.

        Returns
        -------
        int or list of int

        Raises
        ------
        ValueError
            ``Invalid string class label ...`` for an unknown name.

        Examples
        --------
        >>> label = ClassLabel(names=["neg", "pos"])
        >>> label.str2int("neg"), label.str2int(["pos", " neg "])
        (0, [1, 0])
        >>> label.str2int("cat")
        Traceback (most recent call last):
        ...
        ValueError: Invalid string class label cat
        """
        if not isinstance(values, (str, Iterable)):
            raise ValueError(
                f"Values {values} should be a string or an Iterable (list, numpy array, "
                "pytorch, tensorflow tensors)"
            )
        mapping = self._mapping()
        if isinstance(values, str):
            return self._strval2int(values, mapping)
        return [self._strval2int(v, mapping) for v in values]

    @overload
    def int2str(self, values: int) -> str: ...

    @overload
    def int2str(self, values: Iterable[Any]) -> list[str]: ...

    def int2str(self, values: int | Iterable[Any]) -> str | list[str]:
        """Convert label ids to names (an id, or an iterable of ids).

        Raises
        ------
        ValueError
            ``Invalid integer class label ...`` for an id outside ``0..num_classes-1``.

        Examples
        --------
        >>> ClassLabel(names=["neg", "pos"]).int2str(1)
        'pos'
        >>> ClassLabel(names=["neg", "pos"]).int2str(2)
        Traceback (most recent call last):
        ...
        ValueError: Invalid integer class label 2
        """
        import numbers

        single = isinstance(values, numbers.Integral)
        if not single and not isinstance(values, Iterable):
            raise ValueError(
                f"Values {values} should be an integer or an Iterable (list, numpy array, "
                "pytorch, tensorflow tensors)"
            )
        items: list[Any] = [values] if single else list(values)  # type: ignore[arg-type]
        for v in items:
            if not 0 <= v < self.num_classes:
                raise ValueError(f"Invalid integer class label {v:d}")
        output = [str(self.names[int(v)]) for v in items]
        return output[0] if single else output

    def encode_example(self, value: Any) -> int:
        """Convert a name or an id to a checked id (``-1`` allowed for "no label").

        Examples
        --------
        >>> ClassLabel(names=["neg", "pos"]).encode_example("pos")
        1
        """
        if isinstance(value, str):
            value = self.str2int(value)
        if not -1 <= value < self.num_classes:
            raise ValueError(
                f"Class label {value:d} greater than configured num_classes {self.num_classes}"
            )
        return int(value)

    def to_arrow(self) -> pa.DataType:
        """Return the Arrow type, ``int64``.

        Examples
        --------
        >>> ClassLabel(num_classes=2).to_arrow()
        DataType(int64)
        """
        return pa.int64()

    def to_polars(self) -> pl.DataType:
        """Return the Polars dtype, ``Int64``.

        Examples
        --------
        >>> ClassLabel(num_classes=2).to_polars()
        Int64
        """
        return pl.Int64()
