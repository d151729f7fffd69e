"""``num_proc``: run a ``map``/``filter`` function in several worker processes, in order.

The work is cut into tasks of whole batches, run by ``num_proc`` worker processes
(:mod:`crucible_polars.udf.worker`); the outputs come back in input order, identical to
``num_proc=1``. When the input reads a slice of rows for the cost of those rows (a Parquet
or IPC scan, materialized rows: :mod:`crucible_polars.udf.ranges`), a task is a row range
that the worker reads itself, and it writes the output to an Arrow IPC file that this
process memory-maps (:func:`run_ranges`): the main process reads, copies and joins nothing
while the workers compute. Otherwise the main process reads the input and hands groups of
batches over a pipe (:func:`run_ordered`).

A task goes to the first worker with room for it (one slowed by other load on the machine
gets fewer), or, when the function is given its rank (``with_rank``), round robin: task
``k`` to the worker of rank ``k % num_proc``, so which rows a rank sees does not depend on
timing. A few tasks per worker are in flight at a time, so memory stays bounded and a
``head(n)`` stops early.

Workers are fresh interpreters kept for the next ``map`` (:mod:`crucible_polars.udf.pool`).
The function travels with ``cloudpickle``, so lambdas and closures work, as they do with
``datasets``' ``dill``.

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
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cloudpickle
import polars as pl

from crucible_polars.sources.open import cache_root
from crucible_polars.udf.jobs import BatchJob
from crucible_polars.udf.pool import Worker, WorkerError, WorkerPool, checkout, release
from crucible_polars.udf.ranges import Reader, RowRange
from crucible_polars.udf.transport import pack

Job = Callable[[pl.DataFrame, int, "list[str] | None", int], pl.DataFrame]
"""``job(frame, offset, wanted, rank)``: the output frame of a group of batches."""

IN_FLIGHT = 2
"""Tasks handed to each worker ahead of the answer being read back."""

AHEAD = 4
"""With ``balanced`` hand-out, tasks handed out and not read back, per worker."""

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
    ranked
        The function is given its process's rank (``with_rank``): each worker's rows must
        not depend on timing, so tasks go to the workers in turn.
    """

    label: str
    num_proc: int | None = None
    desc: str | None = None
    total: int | None = None
    ranked: bool = False

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
    balanced: bool = False,
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
    balanced
        Hand each group to the first worker with room for it, not in turn (faster when
        one worker is slowed; which rows a rank runs then depends on timing).

    Raises
    ------
    WorkerError
        A worker process ended without answering.
    """
    payload = job if isinstance(job, bytes) else check_picklable(job, "map")
    tasks = (("task", pack(frame), offset, wanted) for frame, offset in groups)
    return _run(num_proc, ("job", payload, None, None), tasks, balanced)


def run_groups(
    num_proc: int,
    job: BatchJob,
    payload: bytes,
    groups: Iterator[tuple[pl.DataFrame, int]],
    wanted: list[str] | None,
    balanced: bool = False,
) -> Iterator[pl.DataFrame]:
    """:func:`run_ordered` of a slim job (:meth:`BatchJob.slimmed`: it answers only what
    this process lacks), each answer completed with its group (:meth:`BatchJob.finish`).

    Parameters
    ----------
    num_proc
        The number of worker processes.
    job
        The slim job.
    payload
        It pickled (:func:`check_picklable`).
    groups, wanted, balanced
        As in :func:`run_ordered`.

    Examples
    --------
    >>> from crucible_polars.udf.call import FunctionCall
    >>> from crucible_polars.udf.jobs import FilterJob
    >>> job = FilterJob(FunctionCall(lambda row: row["a"] > 1), 1).slimmed()
    >>> groups = iter([(pl.DataFrame({"a": [1, 2]}), 0), (pl.DataFrame({"a": [3]}), 2)])
    >>> [f["a"].to_list() for f in run_groups(2, job, check_picklable(job, "f"), groups, None)]
    [[2], [3]]
    """
    sent: deque[pl.DataFrame] = deque()  # groups in flight, to finish their answers

    def keep() -> Iterator[tuple[pl.DataFrame, int]]:
        for group, offset in groups:
            sent.append(group)
            yield group, offset

    answers = run_ordered(num_proc, payload, keep(), wanted, balanced)
    try:
        for answer in answers:
            yield job.finish(sent.popleft(), answer, wanted)
    finally:
        if isinstance(answers, Generator):
            answers.close()  # an early stop: the workers' pending answers are drained


def run_ranges(
    num_proc: int,
    job: bytes,
    reader: Reader,
    ranges: Iterator[RowRange],
    needed: list[str] | None,
    wanted: list[str] | None,
    columns: list[str] | None,
    balanced: bool = False,
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
        The input plan for the workers (:func:`crucible_polars.udf.ranges.reader_of`).
    ranges
        The rows of each task (:func:`crucible_polars.udf.ranges.row_ranges`).
    needed
        The input columns to read (``None``: all).
    wanted
        Passed to the job.
    columns
        The output columns to keep (``None``: all).
    balanced
        As in :func:`run_ordered`.

    Raises
    ------
    WorkerError
        A worker process ended without answering.
    """
    folder = tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=_outputs_folder())
    _folders.add(folder)
    tasks = (("range", r.start, r.rows, needed, wanted, columns) for r in ranges)
    try:
        plan = reader(folder, needed)
        yield from _run(num_proc, ("job", job, plan, folder), tasks, balanced)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # mapped outputs stay readable
        _folders.discard(folder)


