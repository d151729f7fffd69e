"""Ray Data from our plans: the same rows and Features as ``to_polars()``, one read task per
file, row groups pruned inside the tasks, and the round trip through ``from_ray``.

Ray runs locally (``ray.init(num_cpus=2)``, no dashboard, a small object store), once per
test process; the tests that need it skip with the reason when Ray cannot start. The plan
splitting itself (:mod:`crucible_polars.integrations.per_file`) is tested without Ray.
"""

from __future__ import annotations

import importlib
import io
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

import crucible_polars as cp
from crucible_polars.errors import SchemaMismatchError
from crucible_polars.features import ClassLabel, Features, Value
from crucible_polars.integrations.per_file import read_units, split_per_file
from crucible_polars.integrations.ray_data import (
    DriverReadWarning,
    HubAccess,
    file_read_tasks,
    import_ray,
    read_file_blocks,
    worker_path,
)

LABELS = Features(
    {"id": Value("int64"), "text": Value("string"), "label": ClassLabel(names=["neg", "pos"])}
)


def _parquet_bytes(frame: pl.DataFrame, features: Features, row_group_size: int = 1000) -> bytes:
    table = frame.to_arrow().cast(features.to_arrow_schema())
    out = io.BytesIO()
    pq.write_table(table, out, row_group_size=row_group_size)
    return out.getvalue()


def _rows(n: int, start: int = 0) -> pl.DataFrame:
    ids = list(range(start, start + n))
    return pl.DataFrame(
        {"id": ids, "text": [f"row {i}" for i in ids], "label": [i % 2 for i in ids]}
    )


@pytest.fixture(scope="module")
def parquet_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ray-parquet")
    (folder / "data").mkdir()
    for i in range(3):
        (folder / "data" / f"train-{i}.parquet").write_bytes(
            _parquet_bytes(_rows(50, 50 * i), LABELS)
        )
    (folder / "data" / "test-0.parquet").write_bytes(_parquet_bytes(_rows(20, 1000), LABELS))
    return folder


@pytest.fixture(scope="module")
def jsonl_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ray-jsonl")
    for i in range(2):
        (folder / f"train-{i}.jsonl").write_text(_rows(30, 30 * i).write_ndjson())
    return folder


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ray-images")
    for label in ("cat", "dog"):
        (folder / "train" / label).mkdir(parents=True)
        for i in range(3):
            color = (40 * i, 100 if label == "cat" else 200, 7)
            Image.new("RGB", (4, 3), color).save(folder / "train" / label / f"{i}.png")
    return folder


@pytest.fixture(scope="session")
def ray_local() -> Iterator[Any]:
    """A local Ray (2 CPUs, no dashboard, 128 MB object store), order-preserving."""
    try:
        ray = import_ray()
    except ImportError as error:
        pytest.skip(f"Ray Data is not installed: {error}")
    started = False
    if not ray.is_initialized():
        try:
            ray.init(
                num_cpus=2,
                include_dashboard=False,
                object_store_memory=128 * 1024**2,
                log_to_driver=False,
                configure_logging=False,
            )
        except Exception as error:  # pragma: no cover - a machine where Ray cannot start
            pytest.skip(f"Ray cannot start here: {error!r}")
        started = True
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    yield ray
    if started:
        ray.shutdown()


def _same(ray_ds: Any, ds: cp.Dataset) -> None:
    """The Ray dataset holds ds's rows, in order, with ds's Features in its metadata."""
    back = cp.Dataset.from_ray(ray_ds)
    assert back.features == ds.features
    assert back.to_polars().equals(ds.to_polars())


# ------------------------------------------------------------------ without Ray


def test_importing_the_package_does_not_import_ray() -> None:
    code = "import sys, crucible_polars; assert 'ray' not in sys.modules, 'ray imported'"
    subprocess.run([sys.executable, "-c", code], check=True, env=os.environ.copy())


def test_missing_ray_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r"crucible-polars\[ray\]"):
        cp.Dataset.from_dict({"a": [1]}).to_ray()


@pytest.mark.parametrize("fmt", ["parquet", "json", "csv", "text"])
def test_per_file_plans_give_the_plan_rows(tmp_path: Path, fmt: str) -> None:
    frames = [_rows(7, 0), _rows(5, 100)]
    for i, frame in enumerate(frames):
        path = tmp_path / f"train-{i}.{ {'json': 'jsonl', 'text': 'txt'}.get(fmt, fmt) }"
        if fmt == "parquet":
            frame.write_parquet(path)
        elif fmt == "json":
            path.write_text(frame.write_ndjson())
        elif fmt == "csv":
            frame.write_csv(path)
        else:
            path.write_text("\n".join(frame["text"]) + "\n")
    ds = cp.load_dataset(str(tmp_path), split="train")
    if fmt != "text":
        ds = ds.filter(pl.col("id") % 3 != 0).with_columns(double=pl.col("id") * 2)
        ds = ds.select_columns(["double", "text"]).rename_column("text", "words")
    split = split_per_file(ds.plan.lf)
    assert split is not None and len(split.files) == 2
    per_file = pl.concat([split.frame(f).collect() for f in split.files])
    assert per_file.equals(ds.to_polars())


