"""Decoded images and audio through ``map``: a value returned unchanged keeps its storage, an
edited or new one is encoded into the column's feature (``Audio(num_channels=)`` applied), a
new column of handed values keeps their feature; images against ``datasets`` 5 (the oracle),
in memory and after ``save_to_disk`` + ``load_from_disk``. ``datasets`` 5 needs torchcodec
(a system FFmpeg) to decode or encode audio, which is not installed here: the audio cases
check the behaviour its ``AudioDecoder`` has (a decoder returned keeps its ``_hf_encoded``
storage; ``Audio.encode_example`` otherwise)."""

from __future__ import annotations

import io
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import datasets as hf
import numpy as np
import PIL.Image
import pytest

import crucible_polars as cp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from parity_oracle import assert_same, both_ways

sf = pytest.importorskip("soundfile")
pytest.importorskip("soxr")
hf.disable_progress_bars()
cp.disable_progress_bars()

FOLDER = tempfile.mkdtemp()
PNG = os.path.join(FOLDER, "a.png")
PIL.Image.new("RGB", (6, 4), (10, 20, 30)).save(PNG)
JPEG_BYTES = io.BytesIO()
PIL.Image.new("RGB", (5, 3), (200, 10, 10)).save(JPEG_BYTES, format="JPEG")


def _images(module: Any) -> Any:
    data = {"img": [PNG, {"bytes": JPEG_BYTES.getvalue(), "path": None}], "i": [0, 1]}
    features = {"img": {"_type": "Image"}, "i": {"dtype": "int64", "_type": "Value"}}
    return module.Dataset.from_dict(data, features=module.Features.from_dict(features))


def _resize(row: dict[str, Any]) -> dict[str, Any]:
    row["img"] = row["img"].resize((2, 2))
    return row


IMAGE_CASES: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
    "identity": (lambda row: row, {}),
    "the image returned": (lambda row: {"img": row["img"]}, {}),
    "a new column of it": (lambda row: {"copy": row["img"]}, {}),
    "resized": (_resize, {}),
    "grayscale": (lambda row: {"img": row["img"].convert("L")}, {}),
    "batched identity": (lambda b: b, {"batched": True}),
    "batched, a new column": (lambda b: {"copy": b["img"]}, {"batched": True}),
    "never read": (lambda row: {"n": row["i"] + 1}, {}),
}


@pytest.mark.parametrize("case", list(IMAGE_CASES))
def test_images_through_map_as_datasets(case: str) -> None:
    function, kwargs = IMAGE_CASES[case]
    for where, ours, theirs in both_ways(_images(cp), _images(hf)):
        mapped, expected = ours.map(function, **kwargs), theirs.map(function, **kwargs)
        assert mapped.features.to_dict() == expected.features.to_dict(), where
        assert_same(list(mapped), list(expected), f"{case}, {where}")  # images decoded
        if where == "in memory":  # saved, datasets encodes the image again and drops the
            # path of its embedded bytes; an image returned unchanged keeps them here
            stored = mapped.with_format("arrow")[:].to_pylist()
            assert stored == expected.with_format("arrow")[:].to_pylist(), where


# ----------------------------------------------------------------------------- audio
def _sine(rate: int, channels: int = 1, seconds: float = 0.25) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    waves = [0.4 * np.sin(2 * np.pi * 220 * (c + 1) * t) for c in range(channels)]
    return np.asarray(waves[0] if channels == 1 else np.stack(waves), dtype=np.float32)


def _wav(samples: np.ndarray, rate: int, fmt: str = "WAV") -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples.T if samples.ndim == 2 else samples, rate, format=fmt)
    return buffer.getvalue()


WAV_PATH = os.path.join(FOLDER, "a.wav")
with open(WAV_PATH, "wb") as _file:
    _file.write(_wav(_sine(8000), 8000))
FLAC_BYTES = _wav(_sine(8000, channels=2), 8000, "FLAC")


def _audio(feature: cp.Audio | None = None) -> cp.Dataset:
    data = {
        "audio": [WAV_PATH, {"bytes": FLAC_BYTES, "path": "b.flac"}],
        "i": [0, 1],
    }
    features = cp.Features({"audio": feature or cp.Audio(), "i": cp.Value("int64")})
    return cp.Dataset.from_dict(data, features=features)


def _stored(ds: cp.Dataset, column: str = "audio") -> list[Any]:
    return list(ds.with_format("arrow")[:][column].to_pylist())


def _scale(row: dict[str, Any]) -> dict[str, Any]:
    row["audio"]["array"] *= 0.5
    return row


def _scale_batch(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
    for clip in batch["audio"]:
        clip["array"] = clip["array"] * 0.5
    return batch


KEEP: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
    "identity": (lambda row: row, {}),
    "the clip returned": (lambda row: {"audio": row["audio"]}, {}),
    "read, other column returned": (lambda row: {"n": len(row["audio"]["array"])}, {}),
    "batched identity": (lambda b: b, {"batched": True}),
    "batched, the clips returned": (lambda b: {"audio": b["audio"]}, {"batched": True}),
    "two processes": (lambda row: {"audio": row["audio"]}, {"num_proc": 2}),
}


