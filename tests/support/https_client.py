"""An HTTPS client for the test servers (the guard, the Kubernetes API stand-in), spoken to with JSON.

    client_context(ca_file)  -> an ssl.SSLContext that verifies the server against that CA only
    JsonEndpoint(url, ...)   -> .call(method, target, body=None) -> (status, decoded body)

Certificate and host name verification always stay on: a test that talks to a server it has
not verified has not tested the TLS set-up it relies on.
"""

from __future__ import annotations

import http.client
import json
import ssl
from urllib.parse import urlsplit

# One call to a test server answers in milliseconds; 10 s only runs out when something is broken.
DEFAULT_TIMEOUT_S = 10.0


def client_context(ca_file: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_file)


class JsonEndpoint:
    """An HTTPS server at `url` (scheme, host, port; the path is ignored), spoken to with JSON.

    Each call sends `body` as JSON (when given) with Accept: application/json and, with a
    `token`, a bearer Authorization header. It answers (status, body): the body decoded as
    JSON, None when empty, the text when it is not JSON.

    keep_alive=False opens a connection per call (what a test of one answer wants);
    keep_alive=True keeps one connection (use one endpoint per thread) and, when the server
    closed it meanwhile, reconnects and sends the call again once. `base_path` is put before
    every target.
    """

    def __init__(self, url: str, ca_file: str | None = None, *, context: ssl.SSLContext | None = None,
                 token: str | None = None, keep_alive: bool = False, base_path: str = "",
                 timeout: float = DEFAULT_TIMEOUT_S):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 443
        self.context = context or client_context(ca_file)
        self.token = token
        self.keep_alive = keep_alive
        self.base_path = base_path
        self.timeout = timeout
        self._conn: http.client.HTTPSConnection | None = None

    def call(self, method: str, target: str, body: object = None,
             timeout: float | None = None) -> tuple[int, object]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        timeout = timeout or self.timeout
        if not self.keep_alive:
            conn = self._connect(timeout)
            try:
                status, raw = self._exchange(conn, method, target, data, headers)
            finally:
                conn.close()
        else:
            status, raw = self._exchange_kept_alive(method, target, data, headers, timeout)
        try:
            return status, json.loads(raw) if raw else None
        except json.JSONDecodeError:
            return status, raw.decode(errors="replace")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connect(self, timeout: float) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=timeout)

    def _exchange(self, conn, method, target, data, headers) -> tuple[int, bytes]:
        conn.request(method, self.base_path + target, body=data, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()

    def _exchange_kept_alive(self, method, target, data, headers, timeout) -> tuple[int, bytes]:
        for attempt in (1, 2):  # a kept-alive connection the server closed: retry once
            try:
                if self._conn is None:
                    self._conn = self._connect(timeout)
                elif self._conn.sock is not None:
                    self._conn.sock.settimeout(timeout)
                return self._exchange(self._conn, method, target, data, headers)
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")
