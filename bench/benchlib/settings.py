"""The benchmark's knobs, read from BENCH_* environment variables.

Defaults keep a whole run (without install and build) near two minutes on a 2-CPU
machine; every duration can be raised for steadier numbers.
"""

from __future__ import annotations

import dataclasses
import os


def _float(name: str, default: float) -> float:
    text = os.environ.get(name, "")
    return float(text) if text else default


def _int(name: str, default: int) -> int:
    text = os.environ.get(name, "")
    return int(text) if text else default


def _cpus(text: str) -> list[int]:
    cpus: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            low, high = part.split("-", 1)
            cpus.extend(range(int(low), int(high) + 1))
        else:
            cpus.append(int(part))
    return cpus


@dataclasses.dataclass
class settings:
    duration_s: float          # measured part of each throughput run
    warmup_s: float            # unmeasured start of each throughput run
    rounds: int                # case 1: nginx and guard runs alternate this many times; best kept
    connections: int           # keep-alive connections of the throughput runs
    holds: int                 # case 3: concurrent held requests
    poll_interval_ms: int      # the guard's --poll-interval
    max_hold_s: int            # the guard's --max-hold; must outlast the case-3 window
    hold_window_s: float       # case 3: how long API reads are counted while holding
    probe_connections: int     # case 3: connections of the unrelated-request probe
    probe_rps: int             # case 3: requests per second per probe connection
    probe_duration_s: float    # case 3: length of each probe run
    reaction_samples: int      # case 4: samples of flag flip -> admission
    startup_samples: int       # case 5: samples of exec -> /healthz
    server_cpus: list[int]     # CPUs nginx and the guard are pinned to (empty: not pinned)
    client_cpus: list[int]     # CPUs h2load, the stand-in and the probes are pinned to


def from_environment() -> settings:
    online = sorted(os.sched_getaffinity(0))
    split = os.environ.get("BENCH_PIN", "1") != "0" and len(online) >= 2
    # Default split: the server gets the last CPU, everything that generates load the rest,
    # so the load generator never steals the server's CPU (and vice versa). nginx and the
    # guard get the same CPUs, so the ratio stays fair.
    server = _cpus(os.environ.get("BENCH_SERVER_CPUS", "")) or (online[-1:] if split else [])
    client = _cpus(os.environ.get("BENCH_CLIENT_CPUS", "")) or (online[:-1] if split else [])
    return settings(
        duration_s=_float("BENCH_DURATION", 8.0),
        warmup_s=_float("BENCH_WARMUP", 2.0),
        rounds=max(1, _int("BENCH_ROUNDS", 2)),
        connections=_int("BENCH_CONNECTIONS", 32),
        holds=_int("BENCH_HOLDS", 320),
        poll_interval_ms=_int("BENCH_POLL_INTERVAL_MS", 500),
        max_hold_s=_int("BENCH_MAX_HOLD", 25),
        hold_window_s=_float("BENCH_HOLD_WINDOW", 6.0),
        probe_connections=_int("BENCH_PROBE_CONNECTIONS", 4),
        probe_rps=_int("BENCH_PROBE_RPS", 250),
        probe_duration_s=_float("BENCH_PROBE_DURATION", 3.0),
        reaction_samples=_int("BENCH_REACTION_SAMPLES", 6),
        startup_samples=_int("BENCH_STARTUP_SAMPLES", 5),
        server_cpus=server,
        client_cpus=client,
    )
