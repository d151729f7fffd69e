"""Audio from an audiofolder and streamed from the (test) Hub; broken and hostile clips."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

import crucible_polars as cp
from crucible_polars.errors import AudioDecodeError
from crucible_polars.media import set_max_audio_seconds

sf = pytest.importorskip("soundfile")
pytest.importorskip("soxr")


def wav(path: Path | None, freq: float, rate: int = 8000, fmt: str = "WAV") -> bytes:
    t = np.arange(rate) / rate
    buf = io.BytesIO()
    sf.write(buf, (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate, format=fmt)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(buf.getvalue())
    return buf.getvalue()


def peak(clip: dict[str, Any]) -> int:
    spectrum = np.abs(np.fft.rfft(clip["array"]))
    return round(float(np.argmax(spectrum) * clip["sampling_rate"] / len(clip["array"])))


# --------------------------------------------------------------------------------------
# audiofolder
# --------------------------------------------------------------------------------------


def test_audiofolder_with_label_folders(tmp_path: Path) -> None:
    root = tmp_path / "commands"
    for label, freq in [("yes", 400.0), ("no", 800.0)]:
        for i in range(2):
            wav(root / "train" / label / f"{i}.wav", freq)
    (root / "train" / "no" / "notes.txt").write_text("ignored")
    ds = cp.load_dataset("audiofolder", data_dir=str(root), split="train")
    assert ds.features == cp.Features(
        {"audio": cp.Audio(), "label": cp.ClassLabel(names=["no", "yes"])}
    )
    rows = list(ds)
    assert [r["label"] for r in rows] == [0, 0, 1, 1]
    assert [peak(r["audio"]) for r in rows] == [800, 800, 400, 400]
    inferred = cp.load_dataset(str(root), split="train")  # the format inferred from .wav
    assert inferred.features == ds.features and len(inferred) == 4


def test_audiofolder_matches_datasets_where_it_can_load(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    root = tmp_path / "commands"
    for label, freq in [("yes", 400.0), ("no", 800.0)]:
        wav(root / label / "0.wav", freq)
    try:
        theirs = datasets.load_dataset(
            "audiofolder", data_dir=str(root), split="train", cache_dir=str(tmp_path / "hf")
        ).cast_column("audio", datasets.Audio(decode=False))
    except Exception as err:
        if "torchcodec" not in repr(err.__cause__ or err):
            raise
        pytest.skip(
            "datasets 5's audiofolder encodes audio through torchcodec (which needs a system "
            "FFmpeg); neither is installed here, so it cannot load the folder to compare"
        )
    ours = cp.load_dataset("audiofolder", data_dir=str(root), split="train")
    assert ours.features.to_dict() == theirs.features.to_dict()
    assert theirs["label"] == ours["label"]
    raw = ours.cast_column("audio", cp.Audio(decode=False))
    assert [r["audio"]["path"] for r in raw] == [r["audio"]["path"] for r in theirs]


def test_audiofolder_with_metadata(tmp_path: Path) -> None:
    root = tmp_path / "speech"
    wav(root / "a.flac", 300.0, fmt="FLAC")
    wav(root / "sub" / "b.wav", 600.0)
    lines = [{"file_name": "sub/b.wav", "text": "bee"}, {"file_name": "a.flac", "text": "ay"}]
    (root / "metadata.jsonl").write_text("\n".join(json.dumps(x) for x in lines))
    ds = cp.load_dataset("audiofolder", data_dir=str(root), split="train")
    assert list(ds.features) == ["audio", "text"] and isinstance(ds.features["audio"], cp.Audio)
    assert [(r["text"], peak(r["audio"])) for r in ds] == [("bee", 600), ("ay", 300)]


# --------------------------------------------------------------------------------------
# Streaming a LibriSpeech-shaped parquet from the test Hub
# --------------------------------------------------------------------------------------


def test_streaming_librispeech_shaped_parquet_from_the_hub(hub: Any, tmp_path: Path) -> None:
    repo = "audio/librispeech-like"
    if repo not in hub.repo_ids():
        rows = {
            "file": [f"{i}.flac" for i in range(6)],
            "audio": [
                {"bytes": wav(None, 200.0 + 100 * i, rate=22050, fmt="FLAC"), "path": f"{i}.flac"}
                for i in range(6)
            ],
            "text": [f"UTTERANCE {i}" for i in range(6)],
            "speaker_id": [1272 + i % 2 for i in range(6)],
            "chapter_id": [128104] * 6,
            "id": [f"1272-128104-{i:04d}" for i in range(6)],
        }
        features = cp.Features(
            {
                "file": cp.Value("string"),
                "audio": cp.Audio(sampling_rate=16000),
                "text": cp.Value("string"),
                "speaker_id": cp.Value("int64"),
                "chapter_id": cp.Value("int64"),
                "id": cp.Value("string"),
            }
        )
        schema = {**features.to_polars()}
        path = tmp_path / "clean.parquet"
        cp.Dataset.from_polars(pl.DataFrame(rows, schema=schema), features=features).to_parquet(
            path
        )
        hub.add_repo(repo, {"clean/validation-00000-of-00001.parquet": path.read_bytes()})
    ds = cp.load_dataset(repo, split="validation", streaming=True)
    assert ds.features["audio"] == cp.Audio(sampling_rate=16000)
    first = list(ds.take(2))
    assert first[0]["audio"]["sampling_rate"] == 16000 and first[0]["text"] == "UTTERANCE 0"
    assert first[1]["audio"]["array"].shape == (16000,) and peak(first[1]["audio"]) == 300
    native = ds.cast_column("audio", cp.Audio())
    assert next(iter(native))["audio"]["sampling_rate"] == 22050
    cast = native.cast_column("audio", cp.Audio(sampling_rate=16000))
    rows_ = list(cast.take(3))
    assert [r["speaker_id"] for r in rows_] == [1272, 1273, 1272]
    assert [peak(r["audio"]) for r in rows_] == [200, 300, 400]
    batch = next(iter(cast.with_format("numpy").iter(batch_size=2)))
    assert batch["audio"][0]["array"].dtype == np.float32


# --------------------------------------------------------------------------------------
# Broken and hostile clips
# --------------------------------------------------------------------------------------


def _column(values: list[dict[str, Any]]) -> cp.Dataset:
    schema = {"audio": pl.Struct({"bytes": pl.Binary, "path": pl.String})}
    frame = pl.DataFrame({"audio": values}, schema=schema)
    return cp.Dataset.from_polars(frame, features=cp.Features({"audio": cp.Audio()}))


def _broken(kind: str) -> bytes:
    good = {f: wav(None, 440.0, fmt=f) for f in ("WAV", "FLAC", "MP3")}
    return {
        "truncated.wav": good["WAV"][: len(good["WAV"]) // 2],
        "truncated.flac": good["FLAC"][: len(good["FLAC"]) // 2],
        "truncated.mp3": good["MP3"][: len(good["MP3"]) // 2],
        "garbage.wav": b"this is not audio" * 10,
        "empty.flac": b"",
    }[kind]


@pytest.mark.parametrize(
    "name", ["truncated.wav", "truncated.flac", "truncated.mp3", "garbage.wav", "empty.flac"]
)
def test_a_broken_clip_names_the_row_and_the_file(name: str) -> None:
    good = {"bytes": wav(None, 440.0), "path": "good.wav"}
    ds = _column([good, good, {"bytes": _broken(name), "path": name}])
    assert ds[0]["audio"]["sampling_rate"] == 8000
    with pytest.raises(AudioDecodeError) as info:
        ds[:3]
    assert info.value.row == 2 and info.value.path == name and info.value.column == "audio"
    message = str(info.value)
    assert name in message and "row 2" in message and "Audio(decode=False)" in message


def test_a_missing_file_names_it(tmp_path: Path) -> None:
    ds = _column([{"bytes": None, "path": str(tmp_path / "gone.wav")}])
    with pytest.raises(AudioDecodeError, match=r"row 0 \(.*gone\.wav\)"):
        ds[0]


def _claims_hours(data: bytes) -> bytes:
    """A FLAC file whose STREAMINFO claims 2**35 samples (about 50 days at 8 kHz)."""
    assert data[:4] == b"fLaC"
    packed = int.from_bytes(data[18:26], "big")  # rate:20 channels:3 bits:5 total:36
    packed = (packed & ~((1 << 36) - 1)) | (1 << 35)
    return data[:18] + packed.to_bytes(8, "big") + data[26:]


def test_a_clip_claiming_hours_is_refused_before_allocating() -> None:
    hostile = _claims_hours(wav(None, 440.0, fmt="FLAC"))
    assert sf.info(io.BytesIO(hostile)).frames == 1 << 35
    ds = _column([{"bytes": hostile, "path": "long.flac"}])
    with pytest.raises(AudioDecodeError, match="over the budget of 3,600 s") as info:
        ds[0]
    assert "set_max_audio_seconds" in str(info.value) and info.value.row == 0


def test_the_budget_can_be_lowered_and_raised() -> None:
    ds = _column([{"bytes": wav(None, 440.0), "path": "one-second.wav"}])
    previous = set_max_audio_seconds(0.5)
    try:
        with pytest.raises(AudioDecodeError, match="budget"):
            ds[0]
    finally:
        set_max_audio_seconds(previous)
    assert ds[0]["audio"]["array"].shape == (8000,)
    with pytest.raises(ValueError, match="positive"):
        set_max_audio_seconds(0)


def test_the_warn_policy_gives_none_for_a_broken_clip_but_never_for_the_budget() -> None:
    from crucible_polars.media import image_decode_errors

    good = {"bytes": wav(None, 440.0), "path": "good.wav"}
    ds = _column([good, {"bytes": b"not audio", "path": "bad.wav"}])
    with image_decode_errors("warn"), pytest.warns(UserWarning, match=r"row 1 \(bad\.wav\)"):
        clips = ds[:2]["audio"]
    assert clips[0]["sampling_rate"] == 8000 and clips[1] is None
    hostile = _column([{"bytes": _claims_hours(wav(None, 440.0, fmt="FLAC")), "path": "x"}])
    with image_decode_errors("warn"), pytest.raises(AudioDecodeError, match="budget"):
        hostile[0]
