"""Features: the datasets JSON form, Arrow schema + metadata, Polars dtypes, and real files.

Every property is checked against the installed ``datasets`` (imported inside the tests that
need it): the same feature tree built with both libraries must have the same ``to_dict()``,
the same Arrow schema and metadata, and read back the same from each other's schemas.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crucible_polars.features as cpf
from crucible_polars.features import (
    Array2D,
    Array3D,
    Audio,
    ClassLabel,
    Features,
    Image,
    LargeList,
    List,
    Sequence,
    Value,
)

# --------------------------------------------------------------------------------------
# A neutral spec of a feature tree, buildable with either library (same class names).
# --------------------------------------------------------------------------------------

DTYPES = [
    "null",
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    "float",
    "double",
    "string",
    "large_string",
    "utf8",
    "string_view",
    "binary",
    "large_binary",
    "binary_view",
    "date32",
    "date64",
    "time32[s]",
    "time32[ms]",
    "time64[us]",
    "time64[ns]",
    "timestamp[s]",
    "timestamp[ms]",
    "timestamp[us]",
    "timestamp[ns]",
    "timestamp[us, tz=UTC]",
    "timestamp[ms, tz=America/New_York]",
    "timestamp[ns, tz=+01:00]",
    "duration[s]",
    "duration[ms]",
    "duration[us]",
    "duration[ns]",
    "decimal128(10, 2)",
    "decimal128(38, 0)",
    "decimal128(4, -2)",
    "decimal256(40, 6)",
    "fixed_size_binary[4]",
    "month_day_nano_interval",
]
ARRAY_DTYPES = ["int8", "int32", "int64", "uint8", "float32", "float64", "bool", "string"]

names_st = st.text(alphabet="abcdefghij_ ", min_size=1, max_size=6)
labels_st = st.lists(
    st.text(alphabet="abcxyz-", min_size=1, max_size=5), min_size=1, max_size=5, unique=True
)


def _array_spec(ndims: int) -> st.SearchStrategy[tuple[Any, ...]]:
    dims = st.lists(st.integers(1, 3), min_size=ndims - 1, max_size=ndims - 1)
    first = st.one_of(st.none(), st.integers(1, 3))
    return st.tuples(st.just("array"), st.just(ndims), first, dims, st.sampled_from(ARRAY_DTYPES))


leaf_st = st.one_of(
    st.tuples(st.just("value"), st.sampled_from(DTYPES)),
    st.tuples(st.just("classlabel"), labels_st),
    st.tuples(st.just("image"), st.sampled_from([None, "RGB", "L"]), st.booleans()),
    st.tuples(st.just("audio"), st.sampled_from([None, 16000]), st.booleans()),
    st.tuples(st.just("json")),
    st.tuples(
        st.just("translation"),
        st.lists(st.sampled_from(["en", "fr", "de"]), min_size=1, max_size=3, unique=True),
    ),
    _array_spec(2),
    _array_spec(3),
    _array_spec(4),
    _array_spec(5),
)


def _extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    length = st.sampled_from([-1, -1, 1, 2, 3])
    return st.one_of(
        st.tuples(st.just("list"), children, length),
        st.tuples(st.just("largelist"), children),
        st.tuples(st.just("sequence"), children, length),
        st.tuples(st.just("dict"), st.dictionaries(names_st, children, min_size=1, max_size=3)),
    )


spec_st = st.recursive(leaf_st, _extend, max_leaves=6)
features_spec_st = st.dictionaries(names_st, spec_st, min_size=1, max_size=4)


def build(spec: Any, lib: Any) -> Any:
    """Build the feature of ``spec`` with ``lib`` (crucible_polars.features or datasets)."""
    kind = spec[0]
    if kind == "value":
        return lib.Value(spec[1])
    if kind == "classlabel":
        return lib.ClassLabel(names=list(spec[1]))
    if kind == "image":
        return lib.Image(mode=spec[1], decode=spec[2])
    if kind == "audio":
        return lib.Audio(sampling_rate=spec[1], decode=spec[2])
    if kind == "json":
        return lib.Json()
    if kind == "translation":
        return lib.Translation(languages=list(spec[1]))
    if kind == "array":
        _, ndims, first, rest, dtype = spec
        return getattr(lib, f"Array{ndims}D")(shape=(first, *rest), dtype=dtype)
    if kind == "list":
        return lib.List(build(spec[1], lib), length=spec[2])
    if kind == "largelist":
        return lib.LargeList(build(spec[1], lib))
    if kind == "sequence":
        return lib.Sequence(build(spec[1], lib), length=spec[2])
    if kind == "dict":
        return {name: build(sub, lib) for name, sub in spec[1].items()}
    raise AssertionError(spec)


def build_both(spec: dict[str, Any]) -> tuple[Features, Any]:
    import datasets

    ours = Features({name: build(sub, cpf) for name, sub in spec.items()})
    theirs = datasets.Features({name: build(sub, datasets) for name, sub in spec.items()})
    return ours, theirs


PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def strip_extensions(schema: pa.Schema) -> pa.Schema:
    """What pyarrow reads when the ArrayXD extension types are not registered."""

    def strip_field(field: pa.Field) -> pa.Field:
        arrow_type = field.type
        metadata = dict(field.metadata or {})
        if isinstance(arrow_type, pa.ExtensionType) and arrow_type.extension_name.startswith(
            "datasets."
        ):
            metadata[b"ARROW:extension:name"] = arrow_type.extension_name.encode()
            metadata[b"ARROW:extension:metadata"] = arrow_type.__arrow_ext_serialize__()
            arrow_type = arrow_type.storage_type
        if pa.types.is_struct(arrow_type):
            arrow_type = pa.struct(
                [strip_field(arrow_type.field(i)) for i in range(arrow_type.num_fields)]
            )
        elif pa.types.is_large_list(arrow_type):
            arrow_type = pa.large_list(strip_field(arrow_type.value_field))
        elif pa.types.is_fixed_size_list(arrow_type):
            arrow_type = pa.list_(strip_field(arrow_type.value_field), arrow_type.list_size)
        elif pa.types.is_list(arrow_type):
            arrow_type = pa.list_(strip_field(arrow_type.value_field))
        return pa.field(field.name, arrow_type, field.nullable, metadata or None)

    return pa.schema([strip_field(f) for f in schema], metadata=schema.metadata)


def empty_table(schema: pa.Schema) -> pa.Table:
    """An empty table of ``schema`` (``schema.empty_table()`` fails on nested extensions)."""
    return pa.Table.from_arrays([pa.nulls(0, f.type) for f in schema], schema=schema)


def polars_representable(feature: Any) -> bool:
    """Whether ``pl.from_arrow`` reads the feature's Arrow type as plain Polars dtypes."""
    if isinstance(feature, dict):
        return all(polars_representable(f) for f in feature.values())
    if isinstance(feature, (List, LargeList)):
        return polars_representable(feature.feature)
    if isinstance(feature, Value):
        # Polars decimals hold at most 38 digits and no negative scale.
        return (
            feature.dtype != "month_day_nano_interval"
            and "(4, -2)" not in feature.dtype
            and "(40, " not in feature.dtype
        )
    return True


