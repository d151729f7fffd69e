"""Reading ahead: an iterator produced in a background thread, so that reading overlaps with
the consumer's work, and stopped cleanly when the consumer stops or the interpreter exits.

Examples
--------
>>> list(read_ahead(iter("abc")))
['a', 'b', 'c']
"""

from __future__ import annotations

import atexit
import queue
import threading
from collections.abc import Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def read_ahead(iterator: Iterator[T], depth: int = 1) -> Iterator[T]:
    """``iterator``, produced in a background thread up to ``depth`` items ahead of the
    consumer (plus the one being produced), so reading overlaps with the consumer's work.

    The thread starts when the first item is asked for; when the consumer stops (closes the
    iterator), it finishes the item it is producing, and the close waits for it, so no read
    goes on in the background after the stream is closed.

    Examples
    --------
    >>> list(read_ahead(iter(range(5))))
    [0, 1, 2, 3, 4]
    """
    items: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in iterator:
                if not put(("item", item)):
                    break
            else:
                put(("end", None))
        except BaseException as error:  # handed to the consumer
            put(("error", error))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
            _running.discard((stop, threading.current_thread()))

    thread = threading.Thread(target=run, name="crucible-read-ahead", daemon=True)
    _running.add((stop, thread))
    thread.start()
    try:
        while True:
            kind, value = items.get()
            if kind == "item":
                yield value
            elif kind == "end":
                return
            else:
                raise value
    finally:
        # Wait for the read in progress: a closed stream must not keep reading afterwards.
        stop.set()
        if thread is not threading.current_thread():
            thread.join()


_running: set[tuple[threading.Event, threading.Thread]] = set()


@atexit.register
def _stop_reading_ahead() -> None:
    """At exit, let read-ahead threads finish the read they are in and stop: a thread still
    inside Polars or pyarrow while the interpreter shuts down can abort the process."""
    running = list(_running)
    for stop, _ in running:
        stop.set()
    for _, thread in running:
        thread.join(timeout=10)
