"""``num_proc``: the function runs in worker processes, outputs in order and identical to
one process; ``with_rank`` passes the worker's rank; errors and unpicklable functions say
what happened. Also the progress bar of ``desc=``."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crucible_polars as cp
from crucible_polars.udf.parallel import WorkerError, run_ordered

ROWS = 5_000


@pytest.fixture(scope="module")
def ds() -> cp.Dataset:
    return cp.Dataset.from_dict(
        {"id": list(range(ROWS)), "text": [f"w{i % 97}" * (1 + i % 3) for i in range(ROWS)]}
    )


def _words(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
    return {"n": [len(t) for t in batch["text"]], "first": [t[:2] for t in batch["text"]]}


@pytest.mark.parametrize("batched", [False, True])
def test_num_proc_output_identical_to_one_process(ds: cp.Dataset, batched: bool) -> None:
    factor = 3  # a closure: travels with cloudpickle
    if batched:
        one = ds.map(_words, batched=True, batch_size=37)
        two = ds.map(_words, batched=True, batch_size=37, num_proc=2)
    else:
        one = ds.map(lambda r: {"x": r["id"] * factor})
        two = ds.map(lambda r: {"x": r["id"] * factor}, num_proc=2)
    assert two.features == one.features
    assert two.to_polars().equals(one.to_polars())


def test_num_proc_filter_and_rows_changed(ds: cp.Dataset) -> None:
    keep = ds.filter(lambda r: r["id"] % 7 == 0, num_proc=2)
    assert keep["id"] == list(range(0, ROWS, 7))
    split = ds.map(
        lambda b: {"ch": [c for t in b["text"] for c in t]},
        batched=True,
        remove_columns=["id", "text"],
        num_proc=2,
    )
    assert split["ch"] == [c for t in ds["text"] for c in t]


def test_with_rank_gives_worker_rank(ds: cp.Dataset) -> None:
    ranks = ds.map(lambda r, rank: {"rank": rank}, with_rank=True, num_proc=2)["rank"]
    assert set(ranks) == {0, 1}
    assert ranks == ds.map(lambda r, rank: {"rank": rank}, with_rank=True, num_proc=2)["rank"]
    assert set(ds.map(lambda r, rank: {"rank": rank}, with_rank=True)["rank"]) == {None}


def test_lazy_until_output_and_early_stop(ds: cp.Dataset) -> None:
    mapped = ds.map(lambda r: {"x": r["id"] + 1}, num_proc=2)
    assert mapped.take(3)["x"] == [1, 2, 3]
    assert mapped.select([4_999])["x"] == [5_000]


def test_worker_error_names_the_row(ds: cp.Dataset) -> None:
    mapped = ds.map(lambda r: {"x": 1 // (r["id"] - 4_321)}, num_proc=2)
    with pytest.raises(ZeroDivisionError):
        mapped.to_dict()
    assert mapped.take(2)["x"] == [-1, -1]  # the pool is still usable


def test_unpicklable_function_is_a_clear_error(ds: cp.Dataset) -> None:
    lock = threading.Lock()

    def uses_lock(row: dict[str, Any]) -> dict[str, Any]:
        with lock:
            return {"x": row["id"]}

    with pytest.raises(TypeError, match="cannot be pickled"):
        ds.map(uses_lock, num_proc=2)


def test_bad_num_proc(ds: cp.Dataset) -> None:
    with pytest.raises(ValueError, match="num_proc"):
        ds.map(lambda r: r, num_proc=0)


def _crash(frame: pl.DataFrame, offset: int, wanted: Any, rank: int) -> pl.DataFrame:
    import os

    os._exit(3)


def test_dead_worker_is_reported() -> None:
    with pytest.raises(WorkerError, match="exit code"):
        list(run_ordered(2, _crash, iter([(pl.DataFrame({"a": [1]}), 0)]), None))


def test_progress_bar_shows_desc(ds: cp.Dataset, capsys: pytest.CaptureFixture[str]) -> None:
    from crucible_polars import progress

    cp.enable_progress_bars()
    try:
        ds.map(lambda r: {"x": 1}, desc="Tokenizing").to_dict()
        shown = capsys.readouterr().err
        assert "Tokenizing" in shown and f"{ROWS}/{ROWS}" in shown
        cp.disable_progress_bars()
        ds.filter(lambda r: True, desc="Quiet").to_dict()
        assert "Quiet" not in capsys.readouterr().err
    finally:
        cp.enable_progress_bars()
        progress._state["disabled"] = None  # back to what the environment says


def test_progress_env_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    from crucible_polars import progress

    monkeypatch.setitem(progress._state, "disabled", None)
    monkeypatch.setenv("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    assert cp.are_progress_bars_disabled()
    monkeypatch.setenv("HF_DATASETS_DISABLE_PROGRESS_BARS", "0")
    assert not cp.are_progress_bars_disabled()


def test_bench_map_runs_on_a_tiny_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_map.py"
    monkeypatch.setenv("BENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.syspath_prepend(str(script.parent))
    monkeypatch.setattr(sys, "argv", [str(script), "--rows", "2000", "--repeats", "1"])
    runpy.run_path(str(script), run_name="__main__")
    shown = capsys.readouterr().out
    assert "| map python (rows)" in shown and "ours np1/ours np2 (>=1.6)" in shown


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.integers(1, 3_000),
    batch_size=st.integers(1, 700),
    batched=st.booleans(),
    num_proc=st.integers(2, 3),
)
def test_num_proc_identical_generated(
    rows: int, batch_size: int, batched: bool, num_proc: int
) -> None:
    ds = cp.Dataset.from_dict({"i": list(range(rows))})

    def tag(batch: dict[str, Any], indices: list[int]) -> dict[str, Any]:
        return {"first": [indices[0]] * len(indices), "size": [len(indices)] * len(indices)}

    def each(row: dict[str, Any], index: int) -> dict[str, Any]:
        return {"first": index, "size": 1}

    fn = tag if batched else each
    one = ds.map(fn, batched=batched, batch_size=batch_size, with_indices=True)
    many = ds.map(fn, batched=batched, batch_size=batch_size, with_indices=True, num_proc=num_proc)
    assert many.to_polars().equals(one.to_polars())


def test_workers_import_this_copy_whatever_the_current_folder(tmp_path: Path) -> None:
    decoy = tmp_path / "cwd" / "crucible_polars"
    decoy.mkdir(parents=True)
    (decoy / "__init__.py").write_text("raise ImportError('the decoy was imported')\n")
    script = tmp_path / "run.py"
    script.write_text(
        "import crucible_polars as cp\n"
        "ds = cp.Dataset.from_dict({'a': list(range(3000))})\n"
        "print(ds.map(lambda r: {'b': r['a'] * 2}, num_proc=2)['b'][-1])\n"
    )
    repo = str(Path(cp.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": repo, "HF_DATASETS_DISABLE_PROGRESS_BARS": "1"}
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=decoy.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "5998"


# ------------------------------------------------------------ workers reading their own rows
@pytest.fixture(scope="module")
def on_disk(tmp_path_factory: pytest.TempPathFactory) -> cp.Dataset:
    path = tmp_path_factory.mktemp("parquet") / "rows.parquet"
    frame = pl.DataFrame(
        {
            "id": list(range(ROWS)),
            "text": [f"w{i % 97} x" * (1 + i % 3) for i in range(ROWS)],
            "tokens": [list(range(i % 5)) for i in range(ROWS)],
        }
    )
    frame.write_parquet(path, row_group_size=1_234)
    return cp.load_dataset("parquet", data_files=str(path), split="train")


def _outputs_left() -> list[Path]:
    from crucible_polars.sources.open import cache_root
    from crucible_polars.udf.parallel import OUTPUTS_FOLDER

    return list((cache_root() / OUTPUTS_FOLDER).glob(f"{os.getpid()}-*/*"))


def test_workers_read_parquet_rows_themselves(on_disk: cp.Dataset) -> None:
    from crucible_polars.udf.ranges import reader_of

    assert reader_of(on_disk._plan) is not None  # the ranges path, not rows sent
    cases: list[dict[str, Any]] = [
        {"function": lambda r: {"n": len(r["text"].split()), "k": sum(r["tokens"])}},
        {"function": _words, "batched": True, "batch_size": 37},
        {"function": _words, "batched": True, "batch_size": 100, "drop_last_batch": True},
        {
            "function": lambda b, idx: {"ch": [t[0] for t in b["text"]], "i": idx},
            "batched": True,
            "batch_size": 53,
            "with_indices": True,
            "remove_columns": ["tokens"],
        },
        {
            "function": lambda b: {"ch": [c for t in b["text"][:2] for c in t]},
            "batched": True,
            "batch_size": 7,
            "remove_columns": ["id", "text", "tokens"],
        },
        {
            "function": lambda r: {"id": r["id"] * 2},
            "features": cp.Features(
                {
                    "id": cp.Value("int32"),
                    "text": cp.Value("string"),
                    "tokens": cp.Sequence(cp.Value("int64")),
                }
            ),
        },
    ]
    for kwargs in cases:
        one = on_disk.map(**kwargs)
        two = on_disk.map(**kwargs, num_proc=2)
        assert two.features == one.features
        assert two.to_polars().equals(one.to_polars()), kwargs
        assert (
            two.select_columns(list(two.features)[-1:])
            .to_polars()
            .equals(one.select_columns(list(one.features)[-1:]).to_polars())
        )
    kept = on_disk.filter(lambda r: r["id"] % 7 == 0, num_proc=3)
    assert kept["id"] == list(range(0, ROWS, 7))
    assert _outputs_left() == []  # the workers' output files are removed with the run


def test_output_folders_of_ended_processes_are_removed(on_disk: cp.Dataset) -> None:
    from crucible_polars.sources.open import cache_root
    from crucible_polars.udf.parallel import OUTPUTS_FOLDER

    orphan = cache_root() / OUTPUTS_FOLDER / "99999999-killed"
    orphan.mkdir(parents=True, exist_ok=True)
    (orphan / "left.arrow").write_bytes(b"")
    assert on_disk.map(lambda r: {"x": 1}, num_proc=2).take(2)["x"] == [1, 1]
    assert not orphan.exists()


def test_ranges_early_stop_rank_and_errors(on_disk: cp.Dataset) -> None:
    mapped = on_disk.map(lambda r: {"x": r["id"] + 1}, num_proc=2)
    assert mapped.take(3)["x"] == [1, 2, 3]
    ranked = on_disk.map(lambda r, rank: {"rank": rank}, with_rank=True, num_proc=2)["rank"]
    assert set(ranked) == {0, 1}
    failing = on_disk.map(lambda r: {"x": 1 // (r["id"] - 4_321)}, num_proc=2)
    with pytest.raises(ZeroDivisionError):
        failing.to_dict()
    assert _outputs_left() == []


def test_ranges_from_materialized_rows(on_disk: cp.Dataset) -> None:
    from crucible_polars.materialize import materialize
    from crucible_polars.udf.ranges import reader_of

    rows = cp.Dataset.from_plan(materialize(on_disk._plan), split="train")
    assert rows._plan.table is not None
    assert reader_of(rows._plan) is not None  # mapped again by path in the workers
    one = rows.map(lambda r: {"n": len(r["text"])})
    assert rows.map(lambda r: {"n": len(r["text"])}, num_proc=2).to_polars().equals(one.to_polars())


def test_rows_read_by_the_main_process_when_a_slice_is_not_cheap(on_disk: cp.Dataset) -> None:
    from crucible_polars.udf.ranges import reader_of

    filtered = on_disk.filter(pl.col("id") % 2 == 0)  # a slice would read from row 0
    assert reader_of(filtered._plan) is None
    one = filtered.map(lambda r: {"x": r["id"] * 3})
    assert (
        filtered.map(lambda r: {"x": r["id"] * 3}, num_proc=2).to_polars().equals(one.to_polars())
    )


@given(
    stop=st.integers(0, 500),
    batch_size=st.integers(1, 40),
    num_proc=st.integers(2, 4),
    most=st.integers(1, 200),
)
def test_row_ranges_cover_the_rows_in_whole_batches(
    stop: int, batch_size: int, num_proc: int, most: int
) -> None:
    from crucible_polars.udf.ranges import row_ranges

    ranges = row_ranges(stop, batch_size=batch_size, num_proc=num_proc, most=most)
    assert [r.start for r in ranges] == [
        sum(r.rows for r in ranges[:k]) for k in range(len(ranges))
    ]
    assert sum(r.rows for r in ranges) == stop
    assert all(r.rows % batch_size == 0 for r in ranges[:-1])
    assert all(r.rows <= max(most, batch_size) + batch_size for r in ranges)


def _slow_rank_zero(frame: pl.DataFrame, offset: int, wanted: Any, rank: int) -> pl.DataFrame:
    import time

    if rank == 0:
        time.sleep(0.01)  # rank 1 takes more of the groups; the order stays
    return frame.with_columns(rank=pl.lit(rank))


def test_balanced_hand_out_keeps_the_order() -> None:
    groups = [(pl.DataFrame({"a": [i]}), i) for i in range(30)]
    out = list(run_ordered(2, _slow_rank_zero, iter(groups), None, balanced=True))
    assert [f["a"].item() for f in out] == list(range(30))
    assert {f["rank"].item() for f in out} <= {0, 1}


def test_spilled_frames_keep_their_types(tmp_path: Path) -> None:
    from crucible_polars.udf.transport import IpcFile, spill, unpack

    frame = pl.DataFrame(
        {
            "big": pl.Series([1, 2], dtype=pl.Int128),  # pyarrow cannot map it: Polars reads
            "e": pl.Series(["a", "b"], dtype=pl.Enum(["a", "b"])),
            "arr": pl.Series([[1, 2], [3, 4]], dtype=pl.Array(pl.Int32, 2)),
        }
    )
    sent = spill(frame, str(tmp_path))
    assert isinstance(sent, IpcFile)
    assert unpack(sent).equals(frame) and unpack(spill(frame.drop("big"), str(tmp_path))).equals(
        frame.drop("big")
    )
    assert list(tmp_path.iterdir()) == []
