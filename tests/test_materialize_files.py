"""Materialized rows on disk (issue 10): a plain parquet scan converted by pyarrow, plans over
the mapped file that copy nothing, and pickles that name exactly the rows they hold."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import crucible_polars as cp
from crucible_polars.arrow_files import mapped_columns
from crucible_polars.ipc_write import plain_parquet_files
from crucible_polars.materialize import materialize

ROWS = 3_000


def _frame(start: int = 0, rows: int = ROWS) -> pl.DataFrame:
    ids = range(start, start + rows)
    return pl.DataFrame(
        {"id": ids, "text": [f"row {i}" for i in ids], "x": [[i, i + 1] for i in ids]}
    )


@pytest.fixture()
def parquet_ds(tmp_path: Path) -> cp.Dataset:
    _frame().write_parquet(tmp_path / "train.parquet", row_group_size=700)
    ds = cp.load_dataset("parquet", data_files=str(tmp_path / "train.parquet"), split="train")
    assert isinstance(ds, cp.Dataset)
    return ds


def test_a_plain_parquet_scan_is_converted_by_pyarrow_with_the_same_rows(
    parquet_ds: cp.Dataset,
) -> None:
    assert plain_parquet_files(parquet_ds._plan) == list(parquet_ds._plan.sources)
    rows = materialize(parquet_ds._plan)
    assert rows.table is not None and mapped_columns(rows.table) is not None
    assert rows.table.to_pylist() == _frame().to_dicts()
    assert rows.lf.collect_schema() == parquet_ds._plan.lf.collect_schema()
    shuffled = parquet_ds.shuffle(seed=0)
    assert sorted(r["id"] for r in shuffled) == list(range(ROWS))
    assert shuffled[5] == _frame().row(shuffled[5]["id"], named=True)


def test_a_plan_that_does_more_than_scan_is_not_plain(parquet_ds: cp.Dataset) -> None:
    filtered = parquet_ds.filter(pl.col("id") > 10)
    assert plain_parquet_files(filtered._plan) is None
    assert plain_parquet_files(parquet_ds.select_columns(["id"])._plan) is None
    assert plain_parquet_files(parquet_ds.shuffle(seed=0)._plan) is None
    assert [r["id"] for r in filtered.shuffle(seed=0).select(range(3))] == [
        r["id"] for r in filtered.flatten_indices().shuffle(seed=0).select(range(3))
    ]


def test_files_of_different_schemas_or_dictionaries_take_the_polars_path(
    tmp_path: Path,
) -> None:
    _frame(0, 10).write_parquet(tmp_path / "a.parquet")
    _frame(10, 10).drop("x").write_parquet(tmp_path / "b.parquet")  # x: nulls there
    files = [str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")]
    mixed = cp.load_dataset("parquet", data_files=files, split="train")
    assert plain_parquet_files(mixed._plan) is None
    assert sorted(r["id"] for r in mixed.shuffle(seed=0)) == list(range(20))

    table = pa.table({"c": pa.array(["x", "y", "x"]).dictionary_encode()})
    pq.write_table(table, tmp_path / "dict.parquet", row_group_size=1)
    dicts = cp.load_dataset("parquet", data_files=str(tmp_path / "dict.parquet"), split="train")
    assert plain_parquet_files(dicts._plan) is None
    assert [r["c"] for r in dicts.select([2, 0, 1])] == ["x", "x", "y"]


def test_two_files_of_one_schema_are_converted_in_order(tmp_path: Path) -> None:
    _frame(0, 10).write_parquet(tmp_path / "a.parquet")
    _frame(10, 10).write_parquet(tmp_path / "b.parquet")
    files = [str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")]
    ds = cp.load_dataset("parquet", data_files=files, split="train")
    assert plain_parquet_files(ds._plan) == files
    assert [r["id"] for r in ds.select([19, 0, 10])] == [19, 0, 10]


def test_a_plan_over_mapped_rows_scans_the_file_and_stays_lazy(parquet_ds: cp.Dataset) -> None:
    rows = materialize(parquet_ds._plan)
    assert "SCAN" in rows.lf.explain() and "DF [" not in rows.lf.explain()
    shuffled = parquet_ds.shuffle(seed=3)
    out = shuffled.filter(pl.col("id") < 5).rename_column("text", "t").select_columns(["t"])
    assert sorted(out["t"]) == [f"row {i}" for i in range(5)]


def test_pickles_name_exactly_the_rows_and_columns_they_hold(parquet_ds: cp.Dataset) -> None:
    shuffled = parquet_ds.shuffle(seed=0)
    few = shuffled.select(range(5)).flatten_indices()  # rows taken into memory
    back = pickle.loads(pickle.dumps(few))
    assert len(back) == 5 and back["id"] == few["id"]

    renamed = shuffled.rename_column("text", "t").select_columns(["t", "id"])
    back = pickle.loads(pickle.dumps(renamed))
    assert back.column_names == ["t", "id"]
    assert back[:4] == renamed[:4]

    whole = materialize(parquet_ds._plan)
    assert whole.table is not None
    assert len(pickle.dumps(whole)) < 10_000  # by its file, not by value


def test_a_shuffled_pass_in_numpy_never_imports_pandas(parquet_ds: cp.Dataset) -> None:
    """pandas costs a process some 50 MiB and a third of a second; nothing here needs it."""
    (path,) = parquet_ds._plan.sources
    code = (
        "import sys, crucible_polars as cp\n"
        f"ds = cp.load_dataset('parquet', data_files={path!r}, split='train').shuffle(seed=0)\n"
        "ds[3]; ds[[1, 2]]\n"
        "n = sum(len(b['id']) for b in ds.iter(256, format='numpy'))\n"
        "assert n == len(ds), n\n"
        "print('pandas' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert out.stdout.strip() == "False"
