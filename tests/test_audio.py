"""Audio decoding: formats, resampling, down-mixing, storage layouts and output formats.

Clips are made here by ``soundfile`` as sines of known frequencies; a decode is checked by
its sampling rate, its length and the dominant frequency of its spectrum.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crucible_polars as cp
from crucible_polars.media.audio import decode_audio

sf = pytest.importorskip("soundfile")
pytest.importorskip("soxr")

FORMATS = {  # format: (subtype, sampling rate, slack in frames -- MP3 pads its frames)
    "WAV": ("PCM_16", 44100, 0),
    "FLAC": ("PCM_16", 44100, 0),
    "OGG": ("VORBIS", 44100, 0),
    "MP3": ("MPEG_LAYER_III", 44100, 1152),
}


def sine(freqs: tuple[float, ...], rate: int, seconds: float = 1.0) -> np.ndarray:
    """``(frames, channels)`` float32: one sine per channel."""
    t = np.arange(int(rate * seconds)) / rate
    return np.stack([0.5 * np.sin(2 * np.pi * f * t) for f in freqs], axis=1).astype(np.float32)


def encode(samples: np.ndarray, rate: int, fmt: str = "WAV", subtype: str | None = None) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, samples, rate, format=fmt, subtype=subtype)
    return buf.getvalue()


def dominant(array: np.ndarray, rate: int) -> float:
    """The frequency (Hz) of the strongest bin of a 1-D signal's spectrum."""
    spectrum = np.abs(np.fft.rfft(array * np.hanning(len(array))))
    return float(np.argmax(spectrum) * rate / len(array))


def audio_frame(values: list[Any]) -> pl.DataFrame:
    schema = {"audio": pl.Struct({"bytes": pl.Binary, "path": pl.String})}
    return pl.DataFrame({"audio": values}, schema=schema)


# --------------------------------------------------------------------------------------
# Formats, resampling, channels
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_each_format_decodes_to_the_sine_it_holds(fmt: str) -> None:
    subtype, rate, slack = FORMATS[fmt]
    data = encode(sine((440.0, 440.0), rate), rate, fmt, subtype)
    clip = decode_audio({"bytes": data, "path": f"a.{fmt.lower()}"})
    assert clip is not None and list(clip) == ["path", "array", "sampling_rate"]
    assert clip["path"] == f"a.{fmt.lower()}" and clip["sampling_rate"] == rate
    assert clip["array"].dtype == np.float32 and clip["array"].ndim == 1
    assert rate <= len(clip["array"]) <= rate + slack
    assert abs(dominant(clip["array"], rate) - 440) < 2

    resampled = decode_audio({"bytes": data, "path": None}, cp.Audio(sampling_rate=16000))
    assert resampled is not None and resampled["sampling_rate"] == 16000
    assert abs(len(resampled["array"]) - 16000 * len(clip["array"]) / rate) <= 1
    assert abs(dominant(resampled["array"], 16000) - 440) < 2


def test_stereo_keeps_channels_first_unless_mono() -> None:
    data = encode(sine((300.0, 1000.0), 16000), 16000, "FLAC")
    stereo = decode_audio({"bytes": data, "path": None}, cp.Audio(mono=False))
    assert stereo is not None and stereo["array"].shape == (2, 16000)
    assert abs(dominant(stereo["array"][0], 16000) - 300) < 2
    assert abs(dominant(stereo["array"][1], 16000) - 1000) < 2
    mono = decode_audio({"bytes": data, "path": None})
    assert mono is not None
    np.testing.assert_allclose(mono["array"], stereo["array"].mean(axis=0), atol=1e-6)
    down = decode_audio({"bytes": data, "path": None}, cp.Audio(mono=False, sampling_rate=8000))
    assert down is not None and down["array"].shape == (2, 8000)
    assert abs(dominant(down["array"][1], 8000) - 1000) < 2
    # num_channels (datasets 5) wins over mono
    two = decode_audio({"bytes": data, "path": None}, cp.Audio(num_channels=2))
    assert two is not None and two["array"].shape == (2, 16000)
    one = decode_audio({"bytes": data, "path": None}, cp.Audio(mono=False, num_channels=1))
    assert one is not None and one["array"].shape == (16000,)


