"""Decoded audio clips handed to a ``map`` function, and what goes back into ``Audio`` columns.

``datasets`` 5 hands a function a decoder object that remembers where its clip came from, so
a clip returned unchanged keeps its storage (the file's path, or its bytes), and any other
audio value is encoded by ``Audio.encode_example``. A clip here is a dict ``{"path",
"array", "sampling_rate"}`` the function may edit in place; :func:`clip_marks` notes, when a
column is handed out, each clip's array and a checksum of its samples, so
:class:`HandedClips` tells a clip returned unchanged (its stored ``{bytes, path}`` goes back
as it was) from one edited or new (encoded by
:func:`~crucible_polars.features.media.encode_audio`, ``num_channels`` applied).

Examples
--------
>>> import numpy as np, polars as pl
>>> clip = {"path": "a.wav", "array": np.zeros(4, dtype=np.float32), "sampling_rate": 8000}
>>> stored = pl.DataFrame({"audio": [{"bytes": None, "path": "a.wav"}]})
>>> clips = HandedClips(stored, {"audio": clip_marks([clip])})
>>> clips.storage(clip)
{'bytes': None, 'path': 'a.wav'}
>>> clip["array"][0] = 1.0  # edited in place: encoded again
>>> clips.storage(clip) is None
True
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import polars as pl

from crucible_polars.features import Audio

__all__ = ["ClipMark", "ClipMarks", "HandedClips", "audio_column", "clip_marks"]


class ClipMark(NamedTuple):
    """A clip as handed out: its row, its array (by identity), checksum and sampling rate."""

    row: int
    array: int
    crc: int
    sampling_rate: Any


ClipMarks = dict[int, ClipMark]
"""``id(clip dict)`` to its :class:`ClipMark`, for one column of one batch."""


def _crc(array: np.ndarray) -> int:
    return zlib.crc32(np.ascontiguousarray(array).view(np.uint8).data)


def clip_marks(values: list[Any]) -> ClipMarks:
    """The marks of a column of decoded clips (values that are not clips are left out).

    Parameters
    ----------
    values
        The decoded column, as handed to the function.

    Examples
    --------
    >>> clip = {"path": None, "array": np.ones(3, dtype=np.float32), "sampling_rate": 16000}
    >>> clip_marks([clip, None])[id(clip)].row
    0
    """
    marks: ClipMarks = {}
    for row, clip in enumerate(values):
        if isinstance(clip, dict):
            array = clip.get("array")
            if isinstance(array, np.ndarray):
                marks[id(clip)] = ClipMark(row, id(array), _crc(array), clip.get("sampling_rate"))
    return marks


def _unchanged(clip: Mapping[str, Any], mark: ClipMark) -> bool:
    array = clip.get("array")
    return (
        isinstance(array, np.ndarray)
        and id(array) == mark.array
        and clip.get("sampling_rate") == mark.sampling_rate
        and _crc(array) == mark.crc
    )


class HandedClips:
    """The clips a batch's function was handed, by column, and their stored values.

    Parameters
    ----------
    frame
        The batch's input rows (the stored ``{bytes, path}`` structs).
    marks
        ``{column: clip_marks(...)}`` of the ``Audio`` columns handed out.

    Examples
    --------
    >>> HandedClips(pl.DataFrame({"a": [1]}), {}).handed({"array": None})
    False
    """

    def __init__(self, frame: pl.DataFrame, marks: Mapping[str, ClipMarks]) -> None:
        self.frame = frame
        self.marks = {c: m for c, m in marks.items() if m and c in frame.columns}
        self._stored: dict[str, list[Any]] = {}

    def find(self, value: Any) -> tuple[str, ClipMark] | None:
        """The column and mark of ``value`` if it is a clip handed out (edited or not)."""
        if not isinstance(value, dict):
            return None
        key = id(value)
        for column, marks in self.marks.items():
            mark = marks.get(key)
            if mark is not None:
                return column, mark
        return None

    def handed(self, value: Any) -> bool:
        """Whether ``value`` is a clip handed to the function (edited or not)."""
        return self.find(value) is not None

    def source(self, value: Any) -> tuple[str, int] | None:
        """The column and row ``value`` was read from, if it is a clip handed out unchanged."""
        found = self.find(value)
        if found is None or not _unchanged(value, found[1]):
            return None
        return found[0], found[1].row

    def storage(self, value: Any) -> dict[str, Any] | None:
        """The stored ``{bytes, path}`` of ``value`` if it is a clip handed out unchanged."""
        source = self.source(value)
        return None if source is None else self.stored(*source)

    def stored(self, column: str, row: int) -> dict[str, Any] | None:
        """The stored ``{bytes, path}`` of input ``column`` at ``row`` of the batch."""
        stored = self._stored.get(column)
        if stored is None:
            stored = self._stored[column] = self.frame[column].to_list()
        value = stored[row]
        return None if value is None else dict(value)


def audio_column(
    name: str, values: list[Any], feature: Audio, clips: HandedClips | None = None
) -> pl.Series:
    """A column of audio values stored as ``feature`` stores them: a clip handed out
    unchanged keeps its stored ``{bytes, path}``; any other value (an edited clip, a new
    ``{"array", "sampling_rate"}``, a path, bytes) is encoded by ``Audio.encode_example``
    (``num_channels`` applied), as ``datasets`` writes it.

    Parameters
    ----------
    name
        The column name.
    values
        The column's values, one per row.
    feature
        The column's ``Audio`` feature.
    clips
        The clips the function was handed (``None``: none).

    Raises
    ------
    ValueError
        A value that is not audio, naming its position in the column.

    Examples
    --------
    >>> audio_column("a", ["x.wav", None], Audio()).to_list()
    [{'bytes': None, 'path': 'x.wav'}, None]
    """
    sources = [clips.source(v) if clips is not None and v is not None else None for v in values]
    if clips is not None and values and len(values) == clips.frame.height:
        columns = {s[0] for s in sources if s is not None}
        in_place = all(s is not None and s[1] == i for i, s in enumerate(sources))
        if in_place and len(columns) == 1:  # every clip where it was read: the column as is
            return clips.frame[columns.pop()].alias(name)
    stored: list[Any] = []
    for i, (value, source) in enumerate(zip(values, sources, strict=True)):
        if value is None:
            stored.append(None)
        elif source is not None and clips is not None:
            stored.append(clips.stored(*source))
        else:
            try:
                stored.append(feature.encode_example(value))
            except (TypeError, ValueError, KeyError) as error:
                raise ValueError(f"value {i} cannot be stored as {feature!r}: {error}") from None
    return pl.Series(name, stored, dtype=feature.to_polars())
