"""Differential tests against ``datasets``: the methods users call (batch, align labels,
to_* outputs and files, from_text, load_from_disk, DatasetDict files and formats), the errors
``datasets`` raises, and the Polars habits we answer; in memory and after save/load."""

from __future__ import annotations

import io
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import datasets as hf
import numpy as np
import pandas as pd
import polars as pl
import pytest

import crucible_polars as cp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from parity_oracle import assert_same, both_ways, hf_features, same_outcome

NAMES = ["neg", "pos", "mid"]
FEATURES = cp.Features(
    {"label": cp.ClassLabel(names=NAMES), "x": cp.Value("float32"), "t": cp.Value("string")}
)
DATA: dict[str, list[Any]] = {
    "label": [0, 1, 2, 1, None],
    "x": [0.5, 1.5, 2.5, 3.5, 4.5],
    "t": ["a", "b", None, "d", "e"],
}


@pytest.fixture
def pair() -> tuple[cp.Dataset, hf.Dataset]:
    return (
        cp.Dataset.from_dict(DATA, features=FEATURES),
        hf.Dataset.from_dict(DATA, features=hf_features(FEATURES)),
    )


def test_batch(pair: tuple[cp.Dataset, hf.Dataset]) -> None:
    for where, ours, theirs in both_ways(*pair):
        for size in (1, 2, 5, 7):
            for drop in (False, True):
                a = ours.batch(size, drop_last_batch=drop)
                if drop and size > len(ours):
                    # datasets returns the rows unbatched here; the only batch is dropped
                    assert len(a) == 0
                    continue
                b = theirs.batch(size, drop_last_batch=drop)
                assert len(a) == len(b), where
                assert a.features.to_dict() == b.features.to_dict(), where
                assert_same(a[:], b[:], f"{where} batch({size}, {drop})")


def test_align_labels_with_mapping(pair: tuple[cp.Dataset, hf.Dataset]) -> None:
    mapping = {"MID": 0, "Neg": 2, "pos": 1}
    for where, ours, theirs in both_ways(*pair):
        a = ours.align_labels_with_mapping(mapping, "label")
        b = theirs.align_labels_with_mapping(mapping, "label")
        assert a.features.to_dict() == b.features.to_dict(), where
        assert_same(a[:], b[:], where)
        with pytest.raises(ValueError, match="only supported for ClassLabel"):
            ours.align_labels_with_mapping(mapping, "x")  # datasets 5.2: a NameError
    dd_ours = cp.DatasetDict(train=pair[0])
    dd_theirs = hf.DatasetDict(train=pair[1])
    assert_same(
        dd_ours.align_labels_with_mapping(mapping, "label")["train"][:],
        dd_theirs.align_labels_with_mapping(mapping, "label")["train"][:],
    )


def test_outputs(pair: tuple[cp.Dataset, hf.Dataset]) -> None:
    for where, ours, theirs in both_ways(*pair):
        assert_same(ours.to_dict(), theirs.to_dict(), where)
        assert_same(list(ours.to_dict(2, batched=True)), list(theirs.to_dict(2, batched=True)))
        assert ours.to_polars().equals(theirs.to_polars())
        assert [f.height for f in ours.to_polars(2, batched=True)] == [
            f.height for f in theirs.to_polars(2, batched=True)
        ]
        assert ours.to_pandas().equals(theirs.to_pandas()), where
        ours_frames = list(ours.to_pandas(batch_size=2, batched=True))
        theirs_frames = list(theirs.to_pandas(batch_size=2, batched=True))
        assert [len(f) for f in ours_frames] == [len(f) for f in theirs_frames]
        assert_same(ours.to_list(), theirs.to_list(), where)


