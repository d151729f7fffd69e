"""``map`` outputs with ``Json`` parts, typed as ``datasets`` 5 writes them.

``datasets`` stores a value of no one Arrow type with its ``Json`` feature (JSON text). A
``map`` output meets it two ways:

- the output column has a ``Json`` feature (the input column of its name, ``features=``, or
  the first batch's output): the values are JSON-encoded at the ``Json`` places of the
  feature (:func:`encode_at`, ``datasets``' ``json_encode_field``: text that is already JSON
  is kept), so a function returning changed nested values (``[1, "x"]``) keeps the column's
  type;
- ``on_mixed_types="use_json"`` (``Dataset.map``'s default in ``datasets`` 5): a column whose
  values mix types (``1`` then ``"x"``, lists and numbers) or dicts of different keys (or
  empty dicts) gets ``Json`` where they mix (:func:`infer_json_column`), as ``datasets``
  finds those places.

Places are :data:`~crucible_polars.readers.json_infer.JsonSpot`: ``True`` (the value),
``{field: spot}``, ``[spot]`` (the items of a list).

Examples
--------
>>> infer_json_column("c", [1, "x"])[1]
Json(decode=True)
>>> encode_at({"k": [1, "x"], "n": 0}, {"k": True})
{'k': '[1,"x"]', 'n': 0}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl
import pyarrow as pa

from crucible_polars.features import Features, FeatureType, Json, LargeList, List
from crucible_polars.features.encode import encode_nested_example
from crucible_polars.readers.json_infer import JsonSpot, Kinds, feature_with_spot, merge_spots
from crucible_polars.udf.values import values_to_series

__all__ = ["encode_at", "feature_spot", "infer_json_column", "json_typed_column", "mixed_spot"]

_JSON_ENCODE = Json()


def feature_spot(feature: FeatureType) -> JsonSpot | None:
    """Where ``feature`` holds ``Json`` values (``None``: nowhere).

    Parameters
    ----------
    feature
        A feature.

    Examples
    --------
    >>> from crucible_polars.features import Value
    >>> feature_spot({"k": Json(), "n": Value("int64")}), feature_spot(List(Json()))
    ({'k': True}, [True])
    """
    if isinstance(feature, Json):
        return True
    if isinstance(feature, Mapping):
        spots = {k: s for k, f in feature.items() if (s := feature_spot(f)) is not None}
        return spots or None
    if isinstance(feature, (List, LargeList)):
        inner = feature_spot(feature.feature)
        return None if inner is None else [inner]
    return None


def encode_at(value: Any, spot: JsonSpot) -> Any:
    """``value`` with its parts at ``spot`` as JSON text, as ``datasets``' ``json_encode_field``
    encodes them: text that already is JSON is kept, ``None`` stays null.

    Parameters
    ----------
    value
        One output value.
    spot
        Where its ``Json`` parts are.

    Raises
    ------
    TypeError
        ``value`` does not have the shape ``spot`` says (a number where a dict is).

    Examples
    --------
    >>> encode_at(["a", "2", 3], [True])
    ['"a"', '2', '3']
    """
    if value is None:
        return None
    if spot is True:
        return encode_nested_example(_JSON_ENCODE, value)
    if isinstance(spot, dict):
        if not isinstance(value, Mapping):
            raise TypeError(f"expected a dict, got {type(value).__name__}")
        out = dict(value)
        for key, inner in spot.items():
            out[key] = encode_at(value.get(key), inner)
        return out
    if not isinstance(spot, list):
        raise TypeError(f"not a place of Json values: {spot!r}")
    return [encode_at(item, spot[0]) for item in value]


def json_typed_column(name: str, values: Any, feature: FeatureType) -> pl.Series | None:
    """``values`` JSON-encoded at the ``Json`` places of ``feature``, as a column; ``None`` if
    they do not have its shape (a number where its dict is).

    Parameters
    ----------
    name
        The column name.
    values
        The column's values (one per row).
    feature
        The column's feature (holding ``Json``).

    Examples
    --------
    >>> json_typed_column("a", [[1, "x"], None], List(Json())).to_list()
    [['1', '"x"'], None]
    >>> json_typed_column("s", [5], {"k": Json()}) is None
    True
    """
    spot = feature_spot(feature)
    if spot is None or not isinstance(values, (list, tuple)):
        return None
    try:
        encoded = [encode_at(v, spot) for v in values]
        return values_to_series(name, encoded)
    except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
        return None


def _mixed_paths(values: list[Any]) -> list[list[str | int]]:
    """``datasets``' ``find_mixed_struct_types_field_paths(values, allow_root=True)``: the
    places holding dicts of different keys (or empty dicts), or dicts or lists beside other
    values."""
    found: list[list[str | int]] = []
    pending: list[tuple[list[str | int], list[Any]]] = [([], [v for v in values if v is not None])]
    while pending:
        path, content = pending.pop(0)
        if not content:
            continue
        if all(isinstance(x, dict) for x in content):
            keys = set(content[0])
            if not keys or any(set(x) != keys for x in content):
                found.append(path)
                continue
            for key in keys:
                inner = [x[key] for x in content if x[key] is not None]
                pending.append(([*path, key], inner))
        elif all(isinstance(x, list) for x in content):
            pending.append(([*path, 0], [x for items in content for x in items if x is not None]))
        elif any(isinstance(x, (dict, list)) for x in content):
            found.append(path)
    return found


def _spot_of_path(path: list[str | int]) -> JsonSpot:
    spot: JsonSpot = True
    for step in reversed(path):
        spot = [spot] if step == 0 else {str(step): spot}
    return spot


def mixed_spot(values: list[Any]) -> JsonSpot | None:
    """Where ``values`` hold dicts of different keys, empty dicts, or dicts or lists beside
    other values (``datasets`` makes those places ``Json`` before typing the column).

    Parameters
    ----------
    values
        A column's values.

    Examples
    --------
    >>> mixed_spot([{"a": 1}, {"b": 2}]), mixed_spot([[{"k": {}}]]), mixed_spot([[1, 2]])
    (True, [{'k': True}], None)
    """
    spot: JsonSpot | None = None
    for path in _mixed_paths(values):
        spot = merge_spots(spot, _spot_of_path(path))
    return spot


def _plain_json(value: Any) -> bool:
    """Whether ``value`` is made of JSON's own Python types only (what ``Kinds`` reads)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, list):
        return all(_plain_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain_json(v) for k, v in value.items())
    return False


