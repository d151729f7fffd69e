"""``split_dataset_by_node``: the part of a dataset for one process of a distributed run.

Examples
--------
>>> import crucible_polars as cp
>>> ds = cp.Dataset.from_dict({"a": list(range(5))}).to_iterable_dataset()
>>> [r["a"] for r in split_dataset_by_node(ds, 1, 2)]
[1, 3]
"""

from __future__ import annotations

from typing import Any, TypeVar

from crucible_polars.streaming.iterable import IterableDataset
from crucible_polars.streaming.pipeline import NodeStep

T = TypeVar("T")


def split_dataset_by_node(dataset: T, rank: int, world_size: int) -> T:
    """The part of ``dataset`` for the process at ``rank`` among ``world_size`` processes.

    The parts are pairwise disjoint and together hold every row. As in ``datasets``, a
    streaming :class:`~crucible_polars.IterableDataset` gives each rank every
    ``world_size``-th file (shard) when the number of shards divides evenly by
    ``world_size``; otherwise each rank keeps every ``world_size``-th row (or batch) of the
    whole stream, skipping the others, so ranks get the same number of rows, give or take
    one, and none waits for the others at the end of an epoch. The split applies to the
    whole pipeline, whatever was applied before or after it. A
    :class:`~crucible_polars.Dataset` gives each rank a contiguous block of rows, as
    ``datasets`` does. Shuffle with the same ``seed`` on every rank.

    Parameters
    ----------
    dataset
        An ``IterableDataset`` or a ``Dataset``.
    rank
        This process's rank, in ``[0, world_size)``.
    world_size
        The number of processes.

    Raises
    ------
    ValueError
        ``rank`` out of range, or ``world_size`` not positive.

    Examples
    --------
    >>> import crucible_polars as cp
    >>> ds = cp.Dataset.from_dict({"a": list(range(15))}).to_iterable_dataset(num_shards=3)
    >>> [len(list(split_dataset_by_node(ds, rank, 2))) for rank in range(2)]
    [8, 7]
    """
    if not isinstance(world_size, int) or world_size < 1:
        raise ValueError(f"world_size must be a positive integer, got {world_size!r}.")
    if not isinstance(rank, int) or not 0 <= rank < world_size:
        raise ValueError(f"rank must be in [0, {world_size - 1}], got {rank!r}.")
    if isinstance(dataset, IterableDataset):
        split: Any = dataset._derive(NodeStep(world_size, rank))
        return split
    shard: Any = getattr(dataset, "shard", None)
    if shard is None:
        raise TypeError(f"Cannot split a {type(dataset).__name__} by node.")
    result: T = shard(num_shards=world_size, index=rank, contiguous=True)
    return result
