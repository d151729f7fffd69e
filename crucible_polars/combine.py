"""``concatenate_datasets`` and ``interleave_datasets``: several datasets into one.

The row logic is :mod:`crucible_polars.ops.combine` and :mod:`crucible_polars.ops.interleave`
(over plans); this module checks the arguments and carries info, split and output format.
Streams (:class:`~crucible_polars.IterableDataset`) are joined by
:mod:`crucible_polars.streaming.mixing`.

Examples
--------
>>> from crucible_polars import Dataset
>>> a, b = Dataset.from_dict({"x": [0, 1, 2]}), Dataset.from_dict({"x": [10, 11]})
>>> interleave_datasets([a, b])["x"]
[0, 10, 1, 11]
>>> interleave_datasets([a, b], stopping_strategy="all_exhausted")["x"]
[0, 10, 1, 11, 2, 10]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crucible_polars.dataset import Dataset
from crucible_polars.info import DatasetInfo
from crucible_polars.ops.combine import concatenate_plans
from crucible_polars.ops.interleave import interleave_plans
from crucible_polars.streaming.iterable import IterableDataset
from crucible_polars.streaming.mixing import concatenate_iterable, interleave_iterable


def _check_datasets(dsets: Sequence[object]) -> list[Dataset]:
    for i, ds in enumerate(dsets):
        if not isinstance(ds, Dataset):
            raise ValueError(
                f"Expected a list of Dataset objects, but element at position {i} is a "
                f"{type(ds).__name__}."
                + (f" Pick one of its splits {list(ds)}." if isinstance(ds, Mapping) else "")
            )
    return [ds for ds in dsets if isinstance(ds, Dataset)]


def concatenate_datasets(
    dsets: Sequence[Dataset] | Sequence[IterableDataset],
    axis: int = 0,
    *,
    info: DatasetInfo | None = None,
    split: str | None = None,
) -> Any:
    """Concatenate datasets: rows (``axis=0``) or columns (``axis=1``), as ``datasets`` does.

    Along rows, the Features are aligned like ``datasets``: columns missing from a dataset
    are null there, and a shared column must have one type (``Value("null")`` gives way).
    Along columns, names must be unique and the datasets must have the same number of rows
    (streams are read in step; one that ends first leaves its columns null, as ``datasets``
    does for examples). Datasets known to be empty are left out (as ``datasets`` leaves them out).

    Parameters
    ----------
    dsets
        The datasets.
    axis
        ``0`` to stack rows, ``1`` to put columns side by side.
    info, split
        Info and split name of the result (default: the first dataset's).

    Raises
    ------
    ValueError
        No datasets, features that cannot be aligned, or different row counts (``axis=1``).
    DuplicateColumnError
        ``axis=1`` with a column name in two datasets.

    Examples
    --------
    >>> a, b = Dataset.from_dict({"x": [1]}), Dataset.from_dict({"x": [2], "y": ["b"]})
    >>> concatenate_datasets([a, b]).to_dict()
    {'x': [1, 2], 'y': [None, 'b']}
    >>> concatenate_datasets([a, Dataset.from_dict({"z": [0]})], axis=1)[0]
    {'x': 1, 'z': 0}
    """
    if not dsets:
        raise ValueError("Unable to concatenate an empty list of datasets.")
    if any(isinstance(ds, IterableDataset) for ds in dsets):
        return concatenate_iterable(dsets, axis, info=info, split=split)  # type: ignore[arg-type]
    tables = _check_datasets(dsets)
    plan = concatenate_plans([ds.plan for ds in tables], axis)
    first = tables[0]
    kept = [ds for ds in tables if ds.plan.known_rows() != 0] or [first]
    formats = {_format_of(ds) for ds in kept}
    same = len(formats) == 1
    fmt, columns = _format_of(kept[0])
    return Dataset.from_plan(
        plan,
        info=info if info is not None else first.info,
        split=split if split is not None else first.split,
        format=fmt if same else None,
        format_columns=list(columns) if same and axis == 0 and columns is not None else None,
    )


def _format_of(ds: Dataset) -> tuple[str | None, tuple[str, ...] | None]:
    """A dataset's output format and its columns (``None``: every column)."""
    columns = ds.format["columns"]
    return ds.format["type"], None if columns == ds.column_names else tuple(columns)


def interleave_datasets(
    datasets: Sequence[Dataset] | Sequence[IterableDataset],
    probabilities: Sequence[float] | None = None,
    seed: int | None = None,
    stopping_strategy: str = "first_exhausted",
    *,
    info: DatasetInfo | None = None,
    split: str | None = None,
) -> Any:
    """Interleave the rows of several datasets into one, in ``datasets``' order for a seed.

    Parameters
    ----------
    datasets
        The datasets; their Features are aligned as in :func:`concatenate_datasets`.
    probabilities
        Sample each next row's source with these probabilities (summing to 1); ``None``
        cycles through the sources.
    seed
        Seed of the source draws (``np.random.default_rng(seed)``).
    stopping_strategy
        ``"first_exhausted"`` (default), ``"all_exhausted"`` (oversample the shorter ones) or
        ``"all_exhausted_without_replacement"`` (every row exactly once).
    info, split
        Info and split name of the result (default: the first dataset's).

    Raises
    ------
    ValueError
        No datasets, an unknown strategy, probabilities that are not one per dataset or do
        not sum to 1, or an empty dataset that may be sampled.

    Examples
    --------
    >>> d1 = Dataset.from_dict({"a": [0, 1, 2]})
    >>> d2 = Dataset.from_dict({"a": [10, 11, 12]})
    >>> d3 = Dataset.from_dict({"a": [20, 21, 22]})
    >>> interleave_datasets([d1, d2, d3], probabilities=[0.7, 0.2, 0.1], seed=42)["a"]
    [10, 0, 11, 1, 2]
    """
    if not datasets:
        raise ValueError("Unable to interleave an empty list of datasets.")
    if any(isinstance(ds, IterableDataset) for ds in datasets):
        return interleave_iterable(
            datasets,  # type: ignore[arg-type]
            probabilities,
            seed,
            stopping_strategy,
            info=info,
            split=split,
        )
    tables = _check_datasets(datasets)
    plan = interleave_plans([ds.plan for ds in tables], probabilities, seed, stopping_strategy)
    combined = concatenate_datasets(tables, info=info, split=split)
    fmt, columns = _format_of(combined)
    return Dataset.from_plan(
        plan,
        info=combined.info,
        split=combined.split,
        format=fmt,
        format_columns=None if columns is None else list(columns),
    )
