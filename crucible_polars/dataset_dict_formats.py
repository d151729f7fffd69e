"""Output formats and label alignment of a :class:`~crucible_polars.DatasetDict`, split by
split, as ``datasets.DatasetDict`` has them (``set_*`` change the splits in place).

Examples
--------
>>> from crucible_polars import Dataset, DatasetDict
>>> dd = DatasetDict(train=Dataset.from_dict({"a": [1]}))
>>> dd.set_format("numpy")
>>> dd["train"]["a"]
array([1])
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crucible_polars.dataset import Dataset
    from crucible_polars.dataset_dict import DatasetDict


class DatasetDictFormats(dict[str, "Dataset"]):
    """Mixin of :class:`~crucible_polars.DatasetDict`: formats and label alignment."""

    def _apply(self, name: str, *args: Any, **kwargs: Any) -> DatasetDict:
        raise NotImplementedError  # DatasetDict defines it

    def with_format(
        self,
        type: str | None = None,
        columns: Sequence[str] | None = None,
        output_all_columns: bool = False,
        **format_kwargs: Any,
    ) -> DatasetDict:
        """:meth:`Dataset.with_format` on every split.

        Parameters
        ----------
        type
            The format name, as in :meth:`Dataset.with_format`.
        columns
            Only these columns in the output.
        output_all_columns
            Keep the other columns too, in python form.
        **format_kwargs
            Options of the format (``dtype=``).

        Examples
        --------
        >>> from crucible_polars import Dataset, DatasetDict
        >>> DatasetDict(a=Dataset.from_dict({"x": [1]})).with_format("numpy")["a"]["x"]
        array([1])
        """
        return self._apply("with_format", type, columns, output_all_columns, **format_kwargs)

    def set_format(
        self,
        type: str | None = None,
        columns: Sequence[str] | None = None,
        output_all_columns: bool = False,
        **format_kwargs: Any,
    ) -> None:
        """:meth:`Dataset.set_format` on every split, in place.

        Parameters
        ----------
        type
            The format name, as in :meth:`Dataset.with_format`.
        columns
            Only these columns in the output.
        output_all_columns
            Keep the other columns too, in python form.
        **format_kwargs
            Options of the format (``dtype=``).

        Examples
        --------
        >>> from crucible_polars import Dataset, DatasetDict
        >>> dd = DatasetDict(a=Dataset.from_dict({"x": [1]}))
        >>> dd.set_format("numpy")
        >>> dd["a"].format["type"]
        'numpy'
        """
        for ds in self.values():
            ds.set_format(type, columns, output_all_columns, **format_kwargs)

    def reset_format(self) -> None:
        """:meth:`Dataset.reset_format` on every split, in place.

        Examples
        --------
        >>> from crucible_polars import Dataset, DatasetDict
        >>> dd = DatasetDict(a=Dataset.from_dict({"x": [1]}).with_format("numpy"))
        >>> dd.reset_format()
        >>> dd["a"]["x"]
        [1]
        """
        for ds in self.values():
            ds.reset_format()

    @contextmanager
    def formatted_as(
        self,
        type: str | None = None,
        columns: Sequence[str] | None = None,
        output_all_columns: bool = False,
        **format_kwargs: Any,
    ) -> Iterator[None]:
        """A ``with`` block in which every split has another output format.

        Parameters
        ----------
        type
            The format name, as in :meth:`Dataset.with_format`.
        columns
            Only these columns in the output.
        output_all_columns
            Keep the other columns too, in python form.
        **format_kwargs
            Options of the format (``dtype=``).

        Examples
        --------
        >>> from crucible_polars import Dataset, DatasetDict
        >>> dd = DatasetDict(a=Dataset.from_dict({"x": [1]}))
        >>> with dd.formatted_as("numpy"):
        ...     dd["a"]["x"]
        array([1])
        """
        with ExitStack() as stack:
            for ds in self.values():
                stack.enter_context(
                    ds.formatted_as(type, columns, output_all_columns, **format_kwargs)
                )
            yield

    def with_transform(
        self,
        transform: Callable[[dict[str, list[Any]]], Any] | None,
        columns: Sequence[str] | None = None,
        output_all_columns: bool = False,
    ) -> DatasetDict:
        """:meth:`Dataset.with_transform` on every split.

        Parameters
        ----------
        transform
            The function, given a python batch; ``None`` removes it.
        columns
            Only these columns go to the function.
        output_all_columns
            Add the other columns, untransformed, to what it returns.

        Examples
        --------
        >>> from crucible_polars import Dataset, DatasetDict
        >>> dd = DatasetDict(a=Dataset.from_dict({"x": [1]}))
        >>> dd.with_transform(lambda b: {"x": [v + 1 for v in b["x"]]})["a"][0]
        {'x': 2}
        """
        return self._apply("with_transform", transform, columns, output_all_columns)

    def set_transform(
        self,
        transform: Callable[[dict[str, list[Any]]], Any] | None,
        columns: Sequence[str] | None = None,
        output_all_columns: bool = False,
    ) -> None:
        """:meth:`Dataset.set_transform` on every split, in place.

        Parameters
        ----------
        transform
            The function, given a python batch; ``None`` removes it.
        columns
            Only these columns go to the function.
        output_all_columns
            Add the other columns, untransformed, to what it returns.

        Examples
        --------
        >>> from crucible_polars import Dataset, DatasetDict
        >>> dd = DatasetDict(a=Dataset.from_dict({"x": [1]}))
        >>> dd.set_transform(lambda b: {"x": [v + 1 for v in b["x"]]})
        >>> dd["a"][0]
        {'x': 2}
        """
        for ds in self.values():
            ds.set_transform(transform, columns, output_all_columns)

    def align_labels_with_mapping(
        self, label2id: Mapping[str, int], label_column: str
    ) -> DatasetDict:
        """:meth:`Dataset.align_labels_with_mapping` on every split.

        Parameters
        ----------
        label2id
            The model's ``{label name: id}``.
        label_column
            The ClassLabel column to renumber.

        Examples
        --------
        >>> from crucible_polars import ClassLabel, Dataset, DatasetDict, Features
        >>> features = Features({"y": ClassLabel(names=["a", "b"])})
        >>> dd = DatasetDict(t=Dataset.from_dict({"y": [0, 1]}, features=features))
        >>> dd.align_labels_with_mapping({"b": 0, "a": 1}, "y")["t"]["y"]
        [1, 0]
        """
        return self._apply("align_labels_with_mapping", label2id, label_column)
