"""Row-position transforms: select, take, skip, shard, shuffle and train_test_split.

Every one of them stays in the Polars plan. Contiguous rows become ``LazyFrame.slice`` (which
streams and reaches the scan); any other choice of rows becomes ``LazyFrame.gather`` with an
index array (one integer per selected row; projection still reaches the scan). A dataset made
by a gather remembers its source plan and indices, so a chain such as
``shuffle(seed).select(range(10))`` composes the index arrays and gathers ten rows once.

Randomness is NumPy's, exactly as in ``datasets``: ``shuffle(seed)`` takes
``np.random.default_rng(seed).permutation(len(ds))`` (PCG64, the same on every machine and
NumPy version since 1.17), so the same seed gives the same order as ``datasets``. Without a
seed, a seed is drawn from NumPy's global state as ``datasets`` does, so ``np.random.seed(n)``
makes unseeded shuffles reproducible too.

Every function takes and returns a :class:`~crucible_polars.plan.Plan`.

Examples
--------
>>> import polars as pl
>>> from crucible_polars.plan import Plan
>>> plan = Plan.from_frame(pl.DataFrame({"x": list(range(6))}))
>>> shuffle(plan, seed=42).collect()["x"].to_list()
[3, 2, 5, 4, 1, 0]
>>> shard(plan, num_shards=4, index=0).collect()["x"].to_list()
[0, 1]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from crucible_polars.errors import ColumnNotFoundError
from crucible_polars.features import ClassLabel
from crucible_polars.plan import Gather, Plan, rows_plan


def draw_seed() -> int:
    """A fresh seed from NumPy's global random state, the way ``datasets`` draws one.

    Advances the global state by one step, so two unseeded shuffles differ, and
    ``np.random.seed(n)`` beforehand makes them reproducible.

    Examples
    --------
    >>> _ = np.random.seed(0)
    >>> a = draw_seed()
    >>> _ = np.random.seed(0)
    >>> a == draw_seed()
    True
    """
    state: Any = np.random.get_state()
    keys, pos = state[1], int(state[2])
    seed = keys[pos] if pos < 624 else keys[0]
    np.random.random()
    return int(seed)


def _rng(seed: int | None, generator: np.random.Generator | None) -> np.random.Generator:
    if seed is not None and generator is not None:
        raise ValueError(
            "Both `seed` and `generator` were provided. Please specify just one of them."
        )
    if generator is not None:
        if not isinstance(generator, np.random.Generator):
            raise ValueError("The provided generator must be an instance of numpy.random.Generator")
        return generator
    return np.random.default_rng(draw_seed() if seed is None else seed)


def index_array(indices: Iterable[Any], num_rows: int) -> np.ndarray:
    """Validate row indices (negative ones count from the end) into an ``int64`` array.

    Raises
    ------
    IndexError
        An index outside ``[-num_rows, num_rows)``, as ``datasets`` raises.

    Examples
    --------
    >>> index_array([0, -1], 5).tolist()
    [0, 4]
    """
    if isinstance(indices, pl.Series):
        array = indices.to_numpy()
    elif isinstance(indices, np.ndarray):
        array = indices
    elif isinstance(indices, range):
        array = np.arange(indices.start, indices.stop, indices.step, dtype=np.int64)
    elif hasattr(indices, "to_numpy"):  # pyarrow arrays
        array = np.asarray(indices.to_numpy())
    else:
        array = np.fromiter((int(i) for i in indices), dtype=np.int64)
    if array.ndim != 1:
        raise ValueError(f"Indices must be one-dimensional, got shape {array.shape}.")
    if array.size and array.dtype.kind not in "iu":
        raise TypeError(f"Indices must be integers, got {array.dtype}.")
    array = array.astype(np.int64, copy=False)
    if array.size:
        low, high = int(array.min()), int(array.max())
        for bad in (low, high):
            if bad >= num_rows or bad < -num_rows:
                raise IndexError(f"Index {bad} out of range for dataset of size {num_rows}.")
        if low < 0:
            array = np.where(array < 0, array + num_rows, array)
    return array


def _is_contiguous(array: np.ndarray) -> bool:
    return bool(
        array.size == 0
        or (
            int(array[-1]) - int(array[0]) == array.size - 1
            and (array.size == 1 or bool(np.all(np.diff(array) == 1)))
        )
    )


def gather(plan: Plan, indices: np.ndarray) -> Plan:
    """The rows of ``plan`` at ``indices`` (validated, non-negative), in that order.

    Composes with an earlier gather, so only one gather reaches the plan; the rows are then
    taken from the base plan's materialized rows when they are read
    (:func:`crucible_polars.materialize.take_rows`).

    Examples
    --------
    >>> plan = Plan.from_frame(pl.DataFrame({"x": [5, 6, 7]}))
    >>> gather(plan, np.array([2, 0])).collect()["x"].to_list()
    [7, 5]
    """
    base = plan if plan.gather is None else plan.gather.base
    return _gather_on(base, indices if plan.gather is None else plan.gather.indices[indices], plan)


def _gather_on(base: Plan, indices: np.ndarray, plan: Plan) -> Plan:
    """``base`` at ``indices`` (already composed), with ``plan``'s features."""
    if _is_contiguous(indices) and base.table is None:  # a slice streams and reaches the scan
        start = int(indices[0]) if indices.size else 0
        return base.derive(base.lf.slice(start, indices.size), plan.features, num_rows=indices.size)
    lf = base.lf.gather(pl.Series(indices, dtype=pl.Int64))
    out = base.derive(lf, plan.features, num_rows=int(indices.size))
    return out.with_gather(Gather(base, indices))


