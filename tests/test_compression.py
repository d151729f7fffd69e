"""Tests for crucible_polars.readers.compressed: detection, streaming, lazy scans."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import polars as pl
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from crucible_polars.errors import DataFileError, UnsupportedFormatError
from crucible_polars.io_source import frame_source
from crucible_polars.readers.compressed import (
    POLARS_NATIVE,
    _scans,
    compression_of,
    first_lines,
    iter_csv_record_chunks,
    iter_line_chunks,
    open_decompressed,
    scan_decompressed_csv,
    scan_decompressed_ndjson,
    scan_decompressed_text,
    strip_compression_suffix,
)


def _zstd(data: bytes) -> bytes:
    """Two frames (one with a checksum) around a skippable frame, like real-world files."""
    half = len(data) // 2
    first = zstandard.ZstdCompressor(write_checksum=True).compress(data[:half])
    skippable = (0x184D2A50).to_bytes(4, "little") + (3).to_bytes(4, "little") + b"xyz"
    return first + skippable + zstandard.ZstdCompressor().compress(data[half:])


COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "zstd": _zstd,
}
SUFFIX = {"gzip": ".gz", "bz2": ".bz2", "xz": ".xz", "zstd": ".zst"}

ROWS = [
    {
        "i": i,
        "s": ("é\\n" * (i % 5)) + "x" * (i % 37),
        "f": i / 7,
        "l": [i, i + 1] if i % 3 else [],
        "st": {"a": i % 4, "b": "y" * (i % 3)},
        "n": None if i % 2 else i,
    }
    for i in range(240)
]
RAW_NDJSON = pl.DataFrame(ROWS).write_ndjson().encode()
EXPECTED = pl.read_ndjson(io.BytesIO(RAW_NDJSON))


def _write(tmp_path: Path, name: str, compression: str, data: bytes) -> str:
    path = tmp_path / (name + SUFFIX[compression])
    path.write_bytes(COMPRESSORS[compression](data))
    return str(path)


# --------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "compression", "stripped"),
    [
        ("a/train.jsonl.gz", "gzip", "a/train.jsonl"),
        ("a/train.csv.bz2", "bz2", "a/train.csv"),
        ("a/train.txt.xz", "xz", "a/train.txt"),
        ("a/train.jsonl.zst", "zstd", "a/train.jsonl"),
        ("a/train.jsonl.ZSTD", "zstd", "a/train.jsonl"),
        ("a/train.jsonl", None, "a/train.jsonl"),
        ("a/gz", None, "a/gz"),
        (".gz", None, ".gz"),
    ],
)
def test_compression_of_and_strip(path: str, compression: str | None, stripped: str) -> None:
    assert compression_of(path) == compression
    assert strip_compression_suffix(path) == stripped


def test_compression_of_url_ignores_query() -> None:
    assert compression_of("https://host/a/train.jsonl.gz?download=true") == "gzip"


def test_polars_native_and_unknown_compression() -> None:
    assert {"gzip", "zstd"} == POLARS_NATIVE
    with pytest.raises(UnsupportedFormatError):
        open_decompressed(io.BytesIO(b""), "lz4")


# --------------------------------------------------------------------------------------
# Streaming decompression
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("compression", list(COMPRESSORS))
def test_open_decompressed_roundtrip_path_and_fileobj(tmp_path: Path, compression: str) -> None:
    data = b"".join(b"line %d\n" % i for i in range(5000))
    path = _write(tmp_path, "a.txt", compression, data)
    with open_decompressed(path, compression) as reader:
        assert reader.readline() == b"line 0\n"
        pieces = [b"line 0\n"]
        while block := reader.read(777):
            pieces.append(block)
    assert b"".join(pieces) == data

    with open(path, "rb") as raw:
        reader = open_decompressed(raw, compression)
        assert reader.read() == data
        reader.close()
        assert not raw.closed  # a caller's file object stays open


def test_open_decompressed_none_and_empty_streams() -> None:
    assert open_decompressed(io.BytesIO(b"abc"), None).read() == b"abc"
    assert open_decompressed(io.BytesIO(b""), "zstd").read() == b""
    assert open_decompressed(io.BytesIO(gzip.compress(b"")), "gzip").read() == b""


def test_open_decompressed_fsspec_file(tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    path = _write(tmp_path, "a.txt", "xz", b"hello\nworld\n")
    with fsspec.open(path, "rb") as f:
        assert open_decompressed(f, "xz").read() == b"hello\nworld\n"


@pytest.mark.parametrize("compression", list(COMPRESSORS))
@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_corrupt_stream_names_the_file(tmp_path: Path, compression: str, damage: str) -> None:
    blob = COMPRESSORS[compression](RAW_NDJSON)
    if damage == "truncate":
        blob = blob[: len(blob) * 2 // 3]
    else:
        blob = b"\x00\x01not compressed at all" * 50
    path = tmp_path / f"bad.jsonl{SUFFIX[compression]}"
    path.write_bytes(blob)
    with pytest.raises(DataFileError) as info, open_decompressed(str(path), compression) as r:
        while r.read(1 << 16):
            pass
    assert info.value.path == str(path)
    assert str(path) in str(info.value)

    lf = scan_decompressed_ndjson(str(path), compression, EXPECTED.schema, chunk_bytes=4096)
    with pytest.raises(DataFileError) as info:
        lf.collect()
    assert info.value.path == str(path)


def test_zstd_corrupt_middle(tmp_path: Path) -> None:
    blob = bytearray(zstandard.ZstdCompressor(write_checksum=True).compress(RAW_NDJSON))
    blob[len(blob) // 2] ^= 0xFF
    path = tmp_path / "bad.jsonl.zst"
    path.write_bytes(bytes(blob))
    with pytest.raises(DataFileError, match=r"bad\.jsonl\.zst"):
        scan_decompressed_ndjson(str(path), "zstd", EXPECTED.schema).collect()


# --------------------------------------------------------------------------------------
# Chunking
# --------------------------------------------------------------------------------------

_lines = st.lists(st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"")), max_size=30)


@settings(max_examples=150, deadline=None)
@given(lines=_lines, trailing=st.booleans(), chunk=st.integers(1, 40))
def test_iter_line_chunks_cut_only_at_newlines(
    lines: list[bytes], trailing: bool, chunk: int
) -> None:
    data = b"\n".join(lines) + (b"\n" if trailing and lines else b"")
    chunks = list(iter_line_chunks(io.BytesIO(data), chunk))
    assert b"".join(chunks) == data
    assert all(chunks)
    assert all(c.endswith(b"\n") for c in chunks[:-1])
    # A chunk is only as long as the chunk size plus one line.
    longest_line = max((len(x) + 1 for x in lines), default=0)
    assert all(len(c) <= chunk + longest_line + chunk for c in chunks)


_field = st.text(alphabet='ab,"\n\r é', max_size=8)


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.tuples(_field, _field), min_size=1, max_size=15), chunk=st.integers(1, 30))
def test_iter_csv_record_chunks_never_split_quoted_fields(
    rows: list[tuple[str, str]], chunk: int
) -> None:
    frame = pl.DataFrame(rows, schema=["p", "q"], orient="row")
    data = frame.write_csv(quote_style="always").encode()
    chunks = list(iter_csv_record_chunks(io.BytesIO(data), chunk))
    assert b"".join(chunks) == data
    assert all(c.count(b'"') % 2 == 0 for c in chunks)
    header, *rest = chunks
    first = pl.read_csv(io.BytesIO(header), infer_schema=False)
    parsed = [
        pl.read_csv(io.BytesIO(c), has_header=False, new_columns=["p", "q"], infer_schema=False)
        for c in rest
    ]
    whole = pl.read_csv(io.BytesIO(data), infer_schema=False)
    assert_frame_equal(pl.concat([first, *parsed]), whole)


def test_first_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.jsonl", "bz2", RAW_NDJSON)
    head = first_lines(path, "bz2", 3)
    assert head == b"".join(RAW_NDJSON.splitlines(keepends=True)[:3])
    assert first_lines(path, "bz2", 10_000) == RAW_NDJSON
    assert first_lines(io.BytesIO(b'a\n"b\nc"\nd\n'), None, 2, quote_char='"') == b'a\n"b\nc"\n'


# --------------------------------------------------------------------------------------
# NDJSON scans
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("compression", list(COMPRESSORS))
@pytest.mark.parametrize("chunk_bytes", [301, 1 << 20])
def test_ndjson_roundtrip(tmp_path: Path, compression: str, chunk_bytes: int) -> None:
    path = _write(tmp_path, "a.jsonl", compression, RAW_NDJSON)
    lf = scan_decompressed_ndjson(path, compression, chunk_bytes=chunk_bytes)
    assert lf.collect_schema() == EXPECTED.schema
    assert_frame_equal(lf.collect(), EXPECTED)
    assert_frame_equal(lf.collect(engine="streaming"), EXPECTED)
    assert_frame_equal(lf.select("s", "i").collect(), EXPECTED.select("s", "i"))
    assert_frame_equal(lf.head(7).collect(), EXPECTED.head(7))
    predicate = (pl.col("i") % 11 == 3) & pl.col("n").is_null()
    assert_frame_equal(
        lf.filter(predicate).select("st").collect(), EXPECTED.filter(predicate).select("st")
    )
    assert lf.select(pl.len()).collect().item() == len(ROWS)


def test_ndjson_nothing_read_at_construction_when_schema_given(tmp_path: Path) -> None:
    path = tmp_path / "later.jsonl.xz"
    lf = scan_decompressed_ndjson(str(path), "xz", EXPECTED.schema)  # the file does not exist
    lf = lf.filter(pl.col("i") < 5).select("i")
    path.write_bytes(lzma.compress(RAW_NDJSON))
    assert lf.collect()["i"].to_list() == [0, 1, 2, 3, 4]


def test_ndjson_infers_schema_from_first_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.jsonl", "bz2", RAW_NDJSON)
    lf = scan_decompressed_ndjson(path, "bz2", infer_rows=5)
    assert lf.collect_schema() == pl.read_ndjson(io.BytesIO(RAW_NDJSON), n_rows=5).schema


def test_ndjson_head_stops_before_a_bad_tail(tmp_path: Path) -> None:
    data = RAW_NDJSON + b'{"i": 1, "s": oops}\n'
    path = _write(tmp_path, "a.jsonl", "bz2", data)
    lf = scan_decompressed_ndjson(path, "bz2", EXPECTED.schema, chunk_bytes=256)
    assert lf.head(3).collect()["i"].to_list() == [0, 1, 2]
    with pytest.raises(DataFileError) as info:
        lf.collect()
    assert info.value.path == path
    assert info.value.row == len(ROWS) + 1


def test_ndjson_bad_line_number_in_inference(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.jsonl", "xz", b'{"a": 1}\n{"a": 2}\n{"a": \n{"a": 4}\n')
    with pytest.raises(DataFileError) as info:
        scan_decompressed_ndjson(path, "xz")
    assert (info.value.path, info.value.row) == (path, 3)


def test_ndjson_bom_blank_lines_and_empty_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.jsonl", "gzip", b'\xef\xbb\xbf{"a": 1}\n\n{"a": 2}\n\n')
    assert scan_decompressed_ndjson(path, "gzip", chunk_bytes=3).collect()["a"].to_list() == [1, 2]
    empty = _write(tmp_path, "e.jsonl", "xz", b"")
    assert scan_decompressed_ndjson(empty, "xz").collect().shape == (0, 0)
    lf = scan_decompressed_ndjson(empty, "xz", {"a": pl.Int64})
    assert lf.collect().shape == (0, 1)


def test_ndjson_over_fsspec_url() -> None:
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    with fs.open("/crucible/test.jsonl.bz2", "wb") as f:
        f.write(bz2.compress(RAW_NDJSON))
    lf = scan_decompressed_ndjson("memory://crucible/test.jsonl.bz2", "bz2")
    assert_frame_equal(lf.collect(), EXPECTED)


def test_io_source_honours_batch_size_and_n_rows() -> None:
    chunks = [b"1\n2\n3\n4\n5\n", b"6\n7\n"]

    def parse(chunk: bytes, columns: list[str] | None, line: int) -> pl.DataFrame:
        return pl.DataFrame({"v": [int(x) for x in chunk.split()], "w": 0})

    produce = _scans._produce_frames(lambda: iter(chunks), parse, pl.Schema({"v": pl.Int64}))
    lf = frame_source(produce, pl.Schema({"v": pl.Int64}), "numbers")
    frames = list(lf.filter(pl.col("v") != 3).head(5).collect_batches(chunk_size=2))
    assert [f.height for f in frames] == [2, 2, 1]
    assert pl.concat(frames)["v"].to_list() == [1, 2, 4, 5, 6]
    assert frames[0].columns == ["v"]


# --------------------------------------------------------------------------------------
# CSV scans
# --------------------------------------------------------------------------------------

CSV_FRAME = pl.DataFrame(
    {
        "id": list(range(200)),
        "text": [
            f'row {i}, "quoted"\nsecond line' if i % 4 == 0 else f"row {i}" for i in range(200)
        ],
        "score": [i / 3 if i % 5 else None for i in range(200)],
    }
)


@pytest.mark.parametrize("compression", list(COMPRESSORS))
@pytest.mark.parametrize("chunk_bytes", [97, 1 << 20])
def test_csv_roundtrip(tmp_path: Path, compression: str, chunk_bytes: int) -> None:
    raw = CSV_FRAME.write_csv().encode()
    expected = pl.read_csv(io.BytesIO(raw))
    path = _write(tmp_path, "a.csv", compression, raw)
    lf = scan_decompressed_csv(path, compression, chunk_bytes=chunk_bytes)
    assert_frame_equal(lf.collect(), expected)
    assert_frame_equal(lf.select("score", "text").collect(), expected.select("score", "text"))
    assert_frame_equal(lf.head(9).collect(), expected.head(9))
    assert_frame_equal(
        lf.filter(pl.col("id") > 190).select("id").collect(),
        expected.filter(pl.col("id") > 190).select("id"),
    )


def test_csv_tsv_without_header_and_given_schema(tmp_path: Path) -> None:
    raw = b"1\ta\n2\tb\n3\n"
    path = _write(tmp_path, "a.tsv", "xz", raw)
    lf = scan_decompressed_csv(path, "xz", separator="\t", has_header=False, chunk_bytes=4)
    expected = pl.read_csv(io.BytesIO(raw), separator="\t", has_header=False)
    assert_frame_equal(lf.collect(), expected)

    schema = pl.Schema({"n": pl.Int32, "c": pl.String})
    named = scan_decompressed_csv(path, "xz", separator="\t", has_header=False, schema=schema)
    assert named.collect().rows() == [(1, "a"), (2, "b"), (3, None)]
    assert named.collect_schema() == schema


def test_csv_schema_replaces_header_and_is_lazy(tmp_path: Path) -> None:
    path = tmp_path / "later.csv.bz2"
    schema = pl.Schema({"a": pl.Int64, "b": pl.String})
    lf = scan_decompressed_csv(str(path), "bz2", schema=schema)
    path.write_bytes(bz2.compress(b"x,y\n1,u\n2,v\n"))
    assert lf.collect().rows() == [(1, "u"), (2, "v")]


def test_csv_type_change_after_inference_names_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.csv", "bz2", b"a\n" + b"1\n" * 50 + b"1.5\n")
    lf = scan_decompressed_csv(path, "bz2", infer_rows=10, chunk_bytes=16)
    with pytest.raises(DataFileError, match="schema=") as info:
        lf.collect()
    assert info.value.path == path


def test_csv_options_pass_through(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.csv", "gzip", b"a;b\n1;NA\n2;x\n")
    lf = scan_decompressed_csv(
        path, "gzip", separator=";", read_csv_options={"null_values": ["NA"]}
    )
    assert lf.collect().rows() == [(1, None), (2, "x")]
    with pytest.raises(ValueError, match="read_csv_options"):
        scan_decompressed_csv(path, "gzip", read_csv_options={"has_header": False})


# --------------------------------------------------------------------------------------
# Text scans
# --------------------------------------------------------------------------------------


def _datasets_text_lines(path: Path, chunksize: int) -> list[str]:
    """The ``datasets`` text builder's line splitting (sample_by="line"), verbatim."""
    out: list[str] = []
    with open(path, encoding="utf-8") as f:
        while True:
            batch = f.read(chunksize)
            if not batch:
                break
            batch += f.readline()
            out.extend(line.rstrip("\n") for line in StringIO(batch).readlines())
    return out


