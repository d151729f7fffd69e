"""Differential tests against ``datasets``: output formats (numpy, torch, polars, pandas,
arrow), their ``dtype=`` option, ``columns`` / ``output_all_columns``, ``set_format`` /
``reset_format`` / ``formatted_as``, and transforms; in memory and after save/load."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import datasets as hf
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crucible_polars as cp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from parity_oracle import assert_same, both_ways, hf_features, same_outcome

torch = pytest.importorskip("torch")

SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "int8": st.integers(-128, 127),
    "int32": st.integers(-(2**31), 2**31 - 1),
    "int64": st.integers(-(2**62), 2**62),
    "uint8": st.integers(0, 255),
    "uint16": st.integers(0, 2**16 - 1),
    "float32": st.floats(-1e6, 1e6, width=32),
    "float64": st.floats(allow_nan=False, allow_infinity=False),
    "bool": st.booleans(),
    "string": st.text(max_size=4),
}


@st.composite
def columns(draw: st.DrawFn, rows: int) -> tuple[Any, list[Any]]:
    dtype = draw(st.sampled_from(sorted(SCALARS)))
    value = SCALARS[dtype]
    shape = draw(st.sampled_from(["flat", "list", "regular", "matrix", "struct"]))
    if shape == "flat":
        return cp.Value(dtype), draw(st.lists(value, min_size=rows, max_size=rows))
    if shape == "list":
        items = st.lists(value, max_size=3)
        return cp.List(cp.Value(dtype)), draw(st.lists(items, min_size=rows, max_size=rows))
    if shape == "regular":
        items = st.lists(value, min_size=2, max_size=2)
        return cp.List(cp.Value(dtype)), draw(st.lists(items, min_size=rows, max_size=rows))
    if shape == "matrix":
        items = st.lists(st.lists(value, min_size=2, max_size=2), min_size=2, max_size=2)
        feature = cp.List(cp.List(cp.Value(dtype)))
        return feature, draw(st.lists(items, min_size=rows, max_size=rows))
    items = st.fixed_dictionaries({"v": value, "l": st.lists(value, max_size=2)})
    feature = {"v": cp.Value(dtype), "l": cp.List(cp.Value(dtype))}
    return feature, draw(st.lists(items, min_size=rows, max_size=rows))


@st.composite
def datasets_pair(draw: st.DrawFn) -> tuple[cp.Dataset, hf.Dataset]:
    rows = draw(st.integers(1, 4))
    features: dict[str, Any] = {}
    data: dict[str, list[Any]] = {}
    for i in range(draw(st.integers(1, 3))):
        feature, values = draw(columns(rows))
        features[f"c{i}"] = feature
        data[f"c{i}"] = values
    ours_features = cp.Features(features)
    return (
        cp.Dataset.from_dict(data, features=ours_features),
        hf.Dataset.from_dict(data, features=hf_features(ours_features)),
    )


def check_format(ours: Any, theirs: Any, fmt: str, where: str, **kwargs: Any) -> None:
    a, b = ours.with_format(fmt, **kwargs), theirs.with_format(fmt, **kwargs)
    n = len(b)
    same_outcome(lambda: a[0], lambda: b[0], f"{where} {fmt} row")
    same_outcome(lambda: a[:n], lambda: b[:n], f"{where} {fmt} batch")
    same_outcome(lambda: a[[n - 1, 0]], lambda: b[[n - 1, 0]], f"{where} {fmt} gather")
    same_outcome(lambda: list(a), lambda: list(b), f"{where} {fmt} iteration")
    same_outcome(
        lambda: list(a.iter(batch_size=2)), lambda: list(b.iter(batch_size=2)), f"{where} iter"
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datasets_pair(), st.sampled_from(["numpy", "torch"]))
def test_numpy_and_torch_formats_as_datasets(pair: tuple[cp.Dataset, hf.Dataset], fmt: str) -> None:
    for where, ours, theirs in both_ways(*pair):
        check_format(ours, theirs, fmt, where)


@pytest.mark.parametrize(
    ("fmt", "dtype"),
    [("numpy", np.float16), ("numpy", np.int32), ("torch", "float16"), ("torch", "int32")],
)
def test_format_dtype(fmt: str, dtype: Any) -> None:
    if fmt == "torch":
        dtype = getattr(torch, dtype)
    data: dict[str, list[Any]] = {"x": [1.5, 2.5], "m": [[[1, 2], [3, 4]]] * 2, "y": [1, 2]}
    ours, theirs = cp.Dataset.from_dict(data), hf.Dataset.from_dict(data)
    for where, a, b in both_ways(ours, theirs):
        check_format(a, b, fmt, where, dtype=dtype)


def test_float32_stays_float32_through_nn_linear() -> None:
    features = cp.Features({"x": cp.List(cp.Value("float32"), length=3), "y": cp.Value("int32")})
    data: dict[str, list[Any]] = {"x": [[1.0, 2.0, 3.0]] * 4, "y": [0, 1, 0, 1]}
    ours = cp.Dataset.from_dict(data, features=features).with_format("torch")
    batch = ours[:4]
    assert batch["x"].dtype == torch.float32 and batch["x"].shape == (4, 3)
    assert batch["y"].dtype == torch.int64  # as datasets: integer tensors are int64
    torch.nn.Linear(3, 2)(batch["x"])


def test_polars_pandas_arrow_formats() -> None:
    data: dict[str, list[Any]] = {"a": [1, 2], "b": ["x", "y"]}
    ours, theirs = cp.Dataset.from_dict(data), hf.Dataset.from_dict(data)
    for where, a, b in both_ways(ours, theirs):
        for fmt in ("polars", "pandas", "arrow"):
            fa, fb = a.with_format(fmt), b.with_format(fmt)
            assert type(fa["a"]).__name__ == type(fb["a"]).__name__, (where, fmt)
            assert list(fa["a"]) == list(fb["a"])
            assert type(fa[0]).__name__ == type(fb[0]).__name__, (where, fmt)
            assert type(fa[:2]).__name__ == type(fb[:2]).__name__, (where, fmt)
        assert a.with_format("pandas")[:2].equals(b.with_format("pandas")[:2])
        assert a.to_pandas().equals(b.to_pandas())


def test_columns_and_output_all_columns() -> None:
    data: dict[str, list[Any]] = {"a": [1, 2], "b": ["x", "y"], "c": [[1.0], [2.0, 3.0]]}
    ours, theirs = cp.Dataset.from_dict(data), hf.Dataset.from_dict(data)
    for where, a, b in both_ways(ours, theirs):
        for all_columns in (False, True):
            for fmt in ("numpy", "torch", "python"):
                check_format(a, b, fmt, where, columns=["a", "c"], output_all_columns=all_columns)
                fa = a.with_format(fmt, columns=["a"], output_all_columns=all_columns)
                fb = b.with_format(fmt, columns=["a"], output_all_columns=all_columns)
                assert fa.format == fb.format
                same_outcome(lambda fa=fa: fa["b"], lambda fb=fb: fb["b"][:], where)


def test_set_reset_formatted_as() -> None:
    data: dict[str, list[Any]] = {"a": [1, 2]}
    ours, theirs = cp.Dataset.from_dict(data), hf.Dataset.from_dict(data)
    for lib_ds in (ours, theirs):
        lib_ds.set_format("numpy", columns=["a"])
    assert ours.format == theirs.format
    assert_same(ours["a"], theirs["a"])
    with ours.formatted_as("torch"), theirs.formatted_as("torch"):
        assert_same(ours[:2], theirs[:2])
        assert ours.format == theirs.format
    assert ours.format == theirs.format
    ours.reset_format()
    theirs.reset_format()
    assert ours.format == theirs.format
    assert_same(ours[0], theirs[0])


def test_transforms_as_datasets() -> None:
    data: dict[str, list[Any]] = {"a": [1, 2, 3], "b": ["x", "y", "z"]}
    ours, theirs = cp.Dataset.from_dict(data), hf.Dataset.from_dict(data)

    def double(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        return {"a": [v * 2 for v in batch["a"]]}

    for where, a, b in both_ways(ours, theirs):
        for kwargs in ({}, {"columns": ["a"]}, {"columns": ["a"], "output_all_columns": True}):
            ta, tb = a.with_transform(double, **kwargs), b.with_transform(double, **kwargs)
            same_outcome(lambda ta=ta: ta[0], lambda tb=tb: tb[0], where)
            same_outcome(lambda ta=ta: ta[1:], lambda tb=tb: tb[1:], where)
            same_outcome(lambda ta=ta: ta["a"], lambda tb=tb: tb["a"], where)
            same_outcome(lambda ta=ta: list(ta), lambda tb=tb: list(tb), where)
            assert ta.format["type"] == tb.format["type"] == "custom"
        a.set_transform(double)
        b.set_transform(double)
        assert_same(a[:2], b[:2])
        a.reset_format()
        b.reset_format()
        assert_same(a[:2], b[:2])


def test_transform_augments_images() -> None:
    import PIL.Image

    features = cp.Features({"image": cp.Image()})
    data = {"image": [PIL.Image.new("RGB", (8, 6), "red")] * 2}
    ours = cp.Dataset.from_dict(data, features=features)
    theirs = hf.Dataset.from_dict(data, features=hf_features(features))

    def resize(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        return {"image": [image.resize((4, 4)) for image in batch["image"]]}

    for where, a, b in both_ways(ours, theirs):
        assert_same(a.with_transform(resize)[0], b.with_transform(resize)[0], where)


def test_image_columns_in_numpy_and_torch() -> None:
    import PIL.Image

    features = cp.Features({"image": cp.Image(), "label": cp.ClassLabel(names=["a", "b"])})
    same = {"image": [PIL.Image.new("RGB", (4, 3), "red")] * 2, "label": [0, 1]}
    mixed = {"image": [PIL.Image.new("RGB", (4, 3)), PIL.Image.new("L", (2, 2))], "label": [0, 1]}
    for data in (same, mixed):
        ours = cp.Dataset.from_dict(data, features=features)
        theirs = hf.Dataset.from_dict(data, features=hf_features(features))
        for where, a, b in both_ways(ours, theirs):
            for fmt in ("numpy", "torch"):
                check_format(a, b, fmt, where)
