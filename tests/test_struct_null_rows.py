"""numpy and torch rows of struct columns with null rows and null fields, streamed and by
position, as ``datasets`` formats them: a row is formatted from itself, so an int field
stays an int array in a row with no null (issue 13). ``datasets``' iterators are consumed
fully."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import crucible_polars as cp

ROWS = [
    {"s": {"a": 1, "b": 2.5, "t": "x", "l": [1, 2], "n": {"z": 1}}, "ls": [{"p": 1}, {"p": None}]},
    {"s": None, "ls": None},
    {"s": {"a": None, "b": 1.0, "t": None, "l": None, "n": None}, "ls": [None, {"p": 3}]},
    {"s": {"a": 4, "b": None, "t": "y", "l": [None, 2], "n": {"z": None}}, "ls": []},
    {"s": {"a": 5, "b": 0.5, "t": "z", "l": [], "n": {"z": 2}}, "ls": [{"p": 4}]},
]
FEATURES = {
    "s": {
        "a": {"dtype": "int64", "_type": "Value"},
        "b": {"dtype": "float64", "_type": "Value"},
        "t": {"dtype": "string", "_type": "Value"},
        "l": {"feature": {"dtype": "int64", "_type": "Value"}, "_type": "List"},
        "n": {"z": {"dtype": "int64", "_type": "Value"}},
    },
    "ls": {"feature": {"p": {"dtype": "int64", "_type": "Value"}}, "_type": "List"},
}


def _shape(value: Any) -> Any:
    """Types, dtypes, shapes and values, for an exact comparison."""
    import torch

    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return ("array", value.shape, [_shape(v) for v in value])
        return ("array", str(value.dtype), value.shape, repr(value.tolist()))
    if isinstance(value, np.generic):
        return ("scalar", str(value.dtype), repr(value.item()))
    if isinstance(value, torch.Tensor):
        return ("tensor", str(value.dtype), tuple(value.shape), repr(value.tolist()))
    return value


@pytest.fixture
def path(tmp_path: Path) -> str:
    file = tmp_path / "rows.jsonl"
    file.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    return str(file)


def _both(path: str, streaming: bool) -> tuple[Any, Any]:
    import datasets

    theirs = datasets.load_dataset(
        "json",
        data_files=path,
        split="train",
        streaming=streaming,
        features=datasets.Features.from_dict(FEATURES),
    )
    ours = cp.load_dataset(
        "json",
        data_files=path,
        split="train",
        streaming=streaming,
        features=cp.Features.from_dict(FEATURES),
    )
    return ours, theirs


@pytest.mark.parametrize("fmt", ["numpy", "torch"])
def test_streamed_rows_as_datasets(path: str, fmt: str) -> None:
    ours, theirs = _both(path, streaming=True)
    expected = [_shape(row) for row in theirs.with_format(fmt)]
    assert [_shape(row) for row in ours.with_format(fmt)] == expected


@pytest.mark.parametrize("fmt", ["numpy", "torch"])
def test_streamed_batches_as_datasets(path: str, fmt: str) -> None:
    ours, theirs = _both(path, streaming=True)
    expected = [_shape(b) for b in theirs.with_format(fmt).iter(batch_size=2)]
    assert [_shape(b) for b in ours.with_format(fmt).iter(batch_size=2)] == expected


@pytest.mark.parametrize("fmt", ["numpy", "torch"])
def test_rows_by_position_as_datasets(path: str, fmt: str) -> None:
    ours, theirs = _both(path, streaming=False)
    ours, theirs = ours.with_format(fmt), theirs.with_format(fmt)
    assert [_shape(ours[i]) for i in range(len(ROWS))] == [
        _shape(theirs[i]) for i in range(len(ROWS))
    ]
    assert [_shape(row) for row in ours] == [_shape(row) for row in theirs]
