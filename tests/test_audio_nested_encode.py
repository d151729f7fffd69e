"""Audio inside lists and dicts decodes like a top-level clip, and Audio values given to the
constructors (paths, ``Path``, bytes, ``{"array", "sampling_rate"}``) encode as ``datasets``'
``Audio.encode_example`` does."""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import crucible_polars as cp
from crucible_polars.errors import AudioDecodeError
from crucible_polars.features.media import encode_audio
from crucible_polars.media import image_decode_errors
from crucible_polars.media.audio import decode_audio

sf = pytest.importorskip("soundfile")
pytest.importorskip("soxr")


def sine(freq: float, rate: int, seconds: float = 0.5, channels: int = 1) -> np.ndarray:
    """``(frames,)`` or ``(channels, frames)`` float32 sines (channel ``c`` at ``freq * (c+1)``)."""
    t = np.arange(int(rate * seconds)) / rate
    waves = [0.5 * np.sin(2 * np.pi * freq * (c + 1) * t) for c in range(channels)]
    return np.asarray(waves[0] if channels == 1 else np.stack(waves), dtype=np.float32)


def wav(samples: np.ndarray, rate: int, fmt: str = "WAV") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, samples.T if samples.ndim == 2 else samples, rate, format=fmt)
    return buf.getvalue()


def dominant(array: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(array * np.hanning(len(array))))
    return float(np.argmax(spectrum) * rate / len(array))


def same_clip(ours: dict[str, Any] | None, top: dict[str, Any] | None) -> bool:
    assert ours is not None and top is not None
    assert sorted(ours) == sorted(top) == ["array", "path", "sampling_rate"]
    return bool(
        ours["path"] == top["path"]
        and ours["sampling_rate"] == top["sampling_rate"]
        and ours["array"].dtype == top["array"].dtype == np.float32
        and np.array_equal(ours["array"], top["array"])
    )


# --------------------------------------------------------------------------------------
# Nested decoding
# --------------------------------------------------------------------------------------

A = {"bytes": wav(sine(300.0, 8000), 8000), "path": "a.wav"}
B = {"bytes": wav(sine(500.0, 22050, channels=2), 22050, "FLAC"), "path": "b.flac"}


def nested_dataset(features: cp.Features | None = None) -> cp.Dataset:
    features = features or cp.Features(
        {
            "clips": cp.List(cp.Audio()),
            "pair": {"a": cp.Audio(sampling_rate=16000), "n": cp.Value("int64")},
        }
    )
    rows = {
        "clips": [[A, B], [], None, [None, A]],
        "pair": [{"a": B, "n": 0}, {"a": None, "n": 1}, None, {"a": A, "n": 3}],
    }
    return cp.Dataset.from_dict(rows, features=features)


def test_nested_clips_decode_like_top_level_ones() -> None:
    ds = nested_dataset()
    row = ds[0]
    assert same_clip(row["clips"][0], decode_audio(A))
    assert same_clip(row["clips"][1], decode_audio(B))  # stereo averaged: mono=True
    assert same_clip(row["pair"]["a"], decode_audio(B, cp.Audio(sampling_rate=16000)))
    assert row["pair"]["n"] == 0 and row["pair"]["a"]["sampling_rate"] == 16000
    assert round(dominant(row["pair"]["a"]["array"], 16000)) == 500
    assert ds[1] == {"clips": [], "pair": {"a": None, "n": 1}}
    assert ds[2] == {"clips": None, "pair": None}
    assert ds[3]["clips"][0] is None and same_clip(ds[3]["clips"][1], decode_audio(A))

    batch = ds[:4]
    assert same_clip(batch["clips"][3][1], decode_audio(A))
    assert [r["pair"]["n"] if r["pair"] else None for r in ds] == [0, 1, None, 3]


def test_nested_clips_keep_the_feature_options() -> None:
    features = cp.Features(
        {
            "clips": cp.List(cp.Audio(mono=False)),
            "pair": {"a": cp.Audio(sampling_rate=8000, mono=False), "n": cp.Value("int64")},
        }
    )
    row = nested_dataset(features)[0]
    assert row["clips"][1]["array"].shape == (2, 11025)  # (channels, frames)
    pair = row["pair"]["a"]
    assert pair["array"].shape == (2, 4000) and pair["sampling_rate"] == 8000
    raw = nested_dataset().cast_column("clips", cp.List(cp.Audio(decode=False)))[0]["clips"]
    assert raw == [A, B]


