"""Exact mid-epoch resume of a training run under torchdata's ``StatefulDataLoader`` with
two workers: each worker's dataset state is saved with the loader's, and a restored loader
yields exactly the rest of the uninterrupted run."""

from __future__ import annotations

import json

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crucible_polars as cp

pytest.importorskip("torch")
stateful = pytest.importorskip("torchdata.stateful_dataloader")

CONTEXT = "forkserver"  # Polars is not fork-safe
pytestmark = pytest.mark.filterwarnings("ignore:.set_vital. is deprecated")
BATCH = 8


@pytest.fixture(scope="module", autouse=True)
def forkserver_preload() -> None:
    import multiprocessing

    multiprocessing.set_forkserver_preload(["crucible_polars", "torch.utils.data"])


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("stateful")
    paths = []
    for i, size in enumerate((70, 45, 90)):  # 3 files, 2 workers: uneven on purpose
        path = root / f"part-{i}.parquet"
        pl.DataFrame({"id": range(1000 * i, 1000 * i + size)}).write_parquet(
            path, row_group_size=16
        )
        paths.append(str(path))
    return paths


def twice(row: dict[str, int]) -> dict[str, int]:
    return {"twice": row["id"] * 2}


def _dataset(files: list[str], epoch: int) -> cp.IterableDataset:
    ds = cp.load_dataset("parquet", data_files=files, split="train", streaming=True)
    assert isinstance(ds, cp.IterableDataset)
    ds = ds.shuffle(seed=11, buffer_size=20).map(twice)
    ds.set_epoch(epoch)
    return ds


def _loader(ds: cp.IterableDataset) -> object:
    return stateful.StatefulDataLoader(
        ds, batch_size=BATCH, num_workers=2, multiprocessing_context=CONTEXT
    )


def _ids(batch: dict[str, object]) -> list[int]:
    return [int(i) for i in batch["id"]]  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def uninterrupted(files: list[str]) -> dict[int, list[list[int]]]:
    return {epoch: [_ids(b) for b in _loader(_dataset(files, epoch))] for epoch in (0, 1)}  # type: ignore[attr-defined]


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(fraction=st.floats(0, 1), epoch=st.sampled_from([0, 1]))
def test_resume_under_stateful_dataloader(
    files: list[str], uninterrupted: dict[int, list[list[int]]], fraction: float, epoch: int
) -> None:
    full = uninterrupted[epoch]
    assert sorted(i for b in full for i in b) == sorted(
        i for size, base in ((70, 0), (45, 1000), (90, 2000)) for i in range(base, base + size)
    )
    stop = int(fraction * len(full))
    loader = _loader(_dataset(files, epoch))
    head = []
    iterator = iter(loader)  # type: ignore[call-overload]
    for _ in range(stop):
        head.append(_ids(next(iterator)))
    state = json.loads(json.dumps(loader.state_dict()))  # type: ignore[attr-defined]  # a checkpoint
    del iterator
    restored = _loader(_dataset(files, epoch))
    restored.load_state_dict(state)  # type: ignore[attr-defined]
    rest = [_ids(b) for b in restored]  # type: ignore[attr-defined]
    assert head == full[:stop]
    assert rest == full[stop:]
