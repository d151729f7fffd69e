"""Decoding audio: ``{"bytes", "path"}`` values to ``{"path", "array", "sampling_rate"}``.

A clip is read by ``soundfile`` (its wheels carry libsndfile: WAV, FLAC, OGG/Vorbis, MP3
and more), as ``float32`` samples. With ``Audio(mono=True)`` (the default) the channels are
averaged to one 1-D array; otherwise the array is ``(channels, frames)``. With
``Audio(sampling_rate=...)`` it is resampled by ``soxr`` (its "HQ" quality, which is what
``librosa.resample`` -- used by ``datasets`` 3 -- does by default). Both packages come with
the ``crucible-polars[audio]`` extra and are imported only when a clip is decoded.

A clip is checked before its samples are allocated: one whose header claims more than
:func:`max_audio_seconds` seconds of audio (one hour by default), or more samples than
that many seconds of 48 kHz stereo, raises :class:`~crucible_polars.errors.AudioDecodeError`
-- a corrupt or hostile header cannot make the decoder allocate unbounded memory. A
corrupt, truncated or missing file raises the same error, naming the column, row and file
-- or, under the media error policy :func:`~crucible_polars.media.image_decode_errors`
``("warn")`` (one policy for images and audio), decodes to ``None`` with a warning.

A column of clips is decoded in the shared decode threads of
:mod:`crucible_polars.media.batch` (libsndfile and soxr release the GIL).
"""

from __future__ import annotations

import importlib
import re
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from crucible_polars.errors import AudioDecodeError
from crucible_polars.features import Audio
from crucible_polars.media.batch import encoded_bytes, has_remote, run_chunked
from crucible_polars.media.decode import OnError, current_image_decode_errors, open_source

if TYPE_CHECKING:
    from types import ModuleType

_EXTRA = "pip install 'crucible-polars[audio]'"
_budget_seconds = 3600.0
_BUDGET_RATE = 48_000 * 2  # samples per second of budget: 48 kHz stereo
_SHORT_READ_SLACK = 0.01  # MP3 frame counts are estimates: allow 1% fewer samples
_WAV_DATA = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)


def _require(name: str) -> ModuleType:
    """The optional module ``name``, or an ImportError naming the extra that installs it."""
    try:
        return importlib.import_module(name)
    except ImportError as err:
        raise ImportError(
            f"Decoding audio needs the {name!r} package: {_EXTRA} (soundfile and soxr). "
            "Or cast the column to Audio(decode=False) to read the raw bytes."
        ) from err


def set_max_audio_seconds(seconds: float) -> float:
    """Set the duration budget of one clip (seconds); returns the previous budget.

    A clip whose header claims more audio than this -- or more samples than this many
    seconds of 48 kHz stereo -- raises :class:`~crucible_polars.errors.AudioDecodeError`
    before any sample is allocated. Raise it for long recordings you trust.

    Examples
    --------
    >>> previous = set_max_audio_seconds(7200)
    >>> set_max_audio_seconds(previous)
    7200.0
    """
    global _budget_seconds
    if not seconds > 0:
        raise ValueError(f"The audio budget must be a positive number of seconds, got {seconds}.")
    previous, _budget_seconds = _budget_seconds, float(seconds)
    return previous


def max_audio_seconds() -> float:
    """The duration budget of one clip, in seconds (see :func:`set_max_audio_seconds`).

    Examples
    --------
    >>> max_audio_seconds()
    3600.0
    """
    return _budget_seconds


def _check_budget(frames: int, rate: int, channels: int) -> str | None:
    seconds = frames / max(rate, 1)
    if seconds > _budget_seconds or frames * channels > _budget_seconds * _BUDGET_RATE:
        return (
            f"the file claims {frames:,} frames x {channels} channels at {rate} Hz "
            f"({seconds:,.0f} s), over the budget of {_budget_seconds:,.0f} s; if you trust "
            "the file, raise it with crucible_polars.media.set_max_audio_seconds(...)"
        )
    return None


