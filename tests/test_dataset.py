"""Dataset core: inspect, access, outputs, formats, save/load, and interop with ``datasets``."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import PIL.Image
import polars as pl
import pyarrow as pa
import pytest

import crucible_polars as cp


def _png(mode: str, size: tuple[int, int], colour: int | tuple[int, ...] = 0) -> bytes:
    buf = io.BytesIO()
    PIL.Image.new(mode, size, colour).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def small() -> cp.Dataset:
    return cp.Dataset.from_dict({"i": list(range(10)), "s": [f"s{i}" for i in range(10)]})


def test_inspect(small: cp.Dataset) -> None:
    assert small.column_names == ["i", "s"]
    assert (small.num_rows, len(small), small.num_columns, small.shape) == (10, 10, 2, (10, 2))
    assert isinstance(small.lazy(), pl.LazyFrame)
    assert "num_rows: 10" in repr(small)
    assert "<table" in small._repr_html_()


def test_access(small: cp.Dataset) -> None:
    assert small[0] == {"i": 0, "s": "s0"}
    assert small[-1] == {"i": 9, "s": "s9"}
    assert small[2:4] == {"i": [2, 3], "s": ["s2", "s3"]}
    assert small[::4] == {"i": [0, 4, 8], "s": ["s0", "s4", "s8"]}
    assert small["s"][:2] == ["s0", "s1"]
    assert small[[3, 1]] == {"i": [3, 1], "s": ["s3", "s1"]}
    assert [row["i"] for row in small] == list(range(10))
    with pytest.raises(IndexError):
        small[10]


def test_outputs(small: cp.Dataset, tmp_path: Path) -> None:
    assert small.to_polars().shape == (10, 2)
    assert small.to_arrow().schema.field("s").type == pa.string()
    arrays = small.to_numpy()
    assert arrays["i"].dtype == np.int64 and arrays["s"].dtype.kind == "U"
    assert small.to_list()[1] == {"i": 1, "s": "s1"}
    assert small.to_dict()["i"] == list(range(10))
    small.to_json(tmp_path / "a.jsonl")
    small.to_csv(tmp_path / "a.csv")
    assert pl.read_ndjson(tmp_path / "a.jsonl").equals(small.to_polars())
    assert pl.read_csv(tmp_path / "a.csv").equals(small.to_polars())


@pytest.mark.parametrize("fmt", ["python", "numpy", "polars", "arrow"])
def test_iter_batches(small: cp.Dataset, fmt: str) -> None:
    batches = list(small.iter(batch_size=4, format=fmt))
    sizes = [len(b["i"]) if isinstance(b, dict) else len(b) for b in batches]
    assert sizes == [4, 4, 2]
    dropped = list(small.iter(batch_size=4, drop_last_batch=True, format=fmt))
    assert len(dropped) == 2


def test_iter_batches_are_exact_across_chunks() -> None:
    ds = cp.Dataset.from_polars(pl.LazyFrame({"x": np.arange(100_003)}))
    sizes = [len(b["x"]) for b in ds.iter(batch_size=1024, format="numpy")]
    assert set(sizes[:-1]) == {1024} and sum(sizes) == 100_003
    assert np.array_equal(
        np.concatenate(list(b["x"] for b in ds.iter(1000, format="numpy"))), np.arange(100_003)
    )


def test_with_format(small: cp.Dataset) -> None:
    numpy_ds = small.with_format("numpy")
    assert isinstance(numpy_ds["i"], np.ndarray)
    assert isinstance(numpy_ds[0]["i"], np.integer)
    assert numpy_ds[:3]["i"].tolist() == [0, 1, 2]
    only = small.with_format("numpy", columns=["i"])
    assert list(only[0]) == ["i"]
    assert small.with_format(None)[0] == {"i": 0, "s": "s0"}


def test_transforms_of_issue_2(small: cp.Dataset) -> None:
    ds = small.filter(pl.col("i") % 2 == 0).with_columns(double=pl.col("i") * 2)
    ds = ds.select_columns(["double", "s"]).remove_columns("s")
    assert ds.to_dict() == {"double": [0, 4, 8, 12, 16]}
    assert small.column_names == ["i", "s"]  # immutable


def test_save_and_load_from_disk(tmp_path: Path, small: cp.Dataset) -> None:
    small.save_to_disk(tmp_path / "one", num_shards=3)
    assert (
        sorted(p.name for p in (tmp_path / "one").glob("*.arrow"))[0] == "data-00000-of-00003.arrow"
    )
    back = cp.load_from_disk(tmp_path / "one")
    assert isinstance(back, cp.Dataset) and back.to_dict() == small.to_dict()
    dsd = cp.DatasetDict(train=small, test=small.filter(pl.col("i") < 2))
    dsd.save_to_disk(tmp_path / "dict")
    back_dict = cp.load_from_disk(tmp_path / "dict")
    assert isinstance(back_dict, cp.DatasetDict)
    assert back_dict.num_rows == {"train": 10, "test": 2}


def _rich_dataset() -> cp.Dataset:
    features = cp.Features(
        {
            "label": cp.ClassLabel(names=["cat", "dog"]),
            "tokens": cp.List(cp.Value("int32")),
            "meta": {"source": cp.Value("string"), "score": cp.Value("float32")},
            "image": cp.Image(),
        }
    )
    return cp.Dataset.from_dict(
        {
            "label": [0, 1],
            "tokens": [[1, 2], [3]],
            "meta": [{"source": "a", "score": 0.5}, {"source": "b", "score": 1.5}],
            "image": [
                {"bytes": _png("RGB", (4, 3), (255, 0, 0)), "path": None},
                {"bytes": _png("L", (2, 2), 7), "path": None},
            ],
        },
        features=features,
    )


def test_datasets_reads_our_parquet_with_identical_features(tmp_path: Path) -> None:
    import datasets

    ds = _rich_dataset()
    ds.to_parquet(tmp_path / "rich.parquet")
    theirs = datasets.load_dataset(
        "parquet", data_files=str(tmp_path / "rich.parquet"), split="train"
    )
    assert theirs.features.to_dict() == ds.features.to_dict()
    assert theirs[0]["label"] == 0 and theirs[1]["tokens"] == [3]
    assert theirs[0]["image"].size == (4, 3)
    ds.save_to_disk(tmp_path / "saved")
    again = datasets.load_from_disk(str(tmp_path / "saved"))
    assert again.features.to_dict() == ds.features.to_dict()


def test_we_read_parquet_written_by_datasets(tmp_path: Path) -> None:
    import datasets

    theirs = datasets.Dataset.from_dict(
        {
            "label": [1, 0],
            "seq": [[1, 2], [3]],
            "image": [PIL.Image.new("RGB", (3, 2)), PIL.Image.new("L", (5, 5))],
        },
        features=datasets.Features(
            {
                "label": datasets.ClassLabel(names=["neg", "pos"]),
                "seq": datasets.Sequence(datasets.Value("int64")),
                "image": datasets.Image(),
            }
        ),
    )
    theirs.to_parquet(str(tmp_path / "train.parquet"))
    ours = cp.load_dataset(str(tmp_path), split="train")
    assert ours.features.to_dict() == theirs.features.to_dict()
    row = ours[0]
    assert row["label"] == 1 and row["seq"] == [1, 2]
    assert isinstance(row["image"], PIL.Image.Image) and row["image"].mode == "RGB"
    arrays = ours.to_numpy(columns=["image"])["image"]
    assert len(arrays) == 2 and arrays[0].shape == (2, 3, 3) and arrays[1].shape == (5, 5)


def test_numpy_images_stack_when_shapes_agree() -> None:
    ds = _rich_dataset().filter(pl.col("label") == 0)
    batch = next(ds.iter(batch_size=2, format="numpy"))
    assert batch["image"].shape == (1, 3, 4, 3) and batch["image"].dtype == np.uint8


def test_numpy_strings_match_datasets_with_and_without_nulls() -> None:
    import datasets

    data = {"full": ["a", "bb", "ccc"], "holes": ["a", None, "ccc"], "n": [1, 2, 3]}
    ours = cp.Dataset.from_dict(data).with_format("numpy")[:]
    theirs = datasets.Dataset.from_dict(data).with_format("numpy")[:]
    for name in data:
        assert ours[name].dtype == theirs[name].dtype, name
        assert ours[name].tolist() == theirs[name].tolist(), name
