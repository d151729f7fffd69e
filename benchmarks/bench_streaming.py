"""Streaming: crucible_polars ``IterableDataset`` vs ``datasets`` streaming vs raw Polars.

For each engine, in a fresh interpreter per run (times measured after the imports):

* ``first 10k rows``: open the stream (``load_dataset(..., streaming=True)``; for Polars
  ``scan_*().collect_batches()``) and take its first 10,000 rows as dicts;
* ``full pass (rows)``: every row as a dict;
* ``full pass (batches)``: every row in batches of 10,000 rows, in each engine's own columnar
  format (Polars DataFrames for crucible_polars and Polars, Arrow tables for ``datasets``;
  ``format="arrow"`` costs crucible_polars a conversion to ``datasets``' exact Arrow types);
* ``numpy batches``: a full pass over the parquet file in numpy batches of 10,000 rows
  (``iter(batch_size=10_000, format="numpy")``), of the numeric columns and of all columns.
  ``polars`` is ``collect_batches`` and Polars' own ``Series.to_numpy()`` to ``datasets``'
  numpy types (strings a ``<U`` array, floats ``float32``, ragged lists an object array of
  ``int64`` arrays); ``polars-plain`` is ``to_numpy()`` as it is (object strings, float64).
  The engines take turns run by run; wall and CPU time are both reported, with the main
  thread's wall time off a core split into waiting in the run queue (the machine's load)
  and asleep (waiting for the next frame, or a lock: Linux ``schedstat``); the types of
  the first batch must agree (but for ``polars-plain``);

over the shared 2M-row table (``_common.synthetic_frame``: ``id``, ``label``, ``score``,
``text``, ``tokens``) as parquet and as JSON lines; then ``first 10k rows`` from the test Hub
(``crucible_polars.testing.hub_server``, on 127.0.0.1) with the bytes each engine fetched.

Last, peak resident memory (``VmHWM``) of a full streaming pass, in batches, over generated
parquet files of about 1 GB and 5 GB (the 2M-row table repeated, ids shifted; written once to
``benchmarks/_data``), for crucible_polars and for Polars' own streaming engine: the target is
under 1 GB and flat as the file grows. ``datasets`` is left out of that section (a pass over
5 GB takes it tens of minutes).

Usage::

    python benchmarks/bench_streaming.py                  # 2M rows, 3 repeats, 1 and 5 GB
    python benchmarks/bench_streaming.py --quick          # 100k rows, 1 repeat, no big files
    python benchmarks/bench_streaming.py --big-gb 1 5 10  # other big-file sizes
    python benchmarks/bench_streaming.py --numpy-only     # only the numpy-batches pass
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

os.environ["HF_HUB_OFFLINE"] = "0"  # the Hub section reaches the local test Hub

from _common import DATA_DIR, Ratio, data_file, peak_rss_mib, ratio_table, synthetic_files

ENGINES = ("crucible_polars", "datasets", "polars")
FIRST = 10_000
BATCH = 10_000

CHILD: dict[str, str] = {
    "crucible_polars": """
        import crucible_polars as cp
        def run(source, fmt, task):
            if fmt == "hub":
                ds = cp.load_dataset(source, split="train", streaming=True)
            else:
                ds = cp.load_dataset(fmt, data_files=source, split="train", streaming=True)
            if task.startswith("numpy"):
                if task == "numpy-numeric":
                    ds = ds.select_columns(NUMERIC)
                n, kind = 0, None
                for batch in ds.iter(batch_size=BATCH, format="numpy"):
                    n += len(batch["id"])
                    kind = kind or types(batch)
                return n, kind
            if task == "first":
                rows = list(itertools.islice(ds, FIRST))
                return len(rows), rows[-1]["id"]
            if task == "rows":
                n = last = 0
                for row in ds:
                    n += 1
                    last = row["id"]
                return n, last
            n = 0
            for frame in ds.iter(batch_size=BATCH, format="polars"):
                n += frame.height
            return n, None
    """,
    "datasets": """
        import datasets
        def run(source, fmt, task):
            if fmt == "hub":
                ds = datasets.load_dataset(source, split="train", streaming=True)
            else:
                ds = datasets.load_dataset(fmt, data_files=source, split="train", streaming=True)
            if task.startswith("numpy"):
                if task == "numpy-numeric":
                    ds = ds.select_columns(NUMERIC)
                n, kind = 0, None
                for batch in ds.with_format("numpy").iter(batch_size=BATCH):
                    n += len(batch["id"])
                    kind = kind or types(batch)
                return n, kind
            if task == "first":
                rows = list(itertools.islice(ds, FIRST))
                return len(rows), rows[-1]["id"]
            if task == "rows":
                n = last = 0
                for row in ds:
                    n += 1
                    last = row["id"]
                return n, last
            n = 0
            for table in ds.with_format("arrow").iter(batch_size=BATCH):
                n += table.num_rows
            return n, None
    """,
    "polars": """
        import numpy as np
        import polars as pl
        def like_datasets(s):
            # datasets' numpy types through Polars' own conversion (Series.to_numpy): strings
            # a fixed-width <U array, floats float32, integers int64, ragged lists an object
            # array of per-row int64 arrays
            if s.dtype == pl.String:
                return s.to_numpy().astype(str)
            if s.dtype.is_float():
                return s.cast(pl.Float32).to_numpy()
            if s.dtype.is_integer():
                return s.cast(pl.Int64).to_numpy()
            return s.to_numpy()
        def run(source, fmt, task):
            lf = pl.scan_parquet(source) if fmt == "parquet" else pl.scan_ndjson(source)
            if task.startswith("numpy"):
                if task == "numpy-numeric":
                    lf = lf.select(NUMERIC)
                n, kind = 0, None
                for frame in lf.collect_batches(chunk_size=BATCH):
                    batch = {c: like_datasets(frame[c]) for c in frame.columns}
                    n += len(batch["id"])
                    kind = kind or types(batch)
                return n, kind
            if task == "first":
                rows = []
                for frame in lf.collect_batches():
                    rows.extend(frame.head(FIRST - len(rows)).to_dicts())
                    if len(rows) >= FIRST:
                        break
                return len(rows), rows[-1]["id"]
            if task == "rows":
                n = last = 0
                for frame in lf.collect_batches():
                    for row in frame.to_dicts():
                        n += 1
                        last = row["id"]
                return n, last
            n = 0
            for frame in lf.collect_batches(chunk_size=BATCH):
                n += frame.height
            return n, None
    """,
}

CHILD["polars-plain"] = """
    import numpy as np  # imported before the clock starts, as by the other engines
    import polars as pl
    def run(source, fmt, task):
        # Polars' to_numpy() as it is: strings an object array, floats float64
        lf = pl.scan_parquet(source)
        if task == "numpy-numeric":
            lf = lf.select(NUMERIC)
        n, kind = 0, None
        for frame in lf.collect_batches(chunk_size=BATCH):
            batch = {c: frame[c].to_numpy() for c in frame.columns}
            n += len(batch["id"])
            kind = kind or types(batch)
        return n, kind
