"""Retrying Hub and HTTP requests: which faults are transient, and how long to wait.

One policy for every request this package makes, fit for many workers sharing a rate limit:

* streaming range reads (:mod:`crucible_polars.streaming.ranges`) hand each request to
  ``huggingface_hub``'s :func:`~huggingface_hub.utils.http_stream_backoff` /
  :func:`~huggingface_hub.utils.http_backoff` with :func:`retry_policy`, and resume a body
  that broke off from the byte it had reached;
* downloads and Hub API calls (:mod:`crucible_polars.sources.hub`) run through
  :func:`retry_call` on top of ``huggingface_hub``'s own retries, which leave some transient
  faults unretried (a connection reset or a 5xx during a download, any fault of ``/api``).

Waits double from :data:`RETRY_WAIT_SECONDS` up to :data:`RETRY_MAX_WAIT_SECONDS` (60 s, what
``datasets`` waits on a 429 when streaming); an answer that says how long to wait
(``Retry-After``, or ``RateLimit`` with nothing remaining) is obeyed instead. The environment
variables ``CRUCIBLE_POLARS_HTTP_RETRIES``, ``CRUCIBLE_POLARS_HTTP_RETRY_WAIT`` and
``CRUCIBLE_POLARS_HTTP_RETRY_MAX_WAIT`` override the three numbers (read at every request, so
tests can make the waits tiny).

Examples
--------
>>> policy = RetryPolicy(retries=3, wait=1.0, max_wait=3.0)
>>> [policy.wait_before(n) for n in (1, 2, 3)]
[1.0, 2.0, 3.0]
>>> policy.wait_before(1, {"Retry-After": "7"})
7.0
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import httpx2
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.utils import parse_ratelimit_headers

from crucible_polars.errors import CrucibleError

T = TypeVar("T")

HTTP_RETRIES = 8
"""Retries of one request after its first try (env ``CRUCIBLE_POLARS_HTTP_RETRIES``)."""

RETRY_WAIT_SECONDS = 1.0
"""Wait before the first retry, doubled after each (env ``CRUCIBLE_POLARS_HTTP_RETRY_WAIT``)."""

RETRY_MAX_WAIT_SECONDS = 60.0
"""Longest wait between two tries unless the server asks for longer
(env ``CRUCIBLE_POLARS_HTTP_RETRY_MAX_WAIT``)."""

RETRY_STATUS: tuple[int, ...] = (408, 425, 429, 500, 502, 503, 504)
"""HTTP statuses worth retrying: ``huggingface_hub``'s set, plus 425 Too Early."""

