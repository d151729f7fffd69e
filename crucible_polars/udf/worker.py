"""The worker process of ``map``/``filter`` with ``num_proc``: runs batches it is handed.

Started by :mod:`crucible_polars.udf.parallel` (``worker_command``) with the arguments
``RANK IN_FD OUT_FD`` (a fresh interpreter: never a fork of a process that runs Polars'
threads, and the user's ``__main__`` is not run again). It reads pickled messages from
``IN_FD`` and answers each task on ``OUT_FD``, in order:

- ``("job", payload, reader, folder)``: a cloudpickled callable
  ``job(frame, offset, wanted, rank)`` that returns the output frame of a group of batches
  (the function and how to type its output); with it, for range tasks, the input plan
  pickled (:func:`crucible_polars.udf.ranges.reader_of`) and the folder to write outputs in;
- ``("task", frame, offset, wanted)``: run the job on a frame the main process read;
- ``("range", start, rows, needed, wanted, columns)``: read rows ``start..start+rows`` of
  the plan's ``needed`` columns (``None``: all) and run the job on them; the output keeps
  ``columns`` (``None``: all) and is written to an Arrow IPC file in the folder.

Each task answers ``("ok", frame)`` or ``("error", exception, traceback_text)``; frames
travel as Arrow IPC (:mod:`crucible_polars.udf.transport`). The worker exits when its input
closes (the parent ended or closed the pool).

Examples
--------
>>> import io, pickle
>>> import polars as pl
>>> import cloudpickle
>>> job = cloudpickle.dumps(lambda frame, offset, wanted, rank: frame.with_columns(r=rank))
>>> inbox = io.BytesIO()
>>> for message in [("job", job, None, None), ("task", pack(pl.DataFrame({"a": [1]})), 0, None)]:
...     pickle.dump(message, inbox)
>>> _ = inbox.seek(0)
>>> outbox = io.BytesIO()
>>> serve(inbox, outbox, rank=3)
>>> _ = outbox.seek(0)
>>> kind, frame = pickle.load(outbox)
>>> kind, unpack(frame).to_dicts()
('ok', [{'a': 1, 'r': 3}])
"""

from __future__ import annotations

import os
import pickle
import sys
import traceback
from typing import IO, Any

import cloudpickle

from crucible_polars.udf.transport import pack, spill, unpack


def _error_message(error: BaseException) -> tuple[str, Any, str]:
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    try:
        payload: Any = cloudpickle.dumps(error)
        pickle.loads(payload)
    except Exception:  # an exception that does not pickle: send its text
        payload = cloudpickle.dumps(RuntimeError(f"{type(error).__name__}: {error}"))
    return ("error", payload, text)


class _Job:
    """The current job, and for range tasks the plan it reads and where outputs go."""

    def __init__(self, message: tuple[Any, ...]) -> None:
        self.run = pickle.loads(message[1])
        self.plan: Any = pickle.loads(message[2]) if message[2] is not None else None
        self.folder: str | None = message[3]

    def answer(self, message: tuple[Any, ...], rank: int) -> Any:
        if message[0] == "task":
            _, frame, offset, wanted = message
            return pack(self.run(unpack(frame), offset, wanted, rank))
        _, start, rows, needed, wanted, columns = message
        plan = self.plan
        if plan is None:
            raise RuntimeError("a range task came with a job that has no input plan")
        lf = plan.lf if needed is None else plan.lf.select(needed)
        frame = plan.run(lambda: lf.slice(start, rows).collect())
        out = self.run(frame, start, wanted, rank)
        if columns is not None:
            out = out.select([c for c in columns if c in out.columns])
        return spill(out, self.folder) if self.folder is not None else pack(out)


def serve(inbox: IO[bytes], outbox: IO[bytes], rank: int) -> None:
    """Answer the messages of ``inbox`` on ``outbox`` until ``inbox`` ends (see module doc).

    Parameters
    ----------
    inbox, outbox
        Binary streams of pickled messages.
    rank
        This worker's rank, passed to the job (``with_rank``).
    """
    job: _Job | None = None
    failure = _error_message(RuntimeError("the worker was given a task before its job"))
    while True:
        try:
            message = pickle.load(inbox)
        except EOFError:
            return
        if message[0] == "job":
            job = None  # a job that fails to load fails each of its tasks, with its error
            try:
                job = _Job(message)
            except Exception as error:
                failure = _error_message(error)
            continue
        try:
            answer: tuple[Any, ...] = (
                ("ok", job.answer(message, rank)) if job is not None else failure
            )
        except Exception as error:
            answer = _error_message(error)
        pickle.dump(answer, outbox, protocol=pickle.HIGHEST_PROTOCOL)
        outbox.flush()


def main(argv: list[str]) -> None:
    """Entry point: ``RANK IN_FD OUT_FD``."""
    rank, in_fd, out_fd = (int(a) for a in argv)
    with os.fdopen(in_fd, "rb") as inbox, os.fdopen(out_fd, "wb") as outbox:
        serve(inbox, outbox, rank)


if __name__ == "__main__":
    main(sys.argv[1:])
