"""Differential tests against ``datasets``: constructors with features encode and check values
(ClassLabel names, ``Value`` casts, ``Image`` from paths, bytes, arrays and PIL images), the
``Features`` encoding methods, and ``add_item``; in memory and after save/load."""

from __future__ import annotations

import copy
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import datasets as hf
import numpy as np
import PIL.Image
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crucible_polars as cp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from parity_oracle import assert_same, both_ways, hf_features, same_outcome

NAMES = ["neg", "pos", "mid"]

# (feature, strategy of values datasets accepts for it)
COLUMN_KINDS: dict[str, tuple[Any, st.SearchStrategy[Any]]] = {
    "int32": (cp.Value("int32"), st.integers(-(2**31), 2**31 - 1)),
    "int64": (cp.Value("int64"), st.integers(-(2**40), 2**40) | st.integers(0, 99).map(str)),
    "float32": (cp.Value("float32"), st.floats(-1e6, 1e6, width=32) | st.integers(-9, 9)),
    "float64": (cp.Value("float64"), st.floats(allow_nan=False) | st.integers(-9, 9)),
    "string": (cp.Value("string"), st.text(max_size=5) | st.integers(0, 9)),
    "bool": (cp.Value("bool"), st.booleans()),
    "label": (
        cp.ClassLabel(names=NAMES),
        st.sampled_from(NAMES) | st.integers(-1, 2) | st.sampled_from([" pos ", "1"]),
    ),
    "list_label": (
        cp.List(cp.ClassLabel(names=NAMES)),
        st.lists(st.sampled_from(NAMES), max_size=3) | st.lists(st.integers(0, 2), max_size=3),
    ),
    "list_int": (cp.List(cp.Value("int16")), st.lists(st.integers(-100, 100), max_size=3)),
    "struct": (
        {"a": cp.Value("int64"), "b": cp.Value("string")},
        st.fixed_dictionaries({"a": st.integers(0, 9), "b": st.text(max_size=3)}),
    ),
}


@st.composite
def tables(draw: st.DrawFn) -> tuple[cp.Features, dict[str, list[Any]]]:
    kinds = draw(st.lists(st.sampled_from(sorted(COLUMN_KINDS)), min_size=1, max_size=4))
    rows = draw(st.integers(1, 6))
    features: dict[str, Any] = {}
    data: dict[str, list[Any]] = {}
    for i, kind in enumerate(kinds):
        feature, values = COLUMN_KINDS[kind]
        name = f"c{i}_{kind}"
        features[name] = feature
        data[name] = draw(st.lists(values | st.none(), min_size=rows, max_size=rows))
    return cp.Features(features), data


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.sampled_from(["from_dict", "from_list", "from_generator"]))
def test_constructors_encode_as_datasets(
    table: tuple[cp.Features, dict[str, list[Any]]], how: str
) -> None:
    features, data = table
    rows = [dict(zip(data, values, strict=True)) for values in zip(*data.values(), strict=True)]

    def build(lib: Any, feats: Any) -> Any:
        if how == "from_dict":
            return lib.Dataset.from_dict(data, features=feats)
        if how == "from_list":
            return lib.Dataset.from_list(rows, features=feats)
        return lib.Dataset.from_generator(lambda: iter(rows), features=feats)

    try:
        theirs = build(hf, hf_features(features))
    except (ValueError, TypeError, OverflowError):
        with pytest.raises((ValueError, TypeError, OverflowError)):
            build(cp, features)
        return
    ours = build(cp, features)
    for where, a, b in both_ways(ours, theirs):
        assert a.features.to_dict() == b.features.to_dict(), where
        assert_same(a[:], b[:], f"{how} {where}")


@pytest.mark.parametrize(
    ("feature", "values"),
    [
        (cp.ClassLabel(names=["a", "b"]), [3]),
        (cp.ClassLabel(names=["a", "b"]), ["c"]),
        (cp.Value("int64"), ["x"]),
        (cp.Value("float32"), ["1.5x"]),
        (cp.Value("int8"), [300]),
        (cp.List(cp.ClassLabel(names=["a"])), [["b"]]),
        (cp.Image(), [{"bytes": None, "path": None}]),
    ],
)
def test_bad_values_are_errors_as_in_datasets(feature: Any, values: list[Any]) -> None:
    features = cp.Features({"x": feature})
    same_outcome(
        lambda: cp.Dataset.from_dict({"x": values}, features=features)[:],
        lambda: hf.Dataset.from_dict({"x": values}, features=hf_features(features))[:],
    )
    with pytest.raises(ValueError, match="Column 'x', row 0"):
        cp.Dataset.from_dict({"x": values}, features=features)


