"""The HTTP transport of the test Hub: read a request, let the Hub API answer, send, record.

:class:`HubRequestHandler` knows nothing of the Hub: it turns the socket's request into a
:class:`~.context.Request`, asks :class:`~.api.HubApi` for the
:class:`~.context.Response`, sends it (cutting it short when a fault says so), and records
the exchange in the :class:`~.records.RequestLog`. Its :class:`Backend` is all it sees of
the server.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import struct
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from crucible_polars.testing.hub.api import HubApi
from crucible_polars.testing.hub.context import Request, Response, Trace, error_response
from crucible_polars.testing.hub.errors import HubError
from crucible_polars.testing.hub.faults import FaultQueue
from crucible_polars.testing.hub.records import RequestLog, RequestRecord


@dataclass(frozen=True)
class Backend:
    """What the transport uses of a test Hub.

    Attributes
    ----------
    api : HubApi
        Answers requests.
    faults : FaultQueue
        Injected failures, taken per request.
    log : RequestLog
        Where answered requests are recorded.
    """

    api: HubApi
    faults: FaultQueue
    log: RequestLog


class HubHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that tracks its connections, so :meth:`close` can cut them.

    Parameters
    ----------
    address : tuple[str, int]
        ``(host, port)`` to bind; port ``0`` picks a free one.
    backend : Backend
        What the requests are answered with.
    """

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], backend: Backend) -> None:
        self.backend = backend
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, HubRequestHandler)

    def server_bind(self) -> None:
        """Bind without ``HTTPServer.server_bind``'s ``socket.getfqdn()`` (may wait on DNS)."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        """Note that ``connection`` opened (``open_=True``) or closed."""
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close(self) -> None:
        """Stop serving, cut open keep-alive connections and release the port."""
        self.shutdown()
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self.server_close()


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1").replace("\n", " ")


@dataclass
class _Exchange:
    """One request and what has been sent back so far."""

    request: Request
    trace: Trace = field(default_factory=Trace)
    status: int = 0
    bytes_sent: int = 0
    aborted: bool = False
    headers_sent: bool = False
    saved: RequestRecord | None = None


class HubRequestHandler(BaseHTTPRequestHandler):
    """Transport only: every method goes through :meth:`_exchange`."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY the second one waits
    # for the client's delayed ACK (~40 ms a request on loopback).
    disable_nagle_algorithm = True
    server_version = "crucible-test-hub/1.0"
    server: HubHTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, open_=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, open_=False)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # requests are recorded (and printed when verbose) by the RequestLog

    def do_GET(self) -> None:
        self._exchange("GET")

    def do_HEAD(self) -> None:
        self._exchange("HEAD")

    def do_POST(self) -> None:
        self._exchange("POST")

    def do_PUT(self) -> None:
        self._exchange("PUT")

    def do_DELETE(self) -> None:
        self._exchange("DELETE")

    def do_PATCH(self) -> None:
        self._exchange("PATCH")

    def _read(self, method: str) -> Request:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        return Request(
            method=method,
            raw_path=split.path,
            path=unquote(split.path),
            query=split.query,
            headers=self.headers,
            body=self.rfile.read(length) if length > 0 else b"",
            host=self.headers.get("Host") or f"{self.server.server_name}:{self.server.server_port}",
            port=self.server.server_port,
        )

    def _exchange(self, method: str) -> None:
        backend = self.server.backend
        exchange = _Exchange(self._read(method))
        try:
            fault = backend.faults.take(exchange.request.path, status=True)
            if fault is not None and fault.stall > 0:
                time.sleep(fault.stall)  # then answer for real (if the client still waits)
            if fault is not None and fault.status is not None:
                exchange.trace.route = "fault"
                wait = [("Retry-After", str(fault.retry_after))] if fault.retry_after else []
                failure = HubError(fault.status, f"Injected failure ({fault.status})", None, wait)
                response = error_response(failure)
            else:
                response = backend.api.answer(exchange.request, exchange.trace)
            self._send(exchange, response)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as error:  # a bug in the test Hub: answer 500, keep serving
            if exchange.headers_sent:
                self.close_connection = True
            else:
                bug = HubError(500, f"test hub error: {type(error).__name__}: {error}")
                self._send(exchange, error_response(bug))
        finally:
            self._save(exchange)

    def _save(self, exchange: _Exchange) -> None:
        """Record the request (again, with the final byte count, if already recorded).

        The record is saved *before* the last bytes of the response leave, so that a client
        reading the counters right after its request returned always finds it.
        """
        request, trace = exchange.request, exchange.trace
        record = RequestRecord(
            method=request.method,
            path=request.path,
            query=request.query,
            route=trace.route,
            repo_id=trace.repo_id,
            revision=trace.revision,
            status=exchange.status,
            range=request.headers.get("Range"),
            bytes_sent=exchange.bytes_sent,
            aborted=exchange.aborted,
        )
        if record != exchange.saved:
            self.server.backend.log.record(record, exchange.saved)
            exchange.saved = record

    def _send(self, exchange: _Exchange, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, _latin1(value))
        self.send_header("Content-Length", str(response.length))
        self.send_header("X-Request-Id", f"Root={uuid.uuid4()}")
        exchange.status = response.status
        exchange.headers_sent = True
        if exchange.request.method == "HEAD" or response.length == 0:
            self._save(exchange)
            self.end_headers()
            return
        self.end_headers()
        fault = self.server.backend.faults.take(exchange.request.path, status=False)
        limit = fault.after_bytes if fault is not None else None
        chunks = response.chunks
        if fault is not None and fault.corrupt_at is not None:
            chunks = _with_byte_changed(chunks, fault.corrupt_at)
        if fault is not None and fault.rewrite is not None:
            body = b"".join(chunks)
            rewritten = fault.rewrite(body)
            assert len(rewritten) == len(body), "a rewrite must keep the body's length"
            chunks = [rewritten]
        iterator = iter(chunks)
        chunk = next(iterator, None)
        while chunk is not None:
            following = next(iterator, None)
            if limit is not None and exchange.bytes_sent + len(chunk) > limit:
                part = chunk[: max(limit - exchange.bytes_sent, 0)]
                self.wfile.write(part)
                exchange.bytes_sent += len(part)
                exchange.aborted = True
                self.close_connection = True
                self._save(exchange)
                with contextlib.suppress(OSError):
                    if fault is not None and fault.reset:  # a TCP RST rather than a FIN
                        self.wfile.flush()
                        linger = struct.pack("ii", 1, 0)
                        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                        self.connection.close()
                    else:
                        self.connection.shutdown(socket.SHUT_RDWR)
                return
            if following is None:  # count the last chunk before the client can see it
                exchange.bytes_sent += len(chunk)
                self._save(exchange)
                try:
                    self.wfile.write(chunk)
                except OSError:
                    exchange.bytes_sent -= len(chunk)
                    raise
                return
            self.wfile.write(chunk)
            exchange.bytes_sent += len(chunk)
            chunk = following


def _with_byte_changed(chunks: Iterable[bytes], offset: int) -> Iterator[bytes]:
    """``chunks`` with the byte at ``offset`` (or the last one, if the body is shorter)
    changed: the same length, the wrong content."""
    seen = 0
    pending: bytes | None = None
    done = False
    for chunk in chunks:
        if pending is not None:
            yield pending
        if not done and seen <= offset < seen + len(chunk):
            i = offset - seen
            chunk = chunk[:i] + bytes([chunk[i] ^ 0x01]) + chunk[i + 1 :]
            done = True
        seen += len(chunk)
        pending = chunk
    if pending:
        if not done:
            pending = pending[:-1] + bytes([pending[-1] ^ 0x01])
        yield pending