@pytest.mark.parametrize("method", ["to_csv", "to_json"])
def test_files_to_paths_and_buffers(pair: tuple[cp.Dataset, hf.Dataset], method: str) -> None:
    data: dict[str, list[Any]] = {"a": [1, 2, 3], "t": ["x", "y", "z"]}
    ours, theirs = cp.Dataset.from_dict(data), hf.Dataset.from_dict(data)
    folder = tempfile.mkdtemp()
    ours_path, theirs_path = os.path.join(folder, "ours"), os.path.join(folder, "theirs")
    assert getattr(ours, method)(ours_path) == getattr(theirs, method)(theirs_path)
    assert Path(ours_path).read_bytes() == Path(theirs_path).read_bytes()
    ours_buffer, theirs_buffer = io.BytesIO(), io.BytesIO()
    written = getattr(ours, method)(ours_buffer)
    assert written == getattr(theirs, method)(theirs_buffer) == len(ours_buffer.getvalue())
    assert ours_buffer.getvalue() == theirs_buffer.getvalue()


def test_parquet_to_paths_and_buffers(pair: tuple[cp.Dataset, hf.Dataset]) -> None:
    ours, theirs = pair
    buffer = io.BytesIO()
    written = ours.to_parquet(buffer)
    assert written == len(buffer.getvalue()) > 0
    path = os.path.join(tempfile.mkdtemp(), "a.parquet")
    assert ours.to_parquet(path) == os.path.getsize(path)
    back = hf.Dataset.from_parquet(path)
    assert back.features == theirs.features
    assert_same(back[:], theirs[:])
    buffer.seek(0)
    assert pl.read_parquet(buffer).equals(ours.to_polars())


def test_from_text_and_load_from_disk() -> None:
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "a.txt")
    Path(path).write_text("one\n\ntwo  \nthree")
    same_outcome(lambda: cp.Dataset.from_text(path)[:], lambda: hf.Dataset.from_text(path)[:])
    ds = cp.Dataset.from_dict(DATA, features=FEATURES)
    ds.save_to_disk(os.path.join(folder, "saved"))
    back = cp.Dataset.load_from_disk(os.path.join(folder, "saved"))
    assert back.features == FEATURES and back.to_dict() == ds.to_dict()
    with pytest.raises(ValueError, match="DatasetDict"):
        cp.DatasetDict.load_from_disk(os.path.join(folder, "saved"))


def test_dataset_dict_files_and_shards(tmp_path: Path) -> None:
    train = tmp_path / "train.csv"
    test = tmp_path / "test.csv"
    train.write_text("a,b\n1,x\n2,y\n")
    test.write_text("a,b\n3,z\n")
    files = {"train": str(train), "test": str(test)}
    ours, theirs = cp.DatasetDict.from_csv(files), hf.DatasetDict.from_csv(files)
    assert ours.num_rows == theirs.num_rows
    for split in files:
        assert_same(ours[split][:], theirs[split][:])
    for fmt, write in (("json", "to_json"), ("parquet", "to_parquet")):
        paths = {}
        for split in files:
            paths[split] = str(tmp_path / f"{split}.{fmt}")
            getattr(ours[split], write)(paths[split])
        a = getattr(cp.DatasetDict, f"from_{fmt}")(paths)
        b = getattr(hf.DatasetDict, f"from_{fmt}")(paths)
        for split in files:
            assert_same(a[split][:], b[split][:], fmt)
    ours.save_to_disk(tmp_path / "ours", num_shards={"train": 2, "test": 1})
    theirs.save_to_disk(str(tmp_path / "theirs"), num_shards={"train": 2, "test": 1})
    back = cp.DatasetDict.load_from_disk(tmp_path / "ours")
    back_theirs = hf.DatasetDict.load_from_disk(str(tmp_path / "theirs"))
    assert len(list((tmp_path / "ours" / "train").glob("*.arrow"))) == 2
    for split in files:
        assert_same(back[split][:], back_theirs[split][:])
    with back.formatted_as("numpy"), back_theirs.formatted_as("numpy"):
        assert_same(back["train"][:], back_theirs["train"][:])


