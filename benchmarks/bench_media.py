"""Small images, photos and audio clips: crucible_polars vs the loop a user would write.

Generates, once, in ``benchmarks/_data/``:

* ``mnist``: ``--pngs`` MNIST-like 28×28 grayscale PNGs (strokes on black, ~200 bytes
  each),
* ``jpeg``: ``--jpegs`` 224×224 RGB JPEGs (``bench_images.py``'s file, quality 90), and
* ``flac``: ``--clips`` FLAC clips of ``--seconds`` seconds at 16 kHz (mono, a few sines
  plus noise, 16-bit),

each as a parquet file written with ``datasets``' schema (``Image()`` / ``Audio()``), the
media stored as bytes. Then times, from the parquet file to decoded arrays:

* ``crucible_polars``: ``cp.load_dataset("parquet", ...).to_numpy(columns=[...])`` -- one
  ``(N, H, W[, C])`` uint8 array for the images, one ``{"path", "array", "sampling_rate"}``
  per clip for the audio;
* ``loop``: pyarrow reads the bytes column, then ``np.asarray(PIL.Image.open(...))`` and
  ``np.stack`` in a plain loop for the PNGs, in a ``ThreadPoolExecutor`` with as many
  threads as ours for the JPEGs, and ``soundfile.read(..., dtype="float32")`` in a plain
  loop for the clips;
* ``datasets``: ``load_dataset("parquet", ..., cache_dir=<fresh>)`` then
  ``with_format("numpy")[:]`` (loading counts, as a user waits for it). PNGs only:
  ``datasets`` 5 decodes audio only through torchcodec, which needs a system FFmpeg.

The engines' arrays are compared first. Then the engines take turns, one run each per
round (the order rotating), so that load drifting on a shared machine hits them alike; a
ratio is the median over rounds of that round's ratio (its range is shown too), and CPU
seconds (``time.process_time``, all threads) are shown beside the wall-clock ones.

Usage::

    python benchmarks/bench_media.py            # 10,000 PNGs, 2,000 JPEGs, 1,000 clips of 10 s
    python benchmarks/bench_media.py --quick    # 2,000 PNGs, 200 JPEGs, 100 clips
"""

from __future__ import annotations

import argparse
import io
import platform
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
from _common import ColdCache, Ratio, data_file, format_table
from bench_images import image_parquet, run_pillow

import crucible_polars as cp
from crucible_polars.media.batch import THREADS

ENGINES = ("crucible_polars", "loop", "datasets")
RATIOS = (
    Ratio("crucible_polars", "loop", at_most=1.15),
    Ratio("crucible_polars", "datasets", at_most=0.7),
)
RATE = 16_000


# ------------------------------------------------------------------------------- data
def _digit(rng: np.random.Generator) -> bytes:
    pixels = np.zeros((28, 28), dtype=np.uint8)
    for _ in range(3):  # a few thick strokes, as handwriting
        r, c = rng.integers(4, 24, 2)
        dr, dc = rng.integers(-1, 2, 2)
        for step in range(10):
            y, x = int(np.clip(r + dr * step, 0, 26)), int(np.clip(c + dc * step, 0, 26))
            pixels[y : y + 2, x : x + 2] = rng.integers(180, 256)
    buf = io.BytesIO()
    PIL.Image.fromarray(pixels, "L").save(buf, format="PNG")
    return buf.getvalue()


def _clip(rng: np.random.Generator, seconds: float) -> bytes:
    import soundfile as sf

    t = np.arange(int(RATE * seconds)) / RATE
    freqs = rng.uniform(100, 3000, 3)
    signal = sum(0.2 * np.sin(2 * np.pi * f * t) for f in freqs) + rng.normal(0, 0.01, len(t))
    buf = io.BytesIO()
    sf.write(buf, signal.astype(np.float32), RATE, format="FLAC", subtype="PCM_16")
    return buf.getvalue()


