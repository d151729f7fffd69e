"""What a :class:`~crucible_polars.testing.hub.server.HubServer` records of each request."""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestRecord:
    """One request answered by a :class:`HubServer`.

    Attributes
    ----------
    method : str
        HTTP method (``GET``, ``HEAD``, ``POST``...).
    path : str
        Percent-decoded URL path, without the query string.
    query : str
        Raw query string (``""`` when absent).
    route : str
        Which handler answered: ``info``, ``tree``, ``paths-info``, ``resolve``, ``refs``,
        ``commits``, ``parquet``, ``list``, ``auth-check``, ``whoami``, ``agent-harnesses``,
        ``cdn`` (LFS redirect target), ``fault`` (injected error) or ``unknown``.
    repo_id : str or None
        Repository the request addressed, if any.
    revision : str or None
        Revision as requested (decoded), if the route takes one.
    status : int
        HTTP status code sent.
    range : str or None
        The ``Range`` request header, if any.
    bytes_sent : int
        Number of response *body* bytes written to the socket.
    aborted : bool
        Whether the connection was cut on purpose (see :meth:`HubServer.fail_next`).
    """

    method: str
    path: str
    query: str
    route: str
    repo_id: str | None
    revision: str | None
    status: int
    range: str | None
    bytes_sent: int
    aborted: bool = False


class RequestLog:
    """The requests a :class:`HubServer` answered, safe to use from several threads.

    Parameters
    ----------
    verbose : bool, default False
        Print every recorded request to standard error.

    Examples
    --------
    >>> log = RequestLog()
    >>> first = RequestRecord("GET", "/api/datasets/a/b", "", "info", "a/b", "main", 200, None, 0)
    >>> log.record(first)
    >>> log.record(RequestRecord("HEAD", "/a/b/resolve/main/x", "", "resolve", "a/b", "main",
    ...                          200, None, 0))
    >>> len(log.select("GET", None, None)), len(log.select(None, "/resolve/", "resolve"))
    (1, 1)
    """

    def __init__(self, *, verbose: bool = False) -> None:
        self.verbose = verbose
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []

    def record(self, record: RequestRecord, previous: RequestRecord | None = None) -> None:
        """Append ``record``, or let it replace ``previous`` (an update of the same request).

        Parameters
        ----------
        record : RequestRecord
            What was answered.
        previous : RequestRecord, optional
            An earlier record of the same request to replace (it is left out if
            :meth:`clear` dropped it meanwhile).

        Examples
        --------
        >>> log = RequestLog()
        >>> early = RequestRecord("GET", "/x", "", "unknown", None, None, 404, None, 0)
        >>> log.record(early)
        >>> log.record(RequestRecord("GET", "/x", "", "unknown", None, None, 404, None, 9), early)
        >>> [r.bytes_sent for r in log.select(None, None, None)]
        [9]
        """
        with self._lock:
            if previous is None:
                self._records.append(record)
            else:
                for index in range(len(self._records) - 1, -1, -1):
                    if self._records[index] is previous:
                        self._records[index] = record
                        break
                return  # dropped by clear() meanwhile: leave it out
        if self.verbose:
            print(
                f"[hub] {record.method} {record.path}"
                f"{'?' + record.query if record.query else ''} -> {record.status}"
                f" ({record.route}, {record.bytes_sent} B)",
                file=sys.stderr,
                flush=True,
            )

    def select(
        self, method: str | None, path_substring: str | None, route: str | None
    ) -> list[RequestRecord]:
        """The records matching a method, a substring of the decoded path and a route.

        Parameters
        ----------
        method : str or None
            HTTP method (any case); ``None`` matches all.
        path_substring : str or None
            Substring of the decoded path; ``None`` matches all.
        route : str or None
            Route name (see :class:`RequestRecord`); ``None`` matches all.

        Examples
        --------
        >>> RequestLog().select("GET", "/api/", None)
        []
        """
        with self._lock:
            return [
                r
                for r in self._records
                if (method is None or r.method == method.upper())
                and (path_substring is None or path_substring in r.path)
                and (route is None or r.route == route)
            ]

    def clear(self) -> None:
        """Forget every record.

        Examples
        --------
        >>> log = RequestLog()
        >>> log.record(RequestRecord("GET", "/x", "", "unknown", None, None, 404, None, 0))
        >>> log.clear()
        >>> log.select(None, None, None)
        []
        """
        with self._lock:
            self._records.clear()
