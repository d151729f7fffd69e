"""The worker processes of ``num_proc``: started once, kept idle between runs.

Workers are fresh interpreters (:func:`worker_command`): never a fork of a process running
Polars' threads (Polars is not fork-safe), and the user's script is not run again in them
(no ``if __name__ == "__main__"`` guard needed). Started workers are kept for the next run
(starting one costs about a second: the interpreter and the package's imports) and end
with the program. What they run and in which order is :mod:`crucible_polars.udf.parallel`.

Examples
--------
>>> worker_command()[1]
'-c'
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

import polars as pl

from crucible_polars.logging import get_logger
from crucible_polars.udf.transport import unpack

logger = get_logger(__name__)


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


def worker_env(size: int) -> dict[str, str]:
    """The environment of ``size`` workers: this process's, with Polars' threads shared out
    (``POLARS_MAX_THREADS``: the cores divided among the workers, unless already set), so
    the workers do not fight over the cores for threads that would wait.

    Examples
    --------
    >>> int(worker_env(10_000)["POLARS_MAX_THREADS"]) >= 1
    True
    """
    env = dict(os.environ)
    env.setdefault("POLARS_MAX_THREADS", str(max(1, (os.cpu_count() or 1) // max(size, 1))))
    return env


class Worker:
    """One worker process of rank ``rank``, its pipes, and a thread reading its answers.

    Parameters
    ----------
    rank
        The worker's rank (passed to a ``with_rank`` function).
    arrivals
        Set whenever an answer arrives (or the worker ends).
    env
        The worker's environment variables.
    """

    def __init__(self, rank: int, arrivals: threading.Event, env: dict[str, str]) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        self.process = subprocess.Popen(
            [*worker_command(), str(rank), str(to_child_r), str(from_child_w)],
            pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL,
            env=env,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self.rank = rank
        self.inbox: IO[bytes] = os.fdopen(to_child_w, "wb")
        self.outbox: IO[bytes] = os.fdopen(from_child_r, "rb")
        # Answers are read as they come, so a worker never blocks writing a large answer
        # while this process blocks handing it the next batch.
        self.answers: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.arrivals = arrivals  # set at each answer (and at the end of the worker)
        self.sent = self.arrived = 0  # tasks sent, answers read (by the reader thread)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                answer = pickle.load(self.outbox)
            except (EOFError, OSError, ValueError):
                self.answers.put(None)
                self.arrivals.set()
                return
            self.answers.put(answer)
            self.arrived += 1
            self.arrivals.set()

    def send(self, message: tuple[Any, ...], *, task: bool = True) -> None:
        """Send a message (``task``: one that the worker answers)."""
        try:
            pickle.dump(message, self.inbox, protocol=pickle.HIGHEST_PROTOCOL)
            self.inbox.flush()
        except (BrokenPipeError, OSError) as error:
            raise self._died() from error
        self.sent += task

    def busy(self) -> int:
        """Tasks sent and not answered yet."""
        return self.sent - self.arrived

    def answered(self) -> bool:
        """Whether the answer to the oldest task not received yet has arrived."""
        return not self.answers.empty()

    def receive(self) -> pl.DataFrame:
        """The oldest answer not received yet (waits for it); a worker's error is raised."""
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
        """End the worker (it exits when its input closes)."""
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
        self.arrivals = threading.Event()
        env = worker_env(size)
        self.workers = [Worker(rank, self.arrivals, env) for rank in range(size)]
        self.broken = False

    def close(self) -> None:
        """End the workers (they exit when their input closes)."""
        for worker in self.workers:
            worker.close()


_idle: dict[int, list[WorkerPool]] = {}
_lock = threading.Lock()


def checkout(size: int) -> WorkerPool:
    """An idle pool of ``size`` workers, or a new one (give it back with :func:`release`).

    Parameters
    ----------
    size
        The number of workers.
    """
    with _lock:
        pools = _idle.get(size, [])
        if pools:
            return pools.pop()
    return WorkerPool(size)


def release(pool: WorkerPool) -> None:
    """Keep ``pool`` for the next run (a broken one is closed instead).

    Parameters
    ----------
    pool
        A pool from :func:`checkout`.
    """
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
