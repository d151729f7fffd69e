"""The plain-PNG fast path (media/png.py): the same arrays as ``np.asarray(Image.open(...))``,
and every PNG it does not take falls back to Pillow (with Pillow's errors)."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import PIL.Image
import PIL.ImageOps
import PIL.PngImagePlugin
import pytest

from crucible_polars.errors import ImageDecodeError
from crucible_polars.media import decode_images_to_array
from crucible_polars.media.png import PngArrays


def png(image: PIL.Image.Image, **params: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", **params)
    return buf.getvalue()


def pillow(data: bytes, mode: str | None = None) -> np.ndarray:
    image = PIL.Image.open(io.BytesIO(data))
    image.load()
    image = PIL.ImageOps.exif_transpose(image) or image
    return np.asarray(image if mode is None or image.mode == mode else image.convert(mode))


def chunks(data: bytes) -> list[bytes]:
    out, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        out.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return out


def with_chunk(data: bytes, kind: bytes, body: bytes) -> bytes:
    """``data`` with a chunk inserted right after IHDR."""
    chunk = struct.pack(">I", len(body)) + kind + body
    chunk += struct.pack(">I", zlib.crc32(body, zlib.crc32(kind)))
    return data[:33] + chunk + data[33:]


def pixels(mode: str, size: tuple[int, int], seed: int) -> PIL.Image.Image:
    """Noise plus gradients, so that the encoder's adaptive filters all appear."""
    rng = np.random.default_rng(seed)
    bands = len(mode)
    w, h = size
    ramp = (np.add.outer(np.arange(h), np.arange(w)) * 3 % 256).astype(np.uint8)
    array = np.stack([ramp] * bands, axis=-1)
    noise = rng.integers(0, 256, (h, w, bands), dtype=np.uint8)
    array = np.where(rng.random((h, w, 1)) < 0.3, noise, array)
    return PIL.Image.fromarray(array[..., 0] if bands == 1 else array, mode)


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
@pytest.mark.parametrize("size", [(1, 1), (28, 28), (37, 5), (300, 260)])
def test_same_pixels_as_pillow(mode: str, size: tuple[int, int]) -> None:
    data = png(pixels(mode, size, seed=size[0]))
    fast = PngArrays().decode(data)
    assert fast is not None
    expected = pillow(data)
    assert fast.shape == expected.shape and fast.dtype == expected.dtype
    assert np.array_equal(fast, expected)


def test_several_idat_chunks_and_compression_levels() -> None:
    image = pixels("RGB", (600, 400), seed=3)
    for level in (0, 1, 9):
        data = png(image, compress_level=level)
        assert np.array_equal(PngArrays().decode(data), np.asarray(image))
    big = png(image, compress_level=0)
    assert chunks(big).count(b"IDAT") > 1


def test_one_decoder_reused_across_sizes_and_modes() -> None:
    decoder = PngArrays()
    images = [pixels(m, s, i) for i, (m, s) in enumerate([("L", (5, 5)), ("RGB", (5, 5))] * 2)]
    for image in images:
        assert np.array_equal(decoder.decode(png(image)), np.asarray(image))


@pytest.mark.parametrize(
    "case",
    ["palette", "16-bit", "1-bit", "transparency", "exif", "text", "icc", "interlaced", "mode"],
)
def test_other_pngs_are_left_to_pillow(case: str) -> None:
    image = pixels("RGB", (16, 12), seed=1)
    mode = None
    if case == "palette":
        data = png(image.convert("P"))
    elif case == "16-bit":
        data = png(PIL.Image.fromarray(np.arange(64, dtype=np.uint16).reshape(8, 8) * 999))
    elif case == "1-bit":
        data = png(image.convert("1"))
    elif case == "transparency":
        data = png(image.convert("L"), transparency=0)
    elif case == "exif":
        exif = PIL.Image.Exif()
        exif[0x0112] = 6  # rotated: datasets' decode transposes it
        data = png(image, exif=exif)
    elif case == "text":
        info = PIL.PngImagePlugin.PngInfo()
        info.add_text("Raw profile type exif", "anything")
        data = png(image, pnginfo=info)
    elif case == "icc":
        data = with_chunk(png(image), b"iCCP", b"x\x00\x00" + zlib.compress(b"profile"))
    elif case == "interlaced":
        data = bytearray(png(image))
        data[28] = 1  # IHDR interlace byte; fix the CRC
        data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
        data = bytes(data)
    else:
        data, mode = png(image), "L"
    assert PngArrays(mode).decode(data) is None
    if case != "interlaced":  # (the pixels are not really Adam7)
        out = decode_images_to_array([{"bytes": data, "path": None}] * 2, mode=mode)
        assert np.array_equal(out[0], pillow(data, mode))


