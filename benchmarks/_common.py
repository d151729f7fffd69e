"""Shared helpers for the benchmark scripts: data, timing, tables, cold caches, peak memory.

Every ``bench_*.py`` script imports this module (``from _common import ...``; the script's
own folder is first on ``sys.path``). Generated data lives in ``benchmarks/_data/``, which
git ignores (or in ``$BENCH_DATA_DIR``); a file is generated once and reused by later runs.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import numpy as np
import polars as pl

# Generated data; ``BENCH_DATA_DIR`` moves it (the smoke test uses a temporary folder).
DATA_DIR = Path(os.environ.get("BENCH_DATA_DIR") or Path(__file__).resolve().parent / "_data")

# ``datasets`` draws progress bars for every load and map; they cost time and clutter output.
# Local files only: never let a benchmark reach for the Hub. Not inside pytest (which imports
# these modules for their doctests and smoke tests): the settings would leak into later tests.
if "pytest" not in sys.modules:
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


# ------------------------------------------------------------------------------- data
def data_file(name: str, build: Callable[[Path], None], data_dir: Path | None = None) -> Path:
    """The path of a generated file in ``benchmarks/_data``, built once by ``build(path)``.

    ``build`` writes to a temporary name that is renamed into place, so an interrupted
    run never leaves a half-written file behind to be reused.

    Examples
    --------
    >>> d = Path(tempfile.mkdtemp())
    >>> p = data_file("a.txt", lambda path: path.write_text("hi"), data_dir=d)
    >>> p.read_text(), data_file("a.txt", lambda path: 1 / 0, data_dir=d) == p
    ('hi', True)
    """
    folder = DATA_DIR if data_dir is None else data_dir
    target = folder / name
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{name}.partial-{os.getpid()}"
        try:
            build(partial)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
    return target


_VOCABULARY = (
    "the a of to and in is was for on that with as by at from it an be this are or which "
    "model data train test value score label token batch query frame lazy column row file "
    "polars arrow numpy parquet json split feature image text number answer question step "
    "apple river stone cloud green quick brown fox jumps over lazy dog seven eleven ninety"
)
_WORDS = np.array(_VOCABULARY.split())


def synthetic_frame(rows: int, seed: int = 0) -> pl.DataFrame:
    """A reproducible table shared by the benchmarks.

    Columns: ``id`` (int64, 0..rows-1), ``label`` (int64, 0..9), ``score`` (float64 in
    [0, 1)), ``text`` (a string of 40 to 80 characters), ``tokens`` (a list of 0 to 16 int64).

    Examples
    --------
    >>> df = synthetic_frame(1000)
    >>> df.columns, df.height
    (['id', 'label', 'score', 'text', 'tokens'], 1000)
    >>> df["text"].str.len_chars().min() >= 40, df["text"].str.len_chars().max() <= 80
    (True, True)
    >>> synthetic_frame(5, seed=1).equals(synthetic_frame(5, seed=1))
    True
    """
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    words = pl.Series(_WORDS)
    picks = {f"w{i}": words.gather(rng.integers(0, len(_WORDS), rows)) for i in range(16)}
    text = pl.DataFrame(picks).select(
        pl.concat_str(pl.all(), separator=" ")
        .str.slice(0, pl.lit(pl.Series(rng.integers(40, 81, rows))))
        .str.strip_chars_end(" ")
        .str.pad_end(40, ".")
    )
    offsets = np.zeros(rows + 1, dtype=np.int32)
    np.cumsum(rng.integers(0, 17, rows), out=offsets[1:])
    values = pa.array(rng.integers(0, 50_000, int(offsets[-1]), dtype=np.int64))
    tokens = pl.from_arrow(pa.ListArray.from_arrays(pa.array(offsets), values))
    return pl.DataFrame(
        {
            "id": np.arange(rows, dtype=np.int64),
            "label": rng.integers(0, 10, rows, dtype=np.int64),
            "score": rng.random(rows),
            "text": text.to_series(),
            "tokens": tokens,
        }
    )


def synthetic_files(rows: int, formats: Sequence[str] = ("parquet", "jsonl")) -> dict[str, Path]:
    """:func:`synthetic_frame` written once per format to ``benchmarks/_data``.

    Returns ``{format: path}`` for ``"parquet"`` and/or ``"jsonl"`` (JSON lines).

    Examples
    --------
    >>> paths = synthetic_files(100)  # doctest: +SKIP
    >>> sorted(paths)  # doctest: +SKIP
    ['jsonl', 'parquet']
    """
    writers: dict[str, Callable[[pl.DataFrame, Path], None]] = {
        "parquet": lambda df, path: df.write_parquet(path, row_group_size=100_000),
        "jsonl": lambda df, path: df.write_ndjson(path),
    }
    frame: list[pl.DataFrame] = []

    def build(fmt: str) -> Callable[[Path], None]:
        def write(path: Path) -> None:
            if not frame:
                frame.append(synthetic_frame(rows))
            writers[fmt](frame[0], path)

        return write

    return {fmt: data_file(f"synthetic-{rows}.{fmt}", build(fmt)) for fmt in formats}


# ------------------------------------------------------------------------------- timing
@dataclass
class Timing:
    """Wall-clock seconds of the timed repeats of one benchmark (warm-up runs excluded).

    Examples
    --------
    >>> Timing([3.0, 1.0, 2.0]).median
    2.0
    """

    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        """The median of the repeats (robust to one slow run)."""
        return statistics.median(self.seconds)


def measure(
    fn: Callable[[], object],
    *,
    warmup: int = 1,
    repeats: int = 3,
    setup: Callable[[], object] | None = None,
) -> Timing:
    """Time ``fn()``: ``warmup`` untimed runs, then ``repeats`` timed runs.

    ``setup()``, if given, runs untimed before every run (e.g. :meth:`ColdCache.reset`).

    Examples
    --------
    >>> t = measure(lambda: sum(range(1000)), warmup=1, repeats=3)
    >>> len(t.seconds), t.median >= 0
    (3, True)
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}.")
    timing = Timing()
    for run in range(warmup + repeats):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        if run >= warmup:
            timing.seconds.append(elapsed)
    return timing