def keep_gather(
    src: Plan,
    out: Plan,
    change: Callable[[pl.LazyFrame], pl.LazyFrame],
    table_change: Callable[[pa.Table], pa.Table] | None = None,
) -> Plan:
    """Carry ``src``'s pending gather over a column-only ``change`` (projection, rename).

    ``table_change`` is the same change on materialized Arrow rows; without it, the base's
    materialized rows are not carried (they are made again for the changed base if needed).

    Examples
    --------
    >>> plan = select(Plan.from_frame(pl.DataFrame({"a": [1, 2], "b": [3, 4]})), [1, 0])
    >>> out = keep_gather(plan, plan.derive(plan.lf.select("a")), lambda lf: lf.select("a"))
    >>> out.gather is not None
    True
    """
    if src.gather is None:
        return out
    base = src.gather.base
    changed = base.derive(change(base.lf), out.features, num_rows=base.known_rows())
    if base.table is not None and table_change is not None:
        changed = rows_plan(table_change(base.table), out.features, base.sources)
    return out.with_gather(Gather(changed, src.gather.indices))


def _slice(plan: Plan, start: int, stop: int | None) -> Plan:
    """Rows ``[start, stop)``; ``stop=None`` runs to the end (no row count needed)."""
    if plan.gather is not None:  # a slice of the indices: a view, nothing composed
        return _gather_on(plan.gather.base, plan.gather.indices[start:stop], plan)
    if plan.table is not None:
        return gather(plan, np.arange(plan.row_count())[start:stop])
    length = None if stop is None else max(0, stop - start)
    known = plan.known_rows()
    if known is not None:
        end = known if stop is None else min(stop, known)
        rows: int | None = max(0, end - min(start, known))
    else:
        rows = None
    return plan.derive(plan.lf.slice(start, length), plan.features, num_rows=rows)


def select(plan: Plan, indices: Iterable[Any]) -> Plan:
    """The rows at ``indices``, in the given order (repeats allowed), like ``datasets.select``.

    Examples
    --------
    >>> select(Plan.from_frame(pl.DataFrame({"x": [5, 6, 7]})), [2, 2, 0]).collect()["x"].to_list()
    [7, 7, 5]
    """
    if isinstance(indices, Iterator):
        indices = list(indices)
    return gather(plan, index_array(indices, plan.row_count()))


def take(plan: Plan, n: int) -> Plan:
    """The first ``n`` rows (all of them when ``n`` is larger); no row count needed.

    Examples
    --------
    >>> take(Plan.from_frame(pl.DataFrame({"x": [5, 6, 7]})), 2).collect()["x"].to_list()
    [5, 6]
    """
    if int(n) < 0:
        raise ValueError(f"take(n) needs n >= 0, got {n}.")
    return _slice(plan, 0, int(n))


def skip(plan: Plan, n: int) -> Plan:
    """All rows but the first ``n``; no row count needed.

    Examples
    --------
    >>> skip(Plan.from_frame(pl.DataFrame({"x": [5, 6, 7]})), 2).collect()["x"].to_list()
    [7]
    """
    if int(n) < 0:
        raise ValueError(f"skip(n) needs n >= 0, got {n}.")
    return _slice(plan, int(n), None)