def media_parquet(kind: str, count: int, seconds: float = 10.0) -> Path:
    """``count`` MNIST-like PNGs (``kind="mnist"``) or FLAC clips (``"flac"``) in a parquet
    file written with ``datasets``' Features (built once)."""

    def build(path: Path) -> None:
        import datasets
        import pyarrow as pa
        import pyarrow.parquet as pq

        rng = np.random.default_rng(0)
        if kind == "mnist":
            feature, column = datasets.Image(), "image"
            values = [{"bytes": _digit(rng), "path": None} for _ in range(count)]
        else:
            feature, column = datasets.Audio(), "audio"
            values = [{"bytes": _clip(rng, seconds), "path": f"{i}.flac"} for i in range(count)]
        features = datasets.Features({column: feature, "label": datasets.Value("int64")})
        table = pa.table(
            {column: values, "label": [i % 10 for i in range(count)]},
            schema=features.arrow_schema,
        )
        pq.write_table(table, path, row_group_size=1000)

    name = f"media-{kind}-{count}" + ("" if kind == "mnist" else f"x{seconds:g}s")
    return data_file(f"{name}.parquet", build)


def _blobs(path: Path, column: str) -> list[bytes]:
    import pyarrow.parquet as pq

    values = pq.read_table(path, columns=[column]).column(column).combine_chunks()
    blobs: list[bytes] = values.field("bytes").to_pylist()
    return blobs


# ------------------------------------------------------------------------------- engines
def run_crucible(path: Path, column: str) -> Any:
    ds = cp.load_dataset("parquet", data_files=str(path), split="train")
    return ds.to_numpy(columns=[column])[column]


def run_pillow_loop(path: Path) -> np.ndarray:
    return np.stack([np.asarray(PIL.Image.open(io.BytesIO(b))) for b in _blobs(path, "image")])


def run_soundfile_loop(path: Path) -> list[np.ndarray]:
    import soundfile as sf

    return [sf.read(io.BytesIO(b), dtype="float32")[0] for b in _blobs(path, "audio")]


def run_datasets(path: Path, cache: ColdCache) -> np.ndarray:
    import datasets

    ds = datasets.load_dataset("parquet", data_files=str(path), split="train", cache_dir=cache.path)
    array: np.ndarray = ds.with_format("numpy")[:]["image"]
    return array


def _check(task: str, answers: dict[str, Any]) -> None:
    """Every engine's answer equals ours (images exactly, clips sample for sample)."""
    ours = answers["crucible_polars"]
    for name, value in answers.items():
        if ours.dtype == np.uint8:  # images
            assert np.array_equal(value, ours) and value.dtype == np.uint8, (task, name)
        else:  # clips
            arrays = [v if isinstance(v, np.ndarray) else v["array"] for v in value]
            assert all(np.array_equal(a, c["array"]) for a, c in zip(arrays, ours, strict=True))


# ------------------------------------------------------------------------------- timing
def _load() -> str:
    return open("/proc/loadavg").read().split()[0] if Path("/proc/loadavg").exists() else "?"


def interleaved(
    runs: Mapping[str, Callable[[], Any]],
    *,
    warmup: int,
    repeats: int,
    setups: Mapping[str, Callable[[], Any]] | None = None,
) -> list[dict[str, tuple[float, float]]]:
    """``warmup + repeats`` rounds, each running every engine once (the order rotating each
    round); the timed rounds as ``{engine: (wall seconds, CPU seconds)}``."""
    names = list(runs)
    rounds = []
    for r in range(warmup + repeats):
        order = names[r % len(names) :] + names[: r % len(names)]
        seconds = {}
        for name in order:
            if setups and name in setups:
                setups[name]()
            wall, cpu = time.perf_counter(), time.process_time()
            runs[name]()
            seconds[name] = (time.perf_counter() - wall, time.process_time() - cpu)
        if r >= warmup:
            rounds.append(seconds)
    return rounds


