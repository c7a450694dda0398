"""gunicorn's threaded worker, with a timeout on every read from a client.

gthread reads a request's headers on a blocking socket with no timeout (and sets it blocking
again before each request on a kept-alive connection), so a client that sends half its headers
and stops holds a thread for ever: a handful of them starve a worker. Here each connection's
socket turns "blocking" into "blocking for at most CLIENT_TIMEOUT_SECONDS"; a client that stalls
longer is dropped as if it had hung up, which gunicorn handles quietly. The request body gets
its own, shorter limit (``REQUEST_BODY_TIMEOUT_SECONDS``, leaderboard.middleware), and a
stalled body is answered 408.
"""

from __future__ import annotations

import errno
import socket
from typing import Any

from gunicorn.workers import gthread

CLIENT_TIMEOUT_SECONDS = 10.0


class _ClientSocket(socket.socket):
    def setblocking(self, flag: bool) -> None:
        if flag:
            self.settimeout(CLIENT_TIMEOUT_SECONDS)
        else:
            super().setblocking(False)

    def recv(self, *args: Any) -> bytes:
        try:
            return super().recv(*args)
        except TimeoutError as exc:
            raise ConnectionResetError(errno.ECONNRESET, "the client stopped sending") from exc

    def recv_into(self, *args: Any) -> int:
        try:
            return super().recv_into(*args)
        except TimeoutError as exc:
            raise ConnectionResetError(errno.ECONNRESET, "the client stopped sending") from exc


class ThreadWorker(gthread.ThreadWorker):
    def accept(self, listener: socket.socket) -> None:
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        sock = _ClientSocket(client.family, client.type, client.proto, fileno=client.detach())
        sock.setblocking(True)
        self.enqueue_req(gthread.TConn(self.cfg, sock, address, listener.getsockname()))
