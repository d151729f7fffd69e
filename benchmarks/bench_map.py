"""A Python-function ``map`` at ``num_proc`` 1 and 2: crucible_polars vs ``datasets``.

On the shared synthetic table (``_common.synthetic_files``, parquet, ``--rows`` rows), a
row-wise ``map`` with a Python function (words per text), then the new column read as
numpy, for each library at ``num_proc=None`` and ``num_proc=2``. ``datasets`` reads the
parquet file into its Arrow cache first (untimed) and maps with ``load_from_cache_file=
False``, so each run does the work. The four engines take turns run by run
(``measure_interleaved``). Targets (issue 12): at the same ``num_proc`` at least 1.5x faster
than ``datasets``; ``num_proc=2`` at least 1.6x faster than ``num_proc=1`` on 2 cores (only
reachable on an otherwise idle machine: state ``/proc/loadavg`` with the figures).

``--function`` picks the row function: ``words`` (reads one column, the default),
``every-column`` (reads all five), ``spread`` (``{**row, ...}``).

As the machine is shared, each run's CPU seconds are printed too: the main process's, its
child processes' (``datasets``' pool, reaped at the end of each ``map``; our worker pool,
alive across maps, read from ``/proc``) and the rest of the machine's meanwhile (while
another session keeps a core busy, the kernel gives this session one core in all: a
``num_proc=2`` run is then no faster). Our first ``num_proc=2`` run also starts the
worker pool (two interpreters importing the package, about a CPU second each): by default
one warm-up round runs untimed, as in a session that maps more than once, and its figures
are printed beside the timed runs (``--warmup 0`` times the start too).

Run: ``python benchmarks/bench_map.py [--rows 1000000] [--repeats 3] [--warmup 1]
[--function words]``.
"""

from __future__ import annotations

import argparse
import glob
import os
import resource
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import ColdCache, Ratio, measure_interleaved, ratio_table, synthetic_files

ENGINES = ["datasets np1", "ours np1", "datasets np2", "ours np2"]
RATIOS = [
    Ratio("datasets np1", "ours np1", at_least=1.5),
    Ratio("datasets np2", "ours np2", at_least=1.5),
    Ratio("ours np1", "ours np2", at_least=1.6),
]


def words(row: dict[str, Any]) -> dict[str, int]:
    return {"n_words": len(row["text"].split())}


def every_column(row: dict[str, Any]) -> dict[str, float]:
    """Reads every column of the row (a row converts a column when it is first read)."""
    return {
        "n_words": row["id"] + row["label"] + row["score"] + len(row["text"]) + len(row["tokens"])
    }


def spread(row: dict[str, Any]) -> dict[str, Any]:
    """The row as a dict, extended (``{**row, ...}``: every column converted)."""
    return {**row, "n_words": len(row["text"].split())}


FUNCTIONS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "words": words,
    "every-column": every_column,
    "spread": spread,
}


def tasks(
    path: str, cache_dir: str, function: Callable[[dict[str, Any]], dict[str, Any]] = words
) -> dict[str, Callable[[], Any]]:
    """Each engine's whole work: map every row, read the new column."""
    import datasets as hf

    import crucible_polars as cp

    hf.disable_progress_bars()
    cp.disable_progress_bars()
    theirs = hf.Dataset.from_parquet(path, cache_dir=cache_dir)  # untimed Arrow conversion
    ours = cp.load_dataset("parquet", data_files=path, split="train")

    def run_theirs(num_proc: int | None) -> Any:
        out = theirs.map(function, num_proc=num_proc, load_from_cache_file=False)
        return out.with_format("numpy")["n_words"]

    def run_ours(num_proc: int | None) -> Any:
        return ours.map(function, num_proc=num_proc).with_format("numpy")["n_words"]

    return {
        "datasets np1": lambda: run_theirs(None),
        "ours np1": lambda: run_ours(None),
        "datasets np2": lambda: run_theirs(2),
        "ours np2": lambda: run_ours(2),
    }


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of a live process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_now() -> tuple[float, float, dict[int, float]]:
    """CPU seconds so far: this process, its reaped children, each live child (Linux)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    pids = {
        int(pid)
        for path in glob.glob(f"/proc/{os.getpid()}/task/*/children")
        for pid in Path(path).read_text().split()
    }
    return (
        own.ru_utime + own.ru_stime,
        reaped.ru_utime + reaped.ru_stime,
        {pid: _process_cpu(pid) for pid in pids},
    )


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (all processes, ``/proc/stat``)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def with_cpu(
    fn: Callable[[], Any], spent: list[tuple[float, float, float, float]]
) -> Callable[[], Any]:
    """``fn`` that appends ``(wall, main CPU, children CPU, other processes' CPU)`` seconds
    of each run to ``spent`` (the last: what the rest of the machine took meanwhile)."""

    def run() -> Any:
        own, reaped, live = cpu_now()
        busy = machine_busy()
        start = time.perf_counter()
        out = fn()
        wall = time.perf_counter() - start
        busy = machine_busy() - busy
        own_after, reaped_after, live_after = cpu_now()
        children = reaped_after - reaped
        children += sum(t - live.get(pid, 0.0) for pid, t in live_after.items())
        own = own_after - own
        spent.append((wall, own, children, max(busy - own - children, 0.0)))
        return out

    return run


def loadavg() -> list[str]:
    """The 1, 5 and 15 minute load averages (the machine is shared)."""
    return Path("/proc/loadavg").read_text().split()[:3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--function", choices=sorted(FUNCTIONS), default="words")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    path = str(synthetic_files(args.rows, formats=("parquet",))["parquet"])
    print(f"rows={args.rows:,} cores={os.cpu_count()} loadavg={loadavg()}")
    spent: dict[str, list[tuple[float, float, float, float]]] = {name: [] for name in ENGINES}
    with ColdCache() as cache:
        fns = {
            name: with_cpu(fn, spent[name])
            for name, fn in tasks(path, cache.path, FUNCTIONS[args.function]).items()
        }
        timings = measure_interleaved(fns, warmup=args.warmup, repeats=args.repeats)
    label = f"map python (rows) {args.function}"
    results = {label: {name: t.median for name, t in timings.items()}}
    print(ratio_table(results, ENGINES, RATIOS))
    print(
        "\nEach run: wall s / CPU s of the main process / of its child processes / of the"
        " rest of the machine meanwhile"
    )
    for name in ENGINES:
        runs = [
            f"{wall:.2f}/{own:.2f}/{children:.2f}/{others:.2f}"
            + (" (warm-up)" if k < args.warmup else "")
            for k, (wall, own, children, others) in enumerate(spent[name])
        ]
        timed = spent[name][args.warmup :]
        cpu = statistics.median(own + children for _, own, children, _ in timed)
        print(f"  {name:13s} {', '.join(runs)}; median CPU s {cpu:.2f}")
    print(f"loadavg after: {loadavg()}")


if __name__ == "__main__":
    main()
