"""Faults injected into a test Hub's answers (:meth:`HubServer.fail_next`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class Fault:
    """One injection rule: ``status`` answers, or a body cut after ``after_bytes`` bytes.

    Attributes
    ----------
    substring : str
        Applies to requests whose decoded path contains it.
    remaining : int
        How many more requests it applies to.
    after_bytes : int or None
        Cut the connection after this many body bytes (when ``status`` is ``None``).
    status : int or None
        Answer this error status instead of the real answer.
    """

    substring: str
    remaining: int
    after_bytes: int | None
    status: int | None


class FaultQueue:
    """Pending :class:`Fault` rules, taken by the requests they apply to.

    Examples
    --------
    >>> faults = FaultQueue()
    >>> faults.add("/resolve/", times=1, status=503)
    >>> faults.take("/a/resolve/main/x", status=True).status
    503
    >>> faults.take("/a/resolve/main/x", status=True) is None
    True
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self, substring: str, *, times: int = 1, after_bytes: int = 0, status: int | None = None
    ) -> None:
        """Queue a rule for the next ``times`` requests whose decoded path contains ``substring``.

        Parameters
        ----------
        substring : str
            Substring of the decoded request path.
        times : int, default 1
            Number of requests affected.
        after_bytes : int, default 0
            Without ``status``: body bytes sent before the connection is cut.
        status : int, optional
            Error status answered instead.

        Examples
        --------
        >>> faults = FaultQueue()
        >>> faults.add("/x", after_bytes=10)
        >>> faults.take("/x", status=False).after_bytes
        10
        """
        with self._lock:
            self._faults.append(
                Fault(substring, times, None if status is not None else after_bytes, status)
            )

    def take(self, path: str, *, status: bool) -> Fault | None:
        """Use up one application of the first matching rule of a kind, if any.

        Parameters
        ----------
        path : str
            The decoded request path.
        status : bool
            ``True`` for error-status rules (checked before answering), ``False`` for
            truncation rules (checked when a body is sent).

        Examples
        --------
        >>> FaultQueue().take("/x", status=True) is None
        True
        """
        with self._lock:
            for fault in self._faults:
                if (fault.status is not None) == status and fault.substring in path:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        """Drop every pending rule.

        Examples
        --------
        >>> faults = FaultQueue()
        >>> faults.add("/x", status=500)
        >>> faults.clear()
        >>> faults.take("/x", status=True) is None
        True
        """
        with self._lock:
            self._faults.clear()