NETWORK_ERRORS: tuple[type[Exception], ...] = (
    httpx2.TimeoutException,
    httpx2.NetworkError,
    httpx2.RemoteProtocolError,
)
"""Exceptions of the HTTP client worth retrying: timeouts, resets, bodies cut short."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often to retry a request and how long to wait in between.

    Parameters
    ----------
    retries
        Retries after the first try (so ``retries + 1`` attempts in all).
    wait
        Seconds before the first retry; doubled after every further failure.
    max_wait
        Cap on the doubled wait (a server's ``Retry-After`` is obeyed even when longer).

    Examples
    --------
    >>> RetryPolicy(retries=2, wait=0.5, max_wait=8.0).attempts
    3
    """

    retries: int
    wait: float
    max_wait: float

    @property
    def attempts(self) -> int:
        """Tries in all (the first one and the retries)."""
        return self.retries + 1

    def wait_before(self, retry: int, headers: Mapping[str, str] | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first).

        Parameters
        ----------
        retry
            Which retry comes next, counting from 1.
        headers
            The failed answer's headers, if there was an answer: ``Retry-After`` (seconds) and
            ``RateLimit`` (with nothing remaining) say how long the server wants us to wait.

        Examples
        --------
        >>> RetryPolicy(retries=9, wait=1.0, max_wait=60.0).wait_before(8)
        60.0
        >>> RetryPolicy(5, 1.0, 8.0).wait_before(1, {"ratelimit": '"api";r=0;t=30'})
        30.0
        """
        asked = server_wait(headers) if headers is not None else None
        if asked is not None:
            return asked
        return float(min(self.wait * 2 ** max(retry - 1, 0), self.max_wait))


def _env_number(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    try:
        return float(value) if value else default
    except ValueError:
        return default


def retry_policy() -> RetryPolicy:
    """The policy in force: the module's constants, overridden by the environment.

    Examples
    --------
    >>> retry_policy().retries >= 0
    True
    """
    retries = _env_number("CRUCIBLE_POLARS_HTTP_RETRIES", HTTP_RETRIES)
    wait = _env_number("CRUCIBLE_POLARS_HTTP_RETRY_WAIT", RETRY_WAIT_SECONDS)
    max_wait = _env_number("CRUCIBLE_POLARS_HTTP_RETRY_MAX_WAIT", RETRY_MAX_WAIT_SECONDS)
    return RetryPolicy(max(int(retries), 0), max(wait, 0.0), max(max_wait, 0.0))


def server_wait(headers: Mapping[str, str]) -> float | None:
    """Seconds an answer asks the client to wait (``RateLimit`` reset, ``Retry-After``), if any.

    Parameters
    ----------
    headers
        The answer's headers.

    Examples
    --------
    >>> server_wait({"Retry-After": "2"}), server_wait({"Content-Type": "text/plain"})
    (2.0, None)
    """
    limit = parse_ratelimit_headers(headers)
    if limit is not None and limit.remaining == 0:
        return float(limit.reset_in_seconds)
    for key, value in headers.items():
        if key.lower() == "retry-after" and value.strip().isdigit():
            return float(value.strip())
    return None


class TransientFault(Exception):
    """A fault found once an answer had arrived (downloaded bytes that do not match their
    checksum, say) that another try may well not have: :func:`transient_reason` retries it.

    Examples
    --------
    >>> transient_reason(TransientFault("bytes do not match"))
    'bytes do not match'
    """


def transient_reason(error: BaseException) -> str | None:
    """Why ``error`` is worth retrying, or ``None`` when it is not.

    Transient: a network fault of the HTTP client (timeout, reset, body cut short), an answer
    with a status of :data:`RETRY_STATUS`, or ``huggingface_hub``'s size check failing on a
    download — found on the error or on any error it was raised from (``huggingface_hub``
    wraps some in ``LocalEntryNotFoundError`` or ``RevisionResolutionError``). Our own errors
    (:class:`~crucible_polars.errors.CrucibleError`) are final.

    Parameters
    ----------
    error
        What a request raised.

    Examples
    --------
    >>> transient_reason(httpx2.ReadError("Connection reset by peer"))
    'ReadError: Connection reset by peer'
    >>> transient_reason(ValueError("bad")) is None
    True
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, CrucibleError):
            return None
        seen.add(id(current))
        if isinstance(current, TransientFault):
            return str(current)
        if isinstance(current, NETWORK_ERRORS):
            return f"{type(current).__name__}: {current}"
        status = _status(current)
        if status is not None and status in RETRY_STATUS:
            return f"HTTP {status}"
        if isinstance(current, OSError) and "Consistency check failed" in str(current):
            return "the download was cut short (size check failed)"
        current = current.__cause__ or current.__context__
    return None


def _status(error: BaseException) -> int | None:
    response = getattr(error, "response", None) if isinstance(error, HfHubHTTPError) else None
    return int(response.status_code) if response is not None else None


def _headers(error: BaseException) -> Mapping[str, str] | None:
    current: BaseException | None = error
    seen: set[int] = set()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _status(current) is not None:
            return dict(getattr(current, "response").headers)  # noqa: B009
        current = current.__cause__ or current.__context__
    return None


def retry_call(
    call: Callable[[], T],
    give_up: Callable[[int, str], Exception],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``call()``, retried on transient faults (:func:`transient_reason`) by :func:`retry_policy`.

    Parameters
    ----------
    call
        The request (a download, a Hub API call); other errors pass through at once.
    give_up
        Builds the error raised after the last attempt, from the number of attempts and the
        last fault's reason (the fault itself becomes its ``__cause__``).
    sleep
        How to wait (``time.sleep``).

    Examples
    --------
    >>> faults = [httpx2.ReadError("reset")]
    >>> def flaky() -> str:
    ...     if faults:
    ...         raise faults.pop()
    ...     return "ok"
    >>> retry_call(flaky, lambda n, why: RuntimeError(why), sleep=lambda s: None)
    'ok'
    """
    policy = retry_policy()
    failures = 0
    while True:
        try:
            return call()
        except Exception as error:
            reason = transient_reason(error)
            if reason is None:
                raise
            failures += 1
            if failures >= policy.attempts:
                raise give_up(failures, reason) from error
            sleep(policy.wait_before(failures, _headers(error)))