def has_extension(feature: Any) -> bool:
    if isinstance(feature, dict):
        return any(has_extension(f) for f in feature.values())
    if isinstance(feature, (List, LargeList)):
        return has_extension(feature.feature)
    return isinstance(feature, (cpf.Array2D, cpf.Array3D, cpf.Array4D, cpf.Array5D, cpf.Json))


# --------------------------------------------------------------------------------------
# Property tests against datasets
# --------------------------------------------------------------------------------------


@PROPERTY
@given(features_spec_st)
def test_dict_form_matches_datasets_and_round_trips(spec: dict[str, Any]) -> None:
    import datasets

    ours, theirs = build_both(spec)
    as_dict = ours.to_dict()
    assert as_dict == theirs.to_dict()
    assert datasets.Features.from_dict(as_dict).to_dict() == as_dict
    assert Features.from_dict(as_dict) == ours
    assert Features.from_dict(json.loads(json.dumps(as_dict))) == ours
    assert Features(theirs) == ours  # datasets feature objects are accepted as they are
    assert ours.copy() == ours


@PROPERTY
@given(features_spec_st)
def test_arrow_schema_matches_datasets_and_round_trips(spec: dict[str, Any]) -> None:
    import datasets

    ours, theirs = build_both(spec)
    schema = ours.to_arrow_schema()
    assert schema == theirs.arrow_schema
    assert schema.metadata == theirs.arrow_schema.metadata  # byte-identical JSON
    assert Features.from_arrow(schema) == ours
    assert Features.from_arrow(theirs.arrow_schema) == ours
    assert datasets.Features.from_arrow_schema(schema) == theirs
    # Without the metadata, both libraries infer the same features from the Arrow types.
    bare = schema.remove_metadata()
    try:
        inferred = datasets.Features.from_arrow_schema(bare)
    except ValueError:  # datasets cannot infer a Value from month_day_nano_interval
        assert "month_day_nano_interval" in str(bare)
    else:
        assert Features.from_arrow(bare).to_dict() == inferred.to_dict()
    # Unregistered ArrayXD extension types (storage + field metadata) read the same.
    assert Features.from_arrow(strip_extensions(schema)) == ours


