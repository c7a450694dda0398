"""gunicorn's threaded worker, where a slow client costs no thread.

gthread hands a connection to a thread as soon as it is readable, and the thread then reads
the request's headers and body from the socket: a client that sends a byte every few
seconds holds a thread for as long as it likes, and twenty of them starve the worker (eight
threads here). So this worker reads each request in its main loop first, without blocking,
as bytes arrive:

- the headers (at most ``MAX_HEADER_BYTES``) and, when it is small enough for the API to
  read at all (``MAX_BODY_BYTES``), the body, by its Content-Length or its chunks;
- within whole deadlines, not per read: the headers within ``HEADER_DEADLINE_SECONDS`` of
  the request's first byte (else the connection is closed, as if the client had hung up),
  and the body within ``BODY_DEADLINE_SECONDS`` of the headers' end (else a 408).

Only a request that has arrived whole goes to a thread. Whatever the thread still reads
from the socket (a body the client sends after ``Expect: 100-continue``, a pipelined
request) is bounded by the same deadlines. Past ``MAX_URL_BYTES`` on the request line, or
``MAX_HEADER_BYTES`` of headers, the answer is a 414 or a 431, in JSON.

A kept-alive connection stays with the worker that accepted it, and workers race for new
ones: sixteen connections opened at once were sometimes all taken by one worker, which then ran
on one CPU (the GIL) while the other idled, and the service answered half as much. So after
``REQUESTS_PER_CONNECTION`` requests the answer says ``Connection: close``, as nginx's
``keepalive_requests`` does, and the client's next connection goes to whichever worker
accepts first: the less busy one, whose main loop waits least for the GIL.
"""

from __future__ import annotations

import contextlib
import errno
import selectors
import socket
import time
from functools import partial
from typing import Any

import orjson
from gunicorn.workers import gthread

from leaderboard.http.limits import (
    BODY_DEADLINE_SECONDS,
    HEADER_DEADLINE_SECONDS,
    MAX_BODY_BYTES,
    MAX_HEADER_BYTES,
    MAX_URL_BYTES,
    REQUESTS_PER_CONNECTION,
)

# The request line may be a little longer than the URL it carries ("GET ", " HTTP/1.1").
_MAX_REQUEST_LINE = MAX_URL_BYTES + 64