@pytest.mark.parametrize("damage", ["crc", "truncated", "garbage idat"])
def test_broken_pngs_fall_back_to_pillow_and_its_error(damage: str) -> None:
    data = bytearray(png(pixels("L", (28, 28), seed=2)))
    if damage == "crc":
        data[-20] ^= 0xFF  # inside the IDAT: its CRC no longer matches
    elif damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "garbage idat":
        start = 8 + 25 + 8
        data[start : start + 10] = b"\x00" * 10
        length = struct.unpack_from(">I", data, 33)[0]
        body = bytes(data[37 : 41 + length])
        data[41 + length : 45 + length] = struct.pack(">I", zlib.crc32(body))
    assert PngArrays().decode(bytes(data)) is None
    with pytest.raises(ImageDecodeError, match="row 1"):
        decode_images_to_array(
            [{"bytes": png(pixels("L", (28, 28), 0)), "path": None}, {"bytes": bytes(data)}]
        )


def test_harmless_chunks_keep_the_fast_path() -> None:
    image = pixels("L", (9, 7), seed=9)
    data = png(image, dpi=(300, 300))  # a pHYs chunk
    data = with_chunk(data, b"gAMA", struct.pack(">I", 45455))
    assert {b"pHYs", b"gAMA"} <= set(chunks(data))
    assert np.array_equal(PngArrays().decode(data), pillow(data))


def test_idat_chunks_apart_are_left_to_pillow() -> None:
    data = png(pixels("RGB", (300, 200), seed=8), compress_level=0)
    assert chunks(data).count(b"IDAT") > 1
    (first,) = struct.unpack_from(">I", data, 33)
    cut = 33 + 12 + first  # after the first IDAT chunk
    phys = struct.pack(">IIB", 2835, 2835, 1)
    chunk = struct.pack(">I", len(phys)) + b"pHYs" + phys
    chunk += struct.pack(">I", zlib.crc32(phys, zlib.crc32(b"pHYs")))
    assert PngArrays().decode(data[:cut] + chunk + data[cut:]) is None


def test_no_iend_is_left_to_pillow_which_decodes_it() -> None:
    data = png(pixels("L", (28, 28), seed=2))[:-12]
    assert PngArrays().decode(data) is None
    assert np.array_equal(decode_images_to_array([{"bytes": data, "path": None}])[0], pillow(data))


def test_decompression_bomb_is_left_to_pillow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PIL.Image, "MAX_IMAGE_PIXELS", 100)
    data = png(pixels("L", (28, 28), seed=4))
    assert PngArrays().decode(data) is None
    with pytest.raises(ImageDecodeError, match="decompression bomb"):
        decode_images_to_array([{"bytes": data, "path": None}])


def test_mixed_column_stacks_fast_and_pillow_images() -> None:
    plain = png(pixels("RGB", (8, 8), seed=5))
    jpeg = io.BytesIO()
    pixels("RGB", (8, 8), seed=6).save(jpeg, format="JPEG")
    palette = png(pixels("RGB", (8, 8), seed=7).convert("P"), optimize=False)
    values = [{"bytes": b, "path": None} for b in (plain, jpeg.getvalue(), plain)]
    out = decode_images_to_array(values)
    assert isinstance(out, np.ndarray) and out.shape == (3, 8, 8, 3)
    assert np.array_equal(out[1], pillow(jpeg.getvalue())) and np.array_equal(out[2], out[0])
    ragged = decode_images_to_array([*values, {"bytes": palette, "path": None}, None])
    assert isinstance(ragged, list) and ragged[3].shape == (8, 8) and ragged[4] is None
    assert np.array_equal(ragged[0], pillow(plain))


def test_same_array_as_datasets_numpy_format() -> None:
    datasets = pytest.importorskip("datasets")
    values = [png(pixels(m, (28, 28), i)) for i, m in enumerate(["L"] * 5)]
    ours = decode_images_to_array([{"bytes": v, "path": None} for v in values])
    theirs = datasets.Dataset.from_dict(
        {"image": [{"bytes": v, "path": None} for v in values]},
        features=datasets.Features({"image": datasets.Image()}),
    ).with_format("numpy")[:]["image"]
    assert isinstance(ours, np.ndarray) and ours.dtype == theirs.dtype
    assert np.array_equal(ours, theirs)
