"""Requests the guard holds: each on its own TLS connection, sent at once, answered later.

A `held_requests` runs on a thread, so the benchmark can measure other things (API reads,
unrelated latency, RSS) while the requests wait, then flip the flag and see when each
one was answered. Connections are opened by a few threads (the handshakes dominate) and
then watched by one selector loop over non-blocking sockets: the answer times are taken
as the bytes arrive, with C-level TLS, so hundreds of answers arriving together are
timed by the guard's pace rather than by this client's.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import selectors
import socket
import ssl
import threading
import time

# Connections opened in parallel: enough to open hundreds in about a second, few enough
# not to overflow the guard's listen backlog.
CONNECT_THREADS = 16


@dataclasses.dataclass
class answer:
    sent: float = 0.0        # time.monotonic() when the request was written
    answered: float = 0.0    # when the whole response had arrived (0: never)
    status: int = 0
    allowed: bool | None = None
    message: str = ""
    error: str = ""


@dataclasses.dataclass
class _pending:
    slot: answer
    sock: ssl.SSLSocket
    data: bytes = b""


def _parse(data: bytes) -> tuple[int, bytes] | None:
    """(status, body) once `data` holds a whole Content-Length response, else None."""
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        return None
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if len(body) < length:
        return None
    return int(lines[0].split()[1]), body[:length]


class held_requests:
    def __init__(self, port: int, ca: str, path: str, body: bytes, count: int, deadline_s: float = 60.0):
        self.port = port
        self.request = (f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        self.answers = [answer() for _ in range(count)]
        self.all_sent = threading.Event()
        self.done = threading.Event()
        self._deadline_s = deadline_s
        self._context = ssl.create_default_context(cafile=ca)
        self._context.set_alpn_protocols(["http/1.1"])
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "held_requests":
        self._thread.start()
        return self

    def wait(self, timeout: float) -> bool:
        finished = self.done.wait(timeout)
        self._thread.join(0.1)
        return finished

    def _open(self, slot: answer) -> _pending | None:
        try:
            raw = socket.create_connection(("127.0.0.1", self.port), timeout=30)
            sock = self._context.wrap_socket(raw, server_hostname="localhost")
            sock.sendall(self.request)
            slot.sent = time.monotonic()
            sock.setblocking(False)
            return _pending(slot, sock)
        except OSError as error:
            slot.error = f"{type(error).__name__}: {error}"
            return None

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        try:
            with concurrent.futures.ThreadPoolExecutor(CONNECT_THREADS) as pool:
                opened = [p for p in pool.map(self._open, self.answers) if p is not None]
            self.all_sent.set()
            for pending in opened:
                selector.register(pending.sock, selectors.EVENT_READ, pending)
            end = time.monotonic() + self._deadline_s
            waiting = len(opened)
            while waiting and time.monotonic() < end:
                for key, _ in selector.select(timeout=0.5):
                    pending: _pending = key.data
                    if self._receive(pending):
                        selector.unregister(pending.sock)
                        pending.sock.close()
                        waiting -= 1
        finally:
            for key in list(selector.get_map().values()):
                key.fileobj.close()
            selector.close()
            self.all_sent.set()
            self.done.set()

    @staticmethod
    def _receive(pending: _pending) -> bool:
        """Reads what arrived; True once the exchange is over (answered or failed)."""
        slot = pending.slot
        try:
            while True:
                chunk = pending.sock.recv(65536)
                if not chunk:
                    slot.error = "connection closed before a whole response"
                    return True
                pending.data += chunk
        except (ssl.SSLWantReadError, BlockingIOError):
            pass
        except OSError as error:
            slot.error = f"{type(error).__name__}: {error}"
            return True
        parsed = _parse(pending.data)
        if parsed is None:
            return False
        slot.answered = time.monotonic()
        slot.status, body = parsed
        try:
            response = json.loads(body).get("response", {})
            slot.allowed = response.get("allowed")
            slot.message = response.get("status", {}).get("message", "")
        except ValueError as error:
            slot.error = f"response is not JSON: {error}"
        return True
