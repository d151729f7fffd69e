"""The output types a streaming ``map`` finds on its first batch, for the rows it yields.

An :class:`~crucible_polars.IterableDataset`'s Features are unknown after a ``map`` (as in
``datasets``), and a Polars frame has no room for them; yet a ``Json`` column the function
returned (JSON text in the frame), or an image or clip column, must be decoded when rows
are read or handed to the next function. Each ``map`` step records those features when its
first batch is typed (``FunctionStep.found``, filled in the process that runs the step);
:func:`with_found` gives them to a frame's columns that still have their Polars type.

Examples
--------
>>> import polars as pl
>>> from crucible_polars.features import Json
>>> with_found(pl.DataFrame({"c": ["[1]"], "n": [1]}), None, found_features([{"c": Json()}]))
Features({'c': Json(decode=True), 'n': Value('int64')})
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from crucible_polars.features import (
    Audio,
    Features,
    Image,
    Json,
    LargeList,
    List,
    feature_to_polars,
)

__all__ = ["decoded_features", "found_features", "with_found"]


def _decodes(feature: Any) -> bool:
    if isinstance(feature, (Image, Audio)):
        return feature.decode
    if isinstance(feature, Json):
        return feature.decode
    if isinstance(feature, Mapping):
        return any(_decodes(f) for f in feature.values())
    if isinstance(feature, (List, LargeList)):
        return _decodes(feature.feature)
    return False


def decoded_features(features: Mapping[str, Any]) -> dict[str, Any]:
    """The features among ``features`` that decode their values on output (images, audio,
    ``Json``, also nested): what a frame's Polars types cannot tell.

    Parameters
    ----------
    features
        A step's output Features.

    Examples
    --------
    >>> from crucible_polars.features import Value
    >>> decoded_features({"img": Image(), "n": Value("int64"), "j": List(Json())})
    {'img': Image(mode=None, decode=True), 'j': List(Json(decode=True))}
    """
    return {name: f for name, f in features.items() if _decodes(f)}


def found_features(found: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The decoded features (:func:`decoded_features`) that ``map`` steps gave their outputs,
    later steps last.

    Parameters
    ----------
    found
        The ``found`` dicts of a dataset's function steps, in order.

    Examples
    --------
    >>> from crucible_polars.features import Json
    >>> found_features([{"c": Json()}, {}])
    {'c': Json(decode=True)}
    """
    merged: dict[str, Any] = {}
    for features in found:
        merged.update(features)
    return merged


def with_found(frame: pl.DataFrame, known: Features | None, found: Mapping[str, Any]) -> Features:
    """The Features of ``frame``'s columns: ``known`` ones, else a ``found`` one of the column's
    Polars type, else inferred from it.

    Parameters
    ----------
    frame
        The rows.
    known
        The dataset's Features (``None``: unknown).
    found
        Features found by earlier ``map`` steps (:func:`found_features`).

    Examples
    --------
    >>> from crucible_polars.features import Json
    >>> with_found(pl.DataFrame({"c": ["1"]}), None, {"c": Json()})
    Features({'c': Json(decode=True)})
    """
    if known is not None and list(known) == frame.columns:
        return known
    inferred = Features.from_polars(frame.schema)
    known = known or Features()
    out = Features()
    for name, dtype in frame.schema.items():
        feature = found.get(name)
        if name in known:
            out[name] = known[name]
        elif feature is not None and feature_to_polars(feature) == dtype:
            out[name] = feature
        else:
            out[name] = inferred[name]
    return out
