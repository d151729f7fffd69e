"""Media features: ``Image`` and ``Audio``, stored as ``{bytes: binary, path: string}``.

Examples
--------
>>> Audio().to_arrow() == Image().to_arrow()
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl
import pyarrow as pa

from .base import FeatureBase

__all__ = ["Audio", "Image"]

_BYTES_PATH_ARROW = pa.struct({"bytes": pa.binary(), "path": pa.string()})


def _bytes_path_polars() -> pl.DataType:
    return pl.Struct({"bytes": pl.Binary(), "path": pl.String()})


@dataclass
class Image(FeatureBase):
    """An image, stored as a struct ``{bytes: binary, path: string}``.

    Parameters
    ----------
    mode
        PIL mode to convert decoded images to (``None`` keeps the file's mode).
    decode
        Whether rows decode to ``PIL.Image`` (``False`` gives the raw dict).
    id
        Optional identifier, kept for ``datasets`` compatibility.

    Examples
    --------
    >>> Image().to_polars()
    Struct({'bytes': Binary, 'path': String})
    >>> Image(mode="RGB").to_dict()
    {'mode': 'RGB', '_type': 'Image'}
    """

    mode: str | None = None
    decode: bool = True
    id: str | None = field(default=None, repr=False)
    _type: str = field(default="Image", init=False, repr=False)

    def to_arrow(self) -> pa.DataType:
        """Return the Arrow type, ``struct<bytes: binary, path: string>``."""
        return _BYTES_PATH_ARROW

    def to_polars(self) -> pl.DataType:
        """Return the Polars dtype, ``Struct({'bytes': Binary, 'path': String})``."""
        return _bytes_path_polars()


@dataclass
class Audio(FeatureBase):
    """An audio clip, stored as a struct ``{bytes: binary, path: string}``.

    Rows decode on output (:mod:`crucible_polars.media.audio`, needs the
    ``crucible-polars[audio]`` extra) to ``{"path", "array", "sampling_rate"}``: ``array``
    is ``float32``, 1-D when mono, else ``(channels, frames)``.

    Parameters
    ----------
    sampling_rate
        Resample to this rate when decoding (``None`` keeps the file's rate).
    mono
        Average the channels to one (as ``datasets`` 3 did); ``False`` keeps them.
    decode
        Whether rows are decoded (``False`` gives the raw ``{"bytes", "path"}`` dict).
    num_channels
        Number of channels to decode to (``datasets`` 5); when set it wins over ``mono``:
        ``1`` averages them, more keeps a file with that many (or repeats a mono one).
    stream_index
        Which audio stream of the file to decode; only the first (``None`` or ``0``).
    id
        Optional identifier, kept for ``datasets`` compatibility.

    Examples
    --------
    >>> Audio(sampling_rate=16000).to_dict()
    {'sampling_rate': 16000, '_type': 'Audio'}
    """

    sampling_rate: int | None = None
    mono: bool = True
    decode: bool = True
    num_channels: int | None = None
    stream_index: int | None = None
    id: str | None = field(default=None, repr=False)
    _type: str = field(default="Audio", init=False, repr=False)

    def to_arrow(self) -> pa.DataType:
        """Return the Arrow type, ``struct<bytes: binary, path: string>``."""
        return _BYTES_PATH_ARROW

    def to_polars(self) -> pl.DataType:
        """Return the Polars dtype, ``Struct({'bytes': Binary, 'path': String})``."""
        return _bytes_path_polars()
