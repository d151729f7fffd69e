"""Every feature type written by ``to_parquet`` and ``save_to_disk`` reads back the same,
with and without ``datasets`` imported (its ArrayXD extension types, once registered with
pyarrow, used to turn Polars' 64-bit list offsets into an invalid table and a segfault).

The property runs in this process and in fresh subprocesses with ``datasets`` imported and
not imported, because pyarrow's extension registry is global to the interpreter.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crucible_polars as cp
from crucible_polars import features as cpf

ROOT = Path(__file__).resolve().parent.parent

SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "int8": st.integers(-128, 127),
    "int16": st.integers(-(2**15), 2**15 - 1),
    "int32": st.integers(-(2**31), 2**31 - 1),
    "int64": st.integers(-(2**63), 2**63 - 1),
    "uint8": st.integers(0, 255),
    "uint32": st.integers(0, 2**32 - 1),
    "float32": st.floats(width=32, allow_nan=False),
    "float64": st.floats(allow_nan=False),
    "bool": st.booleans(),
    "string": st.text(max_size=5),
    "large_string": st.text(max_size=5),
    "binary": st.binary(max_size=5),
    "date32": st.dates(),
    "timestamp[us]": st.datetimes(min_value=dt.datetime(1900, 1, 1)),
}
ARRAY_DTYPES = ["int8", "int32", "int64", "uint8", "float32", "float64", "bool", "string"]
LABELS = ["neg", "neu", "pos"]

Spec = tuple[Any, ...]


def _array_spec(ndims: int) -> st.SearchStrategy[Spec]:
    dims = st.lists(st.integers(1, 3), min_size=ndims, max_size=ndims)
    return st.tuples(st.just("array"), dims, st.sampled_from(ARRAY_DTYPES))


leaf_st: st.SearchStrategy[Spec] = st.one_of(
    st.tuples(st.just("value"), st.sampled_from(sorted(SCALARS))),
    st.just(("classlabel",)),
    st.just(("translation",)),
    *(_array_spec(n) for n in (2, 3, 4, 5)),
)


def _extend(children: st.SearchStrategy[Spec]) -> st.SearchStrategy[Spec]:
    names = st.text(alphabet="abcdef", min_size=1, max_size=3)
    return st.one_of(
        st.tuples(st.just("list"), children, st.sampled_from([-1, -1, 2])),
        st.tuples(st.just("largelist"), children),
        st.tuples(st.just("dict"), st.dictionaries(names, children, min_size=1, max_size=3)),
    )


spec_st = st.recursive(leaf_st, _extend, max_leaves=4)


def build(spec: Spec) -> Any:
    """The feature of ``spec``."""
    kind = spec[0]
    if kind == "value":
        return cpf.Value(spec[1])
    if kind == "classlabel":
        return cpf.ClassLabel(names=LABELS)
    if kind == "translation":
        return cpf.Translation(languages=["en", "fr"])
    if kind == "array":
        return getattr(cpf, f"Array{len(spec[1])}D")(shape=tuple(spec[1]), dtype=spec[2])
    if kind == "list":
        return cpf.List(build(spec[1]), length=spec[2])
    if kind == "largelist":
        return cpf.LargeList(build(spec[1]))
    return {name: build(sub) for name, sub in spec[1].items()}


def values(spec: Spec, nullable: bool = True) -> st.SearchStrategy[Any]:
    """Values of the feature of ``spec`` (``None`` where the column may be null)."""
    kind = spec[0]
    if kind == "value":
        base = SCALARS[spec[1]]
    elif kind == "classlabel":
        base = st.integers(0, len(LABELS) - 1)
    elif kind == "translation":
        base = st.fixed_dictionaries({"en": st.text(max_size=3), "fr": st.text(max_size=3)})
    elif kind == "array":
        inner = SCALARS[spec[2]]
        for size in reversed(spec[1]):
            inner = st.lists(inner, min_size=size, max_size=size)
        base = inner
    elif kind in ("list", "largelist"):
        length = spec[2] if kind == "list" else -1
        sizes = {"min_size": length, "max_size": length} if length >= 0 else {"max_size": 3}
        base = st.lists(values(spec[1]), **sizes)
    else:
        base = st.fixed_dictionaries({name: values(sub) for name, sub in spec[1].items()})
    return st.one_of(st.none(), base) if nullable and kind != "array" else base


@st.composite
def datasets_st(draw: st.DrawFn) -> tuple[cpf.Features, dict[str, list[Any]]]:
    specs = draw(st.dictionaries(st.sampled_from("abcd"), spec_st, min_size=1, max_size=3))
    rows = draw(st.integers(1, 5))
    data = {
        name: draw(st.lists(values(s), min_size=rows, max_size=rows)) for name, s in specs.items()
    }
    return cpf.Features({name: build(s) for name, s in specs.items()}), data


PROPERTY = settings(
    max_examples=int(os.environ.get("CRUCIBLE_ROUNDTRIP_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def check_round_trip(features: cpf.Features, data: dict[str, list[Any]], folder: Path) -> None:
    """``to_parquet`` and ``save_to_disk`` of ``data`` read back equal, as valid Arrow."""
    ds = cp.Dataset.from_dict(data, features=features)
    expected = ds.to_list()
    ds.to_arrow().validate(full=True)

    parquet = folder / "data.parquet"
    ds.to_parquet(parquet)
    loaded = cp.load_dataset("parquet", data_files=str(parquet), split="train")
    assert loaded.features == features
    assert loaded.to_list() == expected
    loaded.to_arrow().validate(full=True)

    for source in (ds, loaded):
        saved = folder / "saved"
        source.save_to_disk(saved, num_shards=2)
        back = cp.load_from_disk(saved)
        assert back.features == features
        assert back.to_list() == expected
        back.to_arrow().validate(full=True)


@PROPERTY
@given(datasets_st())
def test_every_feature_type_round_trips(case: tuple[cpf.Features, dict[str, list[Any]]]) -> None:
    features, data = case
    with tempfile.TemporaryDirectory() as tmp:
        check_round_trip(features, data, Path(tmp))


def _in_subprocess(import_datasets: bool, tmp_path: Path, examples: int = 25) -> None:
    script = "\n".join(
        [
            "import sys, pathlib",
            *(["import datasets"] if import_datasets else []),
            f"assert ('datasets' in sys.modules) is {import_datasets}",
            "import test_save_roundtrip as t",
            "t.test_every_feature_type_round_trips()",
        ]
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
        "HF_HOME": str(tmp_path / "hf"),
        "HF_DATASETS_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
        "CRUCIBLE_ROUNDTRIP_EXAMPLES": str(examples),
    }
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-4000:])


def test_round_trips_with_datasets_imported(tmp_path: Path) -> None:
    _in_subprocess(True, tmp_path)


def test_round_trips_without_datasets_imported(tmp_path: Path) -> None:
    _in_subprocess(False, tmp_path)


_DATASETS_ARRAY2D = """
import sys, pathlib
import datasets
import crucible_polars as cp
folder = pathlib.Path(sys.argv[1])
feats = datasets.Features(
    {"a": datasets.Array2D(shape=(2, 2), dtype="int32"), "b": datasets.Value("int64")}
)
rows = [[[i, i + 1], [i + 2, i + 3]] for i in range(5)]
written = datasets.Dataset.from_dict({"a": rows, "b": list(range(5))}, features=feats)
written.to_parquet(str(folder / "x.parquet"))
ours = cp.load_dataset("parquet", data_files=str(folder / "x.parquet"), split="train")
ours.to_arrow().validate(full=True)
assert ours["a"] == rows, ours["a"]
ours.with_format("pandas")[:2]
for n in (2, 3, 5):
    ours.select(range(n)).save_to_disk(folder / f"saved{n}")
    back = cp.load_from_disk(folder / f"saved{n}")
    assert back["a"] == rows[:n], (n, back["a"])
