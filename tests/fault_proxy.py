"""An HTTP proxy in front of the test Hub that injects faults the Hub's ``fail_next`` cannot.

The test Hub cuts bodies short and answers error statuses (``HubServer.fail_next``); this
proxy adds what a client must also survive: an error status *with headers* (``429`` with
``Retry-After``), a connection *reset* (TCP RST) part-way through a body, and faults chosen
by HTTP method (a ``GET`` of a file but not its ``HEAD``). It records when each request
arrived, so a test can check how long the client waited.

Requests are forwarded with their ``Host`` header, so the URLs the Hub builds from it (page
links, redirects) point back at the proxy.
"""

from __future__ import annotations

import http.client
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import unquote, urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


@dataclass
class Fault:
    """What to do to the next ``times`` matching requests."""

    path: str
    method: str | None
    times: int
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    reset_after: int | None = None
    skip: int = 0


@dataclass(frozen=True)
class Seen:
    """One request the proxy answered: when, what, and whether a fault answered it."""

    at: float
    method: str
    path: str
    fault: str | None


class FaultProxy:
    """A threaded proxy to ``upstream`` (the test Hub's URL) with injectable faults.

    Examples
    --------
    >>> with FaultProxy("http://127.0.0.1:9") as proxy:
    ...     proxy.fail("/resolve/", status=429, headers={"Retry-After": "1"})
    ...     proxy.url.startswith("http://127.0.0.1:")
    True
    """

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.faults: list[Fault] = []
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Where the proxy listens."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail(
        self,
        path: str,
        *,
        method: str | None = None,
        times: int = 1,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        reset_after: int | None = None,
        skip: int = 0,
    ) -> None:
        """Fault ``times`` requests whose decoded path contains ``path``, after ``skip`` of them.

        ``status`` answers that status (with ``headers``) instead of forwarding;
        ``reset_after`` forwards, announces the full length, sends that many body bytes and
        resets the connection.
        """
        with self.lock:
            self.faults.append(
                Fault(path, method, times, status, dict(headers or {}), reset_after, skip)
            )

    def take(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.path in path and fault.method in (None, method):
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def record(self, method: str, path: str, fault: str | None) -> None:
        with self.lock:
            self.seen.append(Seen(time.monotonic(), method, path, fault))

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self._serve()

        do_HEAD = do_POST = do_GET

        def _serve(self) -> None:
            path = unquote(urlsplit(self.path).path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            fault = proxy.take(self.command, path)
            if fault is not None and fault.status is not None:
                proxy.record(self.command, path, f"status {fault.status}")
                payload = b'{"error": "injected by the fault proxy"}'
                self.send_response(fault.status)
                for key, value in fault.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)
                return
            upstream = http.client.HTTPConnection(*proxy.upstream, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            upstream.request(self.command, self.path, body=body or None, headers=headers)
            answer = upstream.getresponse()
            content = answer.read()
            upstream.close()
            reset = fault is not None and fault.reset_after is not None
            proxy.record(self.command, path, "reset" if reset else None)
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in _HOP_BY_HOP:
                    self.send_header(key, value)
            announced = answer.getheader("Content-Length") or str(len(content))
            head = self.command == "HEAD"
            self.send_header("Content-Length", announced if head else str(len(content)))
            self.end_headers()
            if self.command == "HEAD":
                return
            if reset and fault is not None and fault.reset_after is not None:
                self.wfile.write(content[: fault.reset_after])
                self.wfile.flush()
                linger = struct.pack("ii", 1, 0)  # close with a TCP RST, not a FIN
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                self.close_connection = True
                self.connection.close()
                return
            self.wfile.write(content)

    return Handler
