"""Talking to the guard where curl cannot: raw bytes, held-open connections, partial requests.

The bash helper ``guard_py`` (tests/integration/lib.sh) runs its scripts with everything
here imported, so a test's Python states only what it does. The guard to talk to comes from
the environment lib.sh exports: GUARD_PORT, GUARD_PROBE_PORT, PKI_CA and LUG_FIXTURES.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import sys
import time
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)  # ssl.TLSVersion.TLSv1_1 on purpose

HOST = "127.0.0.1"
PORT = int(os.environ.get("GUARD_PORT", "0"))
# The plain-HTTP health-probe listener.
PROBE_PORT = int(os.environ.get("GUARD_PROBE_PORT") or "0")
CA = os.environ.get("PKI_CA", "")

# What a read or write raises once the guard has closed or reset the connection.
CLOSED_ERRORS = (ConnectionError, ssl.SSLError, ssl.SSLEOFError, OSError)


def tls_context(alpn=("http/1.1",), cert=None, key=None, min_version=None, max_version=None,
                ciphers=None) -> ssl.SSLContext:
    """A client context that verifies the guard against CA."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(CA)
    if ciphers:
        ctx.set_ciphers(ciphers)
    if min_version is not None:
        ctx.minimum_version = min_version
    if max_version is not None:
        ctx.maximum_version = max_version
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


def connect(timeout=10.0, port=None, **kwargs) -> ssl.SSLSocket:
    """A TLS socket to the guard (SNI localhost); kwargs go to tls_context."""
    raw = socket.create_connection((HOST, port or PORT), timeout=timeout)
    try:
        return tls_context(**kwargs).wrap_socket(raw, server_hostname="localhost")
    except BaseException:
        raw.close()
        raise


def connect_plain(timeout=10.0, port=None) -> socket.socket:
    """A plain TCP socket to the guard's port (or `port`)."""
    return socket.create_connection((HOST, port or PORT), timeout=timeout)


def request_bytes(method, path, body=b"", headers=None) -> bytes:
    """One HTTP/1.1 request as bytes, with Content-Length when there is a body or it is a POST."""
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _recv(sock) -> bytes:
    try:
        return sock.recv(65536)
    except (ssl.SSLZeroReturnError, ssl.SSLEOFError, ConnectionResetError, BrokenPipeError):
        return b""


def read_response(sock):
    """(status, {lower-case header: value}, body) of the next response, or None on EOF first.

    Handles Content-Length and chunked bodies; EOFError when the connection closes inside one.
    """
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = _recv(sock)
        if not chunk:
            if not data:
                return None
            raise EOFError(f"connection closed inside the response head: {data[:200]!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            while b"\r\n" not in rest:
                chunk = _recv(sock)
                if not chunk:
                    raise EOFError("connection closed inside a chunked body")
                rest += chunk
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(rest) < size + 2:
                chunk = _recv(sock)
                if not chunk:
                    raise EOFError("connection closed inside a chunked body")
                rest += chunk
            body += rest[:size]
            rest = rest[size + 2:]
            if size == 0:
                return status, headers, body
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = _recv(sock)
        if not chunk:
            raise EOFError(f"connection closed after {len(rest)} of {length} body bytes")
        rest += chunk
    return status, headers, rest[:length]


def wait_closed(sock, timeout):
    """Reads until EOF or reset, at most `timeout` s: (closed, seconds, data read meanwhile)."""
    start = time.monotonic()
    data = b""
    while True:
        left = timeout - (time.monotonic() - start)
        if left <= 0:
            return False, time.monotonic() - start, data
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return False, time.monotonic() - start, data
        except CLOSED_ERRORS:
            return True, time.monotonic() - start, data
        if not chunk:
            return True, time.monotonic() - start, data
        data += chunk


def answer_then_close(raw: bytes, timeout=5.0) -> str:
    """Sends `raw` on a new TLS connection and says what came back, as one comparable line.

    "STATUS code=CODE closed=BOOL more=BOOL": the HTTP status, the `code` of a JSON body
    ("not JSON" otherwise), whether the guard then closed within `timeout` s, and whether
    anything after the answer looked like another response (a request smuggled in the body
    answered). "closed without an answer" or "error ..." when there was no answer.
    """
    try:
        s = connect(timeout=timeout)
        s.sendall(raw)
        r = read_response(s)
        if r is None:
            return "closed without an answer"
        status, _, body = r
        try:
            code = json.loads(body).get("code")
        except Exception:
            code = "not JSON"
        closed, _, more = wait_closed(s, timeout)
        return f"{status} code={code} closed={closed} more={b'HTTP/1.1' in more}"
    except Exception as e:
        return f"error {type(e).__name__}: {e}"


def review_body(name) -> bytes:
    """The bytes of a fixture: a path, or a name in tests/fixtures."""
    path = name if os.path.isfile(name) else os.path.join(os.environ["LUG_FIXTURES"], name)
    with open(path, "rb") as f:
        return f.read()