def shard(plan: Plan, num_shards: int, index: int, contiguous: bool = True) -> Plan:
    """The ``index``-th of ``num_shards`` shards: the same rows ``datasets.Dataset.shard`` gives.

    Contiguous shards are blocks whose sizes differ by at most one (the first
    ``len % num_shards`` shards get one more row); otherwise shard ``i`` holds the rows
    ``i, i + num_shards, ...``.

    Raises
    ------
    ValueError
        ``index`` not in ``[0, num_shards)``.

    Examples
    --------
    >>> plan = Plan.from_frame(pl.DataFrame({"x": list(range(7))}))
    >>> [shard(plan, 3, i).collect()["x"].to_list() for i in range(3)]
    [[0, 1, 2], [3, 4], [5, 6]]
    >>> shard(plan, 3, 1, contiguous=False).collect()["x"].to_list()
    [1, 4]
    """
    if not isinstance(num_shards, (int, np.integer)) or num_shards < 1:
        raise ValueError(f"num_shards must be a positive integer, got {num_shards!r}.")
    if not 0 <= index < num_shards:
        raise ValueError(
            f"Shard index {index} is out of range: with num_shards={num_shards}, "
            f"index should be in [0, {num_shards - 1}]."
        )
    if not contiguous:
        if plan.gather is not None or plan.table is not None:
            return gather(plan, np.arange(plan.row_count())[index::num_shards])
        n = plan.known_rows()
        rows = None if n is None else len(range(index, n, num_shards))
        return plan.derive(plan.lf.gather_every(num_shards, index), plan.features, num_rows=rows)
    n = plan.row_count()
    div, mod = divmod(n, num_shards)
    start = div * index + min(index, mod)
    stop = start + div + (1 if index < mod else 0)
    return _slice(plan, start, stop)


def shuffle(
    plan: Plan, seed: int | None = None, generator: np.random.Generator | None = None
) -> Plan:
    """Rows in a random order: ``np.random.default_rng(seed).permutation(len(ds))``.

    The same permutation ``datasets`` uses for the same seed, on every run and machine.

    Examples
    --------
    >>> plan = Plan.from_frame(pl.DataFrame({"x": list(range(5))}))
    >>> shuffle(plan, seed=0).collect()["x"].to_list()
    [2, 4, 3, 0, 1]
    """
    n = plan.row_count()
    rng = _rng(seed, generator)
    if n == 0:
        return plan
    return gather(plan, rng.permutation(n))


def _check_size(name: str, size: float | int | None, n_samples: int) -> None:
    if size is None:
        return
    if isinstance(size, bool) or not isinstance(size, (int, float, np.integer, np.floating)):
        raise ValueError(f"Invalid value for {name}: {size} of type {type(size)}")
    if isinstance(size, (int, np.integer)):
        bad = size >= n_samples or size <= 0
    else:
        bad = size <= 0 or size >= 1
    if bad:
        raise ValueError(
            f"{name}={size} should be either positive and smaller "
            f"than the number of samples {n_samples} or a float in the (0, 1) range"
        )


def split_sizes(
    n_samples: int, test_size: float | int | None, train_size: float | int | None
) -> tuple[int, int]:
    """``(n_train, n_test)`` as ``datasets.train_test_split`` computes them, with its errors.

    A float ``test_size`` rounds up and a float ``train_size`` rounds down; with neither,
    ``test_size=0.25``.

    Raises
    ------
    ValueError
        Sizes outside ``(0, n)`` or ``(0, 1)``, sizes that add up to more than the dataset,
        or an empty train split.

    Examples
    --------
    >>> split_sizes(10, 0.25, None)
    (7, 3)
    >>> split_sizes(10, None, 0.55)
    (5, 5)
    """
    if test_size is None and train_size is None:
        test_size = 0.25
    _check_size("test_size", test_size, n_samples)
    _check_size("train_size", train_size, n_samples)
    if (
        isinstance(train_size, float)
        and isinstance(test_size, float)
        and train_size + test_size > 1
    ):
        raise ValueError(
            f"The sum of test_size and train_size = {train_size + test_size}, should be in the "
            "(0, 1) range. Reduce test_size and/or train_size."
        )
    n_test = (
        None
        if test_size is None
        else math.ceil(test_size * n_samples)
        if isinstance(test_size, float)
        else int(test_size)
    )
    n_train = (
        None
        if train_size is None
        else math.floor(train_size * n_samples)
        if isinstance(train_size, float)
        else int(train_size)
    )
    if n_train is None:
        assert n_test is not None
        n_train = n_samples - n_test
    elif n_test is None:
        n_test = n_samples - n_train
    if n_train + n_test > n_samples:
        raise ValueError(
            f"The sum of train_size and test_size = {n_train + n_test}, should be smaller than "
            f"the number of samples {n_samples}. Reduce test_size and/or train_size."
        )
    if n_train == 0:
        raise ValueError(
            f"With n_samples={n_samples}, test_size={test_size} and train_size={train_size}, the "
            "resulting train set will be empty. Adjust any of the aforementioned parameters."
        )
    return n_train, n_test