class _ClientSocket(socket.socket):
    """A client's socket with a deadline: reads first return what the main loop read ahead,
    then block for at most the time left before the deadline."""

    pending = b""
    served = 0  # requests begun on this connection
    deadline: float | None = None
    _timeout: float | None = None

    def begin(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def setblocking(self, flag: bool) -> None:
        if flag:
            if self.deadline is None:  # a request that was not read ahead (pipelined)
                self.begin(HEADER_DEADLINE_SECONDS)
            self._timeout = None
            super().settimeout(max(0.001, self.deadline - time.monotonic()))  # type: ignore[operator]
        else:
            self.deadline = None  # the request is over
            super().setblocking(False)

    def settimeout(self, value: float | None) -> None:
        # gunicorn's own bounded reads (draining an unread body): the earlier of the two wins.
        self._timeout = value
        super().settimeout(value)

    def gettimeout(self) -> float | None:
        return self._timeout

    def _bound(self) -> None:
        if self.deadline is None or super().gettimeout() == 0.0:
            return
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ConnectionResetError(errno.ECONNRESET, "the client took too long")
        super().settimeout(left if self._timeout is None else min(left, self._timeout))

    def recv(self, size: int, *args: Any) -> bytes:
        if self.pending:
            data, self.pending = self.pending[:size], self.pending[size:]
            return data
        self._bound()
        try:
            return super().recv(size, *args)
        except TimeoutError as exc:
            raise ConnectionResetError(errno.ECONNRESET, "the client took too long") from exc

    def recv_into(self, buffer: Any, nbytes: int = 0, *args: Any) -> int:
        if self.pending:
            data = self.recv(nbytes or len(buffer))
            buffer[: len(data)] = data
            return len(data)
        self._bound()
        try:
            return super().recv_into(buffer, nbytes, *args)
        except TimeoutError as exc:
            raise ConnectionResetError(errno.ECONNRESET, "the client took too long") from exc


def _json_answer(status: str, detail: str) -> bytes:
    body = orjson.dumps({"detail": detail})
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


TOO_SLOW = _json_answer("408 Request Timeout", "The request did not arrive in time. Send it again.")
URL_TOO_LONG = _json_answer("414 URI Too Long", f"The URL is longer than {MAX_URL_BYTES:,} bytes.")
HEADERS_TOO_LARGE = _json_answer(
    "431 Request Header Fields Too Large",
    f"The request's headers are larger than {MAX_HEADER_BYTES // 1024} KB.",
)


def _arrived(buffer: bytes) -> bytes | int | None:
    """Whether the request at the start of ``buffer`` has arrived: None (not yet), the
    length of its headers once they are in and its body is in or is not to wait for, or the
    answer that refuses it."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        line = buffer.find(b"\r\n")
        if (line < 0 and len(buffer) > _MAX_REQUEST_LINE) or line > _MAX_REQUEST_LINE:
            return URL_TOO_LONG
        return HEADERS_TOO_LARGE if len(buffer) > MAX_HEADER_BYTES else None
    if buffer.find(b"\r\n") > _MAX_REQUEST_LINE:
        return URL_TOO_LONG
    if end > MAX_HEADER_BYTES:
        return HEADERS_TOO_LARGE
    length, chunked = 0, False
    for header in buffer[:end].split(b"\r\n")[1:]:
        field, _, raw = header.partition(b":")
        name, value = field.strip().lower(), raw.strip().lower()
        if name == b"content-length" and value.isdigit():
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value
        elif name == b"expect" and value == b"100-continue":
            return end  # the client waits for gunicorn's "100 Continue" before its body
    body = end + 4
    if chunked:
        return end if _chunks_end(buffer, body) else None
    if length > MAX_BODY_BYTES or len(buffer) >= body + length:
        return end  # a body too big is refused from its headers, unread
    return None


def _chunks_end(buffer: bytes, at: int) -> bool:
    """Whether the chunked body starting at ``at`` is complete, or already too big to wait
    for (the application refuses it); a malformed one is left to gunicorn's parser."""
    start = at
    while True:
        line = buffer.find(b"\r\n", at)
        if line < 0:
            return False
        try:
            size = int(buffer[at:line].split(b";")[0].strip(), 16)
        except ValueError:
            return True
        if size == 0:
            return buffer.find(b"\r\n\r\n", line) >= 0  # the end, after any trailers
        at = line + 2 + size + 2
        if at - start > MAX_BODY_BYTES:
            return True
        if at > len(buffer):
            return False


class ThreadWorker(gthread.ThreadWorker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Connections whose request is being read ahead: conn -> (deadline, headers in?)
        self._arriving: dict[Any, tuple[float, bool]] = {}

    def accept(self, listener: socket.socket) -> None:
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        sock = _ClientSocket(client.family, client.type, client.proto, fileno=client.detach())
        conn = gthread.TConn(self.cfg, sock, address, listener.getsockname())
        self._read_ahead(conn)

    def on_client_socket_readable(self, conn: Any, client: Any) -> None:
        """A kept-alive connection's next request begins: read it ahead too."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._read_ahead(conn)

    def handle_request(self, req: Any, conn: Any) -> bool:
        if conn.sock.served >= REQUESTS_PER_CONNECTION:
            req.must_close = True  # the answer says "Connection: close"
        return super().handle_request(req, conn)

    def _read_ahead(self, conn: Any) -> None:
        conn.sock.served += 1
        conn.sock.setblocking(False)
        self._arriving[conn] = (time.monotonic() + HEADER_DEADLINE_SECONDS, False)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_bytes, conn))

    def _on_bytes(self, conn: Any, client: Any) -> None:
        sock: _ClientSocket = conn.sock
        try:
            data = socket.socket.recv(sock, 65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away
            self._drop(conn)
            return
        sock.pending += data
        verdict = _arrived(sock.pending)
        if verdict is None:
            deadline, headers_in = self._arriving[conn]
            if not headers_in and b"\r\n\r\n" in sock.pending:
                # The headers are in: the body now has its own deadline.
                self._arriving[conn] = (time.monotonic() + BODY_DEADLINE_SECONDS, True)
            return
        if isinstance(verdict, bytes):
            self._drop(conn, answer=verdict)
            return
        self.poller.unregister(sock)
        deadline, headers_in = self._arriving.pop(conn)
        # What the thread still reads (a body after 100-continue) has the body's deadline.
        sock.deadline = deadline if headers_in else time.monotonic() + BODY_DEADLINE_SECONDS
        conn.data_ready = True
        self.enqueue_req(conn)

    def _drop(self, conn: Any, answer: bytes = b"") -> None:
        self._arriving.pop(conn, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)
        if answer:
            with contextlib.suppress(OSError):
                socket.socket.send(conn.sock, answer)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        for conn, (deadline, headers_in) in list(self._arriving.items()):
            if deadline <= now:
                # Headers that never finished: hang up. A body that never did: say so.
                self._drop(conn, answer=TOO_SLOW if headers_in else b"")