"""

RUNNER = """
import itertools, json, os, sys, threading, time
def sched():
    # the main thread's time on a core and waiting in the run queue for one (Linux)
    try:
        path = f"/proc/self/task/{{threading.get_native_id()}}/schedstat"
        on_cpu, queued = open(path).read().split()[:2]
        return int(on_cpu) / 1e9, int(queued) / 1e9
    except (OSError, ValueError):
        return float("nan"), float("nan")
FIRST, BATCH = {first}, {batch}
NUMERIC = ["id", "label", "score"]
def types(batch):
    # a numpy batch's types: dtype kind and item size per column; an object column by the
    # type of its first item (and its dtype)
    out = {{}}
    for name, column in batch.items():
        out[name] = column.dtype.str[1:2] + str(column.dtype.itemsize)
        if column.dtype == object:
            first = column[0]
            out[name] += ":" + type(first).__name__ + str(getattr(first, "dtype", ""))
    return out
{engine_code}
source, fmt, task = sys.argv[1:4]
t0, cpu0, (on0, queued0) = time.perf_counter(), time.process_time(), sched()
count, check = run(source, fmt, task)
seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
on_cpu, queued = (b - a for a, b in zip((on0, queued0), sched()))
result = {{"seconds": seconds, "cpu": cpu, "rows": count, "check": check, "queued": queued}}
result["blocked"] = max(seconds - on_cpu - queued, 0.0)  # the main thread asleep: waiting
print(json.dumps(result), flush=True)
os._exit(0)  # a half-consumed `datasets` stream can keep the interpreter from exiting
"""

TASKS = {"first": "first 10k rows", "rows": "full pass (rows)", "batches": "full pass (batches)"}


REPO_ROOT = Path(__file__).resolve().parent.parent


def run_child(engine: str, source: str, fmt: str, task: str, env: dict[str, str]) -> dict[str, Any]:
    code = RUNNER.format(first=FIRST, batch=BATCH, engine_code=textwrap.dedent(CHILD[engine]))
    # this checkout's crucible_polars, not whichever one the environment has installed
    path = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    env = {**env, "PYTHONPATH": path}
    done = subprocess.run(
        [sys.executable, "-c", code, source, fmt, task],
        capture_output=True,
        text=True,
        timeout=3600,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{engine} {fmt} {task} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def median_run(
    engine: str, source: str, fmt: str, task: str, repeats: int, env: dict[str, str]
) -> dict[str, Any]:
    runs = [run_child(engine, source, fmt, task, env) for _ in range(repeats)]
    answers = {(r["rows"], r["check"]) for r in runs}
    if len(answers) != 1:
        raise RuntimeError(f"{engine} {fmt} {task}: runs disagree: {answers}")
    return {**runs[0], "seconds": statistics.median(r["seconds"] for r in runs)}


def local_section(rows: int, repeats: int) -> None:
    files = synthetic_files(rows)
    env = dict(os.environ)
    for fmt, path in (("parquet", files["parquet"]), ("json", files["jsonl"])):
        results: dict[str, dict[str, float]] = {}
        for task, title in TASKS.items():
            answers = {}
            seconds = {}
            for engine in ENGINES:
                result = median_run(engine, str(path), fmt, task, repeats, env)
                seconds[engine] = result["seconds"]
                answers[engine] = (result["rows"], result["check"])
            if len(set(answers.values())) != 1:
                raise RuntimeError(f"{fmt} {task}: engines disagree: {answers}")
            results[f"{fmt} {title}"] = seconds
            print(f"  {fmt} {title}: {seconds}", file=sys.stderr, flush=True)
        print(f"\n### {'JSON lines' if fmt == 'json' else 'parquet'}, {rows:,} rows\n")
        first = {k: v for k, v in results.items() if "first" in k}
        full = {k: v for k, v in results.items() if "first" not in k}
        print(
            ratio_table(
                first,
                ENGINES,
                [
                    Ratio("crucible_polars", "polars", at_most=1.5),
                    Ratio("datasets", "crucible_polars", at_least=8),
                ],
            )
        )
        print()
        print(
            ratio_table(
                full,
                ENGINES,
                [
                    Ratio("crucible_polars", "polars", at_most=1.3),
                    Ratio("datasets", "crucible_polars", at_least=8),
                ],
            )
        )


NUMPY_TASKS = {"numpy-numeric": "numeric columns", "numpy-all": "all columns"}


NUMPY_ENGINES = ("crucible_polars", "polars", "polars-plain", "datasets")


def load_average() -> str:
    """The 1-minute load average (other jobs on the machine skew every timing)."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def numpy_section(rows: int, repeats: int) -> None:
    """A full pass in numpy batches of 10k rows over the parquet file, the engines taking
    turns run by run (one round: each engine once), wall and CPU time."""
    path = synthetic_files(rows, formats=("parquet",))["parquet"]
    env = dict(os.environ)
    wall: dict[str, dict[str, float]] = {}
    cpu: dict[str, dict[str, float]] = {}
    queued: dict[str, dict[str, float]] = {}
    blocked: dict[str, dict[str, float]] = {}
    loads = [load_average()]
    for task, title in NUMPY_TASKS.items():
        runs: dict[str, list[dict[str, Any]]] = {engine: [] for engine in NUMPY_ENGINES}
        for _ in range(repeats):
            for engine in NUMPY_ENGINES:
                runs[engine].append(run_child(engine, str(path), "parquet", task, env))
            loads.append(load_average())
        types = {e: json.dumps(r[0]["check"], sort_keys=True) for e, r in runs.items()}
        counts = {r["rows"] for rs in runs.values() for r in rs}
        same = {types[e] for e in NUMPY_ENGINES if e != "polars-plain"}
        if len(counts) != 1 or len(same) != 1:
            raise RuntimeError(f"numpy {task}: engines disagree: {counts} {types}")
        key = f"numpy batches, {title}"
        wall[key] = {e: statistics.median(r["seconds"] for r in rs) for e, rs in runs.items()}
        cpu[key] = {e: statistics.median(r["cpu"] for r in rs) for e, rs in runs.items()}
        queued[key] = {e: statistics.median(r["queued"] for r in rs) for e, rs in runs.items()}
        blocked[key] = {e: statistics.median(r["blocked"] for r in rs) for e, rs in runs.items()}
        print(f"  numpy {title}: {wall[key]} cpu {cpu[key]}", file=sys.stderr, flush=True)
        print(f"  types: {types}", file=sys.stderr, flush=True)
    ratios = [
        Ratio("crucible_polars", "polars", at_most=1.3),
        Ratio("crucible_polars", "polars-plain"),
        Ratio("datasets", "crucible_polars", at_least=8),
    ]
    print(f"\n### Full pass in numpy batches of 10k rows, parquet, {rows:,} rows\n")
    print(f"Median of {repeats} interleaved runs; 1-minute load average {', '.join(loads)}.\n")
    print("Wall time:\n")
    print(ratio_table(wall, NUMPY_ENGINES, ratios))
    print("\nCPU time (every thread of the process):\n")
    print(ratio_table(cpu, NUMPY_ENGINES, ratios))
    print(
        "\nThe main thread's wall time off a core: waiting in the run queue for one (the"
        " machine's load), or asleep (waiting for the reader's next frame, or a lock):\n"
    )
    off = {}
    for key in wall:
        off[f"{key}: run queue"] = queued[key]
        off[f"{key}: asleep"] = blocked[key]
    print(ratio_table(off, NUMPY_ENGINES))


