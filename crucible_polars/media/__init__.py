"""Media values: audio decoded by :mod:`~crucible_polars.media.audio`; images decoded on
output, one at a time (:mod:`~crucible_polars.media.decode`)
or a column at a time in threads (:mod:`~crucible_polars.media.batch`), also inside lists and
dicts (:mod:`~crucible_polars.media.nested`).

Examples
--------
>>> from crucible_polars.media import image_decode_errors
>>> with image_decode_errors("warn"):  # corrupt images become None (with a warning)
...     pass
"""

from crucible_polars.media.audio import decode_audio, max_audio_seconds, set_max_audio_seconds
from crucible_polars.media.batch import decode_images, decode_images_to_array
from crucible_polars.media.decode import (
    decode_image,
    decode_thumbnail,
    image_decode_errors,
    set_image_decode_errors,
)

__all__ = [
    "decode_audio",
    "decode_image",
    "decode_images",
    "decode_images_to_array",
    "decode_thumbnail",
    "image_decode_errors",
    "max_audio_seconds",
    "set_image_decode_errors",
    "set_max_audio_seconds",
]
