"""Interleaving: alternate rows of several datasets, in ``datasets``' exact order.

The plans are concatenated (Features aligned as :func:`concatenate_plans` does) and one
gather picks the interleaved rows, so the result stays a lazy plan. The row order is computed
exactly as ``datasets._interleave_map_style_datasets`` computes it: without probabilities the
sources are cycled; with probabilities the source of each row is drawn with
``np.random.default_rng(seed).choice(n, size=1000, p=probabilities)``, block after block, so
the same seed gives the same rows in the same order as ``datasets``.

Examples
--------
>>> import polars as pl
>>> from crucible_polars.plan import Plan
>>> a = Plan.from_frame(pl.DataFrame({"x": [0, 1, 2]}))
>>> b = Plan.from_frame(pl.DataFrame({"x": [10, 11]}))
>>> interleave_plans([a, b]).collect()["x"].to_list()
[0, 10, 1, 11]
>>> interleave_plans([a, b], stopping_strategy="all_exhausted").collect()["x"].to_list()
[0, 10, 1, 11, 2, 10]
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from crucible_polars.ops.combine import concatenate_plans
from crucible_polars.ops.sampling import gather
from crucible_polars.plan import Plan

STOPPING_STRATEGIES = ("first_exhausted", "all_exhausted", "all_exhausted_without_replacement")
"""``first_exhausted`` stops with the first source to run out; ``all_exhausted`` when every
source has been seen whole (restarting the shorter ones); ``all_exhausted_without_replacement``
when every row of every source has been taken once."""

_BLOCK = 1000  # datasets draws the sources 1000 at a time


def check_probabilities(probabilities: Sequence[float], count: int) -> np.ndarray:
    """Probabilities as an array; one per dataset, non-negative, summing to 1.

    The tolerance is NumPy's (``Generator.choice``), so what ``datasets`` accepts we accept.

    Raises
    ------
    ValueError
        A wrong count, a negative value, or a sum other than 1.

    Examples
    --------
    >>> check_probabilities([0.5, 0.5], 2).tolist()
    [0.5, 0.5]
    >>> check_probabilities([0.5, 0.6], 2)
    Traceback (most recent call last):
    ValueError: interleave_datasets: probabilities must sum to 1, got 1.1 for [0.5, 0.6].
    """
    array = np.asarray(probabilities, dtype=np.float64)
    if array.ndim != 1 or array.size != count:
        raise ValueError(
            f"interleave_datasets: got {array.size} probabilities for {count} datasets; "
            "give one per dataset."
        )
    if np.any(array < 0) or not np.all(np.isfinite(array)):
        raise ValueError(
            "interleave_datasets: probabilities must be finite and >= 0, got "
            f"{list(probabilities)}."
        )
    total = float(array.sum())
    if abs(total - 1.0) > np.sqrt(np.finfo(np.float64).eps):
        raise ValueError(
            f"interleave_datasets: probabilities must sum to 1, got {total:.6g} for "
            f"{list(probabilities)}."
        )
    return array


def interleave_indices(
    lengths: Sequence[int],
    probabilities: Sequence[float] | None = None,
    seed: int | None = None,
    stopping_strategy: str = "first_exhausted",
) -> np.ndarray:
    """Row indices into the concatenated datasets, in ``datasets``' interleave order.

    Examples
    --------
    >>> interleave_indices([3, 4, 3], stopping_strategy="all_exhausted_without_replacement")
    array([0, 3, 7, 1, 4, 8, 2, 5, 9, 6])
    >>> interleave_indices([3, 3], [0.5, 0.5], seed=42).tolist()
    [3, 0, 4, 5]
    """
    if stopping_strategy not in STOPPING_STRATEGIES:
        raise ValueError(
            f"{stopping_strategy} is not supported. Please enter a valid stopping_strategy: "
            f"{list(STOPPING_STRATEGIES)}."
        )
    lengths_arr = np.asarray(lengths, dtype=np.int64)
    offsets = np.cumsum([0, *lengths[:-1]]).astype(np.int64)
    n = len(lengths)
    if probabilities is None:
        empty_sources = np.flatnonzero(lengths_arr == 0).tolist()
        if stopping_strategy == "all_exhausted" and empty_sources:
            raise ValueError(
                'interleave_datasets with stopping_strategy="all_exhausted" cannot cycle through '
                f"an empty dataset; datasets at indices {empty_sources} are empty."
            )
        return _cycle(lengths_arr, offsets, stopping_strategy)
    p = check_probabilities(probabilities, n)
    drawable = p > 0
    empty = [i for i in range(n) if lengths[i] == 0 and drawable[i]]
    if empty:
        raise ValueError(
            "interleave_datasets with probabilities requires every dataset that can be sampled "
            f"(probability > 0) to be non-empty; datasets at indices {empty} are empty."
        )
    oversampling = stopping_strategy != "first_exhausted"
    unreachable = [i for i in range(n) if not drawable[i] and lengths[i] > 0]
    if oversampling and unreachable:
        raise ValueError(
            f'interleave_datasets with stopping_strategy="{stopping_strategy}" cannot exhaust '
            f"a dataset that is never sampled; datasets at indices {unreachable} have "
            "probability 0."
        )
    rng = np.random.default_rng(seed)
    if stopping_strategy == "all_exhausted_without_replacement":
        return _draw_without_replacement(lengths_arr, offsets, p, rng)
    blocks = []
    counts = np.zeros(n, dtype=np.int64)
    reached = np.zeros(n, dtype=bool)
    while not (reached[drawable].all() if oversampling else reached[drawable].any()):
        block = rng.choice(n, size=_BLOCK, p=p)
        blocks.append(block)
        counts += np.bincount(block, minlength=n)
        reached = counts >= lengths_arr
    draws = np.concatenate(blocks)
    exhaust_pos = np.full(n, -1, dtype=np.int64)
    for s in range(n):
        if drawable[s]:
            occurrences = np.flatnonzero(draws == s)
            if len(occurrences) >= lengths[s]:
                exhaust_pos[s] = occurrences[lengths[s] - 1]
    valid = exhaust_pos[exhaust_pos >= 0]
    used = draws[: (valid.max() if oversampling else valid.min()) + 1]
    indices = np.empty(len(used), dtype=np.int64)
    for s in range(n):
        if drawable[s]:
            positions = np.flatnonzero(used == s)
            indices[positions] = np.arange(len(positions)) % lengths[s] + offsets[s]
    return indices


def _cycle(lengths: np.ndarray, offsets: np.ndarray, stopping_strategy: str) -> np.ndarray:
    """Round-robin over the sources (no probabilities)."""
    if stopping_strategy == "first_exhausted":
        return (offsets.reshape(1, -1) + np.arange(lengths.min()).reshape(-1, 1)).flatten()
    if stopping_strategy == "all_exhausted":
        rows = np.mod(np.arange(lengths.max()).reshape(-1, 1), lengths.reshape(1, -1))
        return (rows + offsets).flatten()
    chunks = []
    bounds = [0, *sorted(set(lengths.tolist()))]
    live_lengths, live_offsets = lengths, offsets
    for start, end in itertools.pairwise(bounds):
        chunks.append(
            (live_offsets.reshape(1, -1) + np.arange(start, end).reshape(-1, 1)).flatten()
        )
        keep = live_lengths != end
        live_lengths, live_offsets = live_lengths[keep], live_offsets[keep]
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)


def _draw_without_replacement(
    lengths: np.ndarray, offsets: np.ndarray, p: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draw sources until every one is exhausted, skipping exhausted ones (no wrap-around)."""
    n = len(lengths)
    current = np.zeros(n, dtype=np.int64)
    exhausted = lengths <= current
    out: list[int] = []
    while not exhausted.all():
        for source in rng.choice(n, size=_BLOCK, p=p):
            if exhausted.all():
                break
            if not exhausted[source]:
                out.append(int(current[source] + offsets[source]))
                current[source] += 1
            if current[source] >= lengths[source]:
                exhausted[source] = True
    return np.asarray(out, dtype=np.int64)


