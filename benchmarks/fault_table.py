"""Print the fault-injection table of ``docs/reliability.md``.

Starts the test Hub on 127.0.0.1, runs every trial of
:mod:`crucible_polars.testing.fault_trials` (targets × faults × modes × transient/persistent)
with a fresh cache each, and prints one line per trial that falls short of the bar, then the
table. Waits and timeouts are the quick ones of ``fault_trials.fast_settings``.

Usage::

    python benchmarks/fault_table.py               # every trial
    python benchmarks/fault_table.py -k api-stall  # the trials whose name contains it
    python benchmarks/fault_table.py -v            # a line for every trial
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import time
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main(argv: list[str] | None = None) -> int:
    """Run the trials and print the table; exit status 1 if any trial falls short."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="only trials whose name contains this")
    parser.add_argument("-v", "--verbose", action="store_true", help="a line per trial")
    args = parser.parse_args(argv)

    port = _free_port()
    home = tempfile.mkdtemp(prefix="fault-table-hf-home-")
    os.environ["HF_ENDPOINT"] = f"http://127.0.0.1:{port}"  # before huggingface_hub loads
    os.environ["HF_HOME"] = home
    os.environ.pop("HF_TOKEN", None)
    os.environ.pop("HF_HUB_OFFLINE", None)

    from crucible_polars.testing import fault_trials as ft
    from crucible_polars.testing.hub_server import HubServer

    ft.apply_settings(ft.fast_settings())
    hub = HubServer(port=port)
    hub.start()
    try:
        outcomes = []
        started = time.perf_counter()
        for n, trial in enumerate(t for t in ft.all_trials() if args.k in t.name):
            outcome = ft.run_trial(hub, trial, Path(home) / f"cache-{n}")
            outcomes.append(outcome)
            if args.verbose or not outcome.good:
                mark = "  " if outcome.good else "!!"
                print(
                    f"{mark} {trial.name:40s} {outcome.result:13s} offline={outcome.offline} "
                    f"lifted={outcome.lifted} corrupt={len(outcome.corrupt_cache)} "
                    f"{outcome.detail[:160]}",
                    flush=True,
                )
        print()
        print(ft.table(outcomes))
        print(f"\n{len(outcomes)} trials in {time.perf_counter() - started:.0f} s")
    finally:
        hub.stop()
    return 0 if all(o.good for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
