"""Column transforms with ``datasets``' semantics: rename, add, sort, unique, encode, flatten.

Each builds a longer Polars plan and says how the Features change; none collects data except
``unique`` (which returns values) and ``class_encode_column`` (which needs the labels).

Every function takes and returns a :class:`~crucible_polars.plan.Plan`.

Examples
--------
>>> from crucible_polars.plan import Plan
>>> plan = Plan.from_frame(pl.DataFrame({"label": ["pos", "neg", "pos"], "n": [3, 1, 2]}))
>>> class_encode_column(plan, "label").features["label"]
ClassLabel(names=['neg', 'pos'])
>>> sort(plan, "n").collect()["n"].to_list()
[1, 2, 3]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from crucible_polars.errors import CrucibleError, DuplicateColumnError, FeatureCastError
from crucible_polars.features import (
    ClassLabel,
    Features,
    Image,
    Value,
    cast_lazyframe,
    find_cast_error,
)
from crucible_polars.features.media import encode_image
from crucible_polars.ops.sampling import keep_gather
from crucible_polars.plan import Plan
from crucible_polars.udf.values import is_pil_image, values_to_series

if TYPE_CHECKING:
    from crucible_polars.features import FeatureType


def check_unique_names(names: Sequence[str], where: str) -> None:
    """Raise :class:`DuplicateColumnError` if a name appears twice.

    Examples
    --------
    >>> check_unique_names(["a", "b", "a"], "rename_columns")
    Traceback (most recent call last):
    crucible_polars.errors.DuplicateColumnError: rename_columns: column names must be unique, ...
    """
    repeated = [name for name, count in Counter(names).items() if count > 1]
    if repeated:
        raise DuplicateColumnError(repeated, where)


def rename_columns(plan: Plan, mapping: Mapping[str, str]) -> Plan:
    """Rename columns; Features follow.

    Raises
    ------
    ColumnNotFoundError
        An old name that is not a column.
    DuplicateColumnError
        A new name that is already taken, or given twice.
    ValueError
        An empty new name.

    Examples
    --------
    >>> plan = Plan.from_frame(pl.DataFrame({"a": [1], "b": [2]}))
    >>> list(rename_columns(plan, {"a": "x"}).features)
    ['x', 'b']
    """
    plan.check_columns(list(mapping))
    empty = [old for old, new in mapping.items() if not new]
    if empty:
        raise ValueError(f"New column names for {empty} are empty.")
    names = [mapping.get(c, c) for c in plan.features]
    check_unique_names(names, f"rename_columns({dict(mapping)})")
    features = Features({mapping.get(c, c): f for c, f in plan.features.items()})
    out = plan.derive(plan.lf.rename(dict(mapping)), features, num_rows=plan.known_rows())
    return keep_gather(
        plan, out, lambda lf: lf.rename(dict(mapping)), lambda t: t.rename_columns(names)
    )


def select_columns(plan: Plan, names: Sequence[str]) -> Plan:
    """Keep only ``names``, in that order (a pending gather and its rows are kept).

    Examples
    --------
    >>> plan = Plan.from_frame(pl.DataFrame({"a": [1], "b": [2]}))
    >>> list(select_columns(plan, ["b"]).features)
    ['b']
    """
    names = plan.check_columns(names)
    check_unique_names(names, "select_columns")
    features = Features({c: plan.features[c] for c in names})
    rows = plan.known_rows() if names else 0  # no columns, no rows (as in Arrow)
    out = plan.derive(plan.lf.select(names), features, num_rows=rows)
    return keep_gather(plan, out, lambda lf: lf.select(names), lambda t: t.select(names))


def remove_columns(plan: Plan, names: Sequence[str]) -> Plan:
    """Drop ``names`` (a pending gather and its rows are kept).

    Examples
    --------
    >>> plan = Plan.from_frame(pl.DataFrame({"a": [1], "b": [2]}))
    >>> list(remove_columns(plan, ["a"]).features)
    ['b']
    """
    removed = set(plan.check_columns(names))
    return select_columns(plan, [c for c in plan.features if c not in removed])


def cast(plan: Plan, features: Features) -> Plan:
    """Cast every column to ``features``; a value that does not fit fails the query with an
    error naming the column, row and value (found after the failure, never before).

    Examples
    --------
    >>> from crucible_polars.features import Value
    >>> plan = Plan.from_frame(pl.DataFrame({"a": [1]}))
    >>> cast(plan, Features({"a": Value("float32")})).collect()["a"].dtype
    Float32
    """
    source = plan.lf
    diagnose = partial(_explain_cast, source, Features(features))
    lf = cast_lazyframe(source, features)
    return plan.derive(
        lf, Features(features), num_rows=plan.known_rows(), diagnose=(*plan.diagnose, diagnose)
    )


def _explain_cast(
    source: pl.LazyFrame, features: Features, error: BaseException
) -> CrucibleError | None:
    """After a failed cast: the column, row and value that do not fit (a picklable callback)."""
    return find_cast_error(source, features)


def add_column(plan: Plan, name: str, column: Any, feature: FeatureType | None = None) -> Plan:
    """Append a column of values (list, numpy array, Series) with one value per row.

    Raises
    ------
    DuplicateColumnError
        ``name`` is already a column.
    ValueError
        The number of values is not the number of rows.

    Examples
    --------
    >>> plan = add_column(Plan.from_frame(pl.DataFrame({"a": [1, 2]})), "b", ["x", "y"])
    >>> plan.collect()["b"].to_list()
    ['x', 'y']
    """
    check_unique_names([*plan.features, name], f"add_column({name!r})")
    series = values_to_series(name, column)
    if feature is not None:
        series = cast_lazyframe(series.to_frame().lazy(), {name: feature}).collect()[name]
    n = plan.row_count()
    if len(series) != n:
        raise ValueError(
            f"add_column({name!r}): got {len(series)} values for a dataset of {n} rows; "
            "give one value per row."
        )
    features = plan.features.copy()
    features[name] = (
        feature if feature is not None else Features.from_polars({name: series.dtype})[name]
    )
    lf = pl.concat([plan.lf, pl.LazyFrame([series])], how="horizontal")
    return plan.derive(lf, features, num_rows=n)


def add_item(plan: Plan, item: Mapping[str, Any]) -> Plan:
    """Append one row, cast to the features as ``datasets.Dataset.add_item`` casts it.

    Values are typed as pyarrow types them, then cast to the column's feature (label names
    to ids, a path or bytes to an ``Image``, ``"3"`` to an integer; ``2.5`` to an integer
    is an error, not a truncation). Columns the item lacks are null; columns the dataset
    lacks are added (null in the earlier rows). A PIL image or a numpy array for an
    ``Image`` column is encoded (``datasets`` refuses them).

    Raises
    ------
    FeatureCastError
        A value that does not fit its column's feature (a ``ValueError``).

    Examples
    --------
    >>> plan = Plan.from_frame(pl.DataFrame({"a": [1]}))
    >>> add_item(plan, {"a": "2", "b": "x"}).collect().rows()
    [(1, None), (2, 'x')]
    >>> add_item(plan, {"a": 2.5})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    crucible_polars.errors.FeatureCastError: Column 'a', row 1: value 2.5 does not fit ...
    """
    features = plan.features
    added = [name for name in item if name not in features]
    target = features.copy()
    series = []
    for name in [*features, *added]:
        value = item.get(name)
        image = isinstance(features.get(name), Image)
        if image and (is_pil_image(value) or isinstance(value, np.ndarray)):
            value = encode_image(value)
        column = values_to_series(name, [value])
        if name not in features:
            target[name] = (
                Image() if is_pil_image(value) else Features.from_polars({name: column.dtype})[name]
            )
        series.append(column)
    row = pl.DataFrame(series)
    try:
        row = cast_lazyframe(row.lazy(), target).collect()
    except (FeatureCastError, pl.exceptions.PolarsError) as error:
        found = error if isinstance(error, FeatureCastError) else None
        found = found or find_cast_error(row.lazy(), target)
        if found is None or found.row is None:
            raise found or error from None
        raise FeatureCastError(
            found.column, plan.known_rows(), found.value, found.feature
        ) from None
    lf = plan.lf.with_columns(pl.lit(None, row.schema[name]).alias(name) for name in added)
    lf = pl.concat([lf, row.lazy()], how="vertical")
    known = plan.known_rows()
    return plan.derive(lf, target, num_rows=None if known is None else known + 1)


def _nulls_last(null_placement: str) -> bool:
    placements = {"at_end": True, "last": True, "at_start": False, "first": False}
    if null_placement not in placements:
        raise ValueError(
            f"null_placement '{null_placement}' is an invalid parameter value. Must be either "
            "'last', 'at_end', 'first' or 'at_start'."
        )
    return placements[null_placement]


def sort(
    plan: Plan,
    column_names: str | Sequence[str],
    descending: bool | Sequence[bool] = False,
    null_placement: str = "at_end",
) -> Plan:
    """Stable sort by one or several columns; nulls at the end (``"at_end"``) or start.

    Ties keep their order (as ``datasets``' stable Arrow sort does). NaN goes with the nulls,
    between them and the numbers, as in Arrow.

    Examples
    --------
    >>> plan = Plan.from_frame(pl.DataFrame({"a": [2, None, 1], "b": ["x", "y", "z"]}))
    >>> values = lambda p: p.collect()["a"].to_list()
    >>> values(sort(plan, "a")), values(sort(plan, "a", descending=True, null_placement="first"))
    ([1, 2, None], [None, 2, 1])
    """
    names = plan.check_columns(column_names)
    if isinstance(descending, bool):
        flags = [descending] * len(names)
    else:
        flags = [bool(d) for d in descending]
        if len(flags) != len(names):
            raise ValueError(
                "Parameter 'reverse' should be either a boolean or a list of booleans with the "
                "same length as 'column_names'."
            )
    nulls_last = _nulls_last(null_placement)
    schema = plan.lf.collect_schema()
    keys: list[pl.Expr] = []
    key_flags: list[bool] = []
    for name, flag in zip(names, flags, strict=True):
        col = pl.col(name)
        if schema[name].is_float() and nulls_last:
            # Arrow puts NaN between the numbers and the nulls in both directions; Polars
            # ranks NaN above every number. Ascending, that is the same order; descending,
            # sort the negated numbers ascending (NaN stays NaN, above them).
            keys.append(-col if flag else col)
            key_flags.append(False)
            continue
        if schema[name].is_float():
            # nulls first, then NaN, then the numbers: sort by that class first
            keys.append(
                pl.when(col.is_null())
                .then(pl.lit(0, pl.Int8))
                .when(col.is_nan())
                .then(pl.lit(1, pl.Int8))
                .otherwise(pl.lit(2, pl.Int8))
            )
            key_flags.append(False)
            col = pl.when(col.is_nan()).then(None).otherwise(col)
        keys.append(col)
        key_flags.append(flag)
    lf = plan.lf.sort(keys, descending=key_flags, nulls_last=nulls_last, maintain_order=True)
    return plan.derive(lf, plan.features, num_rows=plan.known_rows())


def unique(plan: Plan, column: str) -> list[Any]:
    """The distinct values of a column, in order of first appearance.

    Examples
    --------
    >>> unique(Plan.from_frame(pl.DataFrame({"a": [2, 1, 2, None]})), "a")
    [2, 1, None]
    """
    plan.check_columns(column)
    lf = plan.lf.select(pl.col(column).unique(maintain_order=True))
    values: list[Any] = plan.run(lambda: lf.collect().to_series().to_list())
    return values


def class_encode_column(plan: Plan, column: str, include_nulls: bool = False) -> Plan:
    """Turn a column into a ``ClassLabel`` whose names are its sorted distinct values.

    Values become strings first (``str(value)``, as ``datasets`` does), so numbers sort as
    text (``'10' < '9'``). Nulls stay null, or become the class ``"None"`` with
    ``include_nulls=True``.

    Raises
    ------
    ValueError
        The column is not a plain ``Value`` column.

    Examples
    --------
    >>> plan = class_encode_column(Plan.from_frame(pl.DataFrame({"y": ["b", "a", "b"]})), "y")
    >>> plan.collect()["y"].to_list(), plan.features["y"].names
    ([1, 0, 1], ['a', 'b'])
    """
    plan.check_columns(column)
    feature = plan.features[column]
    if not isinstance(feature, Value):
        raise ValueError(
            f"Class encoding is only supported for Value column, and column {column} is "
            f"{type(feature).__name__}."
        )
    text = _as_text(pl.col(column), plan.lf.collect_schema()[column])
    if include_nulls:
        text = text.fill_null("None")
    labels = plan.run(
        lambda: plan.lf.select(text.alias(column).unique()).collect().to_series().to_list()
    )
    names = sorted(str(v) for v in labels if v is not None)
    target = ClassLabel(names=names)
    mapping = pl.DataFrame(
        {"__label": names, "__code": list(range(len(names)))},
        schema={"__label": pl.String, "__code": pl.Int64},
    )
    encoded = text.replace_strict(
        mapping["__label"], mapping["__code"], default=None, return_dtype=pl.Int64
    )
    features = plan.features.copy()
    features[column] = target
    lf = plan.lf.with_columns(encoded.alias(column))
    return plan.derive(lf, features, num_rows=plan.known_rows())


def _as_text(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Values as ``str(value)`` gives them in Python (``True``, ``1.0``)."""
    if dtype == pl.String:
        return expr
    if dtype == pl.Boolean:
        return pl.when(expr).then(pl.lit("True")).when(~expr).then(pl.lit("False"))
    if dtype.is_float():
        return expr.map_elements(str, return_dtype=pl.String, skip_nulls=True)
    return expr.cast(pl.String)


def flatten(plan: Plan, max_depth: int = 16) -> Plan:
    """Replace every struct column by one column per field, named ``column.field``.

    Nested structs flatten too (up to ``max_depth`` levels), as ``datasets.Dataset.flatten``.

    Examples
    --------
    >>> plan = Plan.from_frame(pl.DataFrame({"a": [{"b": 1, "c": {"d": "x"}}], "e": [0]}))
    >>> list(flatten(plan).features)
    ['a.b', 'a.c.d', 'e']
    """
    lf = plan.lf
    flat = plan.features.flatten(max_depth=max_depth)
    for _ in range(1, max_depth):
        schema = lf.collect_schema()
        # Only dict features split: an Image's {bytes, path} struct stays whole, as datasets.
        structs = [n for n, t in schema.items() if isinstance(t, pl.Struct) and n not in flat]
        if not structs:
            break
        exprs: list[pl.Expr] = []
        for name, dtype in schema.items():
            if name in structs:
                assert isinstance(dtype, pl.Struct)
                exprs.extend(
                    pl.col(name).struct.field(f.name).alias(f"{name}.{f.name}")
                    for f in dtype.fields
                )
            else:
                exprs.append(pl.col(name))
        lf = lf.select(exprs)
    names = lf.collect_schema().names()
    inferred = Features.from_polars(lf.collect_schema())
    features = Features({n: flat[n] if n in flat else inferred[n] for n in names})
    return plan.derive(lf, features, num_rows=plan.known_rows())
