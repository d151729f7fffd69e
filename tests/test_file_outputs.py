"""``to_parquet`` / ``to_json`` / ``to_csv`` against ``datasets`` 5 (issue 12): fsspec URLs
(``memory://``, ``file://``) with ``storage_options``, written whole or not at all, the same
bytes as a local write; compression as ``datasets`` applies it; nested columns in CSV written
byte for byte as ``datasets`` writes them (Python / NumPy text, hypothesis-generated
features, in memory and after ``save_to_disk``); the signatures and every keyword option
(pandas' names honoured, unknown names a ``TypeError`` naming them)."""

from __future__ import annotations

import bz2
import csv
import datetime
import gzip
import inspect
import io
import logging
import os
import sys
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import datasets as hf
import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fsspec.implementations.memory import MemoryFileSystem
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crucible_polars as cp
from crucible_polars.csv_output import cell_texts
from crucible_polars.features import Json

sys.path.insert(0, str(Path(__file__).resolve().parent))
from parity_oracle import hf_features, saved_pair

METHODS = ("to_parquet", "to_json", "to_csv")
ROWS: dict[str, list[Any]] = {
    "id": [0, 1, 2],
    "text": ["a", 'b,"q"', None],
    "flag": [True, None, False],
    "values": [[1, 2], None, []],
    "meta": [{"k": 1.5, "tags": ["x"]}, None, {"k": None, "tags": []}],
}


def _pair(
    data: dict[str, list[Any]] = ROWS, features: cp.Features | None = None
) -> tuple[cp.Dataset, hf.Dataset]:
    theirs_features = None if features is None else hf_features(features)
    return (
        cp.Dataset.from_dict(data, features=features),
        hf.Dataset.from_dict(data, features=theirs_features),
    )


def _written(write: Callable[[io.BytesIO], int]) -> tuple[int, bytes]:
    buffer = io.BytesIO()
    count = write(buffer)
    return count, buffer.getvalue()


def _memory() -> MemoryFileSystem:
    return fsspec.filesystem("memory")


# --------------------------------------------------------------------------------------
# signatures
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_signatures_are_datasets(method: str) -> None:
    def shape(function: Any) -> list[tuple[str, Any, Any]]:
        params = inspect.signature(function).parameters.values()
        return [(p.name, p.kind, p.default) for p in params]

    ours, theirs = shape(getattr(cp.Dataset, method)), shape(getattr(hf.Dataset, method))
    assert [p[1:] for p in ours] == [p[1:] for p in theirs]
    # the names, but **kwargs may be named otherwise
    assert [p[0] for p in ours][:-1] == [p[0] for p in theirs][:-1]


# --------------------------------------------------------------------------------------
# fsspec URLs
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("scheme", ["memory", "file"])
def test_urls_write_what_a_local_path_writes(method: str, scheme: str, tmp_path: Path) -> None:
    ours, theirs = _pair()
    name = {"to_parquet": "a.parquet", "to_json": "a.jsonl", "to_csv": "a.csv"}[method]
    if scheme == "memory":
        root = f"memory://outputs-{uuid.uuid4().hex[:8]}/sub"
        read: Callable[[str], bytes] = lambda url: _memory().cat(url.removeprefix("memory:/"))  # noqa: E731
    else:
        root = f"file://{tmp_path}/sub"
        read = lambda url: Path(url.removeprefix("file://")).read_bytes()  # noqa: E731
    ours_count = getattr(ours, method)(f"{root}/ours/{name}")
    theirs_count = getattr(theirs, method)(f"{root}/theirs/{name}")
    local = tmp_path / name
    assert getattr(ours, method)(str(local)) == ours_count
    assert read(f"{root}/ours/{name}") == local.read_bytes()
    assert ours_count == len(local.read_bytes())
    if method == "to_parquet":  # datasets reads ours back the same; it counts Arrow bytes
        back = hf.Dataset.from_parquet(f"{root}/ours/{name}")
        assert back.features == theirs.features
        assert back.to_list() == theirs.to_list()
    else:
        assert read(f"{root}/ours/{name}") == read(f"{root}/theirs/{name}")
        assert ours_count == theirs_count
    if scheme == "memory":  # no temporary sibling left behind
        assert not [p for p in _memory().find(root.removeprefix("memory:/")) if ".tmp" in p]


