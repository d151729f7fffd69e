"""Images nested in lists and dicts (``List(Image())``, ``{"photo": Image(), ...}``).

The image values of a whole column are gathered first, decoded together in the thread pool
(:func:`~crucible_polars.media.batch.decode_fields`), then put back in place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import PIL.Image

from crucible_polars.features import Image, LargeList, List
from crucible_polars.media.batch import decode_fields
from crucible_polars.media.decode import ImageSize


def has_decodable_image(feature: Any) -> bool:
    """Whether ``feature`` is, or holds somewhere inside, an ``Image(decode=True)``.

    Examples
    --------
    >>> has_decodable_image(List(Image())), has_decodable_image({"a": Image(decode=False)})
    (True, False)
    """
    if isinstance(feature, Image):
        return feature.decode
    if isinstance(feature, dict):
        return any(has_decodable_image(f) for f in feature.values())
    if isinstance(feature, (List, LargeList)):
        return has_decodable_image(feature.feature)
    if isinstance(feature, list) and feature:
        return has_decodable_image(feature[0])
    return False


def _walk(value: Any, feature: Any, visit: Callable[[Any, Image], Any]) -> Any:
    """``value`` with every decodable image value replaced by ``visit(value, feature)``."""
    if value is None:
        return None
    if isinstance(feature, Image):
        return visit(value, feature) if feature.decode else value
    if isinstance(feature, dict):
        if not isinstance(value, dict):
            return value
        return {k: _walk(v, feature[k], visit) if k in feature else v for k, v in value.items()}
    if isinstance(feature, (List, LargeList)):
        inner = feature.feature
    elif isinstance(feature, list) and feature:
        inner = feature[0]
    else:
        return value
    if isinstance(inner, dict) and isinstance(value, dict):  # a legacy Sequence of a dict
        return {
            k: [_walk(x, inner[k], visit) for x in v] if k in inner and isinstance(v, list) else v
            for k, v in value.items()
        }
    return [_walk(v, inner, visit) for v in value]


class _Slot:
    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


def decode_nested(
    values: list[Any],
    feature: Any,
    *,
    column: str,
    first_row: int = 0,
    size: ImageSize | None = None,
) -> list[Any]:
    """Decode every image inside a column of nested values, in one parallel pass.

    Examples
    --------
    >>> import io
    >>> buf = io.BytesIO(); PIL.Image.new("L", (3, 2)).save(buf, format="PNG")
    >>> img = {"bytes": buf.getvalue(), "path": None}
    >>> out = decode_nested([[img, img], None], List(Image()), column="frames")
    >>> [im.size for im in out[0]], out[1]
    ([(3, 2), (3, 2)], None)
    """
    found: list[tuple[int, dict[str, Any], Image]] = []
    row = 0

    def gather(value: Any, image: Image) -> _Slot:
        found.append((row, value, image))
        return _Slot(len(found) - 1)

    marked = []
    for i, value in enumerate(values):
        row = first_row + i
        marked.append(_walk(value, feature, gather))
    decoded: list[PIL.Image.Image | None] = [None] * len(found)
    by_mode: dict[str | None, list[int]] = {}
    for index, (_, _, feature_) in enumerate(found):
        by_mode.setdefault(feature_.mode, []).append(index)
    for mode, indices in by_mode.items():
        images = decode_fields(
            [found[i][1].get("bytes") for i in indices],
            [found[i][1].get("path") for i in indices],
            [False] * len(indices),
            mode=mode,
            column=column,
            size=size,
            rows=[found[i][0] for i in indices],
        )
        for i, pil_image in zip(indices, images, strict=True):
            decoded[i] = pil_image
    return [_walk(v, feature, lambda slot, _: decoded[slot.index]) for v in marked]


def consolidate(column: list[Any]) -> Any:
    """``datasets``' numpy consolidation: stack arrays of one shape and dtype, else an
    object array.

    Examples
    --------
    >>> consolidate([np.zeros(2), np.ones(2)]).shape
    (2, 2)
    >>> consolidate([np.zeros(2), None]).dtype
    dtype('O')
    """
    if column and all(
        isinstance(x, (np.ndarray, np.number, np.bool_))
        and x.shape == column[0].shape
        and x.dtype == column[0].dtype
        for x in column
    ):
        return np.stack(column)
    out = np.empty(len(column), dtype=object)
    out[:] = column
    return out


def tensorize(value: Any) -> Any:
    """A decoded nested value in ``datasets``' numpy form (images as arrays, lists stacked).

    Examples
    --------
    >>> tensorize([PIL.Image.new("L", (3, 2)), PIL.Image.new("L", (3, 2))]).shape
    (2, 2, 3)
    >>> tensorize({"n": 1, "s": "x"})
    {'n': array(1), 's': 'x'}
    """
    if isinstance(value, PIL.Image.Image):
        return np.asarray(value)
    if isinstance(value, dict):
        return {k: tensorize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return consolidate([tensorize(v) for v in value])
    if value is None or isinstance(value, (str, bytes)):
        return value
    return np.asarray(value)


__all__ = ["consolidate", "decode_nested", "has_decodable_image", "tensorize"]