def test_a_mono_file_repeats_to_the_channels_asked() -> None:
    data = encode(sine((440.0,), 8000), 8000)
    clip = decode_audio({"bytes": data, "path": None}, cp.Audio(num_channels=2))
    assert clip is not None and clip["array"].shape == (2, 8000)
    np.testing.assert_array_equal(clip["array"][0], clip["array"][1])


def test_stream_index_other_than_the_first_is_refused() -> None:
    data = encode(sine((440.0,), 8000), 8000)
    with pytest.raises(ValueError, match=r"stream_index=1\) is not supported"):
        decode_audio({"bytes": data, "path": None}, cp.Audio(stream_index=1))


# --------------------------------------------------------------------------------------
# Datasets and output formats
# --------------------------------------------------------------------------------------


def _dataset(clips: list[bytes | None]) -> cp.Dataset:
    values = [None if c is None else {"bytes": c, "path": f"{i}.wav"} for i, c in enumerate(clips)]
    features = cp.Features({"audio": cp.Audio(), "text": cp.Value("string")})
    frame = audio_frame(values).with_columns(text=pl.Series([f"t{i}" for i in range(len(clips))]))
    return cp.Dataset.from_polars(frame, features=features)


def test_rows_batches_and_formats() -> None:
    clip = encode(sine((440.0,), 22050), 22050)
    ds = _dataset([clip, clip, None])
    row = ds[0]
    assert row["audio"]["sampling_rate"] == 22050 and row["audio"]["path"] == "0.wav"
    assert row["audio"]["array"].shape == (22050,) and row["text"] == "t0"
    assert ds[2]["audio"] is None
    assert [r["audio"]["sampling_rate"] for r in ds.select([0, 1])] == [22050, 22050]

    cast = ds.cast_column("audio", cp.Audio(sampling_rate=16000))
    assert cast.features["audio"] == cp.Audio(sampling_rate=16000)
    assert cast[1]["audio"]["array"].shape == (16000,)
    assert cast[:2]["audio"][1]["sampling_rate"] == 16000

    batch = cast.with_format("numpy")[:3]["audio"]
    assert len(batch) == 3 and batch[0]["array"].dtype == np.float32 and batch[2] is None
    torch = pytest.importorskip("torch")
    tensors = cast.with_format("torch")[:2]["audio"]
    assert isinstance(tensors[0]["array"], torch.Tensor) and tensors[0]["array"].shape == (16000,)
    assert tensors[0]["array"].dtype == torch.float32

    raw = ds.cast_column("audio", cp.Audio(decode=False))[0]["audio"]
    assert raw == {"bytes": clip, "path": "0.wav"}