def _image_values(folder: str) -> list[Any]:
    path = os.path.join(folder, "red.png")
    PIL.Image.new("RGB", (5, 3), "red").save(path)
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    return [
        path,
        Path(path),
        open(path, "rb").read(),
        np.zeros((3, 4, 3), dtype=np.uint8),
        gray,
        gray.tolist(),
        PIL.Image.new("L", (2, 2), 7),
        PIL.Image.open(path),
        {"bytes": None, "path": path},
        None,
    ]


def test_image_values_encode_as_in_datasets() -> None:
    folder = tempfile.mkdtemp()
    values = _image_values(folder)
    features = cp.Features({"image": cp.Image(), "i": cp.Value("int64")})
    data = {"image": values, "i": list(range(len(values)))}
    ours = cp.Dataset.from_dict(data, features=features)
    theirs = hf.Dataset.from_dict(data, features=hf_features(features))
    for where, a, b in both_ways(ours, theirs):
        assert_same([r["image"] for r in a], [r["image"] for r in b], where)
        assert_same(a.with_format("numpy")[:4]["image"], b.with_format("numpy")[:4]["image"])


def test_saved_images_stand_alone() -> None:
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "a.png")
    PIL.Image.new("RGB", (4, 3), "blue").save(path)
    features = cp.Features({"image": cp.Image()})
    ours = cp.Dataset.from_dict({"image": [path]}, features=features)
    theirs = hf.Dataset.from_dict({"image": [path]}, features=hf_features(features))
    saved_ours, saved_theirs = os.path.join(folder, "ours"), os.path.join(folder, "theirs")
    ours.save_to_disk(saved_ours)
    theirs.save_to_disk(saved_theirs)
    os.remove(path)
    back_ours, back_theirs = cp.load_from_disk(saved_ours), hf.load_from_disk(saved_theirs)
    assert_same(back_ours[0], back_theirs[0])
    assert_same(
        back_ours.to_polars()["image"].to_list(), back_theirs.data.column("image").to_pylist()
    )
    shutil.rmtree(folder)


def test_features_encoding_methods() -> None:
    features = cp.Features(
        {"label": cp.ClassLabel(names=NAMES), "n": cp.Value("int32"), "t": [cp.Value("string")]}
    )
    theirs = hf_features(features)
    example = {"label": "mid", "n": "7", "t": ["a", 1]}
    same_outcome(lambda: features.encode_example(example), lambda: theirs.encode_example(example))
    batch = {"label": ["pos", 0], "n": [1, 2.0], "t": [[], ["x"]]}
    same_outcome(lambda: features.encode_batch(batch), lambda: theirs.encode_batch(batch))
    same_outcome(
        lambda: features.encode_column(["neg", 2], "label"),
        lambda: theirs.encode_column(["neg", 2], "label"),
    )
    same_outcome(lambda: features.encode_batch({"n": [1]}), lambda: theirs.encode_batch({"n": [1]}))
    assert cp.ClassLabel(names=NAMES).dtype == hf.ClassLabel(names=NAMES).dtype


def test_reorder_fields_as() -> None:
    f1 = cp.Features(
        {"root": {"a": cp.Value("string"), "b": [{"x": cp.Value("int8"), "y": cp.Value("int8")}]}}
    )
    f2 = cp.Features(
        {"root": {"b": [{"y": cp.Value("int8"), "x": cp.Value("int8")}], "a": cp.Value("string")}}
    )
    ours = f1.reorder_fields_as(f2)
    theirs = hf_features(f1).reorder_fields_as(hf_features(f2))
    assert ours.to_dict() == hf.Features(theirs).to_dict()
    assert ours.type == f2.type
    bad = cp.Features({"root": {"a": cp.Value("string")}})
    same_outcome(
        lambda: f1.reorder_fields_as(bad),
        lambda: hf_features(f1).reorder_fields_as(hf_features(bad)),
    )


def test_features_is_a_copy_and_flatten_keeps_images() -> None:
    features = cp.Features({"image": cp.Image(), "m": {"a": cp.Value("int64")}})
    data: dict[str, list[Any]] = {"image": [None], "m": [{"a": 1}]}
    ours = cp.Dataset.from_dict(data, features=features)
    theirs = hf.Dataset.from_dict(data, features=hf_features(features))
    edited = ours.features
    edited["m"] = cp.Value("string")
    assert ours.features == features
    for where, a, b in both_ways(ours, theirs):
        assert a.flatten().column_names == b.flatten().column_names, where
        assert a.flatten().features.to_dict() == b.flatten().features.to_dict(), where


