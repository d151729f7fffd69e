"""``map``/``filter`` give what ``datasets`` 5.2 gives (the oracle), in memory and after
``save_to_disk`` + ``load_from_disk``: in-place edits, ``remove_columns`` on a returned
example, ``{}``, ``async def`` functions, type widths and ``try_original_type``, tables
and tensors returned, ``drop_last_batch``, unknown keyword arguments."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crucible_polars as cp

datasets.disable_progress_bars()
cp.disable_progress_bars()

Data = dict[str, list[Any]]


def _features(module: Any, kinds: dict[str, str]) -> Any:
    return module.Features({name: module.Value(kind) for name, kind in kinds.items()})


def _result(ds: Any) -> tuple[dict[str, list[Any]], dict[str, str]]:
    return ds.to_dict(), {name: repr(f) for name, f in ds.features.items()}


def _both(
    data: Data,
    apply: Callable[[Any], Any],
    kinds: dict[str, str] | None = None,
    disk: Path | None = None,
) -> tuple[Any, Any]:
    out = []
    for module in (datasets, cp):
        features = _features(module, kinds) if kinds else None
        ds = module.Dataset.from_dict(data, features=features)
        if disk is not None:
            path = disk / module.__name__
            ds.save_to_disk(str(path))
            ds = module.load_from_disk(str(path))
        try:
            out.append(_result(apply(ds)))
        except Exception as error:
            out.append(type(error).__name__)
    return out[0], out[1]


def _scale(ex: dict[str, Any]) -> dict[str, Any]:
    ex["a"] = ex["a"] * 10
    return ex


def _scale_copy(ex: dict[str, Any]) -> dict[str, Any]:
    ex["a"] = ex["a"] * 10
    return dict(ex)


def _scale_batch(batch: dict[str, Any]) -> dict[str, Any]:
    batch["a"] = [a * 10 for a in batch["a"]]
    return batch


async def _plus_one(ex: dict[str, Any]) -> dict[str, Any]:
    await asyncio.sleep(0)
    return {"b": ex["a"] + 1}


async def _plus_one_batch(batch: dict[str, Any]) -> dict[str, Any]:
    await asyncio.sleep(0)
    return {"b": [a + 1 for a in batch["a"]]}


DATA = {"a": [1, 2, 3], "meta": ["x", "y", "z"]}
WIDE = {"x": [1.5, 2.0, 3.25], "i": [1, 2, 3], "s": ["1", "2", "3"]}
WIDE_KINDS = {"x": "float32", "i": "int32", "s": "string"}

CASES: dict[str, tuple[Data, Callable[[Any], Any], dict[str, str] | None]] = {
    "in place": (DATA, lambda ds: ds.map(_scale), None),
    "in place, dict copy": (DATA, lambda ds: ds.map(_scale_copy), None),
    "in place, batched": (DATA, lambda ds: ds.map(_scale_batch, batched=True), None),
    "returned example, remove_columns": (
        DATA,
        lambda ds: ds.map(lambda ex: ex, remove_columns=["meta"]),
        None,
    ),
    "returned batch, remove_columns": (
        DATA,
        lambda ds: ds.map(lambda b: b, batched=True, remove_columns=["meta"]),
        None,
    ),
    "returned copy keeps removed": (
        DATA,
        lambda ds: ds.map(lambda ex: dict(ex), remove_columns=["meta"]),
        None,
    ),
    "empty dict": (DATA, lambda ds: ds.map(lambda ex: {}), None),
    "empty dict, batched": (DATA, lambda ds: ds.map(lambda b: {}, batched=True), None),
    "async": (DATA, lambda ds: ds.map(_plus_one), None),
    "async, batched": (DATA, lambda ds: ds.map(_plus_one_batch, batched=True), None),
    "float32 and int32 kept": (
        WIDE,
        lambda ds: ds.map(lambda ex: {"x": ex["x"] * 2, "i": ex["i"] + 1}),
        WIDE_KINDS,
    ),
    "float32 kept, batched": (
        WIDE,
        lambda ds: ds.map(lambda b: {"x": [v * 2 for v in b["x"]]}, batched=True),
        WIDE_KINDS,
    ),
    "try_original_type=False, batched": (
        WIDE,
        lambda ds: ds.map(
            lambda b: {"x": [v * 2 for v in b["x"]], "i": [v * 1.0 for v in b["i"]]},
            batched=True,
            try_original_type=False,
        ),
        WIDE_KINDS,
    ),
    "try_original_type=False, rows (ignored, as datasets)": (
        WIDE,
        lambda ds: ds.map(lambda ex: {"x": ex["x"] * 2}, try_original_type=False),
        WIDE_KINDS,
    ),
    "text back to int": (WIDE, lambda ds: ds.map(lambda ex: {"i": str(ex["i"])}), WIDE_KINDS),
    "int to halves": (WIDE, lambda ds: ds.map(lambda ex: {"i": ex["i"] / 2}), WIDE_KINDS),
    "whole floats to int": (WIDE, lambda ds: ds.map(lambda ex: {"i": ex["i"] * 1.0}), WIDE_KINDS),
    "int to a word": (WIDE, lambda ds: ds.map(lambda ex: {"i": "w"}), WIDE_KINDS),
    "text to int": (WIDE, lambda ds: ds.map(lambda ex: {"s": int(ex["s"])}), WIDE_KINDS),
    "numpy float32 batch": (
        WIDE,
        lambda ds: ds.map(lambda b: {"y": np.asarray(b["x"], dtype=np.float32)}, batched=True),
        WIDE_KINDS,
    ),
    "pyarrow table": (
        DATA,
        lambda ds: ds.map(lambda b: pa.table({"b": b["a"]}), batched=True),
        None,
    ),
    "pandas frame": (
        DATA,
        lambda ds: ds.map(lambda b: pd.DataFrame({"b": b["a"]}), batched=True),
        None,
    ),
    "polars frame": (
        DATA,
        lambda ds: ds.map(lambda b: pl.DataFrame({"b": b["a"]}), batched=True),
        None,
    ),
    "torch tensor batch": (
        DATA,
        lambda ds: ds.map(lambda b: {"t": torch.tensor(b["a"], dtype=torch.float32)}, batched=True),
        None,
    ),
    "torch tensor rows": (
        DATA,
        lambda ds: ds.map(lambda ex: {"t": torch.tensor([ex["a"], 1.0])}),
        None,
    ),
    "drop_last_batch": (
        {"a": list(range(7))},
        lambda ds: ds.map(
            lambda b: {"b": [a * 2 for a in b["a"]]},
            batched=True,
            batch_size=3,
            drop_last_batch=True,
        ),
        None,
    ),
    "drop_last_batch, columns removed": (
        {"a": list(range(7))},
        lambda ds: ds.map(
            lambda b: {"b": b["a"]},
            batched=True,
            batch_size=3,
            drop_last_batch=True,
            remove_columns=["a"],
        ),
        None,
    ),
    "unknown keyword": (DATA, lambda ds: ds.map(lambda ex: ex, colour=1), None),
    "filter unknown keyword": (DATA, lambda ds: ds.filter(lambda ex: True, colour=1), None),
    "filter drop_last_batch": (
        DATA,
        lambda ds: ds.filter(lambda ex: True, drop_last_batch=1),
        None,
    ),
    "map cache options": (DATA, lambda ds: ds.map(lambda ex: ex, load_from_cache_file=False), None),
}


@pytest.mark.parametrize("name", list(CASES))
def test_map_as_datasets(name: str) -> None:
    data, apply, kinds = CASES[name]
    theirs, ours = _both(data, apply, kinds)
    assert ours == theirs


@pytest.mark.parametrize(
    "name", ["in place", "returned example, remove_columns", "float32 and int32 kept", "async"]
)
def test_map_as_datasets_after_save_to_disk(name: str, tmp_path: Path) -> None:
    data, apply, kinds = CASES[name]
    theirs, ours = _both(data, apply, kinds, disk=tmp_path)
    assert ours == theirs


async def _keep_big(ex: dict[str, Any]) -> bool:
    await asyncio.sleep(0)
    return bool(ex["a"] > 1)


def test_async_filter_awaited() -> None:
    theirs, ours = _both(DATA, lambda ds: ds.filter(_keep_big))
    assert ours == theirs
    assert ours[0]["a"] == [2, 3]


def test_in_place_image_edit_kept() -> None:
    import PIL.Image

    buffer = io.BytesIO()
    PIL.Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    stored = {"bytes": buffer.getvalue(), "path": None}
    ds = cp.Dataset.from_dict({"image": [stored]}, features=cp.Features({"image": cp.Image()}))

    def shrink(row: dict[str, Any]) -> dict[str, Any]:
        row["image"] = row["image"].resize((4, 4))
        return row

    assert ds.map(shrink)[0]["image"].size == (4, 4)


KINDS = st.sampled_from(["int32", "int64", "float32", "float64", "string"])


def _values(kind: str) -> st.SearchStrategy[Any]:
    if kind.startswith("int"):
        return st.integers(-(2**20), 2**20)
    if kind.startswith("float"):
        return st.floats(-1e6, 1e6, allow_nan=False, width=32)
    return st.text(max_size=4)


@st.composite
def _tables(draw: st.DrawFn) -> tuple[Data, dict[str, str]]:
    kinds = draw(st.dictionaries(st.sampled_from(["p", "q", "r"]), KINDS, min_size=1))
    rows = draw(st.integers(1, 6))
    data = {n: draw(st.lists(_values(k), min_size=rows, max_size=rows)) for n, k in kinds.items()}
    return data, kinds


def _double(value: Any) -> Any:
    return value * 2


OUTPUTS: dict[str, Callable[[Any], Any]] = {
    "identity": lambda ds: ds.map(lambda ex: ex),
    "edit in place": lambda ds: ds.map(lambda ex: {k: _double(v) for k, v in ex.items()}),
    "new columns": lambda ds: ds.map(lambda ex: {f"{k}2": _double(v) for k, v in ex.items()}),
    "batched edit": lambda ds: ds.map(
        lambda b: {k: [_double(v) for v in vs] for k, vs in b.items()}, batched=True, batch_size=2
    ),
}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=_tables(), how=st.sampled_from(list(OUTPUTS)))
def test_map_output_types_as_datasets(table: tuple[Data, dict[str, str]], how: str) -> None:
    data, kinds = table
    theirs, ours = _both(data, OUTPUTS[how], kinds)
    assert ours == theirs


@pytest.mark.parametrize("original", [True, False])
@pytest.mark.parametrize("returns", ["batch", "read column"])
def test_try_original_type_keeps_untouched_columns(original: bool, returns: str) -> None:
    out = []
    for module in (datasets, cp):
        features = module.Features(
            {"y": module.ClassLabel(names=["n", "p"]), "a": module.Value("int32")}
        )
        ds = module.Dataset.from_dict({"y": [0, 1], "a": [1, 2]}, features=features)

        def fn(batch: dict[str, Any]) -> dict[str, Any]:
            return batch if returns == "batch" else {"a": batch["a"]}

        out.append(_result(ds.map(fn, batched=True, try_original_type=original)))
    assert out[1] == out[0]