class RecordingFileSystem(MemoryFileSystem):
    """A memory file system that remembers the options it was made with."""

    protocol = "recording"
    made_with: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        RecordingFileSystem.made_with.append(dict(kwargs))
        super().__init__(*args, **kwargs)

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        return str(MemoryFileSystem._strip_protocol(path.removeprefix("recording://")))


@pytest.mark.parametrize("method", METHODS)
def test_storage_options_reach_the_file_system(method: str) -> None:
    fsspec.register_implementation("recording", RecordingFileSystem, clobber=True)
    ours, theirs = _pair()
    for library, dataset in (("ours", ours), ("theirs", theirs)):
        marker = uuid.uuid4().hex
        url = f"recording://storage-{marker}/{library}.out"
        getattr(dataset, method)(url, storage_options={"marker": marker})
        assert {"marker": marker} in RecordingFileSystem.made_with, library
        assert _memory().exists(f"/storage-{marker}/{library}.out")
    with pytest.raises(ValueError, match="local path"):
        getattr(ours, method)("/tmp/x.out", storage_options={"auto_mkdir": True})


@pytest.mark.parametrize("method", METHODS)
def test_a_failed_write_leaves_the_old_file(method: str) -> None:
    root = f"/failed-{uuid.uuid4().hex[:8]}"
    _memory().pipe(f"{root}/out", b"old")

    def boom(row: dict[str, Any]) -> dict[str, Any]:
        if row["id"] == 1500:
            raise RuntimeError("boom")
        return row

    failing = cp.Dataset.from_dict({"id": list(range(3000))}).map(boom)
    with pytest.raises(RuntimeError, match="boom"):
        getattr(failing, method)(f"memory:/{root}/out", batch_size=100)
    assert _memory().cat(f"{root}/out") == b"old"
    assert _memory().ls(root, detail=False) == [f"{root}/out"]


def test_bytes_paths(tmp_path: Path) -> None:
    """``datasets`` declares ``bytes`` paths (and fails on them in ``fsspec``)."""
    ours, theirs = _pair()
    assert ours.to_csv(os.fsencode(tmp_path / "a.csv")) == len((tmp_path / "a.csv").read_bytes())
    assert (tmp_path / "a.csv").read_bytes() == _written(theirs.to_csv)[1]


# --------------------------------------------------------------------------------------
# compression
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["path", "memory"])
def test_to_json_compression_as_datasets(where: str, tmp_path: Path) -> None:
    ours, theirs = _pair()
    root = str(tmp_path) if where == "path" else f"memory://json-gz-{uuid.uuid4().hex[:8]}"
    fs = fsspec.core.url_to_fs(root)[0]
    for name, options, opener in (
        ("a.jsonl.gz", {}, gzip.decompress),  # inferred from the extension
        ("b.jsonl", {"compression": "bz2"}, bz2.decompress),
        ("c.jsonl.gz", {"compression": None}, lambda b: b),
    ):
        count = ours.to_json(f"{root}/ours-{name}", **options)
        assert count == theirs.to_json(f"{root}/theirs-{name}", **options)
        ours_text = opener(fs.cat(fsspec.core.url_to_fs(f"{root}/ours-{name}")[1]))
        theirs_text = opener(fs.cat(fsspec.core.url_to_fs(f"{root}/theirs-{name}")[1]))
        assert ours_text == theirs_text and len(ours_text) == count
    for dataset in (ours, theirs):
        with pytest.raises(NotImplementedError, match="compression"):
            dataset.to_json(io.BytesIO(), compression="gzip")
        with pytest.raises(NotImplementedError, match="zip"):
            dataset.to_json(f"{root}/x.jsonl", compression="zip")


