"""Polars in forked processes: its thread pool does not survive ``fork``, so a query started
in a forked child (a torch DataLoader worker under the default start method) would wait
forever. Queries there raise :class:`ForkedWorkerError`, which says what to do instead.

Examples
--------
>>> refuse_in_forked_child()  # this process was not forked
"""

from __future__ import annotations

import os

_FORKED = [False]


class ForkedWorkerError(RuntimeError):
    """A Polars query asked for in a forked process, where Polars' thread pool never answers."""


def _in_forked_child() -> None:
    _FORKED[0] = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_in_forked_child)


def refuse_in_forked_child() -> None:
    """Raise :class:`ForkedWorkerError` (with the fix) instead of hanging in a forked process.

    Polars' thread pool does not survive ``fork``: a query started in a forked child (a torch
    DataLoader worker under the default start method) waits forever. Materialized rows are
    read without it, so only queries are refused.

    Examples
    --------
    >>> refuse_in_forked_child()  # this process was not forked
    """
    if _FORKED[0]:
        raise ForkedWorkerError(
            "This dataset is read in a forked process (a torch DataLoader worker under the "
            "default 'fork' start method) before its rows were materialized, and Polars "
            "cannot run a query in a forked process. Call ds = ds.flatten_indices() before "
            "creating the DataLoader (the rows are written once and memory-mapped), or pass "
            "multiprocessing_context='forkserver' (or 'spawn') to the DataLoader."
        )
