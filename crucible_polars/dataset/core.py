"""Dataset: one split, as a lazy Polars plan plus its Features.

A ``Dataset`` is immutable: a :class:`~crucible_polars.plan.Plan` plus info, split name and
output format. Every transform returns a new ``Dataset`` whose plan is one step longer; only
the output methods (``to_polars``, ``to_numpy``, ``iter``, indexing, ...) run it. The methods
live in mixins by kind: column and function transforms (``transforms.py``), ClassLabel
renumbering (``labels.py``), row positions (``rows.py``), outputs (``outputs.py``) and
constructors (``constructors.py``); this module holds inspection and indexing.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import polars as pl

from crucible_polars.dataset.constructors import DatasetConstructors
from crucible_polars.dataset.files import DatasetFiles
from crucible_polars.dataset.formats import DatasetFormats
from crucible_polars.dataset.functions import DatasetFunctions
from crucible_polars.dataset.labels import DatasetLabels
from crucible_polars.dataset.rows import DatasetRows
from crucible_polars.dataset.transforms import DatasetTransforms
from crucible_polars.features import Features
from crucible_polars.formatting import format_rows
from crucible_polars.html import dataset_html, rows_label
from crucible_polars.info import DatasetInfo
from crucible_polars.materialize import (
    collect_rows,
    iter_frames,
    picklable,
    take_python_rows,
    take_rows,
    will_be_read_by_workers,
)
from crucible_polars.plan import Plan
from crucible_polars.readers.base import Diagnose


class Dataset(
    DatasetFunctions,
    DatasetTransforms,
    DatasetLabels,
    DatasetRows,
    DatasetFormats,
    DatasetFiles,
    DatasetConstructors,
):
    """One split of a dataset: a lazy Polars plan, its Features and its info.

    Build one with :func:`crucible_polars.load_dataset`, :meth:`from_polars` or
    :meth:`from_dict`; nothing is read until an output method runs.

    Parameters
    ----------
    lf
        The Polars plan.
    features
        Its Features (inferred from the schema when not given).
    info
        Descriptive metadata.
    split
        The split name.
    diagnose
        Callbacks that explain a failed query (name the file, row or column).
    num_rows
        The row count, when known without running the plan.
    format, format_columns
        Output format of indexing and iteration, and the columns it covers.

    Examples
    --------
    >>> import crucible_polars as cp
    >>> ds = cp.Dataset.from_dict({"x": [1, 2, 3], "y": ["a", "b", "c"]})
    >>> ds.filter(pl.col("x") > 1).to_dict()
    {'x': [2, 3], 'y': ['b', 'c']}
    """

    def __init__(
        self,
        lf: pl.LazyFrame,
        features: Features | None = None,
        *,
        info: DatasetInfo | None = None,
        split: str | None = None,
        diagnose: Sequence[Diagnose] = (),
        num_rows: int | None = None,
        format: str | None = None,
        format_columns: Sequence[str] | None = None,
    ) -> None:
        plan = Plan.from_frame(lf, features, num_rows=num_rows, diagnose=diagnose)
        state = Dataset.from_plan(
            plan, info=info, split=split, format=format, format_columns=format_columns
        )
        self.__dict__.update(state.__dict__)

    def __copy__(self) -> Dataset:
        return self._with(self._plan)

    def __deepcopy__(self, memo: dict[int, Any]) -> Dataset:
        return self._with(self._plan)  # immutable: a copy shares the plan

    def __getstate__(self) -> dict[str, Any]:
        """Pickle with a plan that pickles (a mapped plan is materialized first)."""
        state = dict(self.__dict__)
        state["_plan"] = picklable(self._plan)
        return state

    @property
    def plan(self) -> Plan:
        """The core value: lazy frame, Features, row count (see :mod:`crucible_polars.plan`).

        Examples
        --------
        >>> Dataset.from_dict({"a": [1, 2]}).plan.num_rows
        2
        """
        return self._plan

    def lazy(self) -> pl.LazyFrame:
        """The Polars plan behind this dataset, for any Polars query.

        Examples
        --------
        >>> Dataset.from_dict({"a": [1, 2]}).lazy().select(pl.col("a").sum()).collect().item()
        3
        """
        return self._plan.lf

    @property
    def features(self) -> Features:
        """The Features (schema with meaning: ClassLabel names, Image, ...).

        Examples
        --------
        >>> Dataset.from_dict({"a": ["x"]}).features
        Features({'a': Value('string')})
        """
        return self._plan.features.copy()  # a copy, as datasets: editing it changes nothing

    @property
    def info(self) -> DatasetInfo:
        """Descriptive metadata (description, citation, licence, ...).

        Examples
        --------
        >>> Dataset.from_dict({"a": [1]}).info.description
        ''
        """
        return self._info

    @property
    def split(self) -> str | None:
        """The split name, if this dataset is a split of a loaded dataset.

        Examples
        --------
        >>> Dataset.from_dict({"a": [1]}, split="train").split
        'train'
        """
        return self._split

    @property
    def column_names(self) -> list[str]:
        """Column names, in order.

        Examples
        --------
        >>> Dataset.from_dict({"a": [1], "b": [2]}).column_names
        ['a', 'b']
        """
        return list(self._plan.features)

    @property
    def num_columns(self) -> int:
        """Number of columns.

        Examples
        --------
        >>> Dataset.from_dict({"a": [1], "b": [2]}).num_columns
        2
        """
        return len(self._plan.features)

    @property
    def num_rows(self) -> int:
        """Number of rows (known, or counted once; a map that keeps the row count does not run).

        Examples
        --------
        >>> Dataset.from_dict({"a": [1, 2, 3]}).num_rows
        3
        """
        return self._plan.row_count()

    def __len__(self) -> int:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        will_be_read_by_workers(self._plan, caller)  # a DataLoader's sampler: see materialize
        return self.num_rows

    @property
    def shape(self) -> tuple[int, int]:
        """``(num_rows, num_columns)``.

        Examples
        --------
        >>> Dataset.from_dict({"a": [1, 2]}).shape
        (2, 1)
        """
        return (self.num_rows, self.num_columns)

    def explain(self, *, optimized: bool = True, **kwargs: Any) -> str:
        """The Polars query plan; the optimized plan shows what was pushed into the scan.

        Parameters
        ----------
        optimized
            Show the optimized plan (what reaches the scan) instead of the naive one.
        **kwargs
            Passed to :meth:`polars.LazyFrame.explain` (``format="tree"``, ``engine=``, ...).

        Examples
        --------
        >>> ds = Dataset.from_dict({"a": [1]}).filter(pl.col("a") > 0)
        >>> print(ds.explain())  # doctest: +ELLIPSIS
        FILTER ...
        """
        return self._plan.lf.explain(optimized=optimized, **kwargs)

    def __repr__(self) -> str:
        split = f"\n    split: {self._split!r}," if self._split else ""
        return (
            f"Dataset({{{split}\n    features: {self.column_names},\n"
            f"    num_rows: {rows_label(self._plan)}\n}})"
        )

    def _repr_html_(self) -> str:
        return dataset_html(self._plan, self._split)

    @property
    def format(self) -> dict[str, Any]:
        """The output format, as ``datasets`` reports it: ``type`` (``None`` for python),
        ``format_kwargs``, ``columns`` and ``output_all_columns``.

        Examples
        --------
        >>> Dataset.from_dict({"a": [1]}).with_format("numpy").format["type"]
        'numpy'
        """
        return self._format_dict()

    # ------------------------------------------------------------------ access
    def __getitem__(self, key: int | slice | str | Sequence[int] | np.ndarray) -> Any:
        """``ds[i]`` a row, ``ds[a:b]`` / ``ds[[i, j]]`` a dict of columns, ``ds["col"]`` a list."""
        fmt = self._format
        plan = self._plan
        if isinstance(key, str):
            plan.check_columns(key)
            return self._format_column(collect_rows(plan, [key]), key)
        features = self._output_features()
        if isinstance(key, (bool, np.bool_)):
            raise TypeError(
                "dataset index must be int, str, slice or collection of int, "
                f"not {type(key).__name__}"
            )
        if hasattr(key, "to_numpy") and not isinstance(key, np.ndarray):
            key = key.to_numpy()  # a pandas or Polars Series of positions
        if isinstance(key, (int, np.integer)):
            index = int(key)
            n = plan.row_count()
            if not -n <= index < n:
                raise IndexError(f"Index {index} is out of range for a dataset of {n} rows.")
            positions = np.array([index % n])
            if fmt == "python" and self._transform is None and not self._output_all_columns:
                rows = take_python_rows(plan, positions, list(features))
                if rows is not None:
                    return rows[0]
            frame = take_rows(plan, positions, list(features))
            return self._format_frame(frame, features, fmt, index % n, row=True)
        if isinstance(key, slice):
            start, stop, step = key.indices(plan.row_count())
            indices = np.arange(start, stop, step, dtype=np.int64)
            frame = take_rows(plan, indices, list(features))
            return self._format_frame(frame, features, fmt, start)
        if isinstance(key, (list, tuple, np.ndarray, range)):
            return self._take(key)
        raise TypeError(
            f"Cannot index a Dataset with {type(key).__name__}; "
            "use an int, a slice, a column name or a list of ints."
        )

    def __getitems__(self, keys: Sequence[int] | np.ndarray) -> list[Any]:
        """The rows at ``keys``, read at once (what torch's DataLoader calls for a batch).

        Examples
        --------
        >>> Dataset.from_dict({"a": [5, 6, 7]}).__getitems__([2, 0])
        [{'a': 7}, {'a': 5}]
        """
        batch = self._take(keys)
        if not isinstance(batch, dict):
            raise TypeError(
                f"__getitems__ needs a format with one value per column, not {self._format!r}."
            )
        count = len(keys)
        return [{name: values[i] for name, values in batch.items()} for i in range(count)]

    def _take(self, keys: Sequence[int] | np.ndarray) -> Any:
        """The rows at ``keys`` as one batch in the output format."""
        plan = self._plan
        n = plan.row_count()
        bad_type = next((i for i in keys if not isinstance(i, (int, np.integer, np.bool_))), None)
        if bad_type is not None:
            raise TypeError(
                f"dataset index must be int, str, slice or collection of int, got {bad_type!r} "
                "in the collection"
            )
        indices = np.asarray([int(i) for i in keys], dtype=np.int64)
        bad = indices[(indices < -n) | (indices >= n)]
        if bad.size:
            raise IndexError(f"Index {int(bad[0])} is out of range for a dataset of {n} rows.")
        indices = np.where(indices < 0, indices + n, indices)
        features = self._output_features()
        return self._format_frame(take_rows(plan, indices, list(features)), features)

    def __iter__(self) -> Iterator[Any]:
        """Iterate rows (dicts, images decoded), reading the plan batch by batch."""
        offset = 0
        features = self._output_features()
        for frame in iter_frames(self._plan, 1000, list(features)):
            if self._transform is None and not self._output_all_columns:
                yield from format_rows(
                    frame, features, self._format, offset, None, self._format_kwargs
                )
            else:  # a transform sees one batch; datasets also calls it row by row
                for i in range(frame.height):
                    yield self._format_frame(
                        frame.slice(i, 1), features, None, offset + i, row=True
                    )
            offset += frame.height