def test_dataset_dict_values_must_be_datasets() -> None:
    ds = cp.Dataset.from_dict({"a": [1]})
    with pytest.raises(TypeError, match="should be of type `Dataset`"):
        cp.DatasetDict({"train": ds, "test": None})
    dd = cp.DatasetDict(train=ds)
    with pytest.raises(TypeError, match="should be of type `Dataset`"):
        dd["test"] = [1]  # type: ignore[assignment]


KEYS: list[Any] = [
    0,
    -1,
    np.int64(1),
    slice(1, 3),
    [2, 0],
    (1,),
    np.array([0, 2]),
    pd.Series([0, 2]),
    np.array([True, False, True]),
    False,
    [0, "a"],
    "label",
    5,
    [7],
]


@pytest.mark.parametrize("key", KEYS, ids=[repr(k)[:20] for k in KEYS])
def test_indexing_as_datasets(pair: tuple[cp.Dataset, hf.Dataset], key: Any) -> None:
    for where, ours, theirs in both_ways(*pair):
        same_outcome(
            lambda ours=ours: ours[key],
            lambda theirs=theirs: theirs[key][:] if isinstance(key, str) else theirs[key],
            where,
        )


def test_repeat_and_habits(pair: tuple[cp.Dataset, hf.Dataset]) -> None:
    ours, theirs = pair
    for times in (-1, 0, 2):
        assert_same(ours.repeat(times)[:], theirs.repeat(times)[:])
    with pytest.raises(TypeError, match="select_columns"):
        ours.select("label")
    both = ours.filter(pl.col("x") > 1, pl.col("x") < 4)
    assert both["x"] == [1.5, 2.5, 3.5]
    with pytest.raises(TypeError, match=r"pl\.col"):
        ours.filter(lambda row: True, pl.col("x") > 1)  # type: ignore[arg-type]
    assert ours.cast_column("x", pl.Float64).features["x"] == cp.Value("float64")
    assert ours.head(2).height == 2
    csv = Path(tempfile.mkdtemp()) / "a.csv"
    csv.write_text("a\n1\n")
    same_outcome(
        lambda: cp.load_dataset("csv", data_files=csv, split="train")[:],
        lambda: hf.load_dataset("csv", data_files=str(csv), split="train")[:],
    )


def test_notebook_html_is_readable() -> None:
    features = cp.Features(
        {
            "label": cp.ClassLabel(names=[f"class_{i}" for i in range(1000)]),
            "x": cp.Value("float32"),
            "text": cp.Value("string"),
        }
    )
    data: dict[str, list[Any]] = {"label": [3, 999], "x": [0.1, 1 / 3], "text": ["long " * 80, "b"]}
    page = cp.Dataset.from_dict(data, features=features)._repr_html_()
    assert "ClassLabel (1000 classes)" in page and "class_500" not in page  # one-line header
    assert "3 <span" in page and "class_3" in page  # the name beside the id
    assert "0.1<" in page and "0.333333<" in page and "0.10000000149" not in page
    assert "text-align:left" in page  # long text reads left to right
    assert page.count("long") < 40  # truncated


@pytest.mark.parametrize("options", [{"lines": False}, {"lines": True, "orient": "records"}])
def test_to_json_options(options: dict[str, Any]) -> None:
    data: dict[str, list[Any]] = {"t": ["e", "a"], "f": [0.1, 1.0], "n": [None, 1]}
    ours, theirs = cp.Dataset.from_dict(data), hf.Dataset.from_dict(data)
    ours_buffer, theirs_buffer = io.BytesIO(), io.BytesIO()
    assert ours.to_json(ours_buffer, **options) == theirs.to_json(theirs_buffer, **options)
    assert ours_buffer.getvalue() == theirs_buffer.getvalue()
    path = os.path.join(tempfile.mkdtemp(), "a.json")
    ours.to_json(path, **options)
    assert Path(path).read_bytes() == theirs_buffer.getvalue()
    with pytest.raises(NotImplementedError, match="force_ascii"):
        ours.to_json(io.BytesIO(), force_ascii=True)