def _channels(samples: np.ndarray, feature: Audio) -> np.ndarray:
    """``(frames, channels)`` samples as the feature asks: 1-D mono, else channels-first."""
    wanted = (
        feature.num_channels if feature.num_channels is not None else (1 if feature.mono else None)
    )
    have = samples.shape[1]
    if wanted == 1:
        return samples[:, 0] if have == 1 else samples.mean(axis=1, dtype=np.float32)
    if wanted is not None and wanted != have:
        if have != 1:
            raise ValueError(f"the file has {have} channels, not num_channels={wanted}")
        samples = np.repeat(samples, wanted, axis=1)
    return np.ascontiguousarray(samples.T)


def _resample(array: np.ndarray, rate: int, target: int | None) -> tuple[np.ndarray, int]:
    """Resample the last axis to ``target`` Hz, to ``ceil(frames * target / rate)`` frames
    (zero-padded or trimmed by a frame, as ``librosa.resample`` -- used by ``datasets`` 3 --
    fixes the length)."""
    if target is None or target == rate:
        return array, rate
    soxr = _require("soxr")
    frames = array.shape[-1]
    if array.ndim == 1:
        out = soxr.resample(array, rate, target)
    else:
        out = soxr.resample(np.ascontiguousarray(array.T), rate, target).T  # soxr: (frames, ch)
    length = -(-frames * target // rate)
    if out.shape[-1] > length:
        out = out[..., :length]
    elif out.shape[-1] < length:
        pad = [(0, 0)] * (out.ndim - 1) + [(0, length - out.shape[-1])]
        out = np.pad(out, pad)
    return np.ascontiguousarray(out, dtype=np.float32), target


def _read(source: Any) -> tuple[np.ndarray, int]:
    """``(frames, channels)`` float32 samples and their rate, within the budget."""
    sf = _require("soundfile")
    with sf.SoundFile(source) as f:
        over = _check_budget(f.frames, f.samplerate, f.channels)
        if over is not None:
            raise _Refused(over)
        if f.format == "WAV":
            short = _WAV_DATA.search(f.extra_info)
            if short and int(short.group(1)) > int(short.group(2)):
                raise OSError(
                    f"truncated: the header claims {int(short.group(1)):,} bytes of samples, "
                    f"the file holds {int(short.group(2)):,}"
                )
        samples = f.read(dtype="float32", always_2d=True)
        if len(samples) < f.frames * (1 - _SHORT_READ_SLACK):
            raise OSError(
                f"truncated: the header claims {f.frames:,} frames, only {len(samples):,} "
                "could be read"
            )
        return samples, int(f.samplerate)


class _Refused(Exception):
    """A clip over the budget (raised as :class:`AudioDecodeError`, never swallowed)."""


def decode_audio_value(
    data: bytes | None,
    path: str | None,
    feature: Audio | None = None,
    *,
    base_path: str | None = None,
    column: str = "audio",
    row: int | None = None,
    policy: OnError = "raise",
) -> dict[str, Any] | None:
    """Decode one clip from its ``bytes`` and ``path`` fields (bytes win over the path).

    Parameters
    ----------
    data, path
        The fields of the stored ``{"bytes", "path"}`` struct.
    feature
        The :class:`~crucible_polars.features.Audio` feature: ``sampling_rate``, ``mono``
        and ``num_channels`` shape the result (default ``Audio()``).
    base_path
        Folder or URL a relative ``path`` is relative to (default: the working directory).
    column, row
        Named in errors.
    policy
        ``"raise"``, or ``"warn"``: a corrupt, truncated or missing file gives ``None`` and
        a ``UserWarning``. A clip over the duration budget always raises.

    Returns
    -------
    dict or None
        ``{"path": path, "array": float32 array, "sampling_rate": int}``.

    Raises
    ------
    AudioDecodeError
        A corrupt, truncated or missing file, or one over the duration budget.

    Examples
    --------
    >>> import io, soundfile
    >>> buf = io.BytesIO()
    >>> soundfile.write(buf, np.zeros((800, 2)), 8000, format="WAV")
    >>> clip = decode_audio_value(buf.getvalue(), "a.wav", Audio(sampling_rate=16000))
    >>> clip["array"].shape, clip["array"].dtype, clip["sampling_rate"]
    ((1600,), dtype('float32'), 16000)
    """
    feature = Audio() if feature is None else feature
    if feature.stream_index not in (None, 0):
        raise ValueError(
            f"Audio(stream_index={feature.stream_index}) is not supported: soundfile reads "
            "the first audio stream of a file. Use stream_index=None."
        )
    try:
        samples, rate = _read(open_source(data, path, base_path))
        array, rate = _resample(_channels(samples, feature), rate, feature.sampling_rate)
    except ImportError:
        raise
    except _Refused as err:
        raise AudioDecodeError(column, row, path, str(err)) from None
    except (OSError, RuntimeError, ValueError, EOFError, MemoryError) as err:
        # soundfile.LibsndfileError is a RuntimeError; a missing file an OSError
        error = AudioDecodeError(column, row, path, f"{type(err).__name__}: {err}")
        if policy == "raise":
            raise error from err
        warnings.warn(f"{error} Using None instead.", UserWarning, stacklevel=2)
        return None
    return {"path": path, "array": array, "sampling_rate": rate}


def decode_audio(
    value: dict[str, Any] | None,
    feature: Audio | None = None,
    *,
    column: str = "audio",
    row: int | None = None,
    base_path: str | None = None,
) -> dict[str, Any] | None:
    """Decode one ``{"bytes", "path"}`` audio value (``None`` gives ``None``).

    See :func:`decode_audio_value` for the parameters and the result.

    Examples
    --------
    >>> import io, soundfile
    >>> buf = io.BytesIO()
    >>> soundfile.write(buf, np.zeros(400), 16000, format="FLAC")
    >>> decode_audio({"bytes": buf.getvalue(), "path": None})["array"].shape
    (400,)
    """
    if value is None:
        return None
    return decode_audio_value(
        value.get("bytes"),
        value.get("path"),
        feature,
        base_path=base_path,
        column=column,
        row=row,
        policy=current_image_decode_errors(),
    )


def decode_audio_fields(
    data: Sequence[bytes | None],
    paths: Sequence[str | None],
    nulls: Sequence[bool],
    feature: Audio | None = None,
    *,
    column: str = "audio",
    first_row: int = 0,
    rows: Sequence[int] | None = None,
) -> list[dict[str, Any] | None]:
    """Decode a column of clips (its struct's fields) in the decode threads, keeping order.

    ``nulls[i]``: the whole value is null (gives ``None``). Errors name ``rows[i]``
    (default ``first_row + i``) as the row of the ``i``-th clip. Broken clips follow the
    media error policy (:func:`~crucible_polars.media.image_decode_errors`, one policy for
    images and audio).

    Examples
    --------
    >>> import io, soundfile
    >>> buf = io.BytesIO()
    >>> soundfile.write(buf, np.zeros(400), 16000, format="WAV")
    >>> out = decode_audio_fields([buf.getvalue(), None], ["a.wav", None], [False, True])
    >>> out[0]["sampling_rate"], out[1]
    (16000, None)
    """

    policy = current_image_decode_errors()
    rows = range(first_row, first_row + len(data)) if rows is None else rows

    def work(start: int, stop: int) -> list[dict[str, Any] | None]:
        return [
            None
            if nulls[i]
            else decode_audio_value(
                data[i], paths[i], feature, column=column, row=rows[i], policy=policy
            )
            for i in range(start, stop)
        ]

    chunks = run_chunked(
        len(data), work, io=has_remote(data, paths), nbytes=encoded_bytes(data, nulls)
    )
    return [clip for chunk in chunks for clip in chunk]


def audio_to_torch(clips: Sequence[dict[str, Any] | None]) -> list[dict[str, Any] | None]:
    """Decoded clips with their ``array`` as a ``float32`` torch tensor (shared memory).

    Examples
    --------
    >>> audio_to_torch([{"path": None, "array": np.zeros(3, np.float32), "sampling_rate": 8}])
    ... # doctest: +SKIP
    [{'path': None, 'array': tensor([0., 0., 0.]), 'sampling_rate': 8}]
    """
    import torch

    return [
        None if clip is None else {**clip, "array": torch.from_numpy(clip["array"])}
        for clip in clips
    ]


__all__ = [
    "audio_to_torch",
    "decode_audio",
    "decode_audio_fields",
    "decode_audio_value",
    "max_audio_seconds",
    "set_max_audio_seconds",
]
