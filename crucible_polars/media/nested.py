"""Images and audio nested in lists and dicts (``List(Image())``, ``{"clip": Audio(), ...}``).

The media values of a whole column are gathered first, decoded together in the thread pool
(:func:`~crucible_polars.media.batch.decode_fields` for images,
:func:`~crucible_polars.media.audio.decode_audio_fields` for audio), then put back in place:
an image as a ``PIL.Image``, a clip as ``{"path", "array", "sampling_rate"}`` -- what the
same feature gives at the top level.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import PIL.Image

from crucible_polars.features import Audio, Image, LargeList, List
from crucible_polars.media.audio import decode_audio_fields
from crucible_polars.media.batch import decode_fields
from crucible_polars.media.decode import ImageSize


def has_decodable_image(feature: Any) -> bool:
    """Whether a column of ``feature`` is decoded here or as an image column: an
    ``Image(decode=True)``, or a list or dict holding one or an ``Audio(decode=True)``
    somewhere inside (a top-level ``Audio`` column is decoded by
    :mod:`crucible_polars.media.audio`).

    Examples
    --------
    >>> has_decodable_image(List(Image())), has_decodable_image({"a": Image(decode=False)})
    (True, False)
    >>> has_decodable_image(Audio()), has_decodable_image({"a": Audio()})
    (False, True)
    """
    if isinstance(feature, (Image, Audio)):
        return isinstance(feature, Image) and feature.decode
    return _holds_media(feature)


def _holds_media(feature: Any) -> bool:
    """Whether ``feature`` is, or holds somewhere inside, media to decode."""
    if isinstance(feature, (Image, Audio)):
        return feature.decode
    if isinstance(feature, dict):
        return any(_holds_media(f) for f in feature.values())
    if isinstance(feature, (List, LargeList)):
        return _holds_media(feature.feature)
    if isinstance(feature, list) and feature:
        return _holds_media(feature[0])
    return False


_Media = Image | Audio


def _walk(value: Any, feature: Any, visit: Callable[[Any, _Media], Any]) -> Any:
    """``value`` with every decodable media value replaced by ``visit(value, feature)``."""
    if value is None:
        return None
    if isinstance(feature, (Image, Audio)):
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
    """Decode every image and clip inside a column of nested values, in one parallel pass.

    Images decode to ``PIL.Image`` (``size`` resizes them), clips to
    ``{"path", "array", "sampling_rate"}`` as at the top level.

    Examples
    --------
    >>> import io
    >>> buf = io.BytesIO(); PIL.Image.new("L", (3, 2)).save(buf, format="PNG")
    >>> img = {"bytes": buf.getvalue(), "path": None}
    >>> out = decode_nested([[img, img], None], List(Image()), column="frames")
    >>> [im.size for im in out[0]], out[1]
    ([(3, 2), (3, 2)], None)
    """
    found: list[tuple[int, dict[str, Any], _Media]] = []
    row = 0

    def gather(value: Any, media: _Media) -> _Slot:
        found.append((row, value, media))
        return _Slot(len(found) - 1)

    marked = []
    for i, value in enumerate(values):
        row = first_row + i
        marked.append(_walk(value, feature, gather))
    decoded: list[Any] = [None] * len(found)
    groups: list[tuple[_Media, list[int]]] = []  # alike features decode together
    for index, (_, _, media) in enumerate(found):
        group = next((g for g in groups if g[0] == media), None)
        if group is None:
            groups.append((media, [index]))
        else:
            group[1].append(index)
    for media, indices in groups:
        fields = (
            [found[i][1].get("bytes") for i in indices],
            [found[i][1].get("path") for i in indices],
            [False] * len(indices),
        )
        rows = [found[i][0] for i in indices]
        out: list[Any]
        if isinstance(media, Image):
            out = decode_fields(*fields, mode=media.mode, column=column, size=size, rows=rows)
        else:
            out = decode_audio_fields(*fields, media, column=column, rows=rows)
        for i, item in zip(indices, out, strict=True):
            decoded[i] = item
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
