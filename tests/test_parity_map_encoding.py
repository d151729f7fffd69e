"""``map`` outputs into typed columns, ``add_item`` and ``cast_column`` encode values as
``datasets`` 5 (the oracle) writes them: paths, bytes, pixel arrays and PIL images into
``Image`` columns, label names into ``ClassLabel`` columns, values into a ``features=``-typed
output; in memory and after ``save_to_disk`` + ``load_from_disk``."""

from __future__ import annotations

import os
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import datasets as hf
import numpy as np
import PIL.Image
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crucible_polars as cp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from parity_oracle import assert_same, both_ways, hf_features, same_outcome

cp.disable_progress_bars()

FOLDER = tempfile.mkdtemp()
PNG = os.path.join(FOLDER, "a.png")
PIL.Image.new("RGB", (4, 3), (10, 20, 30)).save(PNG)
with open(PNG, "rb") as _file:
    PNG_BYTES = _file.read()


def _pair(data: dict[str, list[Any]], features: cp.Features | None = None) -> tuple[Any, Any]:
    theirs_features = hf_features(features) if features is not None else None
    return (
        cp.Dataset.from_dict(data, features=features),
        hf.Dataset.from_dict(data, features=theirs_features),
    )


def _same_map(
    data: dict[str, list[Any]],
    features: cp.Features | None,
    function: Callable[..., Any],
    out_features: cp.Features | None = None,
    **kwargs: Any,
) -> None:
    """``map(function, **kwargs)`` gives the same rows and Features, in memory and saved."""
    ours, theirs = _pair(data, features)
    for where, a, b in both_ways(ours, theirs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # both: "Downcasting array dtype int64 ..."
            mapped = same_outcome(
                lambda a=a: a.map(function, features=out_features, **kwargs)[:],
                lambda b=b: b.map(
                    function,
                    features=hf_features(out_features) if out_features is not None else None,
                    **kwargs,
                )[:],
                where,
            )
            if mapped is None:
                continue  # both raised
            ours_features = a.map(function, features=out_features, **kwargs).features
            b_features = hf_features(out_features) if out_features is not None else None
            theirs_features = b.map(function, features=b_features, **kwargs).features
        assert ours_features.to_dict() == theirs_features.to_dict(), where


IMAGE = cp.Features({"img": cp.Image()})
IMAGE_VALUES: dict[str, Callable[[], Any]] = {
    "path": lambda: PNG,
    "bytes": lambda: PNG_BYTES,
    "PIL": lambda: PIL.Image.new("L", (2, 5), 7),
    "rgb array": lambda: np.full((5, 6, 3), 9, dtype=np.uint8),
    "gray uint8 array": lambda: np.full((2, 3), 200, dtype=np.uint8),
    "float array": lambda: np.full((2, 3), 0.5, dtype=np.float32),
    "list of ints": lambda: [1, 2, 3],
    "dict": lambda: {"bytes": PNG_BYTES, "path": None},
    "number": lambda: 5,
}


@pytest.mark.parametrize("value", list(IMAGE_VALUES))
@pytest.mark.parametrize("batched", [False, True])
def test_map_into_an_image_column(value: str, batched: bool) -> None:
    make = IMAGE_VALUES[value]

    def function(row: dict[str, Any]) -> dict[str, Any]:
        if batched:
            return {"img": [make() for _ in row["img"]]}
        return {"img": make()}

    _same_map({"img": [PNG, None]}, IMAGE, function, batched=batched)


@pytest.mark.parametrize("value", [v for v in IMAGE_VALUES if v != "number"])
def test_map_into_new_image_column_with_features(value: str) -> None:
    make = IMAGE_VALUES[value]
    out = cp.Features({"a": cp.Value("int64"), "img": cp.Image()})
    _same_map({"a": [1, 2]}, None, lambda row: {"img": make()}, out)


def test_map_returning_pil_images_infers_image_features() -> None:
    def images(row: dict[str, Any]) -> dict[str, Any]:
        return {"one": PIL.Image.new("RGB", (2, 2)), "many": [PIL.Image.new("L", (1, 3))]}

    _same_map({"a": [1, 2]}, None, images)
    # a new column of {bytes, path} dicts stays a struct, as in datasets
    _same_map({"a": [1]}, None, lambda row: {"d": {"bytes": PNG_BYTES, "path": PNG}})


LABELS = cp.Features({"y": cp.ClassLabel(names=["neg", "pos"])})


@pytest.mark.parametrize(
    "function",
    [
        lambda row: {"y": "pos"},
        lambda row: {"y": 1 - row["y"]},
        lambda row: {"y": "other"},  # not a name: the column becomes text, as in datasets
        lambda row: {"y": 7},  # out of range: the column becomes int64, as in datasets
    ],
    ids=["name", "id", "unknown name", "id out of range"],
)
def test_map_into_a_class_label_column(function: Callable[..., Any]) -> None:
    _same_map({"y": [0, 1]}, LABELS, function)


def test_map_names_into_nested_class_labels() -> None:
    features = cp.Features({"tags": cp.List(cp.ClassLabel(names=["a", "b"]))})
    _same_map({"tags": [[0], [1, 0]]}, features, lambda row: {"tags": ["b", "a"]})


@pytest.mark.parametrize(
    ("value", "feature"),
    [
        (5, cp.ClassLabel(names=["neg", "pos"])),
        ("neg", cp.ClassLabel(names=["neg", "pos"])),
        ("x", cp.Value("int32")),
        ("7", cp.Value("int32")),
        (1.5, cp.Value("int32")),
        (2.0, cp.Value("int32")),
        (3, cp.Value("string")),
        ([1, 2], cp.Value("int64")),
        ({"l": ["b", "a"]}, {"l": cp.List(cp.ClassLabel(names=["a", "b"]))}),
        (np.arange(3, dtype=np.int16), cp.List(cp.Value("float32"))),
    ],
)
def test_map_values_into_features(value: Any, feature: Any) -> None:
    out = cp.Features({"a": cp.Value("int64"), "v": feature})
    _same_map({"a": [1, 2]}, None, lambda row: {"v": value}, out)
    _same_map({"a": [1, 2]}, None, lambda b: {"v": [value] * len(b["a"])}, out, batched=True)


def test_map_error_with_features_names_the_row_and_column() -> None:
    ds = cp.Dataset.from_dict({"a": [1, 2, 3]})
    out = cp.Features({"a": cp.Value("int64"), "v": cp.ClassLabel(names=["x", "y"])})
    mapped = ds.map(lambda row: {"v": row["a"]}, features=out)
    with pytest.raises(ValueError, match=r"row 1: value 2 of column 'v'") as info:
        mapped[:]
    assert isinstance(info.value, cp.errors.FunctionOutputError)


FEATURES = {
    "int8": cp.Value("int8"),
    "int32": cp.Value("int32"),
    "int64": cp.Value("int64"),
    "float32": cp.Value("float32"),
    "float64": cp.Value("float64"),
    "bool": cp.Value("bool"),
    "string": cp.Value("string"),
    "label": cp.ClassLabel(names=["a", "b", "c"]),
    "ints": cp.List(cp.Value("int16")),
    "strings": cp.List(cp.Value("string")),
    "labels": cp.List(cp.ClassLabel(names=["a", "b", "c"])),
    "struct": {"n": cp.Value("int32"), "y": cp.ClassLabel(names=["a", "b", "c"])},
}
VALUES = st.one_of(
    st.none(),
    st.integers(-5, 5),
    st.integers(-300, 300),
    st.sampled_from([0.0, 1.0, 2.5, -3.0, 1e20, 0.1]),
    st.sampled_from(["a", "b", "c", "x", "3", "-1", "true", " b", "1.5", "1e3", ""]),
    st.booleans(),
    st.lists(st.integers(-3, 3), max_size=3),
    st.lists(st.sampled_from(["a", "b", "z", "1"]), max_size=2),
    st.lists(st.sampled_from([0.5, 1.0]), min_size=1, max_size=2),
    st.fixed_dictionaries({"n": st.integers(-3, 3), "y": st.sampled_from(["a", "c", 1, 9])}),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(list(FEATURES)),
    value=VALUES,
    batched=st.booleans(),
    given_features=st.booleans(),
)
def test_map_outputs_encode_as_datasets(
    kind: str, value: Any, batched: bool, given_features: bool
) -> None:
    """A value returned into a typed column: ``features=`` given (the output type), or
    the input column's own type (``try_original_type``)."""
    feature = FEATURES[kind]
    features = cp.Features({"v": feature})
    data: dict[str, list[Any]] = {"v": [None, None]}

    def function(row: dict[str, Any]) -> dict[str, Any]:
        return {"v": [value] * len(row["v"])} if batched else {"v": value}

    out = features if given_features else None
    ours, theirs = _pair(data, features)
    got = same_outcome(
        lambda: ours.map(function, features=out, batched=batched)[:],
        lambda: theirs.map(
            function,
            features=hf_features(out) if out is not None else None,
            batched=batched,
        )[:],
    )
    if got is not None:
        a = ours.map(function, features=out, batched=batched).features
        b_out = hf_features(out) if out is not None else None
        b = theirs.map(function, features=b_out, batched=batched).features
        assert a.to_dict() == b.to_dict()


ITEMS: list[dict[str, Any]] = [
    {"a": "3", "y": "pos", "img": PNG},
    {"a": 2.5},
    {"a": "x"},
    {"a": 2, "new": 3},
    {"a": None, "new": "x", "img": None},
    {"y": "zzz"},
    {"y": -1},
    {"img": PNG_BYTES},
]


@pytest.mark.parametrize("item", ITEMS, ids=[repr(sorted(i)) + str(n) for n, i in enumerate(ITEMS)])
def test_add_item_casts_as_datasets(item: dict[str, Any]) -> None:
    features = cp.Features(
        {"a": cp.Value("int64"), "y": cp.ClassLabel(names=["neg", "pos"]), "img": cp.Image()}
    )
    ours, theirs = _pair({"a": [1], "y": [0], "img": [PNG]}, features)
    for where, a, b in both_ways(ours, theirs):
        got = same_outcome(lambda a=a: a.add_item(item)[:], lambda b=b: b.add_item(item)[:], where)
        if got is not None:
            assert a.add_item(item).features.to_dict() == b.add_item(item).features.to_dict()


def test_add_item_differences_kept() -> None:
    """Listed in docs/migrating-from-datasets.md: images datasets refuses are encoded, an id
    past the last class is an error (datasets stores it), ``{}`` adds a row of nulls
    (datasets adds nothing)."""
    ds = cp.Dataset.from_dict({"img": [PNG]}, features=IMAGE)
    grown = ds.add_item({"img": PIL.Image.new("RGB", (2, 2))})
    grown = grown.add_item({"img": np.zeros((3, 1, 3), dtype=np.uint8)})
    assert [im.size for im in grown["img"]] == [(4, 3), (2, 2), (1, 3)]
    labels = cp.Dataset.from_dict({"y": [0]}, features=LABELS)
    with pytest.raises(ValueError, match="row 1: value 5"):
        labels.add_item({"y": 5})
    assert hf.Dataset.from_dict({"y": [0]}, features=hf_features(LABELS)).add_item({"y": 5})["y"][
        :
    ] == [0, 5]
    assert labels.add_item({})["y"] == [0, None]


@pytest.mark.parametrize(
    "dtype", [np.bool_, np.uint8, np.uint16, np.int8, np.int16, np.int64, np.float16, np.float64]
)
def test_array_dtypes_encode_as_datasets(dtype: Any) -> None:
    array = np.ones((2, 3), dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same_outcome(
            lambda: cp.Dataset.from_dict({"img": [array]}, features=IMAGE)[0]["img"],
            lambda: hf.Dataset.from_dict({"img": [array]}, features=hf_features(IMAGE))[0]["img"],
        )
        same_outcome(
            lambda: cp.Dataset.from_dict({"img": [array]}).cast_column("img", cp.Image())[:],
            lambda: hf.Dataset.from_dict({"img": [array]}).cast_column("img", hf.Image())[:],
        )


def test_from_polars_with_incompatible_features_is_a_type_error() -> None:
    import polars as pl

    frame = pl.DataFrame({"a": [[1, 2]]})
    with pytest.raises(TypeError):
        hf.Dataset.from_polars(frame, features=hf.Features({"a": hf.Value("int64")}))
    with pytest.raises(TypeError, match="'a'") as info:
        cp.Dataset.from_polars(frame, features=cp.Features({"a": cp.Value("int64")}))
    assert isinstance(info.value, cp.errors.FeatureCastError)  # a ValueError as well
    assert_same(
        cp.Dataset.from_polars(frame, features=cp.Features({"a": cp.List(cp.Value("int32"))}))[:],
        hf.Dataset.from_polars(frame, features=hf.Features({"a": hf.List(hf.Value("int32"))}))[:],
    )
