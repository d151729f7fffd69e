"""A ``map``/``filter`` function's row is converted as it is read, as ``datasets``' ``LazyRow``:
columns it never reads are neither converted nor decoded (a broken image it never reads does
not fail), and the row behaves as ``datasets``' does (the oracle): edits, deletions (a
column deleted from the row or batch is dropped), copies, ``|``, ``dict(row)``; in memory
and after ``save_to_disk`` + ``load_from_disk``."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import datasets as hf
import PIL.Image
import pytest

import crucible_polars as cp
from crucible_polars.udf import lazy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from parity_oracle import assert_same, both_ways

hf.disable_progress_bars()
cp.disable_progress_bars()

DATA = {"a": [1, 2, 3], "b": ["x", "y", "z"], "t": [[1], [2, 3], []]}


def _drop_a(row: dict[str, Any]) -> dict[str, Any]:
    del row["a"]
    return row


def _drop_a_return_new(row: dict[str, Any]) -> dict[str, Any]:
    del row["a"]
    return {"c": 1}


def _pop_and_set(row: dict[str, Any]) -> dict[str, Any]:
    row.pop("a")
    row["c"] = 5
    return row


def _drop_then_set(row: dict[str, Any]) -> dict[str, Any]:
    del row["a"]
    row["a"] = 0
    return row


def _copy_edited(row: dict[str, Any]) -> dict[str, Any]:
    out = row.copy()
    out["a"] = 9
    del out["b"]
    return out


def _in_place_list(row: dict[str, Any]) -> dict[str, Any]:
    row["t"].append(7)
    return row


def _in_place_list_new_dict(row: dict[str, Any]) -> dict[str, Any]:
    row["t"].append(7)
    return {"n": len(row["t"])}


def _ior(row: dict[str, Any]) -> dict[str, Any]:
    row |= {"a": 8}
    return row


def _keys(row: dict[str, Any]) -> dict[str, Any]:
    return {"k": ",".join(row), "n": len(row), "has": "b" in row, "items": str(dict(row))}


def _set_return_other(row: dict[str, Any]) -> dict[str, Any]:
    row["a"] = 5
    row["new"] = "n"
    return {"c": 1}


def _set_return_empty(row: dict[str, Any]) -> dict[str, Any]:
    row["a"] = 5
    return {}


def _set_return_none(row: dict[str, Any]) -> None:
    row["a"] = 5


def _set_in_batch(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
    batch["a"] = [0] * len(batch["a"])
    batch["new"] = [1] * len(batch["a"])
    batch["t"][0].append(9)
    return {"c": [1] * len(batch["a"])}


def _drop_in_batch(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
    del batch["a"]
    return batch


def _drop_in_batch_return_new(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
    del batch["b"]
    return {"c": [len(t) for t in batch["t"]]}


CASES: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
    "identity": (lambda row: row, {}),
    "one column read": (lambda row: {"c": row["a"] * 2}, {}),
    "nothing read": (lambda row: {"c": 0}, {}),
    "deleted and returned": (_drop_a, {}),
    "deleted, other dict returned": (_drop_a_return_new, {}),
    "popped and set": (_pop_and_set, {}),
    "deleted then set again": (_drop_then_set, {}),
    "copy edited": (_copy_edited, {}),
    "list edited in place": (_in_place_list, {}),
    "list edited in place, other dict": (_in_place_list_new_dict, {}),
    "| a dict": (lambda row: row | {"a": 7}, {}),
    "a dict | the row": (lambda row: {"z": 1} | row, {}),
    "|=": (_ior, {}),
    "dict(row)": (lambda row: dict(row), {}),
    "{**row}": (lambda row: {**row, "c": row["a"]}, {}),
    "keys, len, in": (_keys, {}),
    "returned, remove_columns": (lambda row: row, {"remove_columns": ["b"]}),
    "input_columns": (lambda a, b: {"c": f"{a}{b}"}, {"input_columns": ["a", "b"]}),
    "with indices": (lambda row, i: {"c": i + row["a"]}, {"with_indices": True}),
    "set, other dict returned": (_set_return_other, {}),
    "set, {} returned": (_set_return_empty, {}),
    "set, None returned": (_set_return_none, {}),
    "set, other dict returned, remove_columns": (_set_return_other, {"remove_columns": ["a"]}),
    "batch: set, other dict returned": (_set_in_batch, {"batched": True}),
    "batch: deleted and returned": (_drop_in_batch, {"batched": True}),
    "batch: deleted, other dict returned": (_drop_in_batch_return_new, {"batched": True}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_rows_behave_as_datasets_rows(case: str) -> None:
    function, kwargs = CASES[case]
    for where, ours, theirs in both_ways(cp.Dataset.from_dict(DATA), hf.Dataset.from_dict(DATA)):
        mapped, expected = ours.map(function, **kwargs), theirs.map(function, **kwargs)
        assert mapped.features.to_dict() == expected.features.to_dict(), where
        assert_same(mapped.to_list(), expected.to_list(), f"{case}, {where}")


def test_filter_rows_are_lazy_rows_too() -> None:
    ours, theirs = cp.Dataset.from_dict(DATA), hf.Dataset.from_dict(DATA)
    for function in (lambda row: row["a"] > 1, lambda row: "b" in row and len(row) == 3):
        assert ours.filter(function).to_list() == theirs.filter(function).to_list()


def test_repr_and_equality_as_a_dict() -> None:
    seen: list[Any] = []
    cp.Dataset.from_dict({"a": [1]}).map(lambda row: seen.append(row) or None)
    row = seen[0]
    assert repr(row) == "{'a': 1}"
    assert row == {"a": 1} and dict(row.items()) == {"a": 1}
    assert row.get("zz", 5) == 5 and "zz" not in row


def _broken_images() -> tuple[cp.Dataset, Any]:
    good = io.BytesIO()
    PIL.Image.new("RGB", (2, 2), "red").save(good, format="PNG")
    data = {
        "img": [{"bytes": good.getvalue(), "path": None}, {"bytes": b"not an image", "path": None}],
        "i": [0, 1],
    }
    features = {"img": {"_type": "Image"}, "i": {"dtype": "int64", "_type": "Value"}}
    ours = cp.Dataset.from_dict(data, features=cp.Features.from_dict(features))
    return ours, hf.Dataset.from_dict(data, features=hf.Features.from_dict(features))


@pytest.mark.parametrize("batched", [False, True])
def test_a_column_never_read_is_never_decoded(batched: bool) -> None:
    """A broken image the function never reads does not fail the map (``datasets`` neither
    decodes it), and goes through as it was stored."""
    ours, theirs = _broken_images()

    def count(row: dict[str, Any]) -> dict[str, Any]:
        return {"n": [i + 1 for i in row["i"]] if batched else row["i"] + 1}

    for function in (count, lambda row: row):
        mapped = ours.map(function, batched=batched)
        expected = theirs.map(function, batched=batched)
        arrow, arrow_theirs = mapped.with_format("arrow")[:], expected.with_format("arrow")[:]
        assert arrow.to_pylist() == arrow_theirs.to_pylist()
    with pytest.raises(Exception, match="image"):
        ours.map(lambda row: {"size": row["img"].size}).to_list()


def test_only_the_columns_read_are_converted(monkeypatch: pytest.MonkeyPatch) -> None:
    converted: list[str] = []
    real = lazy.to_python_columns

    def spy(frame: Any, *args: Any, **kwargs: Any) -> Any:
        converted.extend(frame.columns)
        return real(frame, *args, **kwargs)

    monkeypatch.setattr(lazy, "to_python_columns", spy)
    ds = cp.Dataset.from_dict(DATA)
    assert ds.map(lambda row: {"c": row["a"] + 1})["c"] == [2, 3, 4]
    assert ds.map(lambda row: row).to_list() == ds.to_list()
    assert set(converted) == {"a"}  # once per batch of rows, never "b" nor "t"


def test_in_place_edits_of_a_converted_column_are_kept() -> None:
    ds = cp.Dataset.from_dict({"t": [[1], [2]], "s": ["a", "b"]})

    def edit(row: dict[str, Any]) -> dict[str, Any]:
        row["t"].append(0)
        return {"s": row["s"]}

    assert ds.map(edit).to_list() == [{"t": [1, 0], "s": "a"}, {"t": [2, 0], "s": "b"}]
    assert hf.Dataset.from_dict({"t": [[1], [2]], "s": ["a", "b"]}).map(edit).to_list() == (
        ds.map(edit).to_list()
    )
