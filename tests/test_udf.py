"""One function engine: the same ``map``/``filter`` functions give the same rows through
``Dataset`` and ``IterableDataset`` (from a Dataset, and streamed from parquet and JSON
Lines folders), receive the same arguments (format, indices, rank) and fail with the same
messages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

import crucible_polars as cp
from crucible_polars.errors import FunctionOutputError
from crucible_polars.ops.map_filter import map_with_function
from crucible_polars.plan import Plan
from crucible_polars.udf import FunctionCall, check_options, filter_mask

ROWS = 50
ENGINES = ["dataset", "iterable", "parquet", "jsonl"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    frame = pl.DataFrame(
        {
            "id": list(range(ROWS)),
            "text": [f"w{i}" * (1 + i % 3) for i in range(ROWS)],
            "score": [i / 4 for i in range(ROWS)],
        }
    )
    root = tmp_path_factory.mktemp("udf")
    (root / "parquet").mkdir()
    (root / "jsonl").mkdir()
    frame.write_parquet(root / "parquet" / "train.parquet")
    frame.write_ndjson(root / "jsonl" / "train.jsonl")
    return {"parquet": root / "parquet", "jsonl": root / "jsonl"}


def _dataset() -> cp.Dataset:
    return cp.Dataset.from_dict(
        {
            "id": list(range(ROWS)),
            "text": [f"w{i}" * (1 + i % 3) for i in range(ROWS)],
            "score": [i / 4 for i in range(ROWS)],
        }
    )


def _source(engine: str, folders: dict[str, Path]) -> Any:
    if engine == "dataset":
        return _dataset()
    if engine == "iterable":
        return _dataset().to_iterable_dataset()
    fmt = "parquet" if engine == "parquet" else "json"
    files = str(folders[engine] / "*")
    return cp.load_dataset(fmt, data_files=files, split="train", streaming=True)


def _rows(ds: Any) -> list[dict[str, Any]]:
    ds = ds.with_format(None)
    return ds.to_list() if isinstance(ds, cp.Dataset) else list(ds)


def _run(
    engine: str, folders: dict[str, Path], apply: Callable[[Any], Any], fmt: str | None = None
) -> list[dict[str, Any]]:
    ds = _source(engine, folders)
    if fmt is not None:
        ds = ds.with_format(fmt)
    return _rows(apply(ds))


MAPS: dict[str, Callable[[Any], Any]] = {
    "rows": lambda ds: ds.map(lambda r: {"n": len(r["text"]), "twice": r["id"] * 2}),
    "batched": lambda ds: ds.map(
        lambda b: {"n": [len(t) for t in b["text"]]}, batched=True, batch_size=8
    ),
    "whole-batch": lambda ds: ds.map(
        lambda b: {"size": [len(b["id"])] * len(b["id"])}, batched=True, batch_size=None
    ),
    "indices": lambda ds: ds.map(lambda r, i: {"i": i * 10}, with_indices=True),
    "batched-indices": lambda ds: ds.map(
        lambda b, idx: {"i": [i - x for i, x in zip(idx, b["id"], strict=True)]},
        with_indices=True,
        batched=True,
        batch_size=7,
    ),
    "input-columns": lambda ds: ds.map(
        lambda text, i: {"k": f"{text}-{i}"}, input_columns=["text", "id"]
    ),
    "fn-kwargs": lambda ds: ds.map(lambda r, k: {"k": r["id"] + k}, fn_kwargs={"k": 100}),
    "remove-columns": lambda ds: ds.map(
        lambda b: {"c": [c for t in b["text"] for c in t]},
        batched=True,
        batch_size=6,
        remove_columns=["id", "text", "score"],
    ),
    "drop-last-batch": lambda ds: ds.map(
        lambda b: {"first": [b["id"][0]] * len(b["id"])},
        batched=True,
        batch_size=7,
        drop_last_batch=True,
    ),
    "rank": lambda ds: ds.map(lambda r, rank: {"rank": rank}, with_rank=True),
    "replace-column": lambda ds: ds.map(lambda r: {"text": r["text"].upper()}),
}

FILTERS: dict[str, Callable[[Any], Any]] = {
    "rows": lambda ds: ds.filter(lambda r: r["id"] % 3 == 0),
    "batched": lambda ds: ds.filter(
        lambda b: [len(t) > 4 for t in b["text"]], batched=True, batch_size=9
    ),
    "indices": lambda ds: ds.filter(lambda r, i: i % 4 == 1, with_indices=True),
    "batched-indices": lambda ds: ds.filter(
        lambda b, idx: [i % 5 == 0 for i in idx], with_indices=True, batched=True, batch_size=6
    ),
    "input-columns": lambda ds: ds.filter(lambda s: s > 5, input_columns="score"),
    "fn-kwargs": lambda ds: ds.filter(lambda r, m: r["id"] % m == 0, fn_kwargs={"m": 7}),
    "rank": lambda ds: ds.filter(lambda r, rank: rank is None and r["id"] < 3, with_rank=True),
}


@pytest.mark.parametrize("name", list(MAPS))
def test_map_gives_the_same_rows_in_every_engine(name: str, folders: dict[str, Path]) -> None:
    expected = _run("dataset", folders, MAPS[name])
    assert expected  # the comparison means something
    for engine in ENGINES[1:]:
        assert _run(engine, folders, MAPS[name]) == expected, engine


@pytest.mark.parametrize("name", list(FILTERS))
def test_filter_gives_the_same_rows_in_every_engine(name: str, folders: dict[str, Path]) -> None:
    expected = _run("dataset", folders, FILTERS[name])
    assert 0 < len(expected) < ROWS
    for engine in ENGINES[1:]:
        assert _run(engine, folders, FILTERS[name]) == expected, engine


def test_the_datasets_conventions(folders: dict[str, Path]) -> None:
    rows = _run("dataset", folders, MAPS["drop-last-batch"])
    assert len(rows) == 49 and rows[-1]["first"] == 42  # the batch of rows 49..49 dropped
    assert {r["size"] for r in _run("dataset", folders, MAPS["whole-batch"])} == {ROWS}
    assert {r["rank"] for r in _run("dataset", folders, MAPS["rank"])} == {None}
    ranked = _run(
        "dataset",
        folders,
        lambda ds: ds.map(
            lambda r, i, rank: {"rank": rank, "i": i}, with_indices=True, with_rank=True, num_proc=2
        ),
    )
    assert {r["rank"] for r in ranked} == {0}


def _types(ds: Any, batched: bool) -> Any:
    def batch(b: Any) -> dict[str, Any]:
        kind = f"{type(b['id']).__name__}/{type(b['score']).__name__}"
        return {"kind": [kind] * len(b["id"]), "half": b["score"] / 2}

    def row(r: Any) -> dict[str, Any]:
        return {"kind": f"{type(r['id']).__name__}/{type(r['score']).__name__}"}

    return ds.map(batch, batched=True, batch_size=16) if batched else ds.map(row)


@pytest.mark.parametrize("batched", [True, False])
def test_numpy_format_reaches_the_function_in_every_engine(
    batched: bool, folders: dict[str, Path]
) -> None:
    expected = _run("dataset", folders, lambda ds: _types(ds, batched), fmt="numpy")
    kind = "ndarray/ndarray" if batched else "int64/float64"
    assert {r["kind"] for r in expected} == {kind}
    for engine in ENGINES[1:]:
        assert _run(engine, folders, lambda ds: _types(ds, batched), fmt="numpy") == expected


@pytest.mark.parametrize("engine", ENGINES)
def test_numpy_format_in_filters(engine: str, folders: dict[str, Path]) -> None:
    def keep(b: Any) -> Any:
        assert isinstance(b["id"], np.ndarray)
        return b["id"] % 3 == 0  # a boolean array is a mask

    rows = _run(engine, folders, lambda ds: ds.filter(keep, batched=True), fmt="numpy")
    assert [r["id"] for r in rows] == list(range(0, ROWS, 3))


BAD_FILTERS: dict[str, Callable[[Any], Any]] = {
    "not-a-list": lambda b: 5,
    "a-string": lambda b: "yes",
    "too-few": lambda b: [True],
}


def _error(run: Callable[[], Any]) -> str:
    with pytest.raises(FunctionOutputError) as info:
        run()
    return str(info.value)


@pytest.mark.parametrize("name", list(BAD_FILTERS))
def test_filter_mask_errors_are_the_same_in_both_engines(
    name: str, folders: dict[str, Path]
) -> None:
    def bad(ds: Any) -> Any:
        return ds.filter(BAD_FILTERS[name], batched=True, batch_size=10)

    eager = _error(lambda: _rows(bad(_dataset())))
    assert "filter(<lambda>), batch of rows 0..9" in eager
    for engine in ENGINES[1:]:
        assert _error(lambda e=engine: _run(e, folders, bad)) == eager


def test_map_output_errors_are_the_same_in_both_engines(folders: dict[str, Path]) -> None:
    def flip(ds: Any) -> Any:
        return ds.map(
            lambda b: {"c": [1] * 5 if b["id"][0] < 5 else ["x"] * 5}, batched=True, batch_size=5
        )

    eager = _error(lambda: _rows(flip(_dataset())))
    assert "batch of rows 5..9: column 'c' is String" in eager
    assert _error(lambda: _run("iterable", folders, flip)) == eager


def test_each_engine_takes_datasets_arguments() -> None:
    """Both engines take ``datasets``' parameters in its order (``with_rank`` is also
    streaming's, keyword-only); unknown ones and ``num_proc``/``desc``, which ``datasets``'
    ``IterableDataset`` does not take, raise ``TypeError``."""
    import inspect

    import datasets

    for ours, theirs in ((cp.IterableDataset, datasets.IterableDataset),):
        for method in ("map", "filter"):
            mine = inspect.signature(getattr(ours, method)).parameters
            other = inspect.signature(getattr(theirs, method)).parameters
            positional = [n for n, p in mine.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
            assert positional == list(other), method
            assert all(repr(mine[n].default) == repr(other[n].default) for n in other)
            assert [n for n, p in mine.items() if p.kind is p.KEYWORD_ONLY] == ["with_rank"]
    stream = _dataset().to_iterable_dataset()
    for method, function in (("map", lambda r: r), ("filter", lambda r: True)):
        for option in ({"colour": 1}, {"num_proc": 2}, {"desc": "x"}):
            with pytest.raises(TypeError, match=next(iter(option))):
                getattr(stream, method)(function, **option)
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['colour'\]"):
        _dataset().map(lambda r: r, colour=1)
    check_options({"num_proc": 4, "desc": "x"}, "map")
    assert next(iter(stream.with_format(type="numpy")))["id"] == np.int64(0)
    assert list(stream.map(lambda r, i: {"i": i}, True).take(2)) == [
        {"id": 0, "text": "w0", "score": 0.0, "i": 0},
        {"id": 1, "text": "w1w1", "score": 0.25, "i": 1},
    ]


def test_a_row_count_does_not_call_the_function() -> None:
    calls: list[int] = []

    def add(row: dict[str, Any]) -> dict[str, Any]:
        calls.append(1)
        return {"double": row["id"] * 2}

    lazy = pl.LazyFrame({"id": list(range(3000))}).filter(pl.col("id") % 2 == 0)
    plan = Plan.from_frame(lazy)
    mapped = map_with_function(plan, add)
    first = len(calls)  # the first batch, run to learn the output types
    assert mapped.num_rows is None and mapped.row_count() == 1500
    assert mapped.collect(mapped.lf.select("id")).height == 1500
    assert len(calls) == first
    assert mapped.collect()["double"].to_list()[:3] == [0, 4, 8]
    assert len(calls) == first + 1500


def test_filter_mask_is_one_check() -> None:
    frame = pl.DataFrame({"a": [1, 2, 3]})
    call = FunctionCall(lambda b: np.array([1, 0, 2]), batched=True, label="filter(f)")
    assert filter_mask(call, frame, 0).to_list() == [True, False, True]
    import pyarrow as pa

    call = FunctionCall(lambda b: pa.chunked_array([[True, None, False]]), batched=True)
    assert filter_mask(call, frame, 0).to_list() == [True, False, False]
    call = FunctionCall(lambda b: [True], batched=True, label="filter(f)")
    with pytest.raises(FunctionOutputError, match=r"filter\(f\), batch of rows 3\.\.5: .* 1 val"):
        filter_mask(call, frame, 3)
