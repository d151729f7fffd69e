"""Media features: ``Image`` and ``Audio``, stored as ``{bytes: binary, path: string}``.

Examples
--------
>>> Audio().to_arrow() == Image().to_arrow()
True
"""

from __future__ import annotations

import io
import os
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from .base import FeatureBase

__all__ = ["Audio", "Image", "encode_audio", "encode_image", "encode_image_arrays"]

_BYTES_PATH_ARROW = pa.struct({"bytes": pa.binary(), "path": pa.string()})


def _bytes_path_polars() -> pl.DataType:
    return pl.Struct({"bytes": pl.Binary(), "path": pl.String()})


def _image_to_bytes(image: Any) -> bytes:
    """PIL image to bytes: its own format when PIL can write it, else PNG (TIFF for odd modes)."""
    buffer = io.BytesIO()
    writable = {"PNG", "JPEG", "TIFF", "BMP", "GIF", "WEBP"}
    fmt = image.format if image.format in writable else None
    if fmt is None:
        fmt = "PNG" if image.mode in ("1", "L", "LA", "RGB", "RGBA") else "TIFF"
    image.save(buffer, format=fmt)
    return buffer.getvalue()


_IMAGE_ARRAY_DTYPES = [
    np.dtype(t)
    for t in ("|b1", "|u1", "<u2", ">u2", "<i2", ">i2", "<u4", ">u4", "<i4", ">i4", "<f4")
] + [np.dtype(t) for t in (">f4", "<f8", ">f8")]
"""The array dtypes Pillow takes as they are (``datasets``' ``_VALID_IMAGE_ARRAY_DTPYES``)."""
_NATIVE_ORDER = "<" if sys.byteorder == "little" else ">"


def _image_dtype(dtype: np.dtype[Any], channels: bool) -> np.dtype[Any]:
    """The dtype an array is stored in as an image, as ``datasets.features.image``'s
    ``encode_np_array`` chooses it: uint8 for several channels, else the dtype itself when
    Pillow takes it, else the largest smaller one of its kind (``int64`` to ``int32``)."""
    if channels:
        if dtype.kind not in "ui":
            raise TypeError(
                f"Unsupported array dtype {dtype} for image encoding: a multi-channel image "
                "must hold integers (uint8)."
            )
        target = np.dtype("|u1")
    elif dtype in _IMAGE_ARRAY_DTYPES:
        return dtype
    else:
        order = dtype.byteorder if dtype.byteorder != "=" else _NATIVE_ORDER
        size = dtype.itemsize
        names = [f"{order}{dtype.kind}{size >> k}" for k in range(size.bit_length())]
        found = [t for t in _IMAGE_ARRAY_DTYPES if t.str in names]
        if found:
            target = max(found, key=lambda t: t.itemsize)
        else:
            raise TypeError(
                f"Cannot store an array of dtype {dtype} as an image: give one of "
                f"{[str(t) for t in _IMAGE_ARRAY_DTYPES]} (uint8 for several channels)."
            )
    if target != dtype:
        warnings.warn(
            f"Downcasting array dtype {dtype} to {target} to be compatible with 'Pillow'",
            stacklevel=4,
        )
    return target


def _array_to_image(array: np.ndarray) -> Any:
    import PIL.Image

    return PIL.Image.fromarray(array.astype(_image_dtype(array.dtype, bool(array.shape[2:]))))


def encode_image(value: Any) -> dict[str, Any]:
    """One image value as the ``{bytes, path}`` struct ``datasets`` stores.

    A path or ``Path`` is kept as a path, bytes as bytes, a numpy array (or nested list) or a
    PIL image becomes PNG/TIFF bytes (a PIL image opened from a file keeps its path), and a
    ``{bytes, path}`` dict is kept.

    Examples
    --------
    >>> import numpy as np
    >>> sorted(encode_image(np.zeros((2, 2, 3), dtype=np.uint8)))
    ['bytes', 'path']
    >>> encode_image("cat.png")
    {'bytes': None, 'path': 'cat.png'}
    """
    import PIL.Image

    if isinstance(value, list):
        value = np.array(value)
    if isinstance(value, str):
        return {"bytes": None, "path": value}
    if isinstance(value, Path):
        return {"bytes": None, "path": str(value.absolute())}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"bytes": bytes(value), "path": None}
    if isinstance(value, np.ndarray):
        return {"bytes": _image_to_bytes(_array_to_image(value)), "path": None}
    if isinstance(value, PIL.Image.Image):
        filename = getattr(value, "filename", "")
        if filename:
            return {"bytes": None, "path": str(filename)}
        return {"bytes": _image_to_bytes(value), "path": None}
    if isinstance(value, Mapping):
        data, path = value.get("bytes"), value.get("path")
        if path is not None and os.path.isfile(path):
            return {"bytes": None, "path": path}
        if data is not None or path is not None:
            return {"bytes": data, "path": path}
        raise ValueError(
            f"An image sample should have one of 'path' or 'bytes' but they are missing or "
            f"None in {value}."
        )
    raise TypeError(
        f"Cannot encode a {type(value).__name__} as an Image: give a path, bytes, a numpy "
        "array, a PIL image or a {'bytes': ..., 'path': ...} dict."
    )