def table(results: Mapping[str, list[dict[str, tuple[float, float]]]]) -> str:
    """Median wall (and CPU) seconds per engine, then each ratio: the median of the rounds'
    ratios, with their range."""
    headers = [
        "task",
        *(f"{e} s (cpu)" for e in ENGINES),
        *(f"{r.title}, range" for r in RATIOS),
    ]
    rows = []
    for task, rounds in results.items():
        row = [task]
        for engine in ENGINES:
            if engine not in rounds[0]:
                row.append("-")
                continue
            wall = statistics.median(r[engine][0] for r in rounds)
            cpu = statistics.median(r[engine][1] for r in rounds)
            row.append(f"{wall:.3f} ({cpu:.2f})")
        for ratio in RATIOS:
            if ratio.numerator not in rounds[0] or ratio.denominator not in rounds[0]:
                row.append("-")
                continue
            values = [r[ratio.numerator][0] / r[ratio.denominator][0] for r in rounds]
            value = statistics.median(values)
            row.append(f"{value:.2f} {ratio.check(value)}, {min(values):.2f}-{max(values):.2f}")
        rows.append(row)
    return format_table(headers, rows)


# ------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pngs", type=int, default=10_000)
    parser.add_argument("--jpegs", type=int, default=2_000)
    parser.add_argument("--clips", type=int, default=1_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help="2,000 PNGs, 200 JPEGs, 100 clips")
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds per task")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--tasks", default="mnist,jpeg,flac", help="comma-separated subset")
    parser.add_argument("--no-datasets", action="store_true", help="skip the datasets runs")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    pngs, jpegs, clips = (2_000, 200, 100) if args.quick else (args.pngs, args.jpegs, args.clips)
    chosen = set(args.tasks.split(","))
    results: dict[str, list[dict[str, tuple[float, float]]]] = {}
    loads: list[str] = []
    with ColdCache() as cache:
        tasks: dict[str, dict[str, Callable[[], Any]]] = {}
        if "mnist" in chosen:
            mnist = media_parquet("mnist", pngs)
            tasks[f"mnist png ({pngs:,} x 28x28)"] = {
                "crucible_polars": lambda: run_crucible(mnist, "image"),
                "loop": lambda: run_pillow_loop(mnist),
            }
            if not args.no_datasets:
                tasks[f"mnist png ({pngs:,} x 28x28)"]["datasets"] = lambda: run_datasets(
                    mnist, cache
                )
        if "jpeg" in chosen:
            jpeg = image_parquet("jpeg", jpegs)
            tasks[f"jpeg ({jpegs:,} x 224x224)"] = {
                "crucible_polars": lambda: run_crucible(jpeg, "image"),
                "loop": lambda: run_pillow(jpeg, None),  # threaded
            }
        if "flac" in chosen:
            flac = media_parquet("flac", clips, args.seconds)
            tasks[f"flac ({clips:,} x {args.seconds:g} s, 16 kHz)"] = {
                "crucible_polars": lambda: run_crucible(flac, "audio"),
                "loop": lambda: run_soundfile_loop(flac),
            }
        for task, runs in tasks.items():
            _check(task, {name: run() for name, run in runs.items()})
            before = _load()
            results[task] = interleaved(
                runs, warmup=args.warmup, repeats=args.repeats, setups={"datasets": cache.reset}
            )
            loads.append(f"{task}: {before}-{_load()}")
            for name in runs:
                walls = ", ".join(f"{r[name][0]:.3f}" for r in results[task])
                print(f"{task:34} {name:16} {walls}", file=sys.stderr)
    import soundfile

    print(
        f"\n{platform.platform()}, {platform.processor() or platform.machine()}, "
        f"{THREADS} decode threads, Pillow {PIL.__version__}, soundfile {soundfile.__version__}"
        f" (libsndfile {soundfile.__libsndfile_version__}), {args.repeats} rounds; "
        f"1-min load average {'; '.join(loads)}\n"
    )
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
