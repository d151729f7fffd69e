"""Streams under a torch DataLoader: epochs reach persistent workers, and workers shuffle
with different random streams (``datasets`` issue 7567)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import crucible_polars as cp

torch = pytest.importorskip("torch")
from torch.utils.data import DataLoader  # noqa: E402

CONTEXT = "forkserver"  # Polars is not fork-safe


@pytest.fixture(scope="module", autouse=True)
def forkserver_preload() -> None:
    import multiprocessing

    multiprocessing.set_forkserver_preload(["crucible_polars", "torch.utils.data"])


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("loader")
    paths = []
    for i in range(4):
        path = root / f"part-{i}.parquet"
        pl.DataFrame({"id": range(100 * i, 100 * i + 100)}).write_parquet(path)
        paths.append(str(path))
    return paths


def _stream(files: list[str]) -> cp.IterableDataset:
    ds = cp.load_dataset("parquet", data_files=files, split="train", streaming=True)
    assert isinstance(ds, cp.IterableDataset)
    return ds


def test_persistent_workers_see_set_epoch(files: list[str]) -> None:
    ds = _stream(files).shuffle(seed=0, buffer_size=50)
    loader = DataLoader(
        ds, batch_size=None, num_workers=2, persistent_workers=True, multiprocessing_context=CONTEXT
    )
    epochs = []
    for epoch in range(3):
        ds.set_epoch(epoch)
        epochs.append([int(row["id"]) for row in loader])
    assert all(sorted(e) == list(range(400)) for e in epochs)
    assert epochs[0] != epochs[1] != epochs[2]
    # the same orders as without persistent workers: the epoch is the same everywhere
    fresh = _stream(files).shuffle(seed=0, buffer_size=50)
    fresh.set_epoch(1)
    loader = DataLoader(fresh, batch_size=None, num_workers=2, multiprocessing_context=CONTEXT)
    assert [int(row["id"]) for row in loader] == epochs[1]


def test_workers_shuffle_with_different_streams(tmp_path: Path) -> None:
    """Two files holding the same values: workers must not emit the same value at every step."""
    paths = []
    for i in range(2):
        path = tmp_path / f"same-{i}.parquet"
        pl.DataFrame({"v": range(200)}).write_parquet(path)
        paths.append(str(path))
    ds = _stream(paths).shuffle(seed=3, buffer_size=20)
    loader = DataLoader(ds, batch_size=None, num_workers=2, multiprocessing_context=CONTEXT)
    values = [int(row["v"]) for row in loader]  # the workers' rows alternate
    pairs = list(zip(values[0::2], values[1::2], strict=True))
    assert sum(a == b for a, b in pairs) < len(pairs) // 4
    assert sorted(values) == sorted(list(range(200)) * 2)