def interleave_plans(
    plans: Sequence[Plan],
    probabilities: Sequence[float] | None = None,
    seed: int | None = None,
    stopping_strategy: str = "first_exhausted",
) -> Plan:
    """Interleave the rows of several plans into one, in ``datasets``' order for a seed.

    Parameters
    ----------
    plans
        The plans; their Features are aligned as in :func:`concatenate_plans`.
    probabilities
        Sample each next row's source with these probabilities (summing to 1); ``None``
        cycles through the sources.
    seed
        Seed of the source draws (``np.random.default_rng(seed)``).
    stopping_strategy
        ``"first_exhausted"`` (default), ``"all_exhausted"`` (oversample the shorter ones) or
        ``"all_exhausted_without_replacement"`` (every row exactly once).

    Raises
    ------
    ValueError
        No plans, an unknown strategy, probabilities that are not one per plan or do
        not sum to 1, or an empty plan that may be sampled.

    Examples
    --------
    >>> import polars as pl
    >>> plans = [Plan.from_frame(pl.DataFrame({"a": [i, i + 1, i + 2]})) for i in (0, 10, 20)]
    >>> interleave_plans(plans, probabilities=[0.7, 0.2, 0.1], seed=42).collect()["a"].to_list()
    [10, 0, 11, 1, 2]
    """
    if not plans:
        raise ValueError("Unable to interleave an empty list of datasets.")
    if stopping_strategy not in STOPPING_STRATEGIES:
        raise ValueError(
            f"{stopping_strategy} is not supported. Please enter a valid stopping_strategy: "
            f"{list(STOPPING_STRATEGIES)}."
        )
    combined = concatenate_plans(list(plans))
    lengths = [plan.row_count() for plan in plans]
    indices = interleave_indices(lengths, probabilities, seed, stopping_strategy)
    return gather(combined, indices)
