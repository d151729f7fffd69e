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
    """An audio file, stored as a struct ``{bytes: binary, path: string}`` (schema only).

    Parameters
    ----------
    sampling_rate
        Target sampling rate for decoding.
    decode
        Whether rows are decoded.
    num_channels
        Number of channels to decode to.
    stream_index
        Which audio stream of the file to decode.
    id
        Optional identifier, kept for ``datasets`` compatibility.

    Examples
    --------
    >>> Audio(sampling_rate=16000).to_dict()
    {'sampling_rate': 16000, '_type': 'Audio'}
    """

    sampling_rate: int | None = None
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