@PROPERTY
@given(features_spec_st)
def test_yaml_form_matches_datasets(spec: dict[str, Any]) -> None:
    import datasets

    ours, theirs = build_both(spec)
    yaml_list = ours.to_yaml()
    assert yaml_list == theirs._to_yaml_list()
    assert Features.from_yaml(yaml_list).to_dict() == (
        datasets.Features._from_yaml_list(yaml_list).to_dict()
    )


@PROPERTY
@given(features_spec_st)
def test_polars_dtypes_agree_with_arrow(spec: dict[str, Any]) -> None:
    features = Features({name: build(sub, cpf) for name, sub in spec.items()})
    if not polars_representable(dict(features)):
        return
    empty = pl.from_arrow(empty_table(features.to_arrow_schema()))
    assert isinstance(empty, pl.DataFrame)
    target = features.to_polars()
    for name, feature in features.items():
        if not has_extension(feature):
            assert empty.schema[name] == target[name], name
    # Whatever Polars reads (extension columns included), the cast gives our dtypes.
    cast = cpf.cast_lazyframe(empty.lazy(), features)
    assert cast.collect_schema() == target
    assert cast.collect().schema == target


# --------------------------------------------------------------------------------------
# Types
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_value_accepts_every_datasets_dtype(dtype: str) -> None:
    import datasets

    assert Value(dtype).to_dict() == datasets.Features({"x": datasets.Value(dtype)}).to_dict()["x"]
    assert Value(dtype).to_arrow() == datasets.Value(dtype).pa_type


@pytest.mark.parametrize(
    "dtype", ["json", "int", "timestamp[m]", "time32[us]", "decimal(1, 2)", "list", "schema"]
)
def test_value_rejects_unknown_dtypes(dtype: str) -> None:
    with pytest.raises(ValueError):
        Value(dtype)


def test_class_label_matches_datasets() -> None:
    import datasets

    ours = ClassLabel(names=["neg", "pos"])
    theirs = datasets.ClassLabel(names=["neg", "pos"])
    for values in ["pos", ["neg", " pos ", "1", "-1"]]:
        assert ours.str2int(values) == theirs.str2int(values)
    assert ours.int2str([1, 0]) == theirs.int2str([1, 0])
    assert ours.int2str(1) == "pos"
    for bad in ["cat", "2", "-2"]:
        with pytest.raises(ValueError) as ours_err:
            ours.str2int(bad)
        with pytest.raises(ValueError) as theirs_err:
            theirs.str2int(bad)
        assert str(ours_err.value) == str(theirs_err.value)
    for bad_id in [2, -1]:
        with pytest.raises(ValueError, match=f"Invalid integer class label {bad_id}"):
            ours.int2str(bad_id)
    assert ClassLabel(num_classes=3) == ClassLabel(names=["0", "1", "2"])
    assert ClassLabel(3).num_classes == 3  # datasets' positional num_classes
    assert ours.num_classes == 2
    assert ours.to_polars() == pl.Int64 and ours.to_arrow() == pa.int64()
    with pytest.raises(ValueError):
        ClassLabel(names=["a", "a"])
    with pytest.raises(ValueError):
        ClassLabel(names=["a"], num_classes=2)
    with pytest.raises(ValueError):
        ClassLabel()


def test_class_label_names_file(tmp_path: Path) -> None:
    path = tmp_path / "names.txt"
    path.write_text("cat\n dog \n\nbird\n", encoding="utf-8")
    assert ClassLabel(names_file=str(path)).names == ["cat", "dog", "bird"]