def test_to_csv_compression(tmp_path: Path) -> None:
    ours, theirs = _pair()
    plain = _written(theirs.to_csv)[1]
    assert ours.to_csv(tmp_path / "a.csv.gz") == len(plain)  # as datasets: no inference
    assert (tmp_path / "a.csv.gz").read_bytes() == plain
    assert ours.to_csv(tmp_path / "b.csv", compression="gzip") == len(plain)  # honoured here
    assert gzip.decompress((tmp_path / "b.csv").read_bytes()) == plain
    assert ours.to_csv(tmp_path / "c.csv.xz", compression="infer") == len(plain)
    with pytest.raises(NotImplementedError, match="compression"):
        ours.to_csv(io.BytesIO(), compression="gzip")


# --------------------------------------------------------------------------------------
# CSV of nested columns: byte for byte
# --------------------------------------------------------------------------------------


def _csv_pair(ours: cp.Dataset, theirs: hf.Dataset, **options: Any) -> None:
    ours_written = _written(lambda b: ours.to_csv(b, **options))
    assert ours_written == _written(lambda b: theirs.to_csv(b, **options))


@pytest.mark.parametrize(
    ("data", "features"),
    [
        (ROWS, None),
        ({"a": [[[1.5, 2]], [[3]], None], "t": [["a", "b"], ["c,d", '"q"'], [None]]}, None),
        ({"a": [[[1, None]], [[2]]]}, None),
        ({"a": [list(range(30)), list(range(1001))]}, None),
        ({"s": [{"a": {"b": [1, 2]}, "c": [[1.5]]}, {"a": None, "c": None}]}, None),
        ({"l": [[True, None], [None]], "ls": [[{"a": 1}], [{"a": None}]]}, None),
        (
            {
                "t": [[datetime.datetime(2020, 1, 2, 3)], None],
                "d": [[datetime.date(2020, 1, 2)], []],
            },
            None,
        ),
        ({"m": [[[1, 2], [3, 4]], None]}, cp.Features({"m": cp.Array2D((2, 2), "int32")})),
        (
            {"m": [[[1.5, float("nan")]], [[5, 6]]]},
            cp.Features({"m": cp.Array2D((1, 2), "float32")}),
        ),
        ({"m": [[[1, 2]], [[5, 6], [7, 8]]]}, cp.Features({"m": cp.Array2D((None, 2), "int32")})),
        ({"l": [[1, 2], None]}, cp.Features({"l": cp.List(cp.Value("int32"), length=2)})),
        (
            {"l": [[0, 1], []], "c": [1, None]},
            cp.Features(
                {
                    "l": cp.List(cp.ClassLabel(names=["a", "b"])),
                    "c": cp.ClassLabel(names=["a", "b"]),
                }
            ),
        ),
        (
            {"j": [[1, "x"], [{"k": [1]}, None]], "t": [-1, "y"]},
            cp.Features({"j": cp.List(Json()), "t": Json()}),
        ),
        ({"s": ["a", None, ""]}, None),
        ({"a": []}, cp.Features({"a": cp.List(cp.Value("int64"))})),
    ],
    ids=lambda value: "",
)
def test_nested_csv_is_byte_for_byte_datasets(
    data: dict[str, list[Any]], features: cp.Features | None, tmp_path: Path
) -> None:
    ours, theirs = _pair(data, features)
    _csv_pair(ours, theirs)
    _csv_pair(ours, theirs, batch_size=1)  # NumPy's dtypes are chosen batch by batch
    ours.to_csv(tmp_path / "a.csv")  # a local path (Polars' sink where it can) writes the same
    assert (tmp_path / "a.csv").read_bytes() == _written(theirs.to_csv)[1]


def test_nested_csv_after_save_and_shuffle() -> None:
    ours, theirs = _pair()
    _csv_pair(*saved_pair(ours, theirs))
    _csv_pair(ours.shuffle(seed=1), theirs.shuffle(seed=1))