def test_inline_bytes_in_parquet_with_datasets_features(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    clips = [encode(sine((f,), 16000), 16000, "FLAC") for f in (250.0, 500.0)]
    features = datasets.Features({"audio": datasets.Audio(), "id": datasets.Value("int64")})
    table = pa.table(
        {"audio": [{"bytes": c, "path": f"{i}.flac"} for i, c in enumerate(clips)], "id": [0, 1]},
        schema=features.arrow_schema,
    )
    pq.write_table(table, tmp_path / "train.parquet")
    ds = cp.load_dataset("parquet", data_files=str(tmp_path / "train.parquet"), split="train")
    assert ds.features["audio"] == cp.Audio()
    freqs = [dominant(r["audio"]["array"], r["audio"]["sampling_rate"]) for r in ds]
    assert [round(f) for f in freqs] == [250, 500]


def test_relative_paths_are_next_to_the_data_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "data"
    (root / "clips").mkdir(parents=True)
    (root / "clips" / "a.wav").write_bytes(encode(sine((700.0,), 8000), 8000))
    frame = audio_frame([{"bytes": None, "path": "clips/a.wav"}])
    cp.Dataset.from_polars(frame, features=cp.Features({"audio": cp.Audio()})).to_parquet(
        root / "train.parquet"
    )
    monkeypatch.chdir(tmp_path)  # not the data folder
    ds = cp.load_dataset(str(root), split="train")
    clip = ds[0]["audio"]
    assert clip["path"] == str(root / "clips" / "a.wav")
    assert round(dominant(clip["array"], 8000)) == 700


def test_streaming_decodes_and_casts(tmp_path: Path) -> None:
    clips = [{"bytes": encode(sine((440.0,), 8000), 8000), "path": f"{i}.wav"} for i in range(3)]
    features = cp.Features({"audio": cp.Audio()})
    cp.Dataset.from_polars(audio_frame(clips), features=features).to_parquet(tmp_path / "t.parquet")
    ds = cp.load_dataset(str(tmp_path), split="train", streaming=True)
    assert [r["audio"]["sampling_rate"] for r in ds.take(2)] == [8000, 8000]
    cast = ds.cast_column("audio", cp.Audio(sampling_rate=16000))
    rows = list(cast.take(2))
    assert rows[0]["audio"]["array"].shape == (16000,) and rows[1]["audio"]["path"] == "1.wav"


# --------------------------------------------------------------------------------------
# The optional extra
# --------------------------------------------------------------------------------------


def test_importing_the_package_does_not_import_the_audio_extra() -> None:
    code = (
        "import sys, crucible_polars as cp; cp.Audio(sampling_rate=16000);"
        "assert 'soundfile' not in sys.modules and 'soxr' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "soundfile", None)  # import soundfile -> ImportError
    with pytest.raises(ImportError, match=r"crucible-polars\[audio\]"):
        decode_audio({"bytes": b"RIFF", "path": None})


# --------------------------------------------------------------------------------------
# Against datasets
# --------------------------------------------------------------------------------------


def test_same_samples_as_datasets_where_it_can_decode(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    try:
        import torchcodec  # noqa: F401  (datasets 5 decodes audio only through it)
    except Exception:
        pytest.skip(
            "datasets 5 decodes audio only through torchcodec, which needs a system FFmpeg; "
            "neither is installed here, so there is no datasets decode to compare with"
        )
    data = encode(sine((440.0,), 16000), 16000, "FLAC")
    theirs = datasets.Audio(sampling_rate=16000).decode_example({"bytes": data, "path": None})
    ours = decode_audio({"bytes": data, "path": None}, cp.Audio(sampling_rate=16000))
    assert ours is not None
    samples = theirs.get_all_samples()
    np.testing.assert_allclose(samples.data.numpy()[0], ours["array"], atol=1e-4)


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    rate=st.sampled_from([8000, 11025, 16000, 22050, 44100, 48000]),
    target=st.sampled_from([None, 8000, 16000, 24000]),
    frames=st.integers(1, 3000),
    channels=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_float_wav_round_trips_and_resamples_to_the_expected_length(
    rate: int, target: int | None, frames: int, channels: int, seed: int
) -> None:
    samples = np.random.default_rng(seed).uniform(-1, 1, (frames, channels)).astype(np.float32)
    data = encode(samples, rate, "WAV", "FLOAT")
    kept = decode_audio({"bytes": data, "path": None}, cp.Audio(mono=False))
    assert kept is not None
    np.testing.assert_array_equal(kept["array"], samples.T)  # exact: float WAV, no resampling
    clip = decode_audio({"bytes": data, "path": None}, cp.Audio(sampling_rate=target))
    assert clip is not None and clip["sampling_rate"] == (target or rate)
    expected = frames if target in (None, rate) else -(-frames * target // rate)  # ceil
    assert clip["array"].shape == (expected,) and clip["array"].dtype == np.float32