def test_sequence_keeps_the_legacy_meaning() -> None:
    import datasets

    assert Sequence(Value("int32")) == List(Value("int32"))
    assert isinstance(List(Value("int32")), Sequence)
    of_dict = Sequence({"text": Value("string"), "start": Value("int32")}, length=2)
    assert of_dict == {
        "text": List(Value("string"), length=2),
        "start": List(Value("int32"), length=2),
    }
    of_lists = Sequence({"a": List(Value("int8"))})
    assert of_lists == List({"a": List(Value("int8"))})
    # datasets < 4 wrote "_type": "Sequence"; both libraries read it the same way.
    legacy = {
        "answers": {
            "feature": {
                "text": {"dtype": "string", "id": None, "_type": "Value"},
                "answer_start": {"dtype": "int32", "id": None, "_type": "Value"},
            },
            "length": -1,
            "id": None,
            "_type": "Sequence",
        },
        "ids": {
            "feature": {"dtype": "int64", "id": None, "_type": "Value"},
            "length": -1,
            "id": None,
            "_type": "Sequence",
        },
    }
    ours = Features.from_dict(legacy)
    assert ours.to_dict() == datasets.Features.from_dict(legacy).to_dict()
    assert ours["answers"] == {"text": List(Value("string")), "answer_start": List(Value("int32"))}


def test_old_json_forms_are_read() -> None:
    old = {
        "label": {
            "num_classes": 2,
            "names": ["a", "b"],
            "names_file": None,
            "id": None,
            "_type": "ClassLabel",
        },
        "audio": {
            "sampling_rate": 16000,
            "mono": True,
            "decode": True,
            "id": None,
            "_type": "Audio",
        },
        "tokens": [{"dtype": "string", "id": None, "_type": "Value"}],
    }
    assert Features.from_dict(old) == Features(
        {
            "label": ClassLabel(names=["a", "b"]),
            "audio": Audio(sampling_rate=16000),
            "tokens": List(Value("string")),
        }
    )
    with pytest.raises(ValueError, match="Feature type 'Nope' not found"):
        Features.from_dict({"x": {"_type": "Nope"}})


def test_array_types() -> None:
    feature = Array2D(shape=[2, 3], dtype="int32")
    assert feature.shape == (2, 3)
    assert feature.to_polars() == pl.Array(pl.Int32, (2, 3))
    assert Array3D(shape=(None, 2, 2), dtype="uint8").to_polars() == pl.List(
        pl.Array(pl.UInt8, (2, 2))
    )
    storage = feature.to_arrow().storage_type
    assert storage == pa.list_(pa.list_(pa.int32()))
    with pytest.raises(ValueError):
        Array2D(shape=(1, 2, 3), dtype="int32")
    with pytest.raises(ValueError):
        Array2D(shape=(2, None), dtype="int32")


def test_features_helpers() -> None:
    features = Features(
        {
            "img": Image(),
            "label": ClassLabel(names=["a"]),
            "qa": {"q": Value("string"), "a": {"text": List(Value("string"))}},
            "tr": cpf.Translation(languages=["fr", "en"]),
        }
    )
    assert features.image_columns() == ["img"]
    flat = features.flatten()
    assert list(flat) == ["img", "label", "qa.q", "qa.a.text", "tr.en", "tr.fr"]
    assert flat["qa.a.text"] == List(Value("string"))
    assert "Features({" in repr(features) and "ClassLabel(names=['a'])" in repr(features)
    copy = features.copy()
    copy["label"].names.append("b")
    assert features["label"].names == ["a"]
    assert json.loads(features.huggingface_metadata()["huggingface"]) == {
        "info": {"features": features.to_dict()}
    }
    with pytest.raises(TypeError):
        Features({"x": "int64"})
    features["tokens"] = [Value("string")]
    assert features["tokens"] == List(Value("string"))


