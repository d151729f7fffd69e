"""The output-format methods of :class:`~crucible_polars.Dataset`, as ``datasets`` has them.

``with_format`` / ``with_transform`` return a new dataset; ``set_format``, ``reset_format`` and
``set_transform`` change this one in place (as in ``datasets``: the format is the one mutable
part of a dataset, its plan never changes); ``formatted_as`` sets a format for a ``with``
block. A transform is a function from a python batch (``{column: list}``) to a batch, applied
to what indexing and iteration return.

Examples
--------
>>> from crucible_polars import Dataset
>>> ds = Dataset.from_dict({"a": [1, 2]})
>>> ds.with_transform(lambda b: {"a": [x * 10 for x in b["a"]]})[0]
{'a': 10}
>>> with ds.formatted_as("numpy"):
...     ds["a"]
array([1, 2])
>>> ds["a"]
[1, 2]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from crucible_polars.dataset.state import DatasetState

if TYPE_CHECKING:
    from crucible_polars.dataset.core import Dataset

Transform = Callable[[dict[str, list[Any]]], Any]


class DatasetFormats(DatasetState):
    """Mixin with the output-format methods of :class:`~crucible_polars.Dataset`."""

    def _set_format_state(self, state: dict[str, Any]) -> None:
        """Change the output format in place (the one mutable part of a dataset)."""
        for name, value in state.items():
            setattr(self, f"_{name}", value)

    def with_format(
        self,
        type: str | None = None,
        columns: Sequence[str] | None = None,
        output_all_columns: bool = False,
        *,
        format: str | None = None,
        **format_kwargs: Any,
    ) -> Dataset:
        """Set the output format of indexing and iteration (``None`` resets to python).

        Parameters
        ----------
        type
            ``"python"`` (or ``None``), ``"numpy"``, ``"torch"``, ``"arrow"``, ``"polars"``,
            ``"pandas"`` (``datasets``' name for this argument).
        columns
            Only these columns in the output.
        output_all_columns
            Keep the other columns too, in python form.
        format
            Another name for ``type``.
        **format_kwargs
            Options of the format: ``dtype=`` for numpy (``np.array``) and torch
            (``torch.tensor``).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1, 2]}).with_format("numpy")["a"]
        array([1, 2])
        >>> Dataset.from_dict({"a": [1, 2]}).with_format("numpy", dtype="float16")["a"].dtype
        dtype('float16')
        """
        if type is not None and format is not None and type != format:
            raise TypeError(f"with_format got type={type!r} and format={format!r}; give one.")
        state = self._with_format_state(type or format, columns, output_all_columns, format_kwargs)
        return self._with(self._plan, **state)

    def set_format(
        self,
        type: str | None = None,
        columns: Sequence[str] | None = None,
        output_all_columns: bool = False,
        **format_kwargs: Any,
    ) -> None:
        """Set the output format in place (``datasets``' ``set_format``); see
        :meth:`with_format` for the arguments.

        Parameters
        ----------
        type
            The format name, as in :meth:`with_format`.
        columns
            Only these columns in the output.
        output_all_columns
            Keep the other columns too, in python form.
        **format_kwargs
            Options of the format (``dtype=``).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> ds = Dataset.from_dict({"a": [1, 2]})
        >>> ds.set_format("numpy")
        >>> ds.format["type"], ds["a"]
        ('numpy', array([1, 2]))
        """
        self._set_format_state(
            self._with_format_state(type, columns, output_all_columns, format_kwargs)
        )

    def reset_format(self) -> None:
        """Back to python output of every column, in place (removes a transform too).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> ds = Dataset.from_dict({"a": [1]}).with_format("numpy")
        >>> ds.reset_format()
        >>> ds["a"]
        [1]
        """
        self.set_format()

    @contextmanager
    def formatted_as(
        self,
        type: str | None = None,
        columns: Sequence[str] | None = None,
        output_all_columns: bool = False,
        **format_kwargs: Any,
    ) -> Iterator[None]:
        """A ``with`` block in which this dataset has another output format.

        Parameters
        ----------
        type
            The format name, as in :meth:`with_format`.
        columns
            Only these columns in the output.
        output_all_columns
            Keep the other columns too, in python form.
        **format_kwargs
            Options of the format (``dtype=``).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> ds = Dataset.from_dict({"a": [1]})
        >>> with ds.formatted_as("numpy"):
        ...     print(ds.format["type"])
        numpy
        >>> print(ds.format["type"])
        None
        """
        saved = {
            name: getattr(self, f"_{name}")
            for name in (
                "format",
                "format_columns",
                "format_kwargs",
                "output_all_columns",
                "transform",
            )
        }
        self.set_format(type, columns, output_all_columns, **format_kwargs)
        try:
            yield
        finally:
            self._set_format_state(saved)

    def with_transform(
        self,
        transform: Transform | None,
        columns: Sequence[str] | None = None,
        output_all_columns: bool = False,
    ) -> Dataset:
        """A dataset whose indexing and iteration return ``transform(batch)``: the function
        gets a python batch ``{column: list}`` (images decoded) and returns a batch, applied
        when rows are read (the usual way to augment images on the fly).

        Parameters
        ----------
        transform
            The function; ``None`` removes it.
        columns
            Only these columns go to the function.
        output_all_columns
            Add the other columns, untransformed, to what it returns.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> ds = Dataset.from_dict({"a": [1, 2], "b": ["x", "y"]})
        >>> ds.with_transform(lambda b: {"a2": [v * 2 for v in b["a"]]}, columns=["a"])[:]
        {'a2': [2, 4]}
        """
        state = self._with_format_state(None, columns, output_all_columns, {}, transform)
        return self._with(self._plan, **state)

    def set_transform(
        self,
        transform: Transform | None,
        columns: Sequence[str] | None = None,
        output_all_columns: bool = False,
    ) -> None:
        """:meth:`with_transform` in place (``datasets``' ``set_transform``).

        Parameters
        ----------
        transform
            The function; ``None`` removes it.
        columns
            Only these columns go to the function.
        output_all_columns
            Add the other columns, untransformed, to what it returns.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> ds = Dataset.from_dict({"a": [1]})
        >>> ds.set_transform(lambda b: {"a": [str(v) for v in b["a"]]})
        >>> ds[0]
        {'a': '1'}
        """
        self._set_format_state(
            self._with_format_state(None, columns, output_all_columns, {}, transform)
        )