def test_nested_clips_in_numpy_and_torch_formats() -> None:
    ds = nested_dataset()
    row = ds.with_format("numpy")[0]
    assert isinstance(row["clips"], np.ndarray) and row["clips"].dtype == object
    assert same_clip({**row["clips"][0], "sampling_rate": 8000}, decode_audio(A))
    assert int(row["pair"]["a"]["sampling_rate"]) == 16000 and row["pair"]["n"] == 0
    column = ds.with_format("numpy")[:]["pair"]
    assert column[0]["a"]["array"].shape == (8000,) and column[2] is None
    pytest.importorskip("torch")
    trow = ds.with_format("torch")[0]
    assert trow["clips"][0]["array"].shape == (4000,)


def test_nested_clips_stream(tmp_path: Path) -> None:
    nested_dataset().to_parquet(tmp_path / "train.parquet")
    ds = cp.load_dataset(str(tmp_path), split="train", streaming=True)
    rows = list(ds.take(4))
    assert same_clip(rows[0]["clips"][0], decode_audio(A))
    assert same_clip(rows[3]["pair"]["a"], decode_audio(A, cp.Audio(sampling_rate=16000)))


def test_a_broken_nested_clip_names_its_row() -> None:
    features = cp.Features({"clips": cp.List(cp.Audio())})
    broken = {"bytes": b"RIFF not really", "path": "bad.wav"}
    ds = cp.Dataset.from_dict({"clips": [[A], [A, broken]]}, features=features)
    assert ds[0]["clips"][0]["sampling_rate"] == 8000
    with pytest.raises(AudioDecodeError, match=r"row 1.*bad\.wav"):
        ds[:2]
    with image_decode_errors("warn"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ds[1]["clips"][1] is None


def test_nested_audio_written_by_datasets_decodes(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    features = datasets.Features({"clips": datasets.List(datasets.Audio())})
    table = pa.table({"clips": [[A, B]]}, schema=features.arrow_schema)
    pq.write_table(table, tmp_path / "n.parquet")
    ours = cp.load_dataset("parquet", data_files=str(tmp_path / "n.parquet"), split="train")
    assert ours.features.to_dict() == features.to_dict()
    assert same_clip(ours[0]["clips"][1], decode_audio(B))


# --------------------------------------------------------------------------------------
# Encoding in the constructors
# --------------------------------------------------------------------------------------


def test_paths_and_bytes_encode_as_datasets_does(tmp_path: Path) -> None:
    file = tmp_path / "a.wav"
    file.write_bytes(A["bytes"])
    features = cp.Features({"audio": cp.Audio()})
    values = [str(file), file, A["bytes"], {"path": str(file), "bytes": b"ignored"}, None]
    ds = cp.Dataset.from_dict({"audio": values}, features=features)
    stored = ds.cast_column("audio", cp.Audio(decode=False))["audio"]
    assert stored == [
        {"bytes": None, "path": str(file)},
        {"bytes": None, "path": str(file.absolute())},
        {"bytes": A["bytes"], "path": None},
        {"bytes": None, "path": str(file)},  # a local file: the path only, as datasets
        None,
    ]
    clips = ds["audio"]
    assert all(same_clip({**c, "path": None}, {**decode_audio(A), "path": None}) for c in clips[:4])
    assert clips[4] is None
    assert cp.Dataset.from_list([{"audio": str(file)}], features=features)[0]["audio"]["path"]


@pytest.mark.parametrize("channels", [1, 2])
def test_arrays_encode_as_wav_bytes_and_decode_back(channels: int) -> None:
    samples = sine(440.0, 16000, channels=channels)
    features = cp.Features({"audio": cp.Audio(mono=False), "many": cp.List(cp.Audio(mono=False))})
    value = {"array": samples, "sampling_rate": 16000, "path": "ignored.wav"}
    ds = cp.Dataset.from_dict({"audio": [value], "many": [[value, A]]}, features=features)
    stored = ds.cast_column("audio", cp.Audio(decode=False))[0]["audio"]
    assert stored["path"] is None and stored["bytes"][:4] == b"RIFF"
    info = sf.info(io.BytesIO(stored["bytes"]))
    assert (info.format, info.subtype, info.channels, info.samplerate) == (
        "WAV",
        "PCM_16",
        channels,
        16000,
    )
    clip = ds[0]["audio"]
    assert clip["sampling_rate"] == 16000
    expected = samples if channels == 2 else samples[None]
    np.testing.assert_allclose(clip["array"], expected, atol=1 / 32767)  # 16-bit PCM
    np.testing.assert_array_equal(ds[0]["many"][0]["array"], clip["array"])
    # a decoded clip encodes back (what a map that returns it gives)
    assert encode_audio(clip) == stored


def test_raw_pcm_files_become_wav(tmp_path: Path) -> None:
    pcm = (sine(200.0, 8000) * 32767).astype("<i2")
    file = tmp_path / "a.pcm"
    file.write_bytes(pcm.tobytes())
    encoded = encode_audio({"path": str(file), "sampling_rate": 8000})
    assert encoded["path"] is None
    clip = decode_audio(encoded)
    assert clip is not None and clip["sampling_rate"] == 8000
    np.testing.assert_allclose(clip["array"], pcm / 32767, atol=2 / 32767)
    with pytest.raises(KeyError, match="sampling_rate"):
        encode_audio({"path": str(file)})


def test_values_that_cannot_be_audio_name_the_row() -> None:
    features = cp.Features({"audio": cp.Audio()})
    with pytest.raises(ValueError, match=r"row 1.*'path' or 'bytes'"):
        cp.Dataset.from_dict({"audio": ["a.wav", {"path": None}]}, features=features)
    with pytest.raises(TypeError, match=r"row 0.*Cannot encode a int as Audio"):
        cp.Dataset.from_dict({"audio": [3]}, features=features)
    with pytest.raises(ValueError, match="sampling_rate"):
        encode_audio({"array": np.zeros(3)})
    with pytest.raises(ValueError, match="1-D or"):
        encode_audio({"array": np.zeros((1, 2, 3)), "sampling_rate": 8000})


def test_same_storage_as_datasets_where_it_can_encode(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    try:
        import torchcodec  # noqa: F401  (datasets 5 encodes audio only through it)
    except Exception:
        pytest.skip(
            "datasets 5's Audio.encode_example imports torchcodec (a system FFmpeg) even for "
            "paths and bytes; neither is installed here, so there is no datasets encoding to "
            "compare with (the expected values above are datasets' documented behaviour)"
        )
    file = tmp_path / "a.wav"
    file.write_bytes(A["bytes"])
    for value in (str(file), file, A["bytes"], {"path": str(file), "bytes": None}):
        assert encode_audio(value) == datasets.Audio().encode_example(value)
    value = {"array": sine(440.0, 16000), "sampling_rate": 16000}
    theirs = decode_audio(datasets.Audio().encode_example(value))
    ours = decode_audio(encode_audio(value))
    assert theirs is not None and ours is not None
    np.testing.assert_allclose(ours["array"], theirs["array"], atol=1 / 32767)


def test_each_clip_is_decoded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import crucible_polars.media.audio as audio

    calls: list[str | None] = []
    real = audio.decode_audio_value

    def counted(data: bytes | None, path: str | None, *args: Any, **kwargs: Any) -> Any:
        calls.append(path)
        return real(data, path, *args, **kwargs)

    monkeypatch.setattr(audio, "decode_audio_value", counted)
    top = cp.Dataset.from_dict({"audio": [A, B, None]}, features=cp.Features({"audio": cp.Audio()}))
    top[:3]
    assert sorted(calls) == ["a.wav", "b.flac"]
    calls.clear()
    nested_dataset()[:4]
    assert sorted(calls) == ["a.wav", "a.wav", "a.wav", "b.flac", "b.flac"]
