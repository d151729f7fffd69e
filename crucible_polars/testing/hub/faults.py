"""Faults injected into a test Hub's answers (:meth:`HubServer.fail_next`).

Before the answer: an error status (with ``Retry-After`` if asked) or a stall (no answer for
some seconds). In the body: the connection cut after some bytes, or one byte changed (the
right length, the wrong content). The request handler applies them; the routes never see
them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Fault:
    """One injection rule: ``status`` answers, a stall, a body cut after ``after_bytes``
    bytes, or a body with the byte at ``corrupt_at`` changed.

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
    retry_after : int or None
        With ``status``: the ``Retry-After`` header (seconds) of the error answer.
    stall : float
        Seconds to wait before answering at all (then the real answer).
    corrupt_at : int or None
        Change the body byte at this offset (the length stays right).
    reset : bool
        Cut with a connection reset (``RST``) rather than a clean close.
    rewrite : callable or None
        Replace the whole body with ``rewrite(body)`` (of the same length: the headers are
        sent first), e.g. a listing that still parses but says something else.
    """

    substring: str
    remaining: int
    after_bytes: int | None
    status: int | None
    retry_after: int | None = None
    stall: float = 0.0
    corrupt_at: int | None = None
    reset: bool = False
    rewrite: Callable[[bytes], bytes] | None = None

    @property
    def before_answer(self) -> bool:
        """Whether the rule acts before the answer (status, stall) rather than on its body."""
        return self.status is not None or self.stall > 0


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
        self,
        substring: str,
        *,
        times: int = 1,
        after_bytes: int = 0,
        status: int | None = None,
        retry_after: int | None = None,
        stall: float = 0.0,
        corrupt_at: int | None = None,
        reset: bool = False,
        rewrite: Callable[[bytes], bytes] | None = None,
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
        retry_after : int, optional
            With ``status``: the error answer's ``Retry-After`` (seconds).
        stall : float, default 0
            Seconds without an answer before the real answer.
        corrupt_at : int, optional
            Body offset of a byte to change (instead of a cut; the length stays right).
        reset : bool, default False
            Cut with a connection reset rather than a clean close.
        rewrite : callable, optional
            Replace the body with ``rewrite(body)``, which must keep its length.

        Examples
        --------
        >>> faults = FaultQueue()
        >>> faults.add("/x", after_bytes=10)
        >>> faults.take("/x", status=False).after_bytes
        10
        >>> faults.add("/y", stall=0.5)
        >>> faults.take("/y", status=True).stall
        0.5
        """
        cut = status is None and not stall and corrupt_at is None and rewrite is None
        with self._lock:
            self._faults.append(
                Fault(
                    substring,
                    times,
                    after_bytes if cut else None,
                    status,
                    retry_after,
                    stall if status is None else 0.0,
                    corrupt_at if status is None else None,
                    reset,
                    rewrite if status is None else None,
                )
            )

    def take(self, path: str, *, status: bool) -> Fault | None:
        """Use up one application of the first matching rule of a kind, if any.

        Parameters
        ----------
        path : str
            The decoded request path.
        status : bool
            ``True`` for rules checked before answering (error status, stall), ``False``
            for body rules (cut, changed byte), checked when a body is sent.

        Examples
        --------
        >>> FaultQueue().take("/x", status=True) is None
        True
        """
        with self._lock:
            for fault in self._faults:
                if fault.before_answer == status and fault.substring in path:
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
