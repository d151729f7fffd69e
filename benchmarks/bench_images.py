"""Decoding images to one uint8 array: crucible_polars vs a threaded Pillow loop vs ``datasets``.

Generates, once, in ``benchmarks/_data/``:

* ``png``: ``--pngs`` small PNGs (32×32 RGB), and
* ``jpeg``: ``--jpegs`` 224×224 RGB JPEGs (smooth gradients plus noise, quality 90),

each as a parquet file written with ``datasets``' schema (``image: Image()``, ``label:
ClassLabel``), the images stored as bytes. Then times, from the parquet file to one stacked
``(N, H, W, 3)`` uint8 array:

* ``crucible_polars``: ``cp.load_dataset("parquet", ...).to_numpy(columns=["image"])``;
* ``pillow``: pyarrow reads the bytes column, a ``ThreadPoolExecutor`` (as many threads as
  ours) maps ``np.asarray(PIL.Image.open(...))``, then ``np.stack`` -- the plain loop a
  user would write, and the floor we aim for;
* ``datasets``: ``load_dataset("parquet", ..., cache_dir=<fresh>)`` then
  ``with_format("numpy")[:]["image"]`` (loading counts, as a user waits for it).

``jpeg@112`` resizes to 112×112 while decoding: ours with ``image_size=(112, 112)``
(libjpeg's reduced-scale decode, then a resize, in the decode threads), Pillow's loop with
``.resize`` after a full decode; ``datasets`` has no resize on decode. The arrays of the
engines are compared before the table is printed (equal, or close for ``jpeg@112``).

Usage::

    python benchmarks/bench_images.py            # 10,000 PNGs and 2,000 JPEGs
    python benchmarks/bench_images.py --quick    # 1,000 PNGs and 200 JPEGs
"""

from __future__ import annotations

import argparse
import io
import platform
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
from _common import ColdCache, Ratio, data_file, measure, ratio_table

import crucible_polars as cp
from crucible_polars.media.batch import THREADS

ENGINES = ("crucible_polars", "pillow", "datasets")
RATIOS = (
    Ratio("crucible_polars", "pillow", at_most=1.15),
    Ratio("datasets", "crucible_polars", at_least=2),
)
RESIZE = (112, 112)


# ------------------------------------------------------------------------------- data
def _encode(kind: str, rng: np.random.Generator, size: int) -> bytes:
    y, x = np.mgrid[0:size, 0:size]
    phase = rng.random(3) * 6.28
    base = np.stack([np.sin(x / (5 + 9 * c) + y / 17 + phase[c]) for c in range(3)], axis=-1)
    pixels = np.clip(127 + 100 * base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    if kind == "png":
        PIL.Image.fromarray(pixels).save(buf, format="PNG")
    else:
        PIL.Image.fromarray(pixels).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def image_parquet(kind: str, count: int) -> Path:
    """``count`` images of ``kind`` ("png" 32×32 or "jpeg" 224×224) in a parquet file
    written with ``datasets``' Features (built once)."""

    def build(path: Path) -> None:
        import datasets
        import pyarrow as pa
        import pyarrow.parquet as pq

        rng = np.random.default_rng(0)
        size = 32 if kind == "png" else 224
        features = datasets.Features(
            {"image": datasets.Image(), "label": datasets.ClassLabel(names=["a", "b", "c"])}
        )
        images = [{"bytes": _encode(kind, rng, size), "path": None} for _ in range(count)]
        table = pa.table(
            {"image": images, "label": [i % 3 for i in range(count)]}, schema=features.arrow_schema
        )
        pq.write_table(table, path, row_group_size=1000)

    return data_file(f"images-{kind}-{count}.parquet", build)


# ------------------------------------------------------------------------------- engines
def run_crucible(path: Path, size: tuple[int, int] | None) -> np.ndarray:
    ds = cp.load_dataset("parquet", data_files=str(path), split="train")
    array: np.ndarray = ds.to_numpy(columns=["image"], image_size=size)["image"]
    return array


def run_pillow(path: Path, size: tuple[int, int] | None) -> np.ndarray:
    import pyarrow.parquet as pq

    column = pq.read_table(path, columns=["image"]).column("image").combine_chunks()
    blobs = column.field("bytes").to_pylist()

    def decode(data: bytes) -> np.ndarray:
        image = PIL.Image.open(io.BytesIO(data))
        if size is not None:
            image = image.resize(size)
        return np.asarray(image)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return np.stack(list(pool.map(decode, blobs)))


def run_datasets(path: Path, cache: ColdCache) -> np.ndarray:
    import datasets

    ds = datasets.load_dataset("parquet", data_files=str(path), split="train", cache_dir=cache.path)
    array: np.ndarray = ds.with_format("numpy")[:]["image"]
    return array


# ------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pngs", type=int, default=10_000)
    parser.add_argument("--jpegs", type=int, default=2_000)
    parser.add_argument("--quick", action="store_true", help="1,000 PNGs and 200 JPEGs")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--no-datasets", action="store_true", help="skip the datasets runs")
    args = parser.parse_args(argv)
    pngs, jpegs = (1_000, 200) if args.quick else (args.pngs, args.jpegs)
    files = {"png": image_parquet("png", pngs), "jpeg": image_parquet("jpeg", jpegs)}
    tasks: dict[str, tuple[Path, tuple[int, int] | None]] = {
        f"png ({pngs:,} x 32x32)": (files["png"], None),
        f"jpeg ({jpegs:,} x 224x224)": (files["jpeg"], None),
        f"jpeg@112 ({jpegs:,})": (files["jpeg"], RESIZE),
    }
    results: dict[str, dict[str, float]] = {}
    with ColdCache() as cache:
        for task, (path, size) in tasks.items():
            runs: dict[str, Callable[[], Any]] = {
                "crucible_polars": lambda p=path, s=size: run_crucible(p, s),
                "pillow": lambda p=path, s=size: run_pillow(p, s),
            }
            if size is None and not args.no_datasets:
                runs["datasets"] = lambda p=path: run_datasets(p, cache)
            answers = {name: run() for name, run in runs.items()}
            ours = answers["crucible_polars"]
            for name, array in answers.items():
                assert array.shape == ours.shape and array.dtype == np.uint8, (task, name)
                if size is None:
                    assert np.array_equal(array, ours), (task, name)
                else:  # reduced-scale JPEG decode: close to, not equal to, decode + resize
                    diff = np.abs(array.astype(np.int16) - ours.astype(np.int16)).mean()
                    assert diff < 6, (task, name, diff)
            results[task] = {}
            for name, run in runs.items():
                setup = cache.reset if name == "datasets" else None
                timing = measure(run, warmup=args.warmup, repeats=args.repeats, setup=setup)
                results[task][name] = timing.median
                print(f"{task:28} {name:16} {timing.median:8.3f} s", file=sys.stderr)
    print(
        f"\n{platform.platform()}, {platform.processor() or platform.machine()}, "
        f"{THREADS} decode threads, Pillow {PIL.__version__}\n"
    )
    print(ratio_table(results, ENGINES, RATIOS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
