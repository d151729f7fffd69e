"""crucible_polars vs HuggingFace ``datasets`` loading GSM8K from a (local) Hub.

Serves the ``openai/gsm8k`` layout (``tests/hub_repos.py``: configs ``main``/``socratic``,
parquet shards, the real README YAML; built from ``tests/data/gsm8k``) from the test Hub
(``crucible_polars.testing.hub_server``) on 127.0.0.1, then times, for each engine, in a
fresh interpreter with an empty ``HF_HOME`` per run (so downloads always count):

* ``first rows (cold)``: ``load_dataset(repo, "main", split="test")``, then its first 5 rows.
* ``first rows, streaming (cold)``: the same with ``streaming=True`` (first 5 rows of the
  iterator); skipped for an engine whose streaming is not available.
* ``full load (cold)``: ``load_dataset(repo, "main")`` and every row of both splits as Arrow.
* ``full load (warm)``: the same again in the same process, caches populated (for us: one
  metadata request, no download; for ``datasets``: its Arrow cache).

Each of ``first rows``, ``streaming`` and ``full load`` runs in its own process.
* ``import``: ``import crucible_polars`` vs ``import datasets`` (paid once per process).

Times are measured inside the child, after its imports. The answers (row counts and the
first rows) are compared across engines before the table is printed.

Usage::

    python benchmarks/bench_hub.py                # 5 repeats
    python benchmarks/bench_hub.py --repeats 1    # a quick run
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
from pathlib import Path
from typing import Any

# The children must reach the local Hub: undo _common's offline default before importing it.
os.environ["HF_HUB_OFFLINE"] = "0"

from _common import Ratio, ratio_table

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))

import hub_repos  # noqa: E402

from crucible_polars.testing.hub_server import HubServer  # noqa: E402

REPO = "openai/gsm8k"
ENGINES = ("crucible_polars", "datasets")
TASKS = ("first rows (cold)", "first rows, streaming (cold)", "full load (cold)")
TASKS += ("full load (warm)", "import")

CHILD = {
    "crucible_polars": """
        import itertools, json, os, sys, time
        t0 = time.perf_counter()
        import crucible_polars as cp
        out = {"import": time.perf_counter() - t0}
        repo, part = sys.argv[1], sys.argv[2]
        t0 = time.perf_counter()
        if part == "first":
            ds = cp.load_dataset(repo, "main", split="test")
            out["first"] = ds[:5]["question"]
            out["first rows (cold)"] = time.perf_counter() - t0
        elif part == "stream":
            try:
                it = cp.load_dataset(repo, "main", split="test", streaming=True)
                out["first"] = [r["question"] for r in itertools.islice(iter(it), 5)]
                out["first rows, streaming (cold)"] = time.perf_counter() - t0
            except NotImplementedError:
                pass
        else:
            for task in ("full load (cold)", "full load (warm)"):
                t0 = time.perf_counter()
                dsd = cp.load_dataset(repo, "main")
                tables = {s: d.to_arrow() for s, d in dsd.items()}
                out[task] = time.perf_counter() - t0
            out["rows"] = {s: t.num_rows for s, t in tables.items()}
        print(json.dumps(out), flush=True)
        os._exit(0)
    """,
    "datasets": """
        import itertools, json, os, sys, time
        t0 = time.perf_counter()
        import datasets
        out = {"import": time.perf_counter() - t0}
        repo, part = sys.argv[1], sys.argv[2]
        t0 = time.perf_counter()
        if part == "first":
            ds = datasets.load_dataset(repo, "main", split="test")
            out["first"] = ds[:5]["question"]
            out["first rows (cold)"] = time.perf_counter() - t0
        elif part == "stream":
            it = datasets.load_dataset(repo, "main", split="test", streaming=True)
            out["first"] = [r["question"] for r in itertools.islice(iter(it), 5)]
            out["first rows, streaming (cold)"] = time.perf_counter() - t0
        else:
            for task in ("full load (cold)", "full load (warm)"):
                t0 = time.perf_counter()
                dsd = datasets.load_dataset(repo, "main")
                tables = {s: d.with_format("arrow")[:] for s, d in dsd.items()}
                out[task] = time.perf_counter() - t0
            out["rows"] = {s: t.num_rows for s, t in tables.items()}
        print(json.dumps(out), flush=True)
        os._exit(0)  # a partly consumed streaming iterator must not hold the exit
    """,
}
PARTS = ("first", "stream", "full")


def run_child(engine: str, part: str, url: str) -> dict[str, Any]:
    """One cold run of one part in a fresh interpreter with an empty HF_HOME."""
    with tempfile.TemporaryDirectory(prefix="bench-hub-") as home:
        env = {
            **os.environ,
            "HF_ENDPOINT": url,
            "HF_HOME": home,
            "HF_HUB_CACHE": f"{home}/hub",
            "HF_DATASETS_CACHE": f"{home}/datasets",
            "HF_HUB_OFFLINE": "0",
        }
        env.pop("HF_TOKEN", None)
        proc = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(CHILD[engine]), REPO, part],
            env=env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{engine} run failed:\n{proc.stderr}")
        result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the side-by-side table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="cold runs per engine")
    args = parser.parse_args(argv)

    with HubServer() as server:
        hub_repos.add_gsm8k(server, REPO)
        runs: dict[str, dict[str, list[dict[str, Any]]]] = {
            e: {p: [] for p in PARTS} for e in ENGINES
        }
        for _ in range(args.repeats):
            for part in PARTS:
                for engine in ENGINES:  # interleaved, so machine noise hits both alike
                    runs[engine][part].append(run_child(engine, part, server.url))

    rows = {e: runs[e]["full"][0]["rows"] for e in ENGINES}
    reference = runs["datasets"]["first"][0]["first"]
    if rows["crucible_polars"] != rows["datasets"]:
        raise SystemExit(f"the engines disagree on the row counts: {rows}")
    for engine in ENGINES:
        for part in ("first", "stream"):
            got = runs[engine][part][0].get("first")
            if got is not None and got != reference:
                raise SystemExit(f"{engine}'s first rows ({part}) differ: {got}")
    merged = {e: [r for p in PARTS for r in runs[e][p]] for e in ENGINES}
    table = {
        task: {
            e: statistics.median(r[task] for r in merged[e] if task in r)
            for e in ENGINES
            if any(task in r for r in merged[e])
        }
        for task in TASKS
    }
    print(
        f"GSM8K ({REPO}, config main: {rows['datasets']} rows) from the local test Hub; "
        f"median of {args.repeats} cold runs; {platform.platform()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(ratio_table(table, ENGINES, [Ratio("datasets", "crucible_polars")]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
