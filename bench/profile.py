#!/usr/bin/env python3
"""Profiles the guard on one benchmark case and prints its top symbols.

    bench/profile.sh perf      [CASE]   # perf record -g while h2load runs the case
    bench/profile.sh callgrind [CASE]   # valgrind --tool=callgrind over a fixed request count
    bench/profile.sh heaptrack [CASE]   # heaptrack over a fixed request count

CASE is one of: out-of-scope (default; case 1), in-scope (case 2 /validate, flag true),
mutate (case 2 /mutate), holds (case 3: BENCH_HOLDS requests held, then released; for
heaptrack's peak). perf shows where time goes on this machine (inflated by
neighbours, but in proportion); callgrind counts instructions, which neighbours cannot
disturb, so "instructions per request" compares builds reliably on a busy machine.
Started by bench/profile.sh, which makes the PKI like bench/run.sh.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from benchlib import holds, load, procs, servers, settings  # noqa: E402

# Frames whose inclusive share says where a request's time goes.
INCLUSIVE_OF_INTEREST = (r"\[\.\] (lug::(admission|log|transport|guard|kube)::|nlohmann::json_abi\w*::basic_json<.*>::parse<|"
                         r"spdlog::logger::log_<|SSL_read\b|SSL_write\b|__libc_sendmsg|__libc_recvmsg|"
                         r"__GI___libc_write|malloc_consolidate)")

CASES = {
    "out-of-scope": ("/validate", "other-pod.json", "false"),
    "in-scope": ("/validate", "uninstall-pod-helm.json", "true"),
    "mutate": ("/mutate", "uninstall-pod-helm.json", "false"),
    "holds": ("/validate?timeout=30s", "uninstall-pod-helm.json", "false"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tool", choices=("perf", "callgrind", "heaptrack"))
    parser.add_argument("case", nargs="?", default="out-of-scope", choices=sorted(CASES))
    parser.add_argument("--guard", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--root", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--requests", type=int, default=int(os.environ.get("BENCH_PROFILE_REQUESTS", "20000")))
    args = parser.parse_args()
    cfg = settings.from_environment()
    certs = servers.pki(args.ca, args.cert, args.key)
    path, fixture, flag = CASES[args.case]
    body = os.path.join(args.root, "tests", "fixtures", fixture)

    standin = servers.start_standin(args.root, args.work, certs, cfg.client_cpus)
    control = servers.standin_control(standin, certs.ca)
    control.set_flag(flag)
    port = procs.free_port()
    guard_argv = servers.guard_args(args.guard, port, standin.port, args.work, certs, cfg.poll_interval_ms,
                                    cfg.max_hold_s, cfg.holds + 64)
    out_file = os.path.join(args.work, f"{args.tool}.out")
    if args.tool == "perf":
        # Started under perf rather than attached with -p: attaching collected no samples
        # on this kernel. perf passes SIGTERM on to the guard when it is stopped.
        guard_argv = ["perf", "record", "--call-graph", "dwarf,16384", "-F", "999", "-o", out_file, "--",
                      *guard_argv]
    elif args.tool == "callgrind":
        guard_argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}", *guard_argv]
    elif args.tool == "heaptrack":
        guard_argv = ["heaptrack", "-o", out_file, *guard_argv]
    guard = servers.start_guard(guard_argv, args.work, cfg.server_cpus)
    procs.wait_for_port(port, 60, guard.proc)
    url = f"https://127.0.0.1:{port}{path}"
    time.sleep(1)

    if args.tool == "perf":
        out = load.run(url, connections=cfg.connections, duration_s=cfg.duration_s, warmup_s=0,
                       cpus=cfg.client_cpus, log_path=os.path.join(args.work, "h2load.log"), body_file=body,
                       server_pids=guard.pids)
        print(f"# {out.rps:,.0f} req/s, {out.server_cpu_us_per_request:.0f} us CPU per request, "
              f"errors {out.errors}", flush=True)
        procs.stop(guard.proc, 60)
        for mode in ("--no-children", "--children"):
            report = subprocess.run(["perf", "report", "-i", out_file, mode, "--stdio", "--percent-limit", "1",
                                     "-g", "none", "--sort", "dso,symbol", "--comm", os.path.basename(args.guard)[:15]],
                                    capture_output=True, text=True)
            lines = [line for line in report.stdout.splitlines() if line.strip() and not line.startswith("#")]
            if mode == "--children":
                # Inclusive time, only for the frames that name a cost: the rest is Asio plumbing.
                lines = [line for line in lines if re.search(INCLUSIVE_OF_INTEREST, line)]
            print(f"# perf report {mode}")
            print("\n".join(re.sub(r"\s+", " ", line)[:160] for line in lines))
        return 0

    if args.case == "holds":
        with open(body, "rb") as f:
            held = holds.held_requests(port, certs.ca, path, f.read(), cfg.holds).start()
        held.all_sent.wait(120)
        time.sleep(3)
        control.set_flag("true")
        held.wait(60)
        print(f"# {sum(1 for a in held.answers if a.allowed)} of {cfg.holds} held requests admitted")
    else:
        # A fixed number of requests on few connections: the tools are slow.
        subprocess.run(["h2load", "--h1", "-c", "4", "-n", str(args.requests), "-d", body,
                        "-H", "content-type: application/json", url], capture_output=True, check=False)
    if args.tool == "heaptrack":
        # heaptrack's wrapper script does not pass SIGTERM on: stop the guard itself, so it
        # exits normally, and let the wrapper finish writing its data.
        for pid in procs.descendants(guard.proc.pid):
            if os.path.basename(os.readlink(f"/proc/{pid}/exe")) == os.path.basename(args.guard):
                os.kill(pid, signal.SIGTERM)
        try:
            guard.proc.wait(60)
        except subprocess.TimeoutExpired:
            pass
    procs.stop(guard.proc, 60)
    if args.tool == "callgrind":
        annotated = subprocess.run(["callgrind_annotate", "--inclusive=no", out_file], capture_output=True, text=True)
        print(f"# {args.requests} requests; divide Ir by that for instructions per request")
        print("\n".join(annotated.stdout.splitlines()[:60]))
        inclusive = subprocess.run(["callgrind_annotate", "--inclusive=yes", out_file], capture_output=True, text=True)
        print("\n# inclusive")
        print("\n".join(inclusive.stdout.splitlines()[:70]))
    else:
        produced = [f for f in os.listdir(args.work) if f.startswith("heaptrack.out")]
        for name in produced:
            analysed = subprocess.run(["heaptrack_print", "-f", os.path.join(args.work, name), "-p", "1", "-a", "0",
                                       "-T", "0", "-n", "10", "-s", "2"], capture_output=True, text=True)
            print(condensed_peaks(analysed.stdout))
    return 0


def condensed_peaks(text: str, frames: int = 6) -> str:
    """heaptrack_print's peak consumers, one line each: the size, then the first frames of
    each backtrace (source locations dropped), plus the closing totals."""
    out: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if "peak memory consumed" in stripped or ("consumed over" in stripped and stripped.endswith("from:")):
            current = [stripped]
            out.append("")
            continue
        if stripped.startswith(("peak heap", "peak RSS", "total runtime")):
            out.append(stripped)
            current = None
            continue
        if current is not None and stripped and not stripped.startswith(("at /", "in /")) and len(current) <= frames:
            current.append(stripped[:100])
            out[-1] = " <- ".join(current)
    return "\n".join(line for line in out if line)


if __name__ == "__main__":
    sys.exit(main())
