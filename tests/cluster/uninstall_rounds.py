"""Rounds of Longhorn's uninstall on the real control plane (scripts/cluster-test.sh runs this).

Each round: the previous Job is removed once it has finished, the flag is set to "false",
then `kubectl patch` sets it to "true" and the uninstall Job is created at once (or the flag
was set --flag-early seconds before the first round and stays true); then the round waits for
the Job to complete or fail and records which pods ended Failed, why (their log's last line)
and how long the Job took. It prints a table row per round and, last, one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import statistics
import subprocess
import sys
import time

import cluster

FLAG_FAILURE = "cannot uninstall Longhorn because deleting-confirmation-flag is set to"
# checkPreconditions logs one of these right after reading the flag (uninstall_controller.go):
# the refusal, or, once the flag read true, the manager-not-ready warning (no DaemonSet here).
CHECK_LINES = (FLAG_FAILURE, "Manager is not ready")
LOGRUS_TIME = re.compile(r'time="([^"]+)"')
LOGRUS_MESSAGE = re.compile(r'msg="((?:[^"\\]|\\.)*)"')


def settings_margins(pod: dict) -> list[float | None]:
    """For each attempt in the pod's uninstall container: how long before longhorn-manager
    checked the flag its Settings LIST had been answered. Negative: answered after the check;
    None: not answered at all while that attempt ran (client-side throttling had not even sent
    it). Either way the check read the lister's empty cache, i.e. the default, "false"."""
    checks = []
    for line in cluster.container_log(pod, "longhorn-uninstall").splitlines():
        if any(marker in line for marker in CHECK_LINES):
            match = LOGRUS_TIME.search(line)
            if match:
                checks.append(cluster.parse_time(match.group(1)))
    lists = cluster.settings_lists_of_pod(pod["metadata"]["name"])
    margins = []
    for i, check in enumerate(checks):
        # Attempt i's LIST is answered after attempt i-1's check and before attempt i+1's.
        after = checks[i - 1] if i else 0.0
        before = checks[i + 1] if i + 1 < len(checks) else float("inf")
        mine = [t for t in lists if after < t < before]
        margins.append(round(check - mine[0], 3) if mine else None)
    return margins


def run_round(number: int, shape: str, flag_early: float, api_port: int | None) -> dict:
    cluster.delete_finished_job()
    cluster.reset_longhorn_objects()
    if flag_early <= 0:
        cluster.set_flag("false")
        # What users do: patch, then create the Job straight away.
        cluster.set_flag("true")
    started = time.monotonic()
    cluster.create_uninstall_job(shape, api_port)
    outcome = cluster.wait_until(
        "the uninstall Job to complete or fail", cluster.JOB_TIMEOUT_S,
        lambda: cluster.job_finished(cluster.kubectl_json("-n", cluster.LONGHORN_NAMESPACE, "get", "job",
                                                          cluster.JOB, check=False)), 0.2)
    seconds = time.monotonic() - started
    failed = []
    margins = []
    for pod in cluster.job_pods():
        margins += settings_margins(pod)
        if pod.get("status", {}).get("phase") == "Failed":
            why = cluster.last_line(cluster.container_log(pod, "longhorn-uninstall")) or \
                pod.get("status", {}).get("message", "")
            failed.append({"pod": pod["metadata"]["name"], "why": why})
    return {"round": number, "shape": shape, "outcome": outcome, "seconds": round(seconds, 2), "failed": failed,
            "settings_list_margins": margins}


def print_row(r: dict) -> None:
    why = r["failed"][0]["why"] if r["failed"] else ""
    message = LOGRUS_MESSAGE.search(why)
    if message:
        why = message.group(1)
    margins = ",".join("none" if m is None else f"{m:+.2f}" for m in r["settings_list_margins"]) or "?"
    print(f"{r['round']:>5}  {r['shape']:<7}  {r['outcome']:<8}  {len(r['failed']):>6}  {r['seconds']:>7.1f}  {margins:>12}  {why[:100]}",
          flush=True)