def test_images_in_csv_are_written_as_datasets_writes_them(tmp_path: Path) -> None:
    import PIL.Image

    path = str(tmp_path / "a.png")
    PIL.Image.new("RGB", (2, 2), (10, 20, 30)).save(path)
    data: dict[str, list[Any]] = {"image": [path, None]}
    _csv_pair(*_pair(data, cp.Features({"image": cp.Image()})))


def test_shortened_arrays_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    ds = cp.Dataset.from_dict({"long": [list(range(1001))], "short": [[1]]})
    with caplog.at_level(logging.WARNING, logger="crucible_polars"):
        ds.to_csv(io.BytesIO())
    assert "'long'" in caplog.text and "to_json or to_parquet" in caplog.text
    assert "'short'" not in caplog.text


# Nested features, generated: each a (crucible feature, value strategy) pair.
_LEAVES = [
    (cp.Value("int64"), st.integers(-(2**40), 2**40)),
    (cp.Value("int32"), st.integers(-(2**31), 2**31 - 1)),
    (cp.Value("float64"), st.floats(allow_nan=False, allow_infinity=False)),
    (cp.Value("float32"), st.floats(allow_nan=False, allow_infinity=False, width=32)),
    (cp.Value("bool"), st.booleans()),
    (cp.Value("string"), st.text(max_size=6)),
]


def _nullable(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), values)


def _extend(inner: st.SearchStrategy[tuple[Any, Any]]) -> st.SearchStrategy[tuple[Any, Any]]:
    def listed(pair: tuple[Any, Any]) -> tuple[Any, Any]:
        return cp.List(pair[0]), st.lists(_nullable(pair[1]), max_size=4)

    def fixed(pair: tuple[Any, Any]) -> tuple[Any, Any]:
        return cp.List(pair[0], length=2), st.lists(_nullable(pair[1]), min_size=2, max_size=2)

    def struct(pairs: list[tuple[Any, Any]]) -> tuple[Any, Any]:
        names = [f"f{i}" for i in range(len(pairs))]
        feature = {name: pair[0] for name, pair in zip(names, pairs, strict=True)}
        values = st.fixed_dictionaries(
            {name: _nullable(pair[1]) for name, pair in zip(names, pairs, strict=True)}
        )
        return feature, values

    return st.one_of(
        inner.map(listed), inner.map(fixed), st.lists(inner, min_size=1, max_size=3).map(struct)
    )


_NESTED = _extend(st.recursive(st.sampled_from(_LEAVES), _extend, max_leaves=4))


@st.composite
def _nested_datasets(draw: st.DrawFn) -> tuple[cp.Features, dict[str, list[Any]]]:
    columns = draw(st.lists(_NESTED, min_size=1, max_size=2))
    rows = draw(st.integers(1, 5))
    data: dict[str, list[Any]] = {"id": list(range(rows))}
    features = {"id": cp.Value("int64")}
    for index, (feature, values) in enumerate(columns):
        features[f"c{index}"] = feature
        data[f"c{index}"] = draw(st.lists(_nullable(values), min_size=rows, max_size=rows))
    return cp.Features(features), data


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(_nested_datasets(), st.sampled_from([None, 2]))
def test_generated_nested_csv_is_datasets(
    generated: tuple[cp.Features, dict[str, list[Any]]], batch_size: int | None
) -> None:
    features, data = generated
    _csv_pair(*_pair(data, features), batch_size=batch_size)


_ARROW_LEAVES = [
    pa.int8(), pa.int64(), pa.uint16(), pa.float16(), pa.float32(), pa.float64(), pa.bool_(),
    pa.string(), pa.large_string(), pa.binary(), pa.null(), pa.date32(), pa.timestamp("us"),
    pa.duration("us"), pa.time64("us"), pa.decimal128(5, 2),
]  # fmt: skip


