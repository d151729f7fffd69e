"""Error answers of the test Hub, raised by the routes and sent by the request handler."""

from __future__ import annotations

from collections.abc import Sequence


class HubError(Exception):
    """An error answer: status, ``X-Error-Code`` and message, as the Hub sends them."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = list(headers)
