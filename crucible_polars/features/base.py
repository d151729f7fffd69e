"""The base class every feature type shares: the ``datasets`` JSON form and deep copies."""

from __future__ import annotations

import copy
from dataclasses import MISSING, fields, is_dataclass
from typing import Any

__all__ = ["FeatureBase", "feature_asdict"]


class FeatureBase:
    """Shared behaviour of every feature type: the ``datasets`` JSON form and deep copies.

    Examples
    --------
    >>> from crucible_polars.features import ClassLabel
    >>> isinstance(ClassLabel(names=["a"]), FeatureBase)
    True
    """

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form ``datasets`` writes (fields at their default are left out).

        Returns
        -------
        dict

        Examples
        --------
        >>> from crucible_polars.features import Value
        >>> Value("string").to_dict()
        {'dtype': 'string', '_type': 'Value'}
        """
        return _fields_dict(self)

    def copy(self) -> Any:
        """Return a deep copy.

        Examples
        --------
        >>> from crucible_polars.features import Value
        >>> Value("int8").copy()
        Value('int8')
        """
        return copy.deepcopy(self)


def feature_asdict(obj: Any) -> Any:
    """Return ``obj`` with every feature in it replaced by its JSON form, as ``datasets`` does.

    Tuples, lists and dicts are walked; a foreign feature dataclass (e.g. ``datasets.Value``)
    gives its fields; anything else is deep-copied.

    Parameters
    ----------
    obj
        A feature, or a container of features and plain values.

    Examples
    --------
    >>> from crucible_polars.features import Value
    >>> feature_asdict({"a": [Value("int8")]})
    {'a': [{'dtype': 'int8', '_type': 'Value'}]}
    """
    if isinstance(obj, FeatureBase):
        return obj.to_dict()
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*[feature_asdict(v) for v in obj])
    if isinstance(obj, (list, tuple)):
        return type(obj)(feature_asdict(v) for v in obj)
    if isinstance(obj, dict):
        return {feature_asdict(k): feature_asdict(v) for k, v in obj.items()}
    if is_dataclass(obj) and not isinstance(obj, type):
        return _fields_dict(obj)  # a foreign feature dataclass, e.g. ``datasets.Value``
    return copy.deepcopy(obj)


def _fields_dict(obj: Any) -> dict[str, Any]:
    """A feature dataclass's fields in JSON form, by ``datasets``' ``asdict`` rule.

    Fields at their default are left out; ``_type`` (not an ``__init__`` field) is always kept.
    """
    result = {}
    for f in fields(obj):
        value = feature_asdict(getattr(obj, f.name))
        if not f.init or f.default is MISSING or value != f.default:
            result[f.name] = value
    return result