def test_add_item_encodes_with_the_features() -> None:
    features = cp.Features({"label": cp.ClassLabel(names=NAMES), "x": cp.Value("float32")})
    data: dict[str, list[Any]] = {"label": [0], "x": [1.0]}
    ours = cp.Dataset.from_dict(data, features=features)
    theirs = hf.Dataset.from_dict(data, features=hf_features(features))
    item = {"label": 2, "x": 2.5}
    for where, a, b in both_ways(ours, theirs):
        assert_same(a.add_item(item)[:], b.add_item(item)[:], where)
    # beyond datasets (which infers the item's types): names are encoded, images too
    assert ours.add_item({"label": "pos", "x": 0})["label"] == [0, 1]
    with pytest.raises(ValueError, match="label"):
        ours.add_item({"label": "cat", "x": 0})
    images = cp.Dataset.from_dict({"image": [None]}, features=cp.Features({"image": cp.Image()}))
    grown = images.add_item({"image": np.zeros((2, 3, 3), dtype=np.uint8)})
    assert grown[1]["image"].size == (3, 2)


def test_cast_column_to_image_of_arrays_and_class_label_ignore_ids() -> None:
    data: dict[str, list[Any]] = {"label": [0, 1, -100]}
    ours, theirs = cp.Dataset.from_dict(data), hf.Dataset.from_dict(data)
    for where, a, b in both_ways(ours, theirs):
        same_outcome(
            lambda a=a: a.cast_column("label", cp.ClassLabel(names=["a", "b"]))["label"],
            lambda b=b: b.cast_column("label", hf.ClassLabel(names=["a", "b"]))["label"],
            where,
        )
    paths = cp.Dataset.from_dict({"image": [None]}).cast_column("image", cp.Image())
    assert paths[0]["image"] is None


def test_from_pandas_and_polars() -> None:
    import pandas as pd

    frame = pd.DataFrame({"a": [1, 2], "b": ["x", None]}, index=[3, 4])
    for index in (None, False, True):
        same_outcome(
            lambda index=index: cp.Dataset.from_pandas(frame, preserve_index=index)[:],
            lambda index=index: hf.Dataset.from_pandas(frame, preserve_index=index)[:],
        )
    features = cp.Features({"a": cp.Value("int32"), "b": cp.Value("string")})
    ours = cp.Dataset.from_pandas(frame.reset_index(drop=True), features=features)
    assert ours.features == features
    with pytest.raises(ValueError, match="'a'"):
        cp.Dataset.from_polars(
            pl.DataFrame({"a": ["x"]}), features=cp.Features({"a": cp.Value("int64")})
        )[:]


def test_pickle_and_deepcopy_of_any_dataset() -> None:
    import pickle

    ds = cp.Dataset.from_dict({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    variants = [
        ds,
        ds.cast(cp.Features({"a": cp.Value("int32"), "b": cp.Value("string")})),
        ds.filter(pl.col("a") > 1),
        ds.with_format("numpy", columns=["a"]),
        ds.select([2, 0]),
    ]
    for variant in variants:
        assert_same(pickle.loads(pickle.dumps(variant))[:], variant[:])
        assert_same(copy.deepcopy(variant)[:], variant[:])


def test_cast_column_image_of_pixel_arrays() -> None:
    rgb = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    gray = np.arange(6, dtype=np.uint8).reshape(2, 3)
    for arrays in ([rgb, rgb], [gray, None]):
        data = {"x": arrays}
        ours, theirs = cp.Dataset.from_dict(data), hf.Dataset.from_dict(data)
        assert ours.features.to_dict() == theirs.features.to_dict()
        for where, a, b in both_ways(ours, theirs):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # both: "Downcasting array dtype int64 ..."
                got = a.cast_column("x", cp.Image())["x"]
                expected = b.cast_column("x", hf.Image())["x"]
            # as datasets: the pixels are read back as int64, so 2-D arrays become mode "I"
            assert_same(got, expected, where)


def test_saved_nested_images_stand_alone() -> None:
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "a.png")
    PIL.Image.new("RGB", (4, 3), "blue").save(path)
    features = cp.Features({"images": cp.List(cp.Image()), "pair": {"image": cp.Image()}})
    data: dict[str, list[Any]] = {"images": [[path, None], []], "pair": [{"image": path}, None]}
    ours = cp.Dataset.from_dict(data, features=features)
    theirs = hf.Dataset.from_dict(data, features=hf_features(features))
    saved_ours, saved_theirs = os.path.join(folder, "ours"), os.path.join(folder, "theirs")
    ours.save_to_disk(saved_ours)
    theirs.save_to_disk(saved_theirs)
    os.remove(path)
    assert_same(cp.load_from_disk(saved_ours)[:], hf.load_from_disk(saved_theirs)[:])
    shutil.rmtree(folder)