print("ok")
"""


def test_array2d_written_by_datasets_loads_and_saves(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HOME": str(tmp_path / "hf")}
    proc = subprocess.run(
        [sys.executable, "-c", _DATASETS_ARRAY2D, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), (
        proc.returncode,
        proc.stderr[-4000:],
    )


def test_extension_columns_become_storage_lazily(tmp_path: Path) -> None:
    import polars as pl
    import pyarrow.parquet as pq

    from crucible_polars.features.arrays import Array2DExtensionType
    from crucible_polars.features.storage import has_extension, without_extensions

    storage = pa.array([[[1, 2], [3, 4]], None, [[5, 6], [7, 8]]], pa.list_(pa.list_(pa.int32())))
    column = pa.ExtensionArray.from_storage(Array2DExtensionType((2, 2), "int32"), storage)
    pq.write_table(
        pa.table({"a": column, "s": pa.StructArray.from_arrays([column], ["x"])}),
        tmp_path / "x.parquet",
    )
    lf = pl.scan_parquet(tmp_path / "x.parquet")
    assert any(has_extension(dtype) for dtype in lf.collect_schema().values())
    plain = without_extensions(lf)
    assert isinstance(plain, pl.LazyFrame)
    assert not any(has_extension(dtype) for dtype in plain.collect_schema().values())
    frame = plain.collect()
    assert frame["a"].to_list() == storage.to_pylist()
    assert frame["s"].to_list()[1] == {"x": None}
    assert without_extensions(pl.LazyFrame({"a": [1]})).collect_schema() == {"a": pl.Int64}
