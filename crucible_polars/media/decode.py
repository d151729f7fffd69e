"""Decoding one image: late, checked against bombs, with one process-wide error policy.

Images are decoded exactly as ``datasets.Image.decode_example`` decodes them: bytes win over
the path, the file is fully loaded, an EXIF orientation is applied
(``PIL.ImageOps.exif_transpose``), then the image is converted to the feature's ``mode``.
On top of that, every image is checked before its pixels are decoded:

* more pixels than ``PIL.Image.MAX_IMAGE_PIXELS`` (a decompression bomb) raises
  :class:`~crucible_polars.errors.ImageDecodeError` naming the column and row;
* a corrupt, truncated or missing file raises the same error, naming the file too
  -- or, under :func:`image_decode_errors` ``("warn")``, gives ``None`` and a warning.

The optional ``size=(width, height)`` resize happens here too (so in the decode threads of
:mod:`crucible_polars.media.batch`); for JPEG it first lets libjpeg decode at a reduced scale
(``Image.draft``). The resize is ours, not ``datasets``'.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import PIL.Image
import PIL.ImageFile
import PIL.ImageOps

from crucible_polars.errors import ImageDecodeError
from crucible_polars.sources.open import open_url

OnError = Literal["raise", "warn"]
ImageSize = tuple[int, int]

_ORIENTATION = PIL.Image.ExifTags.Base.Orientation
_SWAPS_AXES = {5, 6, 7, 8}
_EXIF_SOURCES = (
    "exif",
    "Raw profile type exif",
    "XML:com.adobe.xmp",
    "xmp",
)  # EXIF orientations that transpose width and height
_EXIF_KEYS = frozenset(_EXIF_SOURCES)
_DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # includes UnidentifiedImageError, truncated files, missing files
    SyntaxError,  # some Pillow plugins report broken headers this way
    ValueError,  # e.g. oversized PNG text chunks
    EOFError,
    PIL.Image.DecompressionBombError,
    MemoryError,
)

_policy: OnError = "raise"


# --------------------------------------------------------------------------------------
# Error policy
# --------------------------------------------------------------------------------------


def set_image_decode_errors(policy: OnError) -> OnError:
    """Set what a corrupt or truncated image does: ``"raise"`` (default) or ``"warn"``.

    With ``"warn"`` such an image decodes to ``None`` and a ``UserWarning`` names the
    column, row and file. Decompression bombs always raise. Returns the previous policy.

    Examples
    --------
    >>> previous = set_image_decode_errors("warn")
    >>> set_image_decode_errors(previous)
    'warn'
    """
    global _policy
    if policy not in ("raise", "warn"):
        raise ValueError(f"policy must be 'raise' or 'warn', got {policy!r}.")
    previous, _policy = _policy, policy
    return previous


@contextmanager
def image_decode_errors(policy: OnError) -> Iterator[None]:
    """Within the block, corrupt images raise (``"raise"``) or become ``None`` (``"warn"``).

    Examples
    --------
    >>> import warnings
    >>> with image_decode_errors("warn"), warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     decode_image({"bytes": b"not an image", "path": "x.png"}) is None
    True
    """
    previous = set_image_decode_errors(policy)
    try:
        yield
    finally:
        set_image_decode_errors(previous)


def current_image_decode_errors() -> OnError:
    """The error policy in force (see :func:`set_image_decode_errors`).

    Examples
    --------
    >>> current_image_decode_errors()
    'raise'
    """
    return _policy


# --------------------------------------------------------------------------------------
# One image
# --------------------------------------------------------------------------------------


def open_source(data: bytes | None, path: str | None, base_path: str | None) -> Any:
    """A media value's file: its bytes as a buffer, else its path (joined to ``base_path``
    when relative; fetched when a URL). Shared by images and audio.

    Examples
    --------
    >>> open_source(b"xy", "a.png", None).read(), open_source(None, "a.png", "/data")
    (b'xy', '/data/a.png')
    """
    if data is not None:
        return io.BytesIO(data)
    if not path:
        raise ValueError("neither bytes nor path is set")
    full = path
    if base_path is not None and "://" not in path and not os.path.isabs(path):
        full = (
            f"{base_path.rstrip('/')}/{path}"
            if "://" in base_path
            else os.path.join(base_path, path)
        )
    if "://" in full:
        return io.BytesIO(_read_url(full))
    return full


def _read_url(url: str) -> bytes:
    """The bytes at a URL (``hf://``, ``s3://``, ``https://``...)."""
    with open_url(url) as f:
        data: bytes = f.read()
        return data


def _check_pixels(image: PIL.Image.Image) -> str | None:
    limit = PIL.Image.MAX_IMAGE_PIXELS
    width, height = image.size
    if limit is not None and width * height > limit:
        return (
            f"{width}x{height} = {width * height:,} pixels exceeds PIL.Image.MAX_IMAGE_PIXELS "
            f"({limit:,}); a decompression bomb? Raise the limit only for files you trust"
        )
    return None


def _orientation(image: PIL.Image.Image) -> int | None:
    """``image.getexif().get(Orientation)``, without building the EXIF when there is none.

    ``Image.getexif`` reads only these ``info`` keys (and TIFF tags), so when none is there
    the answer is ``None`` -- skipping it saves a third of a small PNG's decode time.
    """
    if not hasattr(image, "tag_v2") and _EXIF_KEYS.isdisjoint(image.info):
        return None
    value = image.getexif().get(_ORIENTATION)
    return None if value is None else int(value)


def _draft(image: PIL.ImageFile.ImageFile, size: ImageSize, orientation: int | None) -> None:
    """Let JPEG decode at a reduced DCT scale that still covers ``size`` (a big speed-up)."""
    width, height = size
    if orientation in _SWAPS_AXES:
        width, height = height, width
    if image.size[0] >= 2 * width and image.size[1] >= 2 * height:
        image.draft(image.mode, (width, height))


def _load(
    data: bytes | None,
    path: str | None,
    mode: str | None,
    size: ImageSize | None,
    base_path: str | None,
    column: str,
    row: int | None,
    fit: bool = False,
) -> PIL.Image.Image:
    """Decode one image as ``datasets`` does; bombs raise :class:`ImageDecodeError`.

    ``size`` resizes to exactly ``(width, height)``, or with ``fit`` shrinks to fit inside
    it keeping the aspect ratio (a thumbnail).
    """
    image: PIL.Image.Image = PIL.Image.open(open_source(data, path, base_path))
    bomb = _check_pixels(image)
    if bomb is not None:
        image.close()
        raise ImageDecodeError(column, row, path, bomb)
    if size is not None and isinstance(image, PIL.ImageFile.ImageFile) and image.format == "JPEG":
        _draft(image, size, image.getexif().get(_ORIENTATION))  # JPEG's EXIF comes first
    image.load()
    if _orientation(image) is not None:
        transposed = PIL.ImageOps.exif_transpose(image)
        if transposed is not None:
            image = transposed
    if mode and mode != image.mode:
        image = image.convert(mode)
    if size is not None and fit:
        image.thumbnail((size[0], size[1]))
    elif size is not None and image.size != (size[0], size[1]):
        image = image.resize((size[0], size[1]))
    return image


def decode_value(
    data: bytes | None,
    path: str | None,
    *,
    mode: str | None = None,
    size: ImageSize | None = None,
    base_path: str | None = None,
    column: str = "image",
    row: int | None = None,
    policy: OnError = "raise",
    fit: bool = False,
) -> PIL.Image.Image | None:
    """Decode one image from its ``bytes`` and ``path`` fields, applying the error ``policy``.

    Parameters
    ----------
    data, path
        The fields of the stored ``{"bytes", "path"}`` struct; bytes win over the path.
    mode, size, base_path, column, row
        As for :func:`decode_image`.
    policy
        ``"raise"``, or ``"warn"``: a corrupt image gives ``None`` and a ``UserWarning``.
        Decompression bombs always raise.
    fit
        With ``size``: shrink to fit inside it, keeping the aspect ratio (a thumbnail),
        instead of resizing to exactly ``size``.

    Examples
    --------
    >>> buf = io.BytesIO(); PIL.Image.new("L", (8, 4)).save(buf, format="PNG")
    >>> decode_value(buf.getvalue(), None, size=(4, 4), fit=True).size
    (4, 2)
    """
    try:
        return _load(data, path, mode, size, base_path, column, row, fit)
    except ImageDecodeError:
        raise
    except _DECODE_ERRORS as err:
        if isinstance(err, PIL.Image.DecompressionBombError):
            raise ImageDecodeError(column, row, path, str(err)) from err
        error = ImageDecodeError(column, row, path, f"{type(err).__name__}: {err}")
        if policy == "raise":
            raise error from err
        warnings.warn(f"{error} Using None instead.", UserWarning, stacklevel=2)
        return None


def decode_image(
    value: dict[str, Any] | None,
    *,
    mode: str | None = None,
    column: str = "image",
    row: int | None = None,
    base_path: str | None = None,
    size: ImageSize | None = None,
) -> PIL.Image.Image | None:
    """Decode one ``{"bytes", "path"}`` image value to a loaded ``PIL.Image``.

    Parameters
    ----------
    value
        The stored struct; ``None`` decodes to ``None``.
    mode
        PIL mode to convert to (``Image(mode=...)``).
    column, row
        Named in errors.
    base_path
        Folder or URL that a relative ``path`` is relative to (default: the working
        directory, as ``datasets``).
    size
        ``(width, height)`` to resize to after decoding (ours, not in ``datasets``).

    Raises
    ------
    ImageDecodeError
        A decompression bomb, or a corrupt, truncated or missing file (unless the
        :func:`image_decode_errors` policy is ``"warn"``).

    Examples
    --------
    >>> buf = io.BytesIO(); PIL.Image.new("L", (2, 3)).save(buf, format="PNG")
    >>> decode_image({"bytes": buf.getvalue(), "path": None}).size
    (2, 3)
    >>> decode_image({"bytes": buf.getvalue(), "path": None}, mode="RGB", size=(4, 4)).mode
    'RGB'
    """
    if value is None:
        return None
    return decode_value(
        value.get("bytes"),
        value.get("path"),
        mode=mode,
        size=size,
        base_path=base_path,
        column=column,
        row=row,
        policy=_policy,
    )


def decode_thumbnail(
    value: dict[str, Any] | None, size: ImageSize = (64, 64)
) -> PIL.Image.Image | None:
    """A small RGB(A) copy of an image that fits in ``size`` (aspect kept), for display.

    JPEGs are decoded at a reduced scale, so a thumbnail of a large photo is cheap. Raises
    :class:`ImageDecodeError` like :func:`decode_image`.

    Examples
    --------
    >>> buf = io.BytesIO(); PIL.Image.new("L", (300, 150)).save(buf, format="PNG")
    >>> decode_thumbnail({"bytes": buf.getvalue(), "path": None}).size
    (64, 32)
    """
    if value is None:
        return None
    image = decode_value(value.get("bytes"), value.get("path"), size=size, fit=True)
    assert image is not None  # the "raise" policy never gives None
    return (
        image
        if image.mode in ("RGB", "RGBA")
        else image.convert(
            "RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB"
        )
    )


__all__ = [
    "ImageSize",
    "OnError",
    "current_image_decode_errors",
    "decode_image",
    "decode_thumbnail",
    "decode_value",
    "image_decode_errors",
    "open_source",
    "set_image_decode_errors",
]