def encode_image_arrays(series: pl.Series) -> pl.Series:
    """A column of pixel arrays (nested lists) as image structs, as ``datasets`` casts a list
    column to ``Image``: each value becomes ``np.array(value)`` of its Python items (so
    integers are ``int64``, stored as ``int32``, whatever the column's dtype) and is
    encoded by :func:`encode_image`.

    Examples
    --------
    >>> column = pl.Series([[[0, 255], [255, 0]]], dtype=pl.List(pl.List(pl.UInt8)))
    >>> sorted(encode_image_arrays(column).struct.fields)
    ['bytes', 'path']
    """
    values = [None if v is None else encode_image(np.array(v)) for v in series.to_list()]
    return pl.Series(series.name, values, dtype=_bytes_path_polars())


def _wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    """16-bit PCM WAV bytes of ``samples`` (1-D, or ``(channels, frames)`` as decoded)."""
    try:
        import soundfile
    except ImportError as err:
        raise ImportError(
            "Encoding an audio array needs the 'soundfile' package: pip install "
            "'crucible-polars[audio]'. Or give the clip as a path or as encoded bytes."
        ) from err
    if samples.ndim == 2:
        samples = samples.T  # soundfile writes (frames, channels)
    elif samples.ndim != 1:
        raise ValueError(
            f"An audio array must be 1-D or (channels, frames), got shape {samples.shape}."
        )
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, int(rate), format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _to_channels(samples: np.ndarray, num_channels: int | None) -> np.ndarray:
    """Samples (1-D mono, or ``(channels, frames)``) with ``num_channels`` channels, as
    ``datasets`` 5 writes them (``AudioEncoder(..., num_channels=...)``): ``1`` averages the
    channels, ``2`` repeats a mono clip; ``None`` keeps them."""
    if num_channels is None:
        return samples
    have = 1 if samples.ndim == 1 else samples.shape[0]
    if num_channels == have:
        return samples
    if num_channels == 1:
        return samples.mean(axis=0, dtype=np.float32)
    if have == 1:
        mono = samples if samples.ndim == 1 else samples[0]
        return np.repeat(mono[np.newaxis, :], num_channels, axis=0)
    raise ValueError(
        f"Cannot write a clip of {have} channels with num_channels={num_channels}: give "
        "num_channels=None, 1 (mono) or the clip's own number of channels."
    )


def _pcm_to_wav(value: Mapping[str, Any], path: str, num_channels: int | None = None) -> bytes:
    """A raw 16-bit ``.pcm`` file (or its bytes) as WAV bytes, at the value's sampling rate."""
    rate = value.get("sampling_rate")
    if rate is None:
        raise KeyError(
            f"{path!r} holds raw PCM samples: give its 'sampling_rate' in the value, e.g. "
            "{'path': ..., 'sampling_rate': 16000}."
        )
    data = value.get("bytes")
    pcm = np.frombuffer(data, dtype=np.int16) if data else np.fromfile(path, dtype="<i2")
    return _wav_bytes(_to_channels(pcm.astype(np.float32) / 32767, num_channels), rate)