def test_row_group_ranges_of_a_few_large_files(tmp_path: Path) -> None:
    path = tmp_path / "train.parquet"
    path.write_bytes(_parquet_bytes(_rows(100), LABELS, row_group_size=10))
    ds = cp.load_dataset(str(tmp_path), split="train").filter(pl.col("id") % 7 != 1)
    ds = ds.with_columns(text=pl.col("text").str.to_uppercase())
    split = split_per_file(ds.plan.lf)
    assert split is not None and split.parquet
    units = read_units(split, 4)
    assert [rows for _, rows in units] == [(0, 30), (30, 30), (60, 30), (90, 10)]
    parts = pl.concat([split.frame(file, rows).collect() for file, rows in units])
    assert parts.equals(ds.to_polars())
    assert read_units(split, 1) == [(str(path), None)]


def test_blocks_keep_the_plan_schema_or_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "train-0.csv").write_text("v,w\n1,a\n2,b\n")
    (tmp_path / "train-1.csv").write_text("v,w\n3,c\n")
    ds = cp.load_dataset(str(tmp_path), split="train")
    split = split_per_file(ds.plan.lf)
    assert split is not None and split.schema == ds.plan.lf.collect_schema()
    hub = HubAccess.current()
    blocks = [
        pl.from_arrow(b)
        for f in split.files
        for b in read_file_blocks(split.template, f, ds.features, hub, 10, schema=split.schema)
    ]
    assert pl.concat(blocks).equals(ds.to_polars())  # type: ignore[arg-type]
    cast = pl.Schema({"v": pl.Float64, "w": pl.String})  # a file typed apart is cast
    block = next(
        read_file_blocks(split.template, split.files[1], ds.features, hub, 10, None, None, cast)
    )
    assert block.column("v").to_pylist() == [3.0]
    wrong = pl.Schema({"v": pl.Float64, "w": pl.Int64})
    with pytest.raises(SchemaMismatchError, match=r"'w'.*train-0\.csv"):
        list(read_file_blocks(split.template, split.files[0], ds.features, hub, 10, schema=wrong))


def test_plans_that_are_not_row_local_are_not_split(parquet_folder: Path) -> None:
    ds = cp.load_dataset(str(parquet_folder), split="train")
    assert split_per_file(ds.plan.lf) is not None
    for other in (
        ds.sort("id"),
        ds.select(range(5)),
        ds.with_columns(rank=pl.col("id").rank()),
        ds.filter(pl.col("id") > pl.col("id").mean()),
        ds.map(lambda row: {"id": row["id"] + 1}),
        cp.Dataset.from_dict({"a": [1]}),
    ):
        assert split_per_file(other.plan.lf) is None


def test_a_worker_fetches_a_hub_file_it_lacks_at_the_pinned_commit(
    hub: Any, tmp_path: Path
) -> None:
    repo = "ray/fetch"
    if repo not in hub.repo_ids():
        hub.add_repo(repo, {"data/train.parquet": _parquet_bytes(_rows(5), LABELS)})
    local = cp.load_dataset(repo, split="train", cache_dir=tmp_path / "driver")
    split = split_per_file(local.plan.lf)
    assert split is not None
    driver_file = split.files[0]
    elsewhere = str(tmp_path / "elsewhere") + driver_file.split(str(tmp_path / "driver"), 1)[1]
    fetched = worker_path(elsewhere, HubAccess.current())
    assert fetched != elsewhere and Path(fetched).read_bytes() == Path(driver_file).read_bytes()
    assert "/snapshots/" in fetched and fetched.split("/snapshots/")[1][:40] in driver_file


# ------------------------------------------------------------------ with Ray


def test_parquet_folder_one_read_task_per_file(ray_local: Any, parquet_folder: Path) -> None:
    ds = cp.load_dataset(str(parquet_folder), split="train")
    split = split_per_file(ds.plan.lf)
    assert split is not None
    assert len(file_read_tasks(split, ds.features, HubAccess.current())) == 3
    ray_ds = ds.to_ray()
    assert ray_ds.materialize().num_blocks() == 3
    _same(ray_ds, ds)
    projected = ds.filter(pl.col("label") == 1).select_columns(["label", "id"])
    mapped = projected.with_columns(id2=pl.col("id") * 2)
    _same(mapped.to_ray(), mapped)
    assert cp.Dataset.from_ray(mapped.to_ray()).features["label"] == LABELS["label"]
    selected = ds.to_ray().select_columns(["label"])  # pushed into the read tasks' plans
    _same(selected, ds.select_columns(["label"]))


