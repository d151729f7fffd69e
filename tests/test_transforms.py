"""Transforms: laziness, pushdown, Python functions, our guarantees where we differ from
``datasets``, constructors, caching and DatasetDict."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crucible_polars as cp


@pytest.fixture
def parquet_ds(tmp_path: Path) -> cp.Dataset:
    path = tmp_path / "train.parquet"
    pl.DataFrame(
        {
            "id": np.arange(1000),
            "text": [f"t{i}" for i in range(1000)],
            "score": np.linspace(0, 1, 1000),
            "flag": [i % 2 == 0 for i in range(1000)],
        }
    ).write_parquet(path)
    ds: cp.Dataset = cp.load_dataset("parquet", data_files=str(path), split="train")
    return ds


class Counter:
    """A function that counts the rows (or batches) it sees."""

    def __init__(self) -> None:
        self.rows = 0
        self.calls = 0

    def __call__(self, batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        self.calls += 1
        self.rows += len(batch["id"])
        return {"double": [2 * i for i in batch["id"]]}


# ------------------------------------------------------------------------------- pushdown
def test_chain_pushes_projection_and_predicate_into_the_scan(parquet_ds: cp.Dataset) -> None:
    ds = (
        parquet_ds.rename_column("text", "body")
        .select_columns(["id", "body"])
        .filter(pl.col("id") >= 10)
        .take(5)
    )
    plan = ds.explain()
    scan = plan[plan.index("Parquet SCAN") :]
    assert "PROJECT 2/4 COLUMNS" in scan
    assert 'SELECTION: col("id") >= 10' in scan
    assert ds.to_dict() == {"id": [10, 11, 12, 13, 14], "body": ["t10", "t11", "t12", "t13", "t14"]}


def test_row_ops_keep_projection_in_the_scan(parquet_ds: cp.Dataset) -> None:
    ds = parquet_ds.shuffle(seed=0).select_columns(["text"]).take(3)
    assert "PROJECT 1/4 COLUMNS" in ds.explain()
    gather = ds.plan.gather
    assert gather is not None and len(gather.indices) == 3  # composed: 3 rows gathered
    perm = np.random.default_rng(0).permutation(1000)[:3]
    assert ds["text"] == [f"t{i}" for i in perm]


def test_map_source_takes_projection_predicate_and_limit(parquet_ds: cp.Dataset) -> None:
    counter = Counter()
    mapped = parquet_ds.map(counter, batched=True, batch_size=100, input_columns=None)
    assert counter.calls == 1  # the first batch, to learn the output types
    out = mapped.select_columns(["double"]).filter(pl.col("double") > 10).take(3)
    plan = out.explain()
    assert "PYTHON[map(Counter)]" in plan and "SELECTION" in plan
    assert out["double"] == [12, 14, 16]
    assert counter.calls < 10  # stops early (Polars may read a batch or two ahead)
    assert mapped.take(5)["double"] == [0, 2, 4, 6, 8] and counter.calls < 20


def test_map_with_input_columns_reads_only_what_it_needs(parquet_ds: cp.Dataset) -> None:
    seen: list[list[str]] = []

    def upper(texts: list[str]) -> dict[str, list[str]]:
        return {"upper": [t.upper() for t in texts]}

    def spy(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        seen.append(list(batch))
        return {}

    mapped = parquet_ds.map(upper, input_columns="text", batched=True)
    assert mapped.select_columns(["upper", "id"]).take(2).to_dict() == {
        "upper": ["T0", "T1"],
        "id": [0, 1],
    }
    parquet_ds.map(spy, batched=True).select_columns(["id"]).take(1).to_dict()
    assert seen[-1] == ["id", "text", "score", "flag"]  # a whole-row function sees every column


# ------------------------------------------------------------------------------ laziness
def test_filter_with_function_is_lazy(parquet_ds: cp.Dataset) -> None:
    calls = Counter()

    def keep(batch: dict[str, list[Any]]) -> list[bool]:
        calls(batch)
        return [i % 100 == 0 for i in batch["id"]]

    ds = parquet_ds.filter(keep, batched=True, batch_size=250)
    assert calls.calls == 0
    assert ds["id"] == list(range(0, 1000, 100))
    assert calls.calls == 4


def test_cache_runs_the_function_once(tmp_path: Path, parquet_ds: cp.Dataset) -> None:
    counter = Counter()
    cached = parquet_ds.map(counter, batched=True).cache()
    seen = counter.rows
    assert cached["double"][:3] == [0, 2, 4] and cached.num_rows == 1000
    assert counter.rows == seen
    on_disk = parquet_ds.take(10).cache(tmp_path / "kept.parquet")
    assert "Parquet SCAN" in on_disk.explain() and on_disk["id"] == list(range(10))


# ---------------------------------------------------------------------- python functions
def test_map_row_and_batch_signatures() -> None:
    ds = cp.Dataset.from_dict({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    assert ds.map(lambda r, i: {"c": r["a"] + i}, with_indices=True)["c"] == [1, 3, 5]
    assert ds.map(lambda a, b: {"c": f"{a}{b}"}, input_columns=["a", "b"])["c"] == [
        "1x",
        "2y",
        "3z",
    ]
    batched = ds.map(
        lambda b, idx, k: {"c": [v * k for v in b["a"]], "i": idx},
        batched=True,
        batch_size=2,
        with_indices=True,
        fn_kwargs={"k": 10},
    )
    assert batched.to_dict() == {
        "a": [1, 2, 3],
        "b": ["x", "y", "z"],
        "c": [10, 20, 30],
        "i": [0, 1, 2],
    }
    assert ds.map(lambda r: None).to_dict() == ds.to_dict()
    assert ds.map().to_dict() == ds.to_dict()
    assert ds.map(lambda b: b, batched=True, drop_last_batch=True, batch_size=2)["a"] == [1, 2]


def test_map_outputs_polars_numpy_and_arrow() -> None:
    import pyarrow as pa

    ds = cp.Dataset.from_dict({"a": [1, 2, 3]})
    as_frame = ds.map(lambda b: pl.DataFrame({"n": b["a"]}), batched=True)
    as_numpy = ds.map(lambda b: {"v": np.ones((len(b["a"]), 2))}, batched=True)
    as_table = ds.map(lambda b: pa.table({"t": b["a"]}), batched=True)
    assert as_frame["n"] == [1, 2, 3]
    assert as_numpy.features["v"] == cp.List(cp.Value("float64")) and as_numpy[0]["v"] == [1, 1]
    assert as_table["t"] == [1, 2, 3]


def test_map_keeps_untouched_columns_and_their_types() -> None:
    ds = cp.Dataset.from_polars(pl.DataFrame({"a": pl.Series([1, 2], dtype=pl.Int16), "b": [1, 2]}))
    seen: list[str] = []

    def add(batch: Any) -> Any:
        batch["c"] = [x + 1 for x in batch["b"]]
        seen.extend(batch.converted)
        return batch

    out = ds.map(add, batched=True)
    assert set(seen) == {"b"}  # "a" was never turned into Python
    assert out.features["a"] == cp.Value("int16") and out.lazy().collect_schema()["a"] == pl.Int16
    assert out.to_dict() == {"a": [1, 2], "b": [1, 2], "c": [2, 3]}


def test_map_with_features_casts_outputs() -> None:
    ds = cp.Dataset.from_dict({"text": ["neg", "pos", "neg"]})
    features = cp.Features(
        {"text": cp.Value("string"), "label": cp.ClassLabel(names=["neg", "pos"])}
    )
    out = ds.map(lambda r: {"label": r["text"]}, features=features)
    assert out.features == features and out["label"] == [0, 1, 0]


def test_map_numpy_format_passes_arrays() -> None:
    ds = cp.Dataset.from_dict({"a": [1, 2, 3]}).with_format("numpy")
    kinds: list[type] = []

    def record(batch: dict[str, Any]) -> dict[str, Any]:
        kinds.append(type(batch["a"]))
        return {"s": batch["a"] * 2}

    assert ds.map(record, batched=True).with_format(None)["s"] == [2, 4, 6]
    assert kinds[0] is np.ndarray


def _png(colour: int) -> PIL.Image.Image:
    buffer = io.BytesIO()
    PIL.Image.new("RGB", (2, 2), (colour, 0, 0)).save(buffer, format="PNG")
    return PIL.Image.open(io.BytesIO(buffer.getvalue()))


def test_map_encodes_images_and_passes_image_columns_through() -> None:
    ds = cp.Dataset.from_dict({"i": [10, 200]}).map(lambda r: {"image": _png(r["i"])})
    assert ds.features["image"] == cp.Image()
    assert ds[1]["image"].getpixel((0, 0)) == (200, 0, 0)
    relabelled = ds.map(lambda r: {"i": r["i"] + 1, "image": r["image"]})
    assert relabelled.features["image"] == cp.Image()
    assert relabelled.lazy().collect()["image"].equals(ds.lazy().collect()["image"])


def test_map_with_python_function_and_expression_agree() -> None:
    ds = cp.Dataset.from_dict({"x": list(range(50))})
    by_python = ds.map(lambda b: {"y": [v * v for v in b["x"]]}, batched=True, batch_size=7)
    by_expression = ds.with_columns(y=pl.col("x") ** 2)
    assert by_python["y"] == by_expression.with_columns(pl.col("y").cast(pl.Int64))["y"]


# ---------------------------------------------------------------- where we differ (props)
@settings(max_examples=30, deadline=None)
@given(st.integers(0, 60), st.integers(0, 2**32 - 1))
def test_shuffle_is_a_deterministic_permutation(n: int, seed: int) -> None:
    ds = cp.Dataset.from_dict({"x": list(range(n))})
    once, again = ds.shuffle(seed=seed)["x"], ds.shuffle(seed=seed)["x"]
    assert once == again and sorted(once) == list(range(n))
    assert once == np.random.default_rng(seed).permutation(n).tolist()


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 40), st.integers(1, 50), st.booleans())
def test_shards_are_disjoint_and_cover(n: int, num_shards: int, contiguous: bool) -> None:
    ds = cp.Dataset.from_dict({"x": list(range(n))})
    shards = [ds.shard(num_shards, i, contiguous=contiguous)["x"] for i in range(num_shards)]
    flat = [x for shard in shards for x in shard]
    assert sorted(flat) == list(range(n))  # more shards than rows: the extra ones are empty
    if contiguous:
        assert flat == list(range(n))


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 60), st.floats(0.05, 0.95), st.integers(0, 1000))
def test_train_test_split_is_disjoint_and_covering(n: int, test_size: float, seed: int) -> None:
    ds = cp.Dataset.from_dict({"x": list(range(n))})
    try:
        dd = ds.train_test_split(test_size=test_size, seed=seed)
    except ValueError:
        return  # too small to split: same error as datasets (tested differentially)
    train, test = dd["train"]["x"], dd["test"]["x"]
    assert not set(train) & set(test) and sorted(train + test) == list(range(n))
    assert dd["test"]["x"] == ds.train_test_split(test_size=test_size, seed=seed)["test"]["x"]


def test_skip_and_take_past_the_end() -> None:
    ds = cp.Dataset.from_dict({"x": [1, 2, 3]})
    assert ds.skip(5).to_list() == [] and len(ds.skip(5)) == 0
    assert ds.take(10)["x"] == [1, 2, 3]
    assert ds.shuffle(seed=1).skip(2).take(5)["x"] == ds.shuffle(seed=1)["x"][2:]


def test_take_and_skip_do_not_count_rows(tmp_path: Path) -> None:
    ds = cp.Dataset.from_polars(pl.LazyFrame({"x": range(10)}))
    assert ds.plan.known_rows() is None
    assert ds.skip(3).take(2)["x"] == [3, 4] and ds.plan.known_rows() is None


# ------------------------------------------------------------------------- constructors
def test_from_generator_and_files(tmp_path: Path) -> None:
    def rows(n: int) -> Any:
        for i in range(n):
            yield {"i": i, "s": str(i)}

    ds = cp.Dataset.from_generator(rows, gen_kwargs={"n": 25}, batch_size=10)
    assert ds.num_rows == 25 and ds["s"][-1] == "24"
    typed = cp.Dataset.from_generator(
        rows, cp.Features({"i": cp.Value("int32"), "s": cp.Value("string")}), gen_kwargs={"n": 2}
    )
    assert typed.features["i"] == cp.Value("int32")
    ds.to_parquet(tmp_path / "a.parquet")
    ds.to_json(tmp_path / "a.jsonl")
    ds.to_csv(tmp_path / "a.csv")
    assert cp.Dataset.from_parquet(str(tmp_path / "a.parquet")).split == "train"
    assert cp.Dataset.from_json(tmp_path / "a.jsonl", split="test").split == "test"
    assert cp.Dataset.from_csv([str(tmp_path / "a.csv")])["i"] == list(range(25))


def test_add_column_and_flatten_and_repeat() -> None:
    ds = cp.Dataset.from_dict({"a": [{"b": 1, "c": "x"}, {"b": 2, "c": "y"}]})
    flat = ds.flatten()
    assert flat.column_names == ["a.b", "a.c"]
    added = flat.add_column("label", ["p", "n"], feature=cp.ClassLabel(names=["n", "p"]))
    assert added["label"] == [1, 0] and added.features["label"] == cp.ClassLabel(names=["n", "p"])
    assert ds.repeat(3).num_rows == 6 and ds.repeat(0).num_rows == 0


def test_to_iterable_dataset_is_a_thin_call() -> None:
    ds = cp.Dataset.from_dict({"a": [1, 2]})
    assert [row["a"] for row in ds.to_iterable_dataset()] == [1, 2]


# ---------------------------------------------------------------------------- DatasetDict
def test_dataset_dict_applies_each_transform_to_every_split() -> None:
    dd = cp.DatasetDict(
        train=cp.Dataset.from_dict({"x": list(range(10)), "y": ["a", "b"] * 5}),
        test=cp.Dataset.from_dict({"x": [10, 11], "y": ["b", "a"]}),
    )
    out = (
        dd.filter(pl.col("x") > 0)
        .map(lambda r: {"z": r["x"] * 2})
        .rename_column("y", "label")
        .class_encode_column("label")
        .sort("x", descending=True)
        .select_columns(["z", "label"])
    )
    assert out.column_names == {"train": ["z", "label"], "test": ["z", "label"]}
    assert out["test"].to_dict() == {"z": [22, 20], "label": [0, 1]}
    shuffled = dd.shuffle(seeds={"train": 1, "test": 2})
    assert shuffled["train"]["x"] == dd["train"].shuffle(seed=1)["x"]
    assert dd.unique("y") == {"train": ["a", "b"], "test": ["b", "a"]}
    assert dd.shard(2, 1).num_rows == {"train": 5, "test": 1}
    assert dd.take(3).skip(1).num_rows == {"train": 2, "test": 1}
    with pytest.raises(AttributeError, match=r"dd\['train'\]\.train_test_split"):
        dd.train_test_split(0.1)
    split = dd["train"].train_test_split(test_size=3, seed=0)
    assert isinstance(split, cp.DatasetDict) and split.num_rows == {"train": 7, "test": 3}


def test_batched_map_reads_only_the_columns_it_used(parquet_ds: cp.Dataset) -> None:
    frames: list[list[str]] = []

    def lengths(batch: Any) -> dict[str, list[int]]:
        frames.append(batch.frame.columns)
        if batch["id"][0] == 500:  # a later batch reads a column the first one did not
            return {
                "n": [
                    len(t) + int(s > 2) for t, s in zip(batch["text"], batch["score"], strict=True)
                ]
            }
        return {"n": [len(t) for t in batch["text"]]}

    mapped = parquet_ds.map(lengths, batched=True, batch_size=100)
    # (asks for "n" too: a query of passed-through columns only does not call the function)
    assert mapped.select_columns(["n", "flag"])[:2]["flag"] == [True, False]
    assert frames[-1] == ["id", "text", "flag"]  # what the function read, and what was asked
    expected = [len(f"t{i}") for i in range(1000)]
    assert mapped.select_columns(["n"])["n"] == expected  # the "score" read was fetched
    assert mapped.to_dict()["n"] == expected and frames[-1] == ["id", "text", "score", "flag"]
