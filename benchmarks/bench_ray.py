"""crucible_polars ``to_ray()`` vs Ray Data's own readers, on the same parquet files.

The shared synthetic table (``_common.synthetic_frame``) is written as ``--files`` parquet
shards; a local Ray (``ray.init(num_cpus=2)``, no dashboard) then makes, in turns, a full
pass over each Ray dataset (every block fetched on the driver as Arrow):

* ``read all``: ``load_dataset("parquet", data_files=files).to_ray()`` (one read task per
  file, Polars inside) vs ``ray.data.read_parquet(files)``; target: at most 1.1x Ray's time.
* ``filter+project``: ``label < 3``, columns ``id`` and ``score``: ours (filter and
  projection pushed into Polars inside the tasks) vs ``read_parquet(columns=...).filter(expr=...)``
  (pushed into Ray's parquet reader).
* ``from_huggingface``: ``ray.data.from_huggingface(datasets.load_dataset("parquet", ...))``
  (its probe for a Hub parquet export skipped: a local dataset has none)
  with an empty ``datasets`` cache per run (its Arrow conversion on the driver, then Ray).
* ``streaming_split(2)``: ours, ``to_ray().streaming_split(2, equal=True)`` read by two Ray
  tasks iterating numpy batches of 1024 rows, as two Ray Train workers would (vs the same
  over ``read_parquet``).

The row counts of every engine are compared before the table is printed.

Usage::

    python benchmarks/bench_ray.py                    # 2,000,000 rows in 8 files
    python benchmarks/bench_ray.py --rows 2000 --files 2 --repeats 1 --warmup 0  # smoke
"""

from __future__ import annotations

import argparse
import platform
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
from _common import ColdCache, Ratio, data_file, measure_interleaved, ratio_table, synthetic_frame

import crucible_polars as cp

ENGINES = ("crucible_polars", "ray.data", "from_huggingface")


def shard_files(rows: int, files: int, data_dir: Path | None = None) -> list[Path]:
    """The synthetic table of ``rows`` rows as ``files`` parquet shards (written once, in
    ``data_dir``, default ``benchmarks/_data``)."""
    frame: list[pl.DataFrame] = []
    per = -(-rows // files)

    def build(index: int) -> Callable[[Path], None]:
        def write(path: Path) -> None:
            if not frame:
                frame.append(synthetic_frame(rows))
            frame[0].slice(index * per, per).write_parquet(path, row_group_size=100_000)

        return write

    return [data_file(f"ray-{rows}-{files}-{i}.parquet", build(i), data_dir) for i in range(files)]


def full_pass(ray_ds: Any) -> int:
    """Every row of ``ray_ds`` fetched on the driver as Arrow blocks; returns the count."""
    return sum(b.num_rows for b in ray_ds.iter_batches(batch_size=None, batch_format="pyarrow"))


def split_pass(ray: Any, ray_ds: Any) -> int:
    """Two Ray tasks (as two training workers) each iterating their half in numpy batches."""

    @ray.remote(num_cpus=0)  # the CPUs stay for the read tasks
    def worker(shard: Any) -> int:
        return sum(len(b["id"]) for b in shard.iter_batches(batch_size=1024, batch_format="numpy"))

    return sum(ray.get([worker.remote(s) for s in ray_ds.streaming_split(2, equal=True)]))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the side-by-side table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--data-dir", type=Path, default=None, help="default benchmarks/_data")
    args = parser.parse_args(argv)

    import datasets
    import ray
    from ray.data._internal.datasource.huggingface_datasource import HuggingFaceDatasource
    from ray.data.expressions import col

    # from_huggingface first reloads the dataset by its name ("parquet", from the current
    # folder) and asks huggingface.co, not HF_ENDPOINT, for a parquet export: a local dataset
    # has none. Skip that probe: its time is not the conversion, and it would reach the Hub.
    HuggingFaceDatasource.list_parquet_urls_from_dataset = classmethod(lambda cls, ds: [])

    files = [str(p) for p in shard_files(args.rows, args.files, args.data_dir)]
    started = not ray.is_initialized()  # a caller's Ray (the smoke test's) is reused
    if started:
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            object_store_memory=512 * 1024**2,
            log_to_driver=False,
        )
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    def ours(filtered: bool = False) -> Any:
        ds = cp.load_dataset("parquet", data_files=files, split="train")
        if filtered:
            ds = ds.filter(pl.col("label") < 3).select_columns(["id", "score"])
        return ds.to_ray()

    def theirs(filtered: bool = False) -> Any:
        if not filtered:
            return ray.data.read_parquet(files)
        out = ray.data.read_parquet(files, columns=["id", "score", "label"])
        return out.filter(expr=col("label") < 3).select_columns(["id", "score"])

    cache = ColdCache()

    def from_hf() -> int:
        hf = datasets.load_dataset("parquet", data_files=files, split="train", cache_dir=cache.path)
        return full_pass(ray.data.from_huggingface(hf))

    counts: dict[str, dict[str, int]] = {}

    def counted(task: str, engine: str, fn: Callable[[], int]) -> Callable[[], int]:
        def run() -> int:
            counts.setdefault(task, {})[engine] = n = fn()
            return n

        return run

    tasks: dict[str, dict[str, Callable[[], int]]] = {
        "read all": {
            "crucible_polars": lambda: full_pass(ours()),
            "ray.data": lambda: full_pass(theirs()),
            "from_huggingface": from_hf,
        },
        "filter+project": {
            "crucible_polars": lambda: full_pass(ours(True)),
            "ray.data": lambda: full_pass(theirs(True)),
        },
        "streaming_split(2), numpy": {
            "crucible_polars": lambda: split_pass(ray, ours()),
            "ray.data": lambda: split_pass(ray, theirs()),
        },
    }
    results: dict[str, dict[str, float]] = {}
    for task, fns in tasks.items():
        timed = {e: counted(task, e, fn) for e, fn in fns.items()}
        setups = {"from_huggingface": cache.reset} if "from_huggingface" in fns else None
        timings = measure_interleaved(
            timed, warmup=args.warmup, repeats=args.repeats, setups=setups
        )
        results[task] = {e: t.median for e, t in timings.items()}
        if len(set(counts[task].values())) != 1:
            raise AssertionError(f"{task}: the engines disagree on the row count: {counts[task]}")
    if started:
        ray.shutdown()
    cache.close()

    print(f"# {args.rows:,} rows in {args.files} parquet files; {platform.platform()}")
    print(f"# ray {ray.__version__}, polars {pl.__version__}, datasets {datasets.__version__}")
    ratios = [
        Ratio("crucible_polars", "ray.data", at_most=1.1),
        Ratio("from_huggingface", "crucible_polars"),
    ]
    print(ratio_table(results, list(ENGINES), ratios))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