def train_test_split(
    plan: Plan,
    test_size: float | int | None = None,
    train_size: float | int | None = None,
    shuffle: bool = True,
    stratify_by_column: str | None = None,
    seed: int | None = None,
    generator: np.random.Generator | None = None,
) -> tuple[Plan, Plan]:
    """Split into ``(train, test)``, with the sizes, rows and order ``datasets`` gives.

    Random splits take ``permutation[:n_test]`` as test and the next ``n_train`` rows as
    train; stratified splits follow ``datasets``' port of scikit-learn's
    ``StratifiedShuffleSplit``, drawing from the same generator.

    Examples
    --------
    >>> plan = Plan.from_frame(pl.DataFrame({"x": list(range(10))}))
    >>> train, test = train_test_split(plan, test_size=0.2, seed=0)
    >>> train.collect()["x"].to_list(), test.collect()["x"].to_list()
    ([2, 7, 3, 5, 9, 0, 8, 1], [4, 6])
    """
    n_samples = plan.row_count()
    if n_samples == 0:
        return plan, plan
    n_train, n_test = split_sizes(n_samples, test_size, train_size)
    if not shuffle:
        if stratify_by_column is not None:
            raise ValueError("Stratified train/test split is not implemented for `shuffle=False`")
        train_indices = np.arange(n_train)
        test_indices = np.arange(n_train, n_train + n_test)
    else:
        rng = _rng(seed, generator)
        if stratify_by_column is not None:
            if stratify_by_column not in plan.features:
                raise ColumnNotFoundError(stratify_by_column, list(plan.features))
            feature = plan.features[stratify_by_column]
            if not isinstance(feature, ClassLabel):
                raise ValueError(
                    f"Stratifying by column is only supported for ClassLabel column, and column "
                    f"{stratify_by_column} is {type(feature).__name__}. Encode it first with "
                    f"ds.class_encode_column({stratify_by_column!r})."
                )
            labels = plan.collect(plan.lf.select(stratify_by_column)).to_series().to_numpy()
            train_indices, test_indices = stratified_indices(labels, n_train, n_test, rng)
        else:
            permutation = rng.permutation(n_samples)
            test_indices = permutation[:n_test]
            train_indices = permutation[n_test : n_test + n_train]
    return (
        gather(plan, np.asarray(train_indices, dtype=np.int64)),
        gather(plan, np.asarray(test_indices, dtype=np.int64)),
    )


def _approximate_mode(
    class_counts: np.ndarray, n_draws: int, rng: np.random.Generator
) -> np.ndarray:
    """Approximate mode of the multivariate hypergeometric (scikit-learn, via ``datasets``)."""
    continuous = n_draws * class_counts / class_counts.sum()
    floored = np.floor(continuous)
    need_to_add = int(n_draws - floored.sum())
    if need_to_add > 0:
        remainder = continuous - floored
        values = np.sort(np.unique(remainder))[::-1]
        for value in values:
            (inds,) = np.where(remainder == value)
            add_now = min(len(inds), need_to_add)
            inds = rng.choice(inds, size=add_now, replace=False)
            floored[inds] += 1
            need_to_add -= add_now
            if need_to_add == 0:
                break
    return floored.astype(np.int64)


def stratified_indices(
    labels: np.ndarray, n_train: int, n_test: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test row indices keeping each class's share, as ``datasets`` draws them.

    A port of ``datasets.utils.stratify`` (itself from scikit-learn's
    ``StratifiedShuffleSplit``), consuming the generator in the same order, so the same seed
    gives the same rows.

    Raises
    ------
    ValueError
        A class with a single member, or fewer train/test rows than classes.

    Examples
    --------
    >>> train, test = stratified_indices(np.array([0, 0, 1, 1]), 2, 2, np.random.default_rng(0))
    >>> sorted(np.concatenate([train, test]).tolist())
    [0, 1, 2, 3]
    """
    classes, y_indices = np.unique(labels, return_inverse=True)
    n_classes = classes.shape[0]
    class_counts = np.bincount(y_indices)
    if np.min(class_counts) < 2:
        raise ValueError(
            "The least populated class in the stratify column has only 1 member, which is too "
            "few. The minimum number of groups for any class cannot be less than 2."
        )
    if n_train < n_classes:
        raise ValueError(
            f"The train_size = {n_train} should be greater or equal to the number of "
            f"classes = {n_classes}"
        )
    if n_test < n_classes:
        raise ValueError(
            f"The test_size = {n_test} should be greater or equal to the number of "
            f"classes = {n_classes}"
        )
    class_indices = np.split(np.argsort(y_indices, kind="mergesort"), np.cumsum(class_counts)[:-1])
    n_i = _approximate_mode(class_counts, n_train, rng)
    t_i = _approximate_mode(class_counts - n_i, n_test, rng)
    train: list[int] = []
    test: list[int] = []
    for i in range(n_classes):
        permutation = rng.permutation(class_counts[i])
        members = class_indices[i].take(permutation, mode="clip")
        train.extend(members[: n_i[i]])
        test.extend(members[n_i[i] : n_i[i] + t_i[i]])
    return rng.permutation(train), rng.permutation(test)