def hub_section(rows: int, repeats: int) -> None:
    from crucible_polars.testing.hub_server import HubServer

    parquet = synthetic_files(rows, formats=("parquet",))["parquet"]
    with tempfile.TemporaryDirectory(prefix="bench-stream-hub-") as tmp:
        folder = Path(tmp) / "repo" / "data"
        folder.mkdir(parents=True)
        (folder / "train-00000-of-00001.parquet").symlink_to(parquet)
        with HubServer() as hub:
            hub.add_repo("bench/stream", folder.parent, in_memory=False)
            seconds: dict[str, float] = {}
            fetched: dict[str, float] = {}
            for engine in ("crucible_polars", "datasets"):
                runs = []
                for _ in range(repeats):
                    home = Path(tmp) / f"home-{engine}-{len(runs)}"
                    env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HOME": str(home)}
                    env["HF_DATASETS_CACHE"] = str(home / "datasets")
                    hub.reset_counters()
                    result = run_child(engine, "bench/stream", "hub", "first", env)
                    result["bytes"] = hub.bytes_served("train-00000-of-00001.parquet")
                    runs.append(result)
                seconds[engine] = statistics.median(r["seconds"] for r in runs)
                fetched[engine] = statistics.median(r["bytes"] for r in runs)
        size = parquet.stat().st_size
        print(f"\n### From the test Hub (127.0.0.1), {rows:,}-row parquet of {size / 1e6:.0f} MB\n")
        print(
            ratio_table(
                {"hub first 10k rows": seconds},
                ("crucible_polars", "datasets"),
                [Ratio("datasets", "crucible_polars", at_least=8)],
            )
        )
        print()
        for engine, count in fetched.items():
            print(f"- {engine} fetched {count / 1e6:.1f} MB ({count / size:.1%} of the file)")


