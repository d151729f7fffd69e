"""What a :class:`~crucible_polars.Dataset` holds: a :class:`~crucible_polars.plan.Plan` plus
its info, split name and output format.

The ``Dataset`` class is assembled from mixins (transforms, outputs, constructors), each in its
own module; they all build on this state and on :meth:`DatasetState._with`, which makes the
new dataset that every transform returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from crucible_polars.features import Features
from crucible_polars.formatting import check_format
from crucible_polars.info import DatasetInfo
from crucible_polars.plan import Plan

if TYPE_CHECKING:
    from crucible_polars.dataset.core import Dataset


class DatasetState:
    """The state shared by the mixins of :class:`~crucible_polars.Dataset` (not public)."""

    _plan: Plan
    _info: DatasetInfo
    _split: str | None
    _format: str
    _format_columns: list[str] | None

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
        """The features of ``columns`` (default: the output format's, else all)."""
        names = columns if columns is not None else self._format_columns
        features = self._plan.features
        if names is None:
            return features
        return Features({c: features[c] for c in self._plan.check_columns(names)})
