"""Streaming batches in numpy and torch formats, differentially against ``datasets``.

The columns of the streaming benchmark (ints, floats, strings, ragged lists with empty rows)
plus the cases the fast paths must hand to the generic one (nulls, unicode, bools, floats
in lists), over two parquet files of several row groups, in batches that straddle frames.
"""

from __future__ import annotations

from typing import Any

import datasets as hf
import numpy as np
import polars as pl
import pytest

import crucible_polars as cp

hf.disable_progress_bars()
torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("numpy-stream")
    rng = np.random.default_rng(0)
    out = []
    first = 0
    for part, rows in enumerate((23, 18)):
        lengths = rng.integers(0, 5, rows)
        frame = pl.DataFrame(
            {
                "id": pl.Series(range(rows), dtype=pl.Int32),
                "score": rng.random(rows),
                "text": [("é✓ " if i % 5 == 0 else "") + "x" * (i % 7) for i in range(rows)],
                "tokens": [list(range(n)) for n in lengths],
                "small": pl.Series([list(range(n)) for n in lengths], dtype=pl.List(pl.Int16)),
                "floats": [[0.5] * int(n) for n in lengths],
                "flags": [[bool(j % 2) for j in range(n)] for n in lengths],
                "pair": [[i, i + 1] for i in range(rows)],
                # datasets fails on a batch whose first value is None: none where a batch of
                # 2 or 7 rows starts
                "maybe": [
                    None if (first + i) % 14 in (3, 5, 9, 11) else [i] * (i % 3)
                    for i in range(rows)
                ],
                "note": [None if i % 6 == 0 else f"n{i}" for i in range(rows)],
                "count": pl.Series([None if i % 9 == 4 else i for i in range(rows)], dtype=pl.Int8),
            }
        )
        first += rows
        path = root / f"part-{part}.parquet"
        frame.write_parquet(path, row_group_size=5)
        out.append(str(path))
    return out


def same(a: Any, b: Any, where: str) -> None:
    """Equal values, types and dtypes, all the way down (numpy or torch)."""
    assert type(a) is type(b), (where, type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        assert (a.dtype, a.shape) == (b.dtype, b.shape), (where, a.dtype, b.dtype, a.shape)
        assert a.flags.writeable == b.flags.writeable, where
        if a.dtype == object:
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                same(x, y, f"{where}[{i}]")
        else:
            np.testing.assert_array_equal(a, b, err_msg=where)  # NaN equals NaN here
    elif isinstance(a, torch.Tensor):
        assert (a.dtype, a.shape) == (b.dtype, b.shape), (where, a.dtype, b.dtype)
        assert torch.equal(a, b) or torch.allclose(a, b, equal_nan=True), where
    else:
        assert a == b or (a != a and b != b), where  # NaN: a null integer in numpy


@pytest.mark.parametrize("fmt", ["numpy", "torch"])
@pytest.mark.parametrize("batch_size", [2, 7, 100])
def test_batches_as_datasets(files: list[str], fmt: str, batch_size: int) -> None:
    ours = cp.load_dataset("parquet", data_files=files, split="train", streaming=True)
    theirs = hf.load_dataset("parquet", data_files=files, split="train", streaming=True)
    mine = list(ours.iter(batch_size=batch_size, format=fmt))
    oracle = list(theirs.with_format(fmt).iter(batch_size=batch_size))
    assert len(mine) == len(oracle)
    for i, (a, b) in enumerate(zip(mine, oracle, strict=True)):
        same(a, b, f"batch {i}")


@pytest.mark.parametrize("fmt", ["numpy", "torch"])
def test_rows_as_datasets(files: list[str], fmt: str) -> None:
    ours = cp.load_dataset("parquet", data_files=files, split="train", streaming=True)
    theirs = hf.load_dataset("parquet", data_files=files, split="train", streaming=True)
    mine, oracle = list(ours.with_format(fmt)), list(theirs.with_format(fmt))
    assert len(mine) == len(oracle)
    for i, (a, b) in enumerate(zip(mine, oracle, strict=True)):
        same(a, b, f"row {i}")


def test_batches_are_the_callers_to_change(files: list[str]) -> None:
    ours = cp.load_dataset("parquet", data_files=files[:1], split="train", streaming=True)
    batch = next(iter(ours.iter(batch_size=8, format="numpy")))
    batch["id"] += 1  # as datasets: flat and stacked columns are writable copies
    batch["pair"][0, 0] = -1
    assert batch["id"].tolist() == list(range(1, 9))
    assert batch["tokens"].dtype == object and batch["tokens"][0].dtype == np.int64


def test_torch_batch_rows_as_datasets(files: list[str]) -> None:
    """batch() on a torch stream: string columns stay lists, as in datasets."""
    ours = cp.load_dataset("parquet", data_files=files, split="train", streaming=True)
    theirs = hf.load_dataset("parquet", data_files=files, split="train", streaming=True)
    columns = ["id", "score", "text", "tokens", "pair"]
    mine = list(ours.select_columns(columns).with_format("torch").batch(6))
    oracle = list(theirs.select_columns(columns).with_format("torch").batch(6))
    assert len(mine) == len(oracle)
    for i, (a, b) in enumerate(zip(mine, oracle, strict=True)):
        same(a, b, f"batch {i}")