_text = st.lists(st.sampled_from(["a", "é", "日", " ", "\n", "\r", "\r\n", "\t"]), max_size=40).map(
    "".join
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_text, chunk=st.integers(1, 25), compression=st.sampled_from(["gzip", "bz2", "zstd"]))
def test_text_matches_datasets_builder(
    tmp_path: Path, text: str, chunk: int, compression: str
) -> None:
    raw = text.encode()
    plain = tmp_path / "plain.txt"
    plain.write_bytes(raw)
    path = _write(tmp_path, "t.txt", compression, raw)
    got = scan_decompressed_text(path, compression, chunk_bytes=chunk).collect()["text"].to_list()
    assert got == _datasets_text_lines(plain, 10 << 20)


def test_text_matches_real_datasets_load(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    raw = "first\r\nsecond\rthird\n\n  spaced  \n\ufefflast".encode()
    plain = tmp_path / "plain.txt"
    plain.write_bytes(raw)
    ds = datasets.load_dataset(
        "text", data_files=str(plain), split="train", cache_dir=str(tmp_path / "hf")
    )
    path = _write(tmp_path, "t.txt", "xz", raw)
    lf = scan_decompressed_text(path, "xz", chunk_bytes=5)
    assert lf.collect()["text"].to_list() == list(ds["text"])
    assert lf.collect_schema() == pl.Schema({"text": pl.String})


def test_text_head_and_invalid_utf8(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.txt", "bz2", b"ok\nfine\n\xff\xfebad\n")
    lf = scan_decompressed_text(path, "bz2", chunk_bytes=3)
    assert lf.head(2).collect()["text"].to_list() == ["ok", "fine"]
    with pytest.raises(DataFileError) as info:
        lf.collect()
    assert (info.value.path, info.value.row) == (path, 3)


def test_text_is_lazy(tmp_path: Path) -> None:
    path = tmp_path / "later.txt.gz"
    lf = scan_decompressed_text(str(path), "gzip")
    path.write_bytes(gzip.compress(b"a\nb\n"))
    assert lf.filter(pl.col("text") == "b").collect().height == 1