def summary(rounds: list[dict], guard: str, versions: dict) -> dict:
    seconds = [r["seconds"] for r in rounds]
    margins = [m for r in rounds for m in r["settings_list_margins"]]
    answered = [m for m in margins if m is not None]
    return {
        **versions,
        "guard": guard,
        "runs": len(rounds),
        "jobs_succeeded": sum(1 for r in rounds if r["outcome"] == "Complete"),
        "failed_pods": sum(len(r["failed"]) for r in rounds),
        "runs_with_failed_pods": sum(1 for r in rounds if r["failed"]),
        "failed_pods_flag_precondition": sum(1 for r in rounds for f in r["failed"] if FLAG_FAILURE in f["why"]),
        # How long before each flag check the Settings LIST had been answered: the race's margin.
        "settings_list_margin_s_min": min(answered) if answered else None,
        "settings_list_margin_s_p50": round(statistics.median(answered), 3) if answered else None,
        "checks_before_settings_list": sum(1 for m in margins if m is None or m < 0),
        "job_seconds_p50": round(statistics.median(seconds), 2) if seconds else None,
        "job_seconds_max": round(max(seconds), 2) if seconds else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--guard", choices=["off", "on"], required=True)
    parser.add_argument("--job", choices=["kubectl", "helm", "both"], default="both")
    parser.add_argument("--flag-early", type=float, default=0.0,
                        help="set the flag once, this many seconds before the first round, and keep it")
    parser.add_argument("--versions", required=True, help="JSON of the component versions")
    parser.add_argument("--results", help="also write every round as JSON lines to this file")
    parser.add_argument("--slow-settings-list", type=float, default=0.0, metavar="P",
                        help="delay the uninstall container's Settings LIST with probability P (slowlist)")
    parser.add_argument("--expect-no-failed-pods", action="store_true",
                        help="exit 1 if a pod ended Failed or a Job did not complete")
    args = parser.parse_args()

    shapes = ["kubectl", "helm"] if args.job == "both" else [args.job]
    if args.flag_early > 0:
        cluster.delete_finished_job()
        cluster.set_flag("false")
        cluster.set_flag("true")
        print(f"flag set to true; waiting {args.flag_early:.0f}s before the first round", flush=True)
        time.sleep(args.flag_early)

    print(f"{'round':>5}  {'job':<7}  {'outcome':<8}  {'failed':>6}  {'seconds':>7}  {'margin (s)':>12}  why the first failed pod failed",
          flush=True)
    rounds = []
    results = open(args.results, "a") if args.results else None
    slow = cluster.SlowSettingsList(args.slow_settings_list) if args.slow_settings_list > 0 else contextlib.nullcontext()
    api_port = cluster.SlowSettingsList.PORT if args.slow_settings_list > 0 else None
    try:
        with slow:
            for number in range(1, args.runs + 1):
                r = run_round(number, shapes[(number - 1) % len(shapes)], args.flag_early, api_port)
                rounds.append(r)
                print_row(r)
                if results:
                    results.write(json.dumps({**r, "guard": args.guard, "flag_early": args.flag_early,
                                              "slow_settings_list": args.slow_settings_list}) + "\n")
                    results.flush()
            cluster.delete_finished_job()
    finally:
        if results:
            results.close()
    result = summary(rounds, args.guard, json.loads(args.versions))
    if args.slow_settings_list > 0:
        result["slow_settings_list"] = args.slow_settings_list
    print(json.dumps(result), flush=True)
    if args.expect_no_failed_pods and (result["failed_pods"] or result["jobs_succeeded"] != result["runs"]):
        print("uninstall_rounds: expected every Job to complete with no failed pod", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (cluster.ClusterError, subprocess.CalledProcessError) as error:
        print(f"uninstall_rounds: {error}", file=sys.stderr)
        sys.exit(1)