def measure_interleaved(
    fns: Mapping[str, Callable[[], object]],
    *,
    warmup: int = 1,
    repeats: int = 3,
    setups: Mapping[str, Callable[[], object]] | None = None,
) -> dict[str, Timing]:
    """Time several engines on one task, taking turns: one run of each per round.

    On a shared machine the load drifts; interleaving makes every engine see the same
    drift, so their ratio stays meaningful where back-to-back blocks of runs would not.
    ``setups[name]()``, if given, runs untimed before each run of ``fns[name]``.

    Examples
    --------
    >>> t = measure_interleaved({"a": lambda: 1, "b": lambda: 2}, warmup=0, repeats=2)
    >>> sorted(t), len(t["a"].seconds)
    (['a', 'b'], 2)
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}.")
    timings = {name: Timing() for name in fns}
    for run in range(warmup + repeats):
        for name, fn in fns.items():
            timing = measure(fn, warmup=0, repeats=1, setup=(setups or {}).get(name))
            if run >= warmup:
                timings[name].seconds.extend(timing.seconds)
    return timings


# ------------------------------------------------------------------------------- tables
@dataclass(frozen=True)
class Ratio:
    """A ratio column ``numerator / denominator`` of median seconds, with an optional target.

    Examples
    --------
    >>> Ratio("ours", "polars", at_most=1.3).check(1.2), Ratio("hf", "ours", at_least=8).check(5)
    ('ok', 'MISS')
    """

    numerator: str
    denominator: str
    at_most: float | None = None
    at_least: float | None = None

    @property
    def title(self) -> str:
        """The column header, e.g. ``ours/polars (<=1.3)``."""
        bound = ""
        if self.at_most is not None:
            bound = f" (<={self.at_most:g})"
        elif self.at_least is not None:
            bound = f" (>={self.at_least:g})"
        return f"{self.numerator}/{self.denominator}{bound}"

    def check(self, value: float) -> str:
        """``'ok'`` or ``'MISS'`` against the target (``''`` when there is none)."""
        if self.at_most is None and self.at_least is None:
            return ""
        ok = (self.at_most is None or value <= self.at_most) and (
            self.at_least is None or value >= self.at_least
        )
        return "ok" if ok else "MISS"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table with padded columns (paste it into the README as is).

    Examples
    --------
    >>> print(format_table(["a", "bb"], [["1", "2"]]))
    | a | bb |
    |---|----|
    | 1 | 2  |
    """
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def ratio_table(
    results: Mapping[str, Mapping[str, float]],
    engines: Sequence[str],
    ratios: Sequence[Ratio] = (),
) -> str:
    """Side by side: one row per task, seconds per engine, then each ratio (and its target).

    ``results`` maps a task name to ``{engine: median seconds}``; a missing engine shows
    ``-``.

    Examples
    --------
    >>> res = {"filter": {"ours": 1.0, "polars": 0.9, "hf": 10.0}}
    >>> print(ratio_table(res, ["ours", "polars", "hf"], [Ratio("ours", "polars", at_most=1.3)]))
    | task   | ours s | polars s | hf s   | ours/polars (<=1.3) |
    |--------|--------|----------|--------|---------------------|
    | filter | 1.000  | 0.900    | 10.000 | 1.11 ok             |
    """
    headers = ["task", *(f"{e} s" for e in engines), *(r.title for r in ratios)]
    rows = []
    for task, seconds in results.items():
        row = [task, *(f"{seconds[e]:.3f}" if e in seconds else "-" for e in engines)]
        for r in ratios:
            if r.numerator in seconds and r.denominator in seconds and seconds[r.denominator]:
                value = seconds[r.numerator] / seconds[r.denominator]
                row.append(f"{value:.2f} {r.check(value)}".rstrip())
            else:
                row.append("-")
        rows.append(row)
    return format_table(headers, rows)


