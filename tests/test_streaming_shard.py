"""Dividing a stream: ranks (``split_dataset_by_node``, ``shard``) and DataLoader workers.

Every division must give pairwise disjoint parts that together hold every row; whole files or
row groups go to each part when they divide evenly.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import polars as pl
import pytest

import crucible_polars as cp
from crucible_polars.streaming.pipeline import BuildContext, build

N_ROWS = 1_200
CONTEXT = "forkserver"  # Polars is not fork-safe (see the last test)


@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Files of several layouts holding the ids ``0..N_ROWS-1``."""
    root = tmp_path_factory.mktemp("shard")
    frame = pl.DataFrame({"id": range(N_ROWS), "text": [f"t{i}" for i in range(N_ROWS)]})
    out: dict[str, list[str]] = {}
    # 4 files of 300 rows, row groups of 100
    out["4 files"] = []
    for i in range(4):
        path = root / f"four-{i}.parquet"
        frame.slice(300 * i, 300).write_parquet(path, row_group_size=100)
        out["4 files"].append(str(path))
    # 3 files (not a multiple of 2 or 4) of 400 rows, 4 row groups each: 12 row groups
    out["3 files"] = []
    for i in range(3):
        path = root / f"three-{i}.parquet"
        frame.slice(400 * i, 400).write_parquet(path, row_group_size=100)
        out["3 files"].append(str(path))
    # 1 file, 1 row group: only rows can be divided
    path = root / "one.parquet"
    frame.write_parquet(path, row_group_size=N_ROWS)
    out["1 row group"] = [str(path)]
    # JSON lines: 2 files, no row groups
    out["2 jsonl"] = []
    for i in range(2):
        jsonl = root / f"part-{i}.jsonl"
        jsonl.write_text(
            "".join(json.dumps(r) + "\n" for r in frame.slice(600 * i, 600).iter_rows(named=True))
        )
        out["2 jsonl"].append(str(jsonl))
    return out


def _load(files: list[str]) -> cp.IterableDataset:
    fmt = "json" if files[0].endswith(".jsonl") else "parquet"
    ds = cp.load_dataset(fmt, data_files=files, split="train", streaming=True)
    assert isinstance(ds, cp.IterableDataset)
    return ds


def _units(ds: cp.IterableDataset) -> list[Any]:
    node: Any = build(ds._source, ds._steps, BuildContext())
    return node.units()


@pytest.mark.parametrize("layout", ["4 files", "3 files", "1 row group", "2 jsonl"])
@pytest.mark.parametrize("world_size", [1, 2, 3, 4])
def test_ranks_are_disjoint_and_cover(
    layouts: dict[str, list[str]], layout: str, world_size: int
) -> None:
    ds = _load(layouts[layout])
    parts = [
        [r["id"] for r in cp.split_dataset_by_node(ds, rank, world_size)]
        for rank in range(world_size)
    ]
    seen = [i for part in parts for i in part]
    assert sorted(seen) == list(range(N_ROWS))  # covering, and no duplicates
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 100  # balanced: same files / row groups / rows


def test_whole_files_when_they_divide_else_rows_across_the_stream(
    layouts: dict[str, list[str]],
) -> None:
    four = _load(layouts["4 files"])  # as in datasets: every world_size-th file
    units = _units(cp.split_dataset_by_node(four, 1, 2))
    assert [(u.file, u.row_groups, u.step) for u in units] == [(1, None, 1), (3, None, 1)]
    three = _load(layouts["3 files"])  # 3 files for 4 ranks: every 4th row of the stream
    parts = [[r["id"] for r in cp.split_dataset_by_node(three, rank, 4)] for rank in range(4)]
    assert parts == [list(range(rank, N_ROWS, 4)) for rank in range(4)]
    single = _load(layouts["1 row group"])
    # as in datasets, the split applies to the whole pipeline: take(9) first, then every 3rd
    assert [r["id"] for r in cp.split_dataset_by_node(single, 2, 3).take(9)] == [2, 5, 8]


def test_shard_after_transforms_and_before_shuffle(layouts: dict[str, list[str]]) -> None:
    ds = _load(layouts["3 files"]).filter(pl.col("id") % 2 == 0)
    ds = ds.map(lambda b: {"id": b["id"]}, batched=True, batch_size=33)
    parts = []
    for index in range(2):
        shard = ds.shard(num_shards=2, index=index).shuffle(seed=5, buffer_size=50)
        parts.append([r["id"] for r in shard])
    assert sorted(parts[0] + parts[1]) == list(range(0, N_ROWS, 2))
    taken = [[r["id"] for r in ds.take(10).shard(2, i)] for i in range(2)]  # after take: rows
    assert taken == [[0, 4, 8, 12, 16], [2, 6, 10, 14, 18]]
    batched = [len(b["id"]) for i in range(3) for b in ds.batch(7).shard(3, i)]
    assert sum(batched) == N_ROWS // 2


@pytest.fixture(scope="module", autouse=True)
def forkserver_preload() -> None:
    """Workers fork from a server that imported these once (fast worker start)."""
    import multiprocessing

    multiprocessing.set_forkserver_preload(["crucible_polars", "torch.utils.data"])


@pytest.mark.filterwarnings("ignore:This DataLoader will create")
@pytest.mark.parametrize(
    ("layout", "num_workers"), [("4 files", 2), ("3 files", 3), ("1 row group", 2), ("2 jsonl", 3)]
)
def test_dataloader_workers_yield_every_row_once(
    layouts: dict[str, list[str]], layout: str, num_workers: int
) -> None:
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    ds = _load(layouts[layout]).select_columns("id")
    assert isinstance(ds, torch.utils.data.IterableDataset)
    loader = DataLoader(ds, batch_size=64, num_workers=num_workers, multiprocessing_context=CONTEXT)
    ids = [int(i) for batch in loader for i in batch["id"]]
    assert sorted(ids) == list(range(N_ROWS))


def test_dataloader_with_ranks_and_batched_dataset(layouts: dict[str, list[str]]) -> None:
    pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    ds = _load(layouts["3 files"]).select_columns("id")
    seen = []
    for rank in range(2):
        part = cp.split_dataset_by_node(ds, rank, 2).with_format("torch").batch(50)
        loader = DataLoader(part, batch_size=None, num_workers=2, multiprocessing_context=CONTEXT)
        seen += [int(i) for batch in loader for i in batch["id"]]
    assert sorted(seen) == list(range(N_ROWS))


FORKED = """
import sys
import crucible_polars as cp
from torch.utils.data import DataLoader
ds = cp.load_dataset("json", data_files=sys.argv[1:], split="train", streaming=True)
list(ds.take(5))  # the Polars thread pool now runs in this process
loader = DataLoader(ds, batch_size=8, num_workers=2, multiprocessing_context="fork")
try:
    next(iter(loader))
except RuntimeError as error:
    print(error)
"""


def test_forked_workers_fail_clearly_instead_of_deadlocking(layouts: dict[str, list[str]]) -> None:
    """Polars is not fork-safe: a forked worker would wait forever on its thread pool.

    Run in a fresh interpreter: forked workers of the test process would outlive the test.
    """
    pytest.importorskip("torch")
    done = subprocess.run(
        [sys.executable, "-c", FORKED, *layouts["2 jsonl"]],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "multiprocessing_context='forkserver'" in done.stdout, done.stderr[-2000:]
