"""Differential tests of the transforms against ``datasets`` (the oracle).

Small tables come from hypothesis; the real GSM8K data from ``tests/data/gsm8k``. For
every operation whose output ``datasets`` defines, the rows, their order, the column names
and the Features must be the same (NaN compares equal to NaN here).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import datasets as hf
import numpy as np
import polars as pl
import pytest
from datasets.arrow_reader import ReadInstruction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crucible_polars as cp
from crucible_polars.resolve.splits import parse_split

hf.disable_progress_bars()
# datasets' own sort passes pyarrow a deprecated option
pytestmark = pytest.mark.filterwarnings("ignore:Specifying null_placement:FutureWarning")
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ------------------------------------------------------------------------------ helpers
_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=4)
_ELEMENTS = {
    "int": st.integers(-(2**40), 2**40),
    "float": st.floats(allow_infinity=False, width=64),
    "str": _TEXT,
    "bool": st.booleans(),
    "list": st.lists(st.integers(-5, 5), max_size=3),
}


@st.composite
def tables(draw: st.DrawFn, min_rows: int = 0, max_rows: int = 20) -> dict[str, list[Any]]:
    """A small table: 1-4 typed columns (ints, floats with NaN, strings, bools, lists)."""
    n = draw(st.integers(min_rows, max_rows))
    kinds = draw(st.lists(st.sampled_from(sorted(_ELEMENTS)), min_size=1, max_size=4))
    table: dict[str, list[Any]] = {}
    for i, kind in enumerate(kinds):
        element = st.one_of(st.none(), _ELEMENTS[kind]) if i else _ELEMENTS[kind]
        table[f"{kind}{i}"] = draw(st.lists(element, min_size=n, max_size=n))
    return table


def _norm(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_norm(v) for v in value]
    return value


def rows(ds: Any) -> list[dict[str, Any]]:
    """All rows, NaN made comparable."""
    return _norm(ds.to_list())


def assert_same(ours: cp.Dataset, theirs: hf.Dataset) -> None:
    """Same column names, Features, rows and order."""
    assert ours.column_names == theirs.column_names
    assert ours.features.to_dict() == theirs.features.to_dict()
    assert len(ours) == len(theirs)
    assert rows(ours) == rows(theirs)


def both(table: dict[str, list[Any]]) -> tuple[cp.Dataset, hf.Dataset]:
    return cp.Dataset.from_dict(table), hf.Dataset.from_dict(table)


def same_outcome(ours: Any, theirs: Any) -> tuple[Any, Any]:
    """Run both: both raise the same kind of error (returned as its class), or both return."""
    results: list[Any] = []
    for run in (ours, theirs):
        try:
            results.append(run())
        except IndexError:
            results.append(IndexError)
        except ValueError:
            results.append(ValueError)
    failed = [isinstance(r, type) for r in results]
    assert failed[0] == failed[1], results
    if failed[0]:
        assert results[0] is results[1], results
    return results[0], results[1]


# --------------------------------------------------------------------------- from_dict
@SETTINGS
@given(tables())
def test_from_dict_features(table: dict[str, list[Any]]) -> None:
    ours, theirs = both(table)
    assert_same(ours, theirs)


# -------------------------------------------------------------------------- row order
@SETTINGS
@given(tables(), st.integers(0, 2**32 - 1))
def test_shuffle_same_permutation(table: dict[str, list[Any]], seed: int) -> None:
    ours, theirs = both(table)
    assert_same(ours.shuffle(seed=seed), theirs.shuffle(seed=seed))


def test_unseeded_shuffle_follows_numpy_global_state() -> None:
    table = {"x": list(range(50))}
    ours, theirs = both(table)
    np.random.seed(123)
    a = ours.shuffle()["x"]
    np.random.seed(123)
    b = theirs.shuffle()["x"][:]
    assert a == b


@SETTINGS
@given(tables(min_rows=1), st.data())
def test_sort(table: dict[str, list[Any]], data: st.DataObject) -> None:
    ours, theirs = both(table)
    names = list(table)
    columns = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    reverse = data.draw(st.lists(st.booleans(), min_size=len(columns), max_size=len(columns)))
    placement = data.draw(st.sampled_from(["at_end", "at_start", "first", "last"]))
    if any(n.startswith("list") for n in columns):
        return  # datasets cannot sort list columns
    assert_same(
        ours.sort(columns, descending=reverse, null_placement=placement),
        theirs.sort(columns, reverse=reverse, null_placement=placement),
    )


@SETTINGS
@given(tables(min_rows=1), st.data())
def test_select_take_skip(table: dict[str, list[Any]], data: st.DataObject) -> None:
    ours, theirs = both(table)
    n = len(ours)
    indices = data.draw(st.lists(st.integers(0, n - 1), max_size=2 * n))
    assert_same(ours.select(indices), theirs.select(indices))
    k = data.draw(st.integers(0, n + 2))
    assert_same(ours.take(k), theirs.take(k))
    if k < n:
        assert_same(ours.skip(k), theirs.skip(k))
    else:  # datasets raises IndexError for skip(len(ds)); we give no rows, as streaming does
        assert len(ours.skip(k)) == 0 and ours.skip(k).to_list() == []
    # a gather composed with later row ops gives the rows datasets gives
    shuffled, hf_shuffled = ours.shuffle(seed=k), theirs.shuffle(seed=k)
    assert_same(shuffled.select(indices).take(k), hf_shuffled.select(indices).take(k))


@SETTINGS
@given(tables(min_rows=1), st.integers(1, 7), st.booleans())
def test_shard(table: dict[str, list[Any]], num_shards: int, contiguous: bool) -> None:
    ours, theirs = both(table)
    if num_shards > len(ours):  # datasets raises IndexError for empty shards; ours are empty
        sizes = [len(ours.shard(num_shards, i, contiguous)) for i in range(num_shards)]
        assert sum(sizes) == len(ours) and max(sizes) == 1
        return
    for index in range(num_shards):
        assert_same(
            ours.shard(num_shards, index, contiguous=contiguous),
            theirs.shard(num_shards, index, contiguous=contiguous),
        )


@SETTINGS
@given(
    tables(min_rows=1),
    st.one_of(st.none(), st.integers(-1, 22), st.floats(-0.1, 1.1)),
    st.one_of(st.none(), st.integers(-1, 22), st.floats(-0.1, 1.1)),
    st.booleans(),
    st.integers(0, 1000),
)
def test_train_test_split(
    table: dict[str, list[Any]],
    test_size: float | None,
    train_size: float | None,
    shuffle: bool,
    seed: int,
) -> None:
    ours, theirs = both(table)
    mine, oracle = same_outcome(
        lambda: ours.train_test_split(test_size, train_size, shuffle=shuffle, seed=seed),
        lambda: theirs.train_test_split(test_size, train_size, shuffle=shuffle, seed=seed),
    )
    if not isinstance(mine, type):
        assert mine.num_rows == oracle.num_rows
        for split in ("train", "test"):
            assert_same(mine[split], oracle[split])


@SETTINGS
@given(st.lists(st.integers(0, 3), min_size=8, max_size=40), st.floats(0.2, 0.6), st.integers())
def test_stratified_train_test_split(labels: list[int], test_size: float, seed: int) -> None:
    seed = abs(seed) % 2**32
    table = {"y": labels, "i": list(range(len(labels)))}
    ours = cp.Dataset.from_dict(table).cast_column("y", cp.ClassLabel(num_classes=4))
    theirs = hf.Dataset.from_dict(table).cast_column("y", hf.ClassLabel(num_classes=4))
    mine, oracle = same_outcome(
        lambda: ours.train_test_split(test_size, stratify_by_column="y", seed=seed),
        lambda: theirs.train_test_split(test_size, stratify_by_column="y", seed=seed),
    )
    if not isinstance(mine, type):
        for split in ("train", "test"):
            assert_same(mine[split], oracle[split])


# ---------------------------------------------------------------------- python functions
def _row_fn(row: dict[str, Any]) -> dict[str, Any]:
    first = next(iter(row.values()))
    return {"text": str(first), "is_none": first is None}


def _batch_fn(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
    first = next(iter(batch.values()))
    return {"text": [repr(v) for v in first], "n": [len(first)] * len(first)}


@SETTINGS
@given(tables(min_rows=1), st.integers(1, 6))
def test_map(table: dict[str, list[Any]], batch_size: int) -> None:
    ours, theirs = both(table)
    assert_same(ours.map(_row_fn), theirs.map(_row_fn))
    assert_same(
        ours.map(_batch_fn, batched=True, batch_size=batch_size),
        theirs.map(_batch_fn, batched=True, batch_size=batch_size),
    )
    first = next(iter(table))
    assert_same(
        ours.map(lambda row, i: {"i": i}, with_indices=True, remove_columns=[first]),
        theirs.map(lambda row, i: {"i": i}, with_indices=True, remove_columns=[first]),
    )
    assert_same(
        ours.map(lambda x: {first: x}, input_columns=first),
        theirs.map(lambda x: {first: x}, input_columns=first),
    )


def test_map_changing_row_count_and_keeping_features() -> None:
    table = {"text": ["a b", "c", "d e f"], "label": [0, 1, 0]}
    ours = cp.Dataset.from_dict(table).cast_column("label", cp.ClassLabel(names=["n", "p"]))
    theirs = hf.Dataset.from_dict(table).cast_column("label", hf.ClassLabel(names=["n", "p"]))

    def split_words(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        words = [
            (w, lab)
            for t, lab in zip(batch["text"], batch["label"], strict=True)
            for w in t.split()
        ]
        return {"word": [w for w, _ in words], "label": [lab for _, lab in words]}

    assert_same(
        ours.map(split_words, batched=True, batch_size=2, remove_columns=["text", "label"]),
        theirs.map(split_words, batched=True, batch_size=2, remove_columns=["text", "label"]),
    )
    # the untouched ClassLabel column keeps its feature; a rewritten one to strings does not
    assert_same(ours.map(lambda r: r), theirs.map(lambda r: r))
    relabel = lambda r: {"label": ["n", "p"][r["label"]]}  # noqa: E731
    assert_same(ours.map(relabel), theirs.map(relabel))


@SETTINGS
@given(tables(min_rows=1), st.integers(1, 6))
def test_filter_with_functions(table: dict[str, list[Any]], batch_size: int) -> None:
    ours, theirs = both(table)
    first = next(iter(table))
    keep = lambda row, i: i % 3 != 1 and row[first] is not None  # noqa: E731
    assert_same(ours.filter(keep, with_indices=True), theirs.filter(keep, with_indices=True))
    keep_batch = lambda values: [v is not None and bool(v) for v in values]  # noqa: E731
    assert_same(
        ours.filter(keep_batch, input_columns=first, batched=True, batch_size=batch_size),
        theirs.filter(keep_batch, input_columns=first, batched=True, batch_size=batch_size),
    )


# ---------------------------------------------------------------------------- columns
@SETTINGS
@given(tables(min_rows=1))
def test_column_transforms(table: dict[str, list[Any]]) -> None:
    ours, theirs = both(table)
    names = list(table)
    mapping = {n: f"new_{n}" for n in names[::2]}
    assert_same(ours.rename_columns(mapping), theirs.rename_columns(mapping))
    assert_same(ours.rename_column(names[0], "z"), theirs.rename_column(names[0], "z"))
    assert_same(ours.select_columns(names[::-1]), theirs.select_columns(names[::-1]))
    assert_same(ours.remove_columns(names[:1]), theirs.remove_columns(names[:1]))
    for name in names:
        if not name.startswith("list"):  # Arrow has no unique kernel for lists
            # Arrow keeps NaNs with different bit patterns apart; Polars has one NaN
            theirs_unique = list(dict.fromkeys(_norm(theirs.unique(name))))
            assert _norm(ours.unique(name)) == theirs_unique
    values = list(range(len(ours)))
    assert_same(ours.add_column("added", values), theirs.add_column("added", values))


@SETTINGS
@given(tables(min_rows=1), st.booleans())
def test_class_encode_column(table: dict[str, list[Any]], include_nulls: bool) -> None:
    ours, theirs = both(table)
    for name in table:
        if name.startswith(("list", "float")):
            continue  # datasets encodes only Value columns; float str() we check elsewhere
        assert_same(
            ours.class_encode_column(name, include_nulls=include_nulls),
            theirs.class_encode_column(name, include_nulls=include_nulls),
        )


def test_flatten_nested_structs() -> None:
    table = {
        "id": [1, 2],
        "answers": [
            {"text": ["a"], "start": [0], "meta": {"score": 1.5}},
            {"text": [], "start": [], "meta": {"score": None}},
        ],
    }
    ours, theirs = both(table)
    assert_same(ours.flatten(), theirs.flatten())
    assert_same(ours.flatten(max_depth=2), theirs.flatten(max_depth=2))


# ----------------------------------------------------------------------------- combine
@SETTINGS
@given(tables(max_rows=6), tables(max_rows=6))
def test_concatenate_rows_aligns_features(a: dict[str, Any], b: dict[str, Any]) -> None:
    (ours_a, theirs_a), (ours_b, theirs_b) = both(a), both(b)
    mine, oracle = same_outcome(
        lambda: cp.concatenate_datasets([ours_a, ours_b]),
        lambda: hf.concatenate_datasets([theirs_a, theirs_b]),
    )
    if not isinstance(mine, type):
        assert_same(mine, oracle)


def test_concatenate_columns() -> None:
    a, b = {"x": [1, 2]}, {"y": ["a", "b"]}
    ours = cp.concatenate_datasets([cp.Dataset.from_dict(a), cp.Dataset.from_dict(b)], axis=1)
    theirs = hf.concatenate_datasets([hf.Dataset.from_dict(a), hf.Dataset.from_dict(b)], axis=1)
    assert_same(ours, theirs)


@SETTINGS
@given(
    st.lists(st.integers(0, 12), min_size=1, max_size=4),
    st.booleans(),
    st.integers(0, 10_000),
    st.sampled_from(["first_exhausted", "all_exhausted", "all_exhausted_without_replacement"]),
    st.data(),
)
def test_interleave_order(
    lengths: list[int], weighted: bool, seed: int, strategy: str, data: st.DataObject
) -> None:
    tables_ = [{"x": [100 * i + j for j in range(n)]} for i, n in enumerate(lengths)]
    ours = [cp.Dataset.from_dict(t) for t in tables_]
    theirs = [hf.Dataset.from_dict(t) for t in tables_]
    probabilities = None
    if weighted:
        weights = data.draw(
            st.lists(st.integers(1, 5), min_size=len(lengths), max_size=len(lengths))
        )
        probabilities = [w / sum(weights) for w in weights]
        if any(n == 0 for n in lengths):
            return  # datasets refuses (and may hang on) empty sources that can be drawn
    if probabilities is None and strategy == "all_exhausted" and 0 in lengths:
        # datasets fails with an IndexError from a modulo by zero; we explain
        with pytest.raises(ValueError, match="empty"):
            cp.interleave_datasets(ours, stopping_strategy=strategy)
        return
    mine, oracle = same_outcome(
        lambda: cp.interleave_datasets(ours, probabilities, seed, stopping_strategy=strategy),
        lambda: hf.interleave_datasets(theirs, probabilities, seed, stopping_strategy=strategy),
    )
    if not isinstance(mine, type):
        assert mine["x"] == oracle["x"][:]


# ----------------------------------------------------------------------- split slicing
_BOUND = st.one_of(st.none(), st.integers(-120, 120).map(str), st.integers(-100, 100).map(str))


@settings(max_examples=80, deadline=None)
@given(
    st.integers(0, 2000),
    st.one_of(st.none(), st.integers(-120, 120)),
    st.one_of(st.none(), st.integers(-120, 120)),
    st.booleans(),
    st.sampled_from(["", "(closest)", "(pct1_dropremainder)"]),
)
def test_split_slicing_boundaries(
    n: int, start: int | None, stop: int | None, percent: bool, rounding: str
) -> None:
    unit = "%" if percent else ""
    lo = "" if start is None else f"{start}{unit}"
    hi = "" if stop is None else f"{stop}{unit}"
    spec = f"train[{lo}:{hi}]{rounding}"

    def ours() -> tuple[int, int]:
        return parse_split(spec)[0].bounds(n)

    def theirs() -> tuple[int, int]:
        instruction = ReadInstruction.from_spec(spec).to_absolute({"train": n})[0]
        return instruction.from_, instruction.to

    mine, oracle = same_outcome(ours, theirs)
    if not isinstance(mine, type):
        assert mine == oracle


# ------------------------------------------------------------------------------ GSM8K
@pytest.fixture(scope="module")
def gsm8k(gsm8k_dir: Path) -> tuple[cp.DatasetDict, hf.DatasetDict]:
    files = {"train": str(gsm8k_dir / "train.jsonl"), "test": str(gsm8k_dir / "test.jsonl")}
    return cp.load_dataset("json", data_files=files), hf.load_dataset("json", data_files=files)


def test_gsm8k_row_ops(gsm8k: tuple[cp.DatasetDict, hf.DatasetDict]) -> None:
    ours, theirs = gsm8k
    train, hf_train = ours["train"], theirs["train"]
    assert train.features.to_dict() == hf_train.features.to_dict()
    assert_same(train.shuffle(seed=42).take(50), hf_train.shuffle(seed=42).take(50))
    assert_same(train.shard(7, 3).skip(1000), hf_train.shard(7, 3).skip(1000))
    assert_same(
        train.shard(5, 4, contiguous=False).take(30),
        hf_train.shard(5, 4, contiguous=False).take(30),
    )
    dd, hf_dd = (
        train.train_test_split(test_size=0.1, seed=0),
        hf_train.train_test_split(test_size=0.1, seed=0),
    )
    assert dd.num_rows == hf_dd.num_rows
    assert_same(dd["test"], hf_dd["test"])
    assert dd["train"]["question"][:100] == hf_dd["train"]["question"][:100]
    indices = list(range(7000, 7473, 3))[::-1]
    assert_same(train.select(indices), hf_train.select(indices))
    assert_same(
        train.sort("answer", descending=True).take(40),
        hf_train.sort("answer", reverse=True).take(40),
    )


def test_gsm8k_functions_and_columns(gsm8k: tuple[cp.DatasetDict, hf.DatasetDict]) -> None:
    ours, theirs = gsm8k
    test, hf_test = ours["test"], theirs["test"]

    def final_answer(batch: dict[str, list[str]]) -> dict[str, list[Any]]:
        finals = [a.split("####")[-1].strip() for a in batch["answer"]]
        return {"final": finals, "steps": [a.count("\n") for a in batch["answer"]]}

    assert_same(test.map(final_answer, batched=True), hf_test.map(final_answer, batched=True))
    long = lambda row: len(row["question"]) > 300  # noqa: E731
    assert_same(test.filter(long), hf_test.filter(long))
    assert_same(
        test.rename_column("question", "prompt").select_columns(["answer", "prompt"]),
        hf_test.rename_column("question", "prompt").select_columns(["answer", "prompt"]),
    )
    assert ours.unique("answer")["test"][:20] == theirs.unique("answer")["test"][:20]


def test_gsm8k_combine(gsm8k: tuple[cp.DatasetDict, hf.DatasetDict]) -> None:
    ours, theirs = gsm8k
    both_splits = cp.concatenate_datasets([ours["test"], ours["train"]])
    hf_both = hf.concatenate_datasets([theirs["test"], theirs["train"]])
    assert len(both_splits) == len(hf_both)
    assert (
        both_splits.select([0, 1318, 1319, 8791])["question"]
        == hf_both.select([0, 1318, 1319, 8791])["question"][:]
    )
    for strategy in ("first_exhausted", "all_exhausted"):
        mine = cp.interleave_datasets(
            [ours["train"], ours["test"]], [0.8, 0.2], seed=7, stopping_strategy=strategy
        )
        oracle = hf.interleave_datasets(
            [theirs["train"], theirs["test"]], [0.8, 0.2], seed=7, stopping_strategy=strategy
        )
        assert len(mine) == len(oracle)
        assert mine.take(300)["question"] == oracle.take(300)["question"][:]


@pytest.mark.parametrize(
    "split",
    ["train[:100]", "train[-10:]", "train[10%:20%]", "train[:10%]+test[:10%]", "test[33%:34%]"],
)
def test_gsm8k_split_slicing(gsm8k_dir: Path, split: str) -> None:
    files = {"train": str(gsm8k_dir / "train.jsonl"), "test": str(gsm8k_dir / "test.jsonl")}
    ours = cp.load_dataset("json", data_files=files, split=split)
    theirs = hf.load_dataset("json", data_files=files, split=split)
    assert len(ours) == len(theirs)
    assert ours["question"][:3] + ours["question"][-3:] == (
        theirs["question"][:3] + theirs["question"][-3:]
    )


def test_from_polars_rows_match_but_strings_are_string() -> None:
    """Intended difference: datasets types Polars strings ``large_string``, we ``string``."""
    frame = pl.DataFrame({"a": [1, 2, 3], "b": ["x", None, "z"]})
    ours, theirs = cp.Dataset.from_polars(frame), hf.Dataset.from_polars(frame)
    assert rows(ours) == rows(theirs) and ours.column_names == theirs.column_names
    assert ours.features["b"] == cp.Value("string")
    assert theirs.features["b"] == hf.Value("large_string")


@SETTINGS
@given(tables(min_rows=1), st.integers(0, 3))
def test_cast_column_and_repeat(table: dict[str, list[Any]], times: int) -> None:
    ours, theirs = both(table)
    assert_same(ours.repeat(times), theirs.repeat(times))
    for name in table:
        if name.startswith("int"):
            for ours_f, hf_f in (
                (cp.Value("float64"), hf.Value("float64")),
                (cp.Value("string"), hf.Value("string")),
            ):
                assert_same(ours.cast_column(name, ours_f), theirs.cast_column(name, hf_f))


def test_cast_label_names_to_class_label() -> None:
    table = {"label": ["neg", "pos", None, "pos"], "x": [1, 2, 3, 4]}
    ours, theirs = both(table)
    names = ["neg", "pos"]
    assert_same(
        ours.cast_column("label", cp.ClassLabel(names=names)),
        theirs.cast_column("label", hf.ClassLabel(names=names)),
    )
