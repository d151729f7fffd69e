"""benchmarks/bench_map.py keeps running (on a tiny table; no timing is checked)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_map.py"


def test_bench_map_runs_on_a_tiny_table(tmp_path: Path) -> None:
    env = {**os.environ, "BENCH_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--rows", "2000", "--repeats", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| map python (rows)" in done.stdout
    assert "ours np1/ours np2 (>=1.6)" in done.stdout