def _arrow_values(kind: pa.DataType) -> st.SearchStrategy[Any]:
    if pa.types.is_integer(kind):
        return st.integers(0 if pa.types.is_unsigned_integer(kind) else -100, 100)
    if pa.types.is_floating(kind):
        width = {pa.float16(): 16, pa.float32(): 32}.get(kind, 64)
        return st.floats(allow_nan=False, width=width)  # type: ignore[arg-type]
    simple: dict[Callable[[pa.DataType], bool], st.SearchStrategy[Any]] = {
        pa.types.is_boolean: st.booleans(),
        pa.types.is_string: st.text(max_size=4),
        pa.types.is_large_string: st.text(max_size=4),
        pa.types.is_binary: st.binary(max_size=4),
        pa.types.is_null: st.none(),
        pa.types.is_date: st.dates(),
        pa.types.is_timestamp: st.datetimes(
            datetime.datetime(1970, 1, 1), datetime.datetime(2100, 1, 1)
        ),
        pa.types.is_duration: st.timedeltas(datetime.timedelta(0), datetime.timedelta(days=999)),
        pa.types.is_time: st.times(),
        pa.types.is_decimal: st.decimals(-999, 999, places=2),
    }
    for test, values in simple.items():
        if test(kind):
            return values
    if pa.types.is_fixed_size_list(kind):
        item = _nullable(_arrow_values(kind.value_type))
        return st.lists(item, min_size=kind.list_size, max_size=kind.list_size)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return st.lists(_nullable(_arrow_values(kind.value_type)), max_size=4)
    fields = {
        kind.field(i).name: _nullable(_arrow_values(kind.field(i).type))
        for i in range(kind.num_fields)
    }
    return st.fixed_dictionaries(fields)


def _arrow_nested(inner: st.SearchStrategy[pa.DataType]) -> st.SearchStrategy[pa.DataType]:
    return st.one_of(
        inner.map(pa.list_),
        inner.map(pa.large_list),
        inner.map(lambda t: pa.list_(t, 2)),
        st.lists(inner, min_size=1, max_size=3).map(
            lambda ts: pa.struct([(f"f{i}", t) for i, t in enumerate(ts)])
        ),
    )


# nested at the top: the columns cell_texts writes (plain ones are Polars')
_ARROW_TYPES = _arrow_nested(
    st.recursive(st.sampled_from(_ARROW_LEAVES), _arrow_nested, max_leaves=4)
)


@st.composite
def _arrow_columns(draw: st.DrawFn) -> pa.Array:
    kind = draw(_ARROW_TYPES)
    values = draw(st.lists(_nullable(_arrow_values(kind)), min_size=1, max_size=6))
    return pa.array(values, kind).slice(draw(st.integers(0, len(values) - 1)))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(_arrow_columns())
def test_cell_texts_are_pandas_values(column: pa.Array) -> None:
    """Every Arrow type, sliced: the text of what pandas holds after ``datasets``'
    ``to_pandas(integer_object_nulls=True)``."""
    held = pa.table({"c": column}).to_pandas(integer_object_nulls=True)["c"]
    assert cell_texts(column) == [None if value is None else str(value) for value in held]


# --------------------------------------------------------------------------------------
# keyword options
# --------------------------------------------------------------------------------------

PLAIN: dict[str, list[Any]] = {"a": [1, 2], "b": [None, "x"], "f": [1.23456, None]}


@pytest.mark.parametrize(
    "options",
    [
        {"sep": ";"},
        {"na_rep": "NA"},
        {"header": False},
        {"header": ["x", "y", "z"]},
        {"columns": ["f", "a"]},
        {"columns": ["b"]},
        {"columns": ["a", "b"], "header": ["p", "q"], "sep": "|"},
        {"quoting": csv.QUOTE_MINIMAL},
        {"quoting": csv.QUOTE_ALL},
        {"quoting": csv.QUOTE_NONNUMERIC},
        {"quoting": csv.QUOTE_NONE},
        {"quotechar": "'"},
        {"lineterminator": "\r\n"},
        {"float_format": "%.2f"},
        {"index": False, "encoding": "utf-8", "mode": "w", "decimal": ".", "errors": "strict"},
    ],
    ids=repr,
)
def test_to_csv_takes_pandas_options_as_datasets(options: dict[str, Any]) -> None:
    _csv_pair(*_pair(PLAIN), **options)


