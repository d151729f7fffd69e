"""What a :class:`~crucible_polars.Dataset` holds: a :class:`~crucible_polars.plan.Plan` plus
its info, split name and output format.

The ``Dataset`` class is assembled from mixins (transforms, outputs, constructors), each in its
own module; they all build on this state and on :meth:`DatasetState._with`, which makes the
new dataset that every transform returns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from crucible_polars.features import Features
from crucible_polars.formatting import check_format, format_batch, format_row, to_python_columns
from crucible_polars.info import DatasetInfo
from crucible_polars.plan import Plan

if TYPE_CHECKING:
    from crucible_polars.dataset.core import Dataset


_DATASET_CLASS: list[Any] = []  # the Dataset class, recorded when it is defined


def _info_field(name: str) -> Any:
    """A read-only property for ``ds.info.<name>`` (``datasets`` has these shortcuts)."""

    def get(self: DatasetState) -> Any:
        return getattr(self._info, name)

    empty = repr(getattr(DatasetInfo(), name))
    get.__doc__ = f"""``ds.info.{name}``, as ``datasets`` gives it.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> print(repr(Dataset.from_dict({{"a": [1]}}).{name}))
        {empty}
        """
    return property(get)


class DatasetState:
    """The state shared by the mixins of :class:`~crucible_polars.Dataset` (not public)."""

    _plan: Plan
    _info: DatasetInfo
    _split: str | None
    _format: str
    _format_columns: list[str] | None
    description = _info_field("description")
    citation = _info_field("citation")
    homepage = _info_field("homepage")
    license = _info_field("license")
    config_name = _info_field("config_name")
    version = _info_field("version")
    # Defaults at class level, so every way of making a dataset has them.
    _format_kwargs: Mapping[str, Any] = {}  # never mutated: replaced by a new dict
    _output_all_columns: bool = False
    _transform: Callable[[dict[str, list[Any]]], Any] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__name__ == "Dataset" and cls.__module__ == "crucible_polars.dataset.core":
            _DATASET_CLASS.append(cls)

    @staticmethod
    def new_dataset(
        plan: Plan, *, info: DatasetInfo | None = None, split: str | None = None
    ) -> Dataset:
        """A :class:`~crucible_polars.Dataset` over ``plan``, for modules that cannot import
        the class (``DatasetDict``, which ``Dataset.train_test_split`` returns).

        Parameters
        ----------
        plan
            The lazy plan.
        info
            Descriptive metadata.
        split
            The split name.

        Examples
        --------
        >>> import polars as pl
        >>> from crucible_polars import Dataset  # the class this function makes
        >>> Dataset.new_dataset(Plan.from_frame(pl.DataFrame({"a": [1]})))["a"]
        [1]
        """
        made: Dataset = _DATASET_CLASS[-1].from_plan(plan, info=info, split=split)
        return made

    @classmethod
    def from_plan(
        cls,
        plan: Plan,
        *,
        info: DatasetInfo | None = None,
        split: str | None = None,
        format: str | None = None,
        format_columns: Sequence[str] | None = None,
    ) -> Dataset:
        """A dataset over a :class:`~crucible_polars.plan.Plan` (the core value).

        Parameters
        ----------
        plan
            The lazy plan, its Features and row count.
        info
            Descriptive metadata.
        split
            The split name.
        format
            Output format of indexing and iteration (python by default).
        format_columns
            Only these columns in that format.

        Examples
        --------
        >>> import polars as pl
        >>> from crucible_polars import Dataset
        >>> Dataset.from_plan(Plan.from_frame(pl.DataFrame({"a": [1]})), split="train").split
        'train'
        """
        new: Any = cls.__new__(cls)
        new._plan = plan
        new._info = info or DatasetInfo()
        new._split = split
        new._format = check_format(format)
        new._format_columns = list(format_columns) if format_columns is not None else None
        result: Dataset = new
        return result

    def _with(self, plan: Plan, **changes: Any) -> Dataset:
        """A copy of this dataset over ``plan``; ``changes`` replace info, split or format.

        Output-format columns that ``plan`` no longer has leave the format.
        """
        new: Any = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._plan = plan
        for name, value in changes.items():
            setattr(new, f"_{name}", value)
        if new._format_columns is not None:
            new._format_columns = [c for c in new._format_columns if c in plan.features]
        result: Dataset = new
        return result

    def _output_features(self, columns: Sequence[str] | None = None) -> Features:
        """The features of ``columns`` (default: what indexing reads: the output format's
        columns, or all of them with ``output_all_columns``)."""
        names = columns
        if names is None and not self._output_all_columns:
            names = self._format_columns
        features = self._plan.features
        if names is None:
            return features
        return Features({c: features[c] for c in self._plan.check_columns(names)})

    def _with_format_state(
        self,
        type: str | None,
        columns: Sequence[str] | None,
        output_all_columns: bool,
        format_kwargs: Mapping[str, Any],
        transform: Callable[[dict[str, list[Any]]], Any] | None = None,
    ) -> dict[str, Any]:
        """The attributes of an output format (checked), for :meth:`_with` or in place."""
        if columns is not None:
            columns = self._plan.check_columns(columns)
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable, got {transform!r}")
        return {
            "format": check_format(type),
            "format_columns": None if columns is None else list(columns),
            "format_kwargs": dict(format_kwargs),
            "output_all_columns": bool(output_all_columns),
            "transform": transform,
        }

    def _format_frame(
        self,
        frame: pl.DataFrame,
        features: Features,
        format: str | None = None,
        first_row: int = 0,
        *,
        row: bool = False,
        image_size: tuple[int, int] | None = None,
    ) -> Any:
        """A frame read for indexing or iteration, in this dataset's output format: its
        type and ``dtype=`` options, its transform, and its other columns in python when
        ``output_all_columns``.
        """
        fmt = self._format if format is None else format
        formatted = frame.columns
        if self._output_all_columns and self._format_columns is not None:
            formatted = [c for c in frame.columns if c in self._format_columns]
        main = frame.select(formatted) if formatted != frame.columns else frame
        if self._transform is not None and fmt == self._format:
            batch = self._transform(to_python_columns(main, features, first_row, image_size))
            out = {k: v[0] for k, v in batch.items()} if row else batch
        elif row:
            out = format_row(main, features, fmt, first_row, image_size, self._format_kwargs)
        else:
            out = format_batch(main, features, fmt, first_row, image_size, self._format_kwargs)
        rest = [c for c in frame.columns if c not in formatted]
        if rest:
            if not isinstance(out, MutableMapping):
                raise TypeError(
                    "output_all_columns=True needs a format that gives a dict "
                    f"(python, numpy, torch or a transform returning a dict), got {type(out)}"
                )
            others = to_python_columns(frame.select(rest), features, first_row, image_size)
            out.update({k: v[0] for k, v in others.items()} if row else others)
        return out

    def _format_column(self, frame: pl.DataFrame, name: str) -> Any:
        """One column read by ``ds[name]``: a list (python), an array or tensor, a Series
        (polars, pandas), a one-column table (arrow); a transform sees the column's batch."""
        features = self._plan.features
        in_format = self._format_columns is None or name in self._format_columns
        if not in_format:
            if not self._output_all_columns:
                raise KeyError(
                    f"Column {name!r} is not in the output format's columns "
                    f"{self._format_columns}; add it there or pass output_all_columns=True."
                )
            return to_python_columns(frame, features)[name]
        if self._transform is not None:
            batch = self._transform(to_python_columns(frame, features))
            if len(batch) > 1:
                raise TypeError(
                    f"The transform returned columns {list(batch)} for ds[{name!r}]; "
                    "it must return only the column asked for."
                )
            if name not in batch:
                raise KeyError(f"The transform returned {list(batch)}, not {name!r}")
            return batch[name]
        out = format_batch(frame, features, self._format, 0, None, self._format_kwargs)
        if self._format in ("polars", "pandas"):
            return out[name]  # a Series, as datasets gives
        if self._format == "arrow":
            return out.column(0)
        return out[name] if isinstance(out, dict) else out

    def _format_dict(self) -> dict[str, Any]:
        """``ds.format`` as ``datasets`` reports it."""
        custom = self._transform is not None
        kwargs = {"transform": self._transform} if custom else dict(self._format_kwargs)
        return {
            "type": "custom" if custom else (None if self._format == "python" else self._format),
            "format_kwargs": kwargs,
            "columns": list(self._format_columns or self._plan.features),
            "output_all_columns": self._output_all_columns,
        }
