"""Images: decoded on output exactly as ``datasets`` decodes them (differential tests).

The parquet files are written by ``datasets`` itself, so both libraries read the same bytes.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import polars as pl
import pytest

import crucible_polars as cp
from crucible_polars.media.batch import decode_images_to_array

datasets = pytest.importorskip("datasets")

RNG = np.random.default_rng(0)


def _png(mode: str, size: tuple[int, int] = (6, 4), **save: Any) -> bytes:
    channels = {"L": 1, "RGB": 3, "RGBA": 4, "LA": 2, "CMYK": 4}
    width, height = size
    if mode == "1":
        image = PIL.Image.fromarray(RNG.integers(0, 2, (height, width), dtype=np.uint8) * 255)
        image = image.convert("1")
    elif mode == "P":
        image = PIL.Image.fromarray(RNG.integers(0, 255, (height, width, 3), dtype=np.uint8))
        image = image.convert("P", palette=PIL.Image.Palette.ADAPTIVE, colors=8)
    elif mode == "I;16":
        image = PIL.Image.fromarray(RNG.integers(0, 65535, (height, width), dtype=np.uint16))
    else:
        shape = (height, width) if channels[mode] == 1 else (height, width, channels[mode])
        image = PIL.Image.fromarray(RNG.integers(0, 255, shape, dtype=np.uint8), mode=mode)
    buf = io.BytesIO()
    image.save(buf, format=save.pop("format", "PNG"), **save)
    return buf.getvalue()


def _jpeg(
    mode: str = "RGB", size: tuple[int, int] = (8, 8), orientation: int | None = None
) -> bytes:
    data = _png(mode, size, format="JPEG", quality=90)
    return data if orientation is None else _with_orientation(data, "JPEG", orientation)


def _with_orientation(data: bytes, fmt: str, orientation: int) -> bytes:
    image = PIL.Image.open(io.BytesIO(data))
    exif = PIL.Image.Exif()
    exif[PIL.Image.ExifTags.Base.Orientation] = orientation
    buf = io.BytesIO()
    image.save(buf, format=fmt, exif=exif.tobytes())
    return buf.getvalue()


CASES: dict[str, list[bytes]] = {
    "png_L": [_png("L") for _ in range(3)],
    "png_RGBA": [_png("RGBA") for _ in range(3)],
    "jpeg_RGB": [_jpeg() for _ in range(3)],
    "mixed_sizes": [_png("RGB", (5, 3)), _png("RGB", (2, 7)), _png("L", (5, 3))],
    "png_P": [_png("P") for _ in range(2)],
    "png_1": [_png("1") for _ in range(2)],
    "png_I16": [_png("I;16") for _ in range(2)],
    "png_LA": [_png("LA") for _ in range(2)],
    "jpeg_CMYK": [_jpeg("CMYK") for _ in range(2)],
    "jpeg_exif_rotated": [_jpeg(size=(8, 4), orientation=o) for o in (1, 3, 6, 8)],
    "png_exif_rotated": [_with_orientation(_png("RGB", (8, 4)), "PNG", o) for o in (2, 5, 6)],
}


def _write_with_datasets(tmp_path: Path, images: list[Any], name: str = "train") -> tuple[Any, Any]:
    """A parquet file written by ``datasets``; returns (theirs, ours) over it."""
    features = datasets.Features(
        {"image": datasets.Image(), "label": datasets.ClassLabel(names=["cat", "dog"])}
    )
    labels = [i % 2 for i in range(len(images))]
    written = datasets.Dataset.from_dict({"image": images, "label": labels}, features=features)
    folder = tmp_path / name
    folder.mkdir()
    written.to_parquet(str(folder / "train.parquet"))
    theirs = datasets.load_dataset(
        "parquet",
        data_files=str(folder / "train.parquet"),
        split="train",
        cache_dir=str(tmp_path / "hf-cache"),
    )
    ours = cp.load_dataset("parquet", data_files=str(folder / "train.parquet"), split="train")
    return theirs, ours


def _assert_same_numpy(theirs: Any, ours: Any) -> None:
    if isinstance(theirs, np.ndarray) and theirs.dtype != object:
        assert isinstance(ours, np.ndarray)
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)
        return
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("stored", ["bytes", "paths"])
def test_decoded_like_datasets(tmp_path: Path, case: str, stored: str) -> None:
    blobs = CASES[case]
    if stored == "bytes":
        images: list[Any] = [{"bytes": b, "path": None} for b in blobs]
    else:
        images = []
        for i, blob in enumerate(blobs):
            path = tmp_path / f"{case}-{i}.img"
            path.write_bytes(blob)
            images.append(str(path))
    theirs, ours = _write_with_datasets(tmp_path, images)
    assert ours.features.to_dict() == theirs.features.to_dict()
    assert ours.features["label"].names == theirs.features["label"].names

    # python rows: PIL images of the same mode and pixels
    for i in range(len(blobs)):
        a, b = ours[i]["image"], theirs[i]["image"]
        assert isinstance(a, PIL.Image.Image)
        assert (a.mode, a.size) == (b.mode, b.size)
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))

    # numpy: one stacked array when shapes agree, else per-image arrays
    _assert_same_numpy(theirs.with_format("numpy")[:]["image"], ours.to_numpy()["image"])
    _assert_same_numpy(
        theirs.with_format("numpy")[:]["image"], ours.with_format("numpy")[:]["image"]
    )
    row_theirs = theirs.with_format("numpy")[1]["image"]
    row_ours = ours.with_format("numpy")[1]["image"]
    np.testing.assert_array_equal(row_ours, row_theirs)
    assert row_ours.dtype == row_theirs.dtype


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA"])
def test_mode_conversion_like_datasets(tmp_path: Path, mode: str) -> None:
    blobs = CASES["png_P"] + CASES["png_LA"]
    theirs, ours = _write_with_datasets(tmp_path, [{"bytes": b, "path": None} for b in blobs])
    theirs = theirs.cast_column("image", datasets.Image(mode=mode))
    ours = ours.cast_column("image", cp.Image(mode=mode))
    assert ours.features.to_dict() == theirs.features.to_dict()
    assert [ours[i]["image"].mode for i in range(len(blobs))] == [mode] * len(blobs)
    _assert_same_numpy(theirs.with_format("numpy")[:]["image"], ours.to_numpy()["image"])


def test_torch_format_like_datasets(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    for case in ["png_L", "jpeg_RGB", "mixed_sizes"]:
        theirs, ours = _write_with_datasets(
            tmp_path, [{"bytes": b, "path": None} for b in CASES[case]], name=case
        )
        a = next(ours.iter(batch_size=8, format="torch"))["image"]
        b = theirs.with_format("torch")[:]["image"]
        if isinstance(b, torch.Tensor):
            assert isinstance(a, torch.Tensor) and a.dtype == b.dtype
            assert torch.equal(a, b)
        else:
            assert [x.shape for x in a] == [x.shape for x in b]
            assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_decode_false_gives_the_stored_dicts(tmp_path: Path) -> None:
    blobs = CASES["png_L"]
    theirs, ours = _write_with_datasets(tmp_path, [{"bytes": b, "path": None} for b in blobs])
    theirs = theirs.cast_column("image", datasets.Image(decode=False))
    ours = ours.cast_column("image", cp.Image(decode=False))
    assert ours[0]["image"] == theirs[0]["image"] == {"bytes": blobs[0], "path": None}
    assert ours["image"] == [theirs[i]["image"] for i in range(len(blobs))]


def test_only_collected_rows_are_decoded(tmp_path: Path) -> None:
    good = CASES["png_L"][0]
    ds = cp.Dataset.from_dict(
        {
            "image": [{"bytes": good, "path": None}, {"bytes": b"broken", "path": "bad.png"}],
            "n": [0, 1],
        },
        features=cp.Features({"image": cp.Image(), "n": cp.Value("int64")}),
    )
    assert ds.filter(pl.col("n") == 0)[0]["image"].size == (6, 4)
    assert ds.select_columns(["n"]).to_list() == [{"n": 0}, {"n": 1}]
    assert len(ds) == 2 and ds[:1]["image"][0].mode == "L"
    assert ds.to_polars()["image"][1]["bytes"] == b"broken"  # polars output stays raw
    with pytest.raises(cp.errors.ImageDecodeError, match="row 1"):
        ds.to_list()


def test_image_size_resizes_inside_the_decode(tmp_path: Path) -> None:
    blobs = CASES["mixed_sizes"] + [_jpeg(size=(64, 48))]
    ds = cp.Dataset.from_dict(
        {"image": [{"bytes": b, "path": None} for b in blobs]},
        features=cp.Features({"image": cp.Image(mode="RGB")}),
    )
    array = ds.to_numpy(image_size=(10, 5))["image"]
    assert array.shape == (4, 5, 10, 3) and array.dtype == np.uint8
    batches = list(ds.iter(batch_size=3, format="numpy", image_size=(4, 4)))
    assert [b["image"].shape for b in batches] == [(3, 4, 4, 3), (1, 4, 4, 3)]
    rows = next(ds.iter(batch_size=4, image_size=(7, 7)))["image"]
    assert {im.size for im in rows} == {(7, 7)}
    # a big JPEG goes through a reduced-scale decode: close to a full decode + resize
    big = PIL.Image.fromarray(RNG.integers(0, 255, (8, 8, 3), dtype=np.uint8)).resize((512, 512))
    buf = io.BytesIO()
    big.save(buf, format="JPEG", quality=95)
    fast = decode_images_to_array([{"bytes": buf.getvalue(), "path": None}], size=(64, 64))[0]
    slow = np.asarray(PIL.Image.open(io.BytesIO(buf.getvalue())).resize((64, 64)))
    assert np.abs(fast.astype(int) - slow.astype(int)).mean() < 4


def test_paths_relative_to_the_data_files(tmp_path: Path) -> None:
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "a.png").write_bytes(CASES["png_L"][0])
    frame = pl.DataFrame(
        {
            "image": [
                {"bytes": None, "path": "imgs/a.png"},
                {"bytes": CASES["png_L"][1], "path": "gone.png"},
            ]
        },
    )
    cp.Dataset.from_polars(frame, features=cp.Features({"image": cp.Image()})).to_parquet(
        tmp_path / "train.parquet"
    )
    ds = cp.load_dataset(str(tmp_path), split="train")
    assert ds.features["image"] == cp.Image()
    assert ds[0]["image"].size == (6, 4)
    raw = ds.cast_column("image", cp.Image(decode=False))["image"]
    assert raw[0]["path"] == f"{tmp_path}/imgs/a.png"
    assert raw[1]["path"] == "gone.png"  # bytes win; the path stays as stored


def test_nested_images(tmp_path: Path) -> None:
    a, b = CASES["png_L"][0], CASES["mixed_sizes"][0]
    features = datasets.Features(
        {
            "frames": datasets.List(datasets.Image()),
            "pair": {"x": datasets.Image(), "n": datasets.Value("int64")},
        }
    )
    ia, ib = {"bytes": a, "path": None}, {"bytes": b, "path": None}
    rows = {"frames": [[ia, ia], [ib]], "pair": [{"x": ib, "n": 1}, {"x": ia, "n": 2}]}
    datasets.Dataset.from_dict(rows, features=features).to_parquet(str(tmp_path / "n.parquet"))
    theirs = datasets.load_dataset(
        "parquet",
        data_files=str(tmp_path / "n.parquet"),
        split="train",
        cache_dir=str(tmp_path / "hf-cache"),
    )
    ours = cp.load_dataset("parquet", data_files=str(tmp_path / "n.parquet"), split="train")
    assert ours.features.to_dict() == theirs.features.to_dict()
    for i in range(2):
        t, o = theirs[i], ours[i]
        assert [im.size for im in o["frames"]] == [im.size for im in t["frames"]]
        assert o["pair"]["n"] == t["pair"]["n"] and o["pair"]["x"].mode == t["pair"]["x"].mode
        np.testing.assert_array_equal(np.asarray(o["pair"]["x"]), np.asarray(t["pair"]["x"]))
    t_np = theirs.with_format("numpy")[0]["frames"]
    o_np = ours.with_format("numpy")[0]["frames"]
    assert o_np.shape == t_np.shape == (2, 4, 6)
    np.testing.assert_array_equal(o_np, t_np)


def test_audio_without_decoding_passes_through(tmp_path: Path) -> None:
    wav = b"RIFF\x24\x00\x00\x00WAVEfmt "  # the bytes are carried, never decoded
    features = datasets.Features(
        {
            "audio": datasets.Audio(sampling_rate=16_000, decode=False),
            "text": datasets.Value("string"),
        }
    )
    # datasets needs torchcodec to encode audio, even undecoded: write its schema with pyarrow
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {"audio": [{"bytes": wav, "path": "1272-128104-0000.flac"}], "text": ["HELLO"]},
        schema=features.arrow_schema,
    )
    pq.write_table(table, tmp_path / "train.parquet")
    theirs = datasets.load_dataset(
        "parquet",
        data_files=str(tmp_path / "train.parquet"),
        split="train",
        cache_dir=str(tmp_path / "hf-cache"),
    )
    ours = cp.load_dataset("parquet", data_files=str(tmp_path / "train.parquet"), split="train")
    assert ours.features.to_dict() == theirs.features.to_dict()
    assert ours[0] == theirs[0]
    # cast from a plain struct column, and write back for datasets to read
    plain = cp.Dataset.from_dict({"audio": [{"bytes": wav, "path": "a.flac"}]})
    cast = plain.cast_column("audio", cp.Audio(sampling_rate=16_000, decode=False))
    assert cast[0]["audio"] == {"bytes": wav, "path": "a.flac"}
    cast.to_parquet(tmp_path / "ours.parquet")
    back = datasets.Dataset.from_parquet(
        str(tmp_path / "ours.parquet"), cache_dir=str(tmp_path / "c")
    )
    assert back.features["audio"] == datasets.Audio(sampling_rate=16_000, decode=False)
    assert back[0]["audio"] == {"bytes": wav, "path": "a.flac"}


def test_html_shows_thumbnails_for_preview_rows_only() -> None:
    big = _jpeg(size=(400, 300))
    ds = cp.Dataset.from_dict(
        {
            "image": [{"bytes": big, "path": None}] * 3 + [{"bytes": b"junk", "path": "x.png"}],
            "label": [0, 1, 0, 1],
        },
        features=cp.Features({"image": cp.Image(), "label": cp.ClassLabel(names=["a", "b"])}),
    )
    page = ds._repr_html_()
    assert page.count('<img src="data:image/png;base64,') == 3
    assert "undecodable" in page
    thumb = page.split("base64,")[1].split('"')[0]
    import base64

    shown = PIL.Image.open(io.BytesIO(base64.b64decode(thumb)))
    assert max(shown.size) <= 64
    assert "<img" not in cp.Dataset._repr_html_(ds.filter(pl.col("label") == 5))
    assert "<h4>train</h4>" in cp.DatasetDict(train=ds.take(1))._repr_html_()


def test_remote_image_paths_decode(hub: Any) -> None:
    png = CASES["png_RGBA"][0]
    hub.add_repo("images-engineer/remote-images", {"data/imgs/a.png": png, "README.md": b"# x"})
    hf_folder = "hf://datasets/images-engineer/remote-images/data"
    https = f"{hub.url}/datasets/images-engineer/remote-images/resolve/main/data/imgs/a.png"
    frame = pl.DataFrame(
        {"image": [{"bytes": None, "path": "imgs/a.png"}, {"bytes": None, "path": https}]},
        schema={"image": pl.Struct({"bytes": pl.Binary, "path": pl.String})},
    )
    from crucible_polars.readers.image_paths import resolve_image_paths

    lf = frame.lazy().select(resolve_image_paths("image", hf_folder))
    ds = cp.Dataset(lf, cp.Features({"image": cp.Image()}))
    first, second = ds.to_list()
    expected = np.asarray(PIL.Image.open(io.BytesIO(png)))
    np.testing.assert_array_equal(np.asarray(first["image"]), expected)
    np.testing.assert_array_equal(np.asarray(second["image"]), expected)
    with pytest.raises(cp.errors.ImageDecodeError, match=r"missing\.png"):
        cp.Dataset.from_dict(
            {"image": [{"bytes": None, "path": f"{hf_folder}/missing.png"}]},
            features=cp.Features({"image": cp.Image()}),
        )[0]


def test_bench_images_runs_on_a_few_images(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_images.py"
    args = ["--pngs", "20", "--jpegs", "8", "--repeats", "1", "--warmup", "0"]
    done = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "BENCH_DATA_DIR": str(tmp_path / "data")},
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "crucible_polars/pillow" in done.stdout and "jpeg@112" in done.stdout
