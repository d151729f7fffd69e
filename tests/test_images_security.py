"""Hostile inputs: image bombs, truncated or corrupt images, crafted archives and metadata.

Each is refused with a clear error naming what is at fault, and nothing is written outside
the extraction target.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import tarfile
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
import PIL.Image
import polars as pl
import pytest

import crucible_polars as cp
from crucible_polars.errors import DataFileError, ImageDecodeError, UnsafeArchiveError
from crucible_polars.media.decode import image_decode_errors


def _png(size: tuple[int, int] = (8, 8), mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    PIL.Image.new(mode, size, "red").save(buf, format="PNG")
    return buf.getvalue()


def _jpeg(size: tuple[int, int] = (64, 64)) -> bytes:
    buf = io.BytesIO()
    noise = np.random.default_rng(0).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    PIL.Image.fromarray(noise).save(buf, format="JPEG")
    return buf.getvalue()


def _png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` pixels (10 gigapixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    idat = zlib.compress(bytes(width + 1) * 4)  # a few rows of zeros; the rest never comes
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat)


def _images(values: list[dict[str, object]]) -> cp.Dataset:
    # Built from a Polars frame: from_dict encodes (and refuses an empty struct, as datasets).
    n = len(values)
    frame = pl.DataFrame(
        {"image": values, "i": list(range(n))},
        schema={"image": pl.Struct({"bytes": pl.Binary, "path": pl.String}), "i": pl.Int64},
    )
    return cp.Dataset.from_polars(
        frame, features=cp.Features({"image": cp.Image(), "i": cp.Value("int64")})
    )


# --------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------


def test_decompression_bomb_names_the_row() -> None:
    good = {"bytes": _png(), "path": None}
    ds = _images([good] * 5 + [{"bytes": _png_bomb(), "path": "bomb.png"}] + [good] * 3)
    with pytest.raises(ImageDecodeError, match=r"row 5 \(bomb.png\).*decompression bomb") as info:
        ds.to_numpy()
    assert (info.value.row, info.value.path, info.value.column) == (5, "bomb.png", "image")
    with pytest.raises(ImageDecodeError, match="row 5"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds[5]
    # the bomb always raises, even when corrupt images are let through as None
    with image_decode_errors("warn"), pytest.raises(ImageDecodeError, match="pixels"):
        ds.to_list()
    assert ds.filter(pl.col("i") != 5).to_numpy()["image"].shape == (8, 8, 8, 3)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_pixel_limit_follows_pillow_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    ds = _images([{"bytes": _png((100, 100)), "path": None}])
    monkeypatch.setattr(PIL.Image, "MAX_IMAGE_PIXELS", 5_000)
    with pytest.raises(ImageDecodeError, match="10,000 pixels exceeds"):
        ds[0]
    monkeypatch.setattr(PIL.Image, "MAX_IMAGE_PIXELS", None)
    assert ds[0]["image"].size == (100, 100)


def test_truncated_jpeg_names_row_and_file(tmp_path: Path) -> None:
    whole = _jpeg()
    (tmp_path / "cut.jpg").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "ok.jpg").write_bytes(whole)
    ds = _images(
        [{"bytes": None, "path": str(tmp_path / "ok.jpg")}] * 2
        + [{"bytes": None, "path": str(tmp_path / "cut.jpg")}]
    )
    with pytest.raises(ImageDecodeError, match=r"row 2 \(.*cut\.jpg\).*truncated") as info:
        ds.to_list()
    assert info.value.path == str(tmp_path / "cut.jpg")
    with pytest.raises(ImageDecodeError, match="row 2"):
        next(ds.iter(batch_size=3, format="numpy"))
    # opt-in: None and a warning naming the row and file
    with image_decode_errors("warn"), pytest.warns(UserWarning, match=r"row 2 \(.*cut\.jpg"):
        images = ds["image"]
    assert images[2] is None and images[0].size == (64, 64)
    with image_decode_errors("warn"), pytest.warns(UserWarning):
        arrays = ds.to_numpy()["image"]
    assert len(arrays) == 3 and arrays[2] is None and arrays[1].shape == (64, 64, 3)


def test_corrupt_and_missing_images(tmp_path: Path) -> None:
    ds = _images(
        [
            {"bytes": _png(), "path": None},
            {"bytes": b"\x89PNG\r\n\x1a\n garbage", "path": "x.png"},
            {"bytes": None, "path": str(tmp_path / "missing.png")},
            {"bytes": None, "path": None},
        ]
    )
    with pytest.raises(ImageDecodeError, match=r"row 1 \(x\.png\)"):
        ds[1]
    with pytest.raises(ImageDecodeError, match=r"row 2 .*missing\.png"):
        ds[2]
    with pytest.raises(ImageDecodeError, match=r"row 3.*neither bytes nor path"):
        ds[3]
    with pytest.raises(ImageDecodeError, match="row 1"):  # the first failure, in row order
        ds.to_numpy()


def test_error_rows_count_across_batches() -> None:
    values = [{"bytes": _png(), "path": None}] * 40
    values[33] = {"bytes": b"junk", "path": "j.png"}
    batches = _images(values).iter(batch_size=10, format="numpy")
    for _ in range(3):
        assert next(batches)["image"].shape == (10, 8, 8, 3)
    with pytest.raises(ImageDecodeError, match="row 33"):
        next(batches)


# --------------------------------------------------------------------------------------
# Archives, end to end through load_dataset("imagefolder")
# --------------------------------------------------------------------------------------


def _snapshot(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


def _cache() -> Path:
    from crucible_polars.sources.open import cache_root

    return cache_root() / "extracted"


def _zip(path: Path, members: dict[str, bytes], symlinks: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


def _tar(path: Path, members: list[tuple[str, bytes, bytes, str]]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, data, kind, link in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = link
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            tf.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return path


def _hostile_archives(folder: Path) -> list[tuple[Path, str]]:
    good = {"cat/1.png": _png(), "dog/1.png": _png()}
    png = _png()
    reg, sym, hard = tarfile.REGTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE
    return [
        (_zip(folder / "traversal.zip", {**good, "../../evil.png": png}), "../../evil.png"),
        (_zip(folder / "absolute.zip", {**good, "/tmp/evil.png": png}), "/tmp/evil.png"),
        (_zip(folder / "link.zip", good, {"cat/link.png": "../../../etc/passwd"}), "cat/link.png"),
        (_tar(folder / "traversal.tar.gz", [("../evil.png", png, reg, "")]), "../evil.png"),
        (_tar(folder / "absolute.tar.gz", [("/tmp/evil.png", png, reg, "")]), "/tmp/evil.png"),
        (_tar(folder / "symlink.tar.gz", [("cat/x.png", b"", sym, "/etc/passwd")]), "cat/x.png"),
        (_tar(folder / "hardlink.tar.gz", [("cat/y.png", b"", hard, "../../y")]), "cat/y.png"),
    ]


def test_hostile_archives_are_refused_end_to_end(tmp_path: Path) -> None:
    made = tmp_path / "archives"
    made.mkdir()
    cases = _hostile_archives(made)
    cache = _cache()
    before = _snapshot(tmp_path)
    before_cache = _snapshot(cache) if cache.exists() else set()
    for archive, member in cases:
        with pytest.raises(UnsafeArchiveError) as info:
            cp.load_dataset("imagefolder", data_files=str(archive), split="train")
        assert info.value.member == member, archive
        assert str(archive) in str(info.value)
        assert _snapshot(tmp_path) == before, archive
        assert (_snapshot(cache) if cache.exists() else set()) == before_cache, archive
    assert not (tmp_path.parent / "evil.png").exists()
    assert not Path("/tmp/evil.png").exists()


def test_zip_bomb_is_refused_end_to_end(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_BZIP2) as zf:
        zf.writestr("cat/1.png", _png())
        zf.writestr("dog/zeros.png", bytes(20 << 20))
    assert bomb.stat().st_size < 10_000
    cache = _cache()
    before = _snapshot(cache) if cache.exists() else set()
    with pytest.raises(UnsafeArchiveError, match=r"dog/zeros\.png"):
        cp.load_dataset("imagefolder", data_files=str(bomb), split="train")
    assert (_snapshot(cache) if cache.exists() else set()) == before


def test_metadata_cannot_point_outside_its_folder(tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    (tmp_path / "secret.png").write_bytes(_png())
    (root / "ok.png").write_bytes(_png())
    for bad in ["../secret.png", str(tmp_path / "secret.png"), "file:///etc/passwd"]:
        (root / "metadata.jsonl").write_text(
            f'{{"file_name": "ok.png", "k": 1}}\n{{"file_name": "{bad}", "k": 2}}\n'
        )
        ds = cp.load_dataset("imagefolder", data_dir=str(root), split="train")
        with pytest.raises(DataFileError, match="must be a relative path inside") as info:
            ds.to_list()
        assert info.value.path == str(root / "metadata.jsonl")
    # a file_name that stays inside after normalisation is fine
    (root / "metadata.jsonl").write_text('{"file_name": "sub/../ok.png", "k": 1}\n')
    ds = cp.load_dataset("imagefolder", data_dir=str(root), split="train")
    assert ds[0]["image"].size == (8, 8) and ds.num_rows == 1
    assert os.path.normpath(
        ds.cast_column("image", cp.Image(decode=False))[0]["image"]["path"]
    ) == (str(root / "ok.png"))