def test_from_polars() -> None:
    schema = pl.Schema(
        {
            "s": pl.String,
            "b": pl.Binary,
            "i": pl.Int16,
            "u": pl.UInt64,
            "f": pl.Float32,
            "ok": pl.Boolean,
            "d": pl.Date,
            "t": pl.Time,
            "dt": pl.Datetime("ms", "UTC"),
            "dur": pl.Duration("us"),
            "dec": pl.Decimal(10, 2),
            "n": pl.Null,
            "cat": pl.Categorical(),
            "enum": pl.Enum(["x"]),
            "l": pl.List(pl.String),
            "a1": pl.Array(pl.Float32, 4),
            "a2": pl.Array(pl.UInt8, (2, 3)),
            "st": pl.Struct({"x": pl.Int64, "y": pl.List(pl.Struct({"z": pl.String}))}),
        }
    )
    features = Features.from_polars(schema)
    assert features == Features(
        {
            "s": Value("string"),
            "b": Value("binary"),
            "i": Value("int16"),
            "u": Value("uint64"),
            "f": Value("float32"),
            "ok": Value("bool"),
            "d": Value("date32"),
            "t": Value("time64[ns]"),
            "dt": Value("timestamp[ms, tz=UTC]"),
            "dur": Value("duration[us]"),
            "dec": Value("decimal128(10, 2)"),
            "n": Value("null"),
            "cat": Value("string"),
            "enum": Value("string"),
            "l": List(Value("string")),
            "a1": List(Value("float32"), length=4),
            "a2": Array2D(shape=(2, 3), dtype="uint8"),
            "st": {"x": Value("int64"), "y": List({"z": Value("string")})},
        }
    )
    # and back: our Polars schema is the one we started from, where the types agree
    back = features.to_polars()
    for name in ["s", "b", "i", "u", "f", "ok", "d", "dt", "dur", "dec", "l", "a1", "a2", "st"]:
        assert back[name] == schema[name], name
    with pytest.raises(ValueError, match="Int128"):
        Features.from_polars({"x": pl.Int128})


def test_from_arrow_falls_back_per_column() -> None:
    """Unknown feature types and mismatching columns are inferred from the Arrow types."""
    meta = {
        "info": {
            "features": {
                "video": {"decode": True, "_type": "Video"},
                "label": {"names": ["a", "b"], "_type": "ClassLabel"},
                "text": {"dtype": "string", "_type": "Value"},
            }
        }
    }
    schema = pa.schema(
        [
            ("video", pa.struct({"bytes": pa.binary(), "path": pa.string()})),
            ("label", pa.int64()),
            ("text", pa.large_string()),
            ("extra", pa.float32()),
        ],
        metadata={"huggingface": json.dumps(meta)},
    )
    assert Features.from_arrow(schema) == Features(
        {
            "video": {"bytes": Value("binary"), "path": Value("string")},
            "label": ClassLabel(names=["a", "b"]),
            "text": Value("large_string"),  # the column is not `string`: inferred, as datasets does
            "extra": Value("float32"),
        }
    )
    garbled = schema.with_metadata({"huggingface": "not json"})
    assert Features.from_arrow(garbled)["label"] == Value("int64")


# --------------------------------------------------------------------------------------
# Real files written and read by datasets
# --------------------------------------------------------------------------------------


def _datasets_dataset() -> Any:
    import datasets
    import numpy as np
    from PIL import Image as PILImage

    features = datasets.Features(
        {
            "label": datasets.ClassLabel(names=["neg", "pos"]),
            "ids": datasets.Sequence(datasets.Value("int32")),
            "answers": datasets.Sequence(
                {"text": datasets.Value("string"), "start": datasets.Value("int32")}
            ),
            "meta": {
                "source": datasets.Value("string"),
                "scores": {"a": datasets.Value("float64")},
            },
            "image": datasets.Image(),
            "matrix": datasets.Array2D(shape=(2, 3), dtype="float32"),
            "when": datasets.Value("timestamp[ms]"),
        }
    )
    images = [PILImage.new("RGB", (3, 2), (40 * i, 10, 200)) for i in range(3)]
    return datasets.Dataset.from_dict(
        {
            "label": [0, 1, 1],
            "ids": [[1, 2], [], [3]],
            "answers": [
                {"text": ["a"], "start": [1]},
                {"text": [], "start": []},
                {"text": ["b", "c"], "start": [2, 3]},
            ],
            "meta": [{"source": "x", "scores": {"a": 0.5}}] * 3,
            "image": images,
            "matrix": [np.arange(6, dtype="float32").reshape(2, 3) + i for i in range(3)],
            "when": [0, 1000, 2000],
        },
        features=features,
    )


