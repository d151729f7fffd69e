"""cast_lazyframe (lazy, strict) and find_cast_error (where a failed cast went wrong)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crucible_polars.errors import ColumnNotFoundError, FeatureCastError
from crucible_polars.features import (
    Array2D,
    Audio,
    ClassLabel,
    ExtraColumnsError,
    Features,
    Image,
    LargeList,
    List,
    Sequence,
    Value,
    cast_arrow_table,
    cast_lazyframe,
    find_cast_error,
)

LABEL = ClassLabel(names=["neg", "pos"])


def collect_fails(lf: pl.LazyFrame) -> str:
    with pytest.raises(pl.exceptions.PolarsError) as info:
        lf.collect()
    return str(info.value)


def test_strings_to_class_label() -> None:
    lf = pl.LazyFrame(
        {"text": ["a", "b", "c", "d", "e"], "label": ["neg", "pos", " pos ", "1", None]}
    )
    out = cast_lazyframe(lf, Features({"text": Value("string"), "label": LABEL}))
    assert out.collect_schema() == pl.Schema({"text": pl.String, "label": pl.Int64})
    # the same mapping as ClassLabel.str2int (whitespace, numeric strings), nulls kept
    assert out.collect()["label"].to_list() == [0, 1, 1, 1, None]


def test_unknown_label_fails_on_collect_and_is_located() -> None:
    lf = pl.LazyFrame({"text": ["a", "b", "c", "d"], "label": ["neg", "pos", "cat", "dog"]})
    features = Features({"text": Value("string"), "label": LABEL})
    out = cast_lazyframe(lf, features)  # nothing is checked before the collect
    message = collect_fails(out)
    assert "cat" in message and "ClassLabel" in message
    err = find_cast_error(lf, features)
    assert isinstance(err, FeatureCastError)
    assert (err.column, err.row, err.value) == ("label", 2, "cat")
    assert "ClassLabel(names=['neg', 'pos'])" in err.feature
    assert "Column 'label', row 2: value 'cat'" in str(err)


def test_class_label_ids_are_range_checked() -> None:
    features = Features({"label": LABEL})
    ok = pl.LazyFrame({"label": [0, 1, -1, -100, None]})  # negative ids pass, as in datasets
    assert cast_lazyframe(ok, features).collect()["label"].to_list() == [0, 1, -1, -100, None]
    for bad_value in [2, 3]:
        lf = pl.LazyFrame({"label": pl.Series([1, bad_value, 0], dtype=pl.Int32)})
        collect_fails(cast_lazyframe(lf, features))
        err = find_cast_error(lf, features)
        assert err is not None and (err.column, err.row, err.value) == ("label", 1, bad_value)
    floats = pl.LazyFrame({"label": [1.0, 0.5]})
    collect_fails(cast_lazyframe(floats, features))
    err = find_cast_error(floats, features)
    assert err is not None and (err.row, err.value) == (1, 0.5)
    unsigned = pl.LazyFrame({"label": pl.Series([1, 0], dtype=pl.UInt8)})
    assert cast_lazyframe(unsigned, features).collect()["label"].dtype == pl.Int64


def test_categorical_to_class_label() -> None:
    lf = pl.LazyFrame({"label": ["pos", "neg"]}, schema={"label": pl.Categorical()})
    assert cast_lazyframe(lf, Features({"label": LABEL})).collect()["label"].to_list() == [1, 0]


def test_string_that_is_not_a_number() -> None:
    lf = pl.LazyFrame({"n": ["1", "2", "abc", "4"]})
    features = Features({"n": Value("int64")})
    assert "abc" in collect_fails(cast_lazyframe(lf, features))
    err = find_cast_error(lf, features)
    assert err is not None and (err.column, err.row, err.value) == ("n", 2, "abc")
    assert err.feature == "Value('int64')"


@pytest.mark.parametrize(
    ("values", "dtype", "bad_row"),
    [
        ([1.0, 2.5], "int64", 1),  # no silent truncation
        ([1.0, float("nan")], "int32", 1),
        ([1, 300], "int8", 1),  # overflow
        ([1, -1], "uint8", 1),
        (["true", "no"], "bool", 1),
        (["2024-01-02", "yesterday"], "date32", 1),
        ([None, 1], "null", 1),
    ],
)
def test_values_that_do_not_fit(values: list[Any], dtype: str, bad_row: int) -> None:
    lf = pl.LazyFrame({"x": values})
    features = Features({"x": Value(dtype)})
    collect_fails(cast_lazyframe(lf, features))
    err = find_cast_error(lf, features)
    assert err is not None and err.row == bad_row and err.column == "x"


def test_values_that_fit() -> None:
    lf = pl.LazyFrame(
        {
            "i": ["1", "-2"],
            "f": [1, 2],
            "s": [1.5, None],
            "b": ["True", "0"],
            "d": ["2024-01-02", None],
            "ts": ["2024-01-02 03:04:05", "2024-01-02"],
            "n": [None, None],
            "bin": ["ab", "c"],
        }
    )
    features = Features(
        {
            "i": Value("int16"),
            "f": Value("float32"),
            "s": Value("string"),
            "b": Value("bool"),
            "d": Value("date32"),
            "ts": Value("timestamp[ms, tz=UTC]"),
            "n": Value("null"),
            "bin": Value("binary"),
        }
    )
    out = cast_lazyframe(lf, features).collect()
    assert out.schema == features.to_polars()
    assert out.row(0)[:4] == (1, 1.0, "1.5", True)
    assert out["b"].to_list() == [True, False]
    assert out["bin"].to_list() == [b"ab", b"c"]


def test_missing_column_is_an_error_at_once() -> None:
    lf = pl.LazyFrame({"text": ["a"], "lable": ["pos"]})
    with pytest.raises(ColumnNotFoundError) as info:
        cast_lazyframe(lf, Features({"text": Value("string"), "label": LABEL}))
    assert info.value.column == "label"
    assert info.value.available == ["text", "lable"]
    assert "Columns: ['text', 'lable']" in str(info.value)
    assert isinstance(info.value, KeyError)


def test_extra_columns_are_an_error_at_once() -> None:
    lf = pl.LazyFrame({"text": ["a"], "label": ["pos"], "extra": [1]})
    with pytest.raises(ExtraColumnsError) as info:
        cast_lazyframe(lf, Features({"text": Value("string"), "label": LABEL}))
    assert info.value.columns == ["extra"]
    assert isinstance(info.value, ValueError)


def test_impossible_types_are_an_error_at_once() -> None:
    lf = pl.LazyFrame({"x": [[1, 2]]})
    with pytest.raises(FeatureCastError) as info:
        cast_lazyframe(lf, Features({"x": Value("int64")}))
    assert info.value.column == "x" and info.value.row is None
    struct = pl.LazyFrame({"x": [{"a": 1, "zzz": 2}]})
    with pytest.raises(FeatureCastError):
        cast_lazyframe(struct, Features({"x": {"a": Value("int64")}}))
    assert find_cast_error(lf, Features({"x": Value("int64")})) is not None


def test_cast_is_lazy() -> None:
    calls = []

    def spy(series: pl.Series) -> pl.Series:
        calls.append(len(series))
        return series

    lf = pl.LazyFrame({"label": ["pos", "neg"]}).select(
        pl.col("label").map_batches(spy, return_dtype=pl.String)
    )
    out = cast_lazyframe(lf, Features({"label": LABEL}))
    assert calls == []
    assert out.collect()["label"].to_list() == [1, 0]
    assert calls


def test_column_order_follows_features() -> None:
    lf = pl.LazyFrame({"b": [1], "a": ["x"]})
    out = cast_lazyframe(lf, {"a": Value("string"), "b": Value("int32")})
    assert out.collect_schema().names() == ["a", "b"]


def test_nested_structs_and_lists() -> None:
    lf = pl.LazyFrame(
        {
            "x": [
                {"tags": ["pos", "neg"], "k": "1"},
                None,
                {"tags": None, "k": None},
                {"tags": ["pos", "dog"], "k": "2"},
            ]
        }
    )
    features = Features({"x": {"tags": List(LABEL), "k": Value("int32"), "new": Value("string")}})
    out = cast_lazyframe(lf, features)
    assert out.collect_schema() == features.to_polars()
    collect_fails(out)
    err = find_cast_error(lf, features)
    assert err is not None
    assert (err.column, err.row, err.value) == ("x", 3, "dog")
    assert "x.tags[1]" in err.feature

    good = lf.head(3)
    rows = cast_lazyframe(good, features).collect()["x"].to_list()
    assert rows == [
        {"tags": [1, 0], "k": 1, "new": None},
        None,
        {"tags": None, "k": None, "new": None},
    ]


def test_legacy_sequence_of_dict() -> None:
    lf = pl.LazyFrame({"answers": [{"text": ["a", "b"], "start": ["1", "2"]}]})
    features = Features({"answers": Sequence({"text": Value("string"), "start": Value("int32")})})
    out = cast_lazyframe(lf, features).collect()
    assert out["answers"].to_list() == [{"text": ["a", "b"], "start": [1, 2]}]


def test_fixed_length_lists() -> None:
    features = Features({"v": List(Value("float32"), length=3), "w": LargeList(Value("int8"))})
    lf = pl.LazyFrame({"v": [[1, 2, 3], [4, 5, 6]], "w": [[1], []]})
    out = cast_lazyframe(lf, features).collect()
    assert out.schema == pl.Schema({"v": pl.Array(pl.Float32, 3), "w": pl.List(pl.Int8)})
    bad = pl.LazyFrame({"v": [[1, 2, 3], [4, 5]], "w": [[1], []]})
    collect_fails(cast_lazyframe(bad, features))
    err = find_cast_error(bad, features)
    assert err is not None and (err.column, err.row, err.value) == ("v", 1, [4, 5])


def test_array2d() -> None:
    features = Features({"m": Array2D(shape=(2, 2), dtype="float32")})
    lf = pl.LazyFrame({"m": [[[1, 2], [3, 4]], None]})
    out = cast_lazyframe(lf, features).collect()
    assert out.schema["m"] == pl.Array(pl.Float32, (2, 2))
    assert out["m"].to_list() == [[[1.0, 2.0], [3.0, 4.0]], None]
    bad = pl.LazyFrame({"m": [[[1, 2], [3, 4]], [[1, 2], [3]]]})
    collect_fails(cast_lazyframe(bad, features))
    err = find_cast_error(bad, features)
    assert err is not None and (err.row, err.value) == (1, [3])


def test_images_and_audio_from_paths_bytes_and_structs() -> None:
    lf = pl.LazyFrame(
        {
            "a": ["cat.png", None],
            "b": [b"\x89PNG", None],
            "c": [{"path": "x.png"}, {"path": None}],
            "d": ["a.wav", "b.wav"],
        }
    )
    features = Features({"a": Image(), "b": Image(), "c": Image(), "d": Audio()})
    out = cast_lazyframe(lf, features).collect()
    assert out.schema == features.to_polars()
    assert out["a"].to_list() == [{"bytes": None, "path": "cat.png"}, None]
    assert out["b"].to_list() == [{"bytes": b"\x89PNG", "path": None}, None]
    assert out["c"].to_list()[0] == {"bytes": None, "path": "x.png"}
    with pytest.raises(FeatureCastError):
        cast_lazyframe(pl.LazyFrame({"a": [1]}), Features({"a": Image()}))


def test_find_cast_error_is_none_when_the_cast_works() -> None:
    lf = pl.LazyFrame({"label": ["pos"]})
    assert find_cast_error(lf, Features({"label": LABEL})) is None


def test_find_cast_error_in_a_large_frame() -> None:
    n = 200_000
    lf = pl.LazyFrame({"n": pl.int_range(n, eager=True).cast(pl.String)}).with_columns(
        pl.when(pl.int_range(pl.len()) == 123_457)
        .then(pl.lit("oops"))
        .otherwise(pl.col("n"))
        .alias("n")
    )
    err = find_cast_error(lf, Features({"n": Value("int32")}))
    assert err is not None and (err.row, err.value) == (123_457, "oops")


def test_first_failing_row_then_first_failing_column() -> None:
    lf = pl.LazyFrame({"a": ["1", "2", "x"], "b": ["1", "y", "z"]})
    err = find_cast_error(lf, Features({"a": Value("int8"), "b": Value("int8")}))
    assert err is not None and (err.column, err.row, err.value) == ("b", 1, "y")


def test_parquet_scan_and_arrow_table(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    pl.DataFrame({"text": ["a", "b"], "label": ["pos", "neg"]}).write_parquet(path)
    features = Features({"text": Value("string"), "label": LABEL})
    frame = cast_lazyframe(pl.scan_parquet(path), features).collect()
    table = cast_arrow_table(frame.to_arrow(), features)
    assert table.schema == features.to_arrow_schema()
    assert Features.from_arrow(table.schema) == features


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(
        st.text(alphabet="abc", min_size=1, max_size=3), min_size=1, max_size=4, unique=True
    ),
    values=st.lists(
        st.one_of(st.none(), st.text(alphabet="abcd", min_size=1, max_size=3)), max_size=30
    ),
)
def test_class_label_cast_matches_str2int(names: list[str], values: list[str | None]) -> None:
    """The lazy cast fails exactly where ``str2int`` raises, and find_cast_error says where."""
    label = ClassLabel(names=names)
    expected: list[int | None] = []
    first_bad = None
    for i, value in enumerate(values):
        try:
            expected.append(None if value is None else label.str2int(value))
        except ValueError:
            if first_bad is None:
                first_bad = i
    lf = pl.LazyFrame({"label": pl.Series(values, dtype=pl.String)})
    features = Features({"label": label})
    out = cast_lazyframe(lf, features)
    if first_bad is None:
        assert out.collect()["label"].to_list() == expected
        assert find_cast_error(lf, features) is None
    else:
        collect_fails(out)
        err = find_cast_error(lf, features)
        assert err is not None and (err.row, err.value) == (first_bad, values[first_bad])
