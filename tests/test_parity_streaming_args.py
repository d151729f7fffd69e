"""``IterableDataset`` and ``IterableDatasetDict`` take ``datasets``' parameters, in its order,
and give its results: ``batch(by_column=...)``, ``shuffle(max_buffer_input_shards=...)``,
``IterableDatasetDict.map(with_split=True)``; no ``num_proc``/``desc`` (a ``TypeError``, as
there)."""

from __future__ import annotations

import inspect
import pickle
from typing import Any

import datasets as hf
import pytest

import crucible_polars as cp

hf.disable_progress_bars()

EXTENSIONS = {  # parameters of ours datasets' streaming methods lack (listed in the docs)
    ("map", "with_rank"),
    ("filter", "with_rank"),
    ("map", "features"),  # IterableDatasetDict.map only
    ("iter", "format"),
    ("with_format", "columns"),
}
DATA = {"k": [1, 1, 2, 2, 2, 3, 1], "v": list(range(7))}


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (cp.IterableDataset, hf.IterableDataset),
        (cp.IterableDatasetDict, hf.IterableDatasetDict),
    ],
    ids=["IterableDataset", "IterableDatasetDict"],
)
def test_mirrored_methods_take_datasets_parameters(ours: type, theirs: type) -> None:
    for name in sorted(vars(theirs)):
        if name.startswith("_") or not hasattr(ours, name) or not callable(getattr(ours, name)):
            continue
        if isinstance(inspect.getattr_static(theirs, name), (staticmethod, classmethod)):
            continue
        mine = inspect.signature(getattr(ours, name)).parameters
        other = inspect.signature(getattr(theirs, name)).parameters
        assert not any(p.kind is p.VAR_KEYWORD for p in mine.values()) or any(
            p.kind is p.VAR_KEYWORD for p in other.values()
        ), f"{name}: takes **kwargs, datasets does not"
        for param in other:
            assert param in mine, f"{name}: lacks {param!r}"
        positional = [n for n, p in other.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
        assert [n for n in mine if n in positional] == positional, f"{name}: order"
        assert [n for n, p in mine.items() if p.kind is p.POSITIONAL_OR_KEYWORD][
            : len(positional)
        ] == positional, f"{name}: positions"
        for param in mine:
            if param not in other and mine[param].kind is not mine[param].VAR_POSITIONAL:
                assert (name, param) in EXTENSIONS, f"{name}: {param!r} is not datasets'"


def _pair(num_shards: int = 1) -> tuple[Any, Any]:
    return (
        cp.Dataset.from_dict(DATA).to_iterable_dataset(num_shards=num_shards),
        hf.Dataset.from_dict(DATA).to_iterable_dataset(num_shards=num_shards),
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"by_column": "k"},
        {"by_column": ["k"], "batch_size": 2},
        {"by_column": "k", "batch_size": 2, "drop_last_batch": True},
        {"by_column": ["k", "v"]},
        {"batch_size": 3},
        {"batch_size": 3, "drop_last_batch": True},
    ],
)
@pytest.mark.parametrize("num_shards", [1, 2])
def test_batch_by_column_as_datasets(kwargs: dict[str, Any], num_shards: int) -> None:
    ours, theirs = _pair(num_shards)
    assert list(ours.batch(**kwargs)) == list(theirs.batch(**kwargs))
    with pytest.raises(ValueError, match="misses"):
        ours.batch()


def test_batch_by_column_resumes_mid_run() -> None:
    ours, _ = _pair()
    batched = ours.batch(by_column="k")
    expected = list(batched)
    for stop in range(1, len(expected) + 1):
        it = iter(batched)
        for _ in range(stop):
            next(it)
        state = batched.state_dict()
        resumed = ours.batch(by_column="k")
        resumed.load_state_dict(state)
        assert list(resumed) == expected[stop:], stop


@pytest.mark.parametrize(
    "kwargs",
    [
        {"by_column": "k"},
        {"by_column": "k", "batch_size": 2},
        {"by_column": "k", "batch_size": 2, "drop_last_batch": True},
        {"by_column": "k", "batch_size": 7, "drop_last_batch": True},
        {"by_column": ["k", "v"], "batch_size": 3, "drop_last_batch": True},
    ],
)
def test_dataset_batch_by_column_as_datasets(kwargs: dict[str, Any]) -> None:
    ours, theirs = cp.Dataset.from_dict(DATA), hf.Dataset.from_dict(DATA)
    assert ours.batch(**kwargs)[:] == theirs.batch(**kwargs)[:]
    with pytest.raises(NotImplementedError):
        ours.batch(by_column="k", num_proc=2)


@pytest.mark.parametrize("method", ["map", "filter"])
@pytest.mark.parametrize("option", ["num_proc", "desc", "with_split", "colour"])
def test_process_options_are_type_errors_as_in_datasets(method: str, option: str) -> None:
    ours, theirs = _pair()
    function = (lambda r: r) if method == "map" else (lambda r: True)
    with pytest.raises(TypeError):
        getattr(theirs, method)(function, **{option: 2})
    with pytest.raises(TypeError, match=option):
        getattr(ours, method)(function, **{option: 2})


def test_positional_arguments_as_datasets() -> None:
    ours, theirs = _pair()
    assert list(ours.map(lambda r, i: {"i": i}, True)) == list(
        theirs.map(lambda r, i: {"i": i}, True)
    )
    assert list(ours.filter(lambda b: [k > 1 for k in b], False, "k", True)) == list(
        theirs.filter(lambda b: [k > 1 for k in b], False, "k", True)
    )


def test_shuffle_takes_max_buffer_input_shards() -> None:
    ours, _ = _pair(num_shards=2)
    rows = sorted(r["v"] for r in ours.shuffle(seed=1, max_buffer_input_shards=1))
    assert rows == DATA["v"]
    with pytest.raises(NotImplementedError, match="max_buffer_input_shards"):
        ours.shuffle(seed=1, max_buffer_input_shards=10)


def _tag(row: dict[str, Any], index: int, split: str) -> dict[str, Any]:
    return {"tag": f"{split}-{index}"}


def test_dict_map_with_split_as_datasets() -> None:
    ours = cp.IterableDatasetDict(
        {s: cp.Dataset.from_dict(DATA).to_iterable_dataset() for s in ("train", "test")}
    )
    theirs = hf.IterableDatasetDict(
        {s: hf.Dataset.from_dict(DATA).to_iterable_dataset() for s in ("train", "test")}
    )
    mapped = ours.map(_tag, with_indices=True, with_split=True)
    expected = theirs.map(_tag, with_indices=True, with_split=True)
    for split in ("train", "test"):
        assert list(mapped[split]) == list(expected[split])
    again = pickle.loads(pickle.dumps(mapped["train"]))  # a DataLoader worker's copy
    assert list(again) == list(expected["train"])
