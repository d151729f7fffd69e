"""The worker process of ``map``/``filter`` with ``num_proc``: runs batches it is handed.

Started by :mod:`crucible_polars.udf.parallel` (``worker_command``) with the arguments
``RANK IN_FD OUT_FD`` (a fresh interpreter: never a fork of a process that runs Polars'
threads, and the user's ``__main__`` is not run again). It reads pickled messages from
``IN_FD`` and answers each batch on ``OUT_FD``, in order:

- ``("job", payload)``: a cloudpickled callable ``job(frame, offset, wanted, rank)`` that
  returns the output frame of a group of batches (the function and how to type its output);
- ``("task", frame, offset, wanted)``: run the current job; answers ``("ok", frame)`` or
  ``("error", exception, traceback_text)``. Frames travel as Arrow IPC
  (:mod:`crucible_polars.udf.transport`).

It exits when its input closes (the parent ended or closed the pool).

Examples
--------
>>> import io, pickle
>>> import polars as pl
>>> import cloudpickle
>>> job = cloudpickle.dumps(lambda frame, offset, wanted, rank: frame.with_columns(r=rank))
>>> inbox = io.BytesIO()
>>> for message in [("job", job), ("task", pack(pl.DataFrame({"a": [1]})), 0, None)]:
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

from crucible_polars.udf.transport import pack, unpack


def _error_message(error: BaseException) -> tuple[str, Any, str]:
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    try:
        payload: Any = cloudpickle.dumps(error)
        pickle.loads(payload)
    except Exception:  # an exception that does not pickle: send its text
        payload = cloudpickle.dumps(RuntimeError(f"{type(error).__name__}: {error}"))
    return ("error", payload, text)


def serve(inbox: IO[bytes], outbox: IO[bytes], rank: int) -> None:
    """Answer the messages of ``inbox`` on ``outbox`` until ``inbox`` ends (see module doc).

    Parameters
    ----------
    inbox, outbox
        Binary streams of pickled messages.
    rank
        This worker's rank, passed to the job (``with_rank``).
    """
    job: Any = None
    while True:
        try:
            message = pickle.load(inbox)
        except EOFError:
            return
        if message[0] == "job":
            job = pickle.loads(message[1])
            continue
        _, frame, offset, wanted = message
        try:
            answer: tuple[Any, ...] = ("ok", pack(job(unpack(frame), offset, wanted, rank)))
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