def _outputs_folder() -> Path:
    folder = cache_root() / OUTPUTS_FOLDER
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only cache: the system's temporary folder
        return Path(tempfile.gettempdir())
    if not _folders:
        _remove_orphans(folder)
    return folder


def _remove_orphans(folder: Path) -> None:
    """Remove the run folders of processes that ended without removing theirs (killed)."""
    for run in folder.iterdir():
        pid = run.name.split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(run, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process
        return True
    return True


_folders: set[str] = set()


@atexit.register
def _remove_folders() -> None:
    for folder in list(_folders):
        shutil.rmtree(folder, ignore_errors=True)


def _run(
    num_proc: int, job: tuple[Any, ...], tasks: Iterator[tuple[Any, ...]], balanced: bool
) -> Iterator[pl.DataFrame]:
    """The answers to ``tasks``, in order: task ``k`` run by the worker of rank
    ``k % num_proc``, or with ``balanced`` by the first worker with room for it."""
    pool = checkout(num_proc)
    pending: deque[Worker] = deque()
    try:
        for worker in pool.workers:
            worker.send(job, task=False)
        send = _send_balanced if balanced else _send_in_turn
        for _ in send(pool, tasks, pending):
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
            release(pool)


def _send_in_turn(
    pool: WorkerPool, tasks: Iterator[tuple[Any, ...]], pending: deque[Worker]
) -> Iterator[None]:
    """Hand out ``tasks`` round robin; yields whenever the oldest answer should be read."""
    workers = pool.workers
    for k, task in enumerate(tasks):
        worker = workers[k % len(workers)]
        worker.send(task)
        pending.append(worker)
        if len(pending) >= IN_FLIGHT * len(workers):
            yield


def _send_balanced(
    pool: WorkerPool, tasks: Iterator[tuple[Any, ...]], pending: deque[Worker]
) -> Iterator[None]:
    """Hand out ``tasks`` to whichever worker has fewer than ``IN_FLIGHT`` unanswered (a
    worker slowed by other load gets fewer); yields whenever the oldest answer arrived.
    Answered tasks not read yet are at most ``AHEAD`` per worker (bounded memory and disk,
    little work wasted by an early stop)."""
    workers, ahead = pool.workers, AHEAD * len(pool.workers)
    left = True
    while left or pending:
        pool.arrivals.clear()  # an answer arriving from here on wakes the wait below
        while left and len(pending) < ahead:
            worker = min(workers, key=Worker.busy)
            if worker.busy() >= IN_FLIGHT:
                break
            task = next(tasks, None)
            if task is None:
                left = False
                break
            worker.send(task)
            pending.append(worker)
        if pending and pending[0].answered():
            yield
        elif pending:
            pool.arrivals.wait()
