"""Plain 8-bit PNGs straight to arrays, without ``PIL.Image.open``'s per-file Python.

For a tiny image (an MNIST digit: 28×28, ~200 bytes) most of Pillow's time goes to the
Python of ``Image.open`` and the PNG plugin (reading chunks, building the file object),
not to decompressing pixels. A plain PNG -- 8-bit grey, grey+alpha, RGB or RGBA, not
interlaced, with no chunk that can change its pixels or orientation -- is read here
instead: its chunks are walked with ``struct`` (CRCs checked), and its ``IDAT`` data go to
Pillow's own PNG decoder (``Image.frombytes(..., "zip", rawmode)``, the decoder
``Image.open`` uses), so the pixels are Pillow's, bit for bit.

Anything else -- palette, 16-bit or interlaced images, ``tRNS``/``eXIf``/text/ICC chunks,
a bad CRC, truncated data, more than ``PIL.Image.MAX_IMAGE_PIXELS`` pixels, a mode to
convert to -- gives ``None``, and the caller decodes the file with ``Image.open`` as
``datasets`` does (which also raises the proper error for a broken file).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import PIL.Image

__all__ = ["PngArrays"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHUNK = struct.Struct(">I4s")
_IHDR = struct.Struct(">IIBBBBB")
_MODES = {0: ("L", 1), 2: ("RGB", 3), 4: ("LA", 2), 6: ("RGBA", 4)}  # 8-bit colour types
_HARMLESS = frozenset({b"pHYs", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"tIME", b"bKGD"})
"""Ancillary chunks that change neither the decoded pixels, nor the mode, nor the EXIF
orientation ``datasets`` applies (text chunks can carry EXIF, so they are not here)."""


def _idat(data: bytes) -> tuple[str, int, int, int, bytes] | None:
    """``(mode, width, height, bands, compressed pixels)`` of a plain PNG, else ``None``."""
    if not data.startswith(_SIGNATURE):
        return None
    pos, end = 8, len(data)
    header: tuple[int, ...] | None = None
    parts: list[bytes] = []
    previous = b""
    while pos + 12 <= end:
        length, kind = _CHUNK.unpack_from(data, pos)
        start = pos + 8
        stop = start + length
        if stop + 4 > end:
            return None
        body = data[start:stop]
        (crc,) = struct.unpack_from(">I", data, stop)
        if zlib.crc32(body, zlib.crc32(kind)) != crc:
            return None
        if header is None:
            if kind != b"IHDR" or length != 13:
                return None
            header = _IHDR.unpack(body)
        elif kind == b"IDAT":
            if parts and previous != b"IDAT":
                return None  # IDAT chunks apart: Image.open stops at the gap
            parts.append(body)
        elif kind == b"IEND":
            break
        elif kind not in _HARMLESS:
            return None
        previous = kind
        pos = stop + 4
    else:
        return None  # no IEND: truncated
    assert header is not None
    width, height, depth, colour, compression, filtering, interlace = header
    if depth != 8 or colour not in _MODES or compression or filtering or interlace or not parts:
        return None
    limit = PIL.Image.MAX_IMAGE_PIXELS
    if not width or not height or (limit is not None and width * height > limit):
        return None
    mode, bands = _MODES[colour]
    return mode, width, height, bands, b"".join(parts)


class PngArrays:
    """Decodes plain PNGs to arrays as ``np.asarray(PIL.Image.open(...))`` gives them.

    Keeps one scratch image of the last mode and size, so use one instance per thread.

    Parameters
    ----------
    mode
        The ``Image(mode=...)`` to convert to: only files already in that mode are taken
        (``None``: any).

    Examples
    --------
    >>> import io
    >>> buf = io.BytesIO(); PIL.Image.new("L", (3, 2), 7).save(buf, format="PNG")
    >>> PngArrays().decode(buf.getvalue()).tolist()
    [[7, 7, 7], [7, 7, 7]]
    >>> PngArrays(mode="RGB").decode(buf.getvalue()) is None  # needs a conversion
    True
    """

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode
        self._scratch: PIL.Image.Image | None = None

    def decode(self, data: bytes | None) -> np.ndarray | None:
        """The pixels of ``data`` (``(H, W)`` for grey, else ``(H, W, C)`` ``uint8``; read
        only, as ``np.asarray`` of an image), or ``None`` when it is not a plain PNG.

        Parameters
        ----------
        data
            The encoded file (``None`` gives ``None``).

        Examples
        --------
        >>> import io
        >>> buf = io.BytesIO(); PIL.Image.new("RGBA", (4, 2)).save(buf, format="PNG")
        >>> PngArrays().decode(buf.getvalue()).shape, PngArrays().decode(b"GIF89a")
        ((2, 4, 4), None)
        """
        found = None if data is None else _idat(data)
        if found is None:
            return None
        mode, width, height, bands, pixels = found
        if self.mode is not None and self.mode != mode:
            return None
        image = self._scratch
        if image is None or image.mode != mode or image.size != (width, height):
            image = self._scratch = PIL.Image.new(mode, (width, height))
        try:
            image.frombytes(pixels, "zip", mode)  # PNG's own decoder: inflate + unfilter
        except (ValueError, OSError, MemoryError):
            return None  # truncated or corrupt: Image.open names the problem
        array = np.frombuffer(image.tobytes(), dtype=np.uint8)
        return array.reshape((height, width) if bands == 1 else (height, width, bands))