@pytest.mark.parametrize("case", list(KEEP))
def test_clips_returned_unchanged_keep_their_storage(case: str) -> None:
    """As ``datasets`` 5's decoder, which gives back the value it was decoded from."""
    function, kwargs = KEEP[case]
    for where, ds in (("in memory", _audio()), ("saved", _saved(_audio()))):
        mapped = ds.map(function, **kwargs)
        assert mapped.features["audio"] == ds.features["audio"], where
        assert _stored(mapped) == _stored(ds), where
        assert mapped[1]["audio"]["array"].shape == ds[1]["audio"]["array"].shape


def _saved(ds: cp.Dataset) -> cp.Dataset:
    folder = tempfile.mkdtemp()
    ds.save_to_disk(folder)
    loaded = cp.load_from_disk(folder)
    assert isinstance(loaded, cp.Dataset)
    return loaded


@pytest.mark.parametrize("function", [_scale, _scale_batch], ids=["in place", "batched"])
def test_edited_clips_are_encoded_again(function: Callable[..., Any]) -> None:
    ds = _audio(cp.Audio(mono=False))
    before = ds[:]["audio"]
    mapped = ds.map(function, batched=function is _scale_batch)
    stored = _stored(mapped)
    assert all(s["path"] is None and s["bytes"][:4] == b"RIFF" for s in stored)
    for clip, old in zip(mapped[:]["audio"], before, strict=True):
        assert clip["sampling_rate"] == old["sampling_rate"] == 8000
        np.testing.assert_allclose(clip["array"], old["array"] * 0.5, atol=2 / 32767)
    assert _stored(_saved(mapped)) == stored


def test_new_values_are_encoded_with_the_column_feature() -> None:
    ds = _audio(cp.Audio(num_channels=1))

    def louder(row: dict[str, Any]) -> dict[str, Any]:
        stereo = np.stack([row["audio"]["array"]] * 2) * 2
        return {"audio": {"array": stereo, "sampling_rate": 8000}}

    mapped = ds.map(louder)
    assert mapped.features["audio"] == cp.Audio(num_channels=1)
    for stored in _stored(mapped):
        assert sf.info(io.BytesIO(stored["bytes"])).channels == 1  # num_channels applied
    assert ds.map(lambda row: {"audio": WAV_PATH})[1]["audio"]["path"] == WAV_PATH


def test_a_new_column_of_clips_is_audio() -> None:
    """``datasets`` 5 infers ``Audio()`` from decoders returned in a new column; dicts the
    function builds itself stay structs."""
    ds = _audio(cp.Audio(sampling_rate=16000))
    copied = ds.map(lambda row: {"copy": row["audio"]})
    assert copied.features["copy"] == cp.Audio()
    assert _stored(copied, "copy") == _stored(ds)
    assert copied[0]["copy"]["sampling_rate"] == 8000  # the file's own rate: Audio()
    built = ds.map(lambda row: {"own": {"array": [0.0], "sampling_rate": 1}})
    assert not isinstance(built.features["own"], cp.Audio)


def test_a_clip_never_read_is_never_decoded() -> None:
    broken = {"bytes": b"RIFF not audio", "path": "x.wav"}
    ds = cp.Dataset.from_dict(
        {"audio": [broken], "i": [0]},
        features=cp.Features({"audio": cp.Audio(), "i": cp.Value("int64")}),
    )
    mapped = ds.map(lambda row: {"n": row["i"] + 1})
    assert mapped.with_format("arrow")[:]["audio"].to_pylist() == [broken]
    assert ds.map(lambda row: row).with_format("arrow")[:]["audio"].to_pylist() == [broken]


@pytest.mark.parametrize(
    ("channels", "num_channels", "stored"), [(2, 1, 1), (1, 2, 2), (2, 2, 2), (2, None, 2)]
)
def test_num_channels_applies_when_arrays_are_encoded(
    channels: int, num_channels: int | None, stored: int
) -> None:
    """``datasets`` 5 writes arrays with ``AudioEncoder(..., num_channels=...)``."""
    clip = {"array": _sine(8000, channels), "sampling_rate": 8000}
    feature = cp.Audio(num_channels=num_channels)
    encoded = feature.encode_example(clip)
    info = sf.info(io.BytesIO(encoded["bytes"]))
    assert (info.channels, info.samplerate) == (stored, 8000)
    ds = cp.Dataset.from_dict({"a": [clip]}, features=cp.Features({"a": feature}))
    assert ds.with_format("arrow")[:]["a"].to_pylist() == [encoded]
    decoded = ds[0]["a"]["array"]  # Audio() decodes mono unless num_channels says
    assert decoded.shape == ((stored, 2000) if num_channels and stored > 1 else (2000,))


def test_num_channels_the_clip_cannot_have_is_an_error() -> None:
    clip = {"array": _sine(8000, 2), "sampling_rate": 8000}
    with pytest.raises(ValueError, match="num_channels=3"):
        cp.Audio(num_channels=3).encode_example(clip)


def test_streaming_map_decodes_the_images_it_passes_through() -> None:
    """After a streaming ``map`` the Features are unknown (as in ``datasets``), yet images are
    decoded, as ``datasets`` yields them."""
    for function in (lambda row: {"n": row["i"]}, lambda row: {"copy": row["img"]}):
        ours = list(_images(cp).to_iterable_dataset().map(function))
        theirs = list(_images(hf).to_iterable_dataset().map(function))
        assert_same(ours, theirs, "streamed")