# ------------------------------------------------------------------------------- caches
class ColdCache:
    """A fresh, empty ``datasets`` cache folder per run, so loading is always counted.

    Pass ``cache.path`` as ``cache_dir=`` to ``datasets.load_dataset`` (``datasets`` reads
    ``HF_DATASETS_CACHE`` only when it is imported, so the variable, which is also set, only
    reaches subprocesses). Use :meth:`reset` as :func:`measure`'s ``setup`` so removing the
    previous run's cache is not timed. Everything is removed on exit.

    Examples
    --------
    >>> with ColdCache() as cache:
    ...     first = cache.path
    ...     _ = cache.reset()
    ...     first != cache.path and os.listdir(cache.path) == []
    True
    """

    def __init__(self) -> None:
        self._root = Path(tempfile.mkdtemp(prefix="bench-hf-cache-"))
        self._count = 0
        self.path = ""
        self.reset()

    def reset(self) -> str:
        """Delete the current cache folder and start an empty one; returns its path."""
        if self.path:
            shutil.rmtree(self.path, ignore_errors=True)
        self._count += 1
        fresh = self._root / f"run-{self._count}"
        fresh.mkdir()
        self.path = str(fresh)
        os.environ["HF_DATASETS_CACHE"] = self.path
        return self.path

    def close(self) -> None:
        """Remove every cache folder this object made."""
        shutil.rmtree(self._root, ignore_errors=True)

    def __enter__(self) -> ColdCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# ------------------------------------------------------------------------------- memory
_RSS_PRELUDE = """\
import atexit as _atexit, os as _os
def _report_peak_rss():
    # VmHWM is this process's own high-water mark; ru_maxrss would carry over the parent's
    # peak across fork and exec on Linux.
    with open("/proc/self/status") as _status:
        _kib = next(int(_l.split()[1]) for _l in _status if _l.startswith("VmHWM:"))
    with open(_os.environ["BENCH_PEAK_RSS_FILE"], "w") as _f:
        _f.write(str(_kib))
_atexit.register(_report_peak_rss)
"""


def peak_rss_mib(code: str, *, timeout: float = 900, cwd: str | Path | None = None) -> float:
    """Run Python ``code`` in a fresh interpreter and return its peak resident memory in MiB.

    Linux only (it reads ``VmHWM`` from ``/proc/self/status`` as the child exits).

    A new process per measurement keeps one benchmark's memory from hiding another's. The
    child inherits the environment (and so a :class:`ColdCache`'s ``HF_DATASETS_CACHE``).
    A non-zero exit raises ``subprocess.CalledProcessError`` with the child's stderr.

    Examples
    --------
    >>> small = peak_rss_mib("x = 1")
    >>> big = peak_rss_mib("x = b'x' * (400 * 2**20)")
    >>> big - small > 300
    True
    """
    with tempfile.TemporaryDirectory(prefix="bench-rss-") as tmp:
        report = Path(tmp) / "peak_rss_kib"
        env = {**os.environ, "BENCH_PEAK_RSS_FILE": str(report)}
        subprocess.run(
            [sys.executable, "-c", _RSS_PRELUDE + code],
            check=True,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=cwd,
        )
        return int(report.read_text()) / 1024