def test_one_large_file_is_read_in_row_group_ranges(ray_local: Any, tmp_path: Path) -> None:
    (tmp_path / "train.parquet").write_bytes(_parquet_bytes(_rows(100), LABELS, 10))
    ds = cp.load_dataset(str(tmp_path), split="train").filter(pl.col("id") > 12)
    ray_ds = ds.to_ray()  # 2 CPUs: about 4 read tasks, whole row groups each
    assert ray_ds.materialize().num_blocks() == 4
    _same(ray_ds, ds)


def test_jsonl_and_a_dataset_dict_split(
    ray_local: Any, jsonl_folder: Path, parquet_folder: Path
) -> None:
    ds = cp.load_dataset(str(jsonl_folder), split="train")
    ds = ds.filter(pl.col("text").str.ends_with("1")).with_columns(n=pl.col("text").str.len_chars())
    _same(ds.to_ray(), ds)
    dsd = cp.load_dataset(str(parquet_folder))
    rays = dsd.to_ray()
    assert list(rays) == ["train", "test"]
    _same(rays["test"], dsd["test"])


def test_imagefolder_bytes_or_decoded(ray_local: Any, image_folder: Path) -> None:
    ds = cp.load_dataset(str(image_folder), split="train")
    with pytest.warns(DriverReadWarning):
        ray_ds = ds.to_ray()
    _same(ray_ds, ds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DriverReadWarning)
        batches = ds.to_ray(decode=True).iter_batches(batch_size=6, batch_format="numpy")
        batch = next(iter(batches))
    ours = ds.with_format("numpy")[:6]
    assert np.array_equal(batch["image"], ours["image"])
    assert batch["label"].tolist() == ours["label"].tolist()


def test_hub_dict_split_and_round_trip(ray_local: Any, hub: Any, tmp_path: Path) -> None:
    repo = "ray/labels"
    if repo not in hub.repo_ids():
        hub.add_repo(
            repo,
            {
                "data/train-00000-of-00002.parquet": _parquet_bytes(_rows(40), LABELS),
                "data/train-00001-of-00002.parquet": _parquet_bytes(_rows(40, 40), LABELS),
                "data/test-00000-of-00001.parquet": _parquet_bytes(_rows(10, 500), LABELS),
            },
        )
    dsd = cp.load_dataset(repo, cache_dir=tmp_path)
    assert isinstance(dsd, cp.DatasetDict)
    train = dsd["train"]
    ray_ds = train.to_ray()
    assert ray_ds.materialize().num_blocks() == 2
    _same(ray_ds, train)
    back = cp.Dataset.from_ray(dsd.to_ray()["test"])
    assert back.features == LABELS and back.to_list() == dsd["test"].to_list()
    renamed = Features({"id": Value("int32"), "text": Value("string"), "label": Value("int64")})
    assert cp.Dataset.from_ray(ray_ds, features=renamed).features == renamed


def test_streaming_filter_prunes_row_groups_inside_the_tasks(ray_local: Any, hub: Any) -> None:
    repo = "ray/sorted"
    path = "data/train-00000-of-00001.parquet"
    data = _parquet_bytes(_rows(200_000), LABELS, row_group_size=10_000)
    if repo not in hub.repo_ids():
        hub.add_repo(repo, {path: data})
    hub.reset_counters()
    ds = cp.load_dataset(repo, split="train", streaming=True)
    ds = ds.filter((pl.col("id") >= 50_000) & (pl.col("id") < 60_000)).select_columns(
        ["id", "label"]
    )
    table = pa.concat_tables(ray_local.get(ds.to_ray().to_arrow_refs()))
    assert table.column("id").to_pylist() == list(range(50_000, 60_000))
    assert Features.from_arrow(table.schema)["label"] == LABELS["label"]
    served = hub.bytes_served(path, route="resolve")
    assert 0 < served < len(data) * 0.2, f"{served} of {len(data)} bytes fetched"


def test_bench_ray_runs_on_a_tiny_table(
    ray_local: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """benchmarks/bench_ray.py keeps running (a tiny table, one round, on this test's Ray)."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    bench = importlib.import_module("bench_ray")
    args = ["--rows", "2000", "--files", "2", "--repeats", "1", "--warmup", "0"]
    assert bench.main([*args, "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for row in ("read all", "filter+project", "streaming_split(2), numpy"):
        assert row in out
    assert "crucible_polars/ray.data" in out
