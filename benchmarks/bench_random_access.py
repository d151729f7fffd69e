"""Random access side by side: crucible_polars vs ``datasets`` (issue 10).

On one parquet file of ``--rows`` rows (an int column, a ~100-byte text column and a
``list<int>`` column), in one run:

* ``materialize``: the one-time work before fast random access — ours writes the plan's rows
  as Arrow IPC in the cache (the first read by positions of a shuffled dataset), ``datasets``
  converts the parquet file into its Arrow cache (``load_dataset``); a fresh cache each run;
* ``ds[i] x N``: ``N`` reads of one row at random positions of a shuffled dataset, after
  the materialization (seconds for all ``N``; per access = seconds / N);
* ``sft step``: ``shuffle(0).skip(1024).select(range(128)).to_list()``, the tinker-cookbook
  SFT loop's batch, repeated ``--steps`` times;
* ``dataloader wN``: one epoch of ``torch.utils.data.DataLoader(ds.with_format("torch"),
  batch_size=256, shuffle=True, num_workers=N)`` (fork, the Linux default);
* ``peak RSS``: a full shuffled pass in a fresh process (MiB, not seconds), each engine
  from a cold cache (ours materializes, ``datasets`` converts, in that process).

Each task's process CPU seconds are printed too (median; threads included, DataLoader
workers not): on a shared machine they show the work done where wall time shows the load.

The engines take turns run by run (``measure_interleaved``). Targets (issue 10): ``ds[i]`` at
most 2x ``datasets``, the SFT step at most 1.5x, the DataLoader epoch at most 1.2x, peak RSS at
most ``datasets``', and our materialization no slower than ``datasets``' conversion.

Run: ``python benchmarks/bench_random_access.py [--rows 1000000] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from _common import ColdCache, Ratio, data_file, measure_interleaved, peak_rss_mib, ratio_table

ENGINES = ["ours", "datasets"]


def build(rows: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        rng = np.random.default_rng(0)
        words = np.array(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"])
        text = [" ".join(rng.choice(words, 16)) for _ in range(min(rows, 10_000))]
        pl.DataFrame(
            {
                "id": np.arange(rows),
                "text": [text[i % len(text)] for i in range(rows)],
                "tokens": [[i, i + 1, i + 2, i + 3] for i in range(rows)],
            }
        ).write_parquet(path, row_group_size=100_000)

    return write


def with_cpu(fn: Callable[[], None], cpu: list[float]) -> Callable[[], None]:
    """``fn``, appending the process CPU seconds of each call to ``cpu``."""

    def run() -> None:
        start = time.process_time()
        fn()
        cpu.append(time.process_time() - start)

    return run


def tasks(
    path: str, rows: int, reads: int, steps: int, cold: ColdCache, materialize_root: str
) -> dict[str, Any]:
    """Each task per engine; ``datasets`` and ours both read the same parquet file."""
    import datasets as hf
    import torch

    import crucible_polars as cp

    theirs = hf.load_dataset("parquet", data_files=path, split="train", cache_dir=cold.reset())
    ours = cp.load_dataset("parquet", data_files=path, split="train")
    positions = np.random.default_rng(1).integers(0, rows, reads).tolist()
    ours_shuffled = ours.shuffle(seed=0)
    ours_shuffled[0]  # materialized once (timed separately)
    theirs_shuffled = theirs.shuffle(seed=0)

    def reads_of(ds: Any) -> Callable[[], None]:
        def run() -> None:
            for i in positions:
                ds[i]

        return run

    def sft(ds: Any) -> Callable[[], None]:
        def run() -> None:
            for k in range(steps):
                ds.shuffle(seed=k).skip(1024).select(range(128)).to_list()

        return run

    def epoch(ds: Any, workers: int) -> Callable[[], None]:
        def run() -> None:
            loader = torch.utils.data.DataLoader(
                ds.with_format("torch"), batch_size=256, shuffle=True, num_workers=workers
            )
            for batch in loader:
                batch["id"].sum()

        return run

    def materialize_ours() -> None:
        fresh = cp.load_dataset("parquet", data_files=path, split="train")
        os.environ["CRUCIBLE_POLARS_CACHE"] = tempfile.mkdtemp(dir=materialize_root)
        fresh.shuffle(seed=0)[[0, 1]]

    def materialize_theirs() -> None:
        hf.load_dataset("parquet", data_files=path, split="train", cache_dir=cold.reset())

    return {
        "materialize": {"ours": materialize_ours, "datasets": materialize_theirs},
        f"ds[i] x {reads}": {
            "ours": reads_of(ours_shuffled),
            "datasets": reads_of(theirs_shuffled),
        },
        f"sft step x {steps}": {"ours": sft(ours), "datasets": sft(theirs)},
        "dataloader w0": {"ours": epoch(ours, 0), "datasets": epoch(theirs, 0)},
        "dataloader w2": {"ours": epoch(ours, 2), "datasets": epoch(theirs, 2)},
    }


PASS_CODE = {
    "ours": (
        "import crucible_polars as cp\n"
        "ds = cp.load_dataset('parquet', data_files={path!r}, split='train').shuffle(seed=0)\n"
        "for b in ds.iter(1024, format='numpy'): b['id'].sum()\n"
    ),
    "datasets": (
        "import datasets as hf\n"
        "ds = hf.load_dataset('parquet', data_files={path!r}, split='train',"
        " cache_dir={cache!r}).shuffle(seed=0).with_format('numpy')\n"
        "for b in ds.iter(1024): b['id'].sum()\n"
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reads", type=int, default=2_000)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    path = str(data_file(f"random-access-{args.rows}.parquet", build(args.rows)))
    materialize_root = tempfile.mkdtemp(prefix="bench-materialized-")
    with ColdCache() as cache:
        all_tasks = tasks(path, args.rows, args.reads, args.steps, cache, materialize_root)
        results: dict[str, dict[str, float]] = {}
        for name, fns in all_tasks.items():
            warmup = 0 if name == "materialize" else args.warmup
            cpu: dict[str, list[float]] = {engine: [] for engine in fns}
            timed = {engine: with_cpu(fn, cpu[engine]) for engine, fn in fns.items()}
            timings = measure_interleaved(timed, warmup=warmup, repeats=args.repeats)
            results[name] = {engine: t.median for engine, t in timings.items()}
            cpu_median = {e: float(np.median(c[-args.repeats :])) for e, c in cpu.items()}
            print(
                f"{name}: "
                + ", ".join(
                    f"{e} {s:.3f}s (cpu {cpu_median[e]:.3f}s)" for e, s in results[name].items()
                )
            )
        rss = {}
        for engine, code in PASS_CODE.items():
            os.environ["CRUCIBLE_POLARS_CACHE"] = tempfile.mkdtemp(dir=materialize_root)
            rss[engine] = peak_rss_mib(code.format(path=path, cache=cache.reset()))
    shutil.rmtree(materialize_root, ignore_errors=True)
    print()
    print(f"{args.rows:,} rows; medians of {args.repeats} interleaved runs")
    print(ratio_table(results, ENGINES, [Ratio("ours", "datasets")]))
    print()
    print(
        f"peak RSS of a shuffled pass: ours {rss['ours']:.0f} MiB, "
        f"datasets {rss['datasets']:.0f} MiB (ours/datasets {rss['ours'] / rss['datasets']:.2f})"
    )


if __name__ == "__main__":
    main()
