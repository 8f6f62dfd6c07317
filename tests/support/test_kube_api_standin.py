#!/usr/bin/env python3
"""Tests for kube_api_standin.py, driven through real, verified HTTPS.

Run from the repository root:  python3 tests/support/test_kube_api_standin.py
Needs only python3 and the openssl CLI.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "kube_api_standin.py")

NS = "longhorn-system"
FLAG = "deleting-confirmation-flag"
OBJ = f"/apis/longhorn.io/v1beta2/namespaces/{NS}/settings/{FLAG}"
OBJ_V1BETA1 = f"/apis/longhorn.io/v1beta1/namespaces/{NS}/settings/{FLAG}"
LIST = f"/apis/longhorn.io/v1beta2/namespaces/{NS}/settings"
CONTROL_FLAG = f"/_standin/settings/{NS}/{FLAG}"
TOKEN = "token-a"
GUARD_USER = "system:serviceaccount:longhorn-uninstall-guard:longhorn-uninstall-guard"

NOT_FOUND_FLAG = {
    "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
    "message": 'settings.longhorn.io "deleting-confirmation-flag" not found',
    "reason": "NotFound",
    "details": {"name": FLAG, "group": "longhorn.io", "kind": "settings"}, "code": 404}
NOT_FOUND_GENERIC = {
    "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
    "message": "the server could not find the requested resource", "reason": "NotFound",
    "details": {}, "code": 404}
UNAUTHORIZED = {
    "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
    "message": "Unauthorized", "reason": "Unauthorized", "code": 401}
FORBIDDEN_FLAG = {
    "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
    "message": ('settings.longhorn.io "deleting-confirmation-flag" is forbidden: User '
                f'"{GUARD_USER}" cannot get resource "settings" in API group "longhorn.io" '
                'in the namespace "longhorn-system"'),
    "reason": "Forbidden",
    "details": {"name": FLAG, "group": "longhorn.io", "kind": "settings"}, "code": 403}


def make_cert(directory: str) -> tuple[str, str]:
    """A throwaway self-signed certificate valid for 127.0.0.1 and localhost."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=kube-api-standin",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class Standin:
    """One running stand-in process plus verified-HTTPS helpers to talk to it."""

    def __init__(self, workdir: str, cert: str, key: str, *args: str):
        self.workdir = workdir
        self.stderr_path = os.path.join(workdir, f"stderr-{time.monotonic_ns()}.log")
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, STANDIN, "--listen", "127.0.0.1:0", "--tls-cert", cert,
             "--tls-key", key, *args],
            stdout=subprocess.PIPE, stderr=self._stderr)
        # If the stand-in never prints its ready line, kill it so readline returns.
        watchdog = threading.Timer(10.0, self.proc.kill)
        watchdog.start()
        try:
            self.ready_line = self.proc.stdout.readline().decode()
        finally:
            watchdog.cancel()
        if not self.ready_line:
            self.stop()
            raise RuntimeError(f"stand-in did not start: {self.stderr()}")
        host, _, port = json.loads(self.ready_line)["listening"].rpartition(":")
        self.host, self.port = host, int(port)
        self.context = ssl.create_default_context(cafile=cert)  # verification stays on

    def connect(self, timeout: float = 10.0) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(self.host, self.port, context=self.context,
                                           timeout=timeout)

    def request(self, method: str, path: str, token: str | None = TOKEN, body: bytes | None = None,
                conn: http.client.HTTPSConnection | None = None):
        """Returns (status, headers, body bytes); a fresh connection unless one is given."""
        own = conn is None
        conn = conn or self.connect()
        try:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response, response.read()
        finally:
            if own:
                conn.close()

    def get_json(self, path: str, token: str | None = TOKEN):
        status, _, body = self.request("GET", path, token)
        return status, json.loads(body)

    def control(self, method: str, path: str, body: object = None, expect: int = 200):
        data = None if body is None else json.dumps(body).encode()
        status, _, raw = self.request(method, path, token=None, body=data)
        if status != expect:
            raise AssertionError(f"{method} {path} -> {status} {raw!r}")
        return json.loads(raw)

    def records(self) -> list[dict]:
        return self.control("GET", "/_standin/reads")["requests"]

    def wait_for(self, predicate, timeout: float = 5.0):
        """Poll the request log until predicate(records) is truthy."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate(self.records())
            if result:
                return result
            time.sleep(0.02)
        raise AssertionError("condition not reached in time")

    def wait_for_log(self, pattern: str, timeout: float = 5.0) -> str:
        """Wait until a stderr line matches the regex pattern; return that line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.stderr().splitlines():
                if re.search(pattern, line):
                    return line
            time.sleep(0.02)
        raise AssertionError(f"no stderr line matching {pattern!r}")

    def stderr(self) -> str:
        with open(self.stderr_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.proc.stdout.closed:
            self.extra_stdout = self.proc.stdout.read()  # anything after the ready line
            self.proc.stdout.close()
        self._stderr.close()
        return self.proc.returncode


class CertMixin:
    tmpdir: str

    @classmethod
    def make_tmp(cls) -> tuple[str, str]:
        cls.tmpdir = tempfile.mkdtemp(prefix="kube-api-standin-test-")
        return make_cert(cls.tmpdir)

    @classmethod
    def drop_tmp(cls) -> None:
        shutil.rmtree(cls.tmpdir, ignore_errors=True)


class StartupTest(CertMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cert, cls.key = cls.make_tmp()

    @classmethod
    def tearDownClass(cls):
        cls.drop_tmp()

    def test_ready_line_ready_file_and_clean_exit(self):
        ready = os.path.join(self.tmpdir, "ready.json")
        standin = Standin(self.tmpdir, self.cert, self.key, "--ready-file", ready,
                          "--setting", f"{NS}/{FLAG}=true", "--setting", "other-ns/x=a=b",
                          "--cache-lag-ms", "5000")
        try:
            self.assertRegex(standin.ready_line, r'^\{"listening": "127\.0\.0\.1:\d+"\}\n$')
            self.assertNotEqual(standin.port, 0)
            with open(ready, encoding="utf-8") as handle:
                self.assertEqual(handle.read(), standin.ready_line)
            self.assertEqual([], [f for f in os.listdir(self.tmpdir) if ".tmp." in f])
            # Initial settings are in the store and already in the cache.
            state = standin.control("GET", "/_standin/state")
            self.assertEqual(state["store"][f"{NS}/{FLAG}"]["value"], "true")
            self.assertEqual(state["store"]["other-ns/x"]["value"], "a=b")
            self.assertEqual(state["cache"]["objects"][f"{NS}/{FLAG}"]["value"], "true")
            self.assertEqual(state["cache"]["lag_ms"], 5000)
            self.assertEqual(state["resourceVersion"], state["cache"]["resourceVersion"])
            # No token configured: auth is not required.
            self.assertEqual(standin.request("GET", OBJ, token=None)[0], 200)
        finally:
            self.assertEqual(standin.stop(), 0)
        # Exactly one line on stdout, ever.
        self.assertEqual(standin.extra_stdout, b"")
        self.assertNotIn("Traceback", standin.stderr())

    def test_bad_arguments_fail(self):
        result = subprocess.run([sys.executable, STANDIN, "--listen", "127.0.0.1:0",
                                 "--tls-cert", self.cert, "--tls-key", self.key,
                                 "--setting", "no-slash=1"], capture_output=True, timeout=10)
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(result.stdout, b"")
        result = subprocess.run([sys.executable, STANDIN, "--listen", "127.0.0.1:0",
                                 "--tls-cert", "/nonexistent", "--tls-key", self.key],
                                capture_output=True, timeout=10)
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(result.stdout, b"")


class StandinApiTest(CertMixin, unittest.TestCase):
    """One stand-in shared by all tests; setUp puts it back to a known state."""

    standin: Standin

    @classmethod
    def setUpClass(cls):
        cert, key = cls.make_tmp()
        cls.standin = Standin(cls.tmpdir, cert, key, "--token", TOKEN,
                              "--setting", f"{NS}/{FLAG}=false")

    @classmethod
    def tearDownClass(cls):
        try:
            stderr = cls.standin.stderr()
            code = cls.standin.stop()
            # Disconnects, drops and hangs must never produce a traceback.
            assert "Traceback" not in stderr, stderr
            assert code == 0, code
        finally:
            cls.drop_tmp()

    def setUp(self):
        s = self.standin
        s.control("DELETE", "/_standin/faults")
        s.control("PUT", "/_standin/tokens", {"accept": [TOKEN]})
        s.control("PUT", "/_standin/crd", {"installed": True})
        s.control("PUT", CONTROL_FLAG, {"value": "false"})
        s.control("PUT", "/_standin/cache", {"lag_ms": 0, "frozen": False, "sync": True})
        s.control("DELETE", "/_standin/reads")

    # -- helpers -----------------------------------------------------------

    def assert_status(self, path: str, code: int, expected_body: dict | None = None,
                      token: str | None = TOKEN, method: str = "GET"):
        status, response, raw = self.standin.request(method, path, token)
        self.assertEqual(status, code, raw)
        self.assertEqual(response.getheader("Content-Type"), "application/json")
        body = json.loads(raw)
        if expected_body is not None:
            self.assertEqual(body, expected_body)
            # Field order matches kube-apiserver's output too.
            self.assertEqual(list(body), list(expected_body))
        return body, response

    def flag_value(self, query: str = "") -> str:
        status, body = self.standin.get_json(OBJ + query)
        self.assertEqual(status, 200, body)
        return body["value"]

    def store_rv(self) -> int:
        return int(self.standin.control("GET", "/_standin/state")["resourceVersion"])

    # -- objects, lists, versions -----------------------------------------------

    def test_get_object_shape(self):
        status, obj = self.standin.get_json(OBJ)
        self.assertEqual(status, 200)
        self.assertEqual(obj["apiVersion"], "longhorn.io/v1beta2")
        self.assertEqual(obj["kind"], "Setting")
        meta = obj["metadata"]
        self.assertEqual((meta["name"], meta["namespace"]), (FLAG, NS))
        self.assertRegex(meta["uid"], r"^[0-9a-f-]{36}$")
        self.assertEqual(meta["resourceVersion"], str(self.store_rv()))
        self.assertIsInstance(meta["generation"], int)
        self.assertRegex(meta["creationTimestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(obj["value"], "false")
        self.assertEqual(obj["status"], {"applied": True})
        status, old = self.standin.get_json(OBJ_V1BETA1)
        self.assertEqual(old["apiVersion"], "longhorn.io/v1beta1")
        self.assertEqual(old["metadata"], meta)

    def test_list(self):
        self.standin.control("PUT", f"/_standin/settings/{NS}/another", {"value": "1"})
        self.standin.control("PUT", "/_standin/settings/elsewhere/hidden", {"value": "2"})
        status, body = self.standin.get_json(LIST)
        self.assertEqual(status, 200)
        self.assertEqual((body["apiVersion"], body["kind"]), ("longhorn.io/v1beta2", "SettingList"))
        self.assertEqual(body["metadata"], {"resourceVersion": str(self.store_rv())})
        names = [item["metadata"]["name"] for item in body["items"]]
        self.assertEqual(names, ["another", FLAG])
        self.standin.control("DELETE", f"/_standin/settings/{NS}/another")
        self.standin.control("DELETE", "/_standin/settings/elsewhere/hidden")

    def test_version_and_health(self):
        status, body = self.standin.get_json("/version")
        self.assertEqual(status, 200)
        self.assertIn("gitVersion", body)
        self.assertEqual(self.standin.request("GET", "/version", token=None)[0], 401)
        for path in ("/healthz", "/readyz", "/livez"):
            status, response, raw = self.standin.request("GET", path, token=None)
            self.assertEqual((status, raw), (200, b"ok"))
            self.assertTrue(response.getheader("Content-Type").startswith("text/plain"))

    def test_not_found_bodies(self):
        self.standin.control("DELETE", CONTROL_FLAG)
        self.assert_status(OBJ, 404, NOT_FOUND_FLAG)
        self.assert_status("/apis/apps/v1/deployments", 404, NOT_FOUND_GENERIC)
        self.assert_status(f"/apis/longhorn.io/v1/namespaces/{NS}/settings/{FLAG}", 404,
                           NOT_FOUND_GENERIC)

    def test_method_not_allowed_keeps_connection_usable(self):
        conn = self.standin.connect()
        try:
            for method in ("POST", "PUT", "DELETE", "PATCH"):
                status, _, raw = self.standin.request(method, OBJ, body=b'{"value":"true"}',
                                                      conn=conn)
                self.assertEqual(status, 405)
                self.assertEqual(json.loads(raw)["reason"], "MethodNotAllowed")
            self.assertEqual(self.standin.request("GET", OBJ, conn=conn)[0], 200)
        finally:
            conn.close()
        self.assertEqual(self.flag_value(), "false")

    def test_logs_one_line_per_request_on_stderr(self):
        self.standin.request("GET", OBJ + "?resourceVersion=0")
        self.standin.wait_for_log(
            rf"^conn=\d+ GET {re.escape(OBJ)}\?resourceVersion=0 200 \d+\.\dms$")

    # -- authentication ------------------------------------------------------

    def test_unauthorized(self):
        self.assert_status(OBJ, 401, UNAUTHORIZED, token=None)
        self.assert_status(OBJ, 401, UNAUTHORIZED, token="wrong")
        conn = self.standin.connect()
        try:
            conn.request("GET", OBJ, headers={"Authorization": f"Basic {TOKEN}"})
            self.assertEqual(conn.getresponse().status, 401)
        finally:
            conn.close()
        counts = self.standin.control("GET", "/_standin/reads")["counts"]
        self.assertEqual(counts["unauthorized"], 3)

    def test_token_change(self):
        self.standin.control("PUT", "/_standin/tokens", {"accept": ["t2", "t3"]})
        self.assertEqual(self.standin.request("GET", OBJ, token=TOKEN)[0], 401)
        self.assertEqual(self.standin.request("GET", OBJ, token="t2")[0], 200)
        self.assertEqual(self.standin.request("GET", OBJ, token="t3")[0], 200)
        self.standin.control("PUT", "/_standin/tokens", {"accept": []})
        self.assertEqual(self.standin.request("GET", OBJ, token=None)[0], 200)

    # -- keep-alive and connection robustness -----------------------------------

    def test_keepalive_reuses_one_connection(self):
        conn = self.standin.connect()
        try:
            statuses = []
            for path, token in ((OBJ, TOKEN), (LIST, TOKEN), (OBJ, "bad"), ("/nope", TOKEN),
                                (OBJ + "?resourceVersion=0", TOKEN)):
                statuses.append(self.standin.request("GET", path, token, conn=conn)[0])
                if len(statuses) == 1:
                    sock = conn.sock
                self.assertIs(conn.sock, sock)  # http.client did not reconnect
        finally:
            conn.close()
        self.assertEqual(statuses, [200, 200, 401, 404, 200])
        connections = {record["connection"] for record in self.standin.records()}
        self.assertEqual(len(connections), 1)

    def test_slow_tls_client_does_not_block_others(self):
        idle = socket.create_connection((self.standin.host, self.standin.port))
        partial = socket.create_connection((self.standin.host, self.standin.port))
        try:
            partial.sendall(b"\x16\x03\x01\x00\xff")  # start of a ClientHello, then silence
            started = time.monotonic()
            self.assertEqual(self.standin.request("GET", OBJ)[0], 200)
            self.assertLess(time.monotonic() - started, 2.0)
        finally:
            idle.close()
            partial.close()

    def test_client_disconnects_mid_request(self):
        raw = self.standin.context.wrap_socket(
            socket.create_connection((self.standin.host, self.standin.port)),
            server_hostname=self.standin.host)
        raw.sendall(f"GET {OBJ} HTTP/1.1\r\nHost: x\r\nAuthoriz".encode())
        # Half-close (FIN), not close: closing with the server's unread TLS
        # session tickets would send a RST that may discard the fragment.
        raw.shutdown(socket.SHUT_WR)
        self.standin.wait_for_log("client disconnected mid-request")
        raw.close()
        raw = self.standin.context.wrap_socket(
            socket.create_connection((self.standin.host, self.standin.port)),
            server_hostname=self.standin.host)
        raw.sendall(f"PUT /_standin/settings/{NS}/half HTTP/1.1\r\nHost: x\r\n"
                    "Content-Length: 100\r\n\r\n{".encode())
        raw.shutdown(socket.SHUT_WR)
        self.standin.wait_for_log("client disconnected mid-body")
        raw.close()
        self.standin.control("GET", f"/_standin/settings/{NS}/half", expect=404)
        # A client that gives up while a delay fault holds its response: the
        # stand-in then writes to a connection nobody reads any more.
        self.standin.control("POST", "/_standin/faults", {"mode": "delay", "delay_ms": 300,
                                                          "count": 1})
        conn = self.standin.connect()
        conn.request("GET", OBJ, headers={"Authorization": f"Bearer {TOKEN}"})
        # Leave only once the stand-in has the request (closing earlier can
        # reset the connection before the request is even read).
        [record] = self.standin.wait_for(lambda records: records)
        self.assertEqual(record["fault"], "delay")  # the cut-off fragment was not served
        conn.close()
        self.standin.wait_for(lambda records: records[0]["status"] == 200)
        self.assertEqual(self.standin.request("GET", OBJ)[0], 200)

    # -- injected faults --------------------------------------------------------

    def inject(self, **rule):
        return self.standin.control("POST", "/_standin/faults", rule)

    def test_other_object_renames_a_setting_and_says_true(self):
        self.inject(mode="other_object", count=1)
        status, _, body = self.standin.request("GET", OBJ)
        self.assertEqual(status, 200)
        obj = json.loads(body)
        self.assertEqual((obj["kind"], obj["metadata"]["name"], obj["metadata"]["namespace"], obj["value"]),
                         ("Setting", FLAG + "-other", NS, "true"))
        # Spent: the next read is the real object again.
        self.assertEqual(json.loads(self.standin.request("GET", OBJ)[2])["metadata"]["name"], FLAG)

    def test_injected_status_bodies(self):
        self.inject(mode="status", status=403, count=1)
        self.assert_status(OBJ, 403, FORBIDDEN_FLAG)

        self.inject(mode="status", status=429, count=1)
        body, response = self.assert_status(OBJ, 429)
        self.assertEqual(body["reason"], "TooManyRequests")
        self.assertEqual(body["code"], 429)
        self.assertEqual(response.getheader("Retry-After"), "1")

        self.inject(mode="status", status=500, count=1)
        body, _ = self.assert_status(OBJ, 500)
        self.assertEqual((body["kind"], body["status"], body["reason"]),
                         ("Status", "Failure", "InternalError"))

        self.inject(mode="status", status=503, count=1)
        body, _ = self.assert_status(OBJ, 503)
        self.assertEqual(body["reason"], "ServiceUnavailable")

        self.inject(mode="status", status=403, count=1)
        body, _ = self.assert_status(LIST, 403)
        self.assertIn('cannot list resource "settings"', body["message"])
        self.assertEqual(self.standin.control("GET", "/_standin/faults"), [])

    def test_count_expires_rule(self):
        rule = self.inject(mode="status", status=500, count=2)
        self.assertEqual((rule["count"], rule["remaining"]), (2, 2))
        codes = [self.standin.request("GET", OBJ)[0] for _ in range(3)]
        self.assertEqual(codes, [500, 500, 200])
        self.assertEqual(self.standin.control("GET", "/_standin/faults"), [])
        self.inject(mode="status", status=503, count=-1)
        codes = [self.standin.request("GET", OBJ)[0] for _ in range(3)]
        self.assertEqual(codes, [503, 503, 503])

    def test_match_and_read_filters(self):
        self.inject(mode="status", status=500, read="cached")
        self.inject(mode="status", status=503, match="/settings/other-name")
        self.assertEqual(self.standin.request("GET", OBJ + "?resourceVersion=0")[0], 500)
        self.assertEqual(self.standin.request("GET", LIST + "?resourceVersion=0")[0], 500)
        self.assertEqual(self.standin.request("GET", OBJ)[0], 200)
        self.assertEqual(self.standin.request("GET", LIST)[0], 200)
        self.assertEqual(self.standin.request("GET", f"{LIST}/other-name")[0], 503)
        self.standin.control("DELETE", "/_standin/faults")
        self.inject(mode="status", status=429, read="fresh", count=1)
        self.assertEqual(self.standin.request("GET", OBJ + "?resourceVersion=0")[0], 200)
        self.assertEqual(self.standin.request("GET", OBJ)[0], 429)

    def test_delay(self):
        self.inject(mode="delay", delay_ms=300, count=1)
        started = time.monotonic()
        status, _, raw = self.standin.request("GET", OBJ)
        self.assertEqual(status, 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        record = self.standin.records()[-1]
        self.assertGreaterEqual(record["sent"] - record["received"], 0.3)
        self.assertEqual((record["fault"], record["delay_ms"]), ("delay", 300))
        # count=1: the next request is not delayed.
        self.assertEqual(self.standin.request("GET", OBJ)[0], 200)
        self.assertEqual(self.standin.records()[-1]["fault"], None)

    def test_delay_composes_with_status(self):
        self.inject(mode="status", status=403, count=1)
        self.inject(mode="delay", delay_ms=200, count=1)
        second_terminal = self.inject(mode="status", status=500, count=1)
        started = time.monotonic()
        status, _, _ = self.standin.request("GET", OBJ)
        self.assertEqual(status, 403)
        self.assertGreaterEqual(time.monotonic() - started, 0.2)
        # Only the first terminal rule applies; the later one is not consumed.
        self.assertEqual([r["id"] for r in self.standin.control("GET", "/_standin/faults")],
                         [second_terminal["id"]])
        self.assertEqual(self.standin.request("GET", OBJ)[0], 500)

    def test_drop(self):
        self.inject(mode="drop", count=1)
        conn = self.standin.connect()
        try:
            conn.request("GET", OBJ, headers={"Authorization": f"Bearer {TOKEN}"})
            with self.assertRaises(http.client.RemoteDisconnected):
                conn.getresponse()
        finally:
            conn.close()
        self.assertEqual(self.standin.request("GET", OBJ)[0], 200)
        dropped = self.standin.records()[0]
        self.assertEqual((dropped["fault"], dropped["status"], dropped["sent"]),
                         ("drop", None, None))

    def test_truncate(self):
        self.inject(mode="truncate", count=1)
        conn = self.standin.connect()
        try:
            conn.request("GET", OBJ, headers={"Authorization": f"Bearer {TOKEN}"})
            response = conn.getresponse()
            self.assertEqual(response.status, 200)
            length = int(response.getheader("Content-Length"))
            with self.assertRaises(http.client.IncompleteRead) as caught:
                response.read()
            self.assertEqual(len(caught.exception.partial), length // 2)
        finally:
            conn.close()
        self.assertEqual(self.standin.request("GET", OBJ)[0], 200)

    def test_hang_released_by_clear(self):
        self.inject(mode="hang", match=FLAG)
        outcome: dict = {}

        def hung_request():
            conn = self.standin.connect(timeout=10)
            try:
                conn.request("GET", OBJ, headers={"Authorization": f"Bearer {TOKEN}"})
                conn.getresponse()
                outcome["result"] = "response"
            except Exception as exc:  # expected: the stand-in closes without answering
                outcome["result"] = exc
            finally:
                outcome["done"] = time.monotonic()
                conn.close()

        thread = threading.Thread(target=hung_request, daemon=True)
        thread.start()
        self.standin.wait_for(lambda records: any(r["fault"] == "hang" for r in records))
        # Other requests are unaffected while one hangs.
        self.assertEqual(self.standin.request("GET", "/version")[0], 200)
        thread.join(0.3)
        self.assertTrue(thread.is_alive(), "hung request was answered")
        cleared_at = time.monotonic()
        self.assertEqual(self.standin.control("DELETE", "/_standin/faults"), {"cleared": 1})
        thread.join(5)
        self.assertFalse(thread.is_alive())
        self.assertIsInstance(outcome["result"], http.client.RemoteDisconnected)
        self.assertLess(outcome["done"] - cleared_at, 2.0)

    def test_fault_validation(self):
        for bad in ({"mode": "explode"}, {"mode": "status"}, {"mode": "status", "status": 200},
                    {"mode": "delay"}, {"mode": "drop", "count": 0}, {"mode": "drop", "x": 1},
                    {"mode": "drop", "read": "stale"}):
            self.standin.control("POST", "/_standin/faults", bad, expect=400)
        self.standin.control("GET", "/_standin/nothing", expect=404)
        self.standin.control("POST", "/_standin/reads", expect=405)

    # -- CRD -----------------------------------------------------------------

    def test_crd_not_installed(self):
        self.standin.control("PUT", "/_standin/crd", {"installed": False})
        self.assert_status(OBJ, 404, NOT_FOUND_GENERIC)
        self.assert_status(LIST, 404, NOT_FOUND_GENERIC)
        self.assert_status(OBJ + "?resourceVersion=0", 404, NOT_FOUND_GENERIC)
        self.assert_status(OBJ, 401, UNAUTHORIZED, token=None)
        self.assertEqual(self.standin.request("GET", "/version")[0], 200)
        self.standin.control("PUT", "/_standin/crd", {"installed": True})
        self.assertEqual(self.flag_value(), "false")

    # -- watch cache and resourceVersion ------------------------------------------

    def test_cache_lag(self):
        lag = 0.5
        self.standin.control("PUT", "/_standin/cache", {"lag_ms": lag * 1000})
        written_after = time.monotonic()
        self.standin.control("PUT", CONTROL_FLAG, {"value": "true"})
        cached = self.flag_value("?resourceVersion=0")
        if time.monotonic() - written_after < lag:  # only conclusive inside the lag window
            self.assertEqual(cached, "false")
        self.assertEqual(self.flag_value(), "true")  # quorum read sees the write at once
        deadline = time.monotonic() + 5
        while self.flag_value("?resourceVersion=0") != "true":
            self.assertLess(time.monotonic(), deadline, "cache never caught up")
            time.sleep(0.05)
        first_new = next(r for r in self.standin.records()
                         if r["kind"] == "cached" and r["value"] == "true")
        # The cache is read between "received" and "sent"; only "sent" is
        # certain to be after the moment the cache caught up.
        self.assertGreaterEqual(first_new["sent"], written_after + lag)

    def test_frozen_cache(self):
        self.standin.control("PUT", "/_standin/cache", {"frozen": True})
        before = self.store_rv()
        self.standin.control("PUT", CONTROL_FLAG, {"value": "true"})
        time.sleep(0.05)
        self.assertEqual(self.flag_value("?resourceVersion=0"), "false")
        self.assertEqual(self.flag_value(), "true")
        status, cached_list = self.standin.get_json(LIST + "?resourceVersion=0")
        self.assertEqual(cached_list["metadata"]["resourceVersion"], str(before))
        cache = self.standin.control("GET", "/_standin/cache")
        self.assertEqual((cache["frozen"], cache["pending"]), (True, 1))
        self.standin.control("PUT", "/_standin/cache", {"frozen": False})
        self.assertEqual(self.flag_value("?resourceVersion=0"), "true")

    def test_sync_and_delete_reach_cache(self):
        self.standin.control("PUT", "/_standin/cache", {"frozen": True})
        self.standin.control("DELETE", CONTROL_FLAG)
        self.assert_status(OBJ, 404, NOT_FOUND_FLAG)
        self.assertEqual(self.flag_value("?resourceVersion=0"), "false")
        cache = self.standin.control("PUT", "/_standin/cache", {"sync": True})
        self.assertEqual(cache["pending"], 0)
        self.assert_status(OBJ + "?resourceVersion=0", 404, NOT_FOUND_FLAG)

    def test_resource_version_semantics(self):
        rv = self.store_rv()
        written = self.standin.control("PUT", CONTROL_FLAG, {"value": "true"})
        self.assertEqual(int(written["metadata"]["resourceVersion"]), rv + 1)
        generation = written["metadata"]["generation"]
        again = self.standin.control("PUT", CONTROL_FLAG, {"value": "true"})
        self.assertEqual(int(again["metadata"]["resourceVersion"]), rv + 2)
        self.assertEqual(again["metadata"]["generation"], generation)  # value unchanged
        current = rv + 2
        self.assertEqual(self.flag_value(f"?resourceVersion={current}"), "true")
        self.assertEqual(self.flag_value(f"?resourceVersion={rv}"), "true")
        self.assertEqual(self.flag_value(f"?resourceVersion={current}"
                                         "&resourceVersionMatch=NotOlderThan"), "true")
        body, response = self.assert_status(OBJ + f"?resourceVersion={current + 10}", 504)
        self.assertEqual(body["reason"], "Timeout")
        self.assertEqual(body["message"], f"Timeout: Too large resource version: {current + 10},"
                                          f" current: {current}")
        self.assertEqual(response.getheader("Retry-After"), "1")
        self.assert_status(LIST + f"?resourceVersion={current + 1}", 504)
        self.assertEqual(self.assert_status(OBJ + "?resourceVersion=abc", 400)[0]["reason"],
                         "BadRequest")
        self.assertEqual(self.flag_value("?resourceVersion="), "true")  # empty = quorum

    # -- request accounting ---------------------------------------------------

    def test_read_accounting(self):
        before = time.monotonic()
        self.standin.request("GET", OBJ)
        self.standin.request("GET", OBJ + "?resourceVersion=0")
        self.standin.request("GET", LIST + "?resourceVersion=0")
        self.standin.request("GET", "/version")
        self.standin.request("GET", OBJ, token=None)
        self.standin.request("GET", "/healthz", token=None)  # not an API request
        after = time.monotonic()
        reads = self.standin.control("GET", "/_standin/reads")
        self.assertEqual(reads["counts"], {"fresh": 2, "cached": 1, "list": 1, "other": 1,
                                           "unauthorized": 1})
        records = reads["requests"]
        self.assertEqual([r["kind"] for r in records],
                         ["fresh", "cached", "list", "other", "fresh"])
        seqs = [r["seq"] for r in records]
        self.assertEqual(seqs, sorted(seqs))
        fresh = records[0]
        self.assertEqual((fresh["method"], fresh["path"], fresh["query"], fresh["auth_ok"],
                          fresh["status"], fresh["value"], fresh["resourceVersion"]),
                         ("GET", OBJ, "", True, 200, "false", str(self.store_rv())))
        self.assertEqual(records[1]["query"], "resourceVersion=0")
        self.assertEqual(records[1]["source"], "cache")
        self.assertEqual((records[4]["auth_ok"], records[4]["status"], records[4]["value"]),
                         (False, 401, None))
        for record in records:  # same CLOCK_MONOTONIC as this process
            self.assertLessEqual(before, record["received"])
            self.assertLessEqual(record["received"], record["sent"])
            self.assertLessEqual(record["sent"], after)
        self.assertGreaterEqual(reads["now"], after)
        self.standin.control("DELETE", "/_standin/reads")
        reads = self.standin.control("GET", "/_standin/reads")
        self.assertEqual(reads["requests"], [])
        self.assertEqual(set(reads["counts"].values()), {0})


if __name__ == "__main__":
    unittest.main(verbosity=2)