def test_reads_parquet_written_by_datasets(tmp_path: Path) -> None:
    ds = _datasets_dataset()
    path = str(tmp_path / "train.parquet")
    ds.to_parquet(path)
    expected = Features.from_dict(ds.features.to_dict())
    schema = pq.read_schema(path)
    assert Features.from_arrow(schema) == expected
    assert Features.from_arrow(strip_extensions(schema)) == expected
    assert expected.image_columns() == ["image"]

    # and the data casts lazily to our Polars dtypes
    frame = cpf.cast_lazyframe(pl.scan_parquet(path), expected).collect()
    assert frame.schema == expected.to_polars()
    assert frame["label"].to_list() == [0, 1, 1]
    assert frame["matrix"].to_list()[1] == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert frame["answers"].to_list()[2] == {"text": ["b", "c"], "start": [2, 3]}
    assert frame["image"].struct.field("bytes")[0][:4] == b"\x89PNG"


def test_datasets_reads_parquet_we_write(tmp_path: Path) -> None:
    import datasets

    source = tmp_path / "source.parquet"
    ds = _datasets_dataset()
    ds.to_parquet(str(source))
    features = Features.from_arrow(pq.read_schema(source))
    frame = cpf.cast_lazyframe(pl.scan_parquet(source), features).collect()

    path = tmp_path / "ours.parquet"
    table = cpf.cast_arrow_table(frame.to_arrow(), features)
    assert table.schema == features.to_arrow_schema()
    pq.write_table(table, path)

    loaded = datasets.load_dataset("parquet", data_files=str(path), split="train")
    assert loaded.features == datasets.Features.from_dict(features.to_dict())
    assert loaded.features == ds.features
    row = loaded[2]
    assert row["label"] == 1 and row["answers"] == {"text": ["b", "c"], "start": [2, 3]}
    assert row["matrix"] == [[2.0, 3.0, 4.0], [5.0, 6.0, 7.0]]
    assert row["image"].size == (3, 2)


def test_written_schema_alone_round_trips_through_datasets(tmp_path: Path) -> None:
    """A parquet written with just our schema (one row of nulls) loads with our features."""
    import datasets

    features = Features(
        {
            "text": Value("string"),
            "label": ClassLabel(names=["a", "b", "c"]),
            "tags": List(ClassLabel(names=["x", "y"])),
            "emb": List(Value("float32"), length=4),
            "big": LargeList(Value("int64")),
            "img": Image(decode=False),
            "audio": Audio(),
            "cube": Array3D(shape=(None, 2, 2), dtype="int64"),
            "nested": {"a": List({"b": Value("bool")})},
        }
    )
    path = tmp_path / "nulls.parquet"
    schema = features.to_arrow_schema()
    pq.write_table(pa.Table.from_arrays([pa.nulls(1, f.type) for f in schema], schema=schema), path)
    assert Features.from_arrow(pq.read_schema(path)) == features
    loaded = datasets.load_dataset("parquet", data_files=str(path), split="train")
    assert loaded.features == datasets.Features.from_dict(features.to_dict())


def test_without_datasets_imported(tmp_path: Path) -> None:
    """Our own (unregistered) ArrayXD extension type writes files datasets reads."""
    import datasets

    path = tmp_path / "arrays.parquet"
    script = textwrap.dedent(f"""
        import sys
        import polars as pl, pyarrow.parquet as pq
        from crucible_polars.features import Array2D, Features, Value, cast_arrow_table
        from crucible_polars.features import cast_lazyframe
        features = Features({{"m": Array2D(shape=(2, 2), dtype="int32"), "x": Value("string")}})
        lf = pl.LazyFrame({{"m": [[[1, 2], [3, 4]]], "x": ["a"]}})
        table = cast_arrow_table(cast_lazyframe(lf, features).collect().to_arrow(), features)
        pq.write_table(table, {str(path)!r})
        assert Features.from_arrow(pq.read_schema({str(path)!r})) == features
        assert "datasets" not in sys.modules
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, cwd=tmp_path)
    loaded = datasets.load_dataset("parquet", data_files=str(path), split="train")
    assert loaded.features["m"] == datasets.Array2D(shape=(2, 2), dtype="int32")
    assert loaded[0]["m"] == [[1, 2], [3, 4]]
