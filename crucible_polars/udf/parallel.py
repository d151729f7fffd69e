"""``num_proc``: run a ``map``/``filter`` function in several worker processes, in order.

The main process reads the input plan and hands groups of whole batches to ``num_proc``
worker processes (:mod:`crucible_polars.udf.worker`), round robin: group ``k`` goes to the
worker of rank ``k % num_proc``, so which rows a rank sees does not depend on timing, and
the outputs come back in input order, identical to ``num_proc=1``. A few groups per worker
are in flight at a time, so memory stays bounded and a ``head(n)`` stops early.

Workers are fresh interpreters (:func:`worker_command`): never a fork of
a process running Polars' threads (Polars is not fork-safe), and the user's script is not
run again in them (no ``if __name__ == "__main__"`` guard needed). The function travels
with ``cloudpickle``, so lambdas and closures work, as they do with ``datasets``' ``dill``.
Started workers are kept for the next ``map`` (starting one costs about a second) and
end with the program.

Examples
--------
>>> import polars as pl
>>> def job(frame, offset, wanted, rank):
...     return frame.with_columns(rank=pl.lit(rank), offset=pl.lit(offset))
>>> groups = [(pl.DataFrame({"a": [i]}), i) for i in range(3)]
>>> [f.row(0) for f in run_ordered(2, job, iter(groups), None)]
[(0, 0, 0), (1, 1, 1), (2, 0, 2)]
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import cloudpickle
import polars as pl

from crucible_polars.logging import get_logger
from crucible_polars.sources.open import cache_root
from crucible_polars.udf.ranges import RowRange
from crucible_polars.udf.transport import pack, unpack

logger = get_logger(__name__)

Job = Callable[[pl.DataFrame, int, "list[str] | None", int], pl.DataFrame]
"""``job(frame, offset, wanted, rank)``: the output frame of a group of batches."""

IN_FLIGHT = 2
"""Groups handed to each worker ahead of the one being read back."""

OUTPUTS_FOLDER = "map-outputs"
"""Where workers write the outputs of range tasks, in the crucible_polars cache (a folder
per run, removed when the run ends)."""


@dataclass
class Run:
    """How a function runs over the batches: in this process or in ``num_proc`` workers,
    with a progress bar (see :mod:`crucible_polars.progress`).

    Parameters
    ----------
    label
        How errors and the bar name the function (``"map(tokenize)"``).
    num_proc
        Worker processes (``None`` or ``1``: this process).
    desc
        The progress bar's text (default ``"Map"``/``"Filter"``).
    total
        Rows read, if known (the bar's end).
    """

    label: str
    num_proc: int | None = None
    desc: str | None = None
    total: int | None = None

    @property
    def parallel(self) -> bool:
        return self.num_proc is not None and self.num_proc > 1

    def bar_text(self) -> str:
        text = self.desc or self.label.split("(", 1)[0].capitalize()
        return f"{text} (num_proc={self.num_proc})" if self.num_proc else text


def check_num_proc(num_proc: int | None) -> int | None:
    """``num_proc`` checked (``None``, or a positive integer).

    Examples
    --------
    >>> check_num_proc(2), check_num_proc(None)
    (2, None)
    >>> check_num_proc(0)
    Traceback (most recent call last):
    ValueError: num_proc must be a positive integer or None, got 0.
    """
    if num_proc is not None and (
        isinstance(num_proc, bool) or not isinstance(num_proc, int) or num_proc < 1
    ):
        raise ValueError(f"num_proc must be a positive integer or None, got {num_proc!r}.")
    return num_proc


class WorkerError(RuntimeError):
    """A worker process ended without answering (killed, out of memory, crashed)."""


def worker_command() -> list[str]:
    """How a worker starts: this interpreter, importing *this* copy of the package first
    and then what this process can import (the user's modules, for functions pickled by
    reference), whatever the current folder holds.

    Examples
    --------
    >>> worker_command()[1]
    '-c'
    """
    here = str(Path(__file__).resolve().parents[2])  # the folder holding crucible_polars
    paths = [here, *(p for p in sys.path if isinstance(p, str) and p != here)]
    code = (
        f"import sys; sys.path[:] = {paths!r}; "
        "from crucible_polars.udf.worker import main; main(sys.argv[1:])"
    )
    return [sys.executable, "-c", code]


class _Worker:
    def __init__(self, rank: int) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        self.process = subprocess.Popen(
            [*worker_command(), str(rank), str(to_child_r), str(from_child_w)],
            pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self.rank = rank
        self.inbox: IO[bytes] = os.fdopen(to_child_w, "wb")
        self.outbox: IO[bytes] = os.fdopen(from_child_r, "rb")
        # Answers are read as they come, so a worker never blocks writing a large answer
        # while this process blocks handing it the next batch.
        self.answers: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                answer = pickle.load(self.outbox)
            except (EOFError, OSError, ValueError):
                self.answers.put(None)
                return
            self.answers.put(answer)

    def send(self, message: tuple[Any, ...]) -> None:
        try:
            pickle.dump(message, self.inbox, protocol=pickle.HIGHEST_PROTOCOL)
            self.inbox.flush()
        except (BrokenPipeError, OSError) as error:
            raise self._died() from error

    def receive(self) -> pl.DataFrame:
        answer = self.answers.get()
        if answer is None:
            self.answers.put(None)  # stays dead
            raise self._died()
        if answer[0] == "ok":
            return unpack(answer[1])
        error = pickle.loads(answer[1])
        note = getattr(error, "add_note", None)  # Python >= 3.11
        if note is not None:
            note(f"(in the worker process of rank {self.rank})\n{answer[2]}")
        raise error

    def _died(self) -> WorkerError:
        code = self.process.poll()
        return WorkerError(
            f"The worker process of rank {self.rank} ended (exit code {code}) while running "
            "the function: it may have run out of memory or crashed. Try a smaller num_proc "
            "or batch_size."
        )

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.inbox.close()  # the worker exits at the end of its input
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.reader.join(timeout=5)
        with contextlib.suppress(OSError):
            self.outbox.close()


class WorkerPool:
    """``size`` worker processes, each with its own pipes (see the module doc).

    Parameters
    ----------
    size
        The number of processes.
    """

    def __init__(self, size: int) -> None:
        logger.info("Starting %d worker processes for num_proc=%d", size, size)
        self.workers = [_Worker(rank) for rank in range(size)]
        self.broken = False

    def close(self) -> None:
        """End the workers (they exit when their input closes)."""
        for worker in self.workers:
            worker.close()


_idle: dict[int, list[WorkerPool]] = {}
_lock = threading.Lock()


def _checkout(size: int) -> WorkerPool:
    with _lock:
        pools = _idle.get(size, [])
        if pools:
            return pools.pop()
    return WorkerPool(size)


def _release(pool: WorkerPool) -> None:
    if pool.broken:
        pool.close()
        return
    with _lock:
        _idle.setdefault(len(pool.workers), []).append(pool)


@atexit.register
def close_pools() -> None:
    """End every idle worker process (at exit; the next ``num_proc`` map starts new ones)."""
    with _lock:
        pools = [p for ps in _idle.values() for p in ps]
        _idle.clear()
    for pool in pools:
        pool.close()


def check_picklable(job: Any, label: str) -> bytes:
    """``job`` pickled for the workers, or a ``TypeError`` saying what cannot travel.

    Examples
    --------
    >>> len(check_picklable(len, "map(len)")) > 0
    True
    >>> import threading
    >>> check_picklable(threading.Lock(), "map(f)")
    Traceback (most recent call last):
    TypeError: map(f) with num_proc > 1 sends the function to worker processes, ...
    """
    try:
        return cloudpickle.dumps(job)
    except Exception as error:
        raise TypeError(
            f"{label} with num_proc > 1 sends the function to worker processes, but it cannot "
            f"be pickled ({type(error).__name__}: {error}). Make what the function uses "
            "picklable (e.g. create a tokenizer or a connection inside the function), or "
            "use num_proc=None."
        ) from None


def run_ordered(
    num_proc: int,
    job: Job | bytes,
    groups: Iterator[tuple[pl.DataFrame, int]],
    wanted: list[str] | None,
) -> Iterator[pl.DataFrame]:
    """``job`` over ``groups`` (frame, offset) in ``num_proc`` workers; outputs in order.

    Parameters
    ----------
    num_proc
        The number of worker processes.
    job
        ``job(frame, offset, wanted, rank)``, or it already pickled (:func:`check_picklable`).
    groups
        The input frames and the position of their first rows.
    wanted
        The output columns the query reads (``None``: all), passed to the job.

    Raises
    ------
    WorkerError
        A worker process ended without answering.
    """
    payload = job if isinstance(job, bytes) else check_picklable(job, "map")
    tasks = (("task", pack(frame), offset, wanted) for frame, offset in groups)
    return _run(num_proc, ("job", payload, None, None), tasks)


def run_ranges(
    num_proc: int,
    job: bytes,
    reader: bytes,
    ranges: Iterator[RowRange],
    needed: list[str] | None,
    wanted: list[str] | None,
    columns: list[str] | None,
) -> Iterator[pl.DataFrame]:
    """``job`` over row ranges that the workers read themselves; outputs in order.

    Each worker reads its ranges from the plan ``reader`` holds
    (:func:`crucible_polars.udf.ranges.reader_of`) and writes each output to an Arrow IPC
    file that this process memory-maps: the rows never pass through this process's memory
    or a pipe.

    Parameters
    ----------
    num_proc
        The number of worker processes.
    job
        ``job(frame, offset, wanted, rank)`` pickled (:func:`check_picklable`).
    reader
        The input plan, pickled.
    ranges
        The rows of each task (:func:`crucible_polars.udf.ranges.row_ranges`).
    needed
        The input columns to read (``None``: all).
    wanted
        Passed to the job.
    columns
        The output columns to keep (``None``: all).

    Raises
    ------
    WorkerError
        A worker process ended without answering.
    """
    folder = tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=_outputs_folder())
    _folders.add(folder)
    tasks = (("range", r.start, r.rows, needed, wanted, columns) for r in ranges)
    try:
        yield from _run(num_proc, ("job", job, reader, folder), tasks)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # mapped outputs stay readable
        _folders.discard(folder)


def _outputs_folder() -> Path:
    folder = cache_root() / OUTPUTS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


_folders: set[str] = set()


@atexit.register
def _remove_folders() -> None:
    for folder in list(_folders):
        shutil.rmtree(folder, ignore_errors=True)


def _run(
    num_proc: int, job: tuple[Any, ...], tasks: Iterator[tuple[Any, ...]]
) -> Iterator[pl.DataFrame]:
    """The answers to ``tasks``, task ``k`` run by the worker of rank ``k % num_proc``."""
    pool = _checkout(num_proc)
    workers = pool.workers
    pending: deque[_Worker] = deque()
    try:
        for worker in workers:
            worker.send(job)
        for k, task in enumerate(tasks):
            worker = workers[k % num_proc]
            worker.send(task)
            pending.append(worker)
            if len(pending) >= IN_FLIGHT * num_proc:
                yield pending.popleft().receive()
        while pending:
            yield pending.popleft().receive()
    except WorkerError:
        pool.broken = True
        raise
    finally:
        try:
            while pending:  # answers of a stopped run: read them so the pool is clean
                try:
                    pending.popleft().receive()
                except WorkerError:
                    pool.broken = True
                except Exception:
                    pass
        finally:
            _release(pool)
