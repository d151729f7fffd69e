"""DataLoader workers: registering with torch, finding the worker, refusing unsafe forks.

A streaming dataset passes ``isinstance(ds, torch.utils.data.IterableDataset)`` once torch
is imported (a virtual subclass: torch stays an optional dependency). Inside a DataLoader
worker the dataset reads only that worker's files, row groups or rows. Polars is not
fork-safe: its thread pool does not exist in a forked child, so DataLoader workers must be
started with ``multiprocessing_context="forkserver"`` (or ``"spawn"``); a forked worker
fails with an error saying so, instead of hanging.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def register_with_torch(cls: type) -> None:
    """Make ``cls`` a virtual subclass of ``torch.utils.data.IterableDataset`` (so a
    DataLoader treats its instances as iterable datasets) if torch is imported; torch is
    never imported here, and nothing changes the class itself.

    Examples
    --------
    >>> class Stream:
    ...     def __iter__(self):
    ...         yield 1
    >>> register_with_torch(Stream)  # a no-op until torch is imported
    """
    torch = sys.modules.get("torch")
    if torch is None or cls in _registered:
        return
    import torch.utils.data

    torch.utils.data.IterableDataset.register(cls)
    _registered.add(cls)


_registered: set[type] = set()


class SharedEpoch:
    """An epoch number that the persistent workers of a DataLoader see change.

    Once torch is imported (at the latest when the dataset is pickled into the workers) the
    value lives in a shared-memory torch tensor, as in ``datasets``; without torch it is an
    ``int``.

    Examples
    --------
    >>> epoch = SharedEpoch(0); epoch.set(3); epoch.get()
    3
    """

    def __init__(self, value: int = 0) -> None:
        self._value = int(value)
        self._tensor: Any = None
        self._share()

    def _share(self) -> None:
        torch = sys.modules.get("torch")
        if torch is not None and self._tensor is None:
            self._tensor = torch.tensor(self._value, dtype=torch.int64).share_memory_()

    def get(self) -> int:
        """The epoch."""
        return int(self._tensor.item()) if self._tensor is not None else self._value

    def set(self, value: int) -> None:
        """Set the epoch (seen by every process sharing it)."""
        self._value = int(value)
        self._share()
        if self._tensor is not None:
            self._tensor.fill_(self._value)

    def __getstate__(self) -> dict[str, Any]:
        self._share()  # pickled into DataLoader workers: share before leaving
        return {"_value": self.get(), "_tensor": self._tensor}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._value, self._tensor = state["_value"], state["_tensor"]


def dataloader_worker() -> tuple[int, int] | None:
    """``(num_workers, worker_id)`` inside a torch DataLoader worker with several workers.

    Raises a clear error in a worker forked from a process running Polars' thread pool, where
    any Polars operation would hang.

    Examples
    --------
    >>> dataloader_worker() is None  # not in a DataLoader worker
    True
    """
    if "torch" not in sys.modules:
        return None
    import torch.utils.data

    info = torch.utils.data.get_worker_info()
    if info is None:
        return None
    if _fork.unsafe:
        raise RuntimeError(
            "This DataLoader worker was forked from a process whose Polars thread pool was "
            "running, and Polars would deadlock in it. Create the DataLoader with "
            "multiprocessing_context='forkserver' (or 'spawn'): "
            "DataLoader(ds, num_workers=..., multiprocessing_context='forkserver')."
        )
    if info.num_workers <= 1:
        return None
    return int(info.num_workers), int(info.id)


class _ForkWatch:
    """Whether this process was forked from one whose Polars thread pool was running (threads
    named ``polars-<n>``): Polars operations in such a child wait forever for threads that do
    not exist in it."""

    def __init__(self) -> None:
        self.pool_at_fork = False
        self.unsafe = False

    @staticmethod
    def _polars_pool_running() -> bool:
        try:
            tasks = os.listdir("/proc/self/task")
        except OSError:  # not Linux: "spawn" is the default start method there anyway
            return False
        for task in tasks:
            try:
                with open(f"/proc/self/task/{task}/comm") as comm:
                    name = comm.read().strip()
            except OSError:
                continue
            if name.startswith("polars-") and name[len("polars-") :].isdigit():
                return True
        return False

    def before(self) -> None:
        self.pool_at_fork = self._polars_pool_running()

    def in_child(self) -> None:
        self.unsafe = self.pool_at_fork


_fork = _ForkWatch()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_fork.before, after_in_child=_fork.in_child)
