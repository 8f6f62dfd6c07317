"""The three servers of a run: the nginx ceiling, the Kubernetes API stand-in, the guard.

Each starts on a free 127.0.0.1 port with the run's throw-away PKI, and is ready (its port
answers) when the start function returns.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import shutil
import ssl
import subprocess
import time

from . import procs

SETTING_NAMESPACE = "longhorn-system"
SETTING_NAME = "deleting-confirmation-flag"
SETTING_PATH = f"/apis/longhorn.io/v1beta2/namespaces/{SETTING_NAMESPACE}/settings/{SETTING_NAME}"
API_TOKEN = "bench-token"
# The port in the shared reference configuration, replaced by a free one.
REFERENCE_LISTEN = "127.0.0.1:9445"


@dataclasses.dataclass
class pki:
    ca: str
    cert: str
    key: str


@dataclasses.dataclass
class server:
    proc: subprocess.Popen
    port: int
    log: str
    scheme: str = "https"
    probe_port: int = 0  # the guard's plain-HTTP health-probe listener (/healthz, /readyz)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def probes(self) -> "server":
        """The guard's health-probe listener, as a server of its own (same process)."""
        return server(self.proc, self.probe_port, self.log, scheme="http")

    def pids(self) -> list[int]:
        """The process and its children (nginx's workers)."""
        return [self.proc.pid, *procs.children(self.proc.pid)]


def start_nginx(reference_conf: str, work: str, certs: pki, cpus: list[int]) -> server:
    """nginx from the shared reference configuration, moved to a free port in `work`."""
    folder = os.path.join(work, "nginx")
    os.makedirs(folder, exist_ok=True)
    shutil.copy(certs.cert, os.path.join(folder, "tls.crt"))
    shutil.copy(certs.key, os.path.join(folder, "tls.key"))
    with open(reference_conf) as f:
        conf = f.read()
    if REFERENCE_LISTEN not in conf:
        raise RuntimeError(f"{reference_conf} no longer listens on {REFERENCE_LISTEN}; update bench/benchlib/servers.py")
    port = procs.free_port()
    conf = conf.replace(REFERENCE_LISTEN, f"127.0.0.1:{port}")
    # Keep every file nginx writes inside the temp dir (Debian's defaults are under /var).
    temp_paths = "".join(f"  {kind}_temp_path {folder}/{kind}_temp;\n"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = conf.replace("http {\n", "http {\n" + temp_paths, 1)
    conf_path = os.path.join(folder, "nginx.conf")
    with open(conf_path, "w") as f:
        f.write(conf)
    log = os.path.join(folder, "error.log")
    proc = procs.start(["nginx", "-e", "stderr", "-c", conf_path, "-p", folder + "/"], cpus,
                       stderr=open(log, "w"))
    procs.wait_for_port(port, 10, proc)
    return server(proc, port, log)


def start_standin(root: str, work: str, certs: pki, cpus: list[int]) -> server:
    ready = os.path.join(work, "standin.ready")
    log = os.path.join(work, "standin.log")
    if os.path.exists(ready):
        os.remove(ready)  # a previous run's: its port is gone
    proc = procs.start([
        "python3", os.path.join(root, "tests/support/kube_api_standin.py"),
        "--listen", "127.0.0.1:0", "--tls-cert", certs.cert, "--tls-key", certs.key,
        "--token", API_TOKEN, "--setting", f"{SETTING_NAMESPACE}/{SETTING_NAME}=false",
        "--ready-file", ready,
    ], cpus, stderr=open(log, "w"))
    deadline = time.monotonic() + 15
    while not os.path.exists(ready):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the stand-in did not start; see {log}")
        time.sleep(0.05)
    with open(ready) as f:
        port = int(json.loads(f.read())["listening"].rsplit(":", 1)[1])
    return server(proc, port, log)


def guard_args(guard: str, port: int, standin_port: int, work: str, certs: pki, poll_interval_ms: int,
               max_hold_s: int, max_held: int) -> list[str]:
    token = os.path.join(work, "api-token")
    if not os.path.exists(token):
        with open(os.open(token, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(API_TOKEN)
    # The probes on a port of their own, as in a cluster; no metrics listener (unused here).
    return [guard, "serve", "--listen", f"127.0.0.1:{port}",
            "--health-probe-listen", f"127.0.0.1:{procs.free_port()}", "--metrics-listen=",
            "--tls-cert", certs.cert, "--tls-key", certs.key, "--log-format", "json",
            "--kube-api", f"https://127.0.0.1:{standin_port}", "--kube-ca-file", certs.ca,
            "--kube-token-file", token,
            "--poll-interval", f"{poll_interval_ms}ms", "--max-hold", f"{max_hold_s}s",
            "--max-held", str(max_held)]


def start_guard(args: list[str], work: str, cpus: list[int], name: str = "guard") -> server:
    """The guard with `args` (from guard_args); logs at info, as in production, to a file."""
    port = int(args[args.index("--listen") + 1].rsplit(":", 1)[1])
    probe_port = int(args[args.index("--health-probe-listen") + 1].rsplit(":", 1)[1])
    log = os.path.join(work, f"{name}.log")
    proc = procs.start(args, cpus, stderr=open(log, "w"))
    procs.wait_for_port(port, 10, proc)
    procs.wait_for_port(probe_port, 10, proc)
    return server(proc, port, log, probe_port=probe_port)


class standin_control:
    """The stand-in's control API on one kept-alive connection, so a flag flip costs one
    round trip and no handshake."""

    def __init__(self, standin: server, ca: str):
        self._context = ssl.create_default_context(cafile=ca)
        self._port = standin.port
        self._conn: http.client.HTTPSConnection | None = None

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPSConnection("127.0.0.1", self._port, context=self._context, timeout=30)
            try:
                payload = json.dumps(body).encode() if body is not None else None
                self._conn.request(method, path, body=payload, headers={"content-type": "application/json"})
                response = self._conn.getresponse()
                data = response.read()
                if response.status >= 300:
                    raise RuntimeError(f"{method} {path}: {response.status} {data[:200]!r}")
                return json.loads(data) if data else {}
            except (http.client.HTTPException, ConnectionError):
                self._conn.close()
                self._conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def connect(self) -> None:
        self._call("GET", "/_standin/state")

    def set_flag(self, value: str) -> None:
        self._call("PUT", f"/_standin/settings/{SETTING_NAMESPACE}/{SETTING_NAME}", {"value": value})

    def reset_reads(self) -> None:
        self._call("DELETE", "/_standin/reads")

    def reads(self) -> dict:
        return self._call("GET", "/_standin/reads")
