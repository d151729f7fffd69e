"""Streaming local files: every format against ``datasets`` streaming, and every transform.

``datasets`` streaming iterators are always consumed to the end (a half-consumed one can keep
the interpreter from exiting).
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import zstandard

import crucible_polars as cp
from crucible_polars.errors import ColumnNotFoundError, DataFileError

N_ROWS = 2_500


def _rows(n: int = N_ROWS) -> list[dict[str, Any]]:
    return [
        {"id": i, "text": f"row {i}", "score": i * 0.5, "tags": [i % 3, i % 5], "meta": {"k": i}}
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("streaming-local")
    rows = _rows()
    text = "".join(json.dumps(r) + "\n" for r in rows).encode()
    out: dict[str, Path] = {}
    out["jsonl"] = root / "train.jsonl"
    out["jsonl"].write_bytes(text)
    out["jsonl.gz"] = root / "gz" / "train.jsonl.gz"
    out["jsonl.bz2"] = root / "bz2" / "train.jsonl.bz2"
    out["jsonl.xz"] = root / "xz" / "train.jsonl.xz"
    out["jsonl.zst"] = root / "zst" / "train.jsonl.zst"
    for key, compress in [
        ("jsonl.gz", gzip.compress),
        ("jsonl.bz2", bz2.compress),
        ("jsonl.xz", lzma.compress),
        ("jsonl.zst", zstandard.ZstdCompressor().compress),
    ]:
        out[key].parent.mkdir()
        out[key].write_bytes(compress(text))
    frame = pl.DataFrame(rows)
    parquet = root / "parquet"
    parquet.mkdir()
    frame.head(1_500).write_parquet(parquet / "train-00000-of-00002.parquet", row_group_size=400)
    frame.slice(1_500).write_parquet(parquet / "train-00001-of-00002.parquet", row_group_size=400)
    frame.head(300).write_parquet(parquet / "test-00000-of-00001.parquet", row_group_size=100)
    out["parquet"] = parquet
    out["csv"] = root / "train.csv"
    frame.select("id", "text", "score").write_csv(out["csv"])
    out["txt"] = root / "train.txt"
    out["txt"].write_text("".join(f"line {i}\n" if i % 7 else "\n" for i in range(N_ROWS)))
    return out


def _theirs(path: str, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
    import datasets

    return list(datasets.load_dataset(path, *args, streaming=True, **kwargs))


@pytest.mark.parametrize(
    ("key", "fmt"),
    [
        ("jsonl", "json"),
        ("jsonl.gz", "json"),
        ("jsonl.bz2", "json"),
        ("jsonl.xz", "json"),
        ("jsonl.zst", "json"),
        ("csv", "csv"),
        ("txt", "text"),
    ],
)
def test_line_formats_match_datasets(files: dict[str, Path], key: str, fmt: str) -> None:
    data_files = str(files[key])
    ours = cp.load_dataset(fmt, data_files=data_files, split="train", streaming=True)
    assert isinstance(ours, cp.IterableDataset)
    assert list(ours) == _theirs(fmt, data_files=data_files, split="train")


def test_parquet_folder_matches_datasets(files: dict[str, Path]) -> None:
    folder = str(files["parquet"])
    ours = cp.load_dataset(folder, streaming=True)
    assert isinstance(ours, cp.IterableDatasetDict)
    assert sorted(ours) == ["test", "train"]
    import datasets

    stream = datasets.load_dataset(folder, split="train", streaming=True)
    theirs = list(stream)
    assert list(ours["train"]) == theirs
    assert ours["train"].features == cp.load_dataset(folder, split="train").features
    assert stream.features is not None
    assert ours["train"].features.to_dict() == stream.features.to_dict()
    ds = ours["train"]
    assert list(ds.take(7)) == theirs[:7]
    assert list(ds.skip(1_234)) == theirs[1_234:]
    assert list(ds.skip(10).take(450)) == theirs[10:460]


def test_streaming_equals_non_streaming(files: dict[str, Path]) -> None:
    folder = str(files["parquet"])
    for split in ["train[:10%]", "train[-7:]", "train[33%:34%]+test[:5]", "test+train[:3]"]:
        ours = cp.load_dataset(folder, split=split, streaming=True)
        assert list(ours) == cp.load_dataset(folder, split=split).to_list(), split
    jsonl = str(files["jsonl.gz"])
    ours = cp.load_dataset("json", data_files=jsonl, split="train[95%:]", streaming=True)
    assert list(ours) == cp.load_dataset("json", data_files=jsonl, split="train[95%:]").to_list()


def test_pushdown_load_options(files: dict[str, Path]) -> None:
    folder = str(files["parquet"])
    ds = cp.load_dataset(
        folder,
        split="train",
        streaming=True,
        columns=["id", "text"],
        filters=pl.col("id").is_between(395, 404),
        features=cp.Features(
            {
                "id": cp.Value("int32"),
                "text": cp.Value("string"),
                "score": cp.Value("float64"),
                "tags": cp.List(cp.Value("int64")),
                "meta": {"k": cp.Value("int64")},
            }
        ),
    )
    assert ds.features == cp.Features({"id": cp.Value("int32"), "text": cp.Value("string")})
    assert [r["id"] for r in ds] == list(range(395, 405))


def test_expression_transforms(files: dict[str, Path]) -> None:
    ds = cp.load_dataset(str(files["parquet"]), split="train", streaming=True)
    out = (
        ds.filter(pl.col("id") % 100 == 0)
        .with_columns(double=pl.col("id") * 2)
        .rename_column("text", "sentence")
        .remove_columns(["tags", "meta"])
        .select_columns(["id", "double", "sentence"])
        .cast_column("id", cp.Value("string"))
    )
    assert out.column_names == ["id", "double", "sentence"]
    rows = list(out)
    assert rows[:2] == [
        {"id": "0", "double": 0, "sentence": "row 0"},
        {"id": "100", "double": 200, "sentence": "row 100"},
    ]
    assert len(rows) == 25
    with pytest.raises(ColumnNotFoundError):
        ds.select_columns(["nope"])


def test_python_functions(files: dict[str, Path]) -> None:
    ds = cp.load_dataset(str(files["parquet"]), split="train", streaming=True)
    mapped = ds.map(lambda row: {"n": len(row["text"])})
    assert mapped.features is None
    assert [r["n"] for r in mapped.take(3)] == [5, 5, 5]
    batched = ds.map(
        lambda batch: {"twice": [t + t for t in batch["text"]]},
        batched=True,
        batch_size=7,
        remove_columns=["text", "tags", "meta", "score"],
    )
    assert list(batched.take(2)) == [
        {"id": 0, "twice": "row 0row 0"},
        {"id": 1, "twice": "row 1row 1"},
    ]
    exploded = ds.select_columns(["id"]).map(
        lambda b: {"id": [i for i in b["id"] for _ in range(2)]}, batched=True, batch_size=3
    )
    assert [r["id"] for r in exploded.take(7)] == [0, 0, 1, 1, 2, 2, 3]
    kept = ds.filter(lambda row, i: i % 500 == 0 and row["id"] >= 0, with_indices=True)
    assert [r["id"] for r in kept] == [0, 500, 1000, 1500, 2000]
    kept = ds.filter(lambda b: [i % 1000 == 1 for i in b["id"]], batched=True, batch_size=64)
    assert [r["id"] for r in kept] == [1, 1001, 2001]


def test_batch_iter_and_formats(files: dict[str, Path]) -> None:
    ds = cp.load_dataset(str(files["parquet"]), split="train", streaming=True)
    ds = ds.select_columns(["id", "score"])
    batches = list(ds.batch(1_000))
    assert [len(b["id"]) for b in batches] == [1_000, 1_000, 500]
    assert list(ds.batch(1_000, drop_last_batch=True).take(5))[-1]["id"][-1] == 1_999
    numpy_batches = list(ds.iter(batch_size=600, format="numpy"))
    assert [len(b["id"]) for b in numpy_batches] == [600, 600, 600, 600, 100]
    assert isinstance(numpy_batches[0]["score"], np.ndarray)
    row = next(iter(ds.with_format("numpy")))
    assert isinstance(row["id"], np.integer)
    frame = next(iter(ds.with_format("polars").iter(batch_size=10)))
    assert isinstance(frame, pl.DataFrame) and frame.height == 10


def test_shuffle_is_a_seeded_permutation(files: dict[str, Path]) -> None:
    ds = cp.load_dataset(str(files["parquet"]), split="train", streaming=True)
    ids = ds.select_columns("id")
    first = [r["id"] for r in ids.shuffle(seed=3, buffer_size=100)]
    again = [r["id"] for r in ids.shuffle(seed=3, buffer_size=100)]
    other = [r["id"] for r in ids.shuffle(seed=4, buffer_size=100)]
    assert sorted(first) == list(range(N_ROWS))
    assert first == again and first != other and first != sorted(first)
    shuffled = ids.shuffle(seed=3, buffer_size=100)
    shuffled.set_epoch(1)
    epoch1 = [r["id"] for r in shuffled]
    assert sorted(epoch1) == list(range(N_ROWS)) and epoch1 != first
    shuffled.set_epoch(1)
    assert [r["id"] for r in shuffled] == epoch1


def test_to_iterable_dataset(files: dict[str, Path]) -> None:
    dataset = cp.load_dataset(str(files["parquet"]), split="train")
    stream = dataset.filter(pl.col("id") >= 2_000).to_iterable_dataset(num_shards=4)
    assert stream.num_shards == 4
    assert list(stream) == dataset.filter(pl.col("id") >= 2_000).to_list()
    parts = [[r["id"] for r in cp.split_dataset_by_node(stream, rank, 2)] for rank in range(2)]
    # as in datasets: 4 shards over 2 ranks gives every other shard to each rank
    blocks = [list(range(2_000 + 125 * i, 2_125 + 125 * i)) for i in range(4)]
    assert parts == [blocks[0] + blocks[2], blocks[1] + blocks[3]]


def test_state_dict_is_json_and_checked(files: dict[str, Path]) -> None:
    ds = cp.load_dataset(str(files["jsonl"]), split="train", streaming=True)
    ds = ds.filter(pl.col("id") % 2 == 0)
    iterator = iter(ds)
    for _ in range(10):
        next(iterator)
    state = json.loads(json.dumps(ds.state_dict()))
    fresh = cp.load_dataset(str(files["jsonl"]), split="train", streaming=True)
    with pytest.raises(ValueError, match="pipeline"):
        fresh.load_state_dict(state)
    fresh = fresh.filter(pl.col("id") % 2 == 0)
    fresh.load_state_dict(state)
    assert next(iter(fresh))["id"] == 20


def test_bad_json_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": \n')
    with pytest.raises(DataFileError) as info:  # the schema is inferred from the head
        cp.load_dataset("json", data_files=str(path), split="train", streaming=True)
    assert info.value.row == 3 and info.value.path.endswith("bad.jsonl")
    good = "".join(json.dumps({"a": i}) + "\n" for i in range(20_000))
    path.write_text(good + '{"a": \n')
    ds = cp.load_dataset("json", data_files=str(path), split="train", streaming=True)
    with pytest.raises(DataFileError) as info:  # past the head: when iteration reaches it
        list(ds)
    assert info.value.row == 20_001


def test_images_are_decoded_when_streaming(tmp_path: Path) -> None:
    import io

    import PIL.Image

    def png(color: int) -> bytes:
        buffer = io.BytesIO()
        PIL.Image.new("RGB", (4, 3), (color, 0, 0)).save(buffer, format="PNG")
        return buffer.getvalue()

    images = [{"bytes": png(c), "path": None} for c in (10, 200)]
    features = cp.Features({"image": cp.Image(), "label": cp.ClassLabel(names=["a", "b"])})
    frame = pl.DataFrame({"image": images, "label": [0, 1]})
    cp.Dataset.from_polars(frame, features=features).to_parquet(tmp_path / "train.parquet")
    ds = cp.load_dataset(str(tmp_path), split="train", streaming=True)
    assert ds.features == features
    rows = list(ds)
    assert isinstance(rows[0]["image"], PIL.Image.Image) and rows[0]["image"].size == (4, 3)
    assert rows[1]["image"].getpixel((0, 0)) == (200, 0, 0) and rows[1]["label"] == 1
    batch = next(iter(ds.with_format("numpy").iter(batch_size=2)))
    assert batch["image"].shape == (2, 3, 4, 3)
    raw = next(iter(ds.cast_column("image", cp.Image(decode=False))))
    assert raw["image"]["bytes"] == images[0]["bytes"]