def encode_audio(value: Any, num_channels: int | None = None) -> dict[str, Any]:
    """One audio value as the ``{bytes, path}`` struct, as ``datasets.Audio.encode_example``.

    A path or ``Path`` is kept as a path, bytes as bytes; a ``{"array", "sampling_rate"}``
    dict (e.g. a decoded clip) becomes 16-bit PCM WAV bytes (a 2-D array is
    ``(channels, frames)``, as clips decode); a ``{bytes, path}`` dict is kept, with only the
    path when it names a local file (a local ``.pcm`` file of raw 16-bit samples becomes
    WAV bytes, given ``sampling_rate``).

    Parameters
    ----------
    value
        The clip: ``str``, ``Path``, ``bytes``, or a dict as above.
    num_channels
        The channels samples are written with (arrays and ``.pcm`` files; ``datasets`` 5's
        ``Audio(num_channels=)``): ``1`` averages them, a mono clip is repeated to more;
        ``None`` keeps the clip's own.

    Examples
    --------
    >>> encode_audio("clips/a.wav")
    {'bytes': None, 'path': 'clips/a.wav'}
    >>> clip = encode_audio({"array": np.zeros(160), "sampling_rate": 16000})
    >>> clip["bytes"][:4], clip["path"]
    (b'RIFF', None)
    >>> import soundfile
    >>> stereo = {"array": np.zeros((2, 160)), "sampling_rate": 16000}
    >>> soundfile.info(io.BytesIO(encode_audio(stereo, num_channels=1)["bytes"])).channels
    1
    """
    if isinstance(value, str):
        return {"bytes": None, "path": value}
    if isinstance(value, Path):
        return {"bytes": None, "path": str(value.absolute())}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"bytes": bytes(value), "path": None}
    if not isinstance(value, Mapping):
        raise TypeError(
            f"Cannot encode a {type(value).__name__} as Audio: give a path, bytes, a "
            "{'array': ..., 'sampling_rate': ...} dict or a {'bytes': ..., 'path': ...} dict."
        )
    if "array" in value:
        if value.get("sampling_rate") is None:
            raise ValueError("An audio array needs its 'sampling_rate' to be encoded.")
        samples = _to_channels(np.asarray(value["array"], dtype=np.float32), num_channels)
        return {"bytes": _wav_bytes(samples, value["sampling_rate"]), "path": None}
    data, path = value.get("bytes"), value.get("path")
    if path is not None and os.path.isfile(path):
        if str(path).endswith("pcm"):
            return {"bytes": _pcm_to_wav(value, path, num_channels), "path": None}
        return {"bytes": None, "path": path}
    if data is not None or path is not None:
        return {"bytes": data, "path": path}
    raise ValueError(
        f"An audio sample should have one of 'path' or 'bytes' but they are missing or "
        f"None in {value}."
    )


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

    def encode_example(self, value: Any) -> dict[str, Any]:
        """Encode a path, ``Path``, bytes, numpy array, PIL image or ``{bytes, path}`` dict
        into the stored struct (as ``datasets.Image.encode_example``).

        Examples
        --------
        >>> Image().encode_example(b"raw")
        {'bytes': b'raw', 'path': None}
        """
        return encode_image(value)


@dataclass
class Audio(FeatureBase):
    """An audio clip, stored as a struct ``{bytes: binary, path: string}``.

    Rows decode on output (:mod:`crucible_polars.media.audio`, needs the
    ``crucible-polars[audio]`` extra) to ``{"path", "array", "sampling_rate"}``: ``array``
    is ``float32``, 1-D when mono, else ``(channels, frames)``.

    The positional parameters are ``datasets`` 5's, in its order (``Audio(16000, False)``
    does not decode); ``mono`` is taken by name only.

    Parameters
    ----------
    sampling_rate
        Resample to this rate when decoding (``None`` keeps the file's rate).
    decode
        Whether rows are decoded (``False`` gives the raw ``{"bytes", "path"}`` dict).
    num_channels
        Number of channels to decode to and to write arrays with (``datasets`` 5); when set
        it wins over ``mono``: ``1`` averages them, more keeps a file with that many (or
        repeats a mono one).
    stream_index
        Which audio stream of the file to decode; only the first (``None`` or ``0``).
    id
        Optional identifier, kept for ``datasets`` compatibility.
    mono
        Average the channels to one when decoding (as ``datasets`` 3 did); ``False`` keeps
        them (keyword only).

    Examples
    --------
    >>> Audio(sampling_rate=16000).to_dict()
    {'sampling_rate': 16000, '_type': 'Audio'}
    >>> Audio(16000, False).decode
    False
    """

    sampling_rate: int | None = None
    decode: bool = True
    num_channels: int | None = None
    stream_index: int | None = None
    id: str | None = field(default=None, repr=False)
    mono: bool = field(default=True, kw_only=True)  # not a datasets 5 field: by name only
    _type: str = field(default="Audio", init=False, repr=False)

    def to_arrow(self) -> pa.DataType:
        """Return the Arrow type, ``struct<bytes: binary, path: string>``."""
        return _BYTES_PATH_ARROW

    def to_polars(self) -> pl.DataType:
        """Return the Polars dtype, ``Struct({'bytes': Binary, 'path': String})``."""
        return _bytes_path_polars()

    def encode_example(self, value: Any) -> dict[str, Any]:
        """Encode a path, ``Path``, bytes, ``{"array", "sampling_rate"}`` dict or
        ``{bytes, path}`` dict into the stored struct (see :func:`encode_audio`); arrays
        are written with ``num_channels`` channels when it is set, as in ``datasets`` 5.

        Examples
        --------
        >>> Audio().encode_example(b"RIFF...")
        {'bytes': b'RIFF...', 'path': None}
        """
        return encode_audio(value, self.num_channels)
