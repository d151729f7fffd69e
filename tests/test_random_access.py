"""Random access at memory-mapped Arrow speed (issue 10): materialized rows, DataLoaders in
forked and spawned workers, no engine panic on large gathers, user functions run once."""

from __future__ import annotations

import multiprocessing
import pickle
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import crucible_polars as cp
from crucible_polars.materialize import cache_folder

torch = pytest.importorskip("torch")
from torch.utils.data import DataLoader  # noqa: E402


@pytest.fixture()
def parquet_ds(tmp_path: Path) -> cp.Dataset:
    n = 2_000
    pl.DataFrame(
        {
            "id": range(n),
            "text": [f"row {i} " * 5 for i in range(n)],
            "x": [[i, i] for i in range(n)],
        }
    ).write_parquet(tmp_path / "train.parquet")
    ds = cp.load_dataset(str(tmp_path), split="train")
    assert isinstance(ds, cp.Dataset)
    return ds


def _ids(loader: DataLoader) -> list[int]:
    out: list[int] = []
    for batch in loader:
        out.extend(int(i) for i in batch["id"])
    return out


@pytest.mark.parametrize("kind", ["shuffled", "mapped", "filtered"])
def test_fork_dataloader_with_two_workers_yields_every_row_once(
    parquet_ds: cp.Dataset, kind: str
) -> None:
    if kind == "shuffled":
        ds = parquet_ds.shuffle(seed=0)
        expected = list(range(2_000))
    elif kind == "mapped":
        ds = parquet_ds.map(lambda row: {"y": row["id"] * 2})
        expected = list(range(2_000))
    else:
        ds = parquet_ds.filter(lambda row: row["id"] % 3 == 0)
        expected = list(range(0, 2_000, 3))
    ds = ds.with_format("torch", columns=["id"])
    loader = DataLoader(
        ds,
        batch_size=64,
        shuffle=True,
        num_workers=2,
        multiprocessing_context=multiprocessing.get_context("fork"),
        generator=torch.Generator().manual_seed(0),
    )
    assert sorted(_ids(loader)) == expected


@pytest.mark.parametrize("context", ["spawn", "forkserver"])
def test_spawned_dataloader_workers_read_the_same_rows(
    parquet_ds: cp.Dataset, context: str
) -> None:
    ds = parquet_ds.map(lambda row: {"y": row["id"] + 1}).shuffle(seed=1)
    ds = ds.with_format("torch", columns=["id", "y"])
    loader = DataLoader(
        ds,
        batch_size=100,
        num_workers=2,
        persistent_workers=True,
        multiprocessing_context=multiprocessing.get_context(context),
    )
    rows = [
        (int(i), int(y)) for batch in loader for i, y in zip(batch["id"], batch["y"], strict=True)
    ]
    assert [i for i, _ in rows] == parquet_ds.shuffle(seed=1)["id"]
    assert all(y == i + 1 for i, y in rows)


def test_sequential_fork_dataloader_over_an_unmaterialized_plan_fails_clearly(
    parquet_ds: cp.Dataset,
) -> None:
    loader = DataLoader(
        parquet_ds.filter(pl.col("id") > 5).with_format("torch", columns=["id"]),
        batch_size=64,
        num_workers=1,
        multiprocessing_context=multiprocessing.get_context("fork"),
        timeout=120,
    )
    with pytest.raises(Exception, match="flatten_indices"):
        _ids(loader)
    ready = parquet_ds.filter(pl.col("id") > 5).flatten_indices()
    loader = DataLoader(
        ready.with_format("torch", columns=["id"]),
        batch_size=64,
        num_workers=1,
        multiprocessing_context=multiprocessing.get_context("fork"),
    )
    assert _ids(loader) == list(range(6, 2_000))


def test_getitems_returns_rows_for_torch() -> None:
    ds = cp.Dataset.from_dict({"a": [5, 6, 7], "b": ["x", "y", "z"]}).shuffle(seed=0)
    assert ds.__getitems__([0, 2]) == [ds[0], ds[2]]


@pytest.mark.parametrize(
    ("frame", "rows"),
    [
        (lambda n: pl.DataFrame({"id": range(n), "text": ["t" * 100] * n}), 300_000),
        (lambda n: pl.DataFrame({"id": range(n)}), 1_000_000),
    ],
)
def test_shuffled_access_at_the_sizes_that_panicked(
    tmp_path: Path, frame: object, rows: int
) -> None:
    path = tmp_path / "big.parquet"
    frame(rows).write_parquet(path)  # type: ignore[operator]
    ds = cp.load_dataset("parquet", data_files=str(path), split="train").shuffle(seed=0)
    permutation = np.random.default_rng(0).permutation(rows)
    for i in (0, 1, rows // 2, rows - 1):
        assert ds[i]["id"] == permutation[i]
    step = ds.skip(1024).select(range(128)).to_list()
    assert [r["id"] for r in step] == permutation[1024:1152].tolist()


def test_a_mapped_function_runs_once_per_row_across_repeated_accesses() -> None:
    calls: list[int] = []

    def f(row: dict[str, int]) -> dict[str, float]:
        calls.append(row["a"])
        return {"r": float(np.random.default_rng().random())}

    mapped = cp.Dataset.from_dict({"a": list(range(50))}).map(f)
    calls.clear()  # the first batch ran at map() to learn the output types
    assert len(mapped[[3, 1]]["r"]) == 2  # the first read by positions materializes the rows
    first = mapped[0]["r"]
    assert mapped[0]["r"] == first and mapped[[0, 1]]["r"][0] == first
    assert mapped.shuffle(seed=0)[0]["r"] in mapped["r"]
    assert sorted(calls) == list(range(50))


def test_len_and_repr_never_run_the_function() -> None:
    calls: list[int] = []

    def f(batch: dict[str, list[int]]) -> dict[str, list[int]]:
        calls.append(len(batch["a"]))
        return {"a": [v for v in batch["a"] if v % 2]}

    mapped = cp.Dataset.from_dict({"a": list(range(1_000))}).map(f, batched=True, batch_size=10)
    kept = cp.Dataset.from_dict({"a": list(range(1_000))}).map(lambda r: {"b": r["a"]})
    calls.clear()
    assert "num_rows: ?" in repr(mapped)
    assert len(kept) == 1_000
    assert calls == []
    assert "?" in mapped._repr_html_()  # the notebook view runs the function on the rows it shows
    assert calls == [10]


def test_materialized_rows_are_reused_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    pl.DataFrame({"a": range(100)}).write_parquet(path)
    ds = cp.load_dataset("parquet", data_files=str(path), split="train").shuffle(seed=3)
    ds[0]
    again = pickle.loads(pickle.dumps(ds))
    assert again["a"] == ds["a"]
    files = list(cache_folder().glob("*.arrow"))
    assert files, "the rows were written to the cache"
    before = {f: f.stat().st_mtime_ns for f in files}
    cp.load_dataset("parquet", data_files=str(path), split="train").shuffle(seed=4)[0]
    assert {f: f.stat().st_mtime_ns for f in files} == before  # same plan: same file, not rewritten


def test_cp_cache_reports_and_removes_materialized_rows(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    pl.DataFrame({"a": range(50)}).write_parquet(path)
    ds = cp.load_dataset("parquet", data_files=str(path), split="train").shuffle(seed=9)
    ds[[0, 5]]  # rows by positions: materialized
    report = cp.cache.materialized_info()
    assert report.files >= 1 and report.size_on_disk > 0
    assert cp.cache.clear_materialized() >= report.size_on_disk
    assert cp.cache.materialized_info().files == 0
