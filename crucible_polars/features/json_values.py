"""``Json`` values: the JSON text a ``Json`` feature stores, and the values it gives back.

A ``Json`` column (``datasets`` 5's feature for values of no one Arrow type, such as ``-1`` in
one row and ``"foo"`` in the next) is stored as JSON text, written as ``datasets`` writes it
(ujson: compact, ASCII only, ``/`` escaped), and decoded back to Python values on output, as
``datasets`` decodes it: ``ds[0]["c"] == -1``. ``Json`` may sit anywhere in nested features
(``List(Json())``, ``{"k": Json()}``); :func:`decode_json` walks the nesting.

Examples
--------
>>> from crucible_polars.features import Json, List
>>> json_text(["a/b", "é"])
'["a\\\\/b","\\\\u00e9"]'
>>> decode_json(['-1', '"foo"', None], List(Json()))
[-1, 'foo', None]
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from .nested import FeatureType, Json, LargeList, List

__all__ = ["decode_json", "decode_json_column", "has_json", "json_text"]


def json_text(value: Any) -> str | None:
    """``value`` as the JSON text a ``Json`` column stores, byte for byte as ``datasets``
    writes it (compact, ASCII only, ``/`` escaped); ``None`` stays null.

    Parameters
    ----------
    value
        Any JSON-serializable Python value.

    Examples
    --------
    >>> json_text({"k": [1, 2.5]}), json_text("foo"), json_text(None)
    ('{"k":[1,2.5]}', '"foo"', None)
    """
    if value is None:
        return None
    # "/" can only occur inside JSON strings, where "\\/" is its escaped form (as ujson)
    return json.dumps(value, separators=(",", ":")).replace("/", "\\/")


def has_json(feature: FeatureType) -> bool:
    """Whether ``feature`` is, or holds, a decoded ``Json`` feature.

    Parameters
    ----------
    feature
        A feature, or a dict or list of features.

    Examples
    --------
    >>> from crucible_polars.features import Json, List, Value
    >>> has_json({"a": List(Json())}), has_json(Value("string")), has_json(Json(decode=False))
    (True, False, False)
    """
    if isinstance(feature, Json):
        return feature.decode
    if isinstance(feature, Mapping):
        return any(has_json(f) for f in feature.values())
    if isinstance(feature, (List, LargeList)):
        return has_json(feature.feature)
    if isinstance(feature, (list, tuple)) and len(feature) == 1:
        return has_json(feature[0])
    return False


def decode_json(value: Any, feature: FeatureType) -> Any:
    """One stored value of ``feature`` with its ``Json`` parts decoded from JSON text.

    Parameters
    ----------
    value
        The value as stored (``Json`` parts as JSON text).
    feature
        Its feature.

    Examples
    --------
    >>> from crucible_polars.features import Json, Value
    >>> decode_json({"k": '{"x":1}', "n": 2}, {"k": Json(), "n": Value("int64")})
    {'k': {'x': 1}, 'n': 2}
    """
    if value is None:
        return None
    if isinstance(feature, Json):
        if not feature.decode or not isinstance(value, (str, bytes)):
            return value
        return json.loads(value)  # numpy's str_ too (a str)
    if isinstance(feature, Mapping) and isinstance(value, Mapping):
        return {
            k: decode_json(v, feature[k]) if k in feature and has_json(feature[k]) else v
            for k, v in value.items()
        }
    item: Any = None
    if isinstance(feature, (List, LargeList)):
        item = feature.feature
    elif isinstance(feature, (list, tuple)) and len(feature) == 1:
        item = feature[0]
    if item is not None and isinstance(value, (list, tuple, np.ndarray)) and has_json(item):
        return [decode_json(v, item) for v in value]
    return value


def decode_json_column(values: list[Any], feature: FeatureType) -> list[Any]:
    """A column's stored values with their ``Json`` parts decoded (see :func:`decode_json`).

    Parameters
    ----------
    values
        The column's values as stored.
    feature
        The column's feature.

    Examples
    --------
    >>> from crucible_polars.features import Json
    >>> decode_json_column(['-1', '"foo"', '[1,2]', None], Json())
    [-1, 'foo', [1, 2], None]
    """
    if not has_json(feature):
        return values
    return [decode_json(v, feature) for v in values]
