"""A time limit on ``huggingface_hub``'s Hub API calls, which have none of their own.

``HfApi`` (``resolve_revision``, ``list_repo_tree``, ``dataset_info``) sends its requests
through ``huggingface_hub``'s shared client, built with ``timeout=None``: a stalled ``/api``
answer hangs the load for good. Inside :func:`api_deadline`, every request that carries no
timeout of its own gets ``HF_HUB_ETAG_TIMEOUT`` seconds (``huggingface_hub``'s limit for its
metadata requests, 10 s by default; ``datasets`` gives up after about 6 s), so a stall
becomes a ``httpx`` timeout, which :func:`~crucible_polars.retry.retry_call` retries and then
reports. Requests outside the block (the user's own ``huggingface_hub`` calls) are untouched.

Examples
--------
>>> with api_deadline(2.5):
...     _DEADLINE.get()
2.5
>>> _DEADLINE.get() is None
True
"""

from __future__ import annotations

import json
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from huggingface_hub import constants
from huggingface_hub.utils import get_session

from crucible_polars.retry import TransientFault

_DEADLINE: ContextVar[float | None] = ContextVar("crucible_polars_api_deadline", default=None)
_HOOKED: weakref.WeakSet[Any] = weakref.WeakSet()
_LOCK = threading.Lock()


def api_timeout_seconds() -> float:
    """Seconds an API answer may take: ``HF_HUB_ETAG_TIMEOUT`` (read now; fractions allowed).

    Examples
    --------
    >>> api_timeout_seconds() > 0
    True
    """
    value = os.environ.get("HF_HUB_ETAG_TIMEOUT", "").strip()
    try:
        seconds = float(value) if value else float(constants.HF_HUB_ETAG_TIMEOUT)
    except ValueError:
        seconds = float(constants.HF_HUB_ETAG_TIMEOUT)
    return seconds if seconds > 0 else float(constants.DEFAULT_ETAG_TIMEOUT)


def _limit_request(request: Any) -> None:
    """Request hook: give a request without any timeout the one of the current block."""
    seconds = _DEADLINE.get()
    if seconds is None:
        return
    timeout = request.extensions.get("timeout") or {}
    if all(v is None for v in timeout.values()):
        request.extensions["timeout"] = dict.fromkeys(("connect", "read", "write", "pool"), seconds)


def _install_hook() -> None:
    client = get_session()
    with _LOCK:
        if client in _HOOKED:
            return
        client.event_hooks["request"] = [*client.event_hooks["request"], _limit_request]
        _HOOKED.add(client)


@contextmanager
def api_deadline(seconds: float | None = None) -> Iterator[None]:
    """Limit every ``huggingface_hub`` request made in the block (in this thread) that has no
    timeout of its own to ``seconds`` (default :func:`api_timeout_seconds`); an answer that
    is not valid JSON becomes a :class:`~crucible_polars.retry.TransientFault` (retried).

    Parameters
    ----------
    seconds
        The limit on connecting, and on each wait for data.

    Examples
    --------
    >>> with api_deadline(1.0):
    ...     pass
    """
    _install_hook()
    token = _DEADLINE.set(api_timeout_seconds() if seconds is None else seconds)
    try:
        yield
    except json.JSONDecodeError as error:  # a cut or garbled answer: worth another try
        raise TransientFault(f"the Hub's answer was not valid JSON ({error})") from error
    finally:
        _DEADLINE.reset(token)