def test_to_csv_options_refused() -> None:
    ours = cp.Dataset.from_dict(PLAIN)
    with pytest.raises(TypeError, match="not_an_option"):
        ours.to_csv(io.BytesIO(), not_an_option=1)
    with pytest.raises(TypeError, match="maintain_order"):  # Polars' sink options: not passed on
        ours.to_csv(io.BytesIO(), maintain_order=False)
    for refused in ({"index": True}, {"encoding": "latin-1"}, {"mode": "a"}, {"chunksize": 1}):
        with pytest.raises(NotImplementedError, match=next(iter(refused))):
            ours.to_csv(io.BytesIO(), **refused)
    with pytest.raises(NotImplementedError, match="float_format"):
        ours.to_csv(io.BytesIO(), float_format="%.2e")
    with pytest.raises(KeyError, match="nope"):
        ours.to_csv(io.BytesIO(), columns=["a", "nope"])
    with pytest.raises(ValueError, match="aliases"):
        ours.to_csv(io.BytesIO(), header=["x"])
    for dataset in _pair(PLAIN):
        with pytest.raises(ValueError, match="num_proc"):
            dataset.to_csv(io.BytesIO(), num_proc=0)


def test_to_csv_polars_options_still_apply() -> None:
    ours = cp.Dataset.from_dict(PLAIN)
    assert _written(lambda b: ours.to_csv(b, separator="|", null_value="-"))[1] == (
        b"a|b|f\n1|-|1.23456\n2|x|-\n"
    )


def test_to_json_options() -> None:
    ours, theirs = _pair(PLAIN)
    for options in ({"index": False}, {"mode": "w"}, {"orient": "records", "lines": True}):
        assert _written(partial(ours.to_json, **options)) == _written(
            partial(theirs.to_json, **options)
        )
    with pytest.raises(TypeError, match="not_an_option"):
        ours.to_json(io.BytesIO(), not_an_option=1)
    for refused in ({"indent": 2}, {"date_format": "iso"}, {"double_precision": 3}, {"mode": "a"}):
        with pytest.raises(NotImplementedError, match=next(iter(refused))):
            ours.to_json(io.BytesIO(), **refused)
    for dataset in (ours, theirs):
        with pytest.raises(ValueError, match="index=True"):
            dataset.to_json(io.BytesIO(), index=True)


def test_to_parquet_options_reach_the_writer(tmp_path: Path) -> None:
    ours, theirs = _pair()
    ours.to_parquet(tmp_path / "default.parquet")
    theirs.to_parquet(str(tmp_path / "theirs.parquet"))
    ours_meta = pq.ParquetFile(tmp_path / "default.parquet").metadata
    theirs_meta = pq.ParquetFile(tmp_path / "theirs.parquet").metadata
    key = b"content_defined_chunking"  # datasets' defaults: content-defined chunking, page index
    assert ours_meta.metadata[key] == theirs_meta.metadata[key]
    assert ours_meta.row_group(0).column(0).has_offset_index
    ours.to_parquet(tmp_path / "snappy.parquet", compression="snappy", use_dictionary=False)
    column = pq.ParquetFile(tmp_path / "snappy.parquet").metadata.row_group(0).column(0)
    assert column.compression == "SNAPPY" and not column.has_dictionary_page
    ours.to_parquet(tmp_path / "plain.parquet", use_content_defined_chunking=False)
    assert key not in pq.ParquetFile(tmp_path / "plain.parquet").metadata.metadata
    for dataset in (ours, theirs):
        with pytest.raises(TypeError, match="not_an_option"):
            dataset.to_parquet(io.BytesIO(), not_an_option=1)


@pytest.mark.parametrize("method", ["to_json", "to_csv"])
def test_no_rows(method: str) -> None:
    ours, theirs = _pair(
        {"a": [], "b": []}, cp.Features({"a": cp.Value("int64"), "b": cp.List(cp.Value("string"))})
    )
    assert _written(getattr(ours, method)) == _written(getattr(theirs, method))
