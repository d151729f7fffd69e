"""benchmarks/bench_media.py keeps running: on a few images and clips (no timing is checked)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_bench_media_runs_on_a_few_files(tmp_path: Path) -> None:
    pytest.importorskip("soundfile")
    pytest.importorskip("datasets")
    env = {**os.environ, "BENCH_DATA_DIR": str(tmp_path / "data")}
    args = ["--pngs", "50", "--jpegs", "6", "--clips", "4", "--seconds", "0.5"]
    args += ["--repeats", "2", "--warmup", "0"]
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_media.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for task in ("mnist png (50 x 28x28)", "jpeg (6 x 224x224)", "flac (4 x 0.5 s, 16 kHz)"):
        assert task in done.stdout
    assert "crucible_polars/loop (<=1.15)" in done.stdout and "load average" in done.stdout
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [
        "images-jpeg-6.parquet",
        "media-flac-4x0.5s.parquet",
        "media-mnist-50.parquet",
    ]
