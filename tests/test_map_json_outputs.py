"""``map`` outputs with ``Json`` parts typed as ``datasets`` 5 (the oracle) types them: a column
with a ``Json`` feature keeps it when the function returns changed values (lists mixing
types, dicts, numbers, text), and ``on_mixed_types="use_json"`` (``Dataset.map``'s default)
gives a new column of values of no one type ``Json`` where they mix; in memory, on a dataset
saved and loaded, and with the mapped dataset itself saved and loaded."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import datasets as hf
import pytest

import crucible_polars as cp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from parity_oracle import assert_same, both_ways, same_outcome

cp.disable_progress_bars()
hf.disable_progress_bars()

NESTED = (
    '{"a": [1, "x"], "s": {"k": 1, "n": 0}, "t": 1}\n'
    '{"a": [2], "s": {"k": "x", "n": 1}, "t": 1.5}\n{"a": null, "s": null, "t": 2}\n'
)
TOP = '{"c": -1, "d": 1}\n{"c": "foo", "d": 2}\n{"c": [1, 2], "d": 3}\n{"c": null, "d": 4}\n'


def _loaded(text: str) -> tuple[cp.Dataset, Any]:
    path = os.path.join(tempfile.mkdtemp(), "data.jsonl")
    with open(path, "w") as file:
        file.write(text)
    ours = cp.load_dataset("json", data_files=path, split="train")
    return ours, hf.load_dataset("json", data_files=path, split="train")


def _extend(row: dict[str, Any]) -> dict[str, Any]:
    row["a"] = (row["a"] or []) + [{"z": 1}, 2.5]
    row["s"] = {"k": [1, "q"], "n": 5}
    return row


def _in_place(row: dict[str, Any]) -> dict[str, Any]:
    if row["a"] is not None:
        row["a"].append("more")
    return row


NESTED_CASES: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
    "identity": (lambda row: row, {}),
    "extended values": (_extend, {}),
    "edited in place": (_in_place, {}),
    "one type in a Json list": (lambda row: {"a": [1, 2]}, {}),
    "not the Json struct": (lambda row: {"s": 5}, {}),
    "new mixed column": (lambda row: {"new": [1, "x"] if row["t"] == 1 else 3}, {}),
    "batched": (lambda b: {"a": [[1, "y"]] * len(b["a"])}, {"batched": True}),
    "batched, no original type": (
        lambda b: {"a": [[1, "y"]] * len(b["a"])},
        {"batched": True, "try_original_type": False},
    ),
    "batches of one": (lambda b: {"a": [[b["t"][0], "y"]]}, {"batched": True, "batch_size": 1}),
}
TOP_CASES: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
    "identity": (lambda row: row, {}),
    "a dict": (lambda row: {"c": {"w": row["d"]}}, {}),
    "a number": (lambda row: {"c": row["d"]}, {}),
    "text": (lambda row: {"c": "str"}, {}),
    "JSON text": (lambda row: {"c": '{"a": 1}'}, {}),
    "None": (lambda row: {"c": None}, {}),
}
NEW_COLUMN_CASES: dict[str, Callable[..., Any]] = {
    "dicts of different keys": lambda row: {"m": {"a": 1} if row["i"] == 0 else {"b": 2}},
    "dicts of the same keys": lambda row: {"m": {"a": row["i"]}},
    "list mixing types": lambda row: {"m": [1, "x"]},
    "list of dicts of different keys": lambda row: {"m": [{"a": 1}, {"b": 2}]},
    "empty dicts": lambda row: {"m": {}},
    "a number, then text": lambda row: {"m": 1 if row["i"] else "x"},
    "numbers": lambda row: {"m": [1, 2.5]},
    "a struct field mixing types": lambda row: {"m": {"k": 1 if row["i"] else "x", "n": 1}},
    "a list of lists mixing types": lambda row: {"m": [[1], ["x", None]] if row["i"] else None},
}


def _same_map(ours: cp.Dataset, theirs: Any, function: Callable[..., Any], **kwargs: Any) -> None:
    """The same rows and Features, in memory and saved (before and after the map)."""
    for where, a, b in both_ways(ours, theirs):
        got = same_outcome(
            lambda a=a: a.map(function, **kwargs).to_list(),
            lambda b=b: b.map(function, **kwargs).to_list(),
            where,
        )
        if got is None:
            continue  # both raised
        mapped, mapped_theirs = a.map(function, **kwargs), b.map(function, **kwargs)
        assert mapped.features.to_dict() == mapped_theirs.features.to_dict(), where
        folder = tempfile.mkdtemp()
        mapped.save_to_disk(folder)
        reloaded = cp.load_from_disk(folder)
        assert reloaded.features.to_dict() == mapped_theirs.features.to_dict(), where
        assert_same(reloaded.to_list(), mapped_theirs.to_list(), f"{where}, map saved")
        assert_same(hf.load_from_disk(folder).to_list(), got, f"{where}, map saved, datasets")


@pytest.mark.parametrize("case", sorted(NESTED_CASES))
def test_nested_json_columns_through_map(case: str) -> None:
    function, kwargs = NESTED_CASES[case]
    _same_map(*_loaded(NESTED), function, **kwargs)


@pytest.mark.parametrize("case", sorted(TOP_CASES))
def test_top_level_json_column_through_map(case: str) -> None:
    function, kwargs = TOP_CASES[case]
    _same_map(*_loaded(TOP), function, **kwargs)


@pytest.mark.parametrize("case", sorted(NEW_COLUMN_CASES))
def test_new_columns_mixing_types_get_json(case: str) -> None:
    data = {"i": [0, 1, 2]}
    _same_map(cp.Dataset.from_dict(data), hf.Dataset.from_dict(data), NEW_COLUMN_CASES[case])


@pytest.mark.parametrize("case", sorted(NEW_COLUMN_CASES))
def test_without_use_json_mixed_values_are_an_error(case: str) -> None:
    """``on_mixed_types=None``: values mixing types fail in both (``datasets`` raises
    pyarrow's errors, we a ``FunctionOutputError`` naming the rows and column)."""
    data = {"i": [0, 1, 2]}
    ours, theirs = cp.Dataset.from_dict(data), hf.Dataset.from_dict(data)
    function = NEW_COLUMN_CASES[case]
    try:
        expected = theirs.map(function, on_mixed_types=None)
    except (TypeError, ValueError):
        with pytest.raises(cp.errors.FunctionOutputError, match="column 'm'"):
            ours.map(function, on_mixed_types=None).to_list()
        return
    mapped = ours.map(function, on_mixed_types=None)
    assert mapped.features.to_dict() == expected.features.to_dict()
    assert mapped.to_list() == expected.to_list()


def test_dataset_dict_map_does_not_use_json_unless_asked() -> None:
    """``datasets``' ``DatasetDict.map`` passes ``on_mixed_types=None`` by default."""
    data = {"i": [0, 1]}
    ours = cp.DatasetDict(train=cp.Dataset.from_dict(data))
    theirs = hf.DatasetDict(train=hf.Dataset.from_dict(data))

    def function(row: dict[str, Any]) -> dict[str, Any]:
        return {"m": 1 if row["i"] else "x"}

    with pytest.raises(TypeError):  # pyarrow's ArrowTypeError
        theirs.map(function)
    with pytest.raises(cp.errors.FunctionOutputError):
        ours.map(function)["train"].to_list()
    asked = ours.map(function, on_mixed_types="use_json")["train"]
    theirs_asked = theirs.map(function, on_mixed_types="use_json")["train"]
    assert asked.features.to_dict() == theirs_asked.features.to_dict()
    assert asked.to_list() == theirs_asked.to_list() == [{"i": 0, "m": "x"}, {"i": 1, "m": 1}]


def test_later_batches_are_encoded_with_the_first_batch_json() -> None:
    """The first batch makes ``m`` a ``Json`` column; a later batch of numbers only is
    JSON-encoded into it, as ``datasets`` writes it (one process and two)."""
    data = {"i": list(range(6))}

    def function(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        return {"m": [[1, "x"] if i == 0 else i for i in batch["i"]]}

    theirs = hf.Dataset.from_dict(data).map(function, batched=True, batch_size=2)
    for num_proc in (None, 2):
        ours = cp.Dataset.from_dict(data).map(
            function, batched=True, batch_size=2, num_proc=num_proc
        )
        assert ours.features.to_dict() == theirs.features.to_dict()
        assert ours.to_list() == theirs.to_list()


def test_features_given_with_json_encode_the_values() -> None:
    data = {"i": [0, 1]}
    features = {"i": {"dtype": "int64", "_type": "Value"}, "m": {"_type": "Json"}}

    def function(row: dict[str, Any]) -> dict[str, Any]:
        return {"m": [row["i"], "x"] if row["i"] else {"k": None}}

    ours = cp.Dataset.from_dict(data).map(function, features=cp.Features.from_dict(features))
    theirs = hf.Dataset.from_dict(data).map(function, features=hf.Features.from_dict(features))
    assert ours.features.to_dict() == theirs.features.to_dict()
    assert ours.to_list() == theirs.to_list()
    assert ours.with_format("arrow")[:].to_pylist() == theirs.with_format("arrow")[:].to_pylist()


def test_streaming_map_returns_the_values() -> None:
    """``IterableDataset.map`` gives back the values the function returned (``datasets``
    does not type them), Json columns and mixed new ones alike."""
    ours, theirs = _loaded(NESTED)
    for function in (_extend, NESTED_CASES["new mixed column"][0]):
        streamed = list(ours.to_iterable_dataset().map(function))
        expected = list(theirs.to_iterable_dataset().map(function))
        assert_same(streamed, expected, getattr(function, "__name__", "lambda"))