def _has_struct(dtype: pl.DataType) -> bool:
    if isinstance(dtype, pl.Struct):
        return True
    if isinstance(dtype, (pl.List, pl.Array)):
        inner = dtype.inner
        return _has_struct(inner() if isinstance(inner, type) else inner)
    return False


def infer_json_column(
    name: str, values: Any, typed: pl.Series | None = None
) -> tuple[pl.Series, FeatureType] | None:
    """A column of values of no one type with ``Json`` where they mix, and its feature, as
    ``datasets`` types a ``map`` output with ``on_mixed_types="use_json"``; ``None`` when the
    values need no ``Json`` (or are not plain JSON values).

    Parameters
    ----------
    name
        The column name.
    values
        The column's values.
    typed
        The values as typed without ``Json`` (``None``: they could not be typed).

    Examples
    --------
    >>> series, feature = infer_json_column("m", [{"k": 1, "n": 0}, {"k": "x", "n": 1}])
    >>> feature, series.to_list()
    ({'k': Json(decode=True), 'n': Value('int64')}, [{'k': '1', 'n': 0}, {'k': '"x"', 'n': 1}])
    >>> infer_json_column("m", [1, 2], values_to_series("m", [1, 2])) is None
    True
    """
    if typed is not None and not _has_struct(typed.dtype):
        return None  # typed without dicts: nothing mixes
    if not isinstance(values, (list, tuple)) or not all(_plain_json(v) for v in values):
        return None
    spot = mixed_spot(list(values))
    if spot is None and typed is not None:
        return None
    encoded = [encode_at(v, spot) for v in values] if spot is not None else list(values)
    try:
        pa.array(encoded)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        kinds = Kinds()  # as datasets' JSON-reader pass: where JSON kinds change
        for value in encoded:
            kinds.add(value, top=False)
        more = kinds.json_spot()
        if more is None:
            return None
        spot = merge_spots(spot, more)
        if spot is None:
            return None
        encoded = [encode_at(v, spot) for v in values]
    if spot is None:
        return None
    try:
        series = values_to_series(name, encoded)
    except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
        return None
    plain = Features.from_polars({name: series.dtype})[name]
    return series, feature_with_spot(plain, spot)
