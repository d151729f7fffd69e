"""Column transforms with ``datasets``' semantics: rename, add, sort, unique, encode, flatten.

Each builds a longer Polars plan and says how the Features change; none collects data except
``unique`` (which returns values) and ``class_encode_column`` (which needs the labels).

Examples
--------
>>> from crucible_polars import Dataset
>>> ds = Dataset.from_dict({"label": ["pos", "neg", "pos"], "n": [3, 1, 2]})
>>> class_encode_column(ds, "label").features["label"]
ClassLabel(names=['neg', 'pos'])
>>> sort(ds, "n")["n"]
[1, 2, 3]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from crucible_polars.errors import DuplicateColumnError
from crucible_polars.features import ClassLabel, Features, Value, cast_lazyframe
from crucible_polars.ops.sampling import keep_gather

if TYPE_CHECKING:
    from crucible_polars.dataset import Dataset
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


def rename_columns(ds: Dataset, mapping: Mapping[str, str]) -> Dataset:
    """Rename columns; Features (and the output format's columns) follow.

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
    >>> from crucible_polars import Dataset
    >>> rename_columns(Dataset.from_dict({"a": [1], "b": [2]}), {"a": "x"}).column_names
    ['x', 'b']
    """
    ds._check_columns(list(mapping))
    empty = [old for old, new in mapping.items() if not new]
    if empty:
        raise ValueError(f"New column names for {empty} are empty.")
    names = [mapping.get(c, c) for c in ds.column_names]
    check_unique_names(names, f"rename_columns({dict(mapping)})")
    features = Features({mapping.get(c, c): f for c, f in ds.features.items()})
    fmt_cols = ds._format_columns
    out = ds._derive(
        ds.lazy().rename(dict(mapping)),
        features,
        num_rows=ds._num_rows,
        format_columns=None if fmt_cols is None else [mapping.get(c, c) for c in fmt_cols],
    )
    return keep_gather(ds, out, lambda lf: lf.rename(dict(mapping)))


def add_column(ds: Dataset, name: str, column: Any, feature: FeatureType | None = None) -> Dataset:
    """Append a column of values (list, numpy array, Series) with one value per row.

    Raises
    ------
    DuplicateColumnError
        ``name`` is already a column.
    ValueError
        The number of values is not the number of rows.

    Examples
    --------
    >>> from crucible_polars import Dataset
    >>> add_column(Dataset.from_dict({"a": [1, 2]}), "b", ["x", "y"])["b"]
    ['x', 'y']
    """
    from crucible_polars.udf.values import values_to_series

    check_unique_names([*ds.column_names, name], f"add_column({name!r})")
    series = values_to_series(name, column)
    if feature is not None:
        series = cast_lazyframe(series.to_frame().lazy(), {name: feature}).collect()[name]
    n = ds.num_rows
    if len(series) != n:
        raise ValueError(
            f"add_column({name!r}): got {len(series)} values for a dataset of {n} rows; "
            "give one value per row."
        )
    features = ds.features.copy()
    features[name] = (
        feature if feature is not None else Features.from_polars({name: series.dtype})[name]
    )
    lf = pl.concat([ds.lazy(), pl.LazyFrame([series])], how="horizontal")
    return ds._derive(lf, features, num_rows=n)


def _nulls_last(null_placement: str) -> bool:
    placements = {"at_end": True, "last": True, "at_start": False, "first": False}
    if null_placement not in placements:
        raise ValueError(
            f"null_placement '{null_placement}' is an invalid parameter value. Must be either "
            "'last', 'at_end', 'first' or 'at_start'."
        )
    return placements[null_placement]


def sort(
    ds: Dataset,
    column_names: str | Sequence[str],
    descending: bool | Sequence[bool] = False,
    null_placement: str = "at_end",
) -> Dataset:
    """Stable sort by one or several columns; nulls at the end (``"at_end"``) or start.

    Ties keep their order (as ``datasets``' stable Arrow sort does). NaN goes with the nulls,
    between them and the numbers, as in Arrow.

    Examples
    --------
    >>> from crucible_polars import Dataset
    >>> ds = Dataset.from_dict({"a": [2, None, 1], "b": ["x", "y", "z"]})
    >>> sort(ds, "a")["a"], sort(ds, "a", descending=True, null_placement="first")["a"]
    ([1, 2, None], [None, 2, 1])
    """
    names = ds._check_columns(column_names)
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
    schema = ds.lazy().collect_schema()
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
    lf = ds.lazy().sort(keys, descending=key_flags, nulls_last=nulls_last, maintain_order=True)
    return ds._derive(lf, ds.features, num_rows=ds._num_rows)


def unique(ds: Dataset, column: str) -> list[Any]:
    """The distinct values of a column, in order of first appearance.

    Examples
    --------
    >>> from crucible_polars import Dataset
    >>> unique(Dataset.from_dict({"a": [2, 1, 2, None]}), "a")
    [2, 1, None]
    """
    ds._check_columns(column)
    lf = ds.lazy().select(pl.col(column).unique(maintain_order=True))
    values: list[Any] = ds._run(lambda: lf.collect().to_series().to_list())
    return values


def class_encode_column(ds: Dataset, column: str, include_nulls: bool = False) -> Dataset:
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
    >>> from crucible_polars import Dataset
    >>> ds = class_encode_column(Dataset.from_dict({"y": ["b", "a", "b"]}), "y")
    >>> ds["y"], ds.features["y"].names
    ([1, 0, 1], ['a', 'b'])
    """
    ds._check_columns(column)
    feature = ds.features[column]
    if not isinstance(feature, Value):
        raise ValueError(
            f"Class encoding is only supported for Value column, and column {column} is "
            f"{type(feature).__name__}."
        )
    text = _as_text(pl.col(column), ds.lazy().collect_schema()[column])
    if include_nulls:
        text = text.fill_null("None")
    labels = ds._run(
        lambda: ds.lazy().select(text.alias(column).unique()).collect().to_series().to_list()
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
    features = ds.features.copy()
    features[column] = target
    lf = ds.lazy().with_columns(encoded.alias(column))
    return ds._derive(lf, features, num_rows=ds._num_rows)


def _as_text(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Values as ``str(value)`` gives them in Python (``True``, ``1.0``)."""
    if dtype == pl.String:
        return expr
    if dtype == pl.Boolean:
        return pl.when(expr).then(pl.lit("True")).when(~expr).then(pl.lit("False"))
    if dtype.is_float():
        return expr.map_elements(str, return_dtype=pl.String, skip_nulls=True)
    return expr.cast(pl.String)


def flatten(ds: Dataset, max_depth: int = 16) -> Dataset:
    """Replace every struct column by one column per field, named ``column.field``.

    Nested structs flatten too (up to ``max_depth`` levels), as ``datasets.Dataset.flatten``.

    Examples
    --------
    >>> from crucible_polars import Dataset
    >>> ds = Dataset.from_dict({"a": [{"b": 1, "c": {"d": "x"}}], "e": [0]})
    >>> flatten(ds).column_names
    ['a.b', 'a.c.d', 'e']
    """
    lf = ds.lazy()
    for _ in range(1, max_depth):
        schema = lf.collect_schema()
        structs = [n for n, t in schema.items() if isinstance(t, pl.Struct)]
        if not structs:
            break
        exprs: list[pl.Expr] = []
        for name, dtype in schema.items():
            if isinstance(dtype, pl.Struct):
                exprs.extend(
                    pl.col(name).struct.field(f.name).alias(f"{name}.{f.name}")
                    for f in dtype.fields
                )
            else:
                exprs.append(pl.col(name))
        lf = lf.select(exprs)
    names = lf.collect_schema().names()
    flat = ds.features.flatten(max_depth=max_depth)
    inferred = Features.from_polars(lf.collect_schema())
    features = Features({n: flat[n] if n in flat else inferred[n] for n in names})
    return ds._derive(lf, features, num_rows=ds._num_rows)
