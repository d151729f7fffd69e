"""``interleave_datasets`` and ``concatenate_datasets`` of streams, against ``datasets``.

Inputs as parquet files, JSON lines files and ``to_iterable_dataset(num_shards=k)``; every
stopping strategy, with and without probabilities; rows and columns (``axis=1``): the same
rows in the same order as ``datasets`` streaming; and ``state_dict()`` taken after any row
resumes exactly.
"""

from __future__ import annotations

import json
from typing import Any

import datasets as hf
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crucible_polars as cp

hf.disable_progress_bars()
STRATEGIES = ("first_exhausted", "all_exhausted", "all_exhausted_without_replacement")
SIZES = (7, 4, 11)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    root = tmp_path_factory.mktemp("mixing")
    out: dict[str, list[str]] = {}
    for k, size in enumerate(SIZES):  # input k: ids 100k.., in two files
        frame = pl.DataFrame({"id": [100 * k + i for i in range(size)]})
        if k == 1:
            frame = frame.with_columns(extra=pl.lit("e"))  # a column the others lack
        paths = []
        for part, piece in enumerate((frame.head(size // 2), frame.slice(size // 2))):
            if k == 2:
                path = root / f"in{k}-{part}.jsonl"
                path.write_text("".join(json.dumps(r) + "\n" for r in piece.iter_rows(named=True)))
            else:
                path = root / f"in{k}-{part}.parquet"
                piece.write_parquet(path, row_group_size=2)
            paths.append(str(path))
        out[f"in{k}"] = paths
    return out


def inputs(module: Any, files: dict[str, list[str]]) -> list[Any]:
    streams = []
    for k in range(len(SIZES)):
        paths = files[f"in{k}"]
        fmt = "json" if paths[0].endswith(".jsonl") else "parquet"
        streams.append(module.load_dataset(fmt, data_files=paths, split="train", streaming=True))
    memory = module.Dataset.from_dict({"id": [900 + i for i in range(5)]})
    streams.append(memory.to_iterable_dataset(num_shards=2))
    return streams


def rows(stream: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in stream]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("probabilities", [None, (0.5, 0.2, 0.2, 0.1), (0.1, 0.1, 0.1, 0.7)])
def test_interleave_like_datasets(
    files: dict[str, list[str]], strategy: str, probabilities: Any
) -> None:
    seed = 7
    ours = cp.interleave_datasets(inputs(cp, files), probabilities, seed, strategy)
    theirs = hf.interleave_datasets(
        inputs(hf, files),
        list(probabilities) if probabilities else None,
        seed,
        stopping_strategy=strategy,
    )
    assert rows(ours) == rows(theirs)
    assert ours.features.to_dict() == theirs.features.to_dict()


def test_concatenate_like_datasets(files: dict[str, list[str]]) -> None:
    ours = cp.concatenate_datasets(inputs(cp, files))
    theirs = hf.concatenate_datasets(inputs(hf, files))
    assert rows(ours) == rows(theirs)
    assert ours.features.to_dict() == theirs.features.to_dict()
    assert ours.num_shards == theirs.num_shards


def test_transforms_after_mixing(files: dict[str, list[str]]) -> None:
    for module in (cp, hf):
        mixed = module.interleave_datasets(inputs(module, files), stopping_strategy="all_exhausted")
        mixed = mixed.filter(lambda r: r["id"] % 2 == 0).map(lambda r: {"twice": r["id"] * 2})
        if module is cp:
            ours = rows(mixed.skip(3).take(20))
        else:
            assert ours == rows(mixed.skip(3).take(20))


def test_mixing_errors(files: dict[str, list[str]]) -> None:
    streams = inputs(cp, files)
    with pytest.raises(ValueError, match="mix of Dataset and IterableDataset"):
        cp.interleave_datasets([streams[0], cp.Dataset.from_dict({"id": [1]})])
    with pytest.raises(ValueError, match="stopping strategy"):
        cp.interleave_datasets(streams, stopping_strategy="never")
    with pytest.raises(ValueError, match="probabilities"):
        cp.interleave_datasets(streams, probabilities=[0.5, 0.5])
    with pytest.raises(ValueError, match="axis=1"):  # DuplicateColumnError, as datasets'
        cp.concatenate_datasets(streams, axis=1)
    with pytest.raises(ValueError, match="axis must be 0 or 1"):
        cp.concatenate_datasets(streams, axis=2)


SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))


@SETTINGS
@given(
    stop=st.integers(0, 60),
    strategy=st.sampled_from(STRATEGIES),
    weighted=st.booleans(),
    concatenate=st.booleans(),
)
def test_resume_exactly(
    files: dict[str, list[str]], stop: int, strategy: str, weighted: bool, concatenate: bool
) -> None:
    def make() -> cp.IterableDataset:
        if concatenate:
            return cp.concatenate_datasets(inputs(cp, files))
        probabilities = (0.4, 0.3, 0.2, 0.1) if weighted else None
        return cp.interleave_datasets(inputs(cp, files), probabilities, 3, strategy)

    full = rows(make())
    ds = make()
    iterator = iter(ds)
    head = [dict(r) for _, r in zip(range(stop), iterator, strict=False)]
    state = ds.state_dict()
    iterator.close()
    fresh = make()
    fresh.load_state_dict(json.loads(json.dumps(state)))
    assert head + rows(fresh) == full


SIDE = 12  # rows of every input side by side


@pytest.fixture(scope="module")
def side_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    root = tmp_path_factory.mktemp("side")
    frame = pl.DataFrame({"a": list(range(SIDE)), "b": [f"b{i}" for i in range(SIDE)]})
    out: dict[str, list[str]] = {"parquet": [], "json": []}
    for part, (lo, hi) in enumerate(((0, 5), (5, SIDE))):  # row groups of 2 and 3
        path = root / f"a-{part}.parquet"
        frame.select("a").slice(lo, hi - lo).write_parquet(path, row_group_size=2 + part)
        out["parquet"].append(str(path))
    for part, (lo, hi) in enumerate(((0, 4), (4, 5), (5, SIDE))):
        path = root / f"b-{part}.jsonl"
        piece = frame.select("b").slice(lo, hi - lo)
        path.write_text("".join(json.dumps(r) + "\n" for r in piece.iter_rows(named=True)))
        out["json"].append(str(path))
    return out


def side_inputs(module: Any, files: dict[str, list[str]]) -> list[Any]:
    load = module.load_dataset
    memory = module.Dataset.from_dict({"m": [float(i) for i in range(SIDE)]})
    return [
        load("parquet", data_files=files["parquet"], split="train", streaming=True),
        load("json", data_files=files["json"], split="train", streaming=True),
        memory.to_iterable_dataset(num_shards=3),
    ]


def test_concatenate_columns_like_datasets(side_files: dict[str, list[str]]) -> None:
    ours = cp.concatenate_datasets(side_inputs(cp, side_files), axis=1)
    theirs = hf.concatenate_datasets(side_inputs(hf, side_files), axis=1)
    assert rows(ours) == rows(theirs)
    assert ours.features.to_dict() == theirs.features.to_dict()
    assert ours.num_shards == theirs.num_shards == 1
    for op in (
        lambda ds: ds.skip(3).take(5),
        lambda ds: ds.filter(lambda r: r["a"] % 3 == 0).map(lambda r: {"n": r["a"] + r["m"]}),
        lambda ds: ds.batch(5),
    ):
        mine = op(cp.concatenate_datasets(side_inputs(cp, side_files), axis=1))
        assert rows(mine) == rows(op(hf.concatenate_datasets(side_inputs(hf, side_files), axis=1)))
    shuffled = [
        sorted(
            r["a"]
            for r in module.concatenate_datasets(side_inputs(module, side_files), axis=1).shuffle(
                seed=1, buffer_size=4
            )
        )
        for module in (cp, hf)
    ]
    assert shuffled[0] == shuffled[1] == list(range(SIDE))
    mine_numpy = next(iter(ours.iter(batch_size=SIDE, format="numpy")))
    assert mine_numpy["a"].tolist() == list(range(SIDE)) and mine_numpy["b"].dtype.kind == "U"


def test_concatenate_columns_of_different_lengths(side_files: dict[str, list[str]]) -> None:
    # datasets pads a shorter input's columns with None when it reads examples (a Python
    # map on one input), and fails in Arrow otherwise; ours always pads
    def make(module: Any) -> Any:
        a, b, m = side_inputs(module, side_files)
        b = b.take(7).map(lambda r: {"c": r["b"].upper()}, remove_columns=["b"])
        return module.concatenate_datasets([a.take(9), b, m], axis=1)

    assert rows(make(cp)) == rows(make(hf))


@SETTINGS
@given(stop=st.integers(0, SIDE + 1), shorter=st.booleans(), shuffled=st.booleans())
def test_concatenate_columns_resumes_exactly(
    side_files: dict[str, list[str]], stop: int, shorter: bool, shuffled: bool
) -> None:
    def make() -> cp.IterableDataset:
        a, b, m = side_inputs(cp, side_files)
        if shorter:  # features unknown after the map: nulls from the columns it showed
            b = b.take(5).map(lambda r: {"c": r["b"]}, remove_columns=["b"])
        ds = cp.concatenate_datasets([a, b, m], axis=1)
        return ds.shuffle(seed=5, buffer_size=3) if shuffled else ds

    full = rows(make())
    ds = make()
    iterator = iter(ds)
    head = [dict(r) for _, r in zip(range(stop), iterator, strict=False)]
    state = ds.state_dict()
    iterator.close()
    fresh = make()
    fresh.load_state_dict(json.loads(json.dumps(state)))
    assert head + rows(fresh) == full
    assert len(full) == SIDE and all(len(r) == 3 for r in full)
