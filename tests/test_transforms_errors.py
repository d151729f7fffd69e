"""Bad input to the transforms: each a clear error naming what is wrong and where."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

import crucible_polars as cp
from crucible_polars.errors import (
    ColumnNotFoundError,
    DuplicateColumnError,
    FunctionOutputError,
)


@pytest.fixture
def ds() -> cp.Dataset:
    return cp.Dataset.from_dict({"a": list(range(10)), "b": [str(i) for i in range(10)]})


@pytest.mark.parametrize(
    "call",
    [
        lambda ds: ds.select_columns(["a", "nope"]),
        lambda ds: ds.remove_columns("nope"),
        lambda ds: ds.rename_column("nope", "x"),
        lambda ds: ds.rename_columns({"nope": "x"}),
        lambda ds: ds.sort("nope"),
        lambda ds: ds.unique("nope"),
        lambda ds: ds.class_encode_column("nope"),
        lambda ds: ds.cast_column("nope", cp.Value("int64")),
        lambda ds: ds.map(lambda x: {}, input_columns="nope"),
        lambda ds: ds.map(lambda x: {}, remove_columns=["nope"]),
        lambda ds: ds.filter(lambda x: True, input_columns=["nope"]),
        lambda ds: ds.train_test_split(0.5, stratify_by_column="nope"),
    ],
)
def test_unknown_column_lists_the_columns(ds: cp.Dataset, call: Any) -> None:
    with pytest.raises(ColumnNotFoundError, match=r"'nope'.*Columns: \['a', 'b'\]") as info:
        call(ds)
    assert isinstance(info.value, ValueError) and isinstance(info.value, KeyError)


def test_map_wrong_number_of_rows_names_the_batch(ds: cp.Dataset) -> None:
    def drop_one(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        return {"c": batch["a"][:-1] if batch["a"][0] >= 4 else batch["a"]}

    mapped = ds.map(drop_one, batched=True, batch_size=4)  # the first batch is fine
    with pytest.raises(FunctionOutputError, match=r"map\(drop_one\), batch of rows 4\.\.7") as info:
        mapped.to_dict()
    assert "returned 3 rows for a batch of 4" in str(info.value)
    assert "remove_columns" in str(info.value)
    assert (info.value.start, info.value.stop) == (4, 8)


def test_map_inconsistent_types_name_the_batch(ds: cp.Dataset) -> None:
    def flip(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        return {"c": [i if i < 5 else f"#{i}" for i in batch["a"]]}

    with pytest.raises(FunctionOutputError, match=r"batch of rows 5\.\.9: column 'c' is String"):
        ds.map(flip, batched=True, batch_size=5).to_dict()
    with pytest.raises(FunctionOutputError, match=r"rows 0\.\.4: the values of column 'c'"):
        ds.map(lambda b: {"c": [1, "x", 2, 3, 4]}, batched=True, batch_size=5, on_mixed_types=None)
    # on_mixed_types="use_json" (datasets' default): mixed values are a Json column
    assert ds.map(lambda b: {"c": [1, "x"] * 5}, batched=True)[:2]["c"] == [1, "x"]


def test_map_other_bad_outputs(ds: cp.Dataset) -> None:
    with pytest.raises(FunctionOutputError, match="different lengths"):
        ds.map(lambda b: {"c": [1], "d": [1, 2]}, batched=True, remove_columns=["a", "b"])
    with pytest.raises(FunctionOutputError, match="not a list"):
        ds.map(lambda b: {"c": 1}, batched=True)
    with pytest.raises(FunctionOutputError, match=r"row 0: .*returned a int"):
        ds.map(lambda r: 1)
    with pytest.raises(FunctionOutputError, match=r"row 3: the function returned \['d'\]"):
        ds.map(lambda r: {"c" if r["a"] != 3 else "d": 1})
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['colour'\]"):
        ds.map(lambda r: r, colour=1)
    features = cp.Features({"a": cp.Value("int64")})
    with pytest.raises(FunctionOutputError, match="do not match the features= columns"):
        ds.map(lambda r: {"c": 1}, features=features).to_dict()


def test_filter_function_wrong_number_of_values(ds: cp.Dataset) -> None:
    bad = ds.filter(lambda b: [True], batched=True, batch_size=4)
    with pytest.raises(FunctionOutputError, match=r"rows 0\.\.3: the function returned 1 values"):
        bad.to_dict()
    with pytest.raises(TypeError, match="no function options"):
        ds.filter(pl.col("a") > 1, batched=True)


def test_shard_index_out_of_range(ds: cp.Dataset) -> None:
    with pytest.raises(ValueError, match=r"Shard index 3 is out of range.*\[0, 2\]"):
        ds.shard(num_shards=3, index=3)
    with pytest.raises(ValueError, match="num_shards must be a positive integer"):
        ds.shard(num_shards=0, index=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"test_size": 10}, "test_size=10 should be either positive and smaller"),
        ({"test_size": 1.5}, r"or a float in the \(0, 1\) range"),
        ({"train_size": 0}, "train_size=0 should be either positive"),
        ({"test_size": 0.6, "train_size": 0.6}, "The sum of test_size and train_size = 1.2"),
        ({"test_size": 6, "train_size": 6}, "The sum of train_size and test_size = 12"),
        ({"test_size": "big"}, "Invalid value for test_size"),
        ({"test_size": 0.95}, "the resulting train set will be empty"),
        ({"test_size": 0.5, "shuffle": False, "stratify_by_column": "a"}, "shuffle=False"),
        ({"stratify_by_column": "b"}, "only supported for ClassLabel column"),
    ],
)
def test_split_sizes_that_do_not_fit(ds: cp.Dataset, kwargs: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ds.train_test_split(**kwargs)


def test_stratified_split_needs_two_of_each_class() -> None:
    labelled = cp.Dataset.from_dict({"y": [0, 0, 1]}).cast_column("y", cp.ClassLabel(num_classes=2))
    with pytest.raises(ValueError, match="least populated class"):
        labelled.train_test_split(test_size=1, stratify_by_column="y")


def test_interleave_bad_probabilities(ds: cp.Dataset) -> None:
    other = cp.Dataset.from_dict({"a": [100], "b": ["x"]})
    with pytest.raises(ValueError, match=r"probabilities must sum to 1, got 0.9 for \[0.5, 0.4\]"):
        cp.interleave_datasets([ds, other], probabilities=[0.5, 0.4], seed=0)
    with pytest.raises(ValueError, match="got 1 probabilities for 2 datasets"):
        cp.interleave_datasets([ds, other], probabilities=[1.0])
    with pytest.raises(ValueError, match=">= 0"):
        cp.interleave_datasets([ds, other], probabilities=[1.5, -0.5])
    with pytest.raises(ValueError, match="not supported"):
        cp.interleave_datasets([ds, other], stopping_strategy="never")
    with pytest.raises(ValueError, match="never sampled"):
        cp.interleave_datasets([ds, other], [1.0, 0.0], stopping_strategy="all_exhausted")
    with pytest.raises(ValueError, match="empty list"):
        cp.interleave_datasets([])


def test_duplicate_column_names(ds: cp.Dataset) -> None:
    with pytest.raises(DuplicateColumnError, match=r"\['b'\] would appear twice"):
        ds.rename_column("a", "b")
    with pytest.raises(DuplicateColumnError, match=r"\['x'\]"):
        ds.rename_columns({"a": "x", "b": "x"})
    with pytest.raises(DuplicateColumnError, match="add_column"):
        ds.add_column("a", list(range(10)))
    with pytest.raises(DuplicateColumnError, match=r"axis=1.*\['a', 'b'\]"):
        cp.concatenate_datasets([ds, ds], axis=1)
    with pytest.raises(DuplicateColumnError, match="select_columns"):
        ds.select_columns(["a", "a"])
    with pytest.raises(ValueError, match="empty"):
        ds.rename_column("a", "")


def test_other_bad_inputs(ds: cp.Dataset) -> None:
    with pytest.raises(IndexError, match="Index 10 out of range for dataset of size 10"):
        ds.select([0, 10])
    with pytest.raises(ValueError, match="got 2 values for a dataset of 10 rows"):
        ds.add_column("c", [1, 2])
    with pytest.raises(ValueError, match="null_placement 'middle'"):
        ds.sort("a", null_placement="middle")
    with pytest.raises(ValueError, match="Parameter 'reverse'"):
        ds.sort(["a", "b"], descending=[True])
    with pytest.raises(ValueError, match="only supported for Value column"):
        cp.Dataset.from_dict({"l": [[1]]}).class_encode_column("l")
    with pytest.raises(ValueError, match="features can't be aligned because the key a"):
        cp.concatenate_datasets([ds, cp.Dataset.from_dict({"a": ["x"]})])
    with pytest.raises(ValueError, match="Number of rows must match"):
        cp.concatenate_datasets([ds, cp.Dataset.from_dict({"c": [1]})], axis=1)
    with pytest.raises(ValueError, match="Both `seed` and `generator`"):
        import numpy as np

        ds.shuffle(seed=1, generator=np.random.default_rng(1))
    with pytest.raises(ValueError, match="take"):
        ds.take(-1)