def big_file(gb: float) -> Path:
    """A parquet file of about ``gb`` GB: the 2M-row table repeated, ids shifted."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = synthetic_files(2_000_000, formats=("parquet",))["parquet"]
    copies = max(1, round(gb * 1e9 / source.stat().st_size))

    def build(path: Path) -> None:
        table = pq.read_table(source)
        n = table.num_rows
        ids = table.column("id").to_numpy()
        with pq.ParquetWriter(path, table.schema, compression="zstd") as writer:
            for copy in range(copies):
                shifted = table.set_column(0, "id", pa.array(ids + copy * n))
                writer.write_table(shifted, row_group_size=100_000)

    return data_file(f"stream-big-{copies}x2M.parquet", build)


RSS_CODE = {
    "crucible_polars": """
import crucible_polars as cp, sys, time
ds = cp.load_dataset("parquet", data_files=sys.argv[1], split="train", streaming=True)
n = sum(f.height for f in ds.iter(batch_size=10_000, format="polars"))
""",
    "polars": """
import polars as pl, sys
batches = pl.scan_parquet(sys.argv[1]).collect_batches(chunk_size=10_000)
n = sum(f.height for f in batches)
""",
}


def rss_section(sizes: list[float]) -> None:
    print("\n### Peak RSS of a full streaming pass (batches of 10k rows)\n")
    print("| file | crucible_polars MiB | crucible_polars s | polars MiB | polars s |")
    print("|---|---|---|---|---|")
    for gb in sizes:
        path = big_file(gb)
        cells = []
        for engine in ("crucible_polars", "polars"):
            code = RSS_CODE[engine].replace("sys.argv[1]", repr(str(path)))
            start = time.perf_counter()
            mib = peak_rss_mib(code, timeout=7200)
            cells += [f"{mib:.0f}", f"{time.perf_counter() - start:.1f}"]
        size = f"{path.stat().st_size / 1e9:.1f} GB"
        print(f"| {size} | " + " | ".join(cells) + " |", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--big-gb", type=float, nargs="*", default=[1.0, 5.0])
    parser.add_argument("--quick", action="store_true", help="100k rows, 1 repeat, no big files")
    parser.add_argument("--skip-hub", action="store_true")
    parser.add_argument("--numpy-only", action="store_true", help="only the numpy-batches pass")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.repeats, args.big_gb = 100_000, 1, []
    machine = platform.processor() or platform.machine()
    print(f"## bench_streaming.py: {machine}, {os.cpu_count()} cores, data in {DATA_DIR}")
    if not args.numpy_only:
        local_section(args.rows, args.repeats)
    numpy_section(args.rows, args.repeats)
    if args.numpy_only:
        return 0
    if not args.skip_hub:
        hub_section(args.rows, args.repeats)
    if args.big_gb:
        rss_section(args.big_gb)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
