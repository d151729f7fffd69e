"""Combining plans: concatenation and split expressions (``train[:10%]+test``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from crucible_polars.features import Features, LargeList, List, Value, feature_to_polars
from crucible_polars.ops.columns import check_unique_names
from crucible_polars.plan import Plan
from crucible_polars.resolve.splits import SplitSlice


def _is_null_feature(feature: Any) -> bool:
    """``Value("null")``, or a list of it (what a column of only nulls/empty lists infers)."""
    if isinstance(feature, Value) and feature.dtype == "null":
        return True
    if isinstance(feature, (List, LargeList)):
        return _is_null_feature(feature.feature)
    return False


def align_features(features_list: Sequence[Features]) -> Features:
    """The Features of ``datasets``' row concatenation: shared columns must agree.

    Every column appears once, in order of first appearance; a ``Value("null")`` (or a list
    of it) gives way to the other datasets' type, recursively inside dicts.

    Raises
    ------
    ValueError
        A column whose types differ (and neither is null), as ``datasets`` raises.

    Examples
    --------
    >>> align_features([Features({"a": Value("null")}), Features({"a": Value("int64")})])
    Features({'a': Value('int64')})
    """
    merged: dict[str, Any] = {}
    bare_null = Value("null")
    for features in features_list:
        for name, feature in features.items():
            if name not in merged or (_is_null_feature(merged[name]) and feature != bare_null):
                merged[name] = feature  # a List(Value("null")) says more than Value("null")
    for features in features_list:
        for name, feature in features.items():
            known = merged[name]
            if isinstance(feature, dict) and isinstance(known, dict):
                merged[name] = dict(align_features([Features(known), Features(feature)]))
            elif not _is_null_feature(feature) and known != feature:
                raise ValueError(
                    f"The features can't be aligned because the key {name} of features "
                    f"{features} has unexpected type - {feature} (expected either {known} or "
                    'Value("null").'
                )
    return Features(merged)


def with_columns_of(lf: pl.LazyFrame, features: Features) -> pl.LazyFrame:
    """``lf`` with exactly the columns of ``features`` (missing ones null), cast to them.

    Parameters
    ----------
    lf
        The frame.
    features
        The columns wanted, in order, and their types.

    Examples
    --------
    >>> lf = pl.LazyFrame({"a": [1]})
    >>> features = Features({"b": Value("string"), "a": Value("float64")})
    >>> with_columns_of(lf, features).collect().row(0)
    (None, 1.0)
    """
    schema = lf.collect_schema()
    exprs = []
    for name, feature in features.items():
        dtype = feature_to_polars(feature)
        if name not in schema:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
        elif schema[name] != dtype:
            exprs.append(pl.col(name).cast(dtype))
        else:
            exprs.append(pl.col(name))
    return lf.select(exprs)


def concatenate_plans(plans: Sequence[Plan], axis: int = 0) -> Plan:
    """Concatenate plans: rows (``axis=0``) or columns (``axis=1``), as ``datasets`` does.

    Along rows, the Features are aligned like ``datasets``: columns missing from a plan
    are null there, and a shared column must have one type (``Value("null")`` gives way).
    Along columns, names must be unique and the plans must have the same number of rows.
    Plans known to be empty are left out (as ``datasets`` leaves them out).

    Parameters
    ----------
    plans
        At least one plan.
    axis
        ``0`` to stack rows, ``1`` to put columns side by side.

    Raises
    ------
    ValueError
        No plans, features that cannot be aligned, or different row counts (``axis=1``).
    DuplicateColumnError
        ``axis=1`` with a column name in two plans.

    Examples
    --------
    >>> a = Plan.from_frame(pl.DataFrame({"x": [1]}))
    >>> b = Plan.from_frame(pl.DataFrame({"x": [2], "y": ["b"]}))
    >>> concatenate_plans([a, b]).collect().to_dicts()
    [{'x': 1, 'y': None}, {'x': 2, 'y': 'b'}]
    """
    if not plans:
        raise ValueError("Unable to concatenate an empty list of datasets.")
    if axis not in (0, 1):
        raise ValueError(f"axis must be 0 or 1, got {axis}.")
    nonempty = [plan for plan in plans if plan.known_rows() != 0]
    if not nonempty:
        return plans[0]
    plans = nonempty
    diagnose = tuple(d for plan in plans for d in plan.diagnose)
    counts = [plan.known_rows() for plan in plans]
    if axis == 0:
        features = align_features([plan.features for plan in plans])
        lf = pl.concat([with_columns_of(plan.lf, features) for plan in plans], how="vertical")
        total = sum(c for c in counts if c is not None) if None not in counts else None
    else:
        check_unique_names(
            [c for plan in plans for c in plan.features], "concatenate_datasets(axis=1)"
        )
        rows = [plan.row_count() for plan in plans]
        if len(set(rows)) > 1:
            raise ValueError(
                "Number of rows must match for all datasets to concatenate along columns; got "
                f"{rows}."
            )
        lf = pl.concat([plan.lf for plan in plans], how="horizontal")
        features = Features({k: v for plan in plans for k, v in plan.features.items()})
        total = rows[0]
    sources = tuple(dict.fromkeys(s for plan in plans for s in plan.sources))
    return Plan(lf, features, num_rows=total, diagnose=diagnose, sources=sources)


def apply_split_terms(plans: Mapping[str, Plan], terms: Sequence[SplitSlice]) -> Plan:
    """Apply a parsed split expression (slices, then concatenation) to loaded splits.

    Parameters
    ----------
    plans
        The plan of each split named in ``terms``.
    terms
        The parsed split expression (:func:`~crucible_polars.resolve.splits.parse_split`).

    Examples
    --------
    >>> from crucible_polars.resolve.splits import parse_split
    >>> plans = {"train": Plan.from_frame(pl.DataFrame({"x": list(range(10))}))}
    >>> apply_split_terms(plans, parse_split("train[:20%]")).collect()["x"].to_list()
    [0, 1]
    """
    parts = []
    for term in terms:
        plan = plans[term.split]
        if not term.is_whole:
            start, stop = term.bounds(plan.row_count())
            rows = max(0, stop - start)
            plan = plan.derive(plan.lf.slice(start, rows), plan.features, num_rows=rows)
        parts.append(plan)
    return parts[0] if len(parts) == 1 else concatenate_plans(parts)
