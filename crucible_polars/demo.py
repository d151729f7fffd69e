"""The demo: a lazy query with its pushed-down plan and a numpy batch, on packaged data.

Runs offline: :func:`run_demo` reads the GSM8K sample that ships inside the package;
:func:`run_hub_demo` serves that sample from a local test Hub and loads it through the Hub
code path (``crucible-polars demo --hub``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl


def sample_path() -> Path:
    """The folder of the packaged GSM8K sample (laid out like the Hub repo ``openai/gsm8k``).

    Examples
    --------
    >>> (sample_path() / "LICENSE").is_file()
    True
    """
    return Path(str(resources.files("crucible_polars") / "data" / "gsm8k_sample"))


def run_demo(print_fn: Callable[..., Any] | None = None) -> dict[str, object]:
    """Run the demo, printing each step; returns what it showed (for tests).

    Examples
    --------
    >>> out = run_demo(print_fn=lambda *a, **k: None)
    >>> out["batch_shape"]
    (8,)
    """
    import crucible_polars as cp

    say = print_fn or print
    folder = sample_path()
    say(
        f"# 1. Load the packaged GSM8K sample (config 'main') from {folder.name}/ "
        "— nothing is read yet"
    )
    dsd = cp.load_dataset(str(folder))
    say(dsd)

    train = dsd["train"]
    say(
        "\n# 2. A lazy query: a Polars expression adds the final answer, "
        "a filter keeps multi-step problems"
    )
    query = (
        train.with_columns(final=pl.col("answer").str.extract(r"####\s*(.+)$").str.strip_chars())
        .filter(pl.col("answer").str.count_matches("<<") >= 4)
        .select_columns(["question", "final"])
    )
    say("Optimized plan (projection and selection pushed into the parquet scan):")
    plan = query.explain()
    say(plan)
    say(f"\nrows matching: {len(query)} of {len(train)}")
    say(query.lazy().head(3).collect())

    say("\n# 3. A numpy batch for a trainer")
    batch = next(query.iter(batch_size=8, format="numpy"))
    for name, array in batch.items():
        say(f"{name}: {type(array).__name__} dtype={array.dtype} shape={array.shape}")
    say(f"first final answers: {batch['final'][:4].tolist()}")
    return {"plan": plan, "rows": len(query), "batch_shape": batch["final"].shape}


#: Variables the Hub demo's child process must not inherit: its Hub, cache and token are its own.
CHILD_ENV_DROP = (
    "HF_TOKEN",
    "HF_TOKEN_PATH",
    "HF_HUB_CACHE",
    "HUGGINGFACE_HUB_CACHE",
    "HF_DATASETS_CACHE",
    "HF_HUB_OFFLINE",
    "HF_DATASETS_OFFLINE",
    "TRANSFORMERS_OFFLINE",
)


def run_hub_demo(print_fn: Callable[..., Any] = print, timeout: float = 600) -> int:
    """Serve the packaged GSM8K sample as ``openai/gsm8k`` on a local test Hub and load it.

    The loading runs in a child process (:func:`hub_demo_child`) whose ``HF_ENDPOINT`` points
    at the test Hub and whose ``HF_HOME`` is a temporary folder, both set before
    ``huggingface_hub`` is imported there; no token is sent.

    Parameters
    ----------
    print_fn
        Receives each line of the demo.
    timeout
        Seconds the child may run.

    Returns
    -------
    int
        The child's exit status.

    Examples
    --------
    >>> run_hub_demo()  # doctest: +SKIP
    0
    """
    from crucible_polars.testing.hub_server import HubServer

    with tempfile.TemporaryDirectory(prefix="crucible-demo-hf-home-") as home, HubServer() as hub:
        sha = hub.add_repo("openai/gsm8k", sample_path())
        env = {k: v for k, v in os.environ.items() if k not in CHILD_ENV_DROP}
        env.update(
            HF_ENDPOINT=hub.url,
            HF_HOME=home,
            HF_HUB_DISABLE_TELEMETRY="1",
            HF_HUB_DISABLE_IMPLICIT_TOKEN="1",
            HF_HUB_DISABLE_PROGRESS_BARS="1",
        )
        print_fn(f"# A test Hub on {hub.url} serves the packaged GSM8K sample as openai/gsm8k")
        print_fn(f"# (commit {sha[:10]}); HF_ENDPOINT points at it, HF_HOME is {home}\n")
        code = "from crucible_polars.demo import hub_demo_child; raise SystemExit(hub_demo_child())"
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, timeout=timeout, capture_output=True, text=True
        )
        for line in result.stdout.splitlines():
            print_fn(line)
        if result.returncode:
            print_fn(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed")
        files = hub.count("GET", "/resolve/")
        print_fn(
            f"\n# The test Hub answered {len(hub.requests)} requests, {files} file downloads, "
            f"{hub.bytes_served()} bytes."
        )
        return result.returncode


def hub_demo_child() -> int:
    """The loading side of :func:`run_hub_demo`, run in the child process it starts.

    Returns
    -------
    int
        The exit status (0).

    Examples
    --------
    >>> hub_demo_child()  # doctest: +SKIP
    0
    """
    import crucible_polars as cp
    from crucible_polars import cache

    print('# 1. cp.load_dataset("gsm8k") — the catalog short name of openai/gsm8k')
    dsd = cp.load_dataset("gsm8k")
    print(dsd)
    print("\n# 2. A lazy query on the cached parquet files")
    query = (
        dsd["train"]
        .with_columns(final=pl.col("answer").str.extract(r"####\s*(.+)$").str.strip_chars())
        .filter(pl.col("answer").str.count_matches("<<") >= 4)
        .select_columns(["question", "final"])
    )
    with pl.Config(fmt_str_lengths=50, tbl_hide_dataframe_shape=True):
        print(query.lazy().head(3).collect())
    print(f"rows matching: {len(query)} of {len(dsd['train'])}")
    print("\n# 3. The files live in the huggingface_hub cache (crucible-polars cache info):")
    print(cache.info())
    print("\n# 4. cache verify: every cached file against the Hub's checksums")
    print(cache.verify("openai/gsm8k"))
    return 0
