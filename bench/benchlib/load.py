"""One h2load run (HTTP/1.1 over TLS, keep-alive) and what it measured.

h2load prints throughput but no percentiles, so each run writes its per-request log
(--log-file: start time, status, latency in microseconds) and the percentiles come from
that. Server CPU is sampled from /proc at the start and end of the measured period, so
"CPU per request" holds even when neighbours steal wall-clock time; the load generator's
own CPU use tells whether it, not the server, was the limit.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import threading
import time
from typing import Callable

from . import procs


@dataclasses.dataclass
class result:
    requests: int = 0           # succeeded in the measured period
    rps: float = 0.0
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    max_ms: float = float("nan")
    errors: int = 0             # failed, errored, timed out or not 2xx
    server_cpu_us_per_request: float = float("nan")
    server_cpu_percent: float = float("nan")
    loader_cpu_percent: float = float("nan")
    tls: str = ""
    load_average: str = ""
    output: str = ""

    @property
    def ok(self) -> bool:
        return self.requests > 0 and self.errors == 0


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), int(-(-fraction * len(sorted_values) // 1))))
    return sorted_values[rank - 1]


def _field(pattern: str, text: str, default: str = "0") -> str:
    match = re.search(pattern, text)
    return match.group(1) if match else default


def run(url: str, *, connections: int, duration_s: float, warmup_s: float, cpus: list[int], log_path: str,
        body_file: str | None = None, headers: tuple[str, ...] = (), rps_per_connection: int | None = None,
        server_pids: Callable[[], list[int]] | None = None) -> result:
    argv = ["h2load", "--h1", "-c", str(connections), "-t", "1",
            "-D", f"{round(duration_s * 1000)}ms", "--log-file", log_path]
    if warmup_s > 0:
        argv += ["--warm-up-time", f"{round(warmup_s * 1000)}ms"]
    if body_file:
        argv += ["-d", body_file, "-H", "content-type: application/json"]
    for header in headers:
        argv += ["-H", header]
    if rps_per_connection:
        argv += ["--rps", str(rps_per_connection)]
    argv.append(url)

    out = result(load_average=procs.load_average())
    samples: list[float] = []

    def sample_server_cpu() -> None:
        # Measured period: after the warm-up, for the duration.
        time.sleep(warmup_s)
        samples.append(procs.cpu_seconds(server_pids()))
        time.sleep(duration_s)
        samples.append(procs.cpu_seconds(server_pids()))

    sampler = threading.Thread(target=sample_server_cpu, daemon=True) if server_pids else None
    started = time.monotonic()
    proc = procs.start(argv, cpus, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if sampler:
        sampler.start()
    text = proc.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    procs.stop(proc)
    wall = time.monotonic() - started
    if sampler:
        sampler.join()
    out.output = text
    out.loader_cpu_percent = 100.0 * (usage.ru_utime + usage.ru_stime) / wall

    out.rps = float(_field(r"finished in [\d.]+\w*, ([\d.]+) req/s", text))
    succeeded = int(_field(r"requests: .*?(\d+) succeeded", text))
    failed = int(_field(r"requests: .*?(\d+) failed", text))
    errored = int(_field(r"requests: .*?(\d+) errored", text))
    timed_out = int(_field(r"requests: .*?(\d+) timeout", text))
    non_2xx = sum(int(n) for n in re.findall(r"(\d+) [345]xx", text))
    out.requests = succeeded
    out.errors = failed + errored + timed_out + non_2xx
    protocol = _field(r"TLS Protocol: (\S+)", text, "")
    cipher = _field(r"Cipher: (\S+)", text, "")
    out.tls = f"{protocol} {cipher}".strip()
    if proc.returncode != 0:
        out.errors = max(out.errors, 1)

    latencies: list[float] = []
    try:
        with open(log_path) as f:
            for line in f:
                parts = line.split("\t")
                if len(parts) >= 3 and parts[1].startswith("2"):
                    latencies.append(int(parts[2]) / 1000.0)
    except OSError:
        pass
    latencies.sort()
    out.p50_ms = percentile(latencies, 0.50)
    out.p99_ms = percentile(latencies, 0.99)
    out.max_ms = latencies[-1] if latencies else float("nan")

    if len(samples) == 2 and out.requests:
        cpu = samples[1] - samples[0]
        out.server_cpu_us_per_request = 1e6 * cpu / out.requests
        out.server_cpu_percent = 100.0 * cpu / duration_s
    return out
